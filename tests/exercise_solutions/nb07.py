"""Notebook 07's library exercises solved differently (see tests/test_exercise_ownership.py)."""

# target -> a correct solution, written differently from the reference, that records its calls with course_spy
SOLUTIONS = {
    "transformer:causal_attention_scores": '''
def causal_attention_scores(q, k, scale):
    import course_spy
    course_spy.hit("transformer:causal_attention_scores")
    scores = q.matmul(k.transpose(-1, -2)) * scale
    future = triu(torch.ones(q.shape[-2], k.shape[-2], device=q.device), 1) > 0  # the strict upper triangle
    return scores.masked_fill(future, float("-inf"))
''',
    "transformer:LayerNormFunction.backward": '''
@staticmethod
def backward(ctx, grad):
    import course_spy
    course_spy.hit("transformer:LayerNormFunction.backward")
    xhat, rstd, dims, weight = ctx.xhat, ctx.rstd, ctx.dims, ctx.weight
    n = 1
    for d in dims:
        n *= xhat.shape[d]
    g = grad if weight is None else grad * weight
    dx = (g * n - g.sum(dims, keepdim=True) - xhat * (g * xhat).sum(dims, keepdim=True)) * rstd / n  # sums, not means
    lead = tuple(range(grad.ndim - len(dims)))
    dw = None if weight is None else ((grad * xhat).sum(lead) if lead else grad * xhat)
    db = None if not ctx.has_bias else (grad.sum(lead) if lead else grad)
    return dx, dw, db, None, None
''',
    "transformer:KVCache.update": '''
def update(self, k, v):
    import course_spy
    course_spy.hit("transformer:KVCache.update")
    keys = [k] if self.k is None else [self.k, k]  # one cat of a list, whatever its length
    values = [v] if self.v is None else [self.v, v]
    self.k, self.v = torch.cat(keys, dim=2), torch.cat(values, dim=2)
    return self.k, self.v
''',
}

# code that makes course_lib call each target, run in a fresh kernel after the exercise notebooks ran
USE = '''
import course_lib as torch
from course_lib.transformer import GPT, GPTConfig
torch.manual_seed(0)
gpt = GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=8))
idx = torch.randint(11, (2, 5))
_, loss = gpt(idx, idx)  # causal attention scores
loss.backward()  # LayerNorm's backward
out = gpt.generate(idx[:, :2], 4, temperature=0)  # the KV cache
assert tuple(out.shape) == (2, 6)
assert out.tolist() == gpt.generate(idx[:, :2], 4, temperature=0, use_kv_cache=False).tolist()
'''

# target -> (a wrong solution, the exact line its check prints)
WRONG = {
    "transformer:causal_attention_scores": ('''
def causal_attention_scores(q, k, scale):
    scores = (q @ k.transpose(-2, -1)) * scale
    allowed = triu(torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool))   # the upper triangle: the future
    return scores.masked_fill(~allowed, float("-inf"))
''', "✗ transformer:causal_attention_scores: q of shape (4, 3), k of shape (4, 3): -inf is not exactly at the keys "
     "after each query; course_lib and this notebook use the reference version until this passes"),
    "transformer:LayerNormFunction.backward": ('''
@staticmethod
def backward(ctx, grad):
    xhat, rstd, dims, weight = ctx.xhat, ctx.rstd, ctx.dims, ctx.weight
    g = grad if weight is None else grad * weight
    dx = rstd * (g - g.mean(dims, keepdim=True))   # forgets that sigma depends on x too
    per_sample = (-1,) + tuple(xhat.shape[d] for d in dims)
    dw = None if weight is None else (grad * xhat).reshape(per_sample).sum(0)
    db = grad.reshape(per_sample).sum(0) if ctx.has_bias else None
    return dx, dw, db, None, None
''', "✗ transformer:LayerNormFunction.backward: input (4, 5), normalized_shape (5,): dx disagrees with finite "
     "differences; course_lib and this notebook use the reference version until this passes"),
    "transformer:KVCache.update": ('''
def update(self, k, v):
    self.k, self.v = k, v   # keeps only the newest positions
    return self.k, self.v
''', "✗ transformer:KVCache.update: after updates of [3, 1] positions: keys of shape (2, 4, 1, 5); course_lib and "
     "this notebook use the reference version until this passes"),
}
