"""Notebook 03's breadth for PyTorch's tutorials (issue 18), compared with PyTorch itself: mm and keepdims=, the old
constructors and Variable, function forms with keywords and out=, norm / all / any / histogram / histc, the tensor
tutorial's wider op set, grad_fn's repr and next_functions, and torch.autograd.functional. Values, gradients, dtypes,
node names and error kinds; skipped without PyTorch."""
import math
import re
import warnings

import numpy as np
import pytest

import course_lib as cl

torch = pytest.importorskip("torch")

rng = np.random.default_rng(18)


def both(array, requires_grad=False):
    return (cl.tensor(array, requires_grad=requires_grad), torch.tensor(array, requires_grad=requires_grad))


def same(ours, theirs, atol=1e-6):
    if isinstance(theirs, (tuple, list)):
        assert len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            same(o, t, atol)
        return
    assert tuple(ours.shape) == tuple(theirs.shape), (ours.shape, theirs.shape)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1], (ours.dtype, theirs.dtype)
    np.testing.assert_allclose(np.asarray(ours.detach().tolist(), dtype=float),
                               np.asarray(theirs.detach().tolist(), dtype=float), atol=atol, rtol=1e-5)


def same_error(f_ours, f_theirs):
    with pytest.raises(Exception) as theirs:
        f_theirs()
    with pytest.raises(type(theirs.value)) as ours:
        f_ours()
    assert str(ours.value).splitlines()[0] == str(theirs.value).splitlines()[0]


# -- mm and keepdims= --------------------------------------------------------------------------------------------------

def test_mm_values_gradients_node_and_refusals():
    a = rng.standard_normal((2, 3)).astype(np.float32)
    b = rng.standard_normal((3, 4)).astype(np.float32)
    (oa, ta), (ob, tb) = both(a, True), both(b, True)
    o, t = cl.mm(oa, ob), torch.mm(ta, tb)
    same(o, t)
    assert o.grad_fn.name() == t.grad_fn.name() == "MmBackward0"
    o.sum().backward(), t.sum().backward()
    same(oa.grad, ta.grad), same(ob.grad, tb.grad)
    same(oa.mm(ob), ta.mm(tb))
    for lib_a, lib_b, mod in ((cl.ones(3), cl.ones(3, 2), None), (cl.ones(2, 3), cl.ones(3), None),
                              (cl.ones(2, 3), cl.ones(4, 5), None),
                              (cl.ones(2, 3), cl.ones(3, 5, dtype=cl.float64), None)):
        t_a = torch.tensor(lib_a.tolist(), dtype=torch.float32)
        t_b = torch.tensor(lib_b.tolist(), dtype=torch.float64 if lib_b.dtype is cl.float64 else torch.float32)
        same_error(lambda: cl.mm(lib_a, lib_b), lambda: torch.mm(t_a, t_b))


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "std", "var", "amax", "amin", "max", "min", "argmax",
                                  "argmin", "logsumexp", "all", "any"])
def test_keepdims_is_accepted_where_pytorch_accepts_it(name):
    x = rng.standard_normal((2, 3)).astype(np.float32)
    o, t = both(x)
    got_o, got_t = getattr(o, name)(dim=1, keepdims=True), getattr(t, name)(dim=1, keepdims=True)
    if name in ("max", "min"):
        got_o, got_t = got_o.values, got_t.values
    same(got_o, got_t, atol=1e-5)
    if hasattr(torch, name) and hasattr(cl, name):
        f_o, f_t = getattr(cl, name)(o, dim=1, keepdims=True), getattr(torch, name)(t, dim=1, keepdims=True)
        same(f_o[0] if name in ("max", "min") else f_o, f_t[0] if name in ("max", "min") else f_t, atol=1e-5)


def test_norm_takes_no_keepdims_as_in_pytorch():
    o, t = both(np.ones((2, 2), np.float32))
    same_error(lambda: o.norm(dim=1, keepdims=True), lambda: t.norm(dim=1, keepdims=True))


# -- old constructors ---------------------------------------------------------------------------------------------------

def test_old_constructors_give_pytorchs_dtypes_and_shapes():
    for name, arg in [("Tensor", [1, 2]), ("FloatTensor", [1, 2]), ("DoubleTensor", [1, 2]), ("LongTensor", [1.7, 2]),
                      ("IntTensor", [1, 2]), ("BoolTensor", [1, 0]), ("Tensor", [[1.5], [2.5]])]:
        same(getattr(cl, name)(arg), getattr(torch, name)(arg))
    assert cl.Tensor(2, 3).shape == tuple(torch.Tensor(2, 3).shape) and cl.Tensor(2, 3).dtype is cl.float32
    assert cl.LongTensor(4).shape == (4,) and cl.LongTensor(4).dtype is cl.int64
    same(cl.Tensor(), torch.Tensor())
    same(cl.Tensor(np.array([1, 2])), torch.Tensor(np.array([1, 2])))
    x = cl.tensor([1.0, 2.0])
    shared = cl.Tensor(x)  # PyTorch gives x itself; here a tensor sharing x's memory
    shared[0] = 7.0
    assert x[0].item() == 7.0 and shared.dtype is x.dtype
    assert isinstance(x, cl.FloatTensor) and not isinstance(x, cl.LongTensor) and type(cl.FloatTensor([1])) is cl.Tensor
    same_error(lambda: cl.Tensor(2.5), lambda: torch.Tensor(2.5))
    with pytest.raises(TypeError):
        cl.Tensor(2, 3, dtype=cl.float64)


def test_variable_is_a_tensor_sharing_memory():
    x = cl.tensor([1.0, 2.0])
    v = cl.autograd.Variable(x, requires_grad=True)
    assert v is not x and v.requires_grad and v.is_leaf and not x.requires_grad
    assert isinstance(x, cl.autograd.Variable)
    v.data[0] = 5.0
    assert x[0].item() == 5.0
    (v * v).sum().backward()
    assert v.grad.tolist() == [10.0, 4.0]
    same_error(lambda: cl.autograd.Variable([1.0]), lambda: torch.autograd.Variable([1.0]))


def test_library_paths_still_make_tensors():
    import copy
    import pickle
    x = cl.tensor([[1.0, 2.0]], requires_grad=True)
    assert copy.deepcopy(x).tolist() == [[1.0, 2.0]] and pickle.loads(pickle.dumps(x.detach())).tolist() == [[1.0, 2.0]]
    p = cl.nn.Parameter(cl.ones(2))
    assert type(p) is cl.nn.Parameter and p.requires_grad


