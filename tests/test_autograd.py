"""course_lib.autograd (notebook 03): gradients checked against finite differences, errors, the engine."""
import gc

import numpy as np
import pytest

import course_lib as cl
from course_lib import autograd as ag
from course_lib.autograd import Function, Tensor
from course_lib.checks import GradcheckError, gradcheck

F64 = cl.float64


def leaf(*shape, seed=0, low=None, high=None, noncontig=False, distinct=False):
    """A float64 leaf that requires grad; `noncontig` builds it as a transposed view of a bigger buffer."""
    rng = np.random.default_rng(seed)
    if low is not None:
        a = rng.uniform(low, high if high is not None else low + 2.0, size=shape)
    elif distinct:  # well-separated values: no ties for max/min/relu/abs kinks
        a = rng.permutation(int(np.prod(shape))).reshape(shape) * 0.37 - 0.5 * np.prod(shape) * 0.37 + 0.11
    else:
        a = rng.standard_normal(shape)
    if noncontig and len(shape) >= 2:
        big = np.zeros(shape[:-2] + (shape[-1], shape[-2] * 2))
        big[..., ::2] = np.swapaxes(a, -1, -2)
        t = cl.from_numpy(big).double()[..., ::2].transpose(-1, -2)
        assert not t.is_contiguous()
        return t.requires_grad_()
    return cl.tensor(a, dtype=F64, requires_grad=True)


def away_from_zero(*shape, seed=0, noncontig=False):
    t = leaf(*shape, seed=seed, noncontig=noncontig)
    with cl.no_grad():
        a = t.detach().numpy()
        a[...] = np.where(np.abs(a) < 0.2, np.sign(a + 1e-12) * 0.3 + a, a)
    return t


def check(fn, *inputs):
    assert gradcheck(fn, inputs)


# -- elementwise binary ops, broadcasting, reflected forms -----------------------------

BINARY_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 3), (4, 1)), ((), (2, 3)), ((5,), ())]


@pytest.mark.parametrize("sa,sb", BINARY_SHAPES)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_binary_broadcast(op, sa, sb):
    a = leaf(*sa, seed=1)
    b = leaf(*sb, seed=2, low=0.5) if op == "div" else leaf(*sb, seed=2)
    fn = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
          "div": lambda x, y: x / y}[op]
    check(fn, a, b)


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_binary_noncontiguous(op):
    a = leaf(3, 4, seed=3, noncontig=True)
    b = leaf(4, 3, seed=4, low=0.5).t()  # a non-leaf, non-contiguous view
    fn = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
          "div": lambda x, y: x / y}[op]
    check(lambda x: fn(x, b), a)
    check(lambda x: fn(a, x.t()), leaf(4, 3, seed=5, low=0.5))


@pytest.mark.parametrize("fn", [lambda x: 2 + x, lambda x: 2 - x, lambda x: 3 * x, lambda x: 2 / x,
                                lambda x: x + 1.5, lambda x: x - 1, lambda x: x * 0.5, lambda x: x / 4,
                                lambda x: -x, lambda x: x.neg(), lambda x: cl.neg(x), lambda x: +x],
                         ids=["radd", "rsub", "rmul", "rdiv", "add_s", "sub_s", "mul_s", "div_s", "neg", "neg_m",
                              "neg_f", "pos"])
def test_scalar_forms(fn):
    check(fn, leaf(2, 3, seed=6, low=0.5))


@pytest.mark.parametrize("fn", [lambda x: x ** 2, lambda x: x ** 2.5, lambda x: x ** -1.5, lambda x: 2 ** x,
                                lambda x: x.pow(3), lambda x: cl.pow(x, 0.5), lambda x: x ** x],
                         ids=["sq", "frac", "neg", "rpow", "method", "func", "self"])
def test_pow_scalar(fn):
    check(fn, leaf(2, 3, seed=7, low=0.5))


def test_pow_tensor_tensor_broadcast():
    check(lambda a, b: a ** b, leaf(3, 4, seed=8, low=0.5), leaf(4, seed=9))
    check(lambda a, b: a.pow(b), leaf(3, 1, seed=10, low=0.5, noncontig=False), leaf(2, 1, 4, seed=11))


def test_pow_zero_base_gradient_is_finite():
    b = leaf(3, seed=12, low=1.0)
    a = cl.zeros(3, dtype=F64, requires_grad=True)
    (a ** b).sum().backward()
    assert np.all(np.isfinite(b.grad.numpy())) and np.all(b.grad.numpy() == 0)


# -- matmul -------------------------------------------------------------------------

