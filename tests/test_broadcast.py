"""Notebook 02's kernels (course_lib.kernels) against NumPy, and against PyTorch's rules and messages."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from course_lib import kernels as B
from course_lib import factories, storage

SETTINGS = settings(max_examples=60, deadline=None)
DTYPES = [np.bool_, np.uint8, np.int32, np.int64, np.float16, np.float32, np.float64]


# -- strategies ----------------------------------------------------------------------------

@st.composite
def broadcast_pair(draw, max_ndim=4):
    """Two shapes that broadcast: draw a result shape, then knock dims down to 1 or drop leading ones."""
    out = draw(st.lists(st.integers(1, 4), min_size=0, max_size=max_ndim))
    shapes = []
    for _ in range(2):
        lead = draw(st.integers(0, len(out)))
        shapes.append(tuple(n if draw(st.booleans()) else 1 for n in out[lead:]))
    return tuple(shapes)


@st.composite
def view_of(draw, shape, dtype=np.float32):
    """An array of `shape` that is a non-contiguous view: transposed, stepped, expanded or plain."""
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    kind = draw(st.sampled_from(["plain", "transposed", "stepped", "expanded"]))

    def fill(s):
        x = rng.standard_normal(s) * 3
        return x.astype(dtype) if np.dtype(dtype).kind == "f" else (x > 0 if dtype == np.bool_ else x.astype(dtype))

    if kind == "transposed" and len(shape) >= 2:
        return np.swapaxes(fill(shape[:-2] + (shape[-1], shape[-2])), -1, -2)
    if kind == "stepped":
        big = fill(tuple(2 * n for n in shape))
        return big[tuple(slice(None, None, 2) for _ in shape)]
    if kind == "expanded":
        small = fill(tuple(1 if i % 2 else n for i, n in enumerate(shape)))
        return np.broadcast_to(small, shape)
    return fill(shape)


def as_torch_dtype(torch, dt):
    return getattr(torch, np.dtype(dt).name if np.dtype(dt) != np.bool_ else "bool")


# -- broadcasting ---------------------------------------------------------------------------

@SETTINGS
@given(broadcast_pair())
def test_broadcast_shapes_matches_numpy(pair):
    a, b = pair
    assert B.broadcast_shapes(a, b) == np.broadcast_shapes(a, b) == B.broadcast_shapes(b, a)


@SETTINGS
@given(st.lists(st.integers(1, 3), max_size=3), st.lists(st.integers(1, 3), max_size=3))
def test_broadcast_shapes_error_iff_numpy_errors(a, b):
    try:
        expected = np.broadcast_shapes(tuple(a), tuple(b))
    except ValueError:
        with pytest.raises(RuntimeError, match=r"The size of tensor a \(\d+\) must match the size of tensor b"):
            B.broadcast_shapes(tuple(a), tuple(b))
    else:
        assert B.broadcast_shapes(tuple(a), tuple(b)) == expected


@pytest.mark.parametrize("a, b, msg", [
    ((5, 3), (2, 1, 4), "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 2"),
    ((2, 3), (4,), "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1"),
    ((3,), (4,), "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 0"),
])
def test_incompatible_shapes_pytorch_message(a, b, msg):
    with pytest.raises(RuntimeError) as e:
        B.binary(np.add, np.ones(a, np.float32), np.ones(b, np.float32))
    assert str(e.value) == msg
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as t:
        torch.ones(a) + torch.ones(b)
    assert str(t.value) == msg


@SETTINGS
@given(broadcast_pair())
def test_broadcast_to_is_zero_copy_stride_0(pair):
    a, b = pair
    out = np.broadcast_shapes(a, b)
    t = factories.arange(storage.numel(a)).view(*a) if a else factories.tensor(5)
    v = B.broadcast_to(t, out)
    assert v.shape == out
    assert np.array_equal(v.numpy(), np.broadcast_to(t.numpy(), out))
    assert np.shares_memory(v.numpy(), t.numpy())
    lead = len(out) - len(a)
    for d, s in enumerate(v.stride()):
        if d < lead or (a[d - lead] == 1 and out[d] != 1):
            assert s == 0


@SETTINGS
@given(broadcast_pair(), st.integers(0, 2**16))
def test_unbroadcast_sums_back(pair, seed):
    a, b = pair
    out = np.broadcast_shapes(a, b)
    g = np.random.default_rng(seed).standard_normal(out)
    got = B.unbroadcast(g, a)
    expected = np.zeros(a)
    for idx in np.ndindex(*out):
        expected[tuple(0 if n == 1 else i for i, n in zip(idx[len(out) - len(a):], a))] += g[idx]
    assert got.shape == a and np.allclose(got, expected)


def test_unbroadcast_large_uses_fast_sum_correctly():
    g = np.random.default_rng(0).standard_normal((256, 300)).astype(np.float32)
    assert np.allclose(B.unbroadcast(g, (300,)), g.astype(np.float64).sum(0), atol=1e-3)
    assert np.allclose(B.unbroadcast(g, (256, 1)), g.astype(np.float64).sum(1, keepdims=True), atol=1e-3)


# -- type promotion -------------------------------------------------------------------------

f16, f32, f64, i32, i64, u8, i8, b_ = (np.float16, np.float32, np.float64, np.int32, np.int64, np.uint8, np.int8,
                                       np.bool_)
PROMOTION = [  # expectations written from PyTorch's documented rules
    ((np.ones(2, i64), 2.5), f32), ((np.ones(2, i32), 5), i32), ((np.ones(2, i32), np.array(5)), i32),
    ((np.ones(2, b_), True), b_), ((np.ones(2, b_), 1), i64), ((np.ones(2, b_), 1.5), f32),
    ((np.ones(2, u8), np.ones(2, i8)), np.int16), ((np.ones(2, f16), np.array(1.0)), f16),
    ((np.array(1, i32), np.array(1.0)), f64), ((np.ones(2, i32), np.array(1.0)), f64),
    ((np.ones(2, f32), np.ones(2, f64)), f64), ((np.ones(2, f16), 3.0), f16), ((np.ones(2, u8), 300), u8),
]


@pytest.mark.parametrize("ops, expected", PROMOTION)
def test_result_type_pytorch_rules(ops, expected):
    assert B.result_type(*ops) == np.dtype(expected)


@pytest.mark.parametrize("ops, expected", PROMOTION)
def test_result_type_agrees_with_torch(ops, expected):
    torch = pytest.importorskip("torch")
    targs = [torch.from_numpy(np.array(o)) if isinstance(o, np.ndarray) else o for o in ops]
    assert torch.result_type(*targs) == as_torch_dtype(torch, expected)


# -- element-wise ---------------------------------------------------------------------------

BINARY = [np.add, np.subtract, np.multiply, np.maximum, np.minimum]
COMPARE = [np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal]


@SETTINGS
@given(st.data(), broadcast_pair(), st.sampled_from(BINARY + COMPARE + [np.true_divide]),
       st.sampled_from([f32, f64, i64, i32]), st.sampled_from([f32, f64, i64]))
def test_binary_ops_on_views_match_numpy(data, pair, op, da, db):
    a = data.draw(view_of(pair[0], da))
    b = data.draw(view_of(pair[1], db))
    dt = B.result_type(a, b)
    if op is np.true_divide:
        with np.errstate(all="ignore"):
            got = B.true_divide(a, b)
        with np.errstate(all="ignore"):
            ref = np.true_divide(a.astype(dt), b.astype(dt), dtype=dt if dt.kind == "f" else np.float32)
        expected_dtype = dt if dt.kind == "f" else np.dtype(np.float32)
    elif op in COMPARE:
        got = B.compare(op, a, b)
        ref, expected_dtype = op(a.astype(dt), b.astype(dt)), np.dtype(np.bool_)
    else:
        got = B.binary(op, a, b)
        ref, expected_dtype = op(a.astype(dt), b.astype(dt)), dt
    assert got.dtype == expected_dtype
    assert got.shape == np.broadcast_shapes(a.shape, b.shape)
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(got, ref, rtol=1e-6, equal_nan=True)


@SETTINGS
@given(st.data(), st.lists(st.integers(1, 4), max_size=3), st.sampled_from(BINARY + COMPARE),
       st.sampled_from(DTYPES), st.sampled_from([2, 2.5, True, -3]), st.booleans())
def test_scalar_on_either_side(data, shape, op, dt, scalar, scalar_first):
    a = data.draw(view_of(tuple(shape), dt))
    if op is np.subtract and dt == np.bool_ and isinstance(scalar, bool):
        return  # bool - bool is an error in PyTorch and NumPy alike
    args = (scalar, a) if scalar_first else (a, scalar)
    got = B.binary(op, *args)
    dt_ = B.result_type(*args)
    ref = op(*[np.array(x).astype(dt_) if not isinstance(x, bool) else dt_.type(x) for x in args])
    assert got.dtype == (np.bool_ if op in COMPARE else dt_)
    np.testing.assert_allclose(got.astype(np.float64), ref.astype(np.float64), rtol=1e-3)


def test_scalar_and_division_dtypes_match_torch():
    torch = pytest.importorskip("torch")
    ia, fa, ba = np.array([1, 2, 3]), np.ones(3, np.float32), np.array([True, False, True])
    for ours, theirs in [
        (B.binary(np.add, ia, 2.5), torch.tensor([1, 2, 3]) + 2.5),
        (B.true_divide(ia, ia), torch.tensor([1, 2, 3]) / torch.tensor([1, 2, 3])),
        (B.binary(np.add, ba, ba), torch.tensor([True]) + torch.tensor([True])),
        (B.binary(np.multiply, ba, 2), torch.tensor([True]) * 2),
        (B.compare(np.less, fa, 1), torch.ones(3) < 1),
        (B.where(ba, ia, 0.5), torch.where(torch.tensor([True, False, True]), torch.tensor([1, 2, 3]), 0.5)),
        (B.clamp(ia, min=1.5), torch.clamp(torch.tensor([1, 2, 3]), min=1.5)),
        (B.cat([ia[None], fa[None]]), torch.cat([torch.tensor([[1, 2, 3]]), torch.ones(1, 3)])),
    ]:
        assert as_torch_dtype(torch, ours.dtype) == theirs.dtype
        if ours.shape == tuple(theirs.shape):
            assert np.allclose(np.asarray(ours, dtype=np.float64), theirs.double().numpy())


def test_integer_scalars_wrap_like_pytorch():
    a = np.array([1, 2], np.uint8)
    assert np.array_equal(B.binary(np.add, a, -3), np.array([254, 255], np.uint8))
    assert B.binary(np.add, a, 300).dtype == np.uint8


def test_large_ops_take_the_threaded_path_and_match_numpy():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((300, 1, 1000)).astype(np.float32)
    b = rng.standard_normal((1, 20, 1000)).astype(np.float32)
    assert np.array_equal(B.binary(np.add, a, b), a + b)
    assert np.array_equal(B.compare(np.less, a, b), a < b)
    big, ints = rng.standard_normal(1 << 19).astype(np.float32), np.arange(1 << 19)
    assert np.array_equal(B.binary(np.multiply, big, big[::-1].copy()), big * big[::-1])
    assert np.array_equal(B.true_divide(ints, 7), (ints / 7).astype(np.float32))
    assert np.array_equal(B.binary(np.add, big.reshape(512, 1024).T, 1.0), big.reshape(512, 1024).T + np.float32(1))
    with pytest.raises(RuntimeError, match="must match"):
        B.binary(np.add, big, big[:-1])


def test_transposed_operands_are_split_sooner_than_contiguous_ones(monkeypatch):
    """Reading a transposed view costs a cache line per element, so threads start at 256K elements, not 4M."""
    if B._threads < 2:
        pytest.skip("one core: nothing is ever split")
    calls = []
    run = B._run_pieces
    monkeypatch.setattr(B, "_run_pieces", lambda jobs: (calls.append(len(jobs)), run(jobs))[1])
    rng = np.random.default_rng(3)
    a, b = (rng.standard_normal((600, 500)).astype(np.float32) for _ in range(2))  # 300K elements
    assert np.array_equal(B.binary(np.add, a, b), a + b) and calls == []  # contiguous: one call
    assert np.array_equal(B.binary(np.add, a.T, b.T.copy()), a.T + b.T) and calls == [B._threads]
    assert np.array_equal(B.true_divide(b.T.copy(), a.T), b.T / a.T) and len(calls) == 2
    assert np.array_equal(B.binary(np.add, a[:100].T, b[:100].T), a[:100].T + b[:100].T) and len(calls) == 2


def test_where_clamp_maximum_minimum():
    rng = np.random.default_rng(1)
    c = rng.standard_normal((3, 1)) > 0
    a, b = rng.standard_normal((1, 4)).astype(np.float32), rng.standard_normal(4).astype(np.float32)
    assert np.array_equal(B.where(c, a, b), np.where(c, a, b))
    assert B.where(c, 2.0, 3).dtype == np.float32
    assert B.where(c, np.arange(4), 1).dtype == np.int64
    with pytest.raises(RuntimeError, match="where expected condition to be a boolean tensor, but got a tensor "
                                           "with dtype Float"):
        B.where(a, a, b)
    with pytest.raises(RuntimeError, match="must match"):
        B.where(np.ones(3, bool), a, np.ones(5, np.float32))
    x = rng.standard_normal((5, 6)).astype(np.float32).T
    assert np.array_equal(B.clamp(x, -0.5, 0.5), np.clip(x, -0.5, 0.5))
    assert np.array_equal(B.clamp(x, min=0), np.maximum(x, 0)) and np.array_equal(B.clamp(x, max=0), np.minimum(x, 0))
    with pytest.raises(RuntimeError, match="At least one of 'min' or 'max' must not be None"):
        B.clamp(x)
    assert np.array_equal(B.binary(np.maximum, x, b[:1]), np.maximum(x, b[:1]))
    assert np.array_equal(B.binary(np.minimum, np.arange(3), 1.5), np.minimum(np.arange(3), 1.5).astype(np.float32))


# -- reductions -----------------------------------------------------------------------------

@st.composite
def array_and_dim(draw, min_side=1):
    shape = tuple(draw(st.lists(st.integers(min_side, 5), min_size=0, max_size=4)))
    dtype = draw(st.sampled_from([f32, f64]))
    a = draw(view_of(shape, dtype))
    nd = len(shape)
    if nd == 0:
        dim = draw(st.sampled_from([None, 0, -1]))
    else:
        dim = draw(st.one_of(st.none(), st.integers(-nd, nd - 1),
                             st.lists(st.integers(0, nd - 1), unique=True, min_size=1, max_size=nd).map(tuple)
                             .flatmap(lambda t: st.just(tuple(d - nd if i % 2 else d for i, d in enumerate(t))))))
    return a, dim, draw(st.booleans())


def np_axes(dim, nd):
    if dim is None:
        return tuple(range(nd))
    dims = dim if isinstance(dim, tuple) else (dim,)
    return tuple(d % nd for d in dims) if nd else ()


@SETTINGS
@given(array_and_dim())
def test_reductions_match_numpy(case):
    a, dim, keep = case
    axes = np_axes(dim, a.ndim)
    x = a.astype(np.float64)
    tol = dict(rtol=1e-4, atol=1e-4)
    for fn, ref in [(B.sum, x.sum(axis=axes, keepdims=keep)), (B.mean, x.mean(axis=axes, keepdims=keep)),
                    (B.amax, x.max(axis=axes, keepdims=keep)), (B.amin, x.min(axis=axes, keepdims=keep))]:
        got = fn(a, dim, keep)
        assert np.shape(got) == ref.shape and np.asarray(got).dtype == a.dtype, fn.__name__
        np.testing.assert_allclose(got, ref, **tol)
    lse = B.logsumexp(a, dim if dim is not None else tuple(range(a.ndim)), keep)
    np.testing.assert_allclose(lse, np.log(np.exp(x).sum(axis=axes, keepdims=keep)), **tol)
    n = int(np.prod([a.shape[d] for d in axes])) if a.ndim else 1
    if n > 1:
        np.testing.assert_allclose(B.var(a, dim, 1, keep), x.var(axis=axes, ddof=1, keepdims=keep), **tol)
        np.testing.assert_allclose(B.var(a, dim, 0, keep), x.var(axis=axes, keepdims=keep), **tol)


@SETTINGS
@given(st.data(), st.lists(st.integers(1, 5), min_size=1, max_size=4), st.booleans())
def test_argmax_argmin_match_numpy(data, shape, keep):
    a = data.draw(view_of(tuple(shape), f32))
    nd = len(shape)
    dim = data.draw(st.integers(-nd, nd - 1))
    assert np.array_equal(B.argmax(a, dim, keep), np.argmax(a, axis=dim, keepdims=keep))
    assert np.array_equal(B.argmin(a, dim, keep), np.argmin(a, axis=dim, keepdims=keep))
    assert B.argmax(a, dim).dtype == np.int64
    assert int(B.argmax(a)) == int(np.argmax(a)) and int(B.argmin(a)) == int(np.argmin(a))
    assert np.shape(B.argmax(a, None, True)) == (1,) * nd


@pytest.mark.parametrize("shape, dim", [((1 << 16,), None), ((300, 200), 0), ((300, 200), 1), ((300, 200), (0, 1)),
                                        ((40, 50, 30), (1, 2)), ((40, 50, 30), (0, 1)), ((40, 50, 30), 1),
                                        ((40, 50, 30), (0, 2))])
@pytest.mark.parametrize("keep", [False, True])
def test_large_float_sums_are_accurate(shape, dim, keep):
    a = (np.random.default_rng(0).standard_normal(shape) + 0.5).astype(np.float32)
    axes = np_axes(dim, a.ndim)
    ref = a.astype(np.float64).sum(axis=axes, keepdims=keep)
    got = B.sum(a, dim, keep)
    assert got.dtype == np.float32 and got.shape == ref.shape
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(B.mean(a, dim, keep), a.astype(np.float64).mean(axis=axes, keepdims=keep), atol=1e-5)
    np.testing.assert_allclose(B.var(a, dim, 1, keep), a.astype(np.float64).var(axis=axes, ddof=1, keepdims=keep),
                               rtol=1e-4)


def test_reduction_dtypes_and_errors():
    assert B.sum(np.arange(4, dtype=np.int32)).dtype == np.int64
    assert B.sum(np.array([True, True])).dtype == np.int64 and B.sum(np.array([True, True])) == 2
    assert B.sum(np.ones(3, f16)).dtype == f16
    assert B.logsumexp(np.arange(3), 0).dtype == np.float32
    assert B.logsumexp(np.full(3, -np.inf, np.float32), 0) == -np.inf
    assert np.allclose(B.logsumexp(np.array([1000.0, 1000.0], np.float32), 0), 1000 + np.log(2))
    with pytest.raises(RuntimeError, match="mean\\(\\): could not infer output dtype.*Got: Long"):
        B.mean(np.arange(3))
    with pytest.raises(RuntimeError, match="std and var only support floating point"):
        B.var(np.arange(3))
    with pytest.raises(RuntimeError, match="dim 0 appears multiple times in the list of dims"):
        B.sum(np.ones((2, 3)), (0, -2))
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"):
        B.sum(np.ones((2, 3)), 2)
    with pytest.raises(RuntimeError, match="max\\(\\): Expected reduction dim to be specified for input.numel"):
        B.amax(np.ones(0))
    with pytest.raises(IndexError, match="amax\\(\\): Expected reduction dim 0 to have non-zero size."):
        B.amax(np.ones((0, 3)), 0)
    assert B.amax(np.ones((0, 3)), 1).shape == (0,)
    with pytest.raises(IndexError, match="argmax\\(\\): Expected reduction dim to be specified"):
        B.argmax(np.ones((0, 3)))
    with pytest.raises(IndexError, match="argmin\\(\\): Expected reduction dim 0 to have non-zero size."):
        B.argmin(np.ones((0, 3)), 0)
    assert B.argmax(np.array(5.0), 0) == 0 and B.sum(np.array(5.0), 0) == 5.0


def test_reduction_dtypes_match_torch():
    torch = pytest.importorskip("torch")
    for arr in (np.arange(6, dtype=np.int32).reshape(2, 3), np.ones((2, 3), bool), np.ones((2, 3), np.float32)):
        t = torch.from_numpy(arr)
        assert as_torch_dtype(torch, B.sum(arr, 1).dtype) == t.sum(1).dtype
        assert as_torch_dtype(torch, B.argmax(arr.astype(np.float32), 1).dtype) == t.float().argmax(1).dtype
        assert as_torch_dtype(torch, B.logsumexp(arr, 1).dtype) == t.logsumexp(1).dtype


# -- matmul, cat, stack ---------------------------------------------------------------------

@st.composite
def matmul_shapes(draw):
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    batch_a, batch_b = draw(broadcast_pair(max_ndim=2))
    a = (k,) if draw(st.booleans()) else batch_a + (n, k)
    b = (k,) if draw(st.booleans()) else batch_b + (k, m)
    return a, b


@SETTINGS
@given(matmul_shapes(), st.integers(0, 2**16))
def test_matmul_matches_broadcast_multiply_sum(shapes, seed):
    sa, sb = shapes
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(sa).astype(np.float32), rng.standard_normal(sb).astype(np.float32)
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    ref = (a2[..., :, :, None].astype(np.float64) * b2[..., None, :, :]).sum(-2)
    ref = ref[..., 0, :] if a.ndim == 1 else ref
    ref = ref[..., 0] if b.ndim == 1 else ref
    got = B.matmul(a, b)
    assert got.shape == ref.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


MATMUL_ERRORS = [
    ((3,), (4,), "inconsistent tensor size, expected tensor [3] and src [4] to have the same number of elements, "
                 "but got 3 and 4 elements respectively"),
    ((2, 3), (4,), "size mismatch, got input (2), mat (2x3), vec (4)"),
    ((7, 2, 3), (4,), "size mismatch, got input (14), mat (14x3), vec (4)"),
    ((3,), (4, 5), "mat1 and mat2 shapes cannot be multiplied (1x3 and 4x5)"),
    ((2, 3), (4, 5), "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"),
    ((7, 2, 3), (4, 5), "mat1 and mat2 shapes cannot be multiplied (14x3 and 4x5)"),
    ((2, 3), (7, 4, 5), "Expected size for first two dimensions of batch2 tensor to be: [7, 3] but got: [7, 4]."),
    ((7, 2, 3), (6, 1, 4, 5), "Expected size for first two dimensions of batch2 tensor to be: [42, 3] but got: "
                              "[42, 4]."),
    ((6, 2, 3), (7, 3, 5), "The size of tensor a (6) must match the size of tensor b (7) at non-singleton dimension 0"),
    ((), (3,), "both arguments to matmul need to be at least 1D, but they are 0D and 1D"),
]


@pytest.mark.parametrize("sa, sb, msg", MATMUL_ERRORS)
def test_matmul_errors_are_pytorchs(sa, sb, msg):
    with pytest.raises(RuntimeError) as e:
        B.matmul(np.ones(sa, np.float32), np.ones(sb, np.float32))
    assert str(e.value) == msg


@pytest.mark.parametrize("sa, sb, msg", MATMUL_ERRORS)
def test_matmul_error_messages_equal_torchs(sa, sb, msg):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as e:
        torch.matmul(torch.ones(sa), torch.ones(sb))
    assert str(e.value) == msg


@pytest.mark.parametrize("sa, sb", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 2)),
                                    ((4, 2, 3), (4, 3, 2)), ((4, 2, 3), (3, 2))])
@pytest.mark.parametrize("da, db", [(f32, f64), (i64, i32), (np.int16, u8)])
def test_matmul_dtype_mismatch_message(sa, sb, da, db):
    with pytest.raises(RuntimeError) as e:
        B.matmul(np.ones(sa, da), np.ones(sb, db))
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as t:
        torch.matmul(torch.ones(sa, dtype=as_torch_dtype(torch, da)), torch.ones(sb, dtype=as_torch_dtype(torch, db)))
    assert str(e.value) == str(t.value)


@SETTINGS
@given(st.data(), st.lists(st.integers(1, 4), min_size=1, max_size=3), st.integers(1, 3))
def test_cat_stack_match_numpy(data, shape, count):
    nd = len(shape)
    dim = data.draw(st.integers(-nd, nd - 1))
    dtypes = [data.draw(st.sampled_from([f32, i64, b_])) for _ in range(count)]
    parts = []
    for dt in dtypes:
        s = list(shape)
        s[dim] = data.draw(st.integers(0, 3))
        parts.append(data.draw(view_of(tuple(s), dt)) if s[dim] else np.ones(s, dt))
    dt = B.result_type(*parts)
    got = B.cat(parts, dim)
    assert got.dtype == dt and np.array_equal(got, np.concatenate([p.astype(dt) for p in parts], axis=dim))
    same = [data.draw(view_of(tuple(shape), d)) for d in dtypes]
    sdim = data.draw(st.integers(-nd - 1, nd))
    got = B.stack(same, sdim)
    assert got.dtype == B.result_type(*same)
    assert np.array_equal(got, np.stack([p.astype(got.dtype) for p in same], axis=sdim))


def test_cat_stack_errors():
    for fn, args, msg in [
        (B.cat, ([np.ones((2, 3)), np.ones(2)],), "Tensors must have same number of dimensions: got 2 and 1"),
        (B.cat, ([np.ones((2, 3)), np.ones((2, 4))],), "Sizes of tensors must match except in dimension 0. Expected "
                                                       "size 3 but got size 4 for tensor number 1 in the list."),
        (B.cat, ([np.ones(()), np.ones(())],), "zero-dimensional tensor (at position 0) cannot be concatenated"),
        (B.stack, ([np.ones(2), np.ones(3)],), "stack expects each tensor to be equal size, but got [2] at entry 0 "
                                               "and [3] at entry 1"),
    ]:
        with pytest.raises(RuntimeError) as e:
            fn(*args)
        assert str(e.value) == msg
    with pytest.raises(ValueError) as e:  # PyTorch 2.13's class for this one
        B.cat([])
    assert str(e.value) == "torch.cat(): expected a non-empty list of Tensors"


def test_large_logsumexp_split_across_threads_matches_float64():
    """Above the threading threshold exp runs in slices on helper threads: the result must not change."""
    from course_lib import kernels as B
    a = np.random.default_rng(7).standard_normal((3, B._PARALLEL_MIN_UNARY // 2 + 11)).astype(np.float32)
    ref = np.log(np.exp(a.astype(np.float64) - a.max()).sum()) + a.max()
    np.testing.assert_allclose(B.logsumexp(a, (0, 1)), ref, rtol=1e-6)
    ref1 = np.log(np.exp(a.astype(np.float64)).sum(1))
    np.testing.assert_allclose(B.logsumexp(a, 1), ref1, rtol=1e-6)
    x = a.copy()
    assert B.exp_inplace(x) is x and np.allclose(x, np.exp(a))


def test_large_full_logsumexp_pieces_add_up_and_keep_non_finite_rules(monkeypatch):
    """A whole-array logsumexp runs shift+exp+sum per core piece; the pieces' sums must give PyTorch's answers,
    -inf / inf / nan included, with keepdim's shape."""
    calls = []
    run = B._run_pieces
    monkeypatch.setattr(B, "_run_pieces", lambda jobs: (calls.append(len(jobs)), run(jobs))[1])
    a = np.random.default_rng(8).standard_normal((2, B._PARALLEL_MIN_UNARY // 2 + 5)).astype(np.float32) * 4
    ref = np.log(np.exp(a.astype(np.float64)).sum())
    np.testing.assert_allclose(B.logsumexp(a, None), ref, rtol=1e-6)
    assert B.logsumexp(a, (0, 1), keepdim=True).shape == (1, 1) and B.logsumexp(a, (1, 0)).shape == ()
    assert calls == ([B._threads] * 3 if B._threads > 1 else [])
    assert B.logsumexp(np.full_like(a, -np.inf), None) == -np.inf
    b = a.copy()
    b[1, 7] = np.inf
    assert B.logsumexp(b, None) == np.inf
    b[0, 3] = np.nan
    assert np.isnan(B.logsumexp(b, None))
