"""course_lib.autograd against PyTorch: the same program, the same values and gradients (skipped without torch)."""
import numpy as np
import pytest

import course_lib as cl
from course_lib import autograd as ag

torch = pytest.importorskip("torch")


def both(*arrays):
    """The same float64 leaves in course_lib and in torch."""
    ours = [cl.tensor(a, dtype=cl.float64, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    return ours, theirs


def compare(fn, *arrays, tfn=None, seed_grad=0):
    """Run fn on both libraries; compare the outputs and the gradients of sum(out * r) for a random r."""
    ours, theirs = both(*arrays)
    out, ref = fn(*ours), (tfn or fn)(*theirs)
    if isinstance(ref, tuple):
        out, ref = out[0], ref[0]
    assert tuple(out.shape) == tuple(ref.shape)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    r = np.random.default_rng(seed_grad).standard_normal(tuple(ref.shape))
    (out * cl.tensor(r, dtype=cl.float64)).sum().backward()
    (ref * torch.tensor(r)).sum().backward()
    for a, b in zip(ours, theirs):
        if b.grad is None:
            assert a.grad is None or np.all(a.grad.numpy() == 0)
        else:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-12)


rng = np.random.default_rng(0)
A34, B4, C34 = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal((3, 4))
P34 = rng.uniform(0.3, 2.0, (3, 4))
T234 = rng.standard_normal((2, 3, 4))

CASES = {
    "add_bcast": (lambda a, b: a + b, (A34, B4)),
    "sub_r": (lambda a: 2 - a, (A34,)),
    "mul_bcast": (lambda a, b: a * b, (A34, B4)),
    "div": (lambda a, b: a / b, (A34, P34)),
    "rdiv": (lambda a: 3 / a, (P34,)),
    "pow": (lambda a: a ** 3, (A34,)),
    "pow_tt": (lambda a, b: a ** b, (P34, A34)),
    "rpow": (lambda a: 1.5 ** a, (A34,)),
    "matmul_2d": (lambda a, b: a @ b.t(), (A34, C34)),
    "matmul_1d": (lambda a, b: a @ b, (A34, B4)),
    "matmul_vv": (lambda a, b: a @ b, (B4, B4 * 2)),
    "matmul_batched": (lambda a, b: a @ b, (T234, rng.standard_normal((4, 5)))),
    "matmul_bcast": (lambda a, b: a @ b, (rng.standard_normal((2, 1, 3, 4)), rng.standard_normal((5, 4, 2)))),
    "exp": (lambda a: a.exp(), (A34,)),
    "log": (lambda a: a.log(), (P34,)),
    "sqrt": (lambda a: a.sqrt(), (P34,)),
    "abs": (lambda a: a.abs(), (A34,)),
    "sin_cos": (lambda a: a.sin() * a.cos(), (A34,)),
    "tanh": (lambda a: a.tanh(), (A34,)),
    "sigmoid": (lambda a: a.sigmoid(), (A34 * 20,)),
    "relu": (lambda a: a.relu(), (A34,)),
    "clamp": (lambda a: a.clamp(-0.5, 0.5), (A34,)),
    "maximum": (lambda a, b: a.maximum(b), (A34, C34)),
    "minimum": (lambda a, b: a.minimum(b), (A34, B4)),
    "sum_dim": (lambda a: a.sum(1), (T234,)),
    "sum_dims_keep": (lambda a: a.sum((0, 2), keepdim=True), (T234,)),
    "mean": (lambda a: a.mean(-1), (T234,)),
    "var": (lambda a: a.var(1), (T234,)),
    "std_all": (lambda a: a.std(), (T234,)),
    "max_all": (lambda a: a.max(), (A34,)),
    "max_dim": (lambda a: a.max(1), (T234,)),
    "min_dim_keep": (lambda a: a.min(0, keepdim=True), (T234,)),
    "logsumexp": (lambda a: a.logsumexp(1), (T234,)),
    "softmax": (lambda a: a.softmax(-1), (T234,)),
    "log_softmax": (lambda a: a.log_softmax(0), (T234,)),
    "transpose_view": (lambda a: a.transpose(0, 2).reshape(4, 6), (T234,)),
    "permute": (lambda a: a.permute(2, 0, 1) * 1, (T234,)),
    "expand": (lambda a: a.unsqueeze(0).expand(2, 3, 4) * 1, (A34,)),
    "squeeze_flatten": (lambda a: a.unsqueeze(1).squeeze(1).flatten(), (T234,)),
    "unfold": (lambda a: a.unfold(1, 2, 1), (A34,)),
    "slice": (lambda a: a[1:, ::2], (A34,)),
    "index_repeat": (lambda a: a[[0, 0, 2, 1, 0]], (A34,)),
    "mask": (lambda a: a[a > 0], (A34,)),
    "where": (lambda a, b: (a > b).float().double() * 0 + a * (a > b) + b * (a <= b), (A34, C34)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_same_values_and_gradients_as_torch(name):
    fn, arrays = CASES[name]
    compare(fn, *arrays)


def test_where_cat_stack_like_torch():
    compare(lambda a, b: cl.where(a > b, a, b), A34, C34, tfn=lambda a, b: torch.where(a > b, a, b))
    compare(lambda a, b: cl.cat([a, b], 1), A34, C34, tfn=lambda a, b: torch.cat([a, b], 1))
    compare(lambda a, b: cl.stack([a, b], 1), A34, C34, tfn=lambda a, b: torch.stack([a, b], 1))


def test_setitem_and_inplace_like_torch():
    def prog(lib):
        def f(x, w):
            y = x * 2
            y += w
            y *= x
            y[0] = w * 3
            y[:, 1] = 0.0
            y /= (w * w + 1)
            return y
        return f

    compare(prog(cl), A34, B4, tfn=prog(torch))


def test_second_derivative_like_torch():
    (x,), (tx,) = both(A34)
    for lib_x, grad_fn in ((x, ag.grad), (tx, torch.autograd.grad)):
        y = (lib_x.tanh() * lib_x.sigmoid()).sum() + (lib_x ** 3).logsumexp(1).sum()
        (g,) = grad_fn(y, lib_x, create_graph=True)
        (h,) = grad_fn((g * g).sum(), lib_x)
        lib_x.h = h
    np.testing.assert_allclose(x.h.numpy(), tx.h.numpy(), rtol=1e-9)


def test_accumulation_and_retain_grad_like_torch():
    results = []
    for lib in (cl, torch):
        x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        h = x * x
        h.retain_grad()
        y = (h * x).sum()
        y.backward(retain_graph=True)
        y.backward()
        results.append((x.grad.tolist(), h.grad.tolist()))
    assert results[0] == results[1]


def test_error_messages_like_torch():
    for lib in (cl, torch):
        x = lib.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
            (x * 2).backward()
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
            x.add_(1)
        h = x * 2
        y = h * h
        h.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()
        y = (x * x).sum()
        y.backward()
        with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
            y.backward()


@pytest.mark.parametrize("how", [("split", 2, 0), ("split", 3, 1), ("split", [1, 0, 3], 1), ("chunk", 3, 0),
                                 ("chunk", 4, -1), ("split", 1, -2)])
def test_split_and_chunk_like_pytorch(how):
    name, arg, dim = how
    xa = rng.standard_normal((5, 4))
    ours, theirs = both(xa)
    pieces, ref = getattr(ours[0], name)(arg, dim), getattr(theirs[0], name)(arg, dim)
    assert [tuple(p.shape) for p in pieces] == [tuple(p.shape) for p in ref]
    weights = [rng.standard_normal(tuple(p.shape)) for p in ref]
    sum((p * cl.tensor(w)).sum() for p, w in zip(pieces, weights)).backward()
    sum((p * torch.tensor(w)).sum() for p, w in zip(ref, weights)).backward()
    np.testing.assert_allclose(ours[0].grad.numpy(), theirs[0].grad.numpy(), rtol=1e-12)


# -- bad input: the same exception class as PyTorch; edge values: the same numbers, and no warning --------------

_BAD_INPUT = ['lib.tensor(["a"])', 'lib.tensor(["a", 1])', 'lib.tensor([1, "a"])', 'lib.tensor("a")',
              'lib.tensor([1., None])', 'lib.tensor({})', 'lib.tensor([object()])', 'lib.tensor([2 ** 63])',
              'lib.tensor([2 ** 64])', 'lib.tensor([-2 ** 63 - 1])', 'lib.tensor([300], dtype=lib.int8)',
              'lib.tensor([-256], dtype=lib.uint8)', 'lib.tensor([127.9], dtype=lib.int8)',
              'lib.tensor([float("nan")], dtype=lib.int64)', 'lib.full((2,), 300, dtype=lib.int8)',
              'lib.randint(5, 5, (3,))', 'lib.randint(0, (3,))', 'float(lib.ones(2))', 'int(lib.ones(2))',
              'complex(lib.ones(0))', 'lib.ones(2).item()', 'lib.cat([])',
              'lib.nn.functional.conv2d(lib.ones(1, 1, 4, 4), lib.ones(1, 1, 2, 2), padding=-1)',
              'lib.nn.functional.conv2d(lib.ones(1, 1, 4, 4), lib.ones(1, 1, 2, 2), stride=0)',
              'lib.utils.data.TensorDataset(lib.ones(3), lib.ones(4))',
              'lib.utils.data.TensorDataset(lib.ones(3), lib.tensor(1.))',
              'lib.utils.data.DataLoader(lib.utils.data.TensorDataset(lib.ones(0)), shuffle=True)']


@pytest.mark.parametrize("code", _BAD_INPUT)
def test_bad_input_raises_pytorchs_exception_class(code):
    import torch.utils.data  # noqa: F401  (torch.utils.data is not imported by `import torch`)
    import course_lib.utils.data  # noqa: F401
    errors = []
    for lib in (cl, torch):
        with pytest.raises(Exception) as info:
            eval(code, {"lib": lib})
        errors.append(info.value)
    assert type(errors[0]) is type(errors[1]), f"{code}: course_lib {errors[0]!r}, torch {errors[1]!r}"


def test_edge_values_match_pytorch_and_neither_warns():
    import warnings
    from test_pytorch_habits import _edge_cases
    for (name, ours, _), (_, theirs, _) in zip(_edge_cases(cl), _edge_cases(torch)):
        if name == "linspace in float16":
            continue  # PyTorch raises there (value cannot be converted to type c10::Half without overflow)
        for g in (False, True):
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                a, b = ours(g), theirs(g)
                if a.requires_grad:
                    a.sum().backward()
                    b.sum().backward()
            np.testing.assert_array_equal(a.detach().float().numpy(), b.detach().float().numpy(), err_msg=name)