MATMUL_SHAPES = [((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 5)), ((3, 4), (4, 5)), ((2, 3, 4), (4, 5)),
                 ((3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((4,), (2, 4, 3)), ((2, 3, 4), (4,))]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul(sa, sb):
    check(lambda a, b: a @ b, leaf(*sa, seed=13), leaf(*sb, seed=14))


def test_matmul_noncontiguous_and_functional():
    check(lambda a, b: cl.matmul(a, b), leaf(3, 4, seed=15, noncontig=True), leaf(4, 2, seed=16, noncontig=True))
    check(lambda a, b: a.matmul(b), leaf(3, 4, seed=17), leaf(4, 2, seed=18))


# -- unary ops ------------------------------------------------------------------------

UNARY = {
    "exp": (lambda x: x.exp(), {}), "exp_f": (lambda x: cl.exp(x), {}),
    "log": (lambda x: x.log(), {"low": 0.3}), "log_f": (lambda x: cl.log(x), {"low": 0.3}),
    "sqrt": (lambda x: x.sqrt(), {"low": 0.3}), "sqrt_f": (lambda x: cl.sqrt(x), {"low": 0.3}),
    "abs": (lambda x: x.abs(), {"distinct": True}), "abs_f": (lambda x: cl.abs(x), {"distinct": True}),
    "abs_op": (lambda x: abs(x), {"distinct": True}),
    "sin": (lambda x: x.sin(), {}), "cos": (lambda x: cl.cos(x), {}),
    "tanh": (lambda x: x.tanh(), {}), "tanh_f": (lambda x: cl.tanh(x), {}),
    "sigmoid": (lambda x: x.sigmoid(), {}), "sigmoid_f": (lambda x: cl.sigmoid(x), {}),
    "relu": (lambda x: x.relu(), {"distinct": True}), "relu_f": (lambda x: cl.relu(x), {"distinct": True}),
    "clamp_min": (lambda x: x.clamp(min=0.05), {"distinct": True}),
    "clamp_max": (lambda x: x.clamp(max=0.05), {"distinct": True}),
    "clamp_both": (lambda x: cl.clamp(x, -0.6, 0.7), {"distinct": True}),
    "clip": (lambda x: x.clip(-0.6, 0.7), {"distinct": True}),
    "clone": (lambda x: x.clone(), {}), "contiguous": (lambda x: x.contiguous() * 1, {}),
    "double": (lambda x: x.double() * 1, {}), "to_f64": (lambda x: x.to(cl.float64) * 1, {}),
}


@pytest.mark.parametrize("noncontig", [False, True], ids=["contig", "noncontig"])
@pytest.mark.parametrize("name", list(UNARY))
def test_unary(name, noncontig):
    fn, kw = UNARY[name]
    check(fn, leaf(3, 4, seed=19, noncontig=noncontig, **kw))


def test_unary_on_0d_and_1d():
    for fn, kw in UNARY.values():
        check(fn, leaf(seed=20, **kw) if "distinct" not in kw else cl.tensor(0.77, dtype=F64, requires_grad=True))
        check(fn, leaf(5, seed=21, **kw))


def test_float32_cast_roundtrip_gradient():
    x = leaf(3, seed=22)
    y = (x.float() * 2).double().sum()
    y.backward()
    assert x.grad.dtype is F64 and np.allclose(x.grad.numpy(), 2)


@pytest.mark.parametrize("sa,sb", [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1), (1, 3))])
def test_maximum_minimum(sa, sb):
    a, b = leaf(*sa, seed=23), leaf(*sb, seed=24)
    an, bn = a.detach().numpy(), b.detach().numpy()
    assert np.array_equal(cl.maximum(a, b).detach().numpy(), np.maximum(an, bn))
    assert np.array_equal(cl.minimum(a, b).detach().numpy(), np.minimum(an, bn))
    assert np.array_equal(a.min(b).detach().numpy(), np.minimum(an, bn))
    check(lambda x, y: cl.maximum(x, y), a, b)
    check(lambda x, y: x.minimum(y), a, b)
    check(lambda x, y: x.max(y), a, b)
    check(lambda x, y: cl.minimum(x, y), a, b)


def test_maximum_ties_share_gradient():
    a = cl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = cl.tensor([1.0, 0.0, 5.0], requires_grad=True)
    cl.maximum(a, b).sum().backward()
    assert a.grad.tolist() == [0.5, 1.0, 0.0] and b.grad.tolist() == [0.5, 0.0, 1.0]


def test_where():
    rng = np.random.default_rng(25)
    cond = cl.tensor(rng.random((3, 4)) > 0.5)
    check(lambda a, b: cl.where(cond, a, b), leaf(3, 4, seed=26), leaf(4, seed=27))
    check(lambda a: cl.where(cond, a, 0.0), leaf(3, 1, seed=28))
    check(lambda a: a.masked_fill(cond, 2.0), leaf(3, 4, seed=29))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat(dim):
    shapes = {0: [(2, 3), (1, 3), (4, 3)], 1: [(2, 3), (2, 1), (2, 2)], -1: [(2, 3), (2, 1), (2, 2)]}[dim]
    ts = [leaf(*s, seed=30 + i) for i, s in enumerate(shapes)]
    check(lambda *xs: cl.cat(list(xs), dim), *ts)
    check(lambda *xs: cl.concatenate(xs, dim=dim), *ts)


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_stack(dim):
    ts = [leaf(2, 3, seed=40 + i, noncontig=i == 1) for i in range(3)]
    check(lambda *xs: cl.stack(list(xs), dim), *ts)


