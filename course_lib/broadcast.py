import builtins

import numpy as np

from course_lib.storage import StridedTensor, dtype_of, normalize_dim


def broadcast_shapes(*shapes) -> tuple:
    """The shape two or more shapes broadcast to, by PyTorch's rules (RuntimeError if they don't)."""
    ndim = builtins.max(len(s) for s in shapes)
    result = [1] * ndim
    for shape in shapes:
        for i in range(1, len(shape) + 1):
            n, r = shape[-i], result[-i]
            if n == r or n == 1:
                continue
            if r == 1:
                result[-i] = n
            else:
                a, b = (r, n)
                raise RuntimeError(f"The size of tensor a ({a}) must match the size of tensor b ({b}) at "
                                   f"non-singleton dimension {ndim - i}")
    return tuple(result)


def broadcast_to(t: StridedTensor, shape) -> StridedTensor:
    """A zero-copy view of `t` with `shape`: stretched dims get stride 0."""
    return t.expand(*shape)


def unbroadcast(grad, shape):
    """Sum `grad` back down to `shape`: the inverse of broadcasting, used by the autograd engine."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + d for d, n in enumerate(shape) if n == 1 and grad.shape[lead + d] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


# -- dtype promotion -------------------------------------------------------------

_SCALAR_DTYPES = {builtins.bool: np.dtype(np.bool_), int: np.dtype(np.int64), float: np.dtype(np.float32)}
_CATEGORY = {"b": 0, "i": 1, "u": 1, "f": 2}
_promotions = {}
_WEAK = (float, int)


def _priority_and_dtype(x):
    """(priority, NumPy dtype): dimensioned tensors outrank 0-dim tensors, which outrank Python numbers."""
    t = type(x)
    if t in _SCALAR_DTYPES:
        return 0, _SCALAR_DTYPES[t]
    if isinstance(x, (int, float, np.generic)) and not hasattr(x, "shape"):
        return 0, _SCALAR_DTYPES[float if isinstance(x, float) else int]
    if isinstance(x, np.generic):
        return 1, x.dtype
    return (2 if x.ndim else 1), x.dtype


def result_type(*operands):
    """The dtype PyTorch gives an op on these operands (arrays stand for tensors, Python numbers for scalars).

    The highest category (bool < integer < floating) wins; within it, operands of the highest
    priority decide. So int64 tensor + 2.5 is float32, float16 tensor + 0-dim float64 is float16.
    """
    info = tuple(_priority_and_dtype(x) for x in operands)
    try:
        return _promotions[info]
    except KeyError:
        pass
    cat = builtins.max(_CATEGORY[d.kind] for _, d in info)
    top = [(p, d) for p, d in info if _CATEGORY[d.kind] == cat]
    best = builtins.max(p for p, _ in top)
    result = np.result_type(*[d for p, d in top if p == best])
    _promotions[info] = result
    return result


def _operands(a, b):
    """Check that a and b broadcast, then cast array operands to the promoted dtype."""
    # the common cases first: a Python number never changes a float tensor's dtype
    if type(a) is np.ndarray:
        if type(b) in _WEAK and a.dtype.kind == "f":
            return a, b
    elif type(a) in _WEAK and type(b) is np.ndarray and b.dtype.kind == "f":
        return a, b
    a_arr, b_arr = hasattr(a, "shape"), hasattr(b, "shape")
    if a_arr and b_arr:
        if a.shape != b.shape:
            broadcast_shapes(a.shape, b.shape)
        if a.dtype == b.dtype:
            return a, b
    dt = result_type(a, b)
    if a_arr and a.dtype != dt:
        a = a.astype(dt)
    if b_arr and b.dtype != dt:
        b = b.astype(dt)
    return a, b


def binary(ufunc, a, b):
    """Apply a NumPy ufunc to two operands with PyTorch's broadcasting and type promotion."""
    a, b = _operands(a, b)
    return ufunc(a, b)


def true_divide(a, b):
    """Division always gives a floating result (int / int is float32, as in PyTorch)."""
    a, b = _operands(a, b)
    out_dtype = a.dtype if hasattr(a, "dtype") else b.dtype
    if out_dtype.kind != "f":
        return np.true_divide(a, b, dtype=np.float32)
    return np.true_divide(a, b)


def compare(ufunc, a, b):
    """Comparisons promote like arithmetic and return bool."""
    a, b = _operands(a, b)
    return ufunc(a, b)


def where(cond, a, b):
    """Elements of a where cond is true, else of b, all three broadcast together."""
    shapes = [np.shape(x) for x in (cond, a, b)]
    broadcast_shapes(*shapes)
    if cond.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                           f"{dtype_of(cond).name}")
    a, b = _operands(a, b)
    return np.where(cond, a, b)


def clamp(a, min=None, max=None):
    """Limit every element to [min, max] (either bound may be None)."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if min is not None:
        a = binary(np.maximum, a, min)
    if max is not None:
        a = binary(np.minimum, a, max)
    return a


# -- reductions --------------------------------------------------------------------

def reduce_dims(dim, ndim):
    """Normalize `dim` (None, an int, or a tuple of ints, negatives allowed) to a tuple of axes."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (tuple, list)):
        axes = tuple(normalize_dim(d, ndim) for d in dim)
        if len(set(axes)) != len(axes):
            raise RuntimeError(f"dim {axes} appears multiple times in the list of dims")
        return axes
    return (normalize_dim(dim, ndim),) if ndim else ()