# -- function forms with keywords and out= ------------------------------------------------------------------------------

def test_function_forms_with_keywords():
    a, b = rng.standard_normal(3).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    (oa, ta), (ob, tb) = both(a, True), both(b, True)
    for f in (lambda m, x, y: m.add(x, y, alpha=2), lambda m, x, y: m.sub(x, y, alpha=0.5),
              lambda m, x, y: m.mul(input=x, other=y), lambda m, x, y: m.div(x, y),
              lambda m, x, y: m.matmul(input=x, other=y), lambda m, x, y: m.add(x, 1.5),
              lambda m, x, y: x.add(y, alpha=3), lambda m, x, y: x.sub(y, alpha=2)):
        o, t = f(cl, oa, ob), f(torch, ta, tb)
        same(o, t, 1e-5)
        assert o.grad_fn.name() == t.grad_fn.name()
        go = cl.autograd.grad(o.sum(), [oa, ob], allow_unused=True)
        gt = torch.autograd.grad(t.sum(), [ta, tb], allow_unused=True)
        assert [g is None for g in go] == [g is None for g in gt]
        same([g for g in go if g is not None], [g for g in gt if g is not None], 1e-5)


@pytest.mark.parametrize("mode", ["trunc", "floor"])
def test_div_rounding_modes(mode):
    for x, y in [([7.0, -7.0, 5.5], 2), ([7, -7, 5], 2), ([7, -7, 5], [2, 3, -2]), ([7.0, -7.5], [2.0, -2.0])]:
        ox, tx = both(x)
        oy, ty = (y, y) if isinstance(y, int) else both(y)
        same(cl.div(ox, oy, rounding_mode=mode), torch.div(tx, ty, rounding_mode=mode))
        same(ox.div(oy, rounding_mode=mode), tx.div(ty, rounding_mode=mode))
    ox, tx = both([1.5, -2.5], True)
    o, t = cl.div(ox, 2, rounding_mode=mode), torch.div(tx, 2, rounding_mode=mode)
    assert o.grad_fn.name() == t.grad_fn.name() == "DivBackward2"
    o.sum().backward(), t.sum().backward()
    same(ox.grad, tx.grad)
    same_error(lambda: cl.div(ox, 2, rounding_mode="round"), lambda: torch.div(tx, 2, rounding_mode="round"))


def test_alpha_refusals():
    same_error(lambda: cl.add(cl.tensor([1, 2]), cl.tensor([1, 2]), alpha=0.5),
               lambda: torch.add(torch.tensor([1, 2]), torch.tensor([1, 2]), alpha=0.5))


def test_out_writes_and_returns_out():
    (oa, ta), (ob, tb) = both([1.0, 2.0]), both([3.0, 4.0])
    for name in ("add", "sub", "mul", "div", "maximum", "minimum", "pow"):
        oc, tc = cl.zeros(2), torch.zeros(2)
        assert getattr(cl, name)(oa, ob, out=oc) is oc and getattr(torch, name)(ta, tb, out=tc) is tc
        same(oc, tc)
    for name in ("abs", "ceil", "floor", "round", "sin", "cos", "exp", "log", "sqrt", "tanh", "sigmoid", "atan",
                 "sign"):
        oc, tc = cl.zeros(2), torch.zeros(2)
        same(getattr(cl, name)(oa, out=oc), getattr(torch, name)(ta, out=tc), 1e-6)
        same(oc, tc, 1e-6)
    oc, tc = cl.zeros(()), torch.zeros(())
    same(cl.matmul(oa, ob, out=oc), torch.matmul(ta, tb, out=tc))
    oc, tc = cl.zeros(2, dtype=cl.float64), torch.zeros(2, dtype=torch.float64)
    same(cl.add(oa, ob, out=oc), torch.add(ta, tb, out=tc))
    oc, tc = cl.zeros(()), torch.zeros(())
    same(cl.sum(cl.ones(2, 2), 1, out=cl.zeros(2)), torch.sum(torch.ones(2, 2), 1, out=torch.zeros(2)))


def test_out_resizes_with_pytorchs_warning_and_refuses_what_pytorch_refuses():
    (oa, ta), (ob, tb) = both([1.0, 2.0]), both([3.0, 4.0])
    with warnings.catch_warnings(record=True) as wo:
        warnings.simplefilter("always")
        oc = cl.zeros(3)
        cl.add(oa, ob, out=oc)
    with warnings.catch_warnings(record=True) as wt:
        warnings.simplefilter("always")
        tc = torch.zeros(3)
        torch.add(ta, tb, out=tc)
    same(oc, tc)
    assert [str(w.message)[:120] for w in wo] == [str(w.message)[:120] for w in wt]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an empty out is resized silently
        oc, tc = cl.zeros(0), torch.zeros(0)
        same(cl.add(oa, ob, out=oc), torch.add(ta, tb, out=tc))
    same_error(lambda: cl.add(oa, ob, out=cl.zeros(2, dtype=cl.int64)),
               lambda: torch.add(ta, tb, out=torch.zeros(2, dtype=torch.int64)))
    oa.requires_grad_(), ta.requires_grad_()
    same_error(lambda: cl.add(oa, ob, out=cl.zeros(2)), lambda: torch.add(ta, tb, out=torch.zeros(2)))
    same_error(lambda: cl.mul(ob, ob, out=cl.zeros(2, requires_grad=True)),
               lambda: torch.mul(tb, tb, out=torch.zeros(2, requires_grad=True)))
    with cl.no_grad(), torch.no_grad():
        same(cl.add(oa, ob, out=cl.zeros(2)), torch.add(ta, tb, out=torch.zeros(2)))


# -- norm, all, any, histogram, histc -----------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [2, 1, math.inf, -math.inf, 3, 0.5, "fro"])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (1, False), (0, True), ((0, 1), False)])
def test_norm_values_gradients_and_node(p, dim, keepdim):
    x = rng.standard_normal((3, 4))
    x[0, 0], x[1, 1:3] = 0.0, 2.0  # a zero, and a tie for the inf-norm
    x[1, 0] = -2.0
    if p == "fro" and dim is not None and not isinstance(dim, tuple):
        pytest.skip("PyTorch's 'fro' along one dim is the 2-norm, checked above")
    ox, tx = both(x, True)
    o, t = ox.norm(p, dim=dim, keepdim=keepdim), tx.norm(p, dim=dim, keepdim=keepdim)
    same(o, t, 1e-6)
    assert o.grad_fn.name() == t.grad_fn.name()
    o.sum().backward(), t.sum().backward()
    same(ox.grad, tx.grad, 1e-6)
    same(cl.norm(ox, p, dim), torch.norm(tx, p, dim))


