import builtins
import math
from functools import lru_cache

import numpy as np


class dtype:
    """An element type: a name, the NumPy type that stores it, and its category."""

    def __init__(self, name, np_type, category):
        self.name = name
        self.np = np.dtype(np_type)
        self.itemsize = self.np.itemsize
        self.category = category  # 0 bool, 1 integer, 2 floating point
        self.is_floating_point = category == 2

    def __repr__(self):
        return f"course_lib.{self.name}"

    def __reduce__(self):
        return self.name


bool_ = dtype("bool", np.bool_, 0)
uint8 = dtype("uint8", np.uint8, 1)
int8 = dtype("int8", np.int8, 1)
int16 = dtype("int16", np.int16, 1)
int32 = dtype("int32", np.int32, 1)
int64 = dtype("int64", np.int64, 1)
float16 = dtype("float16", np.float16, 2)
float32 = dtype("float32", np.float32, 2)
float64 = dtype("float64", np.float64, 2)
long, half, double = int64, float16, float64
_DTYPES = {d.np: d for d in (bool_, uint8, int8, int16, int32, int64, float16, float32, float64)}


def as_dtype(x):
    """The course dtype for a course dtype, a NumPy dtype/type, or None (None stays None)."""
    if x is None or isinstance(x, dtype):
        return x
    if x is builtins.bool:
        return bool_
    if x is int:
        return int64
    if x is float:
        return float32
    try:
        return _DTYPES[np.dtype(x)]
    except (KeyError, TypeError):
        raise TypeError(f"unsupported dtype: {x!r}") from None


def dtype_of(array):
    """The course dtype of an array (NumPy or CuPy)."""
    try:
        return _DTYPES[array.dtype]
    except KeyError:
        raise TypeError(f"unsupported array dtype {array.dtype}; supported: "
                        f"{', '.join(d.name for d in _DTYPES.values())}") from None


@lru_cache(maxsize=4096)
def contiguous_strides(shape: tuple) -> tuple:
    """Row-major (C order) strides, in elements, for `shape`: the last dim moves fastest."""
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= builtins.max(size, 1)
    return tuple(reversed(strides))


def index_to_position(index: tuple, strides: tuple, offset: int = 0) -> int:
    """Where element `index` lives in the flat buffer: offset + sum(index[d] * strides[d])."""
    position = offset
    for i, s in zip(index, strides):
        position += i * s
    return position


def position_to_index(position: int, shape: tuple) -> tuple:
    """The inverse for a contiguous tensor: the multi-index of the `position`-th element in C order."""
    index = []
    for size in reversed(shape):
        position, i = divmod(position, size)
        index.append(i)
    return tuple(reversed(index))


def numel(shape: tuple) -> int:
    """How many elements a tensor of this shape holds."""
    return math.prod(shape)


def normalize_dim(dim: int, ndim: int) -> int:
    """A dim in range [-ndim, ndim-1] as a non-negative int; IndexError otherwise (as PyTorch)."""
    lo, hi = -builtins.max(ndim, 1), builtins.max(ndim, 1) - 1
    if not isinstance(dim, int) or isinstance(dim, builtins.bool):
        raise TypeError(f"dim must be an int, got {type(dim).__name__}")
    if not lo <= dim <= hi:
        raise IndexError(f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {dim})")
    return dim + builtins.max(ndim, 1) if dim < 0 else dim


def is_contiguous_layout(shape: tuple, strides: tuple) -> bool:
    """True when (shape, strides) is the C-order layout (dims of size 1 may have any stride)."""
    expected = 1
    for size, stride in zip(reversed(shape), reversed(strides)):
        if size == 0:
            return True
        if size != 1 and stride != expected:
            return False
        expected *= size
    return True


