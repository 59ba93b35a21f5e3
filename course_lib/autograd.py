import builtins
import functools
import math

import numpy as np

from course_lib import storage
from course_lib.broadcast import (amax, amin, argmax, argmin, binary, broadcast_shapes, cat as cat_kernel, logsumexp,
                        matmul as matmul_kernel, mean as mean_kernel, reduce_dims, result_type, stack as stack_kernel,
                        sum as sum_kernel, true_divide, unbroadcast, var as var_kernel, where as where_kernel)
from course_lib.storage import StridedTensor, cpu_backend, dtype_of, float32, normalize_dim


# -- grad mode -----------------------------------------------------------------------

_grad_enabled = True


def is_grad_enabled():
    """True when operations on tensors that require grad are being recorded."""
    return _grad_enabled


class set_grad_enabled:
    """Turn recording on or off: a function call, a context manager, or a decorator."""

    def __init__(self, mode):
        global _grad_enabled
        self.prev, _grad_enabled = _grad_enabled, builtins.bool(mode)
        self.mode = builtins.bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self.prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(set_grad_enabled):
    """Inside `with no_grad():` (or a function decorated `@no_grad()`), nothing is recorded."""

    def __init__(self):
        self.mode = False

    def __enter__(self):
        global _grad_enabled
        self.prev, _grad_enabled = _grad_enabled, self.mode
        return self


class enable_grad(no_grad):
    """Turn recording back on inside a no_grad region."""

    def __init__(self):
        self.mode = True


# -- Function: one node of the graph ---------------------------------------------------

_FREED = object()


class Function:
    """An operation that autograd can differentiate, with PyTorch's contract.

    Subclasses define `forward(ctx, *args)` and `backward(ctx, *grad_outputs)` as static methods
    and are called through `apply`. The `ctx` object *is* the graph node: it keeps what backward
    needs (`save_for_backward`) and the edges to the inputs' nodes. A library op's forward may
    return a raw array; `apply` wraps it in a Tensor.
    """

    _saved = ()
    _versions = ()
    _next = ()
    _out_arr = None
    _retained = None
    n_outputs = 1
    save_output = False  # set by ops whose backward uses their own result (exp, tanh, sigmoid)

    def save_for_backward(self, *tensors):
        self._saved = tensors
        self._versions = tuple([t._vbox[0] if isinstance(t, Tensor) and t._vbox else 0 for t in tensors])

    @property
    def saved_tensors(self):
        saved = self._saved
        if saved is _FREED:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved tensors after they "
                "have already been freed). Saved intermediate values of the graph are freed when you call "
                ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
                "graph a second time or if you need to access saved tensors after calling backward.")
        for i, (t, v) in enumerate(zip(saved, self._versions)):
            if isinstance(t, Tensor) and t._version != v:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified by an inplace "
                    f"operation: [{t.dtype.name} tensor of shape {list(t.shape)}], which is saved tensor {i} of "
                    f"{self.name()}, is at version {t._version}; expected version {v} instead. Hint: replace the "
                    f"in-place operation (x += ..., x.add_(...), x[...] = ...) by an out-of-place one (x = x + ...).")
        return saved

    @property
    def saved_output(self):
        """The op's own result, reattached to this node so that create_graph can differentiate through it."""
        if self._out_arr is None:
            self.saved_tensors  # raises the freed-buffers error
        if self._out_version[0] != self._out_version[1][0]:
            raise RuntimeError(f"the output of {self.name()} was modified by an inplace operation after it was "
                               f"saved for backward; replace the in-place operation by an out-of-place one.")
        out = Tensor._wrap(self._out_arr, self._backend)
        if _grad_enabled:
            out.requires_grad, out.grad_fn = True, self
        return out

    @property
    def needs_input_grad(self):
        return tuple(e is not None for e in self._next)

    @property
    def next_functions(self):
        return tuple((None, 0) if e is None else (e[0].grad_fn or _Leaf(e[0]) if isinstance(e[0], Tensor) else e[0],
                                                  e[2]) for e in self._next)

    def mark_non_differentiable(self, *outputs):
        self._non_diff = {id(o) for o in outputs}

    @classmethod
    def name(cls):
        return cls.__name__ if cls.__name__.endswith("Backward") else cls.__name__ + "Backward"

    def __repr__(self):
        return f"<{self.name()}>"

    def _free(self):
        if self._saved:
            self._saved = _FREED
        self._out_arr = None

    @classmethod
    def apply(cls, *args):
        global _grad_enabled
        backend = None
        record = False
        edges = []  # one per argument: (input's node or leaf, input's shape, output number) or None
        for a in args:
            if isinstance(a, Tensor):
                if backend is None:
                    backend = a._backend
                elif a._backend is not backend:
                    raise _device_mismatch(backend, a._backend)
                if a.requires_grad:
                    record = True
                    edges.append((a.grad_fn or a, a._arr.shape, a._output_nr))
                    continue
            edges.append(None)
        ctx = cls.__new__(cls)
        if record and _grad_enabled:
            _grad_enabled = False  # forward itself is never recorded
            try:
                out = cls.forward(ctx, *args)
            finally:
                _grad_enabled = True
        else:
            out = cls.forward(ctx, *args)
            record = False
        if backend is None:
            backend = cpu_backend
        if cls.n_outputs == 1:
            if type(out) is not Tensor:
                out = Tensor._from(out, backend)
            if record and out._arr.dtype.kind == "f":
                ctx._next = tuple(edges)
                ctx._backend = backend
                out.grad_fn = ctx
                out.requires_grad = True
                if cls.save_output:
                    ctx._out_arr = out._arr
                    box = out._vbox or out._make_vbox()
                    ctx._out_version = (box[0], box)
            return out
        outs = tuple(o if type(o) is Tensor else Tensor._from(o, backend) for o in out)
        if record:
            ctx._next = tuple(edges)
            ctx._backend = backend
            skip = getattr(ctx, "_non_diff", ())
            for i, o in enumerate(outs):
                if o._arr.dtype.kind == "f" and id(o) not in skip:
                    o.grad_fn, o.requires_grad, o._output_nr = ctx, True, i
        return outs


def _device_mismatch(a, b):
    return RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                        f"{a.device} and {b.device}!")


class _Leaf:
    """What `next_functions` shows for a leaf: PyTorch calls it AccumulateGrad."""

    def __init__(self, variable):
        self.variable = variable

    def __repr__(self):
        return "<AccumulateGrad>"


# -- the engine: reverse topological order, gradients accumulated ----------------------

def _dependencies(roots):
    """For every node reachable from `roots`: how many edges lead into it from other nodes."""
    deps = dict.fromkeys(roots, 0)
    stack = list(deps)
    while stack:
        for edge in stack.pop()._next:
            if edge is not None:
                target = edge[0]
                if type(target) is Tensor:
                    continue
                if target in deps:
                    deps[target] += 1
                else:
                    deps[target] = 1
                    stack.append(target)
    return deps