def test_norm_at_zero_and_of_integers():
    oz, tz = both(np.zeros(3), True)
    oz.norm().backward(), tz.norm().backward()
    same(oz.grad, tz.grad)
    same_error(lambda: cl.tensor([1, 2]).norm(), lambda: torch.tensor([1, 2]).norm())


def test_all_any():
    for x in ([[1, 0], [1, 1]], [[True, False], [True, True]], [[0.0, 2.0], [1.0, 3.0]]):
        o, t = both(x)
        for name in ("all", "any"):
            same(getattr(o, name)(), getattr(t, name)())
            same(getattr(cl, name)(o, dim=1), getattr(torch, name)(t, dim=1))
            same(getattr(o, name)(dim=0, keepdim=True), getattr(t, name)(dim=0, keepdim=True))


def test_histogram_and_histc():
    x = rng.standard_normal(50).astype(np.float32)
    w = rng.uniform(0, 1, 50).astype(np.float32)
    (ox, tx), (ow, tw) = both(x), both(w)
    for kwargs in ({}, {"range": (-1.0, 1.0)}, {"density": True}):
        o, t = cl.histogram(ox, 7, **kwargs), torch.histogram(tx, 7, **kwargs)
        same(o.hist, t.hist, 1e-5), same(o.bin_edges, t.bin_edges, 1e-6)
    o = cl.histogram(ox, bins=cl.tensor([-2.0, 0.0, 0.5, 3.0]), weight=ow)
    t = torch.histogram(tx, bins=torch.tensor([-2.0, 0.0, 0.5, 3.0]), weight=tw)
    same(o[0], t[0], 1e-5), same(o[1], t[1])
    same(cl.histc(ox, bins=6), torch.histc(tx, bins=6))
    same(cl.histc(ox, bins=4, min=-1, max=1), torch.histc(tx, bins=4, min=-1, max=1))
    same(cl.histc(cl.tensor([1.0, 1.0]), bins=4), torch.histc(torch.tensor([1.0, 1.0]), bins=4))
    same(ox.histc(5), tx.histc(5))
    same_error(lambda: cl.histogram(cl.tensor([1, 2]), 3), lambda: torch.histogram(torch.tensor([1, 2]), 3))
    same_error(lambda: cl.histc(cl.tensor([1, 2]), 3), lambda: torch.histc(torch.tensor([1, 2]), 3))


# -- the tensor tutorial's wider op set ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["ceil", "floor", "round", "trunc", "sign", "asin", "acos", "atan", "abs", "exp",
                                  "sin"])
def test_unary_ops_values_gradients_names_and_inplace_forms(name):
    x = rng.uniform(-0.95, 0.95, (2, 3))
    ox, tx = both(x, True)
    o, t = getattr(cl, name)(ox), getattr(torch, name)(tx)
    same(o, t)
    assert o.grad_fn.name() == t.grad_fn.name()
    o.sum().backward(), t.sum().backward()
    same(ox.grad, tx.grad)
    oi, ti = both([[1, -2, 3]])
    if name in ("ceil", "floor", "round", "trunc", "sign", "abs"):
        same(getattr(cl, name)(oi), getattr(torch, name)(ti))
    oy, ty = both(x.astype(np.float32))
    assert getattr(oy, name + "_")() is oy
    getattr(ty, name + "_")()
    same(oy, ty)
    if name in ("asin", "exp", "sin"):
        same_error(lambda: getattr(cl.tensor([1, 2]), name + "_")(), lambda: getattr(torch.tensor([1, 2]), name + "_")())


def test_inplace_function_forms_and_import_paths():
    oa, ta = both([0.5, 1.0])
    assert cl.sin_(oa) is oa and torch.sin_(ta) is ta
    same(oa, ta)
    import importlib
    assert importlib.import_module("course_lib.autograd.functional").jacobian is cl.autograd.functional.jacobian
    assert importlib.import_module("course_lib.autograd.profiler").profile is cl.autograd.profiler.profile


def test_round_decimals_and_inplace_history():
    ox, tx = both([1.25, -2.35, 0.5], True)
    o, t = cl.round(ox, decimals=1), torch.round(tx, decimals=1)
    same(o, t), same(ox.round(), tx.round())
    assert o.grad_fn.name() == t.grad_fn.name() == "RoundBackward1"
    oy, ty = ox * 1, tx * 1
    oy.exp_(), ty.exp_()
    assert oy.grad_fn.name() == ty.grad_fn.name()
    oy.sum().backward(), ty.sum().backward()
    same(ox.grad, tx.grad)


@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), (-1, False)])
def test_prod_with_zeros(dim, keepdim):
    x = np.array([[0.5, 0.0, 2.0], [1.5, -1.0, 3.0], [0.0, 0.0, 4.0]])
    ox, tx = both(x, True)
    o = ox.prod() if dim is None else ox.prod(dim, keepdim=keepdim)
    t = tx.prod() if dim is None else tx.prod(dim, keepdim=keepdim)
    same(o, t)
    assert o.grad_fn.name() == t.grad_fn.name()
    o.sum().backward(), t.sum().backward()
    same(ox.grad, tx.grad)
    for v in ([1, 2, 3], [True, True], [[1, 2], [3, 4]]):
        oi, ti = both(v)
        same(cl.prod(oi), torch.prod(ti))
    same(cl.tensor([1, 2, 3]).prod(dtype=cl.float32), torch.tensor([1, 2, 3]).prod(dtype=torch.float32))


def test_unique():
    o, t = both([3, 1, 2, 1, 3, 3])
    same(cl.unique(o), torch.unique(t))
    same(cl.unique(o, return_inverse=True, return_counts=True), torch.unique(t, return_inverse=True, return_counts=True))
    o, t = both([[2.0, 1.0], [2.0, 1.0], [0.5, 0.0]])
    same(o.unique(return_counts=True), t.unique(return_counts=True))
    same(cl.unique(o, dim=0), torch.unique(t, dim=0))


