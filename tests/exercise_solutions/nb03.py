"""Notebook 03's library exercises solved differently (see tests/test_exercise_ownership.py)."""

# target -> a correct solution, written differently from the reference, that records its calls with course_spy
SOLUTIONS = {
    "autograd:Mul.backward": '''
@staticmethod
def backward(ctx, grad):
    import course_spy
    course_spy.hit("autograd:Mul.backward")
    x, y = ctx.saved_tensors
    wants = ctx.needs_input_grad
    return tuple(g * other if want else None for g, other, want in ((grad, y, wants[0]), (grad, x, wants[1])))
''',
    "autograd:_dependencies": '''
def _dependencies(roots):
    import course_spy
    course_spy.hit("autograd:_dependencies")
    counts = {r: 0 for r in roots}
    seen, todo = set(roots), list(roots)
    while todo:
        node = todo.pop(0)                     # breadth first, unlike the reference
        for edge in node._next:
            if edge is None or isinstance(edge[0], Tensor):
                continue
            counts[edge[0]] = counts.get(edge[0], 0) + 1
            if edge[0] not in seen:
                seen.add(edge[0])
                todo.append(edge[0])
    return counts
''',
    "autograd:_accumulate": '''
def _accumulate(a, b):
    import course_spy
    course_spy.hit("autograd:_accumulate")
    if a is None:
        return b
    return b + a
''',
    "ops:Tanh.backward": '''
@staticmethod
def backward(ctx, grad):
    import course_spy
    course_spy.hit("ops:Tanh.backward")
    t = ctx.saved_output
    return (1 + t) * (1 - t) * grad                    # 1 - t^2, factored
''',
    "views:Permute.backward": '''
@staticmethod
def backward(ctx, grad):
    import course_spy
    course_spy.hit("views:Permute.backward")
    n = len(ctx.dims)
    order = sorted(range(n), key=lambda i: ctx.dims[i] % n)   # argsort of the dims
    return grad.permute(*order), None
''',
    "views:Expand.backward": '''
@staticmethod
def backward(ctx, grad):
    import course_spy
    course_spy.hit("views:Expand.backward")
    lead = grad.ndim - len(ctx.shape)
    if lead:
        grad = grad.sum(tuple(range(lead)))
    stretched = tuple(d for d, n in enumerate(ctx.shape) if n == 1 and grad.shape[d] != 1)
    if stretched:
        grad = grad.sum(stretched, keepdim=True)
    return grad, None
''',
    "ops:MatMul.backward": '''
@staticmethod
def backward(ctx, grad):
    import course_spy
    course_spy.hit("ops:MatMul.backward")
    a, b = ctx.saved_tensors
    need_a, need_b = ctx.needs_input_grad
    if a.ndim == 1 and b.ndim == 1:
        return (grad * b if need_a else None), (grad * a if need_b else None)
    a2 = a.unsqueeze(0) if a.ndim == 1 else a
    b2 = b.unsqueeze(1) if b.ndim == 1 else b
    g2 = grad.unsqueeze(-2) if a.ndim == 1 else grad
    g2 = g2.unsqueeze(-1) if b.ndim == 1 else g2
    ga = (b2 @ g2.transpose(-1, -2)).transpose(-1, -2) if need_a else None     # (G B^T) = (B G^T)^T
    gb = (g2.transpose(-1, -2) @ a2).transpose(-1, -2) if need_b else None     # (A^T G) = (G^T A)^T
    if ga is not None and a.ndim == 1:
        ga = ga.squeeze(-2)
    if gb is not None and b.ndim == 1:
        gb = gb.squeeze(-1)
    return ga, gb
''',
    "reductions:Sum.backward": '''
@staticmethod
def backward(ctx, grad):
    import course_spy
    course_spy.hit("reductions:Sum.backward")
    for d in sorted(ctx.axes):
        if grad.ndim < len(ctx.shape):
            grad = grad.unsqueeze(d)
    return grad.expand(*ctx.shape), None, None
''',
    "reductions:Mean.backward": '''
@staticmethod
def backward(ctx, grad):
    import course_spy
    course_spy.hit("reductions:Mean.backward")
    n = 1
    for d in ctx.axes:
        n *= ctx.shape[d]
    for d in sorted(ctx.axes):                         # put the averaged dims back, one at a time
        if grad.ndim < len(ctx.shape):
            grad = grad.unsqueeze(d)
    return grad.expand(*ctx.shape) * (1.0 / n), None, None
''',
}

# code that makes course_lib call each target, run in a fresh kernel after the exercise notebooks ran
USE = '''
import numpy as np
w = torch.randn(4, 3, requires_grad=True)
x = torch.randn(2, 5, 4)
h = (x @ w).permute(2, 0, 1)                          # MatMul, Permute
h2 = h * h + h                                        # Mul; h meets twice: _dependencies, _accumulate
c0 = torch.ones(3, 1, 1, requires_grad=True)
c = c0.expand(3, 2, 5)                                # Expand
(h2 * c).sum(1).mean().backward()                     # Sum, Mean
v = torch.randn(2, 3, requires_grad=True)
torch.nn.Tanh()(v).sum().backward()                   # Tanh, as a layer of notebook 05 calls it
assert np.allclose(v.grad.numpy(), 1 - np.tanh(v.detach().numpy()) ** 2, atol=1e-5), v.grad
assert w.grad.shape == (4, 3) and c0.grad.shape == (3, 1, 1)
xw = x.numpy() @ w.detach().numpy()
assert np.allclose(c0.grad.numpy().ravel(), (xw * xw + xw).sum((0, 1)) / 15, atol=1e-4), c0.grad  # mean of 3 x 5
'''

WRONG = {
    "views:Expand.backward": ('''
@staticmethod
def backward(ctx, grad):
    return grad, None                             # hands the expanded gradient back without summing it
''', "✗ views:Expand.backward: expand from (4,) to (3, 4): input 0 of shape (4,): the gradient has shape (3, 4); "
     "course_lib and this notebook use the reference version until this passes"),
    "ops:Tanh.backward": ('''
@staticmethod
def backward(ctx, grad):
    return 1 - ctx.saved_output ** 2              # forgets to multiply by the gradient that arrived
''', "✗ ops:Tanh.backward: tanh of shape (3, 4): input 0 of shape (3, 4): the gradient differs from finite "
     "differences; course_lib and this notebook use the reference version until this passes"),
    "views:Permute.backward": ('''
@staticmethod
def backward(ctx, grad):
    return grad.permute(*ctx.dims), None          # permutes again instead of undoing the permutation
''', "✗ views:Permute.backward: permute(2, 0, 1) of a (2, 3, 4) tensor: input 0 of shape (2, 3, 4): the gradient "
     "has shape (3, 4, 2); course_lib and this notebook use the reference version until this passes"),
}
