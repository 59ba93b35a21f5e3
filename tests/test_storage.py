"""Storage layer (notebook 01): index math, views that share the buffer, writes through views, errors.

Property tests run random chains of view operations on a course tensor and on NumPy's views of the
same memory, and compare element for element; where PyTorch is installed the same chains run on torch
and shapes, strides, offsets, contiguity and "can this be a view" must agree.
"""
import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course_lib import factories, storage
from course_lib.factories import from_numpy
from course_lib.storage import (StridedTensor, contiguous_strides, index_to_position, is_contiguous_layout,
                                position_to_index, view_strides)

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
shapes = st.lists(st.integers(1, 4), min_size=0, max_size=4).map(tuple)
shapes_with_zero = st.lists(st.integers(0, 4), min_size=0, max_size=4).map(tuple)


def elem_strides(a):
    return tuple(s // a.itemsize for s in a.strides)


# -- index math ---------------------------------------------------------------------------------

@SETTINGS
@given(shapes)
def test_contiguous_strides_match_numpy(shape):
    assert contiguous_strides(shape) == elem_strides(np.empty(shape, np.float32))


@SETTINGS
@given(shapes, st.data())
def test_index_position_round_trip(shape, data):
    if not shape:
        assert index_to_position((), ()) == 0 and position_to_index(0, ()) == ()
        return
    index = tuple(data.draw(st.integers(0, n - 1)) for n in shape)
    pos = index_to_position(index, contiguous_strides(shape))
    assert pos == np.ravel_multi_index(index, shape)
    assert position_to_index(pos, shape) == index


def test_index_to_position_with_offset():
    assert index_to_position((1, 2), (1, 4), 3) == 3 + 1 + 8


@SETTINGS
@given(shapes, st.data())
def test_is_contiguous_layout_matches_numpy(shape, data):
    a = np.empty(shape, np.float64)
    if shape:
        a = np.transpose(a, data.draw(st.permutations(range(len(shape)))))
    assert is_contiguous_layout(a.shape, elem_strides(a)) == a.flags.c_contiguous


# -- random chains of views vs NumPy ----------------------------------------------------------

def _index_key(draw, shape):
    """A basic index: ints (also negative), slices with positive steps, None, at most one `...`."""
    key, d, used_ellipsis = [], 0, False
    # after a `...` the key must run to the last dim: the entries after it index the trailing dims
    while d < len(shape) and (used_ellipsis or draw(st.booleans())):
        kind = draw(st.sampled_from(["int", "slice", "slice", "none", "ellipsis"]))
        n = shape[d]
        if kind == "int" and n > 0:
            key.append(draw(st.integers(-n, n - 1)))
            d += 1
        elif kind == "none":
            key.append(None)
        elif kind == "ellipsis" and not used_ellipsis:
            key.append(Ellipsis)
            used_ellipsis = True
            d = len(shape) - draw(st.integers(0, len(shape) - d))  # the ellipsis eats some dims
        else:
            start = draw(st.none() | st.integers(-n - 1, n + 1))
            stop = draw(st.none() | st.integers(-n - 1, n + 1))
            step = draw(st.none() | st.integers(1, 3))
            key.append(slice(start, stop, step))
            d += 1
    return key[0] if len(key) == 1 and draw(st.booleans()) else tuple(key)


def _apply(op, t, a):
    """Apply one view op to the course tensor `t` and the NumPy array `a`; return (t, a, copied)."""
    name, args = op
    if name == "transpose":
        return t.transpose(*args), np.swapaxes(a, *args), False
    if name == "permute":
        return t.permute(*args), np.transpose(a, args), False
    if name == "index":
        key = args if isinstance(args, tuple) else (args,)
        if Ellipsis not in key:  # NumPy returns a copied scalar, not a 0-d view, when ints use up every dim
            key = key + (Ellipsis,)
        return t[args], a[key], False
    if name == "expand":
        lead = len(args) - a.ndim
        sizes = tuple(a.shape[d - lead] if n == -1 else n for d, n in enumerate(args))  # NumPy has no -1 here
        return t.expand(*args), np.broadcast_to(a, sizes), False
    if name == "unsqueeze":
        return t.unsqueeze(args), np.expand_dims(a, args % (a.ndim + 1)), False
    if name == "squeeze":
        if args is None:
            return t.squeeze(), np.squeeze(a), False
        d = args % a.ndim
        return t.squeeze(args), (np.squeeze(a, d) if a.shape[d] == 1 else a), False
    if name in ("view", "reshape", "flatten"):
        new_shape = args if name != "flatten" else storage.flatten_shape(a.shape, *args)
        try:
            a2 = a.reshape(new_shape, copy=False)
            can = True
        except ValueError:
            can = False
        if name == "view":
            if not can:
                with pytest.raises(RuntimeError, match="view size is not compatible"):
                    t.view(new_shape)
                return t, a, False
            return t.view(new_shape), a2, False
        t2 = t.reshape(new_shape) if name == "reshape" else t.flatten(*args)
        return t2, (a2 if can else a.reshape(new_shape)), not can
    raise AssertionError(name)


@st.composite
def _op(draw, shape):
    nd = len(shape)
    names = ["index", "unsqueeze", "squeeze", "expand", "view", "reshape", "flatten"]
    if nd >= 1:
        names += ["transpose", "permute"]
    name = draw(st.sampled_from(names))
    if name == "transpose":
        return name, (draw(st.integers(-nd, nd - 1)), draw(st.integers(-nd, nd - 1)))
    if name == "permute":
        return name, tuple(draw(st.permutations(range(nd))))
    if name == "index":
        return name, _index_key(draw, shape)
    if name == "expand":
        lead = draw(st.lists(st.integers(0, 3), max_size=2))
        return name, tuple(lead) + tuple(draw(st.integers(1, 3)) if n == 1 else draw(st.sampled_from([n, -1]))
                                         for n in shape)
    if name == "unsqueeze":
        return name, draw(st.integers(-nd - 1, nd))
    if name == "squeeze":
        return name, (None if nd == 0 or draw(st.booleans()) else draw(st.integers(-nd, nd - 1)))
    if name == "flatten":
        if nd == 0:
            return name, (0, -1)
        a, b = sorted(draw(st.integers(0, nd - 1)) for _ in range(2))
        return name, (a, b)
    # view / reshape: a random factorisation of numel (sometimes with a -1)
    numel = int(np.prod(shape))
    factors, rest = [], numel
    for _ in range(draw(st.integers(0, 3))):
        divisors = [k for k in range(1, rest + 1) if rest % k == 0] if rest else [0, 1]
        k = draw(st.sampled_from(divisors))
        factors.append(k)
        rest = rest // k if k else rest
    new = factors + [rest]
    if draw(st.booleans()) and numel:
        new[draw(st.integers(0, len(new) - 1))] = -1
    return name, tuple(draw(st.permutations(new)))


@st.composite
def chains(draw, shape_strategy=shapes):
    shape = draw(shape_strategy)
    ops, cur = [], np.empty(shape)
    for _ in range(draw(st.integers(1, 5))):
        op = draw(_op(cur.shape))
        ops.append(op)
        cur = _apply(op, from_numpy(cur), cur)[1]  # the same layout on both sides
    return shape, ops


@SETTINGS
@given(chains(shapes_with_zero))
def test_view_chains_match_numpy_and_share_the_buffer(case):
    shape, ops = case
    base = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    t, a, copied = from_numpy(base), base, False
    for op in ops:
        t, a, c = _apply(op, t, a)
        copied |= c
        assert t.shape == a.shape, (op, t.shape, a.shape)
        assert np.array_equal(t.numpy(), a), op
        assert np.array_equal(storage.StridedTensor.numpy(t), np.asarray(t.tolist(), np.float32).reshape(t.shape))
    if copied or a.size == 0:
        return
    # no copy: the tensor reads the base's memory, and a write through it shows in the base
    assert np.shares_memory(t.numpy(), base)
    index = tuple(i // 2 for i in t.shape)
    t[index] = -1.0
    assert base[np.unravel_index(index_to_position(index, t.stride(), t.storage_offset()), base.shape)] == -1
    assert a[index] == -1 and (base == -1).any()


@SETTINGS
@given(chains())
def test_contiguous_gives_c_order(case):
    shape, ops = case
    t = factories.arange(int(np.prod(shape))).view(shape) if shape else factories.tensor(0)
    for op in ops:
        t = _apply(op, t, t.numpy())[0]
    c = t.contiguous()
    # size-1 dims may keep any stride, and so may every dim of an empty tensor (as in PyTorch)
    big = [d for d, n in enumerate(c.shape) if n != 1] if c.numel() else []
    assert c.is_contiguous() and [c.stride(d) for d in big] == [contiguous_strides(c.shape)[d] for d in big]
    assert np.array_equal(c.numpy(), t.numpy()) and c.numpy().flags.c_contiguous
    assert (c is t) == t.is_contiguous()


# -- the same chains against PyTorch ----------------------------------------------------------

def _torch_apply(op, x):
    name, args = op
    if name == "transpose":
        return x.transpose(*args)
    if name == "permute":
        return x.permute(*args)
    if name == "index":
        return x[args]
    if name == "expand":
        return x.expand(args)
    if name == "unsqueeze":
        return x.unsqueeze(args)
    if name == "squeeze":
        return x.squeeze() if args is None else x.squeeze(args)
    if name == "flatten":
        return x.flatten(*args)
    return getattr(x, name)(args)


@SETTINGS
@given(chains(shapes_with_zero))
def test_view_chains_match_torch(case):
    torch = pytest.importorskip("torch")
    shape, ops = case
    base = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    t, x = from_numpy(base.copy()), torch.from_numpy(base.copy())
    for op in ops:
        try:
            x2 = _torch_apply(op, x)
        except RuntimeError as e:
            assert op[0] == "view", (op, e)
            with pytest.raises(RuntimeError) as ours:
                t.view(op[1])
            assert str(ours.value) == str(e)
            continue
        t = {"view": lambda: t.view(op[1])}.get(op[0], lambda: _apply(op, t, t.numpy())[0])()
        x = x2
        assert t.shape == tuple(x.shape), op
        assert np.array_equal(t.numpy(), x.numpy()), op
        assert t.is_contiguous() == x.is_contiguous(), (op, t.stride(), x.stride())
        if x.numel():
            big = [d for d, n in enumerate(x.shape) if n != 1]  # a size-1 dim's stride is never used
            assert [t.stride(d) for d in big] == [x.stride(d) for d in big], (op, t.stride(), x.stride())
            assert t.storage_offset() == x.storage_offset(), op


@SETTINGS
@given(shapes, st.data())
def test_view_raises_exactly_when_torch_does(shape, data):
    torch = pytest.importorskip("torch")
    x = torch.zeros(shape)
    t = factories.zeros(shape)
    if shape:
        perm = data.draw(st.permutations(range(len(shape))))
        x, t = x.permute(perm), t.permute(perm)
        key = tuple(slice(None, None, data.draw(st.integers(1, 2))) for _ in shape)
        x, t = x[key], t[key]
    new = data.draw(st.permutations(list(x.shape) + [1] * data.draw(st.integers(0, 1))))
    new = tuple(new)
    if len(new) > 1 and data.draw(st.booleans()):
        new = (new[0] * new[1],) + new[2:]
    try:
        expected = x.view(new).stride()
    except RuntimeError:
        expected = None
    got = view_strides(t.shape, t.stride(), new)
    assert (got is None) == (expected is None), (t.shape, t.stride(), new, got, expected)


# -- writes through views -----------------------------------------------------------------------

def test_writes_go_through_views():
    base = np.zeros((3, 4), np.float32)
    t = from_numpy(base)
    t[:, 1].fill_(7)
    t[0, ::2] = -1
    t.T[3].add_(100)
    t[2:, :].mul_(2)
    t[1].copy_(factories.tensor([1.0, 2.0, 3.0, 4.0]))
    ref = np.zeros((3, 4), np.float32)
    ref[:, 1] = 7
    ref[0, ::2] = -1
    ref[:, 3] += 100
    ref[2:, :] *= 2
    ref[1] = [1, 2, 3, 4]
    assert np.array_equal(base, ref)


def test_numpy_and_from_numpy_are_zero_copy():
    a = np.arange(12.0).reshape(3, 4)[:, ::2]
    t = from_numpy(a)
    assert np.shares_memory(t.numpy(), a) and t.stride() == (4, 2)
    big = factories.zeros(200, 300)
    view = big.T[::2, 1:]
    assert np.shares_memory(view.numpy(), big.numpy()) and view.numpy().base is not None
    assert not np.shares_memory(factories.tensor(a).numpy(), a)


def test_reshape_copies_only_when_it_must():
    x = factories.arange(6).view(2, 3)
    assert np.shares_memory(x.reshape(3, 2).numpy(), x.numpy())
    assert not np.shares_memory(x.t().reshape(6).numpy(), x.numpy())
    assert x.t().reshape(6).tolist() == [0, 3, 1, 4, 2, 5]


def test_small_views_are_new_objects():
    v = factories.arange(3)
    assert v.t() is not v and v.t().tolist() == [0, 1, 2]
    s = factories.tensor(2.0)
    assert s.transpose(0, -1).shape == () and s.T.shape == ()


def test_creation_dtypes():
    assert factories.tensor([1, 2]).dtype is storage.int64
    assert factories.tensor([1.0]).dtype is storage.float32
    assert factories.tensor([True]).dtype is storage.bool_
    assert factories.zeros(2).dtype is storage.float32 and factories.arange(3).dtype is storage.int64
    assert factories.arange(0, 1, 0.5).dtype is storage.float32
    assert factories.tensor(np.zeros(2)).dtype is storage.float64


# -- errors: PyTorch's exception types, messages naming shapes and dims -------------------------

def _torch_error(fn):
    torch = pytest.importorskip("torch")
    try:
        fn(torch)
    except Exception as e:  # noqa: BLE001 - we want whatever torch raises
        return type(e), str(e)
    raise AssertionError("torch did not raise")


@pytest.mark.parametrize("key, dim, size", [((3,), 0, 3), ((slice(None), 4), 1, 4), ((-4,), 0, 3),
                                            ((0, -5), 1, 4)])
def test_index_out_of_range(key, dim, size):
    t = factories.zeros(3, 4)
    with pytest.raises(IndexError, match=f"dimension {dim} with size {size}"):
        t[key]
    with pytest.raises(IndexError, match=f"dimension {dim} with size {size}"):
        t[key] = 1.0


def test_too_many_indices_and_negative_step():
    t = factories.zeros(2, 3)
    with pytest.raises(IndexError, match="too many indices for tensor of dimension 2"):
        t[0, 0, 0]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        t[::-1]


@pytest.mark.parametrize("make", [
    lambda m: m.zeros(2, 3).t().view(6),
    lambda m: m.zeros(2, 3, 4).permute(1, 0, 2).view(6, 4),
    lambda m: m.zeros(2, 3).view(4, 2),
    lambda m: m.zeros(2, 3).view(-1, -1),
    lambda m: m.zeros(2, 3).expand(4, 4),
    lambda m: m.zeros(2, 3).expand(2, -2),
    lambda m: m.zeros(2, 3).permute(0, 0),
    lambda m: m.zeros(2, 3).permute(0, 2),
    lambda m: m.zeros(2, 3).transpose(0, 2),
    lambda m: m.zeros(2, 3).flatten(1, 0),
    lambda m: m.zeros(2, 3)[5],
    lambda m: m.tensor(1.0).transpose(0, 1),
])
def test_errors_match_torch(make):
    torch_type, torch_msg = _torch_error(make)
    with pytest.raises(torch_type) as ours:
        make(factories)
    if "view" in torch_msg or "expand" in torch_msg or "invalid" in torch_msg or "out of" in torch_msg:
        assert str(ours.value) == torch_msg


def test_errors_name_shapes_and_dims():
    t = factories.zeros(2, 3)
    with pytest.raises(RuntimeError, match=r"input.dim\(\) = 2 \(shape \(2, 3\)\) is not equal to len\(dims\) = 3"):
        t.permute(1, 0, 2)
    with pytest.raises(RuntimeError, match=r"duplicate dims.*\(1, 1\)"):
        t.permute(1, 1)
    with pytest.raises(IndexError, match=r"range of \[-2, 1\], but got 2"):
        t.permute(0, 2)
    with pytest.raises(RuntimeError, match=r"Target sizes: \[4, 4\].  Tensor sizes: \[2, 3\]"):
        t.expand(4, 4)
    with pytest.raises(RuntimeError, match=r"expand: the number of sizes provided \(1\)"):
        t.expand(3)
    with pytest.raises(RuntimeError, match=r"shape '\[4, 2\]' is invalid for input of size 6"):
        t.view(4, 2)
    with pytest.raises(RuntimeError, match="need a buffer of 7 elements, but it has 6"):
        t.as_strided((2, 2), (3, 3))


@pytest.mark.parametrize("shape", list(itertools.product([1, 2, 3], repeat=2)))
def test_view_strides_of_contiguous_tensors(shape):
    """Any reshape of a contiguous tensor is a view with contiguous strides (up to size-1 dims)."""
    n = int(np.prod(shape))
    for new in [(n,), (1, n), (n, 1)]:
        got = view_strides(shape, contiguous_strides(shape), new)
        assert got is not None and is_contiguous_layout(new, got)


def test_empty_tensors():
    """Regressions: an empty tensor is contiguous whatever its strides; indexing one may move the offset."""
    t = factories.zeros(0, 2, 2).transpose(1, 2)
    assert t.is_contiguous()
    e = factories.zeros(2, 0)
    assert e[1].shape == (0,) and e[1].storage_offset() == 1 and e[1:, :].numel() == 0


def test_writes_into_an_expanded_view_are_refused_like_pytorch():
    """Several elements share one cell: an element-wise write has no single answer (PyTorch raises too)."""
    base = from_numpy(np.zeros(3, np.float32))
    wide = base.expand(2, 3)
    msg = "more than one element of the written-to tensor refers to a single memory location"
    for op in (lambda: wide.add_(1), lambda: wide.mul_(2), lambda: wide.copy_(from_numpy(np.ones((2, 3), np.float32))),
               lambda: wide.__setitem__(slice(None), np.ones((2, 3), np.float32))):
        with pytest.raises(RuntimeError, match=msg):
            op()
    assert base.numpy().tolist() == [0.0, 0.0, 0.0]  # nothing was written
    wide.fill_(2.0)  # one number everywhere is unambiguous, as in PyTorch
    wide[1] = from_numpy(np.arange(3, dtype=np.float32))  # a row of the expanded view has no overlap
    assert base.numpy().tolist() == [0.0, 1.0, 2.0]


def test_methods_added_by_extend_carry_their_class_name():
    """Classes grow across cells with storage._extend; errors and tracebacks must still name the real class."""
    import course_lib
    from course_lib.utils.data import DataLoader
    assert course_lib.Tensor.view.__qualname__ == "Tensor.view"
    assert course_lib.Tensor.requires_grad.fget.__qualname__ == "Tensor.requires_grad"
    with pytest.raises(TypeError, match=r"^DataLoader.__init__\(\) got an unexpected keyword argument 'foo'"):
        DataLoader([1], foo=1)