def test_cat_with_a_constant():
    c = cl.ones(2, 3, dtype=F64)
    check(lambda x: cl.cat([c, x, c], 0), leaf(1, 3, seed=44))


# -- reductions ----------------------------------------------------------------------

DIMS = [None, 0, 1, -1, (0, 2), (-1, 0), (0, 1, 2)]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("op", ["sum", "mean", "var", "std", "var0", "logsumexp"])
def test_reductions(op, dim, keepdim):
    if op == "logsumexp" and dim is None:
        dim = (0, 1, 2)
    fn = {"sum": lambda x: x.sum(dim, keepdim=keepdim), "mean": lambda x: x.mean(dim, keepdim=keepdim),
          "var": lambda x: x.var(dim, keepdim=keepdim), "std": lambda x: x.std(dim, keepdim=keepdim),
          "var0": lambda x: x.var(dim, unbiased=False, keepdim=keepdim),
          "logsumexp": lambda x: x.logsumexp(dim, keepdim=keepdim)}[op]
    check(fn, leaf(2, 3, 2, seed=50))
    check(fn, leaf(2, 3, 2, seed=51, noncontig=True))


def test_reduction_functions():
    check(lambda x: cl.sum(x, 1), leaf(3, 4, seed=52))
    check(lambda x: cl.mean(x, 0, keepdim=True), leaf(3, 4, seed=53))
    check(lambda x: cl.logsumexp(x, 1), leaf(3, 4, seed=54))
    check(lambda x: x.sum(), leaf(seed=55))
    check(lambda x: x.sum_to_size(1, 4), leaf(3, 4, seed=56))


@pytest.mark.parametrize("op", ["max", "min", "amax"])
def test_max_min_all(op):
    check(lambda x: getattr(x, op)(), leaf(3, 4, seed=57, distinct=True))
    check(lambda x: getattr(x, op)(), leaf(3, 4, seed=58, distinct=True, noncontig=True))


def test_max_all_ties_share():
    x = cl.tensor([1.0, 3.0, 3.0, 0.0], requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.5, 0.0]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_dim(op, dim, keepdim):
    x = leaf(3, 4, 2, seed=59, distinct=True)
    values, idx = getattr(x, op)(dim, keepdim=keepdim)
    ref = getattr(np, op)(x.detach().numpy(), axis=dim, keepdims=keepdim)
    arg = getattr(np, "arg" + op)(x.detach().numpy(), axis=dim)
    assert np.array_equal(values.detach().numpy(), ref)
    assert np.array_equal(idx.numpy(), np.expand_dims(arg, dim) if keepdim else arg)
    assert idx.dtype is cl.int64 and not idx.requires_grad
    check(lambda t: getattr(t, op)(dim, keepdim)[0], x)
    check(lambda t: t.amax(dim, keepdim), leaf(3, 4, seed=60, distinct=True, noncontig=True))


def test_argmax_argmin():
    x = cl.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]], requires_grad=True)
    assert x.argmax().item() == 3 and x.argmin().item() == 4
    assert x.argmax(1).tolist() == [1, 0] and cl.argmin(x, 0).tolist() == [0, 1, 0]
    assert cl.argmax(x, 1, keepdim=True).shape == (2, 1)


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax(op, dim):
    check(lambda x: getattr(x, op)(dim), leaf(3, 4, seed=61))
    check(lambda x: getattr(cl, op)(x, dim), leaf(3, 4, seed=62, noncontig=True))


def test_softmax_is_stable_for_large_inputs():
    x = cl.tensor([1000.0, 1001.0, 1002.0], requires_grad=True)
    y = x.softmax(0)
    assert np.all(np.isfinite(y.detach().numpy()))
    y[2].backward()
    assert np.all(np.isfinite(x.grad.numpy()))
    assert np.isfinite(cl.tensor([1000.0, -1000.0]).logsumexp(0).item())


# -- views ---------------------------------------------------------------------------

