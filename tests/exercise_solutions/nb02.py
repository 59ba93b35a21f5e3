"""Notebook 02's library exercises solved differently (see tests/test_exercise_ownership.py)."""

# target -> a correct solution, written differently from the reference, that records its calls with course_spy
SOLUTIONS = {
    "kernels:broadcast_shapes": '''
def broadcast_shapes(*shapes) -> tuple:
    import course_spy
    course_spy.hit("kernels:broadcast_shapes")
    longest = max((len(s) for s in shapes), default=0)
    padded = [(1,) * (longest - len(s)) + tuple(s) for s in shapes]
    out = []
    for sizes in zip(*padded):
        big = {n for n in sizes if n != 1}
        if len(big) > 1:
            raise RuntimeError(f"shapes {shapes} do not broadcast: sizes {sorted(big)} in one dim")
        out.append(big.pop() if big else 1)
    return tuple(out)
''',
    "kernels:_operands": '''
def _operands(a, b):
    import course_spy
    course_spy.hit("kernels:_operands")
    shapes = [x.shape for x in (a, b) if hasattr(x, "shape")]
    if len(shapes) == 2:
        broadcast_shapes(*shapes)
    want = result_type(a, b)
    return tuple(x if not hasattr(x, "shape") or x.dtype == want else x.astype(want) for x in (a, b))
''',
    "kernels:reduce_dims": '''
def reduce_dims(dim, ndim):
    import course_spy
    course_spy.hit("kernels:reduce_dims")
    dims = () if dim is None else (dim,) if isinstance(dim, int) else tuple(dim)
    if not dims:
        return tuple(range(ndim))
    axes = []
    for d in dims:  # one at a time, refusing a repeat as soon as it comes
        axis = normalize_dim(d, ndim)
        if axis in axes:
            raise RuntimeError(f"dim {d} is given twice")
        axes.append(axis)
    return tuple(axes) if ndim > 0 else ()
''',
    "kernels:unbroadcast": '''
def unbroadcast(grad, shape):
    import course_spy
    course_spy.hit("kernels:unbroadcast")
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for d, n in enumerate(shape):
        if n == 1 and grad.shape[d] != 1:
            grad = grad.sum(axis=d, keepdims=True)
    return grad
''',
}

# code that makes course_lib call each target, run in a fresh kernel after the exercise notebooks ran
USE = '''
import course_lib as torch
a = torch.ones(3, 1, requires_grad=True)
b = torch.tensor([1, 2, 3, 4], dtype=torch.int64)
(a * b + 0.5).sum().backward()
assert a.grad.tolist() == [[10.0], [10.0], [10.0]], a.grad
assert torch.ones(2, 3, 4).sum((0, -1)).tolist() == [8.0, 8.0, 8.0]
'''

WRONG = {
    "kernels:reduce_dims": ('''
def reduce_dims(dim, ndim):
    if dim is None:
        return tuple(range(ndim))
    return tuple(dim) if isinstance(dim, tuple) else (normalize_dim(dim, ndim),)   # () and negatives in a tuple
''', "✗ kernels:reduce_dims: dim=(), ndim=3: it returned (), which are not the dims to reduce; course_lib and this notebook use the reference version until this passes"),
    "kernels:unbroadcast": ('''
def unbroadcast(grad, shape):
    return grad.sum(axis=tuple(range(grad.ndim - len(shape))))   # forgets the dims stretched from 1
''', "✗ kernels:unbroadcast: grad (2, 3, 4) summed to shape (3, 1) came back with shape (3, 4); course_lib and this notebook use the reference version until this passes"),
}
