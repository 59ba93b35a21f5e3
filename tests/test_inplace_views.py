"""In-place writes into views of tensors that require grad: the base's history is rewritten (CopySlices), as in
PyTorch. Checked against finite differences (gradcheck, first and second order) and, where installed, PyTorch."""
import numpy as np
import pytest

import course_lib as cl
from course_lib.autograd import grad
from course_lib.checks import gradcheck

rng = np.random.default_rng(11)


def leaf(*shape):
    return cl.tensor(rng.standard_normal(shape), dtype=cl.float64, requires_grad=True)


# Programs written once, run on course_lib and on torch: each writes in place through a view.
def mul_row(lib, x, w):
    y = x * 1.0
    y[1].mul_(w)  # a row, times a vector that requires grad
    return y


def add_column_of_transposed(lib, x, w):
    y = (x * 2).t()
    y[:, 0] += w.sin()  # a column of a transposed view
    return y * y


def stepped_slice_div_then_use_old_view(lib, x, w):
    y = x * 3.0
    v = y[::2, 1:]  # taken before the write below, used after it: its history is regenerated
    y[:, ::2].div_(2.0)
    return v * w[:3] + y.sum()


def view_of_view_and_setitem(lib, x, w):
    y = x * x
    z = y.view(12)[2:10].view(2, 4)
    z[1] = w  # setitem through a view of a view
    z[0, ::3].mul_(z[1, :2].clone())  # a clone: Mul saves it, and z changes below
    return y


def fill_and_copy_into_views(lib, x, w):
    y = x + 0.5
    y[0].fill_(2.0)
    y[2, 1:].copy_(w[:3] * x[1, :3])
    return y.sum(0) * x[0]


def chain_of_inplace_on_same_base(lib, x, w):
    y = x.tanh() * 1.0  # tanh saves its output: write into a copy
    y[0].mul_(y[1].clone())  # reads another region of the same base (a clone: Mul saves it)
    y[1].add_(y[0])  # reads the region just rewritten
    y.t()[3].sub_(w[:3])
    return y


PROGRAMS = [mul_row, add_column_of_transposed, stepped_slice_div_then_use_old_view, view_of_view_and_setitem,
            fill_and_copy_into_views, chain_of_inplace_on_same_base]


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.__name__)
def test_gradcheck_first_and_second_order(program):
    x, w = leaf(3, 4), leaf(4)
    assert gradcheck(lambda a, b: program(cl, a, b), (x, w))

    def first(a, b):
        ga, gb = grad((program(cl, a, b) ** 2).sum(), (a, b), create_graph=True)
        return ga * 1.0 + gb.sum()  # depends on both gradients
    assert gradcheck(first, (x, w))


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.__name__)
def test_same_values_and_gradients_as_pytorch(program):
    torch = pytest.importorskip("torch")
    xa, wa = rng.standard_normal((3, 4)), rng.standard_normal(4)
    ours = [cl.tensor(a, dtype=cl.float64, requires_grad=True) for a in (xa, wa)]
    theirs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (xa, wa)]
    out, ref = program(cl, *ours), program(torch, *theirs)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-12)
    r = rng.standard_normal(tuple(ref.shape))
    (out * cl.tensor(r)).sum().backward()
    (ref * torch.tensor(r)).sum().backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_the_math_of_one_write_by_hand():
    """y = 2x; y[1:3] *= w  =>  dy/dx = 2 outside the region, 2w inside; dy/dw = 2x[1:3]."""
    x = cl.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    w = cl.tensor([10.0, 100.0], requires_grad=True)
    y = x * 2
    y[1:3].mul_(w)
    assert y.tolist() == [2.0, 40.0, 600.0, 8.0]
    assert type(y.grad_fn).__name__ == "CopySlices"
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 20.0, 200.0, 2.0]
    assert w.grad.tolist() == [4.0, 6.0]


def test_views_of_a_detached_window_base():
    """The base itself may be a strided window (a detached transposed view): regions are found by position."""
    x = cl.tensor(np.arange(12.0).reshape(3, 4))
    base = x.t().detach()[1:]  # a (3, 3) window, not contiguous, offset 1, with no _base of its own
    w = cl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    base[:, 1].mul_(w)  # base[:, 1] is x[1, 1:] = [5, 6, 7]
    assert x.numpy()[1].tolist() == [4.0, 5.0, 12.0, 21.0]  # written through to x's buffer
    c = np.arange(9.0).reshape(3, 3)
    (base * cl.tensor(c)).sum().backward()
    assert w.grad.tolist() == (c[:, 1] * np.array([5.0, 6.0, 7.0])).tolist()  # d/dw sum(c * base) = c[:, 1] * old