VIEWS = {
    "view": (lambda x: x.view(4, 3), (3, 4)), "view_infer": (lambda x: x.view(-1), (3, 4)),
    "view_as": (lambda x: x.view_as(cl.zeros(2, 6)), (3, 4)),
    "reshape": (lambda x: x.reshape(2, 2, 3), (3, 4)), "reshape_tuple": (lambda x: x.reshape((6, 2)), (3, 4)),
    "transpose": (lambda x: x.transpose(0, 2), (2, 3, 4)), "t": (lambda x: x.t(), (3, 4)),
    "T": (lambda x: x.T, (3, 4)), "mT": (lambda x: x.mT, (2, 3, 4)),
    "permute": (lambda x: x.permute(2, 0, 1), (2, 3, 4)), "permute_neg": (lambda x: x.permute(-1, 0, -2), (2, 3, 4)),
    "expand": (lambda x: x.expand(2, 3, 4), (3, 1)), "expand_m1": (lambda x: x.expand(-1, 4), (3, 1)),
    "expand_as": (lambda x: x.expand_as(cl.zeros(5, 3)), (3,)),
    "broadcast_to": (lambda x: cl.broadcast_to(x, (2, 3, 4)), (1, 4)),
    "unsqueeze0": (lambda x: x.unsqueeze(0), (3, 4)), "unsqueeze_neg": (lambda x: x.unsqueeze(-1), (3, 4)),
    "squeeze": (lambda x: x.squeeze(), (3, 1, 4, 1)), "squeeze_dim": (lambda x: x.squeeze(1), (3, 1, 4)),
    "flatten": (lambda x: x.flatten(), (2, 3, 4)), "flatten_12": (lambda x: x.flatten(1), (2, 3, 4)),
    "flatten_f": (lambda x: cl.flatten(x, 0, 1), (2, 3, 4)),
    "unfold": (lambda x: x.unfold(0, 3, 1), (6, 2)), "unfold_step": (lambda x: x.unfold(1, 2, 3), (2, 8)),
    "unfold_overlap": (lambda x: x.unfold(-1, 4, 2), (9,)),
    "as_strided": (lambda x: x.as_strided((3, 3), (1, 1)), (6,)),
    "int": (lambda x: x[1], (3, 4)), "neg_int": (lambda x: x[-1, 2], (3, 4)),
    "slice": (lambda x: x[1:], (3, 4)), "step": (lambda x: x[::2, 1::2], (5, 6)),
    "none_ellipsis": (lambda x: x[None, ..., 1], (3, 4)), "mixed": (lambda x: x[0, :, None, 1:3], (2, 3, 4)),
    "empty_slice": (lambda x: x[2:1].sum() + x.sum(), (3, 4)),
}


@pytest.mark.parametrize("noncontig", [False, True], ids=["contig", "noncontig"])
@pytest.mark.parametrize("name", list(VIEWS))
def test_views(name, noncontig):
    fn, shape = VIEWS[name]
    if noncontig and (len(shape) < 2 or name.startswith("view") or name == "as_strided"):
        pytest.skip("view() needs compatible strides; as_strided reads the raw buffer")
    check(fn, leaf(*shape, seed=63, noncontig=noncontig))


def test_views_share_memory_with_their_base():
    x = cl.arange(12.0).reshape(3, 4)
    for v in (x.view(12), x.t(), x[1:, ::2], x.unsqueeze(0), x.permute(1, 0), x.expand(2, 3, 4)):
        assert v.buffer is x.buffer or np.shares_memory(v.numpy(), x.numpy())


def test_view_of_noncontiguous_raises():
    x = cl.zeros(3, 4).t()
    with pytest.raises(RuntimeError):
        x.view(12)
    assert x.reshape(12).shape == (12,)


# -- advanced indexing -----------------------------------------------------------

INDEX = {
    "int_tensor": lambda x: x[cl.tensor([0, 2, 2, 0, 1])],
    "list": lambda x: x[[2, 2, 1]],
    "int_tensor_2d": lambda x: x[cl.tensor([[0, 1], [2, 2]])],
    "pair": lambda x: x[cl.tensor([0, 0, 2]), cl.tensor([1, 1, 3])],
    "slice_then_tensor": lambda x: x[:, cl.tensor([3, 0, 3])],
    "bool_mask": lambda x: x[x.detach() > 0],
    "bool_rows": lambda x: x[cl.tensor([True, False, True])],
    "neg_index": lambda x: x[cl.tensor([-1, -1, 0])],
}


@pytest.mark.parametrize("noncontig", [False, True], ids=["contig", "noncontig"])
@pytest.mark.parametrize("name", list(INDEX))
def test_advanced_indexing(name, noncontig):
    check(INDEX[name], leaf(3, 4, seed=64, noncontig=noncontig))


def test_repeated_indices_accumulate():
    x = cl.zeros(4, requires_grad=True)
    x[cl.tensor([1, 1, 1, 3])].sum().backward()
    assert x.grad.tolist() == [0.0, 3.0, 0.0, 1.0]


def test_setitem_on_non_leaf():
    def fn(x, v):
        y = x * 1.0
        y[1] = v
        y[:, 0] = 0.0
        return y * y

    check(fn, leaf(3, 4, seed=65), leaf(4, seed=66))

    def fn2(x, v):
        y = x + 0
        y[cl.tensor([0, 2])] = v  # advanced-index assignment, v broadcast over rows
        return y

    check(fn2, leaf(3, 4, seed=67), leaf(4, seed=68))

    def fn3(x):
        y = x + 0
        y[y.detach() > 0] = 1.0
        return y * x

    check(fn3, leaf(3, 4, seed=69))


def test_inplace_arithmetic_on_non_leaf():
    def fn(x, w):
        y = x * 2
        y += w
        y *= x
        y -= 1
        y /= (w * w + 1)
        y.add_(x, alpha=2)
        y.clamp_(min=-1.0)
        return y

    check(fn, leaf(3, 4, seed=70, distinct=True), leaf(4, seed=71))