def _accumulate(a, b):
    return b if a is None else a + b


def _run_backward(outputs, grad_outputs, retain_graph, create_graph, capture=None):
    """Propagate `grad_outputs` from `outputs` back through the graph, in reverse topological order.

    A node runs once every node that feeds it a gradient has run (its dependency count reaches 0),
    so each node's backward sees its gradient fully accumulated. With `capture` (a dict keyed by
    leaf tensors and (node, output_nr) pairs) gradients are collected there instead of being
    accumulated into leaves' `.grad` (that is `autograd.grad`).
    """
    global _grad_enabled
    pending = {}  # node -> list of gradients, one per output of the node
    handed = {id(g) for g in grad_outputs}  # gradients a leaf may not keep without a copy
    for out, g in zip(outputs, grad_outputs):
        node = out.grad_fn
        if node is None:
            _deliver(out, g, capture, handed)
            continue
        buf = pending.setdefault(node, [None] * node.n_outputs)
        buf[out._output_nr] = _accumulate(buf[out._output_nr], g)
    deps = _dependencies(list(pending))
    ready = [n for n in pending if deps[n] == 0]
    prev, _grad_enabled = _grad_enabled, builtins.bool(create_graph)
    try:
        while ready:
            node = ready.pop()
            grads = pending.pop(node, None)
            edges = node._next
            if grads is None:  # no gradient reached this node: it only releases its inputs
                input_grads = (None,) * len(edges)
            else:
                if capture is not None:
                    for i, g in enumerate(grads):
                        if (node, i) in capture:
                            capture[(node, i)] = _accumulate(capture[(node, i)], g)
                if node._retained:
                    for t in node._retained:
                        g = grads[t._output_nr]
                        if g is not None:
                            t.grad = _accumulate(t.grad, g if create_graph else g.detach())
                input_grads = node.backward(node, *grads)
                if type(input_grads) is not tuple:
                    input_grads = (input_grads,)
                if len(input_grads) != len(edges):
                    raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients "
                                       f"(expected {len(edges)}, got {len(input_grads)})")
            for edge, g in zip(edges, input_grads):
                if edge is None:
                    continue
                target, shape, nr = edge
                if type(target) is Tensor:
                    if g is not None:
                        _deliver(target, g if g._arr.shape == shape else _sum_to(g, shape), capture, handed)
                    continue
                if g is not None:
                    if g._arr.shape != shape:
                        g = _sum_to(g, shape)
                    buf = pending.get(target)
                    if buf is None:
                        buf = pending[target] = [None] * target.n_outputs
                    buf[nr] = _accumulate(buf[nr], g)
                deps[target] -= 1
                if deps[target] == 0:
                    ready.append(target)
            if not retain_graph:
                node._free()
    finally:
        _grad_enabled = prev


def _sum_to(g, shape):
    """Unbroadcast a gradient to its input's shape: done once, here, for every op."""
    if g.shape != shape and len(g.shape) >= len(shape):
        try:
            broadcast_shapes(shape, g.shape)
        except RuntimeError:
            raise RuntimeError(f"backward produced a gradient of shape {tuple(g.shape)} for an input of shape "
                               f"{tuple(shape)}") from None
    if _grad_enabled:  # create_graph: keep the reduction on the graph
        return SumTo.apply(g, shape)
    return Tensor._from(unbroadcast(g._arr, shape), g._backend)


def _deliver(leaf, g, capture, handed=None):
    """A gradient reaches a leaf: collect it (autograd.grad) or accumulate it into leaf.grad."""
    if capture is not None:
        if leaf in capture:
            capture[leaf] = _accumulate(capture[leaf], g)
        return
    if not leaf.requires_grad:
        return
    if not _grad_enabled:
        g = g.detach()
    if leaf.grad is None:
        # own the gradient: a contiguous tensor that no other leaf (and no caller) also holds
        if handed is None or id(g) in handed or g._arr.base is not None or not g.is_contiguous():
            g = g.clone()
        if handed is not None:
            handed.add(id(g))
        leaf.grad = g
    else:
        leaf.grad = leaf.grad + g


