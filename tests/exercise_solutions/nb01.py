"""Notebook 01's library exercises solved differently (see tests/test_exercise_ownership.py)."""

# target -> a correct solution, written differently from the reference, that records its calls with course_spy
SOLUTIONS = {
    "storage:contiguous_strides": '''
def contiguous_strides(shape: tuple) -> tuple:
    import course_spy
    course_spy.hit("storage:contiguous_strides")
    sizes = [max(n, 1) for n in shape]
    return tuple(math.prod(sizes[d + 1:]) for d in range(len(sizes)))
''',
    "storage:index_to_position": '''
def index_to_position(index: tuple, strides: tuple, offset: int = 0) -> int:
    import course_spy
    course_spy.hit("storage:index_to_position")
    return offset + sum(i * s for i, s in zip(index, strides))
''',
    "storage:is_contiguous_layout": '''
def is_contiguous_layout(shape: tuple, strides: tuple) -> bool:
    import course_spy
    course_spy.hit("storage:is_contiguous_layout")
    if 0 in shape:
        return True
    fresh = contiguous_strides(tuple(shape))
    return all(s == f for n, s, f in zip(shape, strides, fresh) if n != 1)
''',
    "storage:view_strides": '''
def view_strides(shape: tuple, strides: tuple, new_shape: tuple):
    import course_spy
    course_spy.hit("storage:view_strides")
    if math.prod(shape) == 0:
        return contiguous_strides(tuple(new_shape))
    if math.prod(shape) != math.prod(new_shape):
        return None
    chunks = []  # from the left: runs of old dims that step evenly through memory
    for n, s in zip(shape, strides):
        if n == 1:
            continue
        if chunks and chunks[-1][-1][1] == n * s:
            chunks[-1].append((n, s))
        else:
            chunks.append([(n, s)])
    out, d = [1] * len(new_shape), 0
    for chunk in chunks:
        total, mine = math.prod(n for n, _ in chunk), []
        got = 1
        while got < total:
            mine.append(d)
            got *= new_shape[d]
            d += 1
        if got != total:
            return None
        step = chunk[-1][1]
        for k in reversed(mine):
            out[k] = step
            step *= new_shape[k]
    return tuple(out)
''',
    "storage:expand_strides": '''
def expand_strides(shape: tuple, strides: tuple, sizes: tuple) -> tuple:
    import course_spy
    course_spy.hit("storage:expand_strides")
    out, k = list(sizes), len(shape)
    for d in range(len(sizes) - 1, -1, -1):
        k -= 1
        out[d] = strides[k] if k >= 0 and shape[k] == sizes[d] else 0
    return tuple(out)
''',
}

# code that makes course_lib call each target, run in a fresh kernel after the exercise notebooks ran
USE = '''
import course_lib as torch
x = torch.ones(2, 3)                                   # a fresh tensor's stride(): contiguous_strides
assert x.stride() == (3, 1), x.stride()
y = torch.arange(12.0).view(3, 4)                      # view: view_strides
assert y[1, 2].item() == 6.0 and y[:, 1].tolist() == [1.0, 5.0, 9.0]  # basic indexing: index_to_position
assert not y.t().is_contiguous() and y.t().contiguous().is_contiguous()  # is_contiguous_layout
e = torch.arange(3.0).view(3, 1).expand(2, 3, 4)       # expand_strides
assert e.stride() == (0, 1, 0) and e.sum().item() == 24.0, e.stride()
'''

WRONG = {
    "storage:contiguous_strides": ('''
def contiguous_strides(shape):
    strides, step = [], 1
    for size in shape:                  # walks the dims from the first: Fortran order, not C order
        strides.append(step)
        step *= max(size, 1)
    return tuple(strides)
''', "✗ storage:contiguous_strides: shape (2, 3): it returned (1, 2), which are not the strides of a fresh C-order "
     "tensor; course_lib and this notebook use the reference version until this passes"),
    "storage:expand_strides": ('''
def expand_strides(shape, strides, sizes):
    return (0,) * (len(sizes) - len(shape)) + tuple(strides)   # forgets that a dim grown from 1 repeats its cell
''', "✗ storage:expand_strides: shape (2, 1, 4) strides (12, 4, 1) expanded to (2, 5, 4): strides (12, 4, 1) read "
     "other elements; course_lib and this notebook use the reference version until this passes"),
}