def test_copy_fill_zero_on_non_leaf():
    def fn(x, src):
        y = x * 1
        y.copy_(src)
        return y * x

    check(fn, leaf(3, 4, seed=72), leaf(4, seed=73))
    x = leaf(3, seed=74)
    y = x * 2
    y.zero_()
    (y + x).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0]


# -- second derivatives (create_graph) -----------------------------------------------

SECOND = {
    "mul": lambda x: x * x * x, "div": lambda x: 1 / (x + 3), "exp": lambda x: x.exp(),
    "log": lambda x: (x * x + 1).log(), "sqrt": lambda x: (x * x + 1).sqrt(), "sin": lambda x: x.sin(),
    "cos": lambda x: x.cos(), "tanh": lambda x: x.tanh(), "sigmoid": lambda x: x.sigmoid(),
    "pow": lambda x: (x * x + 1) ** 1.5, "rpow": lambda x: 2 ** x, "softmax": lambda x: x.softmax(-1),
    "log_softmax": lambda x: x.log_softmax(0), "logsumexp": lambda x: x.logsumexp(1),
    "var": lambda x: x.var(1), "std": lambda x: x.std(), "mean_sq": lambda x: (x.mean(0) ** 2),
    "matmul": lambda x: x @ x.t(), "broadcast": lambda x: x * x[0], "index": lambda x: x[[0, 0, 1]] ** 2,
    "where": lambda x: cl.where(x.detach() > 0, x * x, x.exp()),
}


@pytest.mark.parametrize("name", list(SECOND))
def test_second_derivative(name):
    f = SECOND[name]

    def first(x):
        (g,) = ag.grad(f(x).sum(), x, create_graph=True)
        return g

    check(first, leaf(2, 3, seed=75))


def test_third_derivative_of_cube():
    x = cl.tensor(2.0, requires_grad=True)
    y = x ** 3
    (g1,) = ag.grad(y, x, create_graph=True)
    (g2,) = ag.grad(g1, x, create_graph=True)
    (g3,) = ag.grad(g2, x)
    assert (g1.item(), g2.item(), g3.item()) == (12.0, 12.0, 6.0)


def test_backward_create_graph_gives_differentiable_grad():
    x = cl.tensor([1.0, 2.0], dtype=F64, requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    g = x.grad
    x.grad = None
    g.sum().backward()
    assert x.grad.tolist() == [6.0, 12.0]


# -- the engine ----------------------------------------------------------------------

def test_accumulation_into_leaves_and_zeroing():
    x = cl.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    assert x.grad.tolist() == [5.0, 7.0]
    x.grad = None
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    x.grad.zero_()
    assert x.grad.tolist() == [0.0, 0.0]


def test_used_twice_receives_both_contributions():
    x = cl.tensor(3.0, requires_grad=True)
    y = x * x + x  # x reaches the output by three paths
    y.backward()
    assert x.grad.item() == 7.0


def test_diamond_graph_runs_each_node_once():
    calls = []

    class Spy(Function):
        @staticmethod
        def forward(ctx, x):
            return x._arr * 1

        @staticmethod
        def backward(ctx, g):
            calls.append(1)
            return g

    x = cl.tensor([1.0, 2.0], requires_grad=True)
    h = Spy.apply(x)
    (h.exp() + h.sin() + h * 2).sum().backward()
    assert len(calls) == 1
    assert np.allclose(x.grad.numpy(), np.exp([1, 2]) + np.cos([1, 2]) + 2, atol=1e-6)


def test_leaf_grad_never_aliases_the_incoming_gradient():
    x = cl.tensor([1.0, 2.0], requires_grad=True)
    g = cl.tensor([1.0, 1.0])
    x.backward(g)
    x.grad += 1
    assert g.tolist() == [1.0, 1.0]
    a = cl.tensor([1.0], requires_grad=True)
    b = cl.tensor([1.0], requires_grad=True)
    (a + b).sum().backward()  # Add hands the same gradient object to both leaves
    a.grad += 10
    assert b.grad.tolist() == [1.0]


def test_gradient_argument_and_shape_check():
    x = cl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * 2).backward(cl.tensor([1.0, 0.0, -1.0]))
    assert x.grad.tolist() == [2.0, 0.0, -2.0]
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(cl.ones(2))


