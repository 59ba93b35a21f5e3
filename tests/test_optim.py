"""course_lib.optim: SGD and Adam against their update formulas (written here in NumPy) and against PyTorch."""
import numpy as np
import pytest

import course_lib
from course_lib import optim

STEPS = 6


def _grads(shape, steps=STEPS, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for _ in range(steps)]


def _run(make_opt, init, grads, dtype=np.float64):
    """Apply course_lib's optimizer to one parameter, feeding it the given gradients; the values after each step."""
    p = course_lib.tensor(init.astype(dtype), requires_grad=True)
    opt = make_opt([p])
    out = []
    for g in grads:
        p.grad = course_lib.tensor(g.astype(dtype))
        opt.step()
        out.append(p.detach().numpy().copy())
    return out


# -- reference formulas, written independently (float64, textbook form) --------------------------------

def ref_sgd(p, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    p, buf, out = p.copy(), None, []
    for g in grads:
        d = g + weight_decay * p
        if momentum:
            buf = d.copy() if buf is None else momentum * buf + (1 - dampening) * d
            d = d + momentum * buf if nesterov else buf
        p = p - lr * d
        out.append(p)
    return out


def ref_adam(p, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    b1, b2 = betas
    p, m, v, out = p.copy(), np.zeros_like(p), np.zeros_like(p), []
    for t, g in enumerate(grads, start=1):
        d = g + weight_decay * p
        m = b1 * m + (1 - b1) * d
        v = b2 * v + (1 - b2) * d ** 2
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(p)
    return out


SGD_CASES = [
    dict(lr=0.1),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.3),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.05, momentum=0.8, weight_decay=0.01),
    dict(lr=0.02, momentum=0.5, weight_decay=0.1, nesterov=True),
    dict(lr=0.3, weight_decay=0.2),
]
ADAM_CASES = [
    dict(),
    dict(lr=0.01),
    dict(lr=0.1, betas=(0.8, 0.99), eps=1e-6),
    dict(lr=0.01, weight_decay=0.05),
    dict(lr=0.05, betas=(0.0, 0.5)),
]


@pytest.mark.parametrize("kw", SGD_CASES, ids=str)
def test_sgd_matches_formula(kw):
    init = np.random.default_rng(0).standard_normal((3, 4))
    grads = _grads((3, 4))
    got = _run(lambda ps: optim.SGD(ps, **kw), init, grads)
    for step, (a, b) in enumerate(zip(got, ref_sgd(init, grads, **kw)), start=1):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=f"SGD({kw}) after step {step}")


@pytest.mark.parametrize("kw", ADAM_CASES, ids=str)
def test_adam_matches_formula(kw):
    init = np.random.default_rng(0).standard_normal((5,))
    grads = _grads((5,))
    got = _run(lambda ps: optim.Adam(ps, **kw), init, grads)
    for step, (a, b) in enumerate(zip(got, ref_adam(init, grads, **kw)), start=1):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=f"Adam({kw}) after step {step}")


def test_float32_parameters_stay_float32():
    init = np.ones((2, 2))
    for make in (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), lambda ps: optim.Adam(ps)):
        p = course_lib.ones(2, 2, requires_grad=True)
        opt = make([p])
        p.grad = course_lib.ones(2, 2)
        opt.step()
        assert p.dtype is course_lib.float32 and p._arr.dtype == np.float32
    assert init.dtype == np.float64


def test_step_on_autograd_gradients_descends_a_quadratic():
    # minimise |A x - b|^2 with real backward passes; the closed-form answer is the least-squares solution
    rng = np.random.default_rng(3)
    A, b = rng.standard_normal((6, 3)), rng.standard_normal(6)
    x = course_lib.zeros(3, dtype=course_lib.float64, requires_grad=True)
    At, bt = course_lib.tensor(A), course_lib.tensor(b)
    opt = optim.SGD([x], lr=0.02, momentum=0.9)
    for _ in range(400):
        opt.zero_grad()
        loss = ((At @ x - bt) ** 2).sum()
        loss.backward()
        opt.step()
    np.testing.assert_allclose(x.detach().numpy(), np.linalg.lstsq(A, b, rcond=None)[0], atol=1e-6)