def test_comparisons_bitwise_and_logical():
    (od, td), (oe, te) = both([[1.0, 2.0], [3.0, 4.0]]), both([[1.0, 3.0]])
    for name in ("eq", "ne", "gt", "lt", "ge", "le", "greater", "less", "greater_equal", "less_equal", "not_equal"):
        same(getattr(cl, name)(od, oe), getattr(torch, name)(td, te))
        if name in ("eq", "ne", "gt", "lt", "ge", "le"):
            same(getattr(od, name)(2.0), getattr(td, name)(2.0))
    (ob, tb), (oc, tc) = both([1, 5, 11]), both([2, 7, 10])
    for name in ("bitwise_and", "bitwise_or", "bitwise_xor"):
        same(getattr(cl, name)(ob, oc), getattr(torch, name)(tb, tc))
        same(getattr(ob, name)(oc), getattr(tb, name)(tc))
    same(cl.bitwise_not(ob), torch.bitwise_not(tb))
    same(ob ^ oc, tb ^ tc)
    (op, tp), (oq, tq) = both([True, False, True]), both([True, True, False])
    for name in ("bitwise_and", "bitwise_or", "bitwise_xor", "logical_and", "logical_or"):
        same(getattr(cl, name)(op, oq), getattr(torch, name)(tp, tq))
    same(cl.bitwise_not(op), torch.bitwise_not(tp)), same(cl.logical_not(ob), torch.logical_not(tb))
    same_error(lambda: cl.bitwise_xor(od, od), lambda: torch.bitwise_xor(td, td))
    same_error(lambda: cl.bitwise_not(od), lambda: torch.bitwise_not(td))


def test_cross():
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    (oa, ta), (ob, tb) = both(a, True), both(b, True)
    o, t = cl.linalg.cross(oa, ob), torch.linalg.cross(ta, tb)
    same(o, t)
    assert o.grad_fn.name() == t.grad_fn.name()
    (o * o).sum().backward(), (t * t).sum().backward()
    same(oa.grad, ta.grad), same(ob.grad, tb.grad)
    same(cl.cross(oa.t(), ob.t(), dim=0), torch.cross(ta.t(), tb.t(), dim=0))
    with pytest.warns(UserWarning, match="without specifying the dim"):
        same(cl.cross(oa, ob), torch.linalg.cross(ta, tb))
    same_error(lambda: cl.linalg.cross(cl.ones(2), cl.ones(2)), lambda: torch.linalg.cross(torch.ones(2), torch.ones(2)))
    same(cl.linalg.matmul(oa.t(), ob), torch.linalg.matmul(ta.t(), tb))
    same(cl.linalg.vector_norm(oa, dim=1), torch.linalg.vector_norm(ta, dim=1))


# -- grad_fn: repr and next_functions ---------------------------------------------------------------------------------

def _walk(node):
    if node is None:
        return None
    return node.name(), tuple((_walk(f), i) for f, i in node.next_functions)


def _graphs(lib):
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    n = lib.tensor([3.0, 4.0])
    b = a.sin()
    m = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    return {
        "2*b": 2 * b, "b*2": b * 2, "n+a": n + a, "a+n": a + n, "a.sum()": a.sum(), "a.sum(0)": a.sum(0),
        "m@m": m @ m, "m@a": m @ a, "m.mm(m)": m.mm(m), "m.t()": m.t(), "m.view(4)": m.view(4), "m[0]": m[0],
        "1-a": 1 - a, "a-1": a - 1, "a/2": a / 2, "a**2": a ** 2, "a*a": a * a, "1+a": 1 + a, "n*a": n * a,
        "mean": (a * n).mean(), "where": lib.where(n > 3, a, n), "clamp": a.clamp(0, 1), "reshape": m.reshape(4),
        "cat": lib.cat([a, n]), "max(1)": m.max(1)[0], "n-a": n - a, "n**a": n ** a, "maximum": lib.maximum(a, n),
        "exp": a.exp(), "chain": ((a * 2).sin() @ n + 1).exp(), "norm": m.norm(), "prod": m.prod(1),
        "add alpha": lib.add(a, n, alpha=2),
    }


def test_next_functions_have_pytorchs_structure():
    ours, theirs = _graphs(cl), _graphs(torch)
    for key in theirs:
        assert _walk(ours[key].grad_fn) == _walk(theirs[key].grad_fn), key


def test_grad_fn_prints_like_pytorch():
    x = cl.tensor([1.0], requires_grad=True)
    y = (x + 1) * 2
    assert re.fullmatch(r"<MulBackward0 object at 0x[0-9a-f]+>", repr(y.grad_fn))
    leaf = y.grad_fn.next_functions[0][0].next_functions[0][0]
    assert re.fullmatch(r"<AccumulateGrad object at 0x[0-9a-f]+>", repr(leaf))
    assert leaf.variable is x and leaf.next_functions == ()
    assert "grad_fn=<MulBackward0>" in repr(y)  # the tensor's own repr keeps PyTorch's short form


# -- torch.autograd.functional -----------------------------------------------------------------------------------------

def _fns(lib):
    return {
        "single": (lambda x: x.exp() * x.sum(), lambda: (rng.standard_normal(3),)),
        "matrix": (lambda x: (x @ x).tanh(), lambda: (rng.standard_normal((2, 2)),)),
        "tuple in": (lambda a, b: a * b.sin(), lambda: (rng.standard_normal(3), rng.standard_normal(3))),
        "tuple out": (lambda a, b: (a * b, (a + b).sum()), lambda: (rng.standard_normal(2), rng.standard_normal(2))),
    }


@pytest.mark.parametrize("case", ["single", "matrix", "tuple in", "tuple out"])
def test_jacobian_vjp_jvp(case):
    f_ours, f_theirs = _fns(cl)[case][0], _fns(torch)[case][0]
    arrays = _fns(cl)[case][1]()
    ours = tuple(cl.tensor(a) for a in arrays)
    theirs = tuple(torch.tensor(a) for a in arrays)
    single = len(arrays) == 1
    oi, ti = (ours[0], theirs[0]) if single else (ours, theirs)
    same(cl.autograd.functional.jacobian(f_ours, oi), torch.autograd.functional.jacobian(f_theirs, ti))
    outs = f_theirs(*theirs)
    outs_t = outs if isinstance(outs, tuple) else (outs,)
    vs = [rng.standard_normal(tuple(o.shape)) for o in outs_t]
    v_o = tuple(cl.tensor(v) for v in vs) if isinstance(outs, tuple) else cl.tensor(vs[0])
    v_t = tuple(torch.tensor(v) for v in vs) if isinstance(outs, tuple) else torch.tensor(vs[0])
    same(cl.autograd.functional.vjp(f_ours, oi, v_o), torch.autograd.functional.vjp(f_theirs, ti, v_t))
    us = [rng.standard_normal(a.shape) for a in arrays]
    u_o = cl.tensor(us[0]) if single else tuple(cl.tensor(u) for u in us)
    u_t = torch.tensor(us[0]) if single else tuple(torch.tensor(u) for u in us)
    same(cl.autograd.functional.jvp(f_ours, oi, u_o), torch.autograd.functional.jvp(f_theirs, ti, u_t))