def _make_grads(outputs, grad_outputs):
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    grads = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not out.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        if g is None:
            if out.numel() != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs (the output has shape "
                                   f"{tuple(out.shape)}); pass gradient=ones_like(output) or reduce it first, "
                                   f"e.g. output.sum().backward()")
            g = Tensor._from(out._backend.xp.ones(out.shape, dtype=out._arr.dtype), out._backend)
        elif not isinstance(g, Tensor):
            g = tensor(g, dtype=out.dtype, device=out.device)
        elif g.shape != out.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {tuple(g.shape)} and "
                               f"output[{i}] has a shape of {tuple(out.shape)}.")
        grads.append(g)
    return grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False):
    """Accumulate d(tensors)/d(leaf) into every leaf's .grad (what `tensor.backward()` calls)."""
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if isinstance(grad_tensors, Tensor):
        grad_tensors = [grad_tensors]
    retain_graph = create_graph if retain_graph is None else retain_graph
    _run_backward(tensors, _make_grads(tensors, grad_tensors), retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """The gradients of `outputs` with respect to `inputs`, returned (leaves' .grad is left alone)."""
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    if isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (input {i}) does not require grad")
    keys = [x if x.grad_fn is None else (x.grad_fn, x._output_nr) for x in inputs]
    capture = dict.fromkeys(keys)
    retain_graph = create_graph if retain_graph is None else retain_graph
    _run_backward(outputs, _make_grads(outputs, grad_outputs), retain_graph, create_graph, capture)
    result = []
    for i, k in enumerate(keys):
        g = capture[k]
        if g is None and not allow_unused:
            raise RuntimeError(f"One of the differentiated Tensors (input {i}) appears to not have been used in the "
                               f"graph. Set allow_unused=True if this is the desired behavior.")
        result.append(g)
    return tuple(result)


# -- the Tensor ------------------------------------------------------------------------

def _arr(x):
    """The array behind a Tensor, or the value itself (a Python number)."""
    return x._arr if isinstance(x, Tensor) else x


class Tensor(StridedTensor):
    """A strided tensor that records the operations applied to it, so gradients can flow back."""

    requires_grad = False
    grad = None
    grad_fn = None
    _output_nr = 0
    _vbox = None  # version counter, a one-element list shared by a tensor and its views
    _base = None
    __array_priority__ = 1000
    __array_ufunc__ = None  # NumPy defers to our reflected operators (np.float32(2) * t is a Tensor)
    __hash__ = object.__hash__

    @classmethod
    def _from(cls, x, backend=cpu_backend):
        """A Tensor around a kernel's array, or around a storage-level view."""
        t = cls.__new__(cls)
        if type(x) is np.ndarray:
            t._arr = x
        elif isinstance(x, StridedTensor):
            t._arr, t._buf, t._strides, t._offset, t._backend = x._arr, x._buf, x._strides, x._offset, x._backend
            return t
        elif isinstance(x, np.generic):  # NumPy returns scalars from 0-d math: keep an array
            t._arr = np.asarray(x)
        else:
            t._arr = x
        if backend is not cpu_backend:
            t._backend = backend
        return t

    # -- autograd attributes ---------------------------------------------
    @property
    def is_leaf(self):
        return self.grad_fn is None

    def requires_grad_(self, requires_grad=True):
        if self.grad_fn is not None and not requires_grad:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you want to use a "
                               "computed variable in a subgraph that doesn't require differentiation use "
                               "var_no_grad = var.detach().")
        if requires_grad and self._arr.dtype.kind != "f":
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients (got {self.dtype.name})")
        self.requires_grad = builtins.bool(requires_grad)
        return self

    def retain_grad(self):
        """Keep .grad for this non-leaf tensor too (leaves always keep it)."""
        if self.grad_fn is None:
            if not self.requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        node = self.grad_fn
        if node._retained is None:
            node._retained = []
        if self not in node._retained:
            node._retained.append(self)

    def detach(self):
        """The same data (shared buffer), cut off from the graph."""
        t = Tensor._from(self)
        t._vbox = self._vbox or self._make_vbox()
        return t

    def detach_(self):
        if self._base is not None and self._base.requires_grad:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self.grad_fn, self.requires_grad = None, False
        return self

    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        """Compute d(self)/d(leaf) for every leaf that requires grad and add it to leaf.grad."""
        backward(self, None if gradient is None else [gradient], retain_graph, create_graph)

    @property
    def _version(self):
        return 0 if self._vbox is None else self._vbox[0]

    def _make_vbox(self):
        self._vbox = [0]
        return self._vbox

    @property
    def data(self):
        return self.detach()

    @data.setter
    def data(self, other):
        self._arr, self._buf, self._strides, self._offset = other._arr, other._buf, other._strides, other._offset

    # -- conversion ----------------------------------------------------------
    def numpy(self):
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return super().numpy()

    def __array__(self, dtype=None, copy=None):
        arr = self.numpy()
        return arr if dtype is None else arr.astype(dtype)

    def to(self, *args, **kwargs):
        """Move to a device and/or cast to a dtype: to('cuda'), to(float64), to(device, dtype)."""
        device, dtype = kwargs.get("device"), kwargs.get("dtype")
        for a in args:
            if isinstance(a, storage.dtype):
                dtype = a
            elif isinstance(a, Tensor):
                device, dtype = a.device, a.dtype
            else:
                device = a
        out = self
        if device is not None:
            backend = storage.get_backend(device)
            if backend is not self._backend:
                out = ToDevice.apply(out, backend)
        if dtype is not None and storage.as_dtype(dtype) is not out.dtype:
            out = Cast.apply(out, storage.as_dtype(dtype))
        return out

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else device)

    def type(self, dtype=None):
        return f"course_lib.{self.dtype.name}" if dtype is None else self.to(dtype)

    def float(self):
        return self.to(storage.float32)

    def double(self):
        return self.to(storage.float64)

    def half(self):
        return self.to(storage.float16)

    def long(self):
        return self.to(storage.int64)

    def int(self):
        return self.to(storage.int32)

    def bool(self):
        return self.to(storage.bool_)

    def is_floating_point(self):
        return self._arr.dtype.kind == "f"

    def clone(self):
        return Clone.apply(self)

    def contiguous(self):
        return self if self.is_contiguous() else Clone.apply(self)

    def __bool__(self):
        if self._arr.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous "
                               f"(shape {tuple(self.shape)}); use .any() or .all()")
        return builtins.bool(self.item())

    def __float__(self):
        return builtins.float(self.item())

    def __int__(self):
        return builtins.int(self.item())

    def __index__(self):
        if self._arr.dtype.kind not in "iu" or self._arr.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return builtins.int(self.item())

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __repr__(self):
        extras = []
        if self._backend is not cpu_backend:
            extras.append(f"device='{self.device}'")
        if self.dtype not in (storage.float32, storage.int64, storage.bool_) or self.numel() == 0:
            extras.append(f"dtype={self.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        body = _format_array(self._backend.to_numpy(self._arr))
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    # -- views (differentiable, sharing the buffer) ------------------------------
    def as_strided(self, size, stride, storage_offset=None):
        return AsStrided.apply(self, tuple(size), tuple(stride), storage_offset)

    def permute(self, *dims):
        return Permute.apply(self, storage._size_args(dims))

    def transpose(self, dim0, dim1):
        nd = self.ndim
        if nd == 0:
            return self
        order = list(range(nd))
        a, b = normalize_dim(dim0, nd), normalize_dim(dim1, nd)
        order[a], order[b] = order[b], order[a]
        return Permute.apply(self, tuple(order))

    swapaxes = transpose

    def view(self, *shape):
        return View.apply(self, storage._size_args(shape))

    def reshape(self, *shape):
        return Reshape.apply(self, storage._size_args(shape))

    def view_as(self, other):
        return self.view(other.shape)

    def expand(self, *sizes):
        return Expand.apply(self, storage._size_args(sizes))

    def expand_as(self, other):
        return self.expand(other.shape)

    def unsqueeze(self, dim):
        return Reshape.apply(self, StridedTensor.unsqueeze(self, dim).shape)

    def squeeze(self, dim=None):
        return Reshape.apply(self, StridedTensor.squeeze(self, dim).shape)

    def unfold(self, dimension, size, step):
        return Unfold.apply(self, dimension, size, step)

    def __getitem__(self, key):
        if isinstance(key, Tensor) or (isinstance(key, tuple) and any(isinstance(k, (Tensor, list)) for k in key)) \
                or isinstance(key, list):
            return Index.apply(self, key)
        return Slice.apply(self, key)

    # -- in-place writes: version counter, leaf check, history rewritten --------
    def _check_inplace(self, others=()):
        if not _grad_enabled:
            return False
        if self.requires_grad:
            if self.grad_fn is None:
                raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation. "
                                   "Wrap the update in `with torch.no_grad():`, or use an out-of-place op.")
        elif not any(isinstance(o, Tensor) and o.requires_grad for o in others):
            return False
        base = self._base
        if base is not None and (base.requires_grad or self.requires_grad):
            if base.grad_fn is None and base.requires_grad:
                raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place "
                                   "operation.")
            raise RuntimeError("course_lib does not record in-place writes into a view of a tensor that requires "
                               "grad; build the result out of place instead (torch.where, torch.cat, ...).")
        return True

    def _rebase(self, out):
        """After an in-place op on a recorded tensor: self takes the result's values and its history."""
        self._arr[...] = out._arr
        self.grad_fn, self.requires_grad, self._output_nr = out.grad_fn, True, 0
        return self._bump()

    def _bump(self):
        box = self._vbox or self._make_vbox()
        box[0] += 1
        return self

    def _inplace_op(self, fn, kernel, other):
        if self._check_inplace((other,)):
            return self._rebase(fn.apply(self, other))
        if isinstance(other, Tensor) and other._backend is not self._backend:
            raise _device_mismatch(self._backend, other._backend)
        StridedTensor._inplace(self, kernel, other)
        return self._bump()

    def add_(self, other, alpha=1):
        return self._inplace_op(Add, np.add, other if alpha == 1 else other * alpha)

    def sub_(self, other, alpha=1):
        return self._inplace_op(Sub, np.subtract, other if alpha == 1 else other * alpha)

    def mul_(self, other):
        return self._inplace_op(Mul, np.multiply, other)

    def div_(self, other):
        return self._inplace_op(Div, np.true_divide, other)

    __iadd__, __isub__, __imul__, __itruediv__ = add_, sub_, mul_, div_

    def clamp_(self, min=None, max=None):
        if self._check_inplace():
            return self._rebase(Clamp.apply(self, min, max))
        self._arr[...] = binary(np.minimum, binary(np.maximum, self._arr, min) if min is not None else self._arr,
                                max) if max is not None else binary(np.maximum, self._arr, min)
        return self._bump()

    def fill_(self, value):
        if self._check_inplace((value,)):
            return self._rebase(SetItem.apply(self, Ellipsis, value))
        self._arr.fill(value.item() if isinstance(value, Tensor) else value)
        return self._bump()

    def zero_(self):
        return self.fill_(0)

    def copy_(self, src):
        if self._check_inplace((src,)):
            return self._rebase(SetItem.apply(self, Ellipsis, src))
        StridedTensor._write(self, src)
        return self._bump()

    def __setitem__(self, key, value):
        if self._check_inplace((value,)):
            self._rebase(SetItem.apply(self, key, value))
            return
        StridedTensor._write(self, value, key)
        self._bump()

    def normal_(self, mean=0.0, std=1.0, generator=None):
        g = generator or storage.default_generator()
        return self._fill_random(g.normal(mean, std, self.shape))

    def uniform_(self, a=0.0, b=1.0, generator=None):
        g = generator or storage.default_generator()
        return self._fill_random(g.uniform(a, b, self.shape))

    def _fill_random(self, values):
        self._check_inplace()
        self._arr[...] = self._backend.from_numpy(values.astype(self._arr.dtype))
        return self._bump()

    # -- math: every operator is a Function below -------------------------------------
    def __add__(self, other):
        return Add.apply(self, other)

    def __radd__(self, other):
        return Add.apply(other, self)

    def __sub__(self, other):
        return Sub.apply(self, other)

    def __rsub__(self, other):
        return Sub.apply(other, self)

    def __mul__(self, other):
        return Mul.apply(self, other)

    def __rmul__(self, other):
        return Mul.apply(other, self)

    def __truediv__(self, other):
        return Div.apply(self, other)

    def __rtruediv__(self, other):
        return Div.apply(other, self)

    def __pow__(self, other):
        return Pow.apply(self, other)

    def __rpow__(self, other):
        return Pow.apply(other, self)

    def __matmul__(self, other):
        return MatMul.apply(self, other)

    def __rmatmul__(self, other):
        return MatMul.apply(other, self)

    def __neg__(self):
        return Neg.apply(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return Abs.apply(self)

    def __floordiv__(self, other):
        return _no_grad_binary(np.floor_divide, self, other)

    def __mod__(self, other):
        return _no_grad_binary(np.remainder, self, other)

    def __eq__(self, other):
        return _no_grad_binary(np.equal, self, other)

    def __ne__(self, other):
        return _no_grad_binary(np.not_equal, self, other)

    def __lt__(self, other):
        return _no_grad_binary(np.less, self, other)

    def __le__(self, other):
        return _no_grad_binary(np.less_equal, self, other)

    def __gt__(self, other):
        return _no_grad_binary(np.greater, self, other)

    def __ge__(self, other):
        return _no_grad_binary(np.greater_equal, self, other)

    def __and__(self, other):
        return _no_grad_binary(np.logical_and if self.dtype is storage.bool_ else np.bitwise_and, self, other)

    def __or__(self, other):
        return _no_grad_binary(np.logical_or if self.dtype is storage.bool_ else np.bitwise_or, self, other)

    def __invert__(self):
        return Tensor._from(np.logical_not(self._arr) if self._arr.dtype == np.bool_ else ~self._arr, self._backend)

    def add(self, other, alpha=1):
        return Add.apply(self, other if alpha == 1 else other * alpha)

    def sub(self, other, alpha=1):
        return Sub.apply(self, other if alpha == 1 else other * alpha)

    def mul(self, other):
        return Mul.apply(self, other)

    def div(self, other):
        return Div.apply(self, other)

    def pow(self, exponent):
        return Pow.apply(self, exponent)

    def matmul(self, other):
        return MatMul.apply(self, other)

    def neg(self):
        return Neg.apply(self)

    def exp(self):
        return Exp.apply(self)

    def log(self):
        return Log.apply(self)

    def sqrt(self):
        return Sqrt.apply(self)

    def abs(self):
        return Abs.apply(self)

    def sin(self):
        return Sin.apply(self)

    def cos(self):
        return Cos.apply(self)

    def tanh(self):
        return Tanh.apply(self)

    def sigmoid(self):
        return Sigmoid.apply(self)

    def relu(self):
        return Relu.apply(self)

    def clamp(self, min=None, max=None):
        return Clamp.apply(self, min, max)

    clip = clamp

    def maximum(self, other):
        return Maximum.apply(self, other)

    def minimum(self, other):
        return Minimum.apply(self, other)

    def eq(self, other):
        return self == other

    def sum(self, dim=None, keepdim=False):
        return Sum.apply(self, dim, keepdim)

    def mean(self, dim=None, keepdim=False):
        return Mean.apply(self, dim, keepdim)

    def var(self, dim=None, unbiased=True, keepdim=False, correction=None):
        return Var.apply(self, dim, (1 if unbiased else 0) if correction is None else correction, keepdim)

    def std(self, dim=None, unbiased=True, keepdim=False, correction=None):
        return self.var(dim, unbiased, keepdim, correction).sqrt()

    def max(self, dim=None, keepdim=False):
        if isinstance(dim, Tensor):
            return Maximum.apply(self, dim)
        return AMax.apply(self) if dim is None else MaxDim.apply(self, dim, keepdim, True)

    def min(self, dim=None, keepdim=False):
        if isinstance(dim, Tensor):
            return Minimum.apply(self, dim)
        return AMin.apply(self) if dim is None else MaxDim.apply(self, dim, keepdim, False)

    def amax(self, dim=None, keepdim=False):
        return AMax.apply(self) if dim is None else MaxDim.apply(self, dim, keepdim, True)[0]

    def argmax(self, dim=None, keepdim=False):
        return Tensor._from(argmax(self._arr, dim, keepdim), self._backend)

    def argmin(self, dim=None, keepdim=False):
        return Tensor._from(argmin(self._arr, dim, keepdim), self._backend)

    def logsumexp(self, dim, keepdim=False):
        return LogSumExp.apply(self, dim, keepdim)

    def softmax(self, dim):
        return Softmax.apply(self, dim)

    def log_softmax(self, dim):
        return LogSoftmax.apply(self, dim)

    def all(self, dim=None):
        return Tensor._from(np.asarray(self._arr.all(axis=dim)), self._backend)

    def any(self, dim=None):
        return Tensor._from(np.asarray(self._arr.any(axis=dim)), self._backend)

    def sum_to_size(self, *size):
        return SumTo.apply(self, storage._size_args(size))

    def masked_fill(self, mask, value):
        return Where.apply(mask, value, self)

    def flatten(self, start_dim=0, end_dim=-1):
        return Reshape.apply(self, storage.flatten_shape(self.shape, start_dim, end_dim))

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


def _format_array(arr):
    """Numbers as PyTorch prints them: whole floats as `1.`, else 4 decimals, scientific when ranges are wide."""
    fmt = None
    if arr.dtype.kind == "f":
        mag = np.abs(arr[np.isfinite(arr)]).astype(np.float64)
        nonzero = mag[mag != 0]
        if mag.size and np.all(mag == np.round(mag)) and mag.max() < 1e8:
            fmt = "{:.0f}."
        elif nonzero.size and (nonzero.max() >= 1e8 or nonzero.min() < 1e-4 or nonzero.max() / nonzero.min() > 1e3):
            fmt = "{:.4e}"
        else:
            fmt = "{:.4f}"
    if arr.ndim == 0:
        return fmt.format(arr.item()) if fmt and np.isfinite(arr) else str(arr.item())
    kinds = {} if fmt is None else {"float_kind": lambda v: fmt.format(v) if np.isfinite(v) else str(v)}
    return np.array2string(arr, separator=", ", prefix="tensor(", formatter=kinds or None, threshold=1000, edgeitems=3)


def _no_grad_binary(ufunc, a, b):
    """Operators with no gradient (comparisons, //, %, &, |): computed directly, never recorded."""
    backend = a._backend
    if isinstance(b, Tensor) and b._backend is not backend:
        raise _device_mismatch(backend, b._backend)
    return Tensor._from(binary(ufunc, a._arr, _arr(b)), backend)


# -- the ops: forward on arrays, backward with Tensor ops (so it is differentiable) ------

class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        return binary(np.add, _arr(a), _arr(b))

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        return binary(np.subtract, _arr(a), _arr(b))

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        # save only what backward will read: d(a*b)/da needs b, d(a*b)/db needs a
        ctx.save_for_backward(a if _needs(b) else None, b if _needs(a) else None)
        return binary(np.multiply, _arr(a), _arr(b))

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        return (grad * b if da else None), (grad * a if db else None)


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if _needs(b) else None, b)
        return true_divide(_arr(a), _arr(b))

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        return (grad / b if da else None), (-grad * a / (b * b) if db else None)