def test_chain_of_20000_ops():
    x = cl.tensor([0.5], dtype=F64, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
        y = y - 0.0001
    y.sum().backward()
    assert np.isclose(x.grad.item(), 1.0001 ** 10_000)


def test_deep_chain_is_released():
    x = cl.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y + 1
    y.backward()
    assert x.grad.item() == 1.0


def test_two_outputs_backward_together():
    x = cl.tensor([1.0, 2.0], requires_grad=True)
    a, b = x * 2, x * x
    ag.backward([a.sum(), b.sum()])
    assert x.grad.tolist() == [4.0, 6.0]


def test_backward_of_leaf_itself():
    x = cl.tensor(2.0, requires_grad=True)
    x.backward()
    assert x.grad.item() == 1.0


def test_requires_grad_propagation_and_int_results():
    x = cl.tensor([1.0, -2.0], requires_grad=True)
    c = cl.tensor([3.0, 4.0])
    assert (x + c).requires_grad and not (c + c).requires_grad
    assert not (x > 0).requires_grad and (x > 0).grad_fn is None
    assert x.argmax().grad_fn is None
    assert (x * 2).grad_fn.name() == "MulBackward0" and x.is_leaf and not (x * 2).is_leaf
    assert "grad_fn=<MulBackward0>" in repr(x * 2) and "requires_grad=True" in repr(x)


def test_next_functions():
    x = cl.tensor([1.0], requires_grad=True)
    y = (x * 2).exp()
    (fn, nr), = y.grad_fn.next_functions
    assert fn.name() == "MulBackward0" and nr == 0
    assert repr(fn.next_functions[0][0]).startswith("<AccumulateGrad object at 0x") and fn.next_functions[1] == (None, 0)


# -- grad mode ----------------------------------------------------------------------

def test_no_grad_context_and_decorator():
    x = cl.tensor([1.0], requires_grad=True)
    with cl.no_grad():
        y = x * 2
        assert not cl.is_grad_enabled()
        with cl.enable_grad():
            z = x * 2
            assert cl.is_grad_enabled()
        assert not cl.is_grad_enabled()
    assert cl.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and z.requires_grad

    @cl.no_grad()
    def f(t):
        return t * 2

    @cl.enable_grad()
    def g(t):
        return t * 2

    assert not f(x).requires_grad and cl.is_grad_enabled()
    with cl.no_grad():
        assert g(x).requires_grad
    with cl.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert cl.is_grad_enabled()
    cl.set_grad_enabled(False)
    assert not cl.is_grad_enabled()
    cl.set_grad_enabled(True)
    assert cl.is_grad_enabled()


def test_no_grad_restores_mode_after_exception():
    with pytest.raises(ValueError):
        with cl.no_grad():
            raise ValueError
    assert cl.is_grad_enabled()


def test_no_grad_allows_leaf_update():
    w = cl.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    with cl.no_grad():
        w -= 0.1 * w.grad
    assert np.allclose(w.detach().numpy(), [0.8, 1.6]) and w.is_leaf and w.requires_grad


def test_detach_shares_memory_and_stops_gradient():
    x = cl.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None
    with cl.no_grad():
        x[0] = 5.0
    assert d.tolist() == [5.0, 2.0]
    y = (x * d).sum()
    y.backward()
    assert x.grad.tolist() == [5.0, 2.0]


def test_retain_grad():
    x = cl.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    y = h * h
    y.retain_grad()
    y.sum().backward()
    assert h.grad.tolist() == [6.0, 12.0] and y.grad.tolist() == [1.0, 1.0]
    assert (x * 2).grad is None


def test_retain_graph_allows_second_backward():
    x = cl.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    assert np.allclose(x.grad.numpy(), 2 * first)


def test_autograd_grad():
    x = cl.tensor([1.0, 2.0], dtype=F64, requires_grad=True)
    w = cl.tensor([3.0, 4.0], dtype=F64, requires_grad=True)
    y = (x * x * w).sum()
    gx, gw = ag.grad(y, [x, w], create_graph=True)
    assert gx.tolist() == [6.0, 16.0] and gw.tolist() == [1.0, 4.0]
    assert x.grad is None and w.grad is None  # grad() leaves .grad alone
    (ggx,) = ag.grad(gx.sum(), x)
    assert ggx.tolist() == [6.0, 8.0]
    # with respect to an intermediate tensor
    x2 = cl.tensor([1.0, 2.0], requires_grad=True)
    h = x2 * 2
    (gh,) = ag.grad((h * h).sum(), h)
    assert gh.tolist() == [4.0, 8.0]
    # unused inputs
    z = cl.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="allow_unused"):
        ag.grad((x * 2).sum(), [z])
    assert ag.grad((x * 2).sum(), [z], allow_unused=True) == (None,)
    with pytest.raises(RuntimeError, match="does not require grad"):
        ag.grad((x * 2).sum(), [cl.tensor([1.0])])


def test_hessian_vector_product():
    x = cl.tensor([1.0, 2.0, 3.0], dtype=F64, requires_grad=True)
    v = cl.tensor([1.0, 0.0, -1.0], dtype=F64)
    f = (x ** 3).sum() + x[0] * x[1]
    (g,) = ag.grad(f, x, create_graph=True)
    (hv,) = ag.grad((g * v).sum(), x)
    hessian = np.diag(6 * np.array([1.0, 2.0, 3.0])) + np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]])
    assert np.allclose(hv.numpy(), hessian @ v.numpy())


# -- errors (PyTorch's, with a message that says what to do) -------------------------