def view_strides(shape: tuple, strides: tuple, new_shape: tuple):
    """Strides that let `new_shape` reuse the memory of (shape, strides), or None if no such strides exist.

    Dims of the old shape are grouped into chunks that are contiguous among themselves; each chunk
    may be split or merged freely, but a new dim may not span two chunks (PyTorch's rule).
    """
    if numel(shape) == 0:
        return contiguous_strides(new_shape)
    old = [(n, s) for n, s in zip(shape, strides) if n != 1]
    new_strides = [0] * len(new_shape)
    j = len(new_shape) - 1
    i = len(old) - 1
    while i >= 0:
        # one chunk: old dims i0..i that are contiguous with each other
        chunk_numel, chunk_stride = old[i][0], old[i][1]
        i0 = i
        while i0 > 0 and old[i0 - 1][1] == old[i0][0] * old[i0][1]:
            i0 -= 1
            chunk_numel *= old[i0][0]
        # new dims (from the right) must multiply to exactly chunk_numel
        acc = 1
        while acc < chunk_numel and j >= 0:
            new_strides[j] = chunk_stride * acc
            acc *= new_shape[j]
            j -= 1
        if acc != chunk_numel:
            return None
        i = i0 - 1
    while j >= 0:  # leftover new dims are all of size 1
        if new_shape[j] != 1:
            return None
        new_strides[j] = new_strides[j + 1] * new_shape[j + 1] if j + 1 < len(new_shape) else 1
        j -= 1
    for k in range(len(new_shape)):  # size-1 dims: give them a tidy stride (any would do)
        if new_shape[k] == 1:
            new_strides[k] = new_strides[k + 1] * new_shape[k + 1] if k + 1 < len(new_shape) else 1
    return tuple(new_strides)


def infer_shape(shape, count: int) -> tuple:
    """Resolve one -1 in `shape` so that it holds `count` elements (RuntimeError as PyTorch otherwise)."""
    shape = tuple(shape)
    unknown = [d for d, n in enumerate(shape) if n == -1]
    if len(unknown) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for n in shape:
        if not isinstance(n, (int, np.integer)) or n < -1:
            raise RuntimeError(f"invalid shape dimension {n}")
    known = numel(n for n in shape if n != -1)
    if unknown:
        if known == 0 or count % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {count}")
        d = unknown[0]
        return shape[:d] + (count // known,) + shape[d + 1:]
    if known != count:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {count}")
    return tuple(int(n) for n in shape)


def flatten_shape(shape: tuple, start_dim: int = 0, end_dim: int = -1) -> tuple:
    """The shape after merging dims start_dim..end_dim into one."""
    if not shape:
        return (1,)
    a, b = normalize_dim(start_dim, len(shape)), normalize_dim(end_dim, len(shape))
    if a > b:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    return shape[:a] + (numel(shape[a:b + 1]),) + shape[b + 1:]


def _size_args(size):
    """Accept f(2, 3), f((2, 3)) and f([2, 3]) alike."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    return tuple(int(n) for n in size)


class device:
    """Where a tensor's buffer lives: a device type ('cpu', 'cuda', ...) and an optional index."""

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        if ":" in type:
            type, _, idx = type.partition(":")
            index = int(idx)
        self.type, self.index = type, index

    def __repr__(self):
        extra = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{extra})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index or 0) == (other.type, other.index or 0)

    def __hash__(self):
        return hash((self.type, self.index or 0))


class Backend:
    """A device's array module: how to make buffers there, view them, and move data in and out.

    `xp` is the array module (NumPy, CuPy); kernels written against NumPy's API work on either,
    because CuPy arrays implement NumPy's dispatch protocols.
    """

    def __init__(self, name, xp):
        self.name = name
        self.xp = xp
        self.device = device(name)

    def as_strided(self, buffer, shape, strides, offset):
        """A view of the flat `buffer` with `shape`, element `strides` and element `offset`."""
        n = buffer.itemsize
        return np.ndarray(shape, buffer.dtype, buffer=buffer, offset=offset * n,
                          strides=tuple(s * n for s in strides))

    def from_numpy(self, array):
        """Copy a NumPy array to this device (the CPU backend shares it)."""
        return array

    def to_numpy(self, array):
        """Copy an array of this device back to a NumPy array on the host."""
        return array

    def __repr__(self):
        return f"Backend({self.name!r}, {self.xp.__name__})"