def test_hessian_single_and_tuple():
    x, y = rng.standard_normal(3), rng.standard_normal(3)
    f = lambda a: (a ** 3).sum() + (a[0] * a[1]).exp()  # noqa: E731
    same(cl.autograd.functional.hessian(f, cl.tensor(x)), torch.autograd.functional.hessian(f, torch.tensor(x)))
    g = lambda a, b: (a * b * b).sum() + a.sin().sum()  # noqa: E731
    same(cl.autograd.functional.hessian(g, (cl.tensor(x), cl.tensor(y))),
         torch.autograd.functional.hessian(g, (torch.tensor(x), torch.tensor(y))))
    same(cl.autograd.functional.vjp(lambda a: (a * a).sum(), cl.tensor(x)),
         torch.autograd.functional.vjp(lambda a: (a * a).sum(), torch.tensor(x)))


# -- torch.autograd.profiler ------------------------------------------------------------------------------------------

def _profiled(lib):
    x = lib.tensor(rng.standard_normal((8, 8)), requires_grad=True)
    with lib.autograd.profiler.profile() as prof:
        with lib.autograd.profiler.record_function("my_block"):
            (x @ x).relu().sum()
    return prof


def test_profiler_records_pytorchs_op_names_and_prints_its_table():
    ours, theirs = _profiled(cl), _profiled(torch)
    our_keys = {e.key for e in ours.key_averages()}
    assert our_keys <= {e.key for e in theirs.key_averages()} and {"aten::matmul", "my_block"} <= our_keys
    ours_table = ours.key_averages().table(sort_by="self_cpu_time_total", row_limit=2).splitlines()
    theirs_table = theirs.key_averages().table(sort_by="self_cpu_time_total", row_limit=2).splitlines()
    assert ours_table[1].split() == theirs_table[1].split() and len(ours_table) == len(theirs_table)
    assert ours_table[-1].startswith("Self CPU time total: ")
    block = {e.key: e for e in ours.key_averages()}["my_block"]
    assert block.count == 1 and block.cpu_time_total >= block.self_cpu_time_total >= 0
    x = cl.ones(2)
    with cl.autograd.profiler.record_function("outside"):  # no profile running: nothing to record, no error
        x + x


# -- programs in the style of PyTorch's tutorials (written here), run with both libraries ------------------------------

TENSOR_TOUR = '''
import math
results = {}
a = torch.tensor(RAND[0]) * 2 - 1  # the tutorial draws torch.rand(2, 4): the same numbers on both sides
results["common"] = [torch.abs(a), torch.ceil(a), torch.floor(a), torch.clamp(a, -0.5, 0.5)]
angles = torch.tensor([0, math.pi / 4, math.pi / 2, 3 * math.pi / 4])
sines = torch.sin(angles)
results["trig"] = [sines, torch.asin(sines), torch.atan(sines), torch.acos(torch.cos(angles))]
b = torch.tensor([1, 5, 11])
c = torch.tensor([2, 7, 10])
results["bitwise"] = [torch.bitwise_xor(b, c), torch.bitwise_and(b, c), torch.bitwise_or(b, c)]
d = torch.tensor([[1., 2.], [3., 4.]])
e = torch.ones(1, 2)
results["compare"] = [torch.eq(d, e), torch.gt(d, e), torch.ne(d, e)]
results["reduce"] = [torch.max(d), torch.mean(d), torch.std(d), torch.prod(d), torch.unique(torch.tensor([1, 2, 1, 2, 1, 2])),
                     torch.all(d > 0), torch.any(d > 3, dim=1), torch.sum(d, 1, keepdims=True), d.norm(), d.norm(dim=1)]
v1 = torch.tensor([1., 0., 0.])
v2 = torch.tensor([0., 1., 0.])
m1 = torch.tensor(RAND[1])
m2 = torch.tensor([[3., 0.], [0., 3.]])
results["linalg"] = [torch.linalg.cross(v2, v1), torch.linalg.matmul(m1, m2), torch.mm(m1, m2), m1.mm(m2)]
x = torch.tensor([0, math.pi / 4, math.pi / 2, 3 * math.pi / 4])
y = torch.sin(x)
x.sin_()
results["inplace"] = [x, y]
p = torch.ones(2, 2)
q = torch.tensor(RAND[2])
p.add_(q)
q.mul_(p)
results["inplace2"] = [p, q]
r = torch.zeros(2, 2)
old_id = id(r)
s = torch.add(p, q, out=r)
results["out"] = [r, s, torch.tensor([float(id(s) == old_id)])]
results["old"] = [torch.Tensor([[1, 2], [3, 4]]), torch.FloatTensor([1.5]), torch.LongTensor([1, 2]), torch.Tensor(2, 3) * 0]
w = torch.autograd.Variable(torch.ones(3), requires_grad=True)
loss = (w * torch.tensor([1., 2., 3.])).pow(2).sum()
loss.backward()
results["variable"] = [w.grad]
results["hist"] = list(torch.histogram(torch.tensor([1., 2., 1., 4.]), bins=4, range=(0., 4.))) + [
    torch.histc(torch.tensor([1., 2., 1.]), bins=4, min=0, max=3)]
f = lambda t: (t ** 2).sum()
results["functional"] = [torch.autograd.functional.jacobian(lambda t: t ** 2, torch.tensor([1., 2.])),
                         torch.autograd.functional.hessian(f, torch.tensor([1., 2.]))]
chain = []
node = (torch.ones(2, requires_grad=True) * 2).sin().sum().grad_fn
while node is not None:
    chain.append(node.name())
    node = node.next_functions[0][0] if node.next_functions else None
results["chain"] = chain
'''


def _run(lib, source):
    draw = np.random.default_rng(1729)
    scope = {"torch": lib, "RAND": [draw.uniform(0, 1, shape).astype(np.float32) for shape in ((2, 4), (2, 2), (2, 2))]}
    exec(source, scope)
    return scope["results"]


def test_a_tensor_tour_program_runs_alike():
    ours, theirs = _run(cl, TENSOR_TOUR), _run(torch, TENSOR_TOUR)
    assert ours.keys() == theirs.keys()
    assert ours.pop("chain") == theirs.pop("chain")
    for key in theirs:
        for o, t in zip(ours[key], theirs[key]):
            same(o, t, 1e-5)