def test_error_backward_on_non_scalar():
    x = cl.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs") as e:
        (x * 2).backward()
    assert "gradient=" in str(e.value) or "sum()" in str(e.value)


def test_error_backward_on_tensor_without_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        cl.tensor([1.0]).sum().backward()


def test_error_second_backward_through_freed_buffers():
    x = cl.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()
    z = x.exp().sum()  # save_output ops free their result too
    z.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        z.backward()


def test_error_inplace_on_leaf():
    x = cl.tensor([1.0, 2.0], requires_grad=True)
    for op in (lambda: x.add_(1), lambda: x.mul_(2), lambda: x.__setitem__(0, 3.0), lambda: x.zero_(),
               lambda: x.fill_(1.0), lambda: x.copy_(cl.ones(2)), lambda: x.clamp_(0, 1)):
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad.*no_grad"):
            op()
    with pytest.raises(RuntimeError, match="leaf"):
        x += 1
    with pytest.raises(RuntimeError, match="view of a leaf"):
        x[0:1].mul_(2)
    assert x.tolist() == [1.0, 2.0]


def test_error_saved_tensor_modified_inplace():
    x = cl.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    y = h * h  # saves h
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*out-of-place") as e:
        y.sum().backward()
    assert "version 1; expected version 0" in str(e.value)
    # the output of exp is saved; changing it through a view is caught too
    e1 = x.exp()
    s = e1.sum()
    with cl.no_grad():
        e1[0] = 0.0
    with pytest.raises(RuntimeError, match="inplace"):
        s.backward()
    # a leaf modified under no_grad after being saved
    w = cl.tensor([1.0, 2.0], requires_grad=True)
    y2 = (w * w).sum()
    with cl.no_grad():
        w.mul_(2)
    with pytest.raises(RuntimeError, match="inplace"):
        y2.backward()


def test_error_inplace_on_output_saved_by_exp():
    x = cl.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()  # exp's backward reads its own output
    y[0] = 5.0
    with pytest.raises(RuntimeError, match="inplace"):
        y.sum().backward()


def test_view_taken_before_inplace_on_base_follows_the_new_history():
    x = cl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    v = y[0:2]
    y.mul_(3)  # v's values are now 6x; PyTorch regenerates v's history, and so does course_lib
    v.sum().backward()
    assert x.grad.tolist() == [6.0, 6.0, 0.0]


def test_graph_built_before_inplace_on_base_keeps_its_gradient():
    x = cl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    z = y[0:2] * 3  # uses y's values before the write below: its gradient must not change
    y.mul_(5)
    z.sum().backward()
    assert x.grad.tolist() == [6.0, 6.0, 0.0]