def _needs(x):
    """Does x (a Tensor or a number) take part in differentiation?"""
    return isinstance(x, Tensor) and x.requires_grad


class Pow(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        a_, b_ = _arr(a), _arr(b)
        if not hasattr(a_, "dtype") and not hasattr(b_, "dtype"):
            raise TypeError("pow needs at least one tensor")
        dt = result_type(a_, b_)
        if dt.kind in "iu" and (np.asarray(b_) < 0).any():
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        return binary(np.power, a_, b_)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        ga = grad * b * a ** (b - 1) if da else None
        gb = None
        if db:
            a_t = a if isinstance(a, Tensor) else tensor(a, device=grad.device)
            # d(a**b)/db = a**b * log(a); where a == 0 the limit is 0
            gb = grad * Where.apply(a_t == 0, 0.0, a_t ** b * a_t.log())
        return ga, gb


class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        return np.negative(a._arr)

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Exp(Function):
    save_output = True

    @staticmethod
    def forward(ctx, a):
        return np.exp(_float(a._arr))

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.saved_output


class Log(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log(_float(a._arr))

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad / a


class Sqrt(Function):
    save_output = True

    @staticmethod
    def forward(ctx, a):
        return np.sqrt(_float(a._arr))

    @staticmethod
    def backward(ctx, grad):
        return grad / (2 * ctx.saved_output)


class Abs(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.abs(a._arr)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad * Sign.apply(a)


class Sign(Function):
    @staticmethod
    def forward(ctx, a):
        return np.sign(a._arr)

    @staticmethod
    def backward(ctx, grad):
        return grad * 0


class Sin(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.sin(_float(a._arr))

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad * a.cos()


class Cos(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.cos(_float(a._arr))

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return -grad * a.sin()


class Tanh(Function):
    save_output = True

    @staticmethod
    def forward(ctx, a):
        return np.tanh(_float(a._arr))

    @staticmethod
    def backward(ctx, grad):
        y = ctx.saved_output
        return grad * (1 - y * y)


class Sigmoid(Function):
    save_output = True

    @staticmethod
    def forward(ctx, a):
        x = _float(a._arr)
        # split by sign so exp never overflows: 1/(1+e^-x) for x >= 0, e^x/(1+e^x) for x < 0
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        y = ctx.saved_output
        return grad * y * (1 - y)


class Relu(Function):
    @staticmethod
    def forward(ctx, a):
        x = a._arr
        mask = x > 0
        ctx.mask = mask
        return x * mask

    @staticmethod
    def backward(ctx, grad):
        return grad * Tensor._from(ctx.mask, grad._backend)


class Clamp(Function):
    @staticmethod
    def forward(ctx, a, min, max):
        x = a._arr
        lo = np.ones_like(x, dtype=np.bool_) if min is None else binary(np.greater_equal, x, _arr(min))
        hi = True if max is None else binary(np.less_equal, x, _arr(max))
        ctx.mask = lo & hi
        out = x
        if min is not None:
            out = binary(np.maximum, out, _arr(min))
        elif max is None:
            raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
        if max is not None:
            out = binary(np.minimum, out, _arr(max))
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad * Tensor._from(ctx.mask, grad._backend), None, None


class Maximum(Function):
    @staticmethod
    def forward(ctx, a, b):
        a_, b_ = _arr(a), _arr(b)
        ctx.a_wins = binary(np.greater, a_, b_)
        ctx.tie = binary(np.equal, a_, b_)
        return binary(np.maximum, a_, b_)

    @staticmethod
    def backward(ctx, grad):
        wa = Tensor._from(ctx.a_wins + 0.5 * ctx.tie, grad._backend)  # ties share the gradient
        return grad * wa, grad * (1 - wa)


class Minimum(Maximum):
    @staticmethod
    def forward(ctx, a, b):
        return Maximum.forward(ctx, b, a)

    @staticmethod
    def backward(ctx, grad):
        gb, ga = Maximum.backward(ctx, grad)
        return ga, gb


class Where(Function):
    @staticmethod
    def forward(ctx, cond, a, b):
        c = _arr(cond)
        ctx.cond = c
        return where_kernel(c, _arr(a), _arr(b))

    @staticmethod
    def backward(ctx, grad):
        c = Tensor._from(ctx.cond, grad._backend)
        return None, Where.apply(c, grad, 0.0), Where.apply(c, 0.0, grad)


class Cast(Function):
    @staticmethod
    def forward(ctx, a, dtype):
        ctx.dtype = a.dtype
        return a._arr.astype(dtype.np)

    @staticmethod
    def backward(ctx, grad):
        return grad.to(ctx.dtype), None


class ToDevice(Function):
    @staticmethod
    def forward(ctx, a, backend):
        ctx.backend = a._backend
        host = a._backend.to_numpy(a._arr)
        return Tensor._from(backend.from_numpy(host), backend)

    @staticmethod
    def backward(ctx, grad):
        return ToDevice.apply(grad, ctx.backend), None


class Clone(Function):
    @staticmethod
    def forward(ctx, a):
        return a._backend.xp.array(a._arr, copy=True, order="C")

    @staticmethod
    def backward(ctx, grad):
        return grad


class MatMul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        if not isinstance(a, Tensor) or not isinstance(b, Tensor):
            raise TypeError("matmul needs two tensors")
        return matmul_kernel(a._arr, b._arr)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        if a.ndim == 1 and b.ndim == 1:
            return (grad * b if need_a else None), (grad * a if need_b else None)
        a2 = a.unsqueeze(0) if a.ndim == 1 else a
        b2 = b.unsqueeze(1) if b.ndim == 1 else b
        g2 = grad
        if a.ndim == 1:
            g2 = g2.unsqueeze(-2)
        if b.ndim == 1:
            g2 = g2.unsqueeze(-1)
        ga = gb = None
        if need_a:
            ga = g2 @ b2.mT
            if a.ndim == 1:
                ga = ga.squeeze(-2)
        if need_b:
            gb = a2.mT @ g2
            if b.ndim == 1:
                gb = gb.squeeze(-1)
        return ga, gb


# reductions

def _keep_shape(shape, axes):
    return tuple(1 if d in axes else n for d, n in enumerate(shape))


class Sum(Function):
    @staticmethod
    def forward(ctx, a, dim, keepdim):
        x = a._arr
        ctx.shape, ctx.axes = x.shape, reduce_dims(dim, x.ndim)
        return sum_kernel(x, dim, keepdim)

    @staticmethod
    def backward(ctx, grad):
        if grad.ndim and grad.ndim != len(ctx.shape):  # keepdim=False removed the reduced dims
            grad = grad.reshape(_keep_shape(ctx.shape, ctx.axes))
        return grad.expand(ctx.shape), None, None


class SumTo(Function):
    """Sum a broadcast gradient back to `shape` (the engine's unbroadcast, as an op for create_graph)."""

    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        return unbroadcast(a._arr, tuple(shape))

    @staticmethod
    def backward(ctx, grad):
        return grad.expand(ctx.shape), None


class Mean(Function):
    @staticmethod
    def forward(ctx, a, dim, keepdim):
        x = a._arr
        ctx.shape, ctx.axes = x.shape, reduce_dims(dim, x.ndim)
        return mean_kernel(x, dim, keepdim)

    @staticmethod
    def backward(ctx, grad):
        count = math.prod(ctx.shape[d] for d in ctx.axes)
        return (grad / count).reshape(_keep_shape(ctx.shape, ctx.axes)).expand(ctx.shape), None, None


class Var(Function):
    @staticmethod
    def forward(ctx, a, dim, correction, keepdim):
        ctx.save_for_backward(a)
        ctx.axes, ctx.correction = reduce_dims(dim, a.ndim), correction
        if a._arr.dtype.kind != "f":
            raise RuntimeError(f"std and var only support floating point and complex dtypes (got {a.dtype.name})")
        return var_kernel(a._arr, dim, correction, keepdim)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        n = math.prod(a.shape[d] for d in ctx.axes)
        g = grad.reshape(_keep_shape(a.shape, ctx.axes))
        centered = a - a.mean(ctx.axes, keepdim=True)
        return g * centered * (2.0 / builtins.max(n - ctx.correction, 0)), None, None, None


class AMax(Function):
    """max() over all elements: ties share the gradient evenly, as in PyTorch."""

    @staticmethod
    def forward(ctx, a):
        out = amax(a._arr)
        ctx.mask = a._arr == out
        return out

    @staticmethod
    def backward(ctx, grad):
        mask = Tensor._from(ctx.mask / ctx.mask.sum(), grad._backend)
        return grad * mask


class AMin(AMax):
    @staticmethod
    def forward(ctx, a):
        out = amin(a._arr)
        ctx.mask = a._arr == out
        return out


class MaxDim(Function):
    """max(dim) / min(dim): (values, indices); the gradient goes to the chosen index."""

    n_outputs = 2

    @staticmethod
    def forward(ctx, a, dim, keepdim, largest):
        x = a._arr
        d = normalize_dim(dim, x.ndim) if x.ndim else 0
        idx = (argmax if largest else argmin)(x, d, keepdim=True) if x.ndim else np.zeros((), np.int64)
        values = np.take_along_axis(x, idx, axis=d) if x.ndim else x.copy()
        ctx.shape, ctx.dim, ctx.idx, ctx.keepdim = x.shape, d, idx, keepdim
        if not keepdim and x.ndim:
            values, idx = values.squeeze(d), idx.squeeze(d)
        return values, idx

    @staticmethod
    def backward(ctx, grad_values, grad_indices):
        g = grad_values if ctx.keepdim or not ctx.shape else grad_values.unsqueeze(ctx.dim)
        return ScatterDim.apply(g, ctx.dim, ctx.idx, ctx.shape), None, None, None


class ScatterDim(Function):
    """Place `src` at `index` along `dim` in a zero tensor of `shape` (max(dim)'s backward)."""

    @staticmethod
    def forward(ctx, src, dim, index, shape):
        ctx.dim, ctx.index = dim, index
        out = src._backend.xp.zeros(shape, dtype=src._arr.dtype)
        if not shape:
            return src._arr.copy()
        np.put_along_axis(out, index, src._arr, axis=dim)
        return out

    @staticmethod
    def backward(ctx, grad):
        if grad.ndim == 0:
            return grad, None, None, None
        return Tensor._from(np.take_along_axis(grad._arr, ctx.index, axis=ctx.dim), grad._backend), None, None, None


class LogSumExp(Function):
    @staticmethod
    def forward(ctx, a, dim, keepdim):
        ctx.save_for_backward(a)
        ctx.axes = reduce_dims(dim, a.ndim)
        out = logsumexp(_float(a._arr), dim, keepdim)
        ctx.out = out if keepdim else out.reshape(_keep_shape(a.shape, ctx.axes))
        return out

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        g = grad.reshape(_keep_shape(a.shape, ctx.axes))
        return g * (a - Tensor._from(ctx.out, grad._backend)).exp(), None, None


class Softmax(Function):
    save_output = True

    @staticmethod
    def forward(ctx, a, dim):
        x = _float(a._arr)
        ctx.dim = normalize_dim(dim, x.ndim)
        e = np.exp(x - x.max(axis=ctx.dim, keepdims=True))
        return e / e.sum(axis=ctx.dim, keepdims=True)

    @staticmethod
    def backward(ctx, grad):
        y = ctx.saved_output
        return y * (grad - (grad * y).sum(ctx.dim, keepdim=True)), None


class LogSoftmax(Function):
    save_output = True

    @staticmethod
    def forward(ctx, a, dim):
        x = _float(a._arr)
        ctx.dim = normalize_dim(dim, x.ndim)
        return x - logsumexp(x, ctx.dim, keepdim=True)

    @staticmethod
    def backward(ctx, grad):
        y = ctx.saved_output
        return grad - y.exp() * grad.sum(ctx.dim, keepdim=True), None


# views: the output shares the input's buffer; backward maps the gradient back

def _view_output(a, strided):
    out = Tensor._from(strided)
    out._vbox = a._vbox or a._make_vbox()
    out._base = a if a._base is None else a._base
    return out


class Permute(Function):
    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims = dims
        return _view_output(a, StridedTensor.permute(a, dims))

    @staticmethod
    def backward(ctx, grad):
        inverse = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inverse[d % len(ctx.dims)] = i
        return grad.permute(inverse), None


class View(Function):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        return _view_output(a, StridedTensor.view(a, shape))

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape), None


class Reshape(View):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        out = StridedTensor.reshape(a, shape)
        return _view_output(a, out) if out._buf is a._buf else Tensor._from(out)


class Expand(Function):
    @staticmethod
    def forward(ctx, a, sizes):
        ctx.shape = a.shape
        return _view_output(a, StridedTensor.expand(a, sizes))

    @staticmethod
    def backward(ctx, grad):
        return SumTo.apply(grad, ctx.shape), None


class AsStrided(Function):
    @staticmethod
    def forward(ctx, a, size, stride, offset):
        ctx.a = StridedTensor.as_strided(a, size, stride, offset)
        ctx.base_len, ctx.size, ctx.stride = len(a.buffer), size, stride
        ctx.offset, ctx.a_meta = ctx.a._offset, (a.shape, a.stride(), a._offset)
        return _view_output(a, ctx.a)

    @staticmethod
    def backward(ctx, grad):
        # scatter-add into a zero buffer (np.add.at accumulates overlapping windows), then read the input's view
        buf = np.zeros(ctx.base_len, dtype=grad._arr.dtype)
        idx = _strided_positions(ctx.size, ctx.stride, ctx.offset)
        np.add.at(buf, idx, grad._backend.to_numpy(grad._arr).reshape(-1))
        shape, strides, offset = ctx.a_meta
        g = cpu_backend.as_strided(buf, shape, strides, offset)
        return Tensor._from(grad._backend.from_numpy(np.ascontiguousarray(g)), grad._backend), None, None, None


def _strided_positions(shape, strides, offset):
    """The buffer position of every element of a strided view, in C order."""
    pos = np.full((), offset, dtype=np.int64)
    for n, s in zip(shape, strides):
        pos = pos[..., None] + np.arange(n) * s
    return pos.reshape(-1)


class Unfold(Function):
    """Sliding windows along one dim, as a new last dim: a view whose windows may overlap."""

    @staticmethod
    def forward(ctx, a, dimension, size, step):
        ctx.shape, ctx.dim, ctx.size, ctx.step = a.shape, normalize_dim(dimension, a.ndim), size, step
        return _view_output(a, StridedTensor.unfold(a, dimension, size, step))

    @staticmethod
    def backward(ctx, grad):
        # window w, position k reads input index w*step + k: add each k's slice back (no overlap within one k)
        count = grad.shape[ctx.dim]
        out = zeros(ctx.shape, dtype=grad.dtype, device=grad.device)
        d = ctx.dim
        for k in range(ctx.size):
            key = (slice(None),) * d + (slice(k, k + ctx.step * (count - 1) + 1, ctx.step),)
            out = IndexAdd.apply(out, key, grad[..., k])
        return out, None, None, None


class Slice(Function):
    """Basic indexing (ints, slices, None, ...): a view."""

    @staticmethod
    def forward(ctx, a, key):
        ctx.shape, ctx.key = a.shape, key
        return _view_output(a, StridedTensor.__getitem__(a, key))

    @staticmethod
    def backward(ctx, grad):
        out = zeros(ctx.shape, dtype=grad.dtype, device=grad.device)
        return IndexAdd.apply(out, ctx.key, grad), None


def _np_key(key):
    if not isinstance(key, tuple):
        key = (key,)
    return tuple(k._arr if isinstance(k, Tensor) else (np.asarray(k) if isinstance(k, list) else k) for k in key)


class Index(Function):
    """Advanced indexing (integer tensors, boolean masks): a copy; repeated indices accumulate in backward."""

    @staticmethod
    def forward(ctx, a, key):
        ctx.shape, ctx.key = a.shape, key
        return StridedTensor.__getitem__(a, key)

    @staticmethod
    def backward(ctx, grad):
        out = zeros(ctx.shape, dtype=grad.dtype, device=grad.device)
        return IndexAdd.apply(out, ctx.key, grad), None


class IndexAdd(Function):
    """out = a.clone(); out[key] += src, accumulating over repeated indices (the adjoint of indexing)."""

    @staticmethod
    def forward(ctx, a, key, src):
        ctx.key = key
        out = a._arr.copy()
        key = _np_key(key)
        if all(k is None or k is Ellipsis or isinstance(k, (int, slice)) for k in key):
            out[key] += _arr(src)  # a basic index never repeats an element
        else:
            np.add.at(out, key, _arr(src))  # repeated indices must accumulate
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad, None, (grad[ctx.key] if ctx.needs_input_grad[2] else None)


class SetItem(Function):
    """out = a.clone(); out[key] = value: what `x[key] = value` records on a tensor that requires grad."""

    @staticmethod
    def forward(ctx, a, key, value):
        ctx.key = key
        out = Tensor._from(a._arr.copy(), a._backend)
        StridedTensor._write(out, _arr(value), key)
        return out

    @staticmethod
    def backward(ctx, grad):
        ga = grad.clone()
        with no_grad():
            StridedTensor._write(ga, 0, ctx.key)
        gv = grad[ctx.key] if ctx.needs_input_grad[2] else None
        return ga, None, gv


class Cat(Function):
    @staticmethod
    def forward(ctx, dim, *tensors):
        arrays = [t._arr for t in tensors]
        ctx.dim = normalize_dim(dim, arrays[0].ndim) if arrays else 0
        ctx.sizes = [a.shape[ctx.dim] for a in arrays]
        return cat_kernel(arrays, dim)

    @staticmethod
    def backward(ctx, grad):
        grads, start = [], 0
        for n in ctx.sizes:
            key = (slice(None),) * ctx.dim + (slice(start, start + n),)
            grads.append(grad[key])
            start += n
        return (None, *grads)


class Stack(Function):
    @staticmethod
    def forward(ctx, dim, *tensors):
        ctx.dim = normalize_dim(dim, tensors[0].ndim + 1)
        return stack_kernel([t._arr for t in tensors], dim)

    @staticmethod
    def backward(ctx, grad):
        n = grad.shape[ctx.dim]
        return (None, *(grad[(slice(None),) * ctx.dim + (i,)] for i in range(n)))


def _float(x):
    """Math functions of integer tensors give float32, as in PyTorch."""
    return x if x.dtype.kind == "f" else x.astype(np.float32)


# -- the functional surface: course_lib.exp(x), course_lib.cat([...]), ... --------------

def _wrap_storage(fn):
    @functools.wraps(fn)
    def make(*args, requires_grad=False, **kwargs):
        t = Tensor._from(fn(*args, **kwargs))
        if requires_grad:
            t.requires_grad_()
        return t
    return make


tensor = _wrap_storage(storage.tensor)
zeros = _wrap_storage(storage.zeros)
ones = _wrap_storage(storage.ones)
empty = _wrap_storage(storage.empty)
full = _wrap_storage(storage.full)
arange = _wrap_storage(storage.arange)
linspace = _wrap_storage(storage.linspace)
eye = _wrap_storage(storage.eye)
rand = _wrap_storage(storage.rand)
randn = _wrap_storage(storage.randn)
randint = _wrap_storage(storage.randint)
randperm = _wrap_storage(storage.randperm)
zeros_like = _wrap_storage(storage.zeros_like)
ones_like = _wrap_storage(storage.ones_like)
full_like = _wrap_storage(storage.full_like)


def from_numpy(array):
    """A tensor sharing memory with a NumPy array."""
    return Tensor._from(storage.from_numpy(array))


def is_tensor(x):
    return isinstance(x, Tensor)


def exp(x):
    return Exp.apply(x)


def log(x):
    return Log.apply(x)


def sqrt(x):
    return Sqrt.apply(x)


def abs(x):
    return Abs.apply(x)


def sin(x):
    return Sin.apply(x)


def cos(x):
    return Cos.apply(x)


def tanh(x):
    return Tanh.apply(x)


def sigmoid(x):
    return Sigmoid.apply(x)


def relu(x):
    return Relu.apply(x)


def neg(x):
    return Neg.apply(x)


def pow(x, exponent):
    return Pow.apply(x, exponent)


def clamp(x, min=None, max=None):
    return Clamp.apply(x, min, max)


def maximum(a, b):
    return Maximum.apply(a, b)


def minimum(a, b):
    return Minimum.apply(a, b)


def where(condition, a, b):
    return Where.apply(condition, a, b)


def matmul(a, b):
    return MatMul.apply(a, b)


def cat(tensors, dim=0):
    return Cat.apply(dim, *tensors)


concatenate = cat


def stack(tensors, dim=0):
    return Stack.apply(dim, *tensors)


def sum(x, dim=None, keepdim=False):
    return Sum.apply(x, dim, keepdim)


def mean(x, dim=None, keepdim=False):
    return Mean.apply(x, dim, keepdim)


def logsumexp(x, dim, keepdim=False):
    return LogSumExp.apply(x, dim, keepdim)


def softmax(x, dim):
    return Softmax.apply(x, dim)


def log_softmax(x, dim):
    return LogSoftmax.apply(x, dim)


def broadcast_to(x, shape):
    return x.expand(shape)


def flatten(x, start_dim=0, end_dim=-1):
    return x.flatten(start_dim, end_dim)


def argmax(x, dim=None, keepdim=False):
    return x.argmax(dim, keepdim)


def argmin(x, dim=None, keepdim=False):
    return x.argmin(dim, keepdim)


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Compare autograd's gradients of `fn` with central finite differences, in float64.

    Every input that requires grad must be float64. For each output element and each input
    element, (f(x + eps) - f(x - eps)) / (2 eps) must match the backward pass.
    """
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    diff = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    for x in diff:
        if x.dtype is not storage.float64:
            raise ValueError(f"gradcheck needs float64 inputs for accurate finite differences (got {x.dtype})")

    def outputs():
        with no_grad():
            out = fn(*inputs)
        return out if isinstance(out, tuple) else (out,)

    for k, out in enumerate(outputs()):
        flat_out = out._arr.reshape(-1)
        for j in range(flat_out.size):
            analytic = grad(_select(fn(*inputs), k, j), diff, allow_unused=True)
            for i, x in enumerate(diff):
                buf = x.numpy() if not x.requires_grad else x.detach().numpy()
                numeric = np.zeros(x.shape)
                for idx in np.ndindex(*x.shape):
                    old = buf[idx]
                    buf[idx] = old + eps
                    plus = outputs()[k]._arr.reshape(-1)[j]
                    buf[idx] = old - eps
                    minus = outputs()[k]._arr.reshape(-1)[j]
                    buf[idx] = old
                    numeric[idx] = (plus - minus) / (2 * eps)
                a = np.zeros(x.shape) if analytic[i] is None else analytic[i].detach().numpy()
                if not np.allclose(a, numeric, atol=atol, rtol=rtol):
                    if raise_exception:
                        raise GradcheckError(f"Jacobian mismatch for output {k} element {j} with respect to input "
                                             f"{i}:\nnumerical: {numeric}\nanalytical: {a}")
                    return False
    return True


class GradcheckError(RuntimeError):
    """gradcheck found an analytical gradient that disagrees with finite differences."""


def _select(out, k, j):
    out = out[k] if isinstance(out, tuple) else out
    return out.reshape(-1)[j]