# -- on a device: the 'sim' stand-in GPU refuses host arrays, so these never fall back to NumPy on the host ------------

def test_the_breadth_stays_on_the_device():
    from course_lib.simdevice import register_sim_device
    register_sim_device()
    base = rng.standard_normal((2, 3))
    x = cl.tensor(base).to("sim").requires_grad_()
    x.prod(1).sum().backward()
    (x.norm(dim=1).sum() + x.asin().sum() + cl.linalg.cross(x, x.flip(0) if hasattr(x, "flip") else x * 2).sum()).backward()
    assert x.grad.device.type == "sim"
    for result in (cl.histc(x.detach(), 4), *cl.histogram(x.detach(), 4), cl.unique(x.detach()), cl.round(x, decimals=1),
                   cl.div(x, 2, rounding_mode="floor"), cl.mm(x, x.t()),
                   cl.autograd.functional.jacobian(lambda a: a * a, x.detach()),
                   *cl.autograd.functional.vjp(lambda a: (a * a).sum(), x.detach()),
                   *cl.autograd.functional.jvp(lambda a: a * a, x.detach(), x.detach()),
                   cl.autograd.functional.hessian(lambda a: (a ** 3).sum(), x.detach()[0])):
        assert result.device.type == "sim"
    out = cl.zeros(0).to("sim")
    cl.add(x.detach(), 1, out=out)
    assert out.device.type == "sim" and np.allclose(out.cpu().tolist(), base + 1)


# --- hostile tester's findings (issue 18, fixA) ---

@pytest.mark.parametrize("which", ["jacobian", "hessian", "vjp", "jvp"])
def test_autograd_functional_records_under_no_grad(which):
    """torch.autograd.functional turns grad on inside: under no_grad the derivatives are not zeros."""
    x = [1.0, 2.0, 3.0]
    results = []
    for lib in (cl, torch):
        F = lib.autograd.functional
        xt, v = lib.tensor(x), lib.tensor([1.0, -1.0, 0.5])
        with lib.no_grad():
            out = {"jacobian": lambda: F.jacobian(lambda a: a ** 2, xt),
                   "hessian": lambda: F.hessian(lambda a: (a ** 3).sum(), xt),
                   "vjp": lambda: F.vjp(lambda a: a ** 2, xt, v)[1],
                   "jvp": lambda: F.jvp(lambda a: a ** 2, xt, v)[1]}[which]()
            assert not lib.is_grad_enabled()
        results.append(out)
    same(*results)
    assert results[0].abs().sum().item() > 0


@pytest.mark.parametrize("values", [[2.0, 1.0, 3.0], [2.0, 0.0, 3.0], [0.0, 0.0, 3.0], [1.5]])
def test_prod_second_derivative(values):
    """prod's backward is a graph under create_graph: the hessian is not zero (exact with zeros)."""
    same(cl.autograd.functional.hessian(lambda x: x.prod(), cl.tensor(values)),
         torch.autograd.functional.hessian(lambda x: x.prod(), torch.tensor(values)))
    x = cl.tensor(values, requires_grad=True)
    g, = cl.autograd.grad(x.prod(), x, create_graph=True)
    assert g.requires_grad


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_prod_along_dim_second_derivative(dim, keepdim):
    a = rng.standard_normal((2, 3, 4))
    a[0, 1, 2] = 0.0
    f = lambda lib: (lambda x: (x.prod(dim, keepdim=keepdim) ** 2).sum())
    same(cl.autograd.functional.hessian(f(cl), cl.tensor(a)),
         torch.autograd.functional.hessian(f(torch), torch.tensor(a)), atol=1e-9)


@pytest.mark.parametrize("p", [2, 3, 1.5, 1, math.inf, "fro"])
@pytest.mark.parametrize("dim", [None, 1, (0, 1)])
def test_norm_second_derivative(p, dim):
    a = rng.standard_normal((3, 4))
    f = lambda x: (x.norm(p) if dim is None else x.norm(p, dim=dim)).pow(2).sum()
    ours = cl.autograd.functional.hessian(f, cl.tensor(a))
    same(ours, torch.autograd.functional.hessian(f, torch.tensor(a)), atol=1e-9)
    if p == 2 and dim is None:  # the math: d2 |x| / dx dx = (I - x x^T / |x|^2) / |x|
        h = cl.autograd.functional.hessian(lambda x: x.norm(), cl.tensor(a[0]))
        n = np.linalg.norm(a[0])
        assert np.allclose(h.numpy(), (np.eye(4) - np.outer(a[0], a[0]) / n ** 2) / n)


@pytest.mark.parametrize("op", ["and", "or", "xor"])
@pytest.mark.parametrize("pair", ["bool_int", "int_bool", "bool_num", "num_bool", "bool_bool", "uint8_bool",
                                  "bool_true", "int8_big"])
def test_bitwise_promotes_bool_with_int_as_torch(op, pair):
    def operands(lib):
        b, i = lib.tensor([True, False, True]), lib.tensor([2, 3, 5])
        return {"bool_int": (b, i), "int_bool": (i, b), "bool_num": (b, 3), "num_bool": (3, b),
                "bool_bool": (b, lib.tensor([True, True, False])), "bool_true": (b, True),
                "uint8_bool": (lib.tensor([1, 2, 3], dtype=lib.uint8), b),
                "int8_big": (lib.tensor([1, 2, 3], dtype=lib.int8), 300)}[pair]
    f = {"and": lambda x, y: x & y, "or": lambda x, y: x | y, "xor": lambda x, y: x ^ y}[op]
    same(f(*operands(cl)), f(*operands(torch)))
    if not isinstance(operands(cl)[0], int):
        fn = "bitwise_" + op
        same(getattr(cl, fn)(*operands(cl)), getattr(torch, fn)(*operands(torch)))


def test_bitwise_refuses_floats_as_torch():
    for lib in (cl, torch):
        b = lib.tensor([True, False])
        for f in (lambda: b & 2.5, lambda: lib.tensor([1.0]) | b, lambda: lib.bitwise_xor(b, 1.5)):
            with pytest.raises(NotImplementedError, match="not implemented for 'Float'"):
                f()