def _sum_dtype(a):
    return np.int64 if a.dtype.kind in "biu" else None


def sum(a, dim=None, keepdim=False):
    """Sum over `dim` (all dims when None); integer and bool sums are int64, as in PyTorch."""
    return a.sum(axis=reduce_dims(dim, a.ndim), keepdims=keepdim, dtype=_sum_dtype(a))


def mean(a, dim=None, keepdim=False):
    if a.dtype.kind != "f":
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a floating point "
                           f"or complex dtype. Got: {dtype_of(a).name}")
    return a.mean(axis=reduce_dims(dim, a.ndim), keepdims=keepdim)


def _check_nonempty(a, name, dim=None):
    if a.size == 0:
        where = "" if dim is None else f" on dimension {dim}"
        raise IndexError(f"{name}(): Expected reduction dim{where} to have non-zero size (shape {a.shape})")


def amax(a, dim=None, keepdim=False):
    _check_nonempty(a, "max")
    return a.max(axis=reduce_dims(dim, a.ndim), keepdims=keepdim)


def amin(a, dim=None, keepdim=False):
    _check_nonempty(a, "min")
    return a.min(axis=reduce_dims(dim, a.ndim), keepdims=keepdim)


def argmax(a, dim=None, keepdim=False):
    """Index of the largest element along `dim` (of the flattened array when None), int64."""
    _check_nonempty(a, "argmax")
    if dim is None:
        out = np.argmax(a.reshape(-1))
        return out.reshape((1,) * a.ndim) if keepdim else out
    return np.argmax(a, axis=normalize_dim(dim, a.ndim), keepdims=keepdim)


def argmin(a, dim=None, keepdim=False):
    _check_nonempty(a, "argmin")
    if dim is None:
        out = np.argmin(a.reshape(-1))
        return out.reshape((1,) * a.ndim) if keepdim else out
    return np.argmin(a, axis=normalize_dim(dim, a.ndim), keepdims=keepdim)


def logsumexp(a, dim, keepdim=False):
    """log(sum(exp(a))) computed stably: subtract the max first so exp never overflows."""
    axes = reduce_dims(dim, a.ndim)
    m = a.max(axis=axes, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    out = np.log(np.exp(a - m).sum(axis=axes, keepdims=True)) + m
    return out if keepdim else out.reshape([n for d, n in enumerate(out.shape) if d not in axes])


def var(a, dim=None, correction=1, keepdim=False):
    """Variance with Bessel's correction by default (divides by N - 1), as PyTorch."""
    axes = reduce_dims(dim, a.ndim)
    return a.var(axis=axes, ddof=correction, keepdims=keepdim)


# -- matmul, cat, stack --------------------------------------------------------

def _shape_str(shape):
    return "x".join(str(n) for n in shape)


def matmul(a, b):
    """Matrix product with PyTorch's rules for 1-D, 2-D and batched (broadcast) operands."""
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {a.ndim}D and {b.ndim}D")
    if a.dtype != b.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {dtype_of(a).name} != "
                           f"{dtype_of(b).name}")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        if a.ndim == 1 and b.ndim == 1:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{k_a}] and src [{k_b}] to have the "
                               f"same number of elements, but got {k_a} and {k_b} elements respectively")
        rows_a = (1, k_a) if a.ndim == 1 else (builtins.max(1, int(np.prod(a.shape[:-1]))), k_a)
        if b.ndim <= 2:
            shape_b = (k_b, 1) if b.ndim == 1 else b.shape
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_shape_str(rows_a)} and "
                               f"{_shape_str(shape_b)})")
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{b.shape[0]}, {k_a}] "
                           f"but got: [{b.shape[0]}, {k_b}].")
    if a.ndim > 2 or b.ndim > 2:
        broadcast_shapes(a.shape[:-2] if a.ndim > 1 else (), b.shape[:-2] if b.ndim > 1 else ())
    return np.matmul(a, b)


def cat(arrays, dim=0):
    """Join arrays along an existing dim; every other dim must match."""
    if not arrays:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    ref = arrays[0]
    d = normalize_dim(dim, ref.ndim)
    for i, x in enumerate(arrays[1:], 1):
        if x.ndim != ref.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.ndim} and {x.ndim}")
        for k in range(ref.ndim):
            if k != d and x.shape[k] != ref.shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected size "
                                   f"{ref.shape[k]} but got size {x.shape[k]} for tensor number {i} in the list.")
    dt = result_type(*arrays)
    return np.concatenate([x.astype(dt, copy=False) for x in arrays], axis=d)


def stack(arrays, dim=0):
    """Join equal-shaped arrays along a new dim."""
    if not arrays:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, x in enumerate(arrays[1:], 1):
        if x.shape != arrays[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(arrays[0].shape)} at "
                               f"entry 0 and {list(x.shape)} at entry {i}")
    d = normalize_dim(dim, arrays[0].ndim + 1)
    dt = result_type(*arrays)
    return np.stack([x.astype(dt, copy=False) for x in arrays], axis=d)