def test_param_groups_use_their_own_hyperparameters():
    a = course_lib.ones(2, requires_grad=True)
    b = course_lib.ones(2, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 0.5
    assert opt.param_groups[1]["momentum"] == 0
    a.grad, b.grad = course_lib.ones(2), course_lib.ones(2)
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), [0.9, 0.9], rtol=1e-6)
    np.testing.assert_allclose(b.detach().numpy(), [0.5, 0.5], rtol=1e-6)
    opt.param_groups[0]["lr"] = 1.0  # a learning-rate schedule edits the group in place
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), [-0.1, -0.1], rtol=1e-5)


def test_parameters_without_grad_are_left_alone():
    a = course_lib.ones(2, requires_grad=True)
    b = course_lib.ones(2, requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = course_lib.ones(2)
    opt.step()
    assert b.detach().numpy().tolist() == [1.0, 1.0] and b not in opt.state
    assert a.detach().numpy()[0] < 1.0 and opt.state[a]["step"] == 1


def test_zero_grad():
    p = course_lib.ones(3, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    (p * 2).sum().backward()
    opt.zero_grad()
    assert p.grad is None
    (p * 2).sum().backward()
    g = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is g and p.grad.numpy().tolist() == [0.0, 0.0, 0.0]
    (p * 2).sum().backward()  # accumulates into the zeroed gradient
    assert p.grad.numpy().tolist() == [2.0, 2.0, 2.0]


def test_step_bumps_the_version_so_stale_graphs_fail_loudly():
    p = course_lib.ones(3, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    loss = (p * p).sum()  # Mul saved p for backward
    v = p._version
    p.grad = course_lib.ones(3)
    opt.step()
    assert p._version > v
    with pytest.raises(RuntimeError):
        loss.backward()


def test_closure_returns_the_loss():
    p = course_lib.tensor([2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 4.0 and p.item() == 1.0


def test_state_dict_round_trip_continues_identically():
    init = np.random.default_rng(0).standard_normal(4)
    grads = _grads((4,), steps=6)
    for make in (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), lambda ps: optim.Adam(ps, lr=0.1)):
        p = course_lib.tensor(init, requires_grad=True)
        opt = make([p])
        for g in grads[:3]:
            p.grad = course_lib.tensor(g)
            opt.step()
        q = course_lib.tensor(p.detach().numpy(), requires_grad=True)
        opt2 = make([q])
        opt2.load_state_dict(opt.state_dict())
        for g in grads[3:]:
            p.grad, q.grad = course_lib.tensor(g), course_lib.tensor(g)
            opt.step()
            opt2.step()
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_repr_lists_the_groups():
    opt = optim.SGD([course_lib.ones(1, requires_grad=True)], lr=0.1, momentum=0.9)
    assert repr(opt) == ("SGD (\nParameter Group 0\n    dampening: 0\n    differentiable: False\n    foreach: None\n"
                         "    fused: None\n    lr: 0.1\n    maximize: False\n    momentum: 0.9\n"
                         "    nesterov: False\n    weight_decay: 0\n)")  # PyTorch 2.13's, line for line


@pytest.mark.parametrize("make, message", [
    (lambda ps: optim.SGD(ps, lr=-1), "Invalid learning rate: -1"),
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=-0.5), "Invalid momentum value: -0.5"),
    (lambda ps: optim.SGD(ps, lr=0.1, weight_decay=-1), "Invalid weight_decay value: -1"),
    (lambda ps: optim.SGD(ps, lr=0.1, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "Nesterov momentum requires"),
    (lambda ps: optim.Adam(ps, lr=-0.1), "Invalid learning rate: -0.1"),
    (lambda ps: optim.Adam(ps, eps=-1e-8), "Invalid epsilon value: -1e-08"),
    (lambda ps: optim.Adam(ps, betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    (lambda ps: optim.Adam(ps, betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (lambda ps: optim.Adam(ps, weight_decay=-1), "Invalid weight_decay value: -1"),
    (lambda ps: optim.Adam([]), "optimizer got an empty parameter list"),
    (lambda ps: optim.Adam([{"params": ps}, {"params": ps}]), "some parameters appear in more than one"),
    (lambda ps: optim.Adam([ps[0] * 2]), "can't optimize a non-leaf Tensor"),
])
def test_bad_arguments_raise_value_error(make, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        make([course_lib.ones(2, requires_grad=True)])


def test_bad_params_raise_type_error():
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(course_lib.ones(2, requires_grad=True), lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([np.ones(2)], lr=0.1)


# -- against PyTorch --------------------------------------------------------------------------------------

TORCH_CASES = [("SGD", kw) for kw in SGD_CASES] + [("Adam", kw) for kw in ADAM_CASES]


@pytest.mark.parametrize("name, kw", TORCH_CASES, ids=[f"{n}-{k}" for n, k in TORCH_CASES])
def test_matches_pytorch_step_for_step(name, kw):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    inits = [rng.standard_normal((4, 3)).astype(np.float32), rng.standard_normal(3).astype(np.float32)]
    grads = [[rng.standard_normal(a.shape).astype(np.float32) for a in inits] for _ in range(STEPS)]
    ours = [course_lib.tensor(a, requires_grad=True) for a in inits]
    theirs = [torch.tensor(a, requires_grad=True) for a in inits]
    opt_ours = getattr(optim, name)(ours, **kw)
    opt_theirs = getattr(torch.optim, name)(theirs, **kw)
    for step, gs in enumerate(grads, start=1):
        for p, q, g in zip(ours, theirs, gs):
            p.grad, q.grad = course_lib.tensor(g), torch.tensor(g)
        opt_ours.step()
        opt_theirs.step()
        for p, q in zip(ours, theirs):
            np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-6,
                                       err_msg=f"{name}({kw}) after step {step}")


# -- PyTorch 2.13's signatures: SGD's default lr, named parameters, Adam(amsgrad=) -------------------------

def test_sgd_lr_defaults_to_1e_3():
    p = course_lib.ones(2, requires_grad=True)
    opt = optim.SGD([p])
    assert opt.defaults["lr"] == opt.param_groups[0]["lr"] == 1e-3
    p.grad = course_lib.ones(2)
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [1 - 1e-3] * 2)


def test_sgd_default_lr_is_pytorchs():
    torch = pytest.importorskip("torch")
    import inspect
    assert inspect.signature(torch.optim.SGD).parameters["lr"].default == optim.SGD([course_lib.ones(
        1, requires_grad=True)]).defaults["lr"]


def test_named_parameters_are_accepted_and_keep_their_names():
    model = course_lib.nn.Linear(3, 2)
    opt = optim.SGD(model.named_parameters(), lr=0.1)
    group = opt.param_groups[0]
    assert group["param_names"] == ["weight", "bias"]
    assert group["params"][0] is model.weight and group["params"][1] is model.bias
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]
    adam = optim.Adam([{"params": model.named_parameters(), "lr": 0.5}])
    assert adam.param_groups[0]["param_names"] == ["weight", "bias"] and adam.param_groups[0]["lr"] == 0.5
    with pytest.raises(ValueError, match="all optimizer param groups should be with/without names. cannot add "
                                         "param group without names to the optimizer"):
        optim.SGD([{"params": [("weight", model.weight)]}, {"params": [model.bias]}], lr=0.1)
    with pytest.raises(ValueError, match="Some param names are missing"):
        optim.SGD([("weight", model.weight), model.bias], lr=0.1)


def test_named_parameters_match_pytorch():
    torch = pytest.importorskip("torch")
    ours, theirs = course_lib.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    for name in ("weight", "bias"):
        with course_lib.no_grad():
            getattr(ours, name).copy_(course_lib.tensor(getattr(theirs, name).detach().numpy()))
    opt, opt_t = optim.SGD(ours.named_parameters(), lr=0.1), torch.optim.SGD(theirs.named_parameters(), lr=0.1)
    assert opt.param_groups[0]["param_names"] == opt_t.param_groups[0]["param_names"]
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    ours(course_lib.tensor(x)).sum().backward()
    theirs(torch.tensor(x)).sum().backward()
    opt.step()
    opt_t.step()
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(), rtol=1e-6, atol=1e-7)


def ref_amsgrad(p, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    p, m, v, vmax, out = p.copy(), 0.0, 0.0, 0.0, []
    for t, g in enumerate(grads, start=1):
        g = g + weight_decay * p
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        vmax = np.maximum(vmax, v)
        p = p - lr / (1 - betas[0] ** t) * m / (np.sqrt(vmax) / np.sqrt(1 - betas[1] ** t) + eps)
        out.append(p)
    return out


def test_adam_amsgrad_matches_formula():
    rng = np.random.default_rng(3)
    init = rng.standard_normal(5)
    grads = [rng.standard_normal(5) * (3.0 if i % 4 == 0 else 0.1) for i in range(40)]  # v falls back: max matters
    ours = _run(lambda ps: optim.Adam(ps, lr=0.05, amsgrad=True, weight_decay=0.01), init, grads)
    ref = ref_amsgrad(init, grads, lr=0.05, weight_decay=0.01)
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-14)
    plain = _run(lambda ps: optim.Adam(ps, lr=0.05, amsgrad=False, weight_decay=0.01), init, grads)
    assert not np.allclose(plain[-1], ours[-1])  # amsgrad did change something
    opt = optim.Adam([course_lib.ones(2, requires_grad=True)], amsgrad=True)
    assert opt.param_groups[0]["amsgrad"] is True


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_amsgrad_matches_pytorch_over_many_steps(amsgrad):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    inits = [rng.standard_normal((4, 3)), rng.standard_normal(3)]
    ours = [course_lib.tensor(a, requires_grad=True) for a in inits]
    theirs = [torch.tensor(a, requires_grad=True) for a in inits]
    kw = dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05, amsgrad=amsgrad)
    opt, opt_t = optim.Adam(ours, **kw), torch.optim.Adam(theirs, **kw)
    for step in range(300):
        scale = 5.0 if step % 10 == 0 else 0.2
        for p, q in zip(ours, theirs):
            g = rng.standard_normal(p.shape) * scale
            p.grad, q.grad = course_lib.tensor(g), torch.tensor(g)
        opt.step()
        opt_t.step()
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-10, atol=1e-12)
    if amsgrad:
        np.testing.assert_allclose(opt.state[ours[0]]["max_exp_avg_sq"].numpy(),
                                   opt_t.state[theirs[0]]["max_exp_avg_sq"].numpy(), rtol=1e-10)


@pytest.mark.parametrize("make", [lambda ps: optim.SGD(ps, lr=0.1), lambda ps: optim.Adam(ps, lr=0.1),
                                  lambda ps: optim.AdamW(ps, lr=0.1)])
def test_a_parameter_given_twice_warns_as_pytorch_does(make):
    """PyTorch 2.13 warns (UserWarning) and keeps both entries, so the parameter is updated twice per step."""
    import warnings
    p = course_lib.nn.Parameter(course_lib.ones(2))
    with pytest.warns(UserWarning, match="optimizer contains a parameter group with duplicate parameters; in future, "
                                         "this will cause an error"):
        opt = make([p, p])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make([p, course_lib.nn.Parameter(course_lib.ones(2))])  # no duplicate: no warning
        other = course_lib.nn.Parameter(course_lib.ones(1))
        with pytest.warns(UserWarning, match="duplicate parameters"):
            opt.add_param_group({"params": [other, other]})


def test_sgd_with_a_duplicated_parameter_steps_it_twice_as_pytorch_does():
    p = course_lib.nn.Parameter(course_lib.ones(2))
    with pytest.warns(UserWarning, match="duplicate"):
        opt = optim.SGD([p, p], lr=0.1)
    p.sum().backward()
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [0.8, 0.8], rtol=1e-6)


@pytest.mark.parametrize("name,kw", [("Adam", dict(weight_decay=0.01)), ("AdamW", {}), ("Adam", dict(amsgrad=True)),
                                     ("SGD", dict(momentum=0.9)), ("RMSprop", {}), ("Adagrad", {}), ("Adadelta", {})])
def test_a_0d_parameter_steps_as_in_torch(name, kw):
    """A scalar parameter (a learnable temperature, a bias of one) beside a vector one: the fast Adam step crashed
    on it ('return arrays must be of ArrayType': NumPy gives a 0-d product back as a scalar)."""
    torch = pytest.importorskip("torch")
    results = []
    for lib in (course_lib, torch):
        p, q = lib.tensor(1.5, requires_grad=True), lib.tensor([1.0, 2.0], requires_grad=True)
        opt = getattr(lib.optim, name)([p, q], lr=0.1, **kw)
        for _ in range(3):
            opt.zero_grad()
            (p * p * 3 + (q * q).sum()).backward()
            opt.step()
        results.append((p.item(), tuple(p.shape), q.tolist()))
    (p1, s1, q1), (p2, s2, q2) = results
    assert s1 == s2 == () and abs(p1 - p2) < 1e-6 and np.allclose(q1, q2, atol=1e-6)