@pytest.mark.parametrize("args", ["tuple", "Size", "empty_tuple", "nested_tuple", "Size0"])
@pytest.mark.parametrize("ctor", ["Tensor", "FloatTensor", "LongTensor"])
def test_legacy_constructor_tuple_is_data_size_is_shape(args, ctor):
    def make(lib):
        a = {"tuple": ((2, 3),), "Size": (lib.Size([2, 3]),), "empty_tuple": ((),),
             "nested_tuple": (((1, 2), (3, 4)),), "Size0": (lib.Size([]),)}[args]
        return getattr(lib, ctor)(*a)
    ours, theirs = make(cl), make(torch)
    assert tuple(ours.shape) == tuple(theirs.shape) and ours.dtype == getattr(cl, str(theirs.dtype).split(".")[-1])
    if args not in ("Size", "Size0"):  # a Size gives uninitialised memory: only its shape and dtype are PyTorch's
        same(ours, theirs)


def test_legacy_constructor_ignores_the_default_device():
    from course_lib import devices
    devices.register_backend(devices.Backend("twin", np))
    try:
        cl.set_default_device("twin")
        for t in (cl.Tensor([1.0, 2.0]), cl.Tensor(2), cl.FloatTensor([1.0]), cl.Tensor(cl.Size([2])), cl.Tensor()):
            assert str(t.device) == "cpu"
        assert str(cl.Tensor([1.0], device="twin").device) == "twin"
        assert str(cl.zeros(2).device) == "twin"
    finally:
        cl.set_default_device(None)
        devices._BACKENDS.pop("twin", None)
    torch.set_default_device("meta")
    try:
        for t in (torch.Tensor([1.0, 2.0]), torch.Tensor(2), torch.FloatTensor([1.0]), torch.Tensor(torch.Size([2]))):
            assert t.device.type == "cpu"
    finally:
        torch.set_default_device(None)


def _histogram_cases(lib):
    """The hostile tester's histogram / histc inputs: non-finite data or range, min == max, constant or empty
    data, bad bins, reversed ranges, weights of another dtype or shape."""
    t = lib.tensor
    return {
        "histc inf data": lambda: lib.histc(t([1., math.inf]), bins=4),
        "histc nan data": lambda: lib.histc(t([1., math.nan]), bins=4),
        "histc nan first": lambda: lib.histc(t([math.nan, 1.]), bins=4),
        "histc -inf data": lambda: lib.histc(t([-math.inf, 1.]), bins=4),
        "histc inf range": lambda: lib.histc(t([1., 2.]), bins=4, min=1, max=math.inf),
        "histc nan range": lambda: lib.histc(t([1., 2.]), bins=4, min=math.nan, max=2),
        "histc inf data explicit range": lambda: lib.histc(t([1., math.inf, 1.5]), bins=4, min=0, max=2),
        "histc nan data explicit range": lambda: lib.histc(t([1., math.nan, 1.5]), bins=4, min=0, max=2),
        "histc min==max": lambda: lib.histc(t([1., 2, 5]), bins=4, min=2, max=2),
        "histc const": lambda: lib.histc(t([3., 3, 3]), bins=4),
        "histc bins0": lambda: lib.histc(t([1., 2]), bins=0),
        "histc bins-1": lambda: lib.histc(t([1., 2]), bins=-1),
        "histc reversed": lambda: lib.histc(t([1., 2]), bins=3, min=3, max=1),
        "histc empty": lambda: lib.histc(t([]), bins=3),
        "histc empty range": lambda: lib.histc(t([]), bins=3, min=1, max=2),
        "histc method": lambda: t([0.5, 1.5, 2.5]).histc(3, 0, 3),
        "hist inf data": lambda: lib.histogram(t([1., math.inf]), bins=4),
        "hist nan data": lambda: lib.histogram(t([1., math.nan]), bins=4),
        "hist inf range": lambda: lib.histogram(t([1., 2.]), bins=4, range=(1., math.inf)),
        "hist inf data range": lambda: lib.histogram(t([1., math.inf, 1.5]), bins=4, range=(0., 2.)),
        "hist nan data range": lambda: lib.histogram(t([1., math.nan, 1.5]), bins=4, range=(0., 2.)),
        "hist const": lambda: lib.histogram(t([3., 3, 3]), bins=4),
        "hist const0": lambda: lib.histogram(t([0., 0]), bins=2),
        "hist range eq": lambda: lib.histogram(t([1., 2, 5]), bins=4, range=(2., 2.)),
        "hist bins0": lambda: lib.histogram(t([1., 2]), bins=0),
        "hist reversed": lambda: lib.histogram(t([1., 2]), bins=3, range=(3., 1.)),
        "hist empty": lambda: lib.histogram(t([]), bins=3),
        "hist weight dtype": lambda: lib.histogram(t([1., 2]), bins=3, weight=t([1., 2], dtype=lib.float64)),
        "hist weight int": lambda: lib.histogram(t([1., 2]), bins=3, weight=t([1, 2])),
        "hist weight shape": lambda: lib.histogram(t([1., 2]), bins=3, weight=t([1., 2, 3])),
        "hist weight ok": lambda: lib.histogram(t([1., 2, 2.5]), bins=3, weight=t([1., 2, 0.5])),
        "hist weight 2d": lambda: lib.histogram(t([[1., 2], [3, 4]]), bins=2, weight=t([[1., 2], [3, 4]])),
        "hist edges ok": lambda: lib.histogram(t([1., 2, 3]), bins=t([0., 2, 3])),
        "hist f64": lambda: lib.histogram(t([1., 2], dtype=lib.float64), bins=2),
        "hist density": lambda: lib.histogram(t([1., 2, 2, 3]), bins=2, density=True),
    }



def same_outcome(cases, case):
    """Run case `case` of `cases(lib)` on course_lib and torch: the same value, or the same error kind and first
    message line."""
    def run(lib):
        try:
            return cases(lib)[case]()
        except Exception as e:
            return type(e), str(e).splitlines()[0]
    ours, theirs = run(cl), run(torch)
    if isinstance(theirs, tuple) and isinstance(theirs[0], type):
        assert ours == theirs
    else:
        same(ours, theirs)

@pytest.mark.parametrize("case", list(_histogram_cases(torch)))
def test_histogram_and_histc_edge_cases_as_torch(case):
    same_outcome(_histogram_cases, case)


def test_profiler_records_only_its_own_thread():
    """PyTorch's profiler records the ops of the thread that profiles; ours recorded every thread's."""
    import threading
    import time as _time
    for lib in (cl, torch):
        stop = threading.Event()

        def busy():
            while not stop.is_set():
                lib.ones(2) * 3
        worker = threading.Thread(target=busy)
        worker.start()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with lib.autograd.profiler.profile() as prof:
                    _time.sleep(0.05)
        finally:
            stop.set()
            worker.join()
        assert len(prof.function_events) == 0, lib