def test_errors_stay_pytorchs():
    x = cl.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf Variable that requires grad"):
        x[0:1].mul_(2)
    y = x * 1.0
    v = y[0:1]
    z = (v * v).sum()  # Mul saves v ...
    y[1:].add_(1)  # ... whose base is then written in place (shared version counter)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()


def test_no_grad_writes_into_views_are_not_recorded():
    x = cl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 3
    with cl.no_grad():
        y[0:2].mul_(0.0)
    assert y.grad_fn is not None and type(y.grad_fn).__name__ != "CopySlices"
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0, 3.0]  # as PyTorch: an unrecorded write leaves the gradient alone


def test_inplace_into_expanded_views_raises_with_and_without_grad():
    x = cl.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1.0
    for t in (y, cl.zeros(2)):
        with pytest.raises(RuntimeError, match="single memory location. Please clone()"):
            t.expand(3, 2).add_(1.0)
        with pytest.raises(RuntimeError, match="single memory location"):
            t.expand(3, 2).clamp_(0, 1)


def test_a_stale_view_retains_its_grad_and_shows_its_new_history():
    x = cl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1.0
    v = y[1:]
    y.mul_(2)
    assert "grad_fn=<AsStridedBackward0>" in repr(v)
    v.retain_grad()
    (v * v).sum().backward()
    assert v.grad.tolist() == [8.0, 12.0]  # d(v^2)/dv = 2v, v = [4, 6]
    assert x.grad.tolist() == [0.0, 16.0, 24.0]


# Random programs: a chain of in-place ops through random views of one base, old views kept and used at the
# end; course_lib must agree with PyTorch on the values, the gradients, and on whether it raises.
def _random_plan(seed, steps=6):
    r = np.random.default_rng(seed)
    plan = []
    for _ in range(steps):
        kind = r.choice(["rows", "cols", "stepped", "row", "transposed"])
        lo = int(r.integers(0, 2))
        view = (kind, lo, int(r.integers(lo + 1, 4)))
        op = r.choice(["mul_s", "mul_t", "add_t", "sub_t", "div_s", "copy", "fill", "clamp", "keep"])
        plan.append((view, op))
    return plan


def _view(t, spec):
    kind, lo, hi = spec
    if kind == "rows":
        return t[lo:hi]
    if kind == "cols":
        return t[:, lo:hi + 1]
    if kind == "stepped":
        return t[lo::2, 1::2]
    if kind == "row":
        return t[hi]
    return t.t()[lo:hi + 1, ::3]


def _run_plan(lib, plan, x, w):
    y = x * 1.0
    kept = []
    for spec, op in plan:
        v = _view(y, spec)
        other = _view(w * 1.0, spec)  # a fresh tensor per op: what Mul saves is never written to later
        if op == "mul_s":
            v.mul_(2.5)
        elif op == "mul_t":
            v.mul_(other)
        elif op == "add_t":
            v.add_(other.sin())
        elif op == "sub_t":
            v -= other
        elif op == "div_s":
            v /= 1.5
        elif op == "copy":
            v.copy_(other * 3.0)
        elif op == "fill":
            v.fill_(0.25)
        elif op == "clamp":
            v.clamp_(-0.5, 0.5)
        else:
            kept.append(v)
    loss = (y * y).sum()
    for k in kept:
        loss = loss + (k * 1.5).sum()
    return y, loss


@pytest.mark.parametrize("seed", range(40))
def test_random_inplace_programs_match_pytorch(seed):
    torch = pytest.importorskip("torch")
    plan = _random_plan(seed)
    r = np.random.default_rng(1000 + seed)
    xa, wa = r.standard_normal((4, 5)), r.standard_normal((4, 5))
    ours = [cl.tensor(a, dtype=cl.float64, requires_grad=True) for a in (xa, wa)]
    theirs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (xa, wa)]
    try:
        ref_y, ref_loss = _run_plan(torch, plan, *theirs)
        ref_loss.backward()
        ref_error = None
    except RuntimeError as e:
        ref_error = e
    if ref_error is not None:
        with pytest.raises(RuntimeError):
            _, loss = _run_plan(cl, plan, *ours)
            loss.backward()
        return
    y, loss = _run_plan(cl, plan, *ours)
    np.testing.assert_allclose(y.detach().numpy(), ref_y.detach().numpy(), rtol=1e-12)
    loss.backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)