cpu_backend = Backend("cpu", np)
_BACKENDS = {"cpu": cpu_backend}
_UNAVAILABLE = {}


def register_backend(backend, available=True, reason=""):
    """The extension point for devices: a later notebook registers 'cuda' (or says why it can't)."""
    if available:
        _BACKENDS[backend.name] = backend
        _UNAVAILABLE.pop(backend.name, None)
    else:
        _UNAVAILABLE[backend.name] = reason


def get_backend(dev):
    """The backend that serves a device (a `device`, 'cpu', 'cuda', 'cuda:0', ...)."""
    if isinstance(dev, Backend):
        return dev
    name = dev.type if isinstance(dev, device) else device(dev).type
    try:
        return _BACKENDS[name]
    except KeyError:
        why = _UNAVAILABLE.get(name, "no backend is registered for it")
        raise RuntimeError(f"device '{dev}' is not available: {why}") from None


class StridedTensor:
    """A flat buffer seen through (shape, strides, offset): the storage layer of a tensor.

    Every view shares the buffer; only `contiguous()` (when needed), `clone()` and `reshape`
    (when a view is impossible) copy. The strided NumPy/CuPy view of the buffer, `_arr`, is what
    the kernels compute on.
    """

    _offset = 0
    _strides = None
    _buf = None
    _backend = cpu_backend

    # -- construction ------------------------------------------------------
    @classmethod
    def _wrap(cls, array, backend=None):
        """Take ownership of a kernel's fresh result (made C order when first viewed)."""
        if isinstance(array, np.generic):  # NumPy returns scalars from 0-d math: keep an array
            array = np.asarray(array)
        t = cls.__new__(cls)
        t._arr = array
        if backend is not None:
            t._backend = backend
        return t

    def _view(self, shape, strides, offset):
        """A StridedTensor sharing this buffer with new metadata: all views come through here."""
        buf = self.buffer
        t = StridedTensor.__new__(StridedTensor)
        t._buf, t._strides, t._offset = buf, strides, offset
        t._arr = self._backend.as_strided(buf, shape, strides, offset)
        t._backend = self._backend
        return t

    # -- metadata ----------------------------------------------------------
    @property
    def buffer(self):
        """The flat one-dimensional buffer this tensor reads from."""
        if self._buf is None:
            arr = self._arr
            if not arr.flags.c_contiguous:  # a kernel may return another layout: fix it before any view exists
                self._arr = arr = self._backend.xp.asarray(arr, order="C")
            self._buf = arr.reshape(-1)  # C-contiguous, so this is a view, not a copy
        return self._buf

    @property
    def shape(self):
        return self._arr.shape

    def size(self, dim=None):
        shape = self._arr.shape
        return shape if dim is None else shape[normalize_dim(dim, len(shape))]

    def stride(self, dim=None):
        strides = self._strides
        if strides is None:  # a kernel's result: C order once `buffer` has been looked at
            self.buffer
            strides = contiguous_strides(self._arr.shape)
        return strides if dim is None else strides[normalize_dim(dim, len(strides))]

    def storage_offset(self):
        return self._offset

    @property
    def ndim(self):
        return self._arr.ndim

    def dim(self):
        return self._arr.ndim

    def numel(self):
        return self._arr.size

    def __len__(self):
        if self._arr.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._arr.shape[0]

    @property
    def dtype(self):
        return _DTYPES[self._arr.dtype]

    @property
    def device(self):
        return self._backend.device

    def is_contiguous(self):
        return self._strides is None or is_contiguous_layout(self._arr.shape, self._strides)

    def element_size(self):
        return self._arr.itemsize

    # -- views -------------------------------------------------------------
    def as_strided(self, size, stride, storage_offset=None):
        """The primitive view: any shape/strides/offset over the same buffer (bounds-checked)."""
        size, stride = tuple(size), tuple(stride)
        offset = self._offset if storage_offset is None else storage_offset
        if len(size) != len(stride):
            raise RuntimeError(f"mismatch in length of strides and shape: {len(stride)} vs {len(size)}")
        if any(n < 0 for n in size) or any(s < 0 for s in stride):
            raise RuntimeError(f"as_strided: negative sizes or strides are not supported: {size}, {stride}")
        last = offset + sum((n - 1) * s for n, s in zip(size, stride)) if numel(size) else offset
        if last >= len(self.buffer) and numel(size):
            raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)} and offset {offset} "
                               f"need a buffer of {last + 1} elements, but it has {len(self.buffer)}")
        return self._view(size, stride, offset)

    def permute(self, *dims):
        dims = _size_args(dims)
        nd = self.ndim
        if len(dims) != nd:
            raise RuntimeError(f"permute(): number of dims don't match in permute: the tensor has {nd} "
                               f"dims (shape {tuple(self.shape)}) but {len(dims)} were given: {dims}")
        dims = tuple(normalize_dim(d, nd) for d in dims)
        if len(set(dims)) != nd:
            raise RuntimeError(f"permute(): duplicate dims are not allowed: {dims}")
        shape, strides = self.shape, self.stride()
        return self._view(tuple(shape[d] for d in dims), tuple(strides[d] for d in dims), self._offset)

    def transpose(self, dim0, dim1):
        nd = self.ndim
        if nd == 0:
            return self._view((), (), self._offset)
        order = list(range(nd))
        a, b = normalize_dim(dim0, nd), normalize_dim(dim1, nd)
        order[a], order[b] = order[b], order[a]
        return self.permute(order)

    def t(self):
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        return self.transpose(0, 1) if self.ndim == 2 else self

    @property
    def T(self):
        return self.permute(tuple(reversed(range(self.ndim))))

    @property
    def mT(self):
        return self.transpose(-2, -1)

    def view(self, *shape):
        shape = infer_shape(_size_args(shape), self.numel())
        strides = view_strides(self.shape, self.stride(), shape)
        if strides is None:
            raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one "
                               "dimension spans across two contiguous subspaces). Use .reshape(...) instead.")
        return self._view(shape, strides, self._offset)

    def reshape(self, *shape):
        shape = infer_shape(_size_args(shape), self.numel())
        strides = view_strides(self.shape, self.stride(), shape)
        if strides is not None:
            return self._view(shape, strides, self._offset)
        return self.contiguous().view(shape)  # the only case that copies

    def expand(self, *sizes):
        sizes = _size_args(sizes)
        shape, strides = self.shape, self.stride()
        if len(sizes) < len(shape):
            raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal "
                               f"to the number of dimensions in the tensor ({len(shape)})")
        lead = len(sizes) - len(shape)
        new_shape, new_strides = [], []
        for d, n in enumerate(sizes):
            if d < lead:  # new leading dims: stride 0 means "repeat without copying"
                if n < 0:
                    raise RuntimeError(f"expand: -1 is not allowed in a leading, non-existing dimension {d}")
                new_shape.append(n)
                new_strides.append(0)
                continue
            old, s = shape[d - lead], strides[d - lead]
            if n == -1 or n == old:
                new_shape.append(old)
                new_strides.append(s)
            elif old == 1:
                new_shape.append(n)
                new_strides.append(0)
            else:
                raise RuntimeError(f"The expanded size of the tensor ({n}) must match the existing size ({old}) at "
                                   f"non-singleton dimension {d}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                                   f"{list(shape)}")
        return self._view(tuple(new_shape), tuple(new_strides), self._offset)

    def unsqueeze(self, dim):
        d = normalize_dim(dim, self.ndim + 1)
        shape, strides = self.shape, self.stride()
        s = strides[d] * shape[d] if d < len(shape) else 1
        return self._view(shape[:d] + (1,) + shape[d:], strides[:d] + (s,) + strides[d:], self._offset)

    def squeeze(self, dim=None):
        shape, strides = self.shape, self.stride()
        if dim is None:
            dims = {d for d, n in enumerate(shape) if n == 1}
        else:
            dims = dim if isinstance(dim, (tuple, list)) else (dim,)
            dims = {d for d in (normalize_dim(d, self.ndim) for d in dims) if shape and shape[d] == 1}
        keep = [d for d in range(len(shape)) if d not in dims]
        return self._view(tuple(shape[d] for d in keep), tuple(strides[d] for d in keep), self._offset)

    def flatten(self, start_dim=0, end_dim=-1):
        return self.reshape(flatten_shape(self.shape, start_dim, end_dim))

    def unfold(self, dimension, size, step):
        """Sliding windows of `size` every `step` along `dimension`, as a new last dim (a view)."""
        d = normalize_dim(dimension, self.ndim)
        shape, strides = self.shape, self.stride()
        if size > shape[d] or step <= 0:
            raise RuntimeError(f"unfold: maximum size for tensor at dimension {d} is {shape[d]} but size is "
                               f"{size}" if size > shape[d] else f"unfold: step is {step} but must be > 0")
        count = (shape[d] - size) // step + 1
        new_shape = shape[:d] + (count,) + shape[d + 1:] + (size,)
        new_strides = strides[:d] + (strides[d] * step,) + strides[d + 1:] + (strides[d],)
        return self._view(new_shape, new_strides, self._offset)

    def _basic_index(self, key):
        """(shape, strides, offset) for an index made of ints, slices, None and `...`; None if not basic."""
        if not isinstance(key, tuple):
            key = (key,)
        for k in key:
            if not (k is None or k is Ellipsis or isinstance(k, (int, slice, np.integer))) or isinstance(k, builtins.bool):
                return None
        n_real = sum(1 for k in key if k is not None and k is not Ellipsis)
        if key.count(Ellipsis) > 1:
            raise IndexError("an index can only have a single ellipsis ('...')")
        shape, strides = self.shape, self.stride()
        if n_real > len(shape):
            raise IndexError(f"too many indices for tensor of dimension {len(shape)} (got {n_real})")
        if Ellipsis in key:
            e = key.index(Ellipsis)
            key = key[:e] + (slice(None),) * (len(shape) - n_real) + key[e + 1:]
        offset, new_shape, new_strides, d = self._offset, [], [], 0
        for k in key:
            if k is None:
                new_shape.append(1)
                new_strides.append(strides[d] * shape[d] if d < len(shape) else 1)
                continue
            size, stride = shape[d], strides[d]
            if isinstance(k, slice):
                start, stop, step = k.start, k.stop, k.step
                if step is not None and step <= 0:
                    raise ValueError("step must be greater than zero")
                start, stop, step = slice(start, stop, step).indices(size)
                count = builtins.max(0, -(-(stop - start) // step))
                offset += start * stride if count else 0
                new_shape.append(count)
                new_strides.append(stride * step)
            else:
                k = int(k)
                if not -size <= k < size:
                    raise IndexError(f"index {k} is out of bounds for dimension {d} with size {size}")
                offset += (k + size if k < 0 else k) * stride
            d += 1
        new_shape += shape[d:]
        new_strides += strides[d:]
        return tuple(new_shape), tuple(new_strides), offset

    def _advanced_key(self, key):
        """Translate an index holding tensors, lists or masks into one NumPy understands."""
        if not isinstance(key, tuple):
            key = (key,)
        out = []
        for k in key:
            if isinstance(k, StridedTensor):
                k = k._arr
            elif isinstance(k, list):
                k = np.asarray(k)
            if hasattr(k, "dtype") and k.dtype != np.bool_ and k.dtype.kind not in "iu":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            out.append(k)
        return tuple(out)

    def __getitem__(self, key):
        basic = self._basic_index(key)
        if basic is not None:
            return self._view(*basic)
        try:
            result = self._arr[self._advanced_key(key)]
        except IndexError as e:
            raise IndexError(f"{e} (indexing a tensor of shape {tuple(self.shape)})") from None
        return StridedTensor._wrap(self._backend.xp.asarray(result, order="C"), self._backend)

    # -- copies and conversion --------------------------------------------
    def contiguous(self):
        if self.is_contiguous():
            return self
        return StridedTensor._wrap(self._backend.xp.asarray(self._arr, order="C"), self._backend)

    def clone(self):
        return StridedTensor._wrap(self._arr.copy(), self._backend)

    def numpy(self):
        """The tensor as a NumPy array that shares memory with it (zero-copy on the CPU)."""
        if self._backend is not cpu_backend:
            raise TypeError(f"can't convert {self.device} tensor to numpy. Use .cpu() to copy it to host memory first.")
        return self._arr

    def tolist(self):
        return self._backend.to_numpy(self._arr).tolist()

    def item(self):
        if self._arr.size != 1:
            raise RuntimeError(f"a Tensor with {self._arr.size} elements cannot be converted to Scalar")
        return self._backend.to_numpy(self._arr).reshape(()).item()

    # -- writes through the buffer -----------------------------------------
    def _write(self, value, key=None):
        """Write `value` (a number, array or tensor, broadcast) into self[key], through to the buffer."""
        if isinstance(value, StridedTensor):
            if value._backend is not self._backend:
                raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two "
                                   f"devices, {self.device} and {value.device}!")
            value = value._arr
        if key is None:
            target = self._arr
            if np.shape(value) != target.shape:
                _check_broadcast_into(np.shape(value), target.shape)
            target[...] = value
            return
        basic = self._basic_index(key)
        if basic is not None:
            target = self._backend.as_strided(self.buffer, *basic)
            _check_broadcast_into(np.shape(value), target.shape)
            target[...] = value
        else:
            self._arr[self._advanced_key(key)] = value

    def __setitem__(self, key, value):
        self._write(value, key)

    def fill_(self, value):
        self._arr.fill(value)
        return self

    def zero_(self):
        return self.fill_(0)

    def copy_(self, src):
        self._write(src)
        return self

    def _inplace(self, ufunc, other):
        other = other._arr if isinstance(other, StridedTensor) else other
        ufunc(self._arr, other, out=self._arr, casting="same_kind")
        return self

    def add_(self, other, alpha=1):
        return self._inplace(np.add, other if alpha == 1 else other * alpha)

    def sub_(self, other, alpha=1):
        return self._inplace(np.subtract, other if alpha == 1 else other * alpha)

    def mul_(self, other):
        return self._inplace(np.multiply, other)

    def div_(self, other):
        return self._inplace(np.true_divide, other)

    def __repr__(self):
        body = np.array2string(self._backend.to_numpy(self._arr), separator=", ", precision=4,
                               prefix="tensor(")
        return f"StridedTensor({body}, shape={tuple(self.shape)}, strides={self.stride()}, offset={self._offset})"


def _check_broadcast_into(src_shape, dst_shape):
    """A value written into a tensor must broadcast to the tensor's shape (it never grows it)."""
    for i in range(1, len(src_shape) + 1):
        s = src_shape[-i]
        d = dst_shape[-i] if i <= len(dst_shape) else 1
        if s != d and s != 1:
            raise RuntimeError(f"The expanded size of the tensor ({d}) must match the existing size ({s}) at "
                               f"non-singleton dimension {len(src_shape) - i}.  Target sizes: {list(dst_shape)}.  "
                               f"Tensor sizes: {list(src_shape)}")


# -- creation -----------------------------------------------------------------

_default_generator = np.random.default_rng(0)


def manual_seed(seed):
    """Seed the random number generator used by rand, randn, randint, randperm and dropout."""
    global _default_generator
    _default_generator = np.random.default_rng(seed)
    return _default_generator


def default_generator():
    """The NumPy Generator behind course_lib's random functions."""
    return _default_generator


def _infer_dtype(data):
    """PyTorch's rule for tensor(data): bools → bool, ints → int64, any float → float32."""
    a = np.asarray(data)
    if a.dtype == np.bool_:
        return bool_
    if a.dtype.kind in "iu":
        return int64
    if a.dtype.kind == "f":
        return float32
    raise TypeError(f"can't build a tensor from data of type {a.dtype} ({type(data).__name__})")


def _make(np_array, dtype, device):
    """A StridedTensor owning a C-contiguous copy of `np_array`, on `device`."""
    backend = cpu_backend if device is None else get_backend(device)
    arr = np.asarray(np_array, dtype=dtype.np, order="C")
    return StridedTensor._wrap(backend.from_numpy(arr), backend)


def tensor(data, dtype=None, device=None):
    """A new tensor holding a copy of `data` (a number, nested lists, an array or a tensor)."""
    if isinstance(data, StridedTensor):
        data = data._backend.to_numpy(data._arr)
    if dtype is None:
        dtype = dtype_of(data) if isinstance(data, np.ndarray) else _infer_dtype(data)
    dtype = as_dtype(dtype)
    return _make(np.array(data, dtype=dtype.np, copy=True), dtype, device)


def from_numpy(array):
    """A tensor that shares memory with the NumPy `array` (writes show up on both sides)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    dtype_of(array)
    if array.flags.c_contiguous:
        return StridedTensor._wrap(array)
    n = array.itemsize
    if any(s < 0 for s in array.strides):
        raise ValueError("At least one stride in the given numpy array is negative, and tensors with negative "
                         "strides are not currently supported. (You can probably work around this by making a "
                         "copy of your array  with array.copy().)")
    if any(s % n for s in array.strides):
        raise ValueError("given numpy array strides not a multiple of the element byte size. Copy the numpy "
                         "array to reallocate the memory.")
    strides = tuple(s // n for s in array.strides)
    span = 1 + sum((size - 1) * s for size, s in zip(array.shape, strides)) if array.size else 0
    buf = np.lib.stride_tricks.as_strided(array, shape=(span,), strides=(n,))
    t = StridedTensor.__new__(StridedTensor)
    t._arr, t._buf, t._strides = array, buf, strides
    return t


def _full(size, value, dtype, device):
    backend = cpu_backend if device is None else get_backend(device)
    return StridedTensor._wrap(backend.xp.full(size, value, dtype=dtype.np), backend)


def zeros(*size, dtype=None, device=None):
    return _full(_size_args(size), 0, as_dtype(dtype) or float32, device)


def ones(*size, dtype=None, device=None):
    return _full(_size_args(size), 1, as_dtype(dtype) or float32, device)


def empty(*size, dtype=None, device=None):
    return zeros(*size, dtype=dtype, device=device)


def full(size, fill_value, dtype=None, device=None):
    dtype = as_dtype(dtype) or _infer_dtype(fill_value)
    return _full(_size_args((size,)), fill_value, dtype, device)


def zeros_like(t, dtype=None, device=None):
    return zeros(t.shape, dtype=dtype or t.dtype, device=device or t.device)


def ones_like(t, dtype=None, device=None):
    return ones(t.shape, dtype=dtype or t.dtype, device=device or t.device)


def full_like(t, fill_value, dtype=None, device=None):
    return full(t.shape, fill_value, dtype=dtype or t.dtype, device=device or t.device)


def arange(start, end=None, step=1, dtype=None, device=None):
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    values = (start, end, step)
    dtype = as_dtype(dtype) or (int64 if all(isinstance(v, (int, np.integer)) for v in values) else float32)
    return _make(np.arange(start, end, step, dtype=np.float64 if dtype.is_floating_point else np.int64),
                 dtype, device)


def linspace(start, end, steps, dtype=None, device=None):
    return _make(np.linspace(start, end, steps), as_dtype(dtype) or float32, device)


def eye(n, m=None, dtype=None, device=None):
    return _make(np.eye(n, m), as_dtype(dtype) or float32, device)


def rand(*size, dtype=None, device=None, generator=None):
    g = generator or _default_generator
    return _make(g.random(_size_args(size)), as_dtype(dtype) or float32, device)


def randn(*size, dtype=None, device=None, generator=None):
    g = generator or _default_generator
    return _make(g.standard_normal(_size_args(size)), as_dtype(dtype) or float32, device)


def randint(low, high=None, size=(), dtype=None, device=None, generator=None):
    if high is None:
        low, high = 0, low
    g = generator or _default_generator
    return _make(g.integers(low, high, size=tuple(size)), as_dtype(dtype) or int64, device)


def randperm(n, dtype=None, device=None, generator=None):
    g = generator or _default_generator
    return _make(g.permutation(n), as_dtype(dtype) or int64, device)