def test_inplace_into_view_with_recorded_value():
    c = cl.zeros(3)
    w = cl.tensor([1.0, 2.0], requires_grad=True)
    c[0:2].add_(w * w)  # c did not require grad; now it does, through the write
    assert c.requires_grad and c.tolist() == [1.0, 4.0, 0.0]
    (c * cl.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert w.grad.tolist() == [2.0, 40.0]


def test_error_requires_grad_on_int_tensor():
    with pytest.raises(RuntimeError, match="floating point"):
        cl.tensor([1, 2]).requires_grad_()


def test_error_numpy_on_tensor_that_requires_grad():
    with pytest.raises(RuntimeError, match="detach"):
        cl.tensor([1.0], requires_grad=True).numpy()


def test_error_custom_function_wrong_number_of_gradients():
    class Bad(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a._arr + b._arr

        @staticmethod
        def backward(ctx, g):
            return g

    a, b = cl.ones(2, requires_grad=True), cl.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        Bad.apply(a, b).sum().backward()


def test_error_backward_returns_wrong_shape():
    class Bad(Function):
        @staticmethod
        def forward(ctx, a):
            return a._arr * 2

        @staticmethod
        def backward(ctx, g):
            return cl.ones(5)

    with pytest.raises(RuntimeError, match="shape"):
        Bad.apply(cl.ones(2, 3, requires_grad=True)).sum().backward()


# -- custom Functions -----------------------------------------------------------------

class Legendre3(Function):
    """P3(x) = (5x^3 - 3x) / 2, as in PyTorch's tutorial."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return 0.5 * (5 * x ** 3 - 3 * x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 1.5 * (5 * x ** 2 - 1)


class MulConst(Function):
    @staticmethod
    def forward(ctx, x, c):
        ctx.c = c  # a learner's own attribute on ctx
        return x * c

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.c, None


def test_custom_function_gradcheck():
    check(Legendre3.apply, leaf(3, 4, seed=80))
    check(lambda x: MulConst.apply(x, 2.5), leaf(4, seed=81))
    y = Legendre3.apply(leaf(3, seed=82))
    assert y.grad_fn.name() == "Legendre3Backward" and isinstance(y.grad_fn, Legendre3)


def test_custom_function_second_derivative():
    def first(x):
        (g,) = ag.grad(Legendre3.apply(x).sum(), x, create_graph=True)
        return g

    check(first, leaf(5, seed=83))


def test_custom_function_needs_input_grad_and_non_differentiable():
    seen = {}

    class Split(Function):
        @staticmethod
        def forward(ctx, a, b):
            seen["needs"] = None
            idx = (a._arr > 0).astype(np.int64)
            out = a._arr * b._arr
            ctx.save_for_backward(a, b)
            return out

        @staticmethod
        def backward(ctx, g):
            seen["needs"] = ctx.needs_input_grad
            a, b = ctx.saved_tensors
            return g * b if ctx.needs_input_grad[0] else None, g * a if ctx.needs_input_grad[1] else None

    a = cl.tensor([1.0, -2.0], requires_grad=True)
    b = cl.tensor([3.0, 4.0])
    Split.apply(a, b).sum().backward()
    assert seen["needs"] == (True, False) and a.grad.tolist() == [3.0, 4.0]


def test_custom_function_forward_not_recorded():
    class Inner(Function):
        @staticmethod
        def forward(ctx, x):
            y = x * 2  # ordinary Tensor ops inside forward: not recorded
            assert y.grad_fn is None and not cl.is_grad_enabled()
            return y

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = cl.tensor([1.0], requires_grad=True)
    out = Inner.apply(x)
    assert isinstance(out.grad_fn, Inner)
    out.backward()
    assert x.grad.item() == 2.0


def test_gradcheck_catches_a_wrong_backward():
    class WrongSin(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.sin(x._arr)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x.sin()  # should be cos

    x = leaf(3, seed=84)
    assert gradcheck(WrongSin.apply, (x,), raise_exception=False) is False
    with pytest.raises(GradcheckError, match="mismatch"):
        gradcheck(WrongSin.apply, (x,))
    with pytest.raises(ValueError, match="float64"):
        gradcheck(lambda t: t * 2, (cl.ones(2, requires_grad=True),))


def test_gradcheck_leaves_inputs_unchanged():
    x = leaf(3, 2, seed=85)
    before = x.detach().numpy().copy()
    gradcheck(lambda t: t.exp(), (x,))
    assert np.array_equal(x.detach().numpy(), before) and x.grad is None


# -- memory: the graph is freed ----------------------------------------------------

def test_saved_buffers_freed_after_backward():
    x = cl.tensor(np.ones(1000), dtype=F64, requires_grad=True)
    y = x * x
    node = y.grad_fn
    y.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        node.saved_tensors


def test_graph_is_garbage_collected():
    import weakref
    x = cl.tensor([1.0], requires_grad=True)
    y = (x * 2).exp()
    ref = weakref.ref(y.grad_fn)
    y.backward()
    del y
    gc.collect()
    assert ref() is None


def test_split_and_chunk_are_views_with_gradients():
    x = cl.tensor(np.arange(20.0).reshape(4, 5), requires_grad=True)
    a, b, c = x.split(2, dim=1)
    assert [p.shape for p in (a, b, c)] == [(4, 2), (4, 2), (4, 1)]
    assert c.tolist() == [[4.0], [9.0], [14.0], [19.0]]
    (a.sum() + (c * 2).sum()).backward()
    expected = np.zeros((4, 5))
    expected[:, :2], expected[:, 4] = 1.0, 2.0
    assert x.grad.tolist() == expected.tolist()
    y = cl.arange(6.0)
    first, second, third = y.chunk(3)
    first[0] = 10.0  # a view: the write shows in y
    assert y.tolist()[0] == 10.0 and third.tolist() == [4.0, 5.0]
    assert [t.tolist() for t in cl.split(cl.arange(5), [1, 4])] == [[0], [1, 2, 3, 4]]
    assert [t.shape for t in cl.chunk(cl.zeros(6, 2), 4)] == [(2, 2)] * 3  # ceil(6 / 4) = 2: only 3 chunks
    for call, msg in [(lambda: y.chunk(0), "chunk expects `chunks` to be greater than 0, got: 0"),
                      (lambda: y.split(0), "split_size can only be 0 if dimension size is 0"),
                      (lambda: y.split([1, 2]), r"split_sizes to sum exactly to 6 .*split_sizes=\[1, 2\]")]:
        with pytest.raises(RuntimeError, match=msg):
            call()


def test_a_backward_that_returns_a_numpy_array_says_so():
    """The mistake a learner makes first in a custom backward: PyTorch's words, then what to do instead."""
    import numpy as np
    import pytest

    import course_lib as torch

    class Twice(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a.detach().numpy() * 2

        @staticmethod
        def backward(ctx, grad):
            return grad.numpy() * 2

    x = torch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        Twice.apply(x).sum().backward()
    message = str(info.value)
    assert message.startswith("expected Variable or None (got numpy.ndarray)")  # PyTorch's own first words
    assert "backward works on Tensors" in message and "input 0" in message
    assert np.array_equal(Twice.apply(x).detach().numpy(), [2.0, 2.0, 2.0])