def test_profiler_overlapping_threads_leave_no_hook():
    import threading
    first_in, second_in = threading.Event(), threading.Event()
    errors = []

    def a():
        try:
            with cl.autograd.profiler.profile() as p:
                cl.ones(2) + 1
                first_in.set()
                second_in.wait(5)
            assert [e.name for e in p.function_events] == ["aten::add"]
        except Exception as e:  # pragma: no cover
            errors.append(e)

    def b():
        try:
            first_in.wait(5)
            with cl.autograd.profiler.profile() as p:
                cl.ones(2) * 2
                second_in.set()
                _time_sleep(0.05)
            assert [e.name for e in p.function_events] == ["aten::mul"]
        except Exception as e:  # pragma: no cover
            errors.append(e)
    import time
    _time_sleep = time.sleep
    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    [t.start() for t in threads]
    [t.join(10) for t in threads]
    assert not errors and cl.autograd.Function._profiler is None


def test_nested_profiles_and_torch_profiler_module():
    with cl.autograd.profiler.profile() as outer:
        cl.ones(2) + 1
        with cl.autograd.profiler.profile() as inner:
            cl.ones(2) * 3
    assert [e.name for e in inner.function_events] == ["aten::mul"]
    assert sorted(e.name for e in outer.function_events) == ["aten::add", "aten::mul"]  # the outer keeps the inner's
    assert cl.autograd.Function._profiler is None
    from course_lib.profiler import profile as cl_profile
    from torch.profiler import profile as torch_profile  # noqa: F401 (PyTorch has it as a module too)
    assert cl_profile is cl.autograd.profiler.profile


_JVP_FUNCTIONS = {
    "square": lambda L: (lambda x: x ** 2),
    "exp_times_sum": lambda L: (lambda x: x.exp() * x.sum()),
    "matmul_tanh": lambda L: (lambda x: (x.reshape(2, 3) @ x.reshape(3, 2)).tanh()),
    "prod": lambda L: (lambda x: x.prod()),
    "norm": lambda L: (lambda x: x.norm()),
    "relu_sigmoid": lambda L: (lambda x: x.relu().sigmoid()),
    "softmax": lambda L: (lambda x: L.softmax(x, 0)),
    "constant": lambda L: (lambda x: L.ones(3)),
}


@pytest.mark.parametrize("name", list(_JVP_FUNCTIONS))
def test_jvp_by_double_backward_matches_torch(name, monkeypatch):
    """jvp costs two backward passes (no Jacobian is built), and its values are torch's."""
    from course_lib import autograd_extras
    monkeypatch.setattr(autograd_extras, "jacobian", lambda *a, **k: pytest.fail("jvp built the Jacobian"))
    a, v = rng.standard_normal(6), rng.standard_normal(6)
    ours = cl.autograd.functional.jvp(_JVP_FUNCTIONS[name](cl), cl.tensor(a), cl.tensor(v))
    theirs = torch.autograd.functional.jvp(_JVP_FUNCTIONS[name](torch), torch.tensor(a), torch.tensor(v))
    same(ours, theirs, atol=1e-9)
    assert not ours[1].requires_grad


def test_jvp_tuples_and_create_graph_as_torch():
    a, b, v, w = (rng.standard_normal(3) for _ in range(4))
    f = lambda x, y: (x * y, x.sin() + y)  # noqa: E731
    ours = cl.autograd.functional.jvp(f, (cl.tensor(a), cl.tensor(b)), (cl.tensor(v), cl.tensor(w)))
    theirs = torch.autograd.functional.jvp(f, (torch.tensor(a), torch.tensor(b)), (torch.tensor(v), torch.tensor(w)))
    same(ours, theirs, atol=1e-9)
    x = cl.tensor(a, requires_grad=True)
    _, jv = cl.autograd.functional.jvp(lambda t: t ** 3, x, cl.tensor(v), create_graph=True)
    xt = torch.tensor(a, requires_grad=True)
    _, jvt = torch.autograd.functional.jvp(lambda t: t ** 3, xt, torch.tensor(v), create_graph=True)
    assert jv.requires_grad and jvt.requires_grad
    same(cl.autograd.grad(jv.sum(), x)[0], torch.autograd.grad(jvt.sum(), xt)[0], atol=1e-9)  # 6 x v


def _small_cases(lib):
    t = lib.tensor
    u = t([0, 2, 3], dtype=lib.uint8)
    return {
        "all_uint8": lambda: u.all(), "any_uint8": lambda: u.any(), "all_uint8_dim": lambda: lib.all(u.reshape(1, 3), dim=1),
        "any_uint8_dim": lambda: u.reshape(3, 1).any(1, keepdim=True), "all_int": lambda: t([1, 2]).all(),
        "unique_nan": lambda: lib.unique(t([math.nan, 1.0, math.nan])),
        "unique_nan_counts": lambda: lib.unique(t([math.nan, 1.0, math.nan, 1.0]), return_inverse=True,
                                                return_counts=True),
        "sum_both_spellings": lambda: t([1.0, 2.0]).sum(0, keepdim=True, keepdims=True),
        "torch_sum_both_spellings": lambda: lib.sum(t([1.0, 2.0]), 0, keepdim=True, keepdims=True),
        "floor_bool": lambda: t([True]).floor(), "ceil_bool": lambda: t([True]).ceil(),
        "round_bool": lambda: t([True]).round(), "trunc_bool": lambda: t([True]).trunc(),
        "floor_int": lambda: t([1, 2]).floor(), "mm_bool": lambda: t([[True]]).mm(t([[True]])),
        "mm_int": lambda: t([[1, 2]]).mm(t([[1], [2]])),
    }


@pytest.mark.parametrize("case", list(_small_cases(torch)))
def test_small_findings_as_torch(case):
    """any/all keep uint8, unique keeps NaNs apart, keepdim= with keepdims= refused, no bool kernels for
    floor/ceil/round/trunc/mm: as torch (values, dtypes, error kinds and messages)."""
    same_outcome(_small_cases, case)


@pytest.mark.parametrize("name", ["all", "any", "norm", "histc"])
def test_out_on_all_any_norm_histc(name):
    def run(lib):
        x = lib.tensor([1.0, 0.0, 4.0] if name != "norm" else [3.0, 4.0])
        out = lib.empty(0, dtype=lib.bool if name in ("all", "any") else lib.float32)
        kwargs = {"bins": 2} if name == "histc" else {}
        got = getattr(lib, name)(x, out=out, **kwargs)
        assert got is out
        return out
    same(run(cl), run(torch))
