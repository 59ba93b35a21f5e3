"""Notebook 07 (the transformer) against PyTorch: its pieces, then the whole GPT (issue 19).

The pieces (Embedding, LayerNorm, GELU, tril/triu, masked_fill, scaled_dot_product_attention): values, gradients
and error kinds against torch with the same inputs, plus the math (NumPy) where it is short. The model: the same
GPT with the same initial weights (course_lib's state_dict loaded into `build_under(torch)["GPT"]`) gives per-step
training losses within 1e-4 relative of PyTorch's for 20 AdamW steps in float32, equal gradients after the first
step, and the same greedy generation with and without the KV cache. A few model tests need no PyTorch: KV-cache
generation equals recomputing the context, the tied weights are one tensor, the loss at initialisation is ~ln(vocab).

Self-check of the tests' own logic: COURSE_TRANSFORMER_REF=torch runs every test with real PyTorch on both sides
(`lib` is torch, and benchmarks/tiny_gpt.py stands in for course_lib.transformer).
"""
import importlib
import importlib.util
import math
import os
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

try:
    import torch
except ImportError:
    torch = None

ROOT = Path(__file__).resolve().parents[1]
REF = os.environ.get("COURSE_TRANSFORMER_REF") == "torch"

if REF:
    if torch is None:
        pytest.skip("COURSE_TRANSFORMER_REF=torch needs PyTorch", allow_module_level=True)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import tiny_gpt

    lib = torch
    tmod = SimpleNamespace(GPTConfig=tiny_gpt.GPTConfig, GPT=tiny_gpt.build_under(torch)["GPT"],
                           build_under=tiny_gpt.build_under, CharTokenizer=tiny_gpt.CharTokenizer,
                           get_batch=tiny_gpt.get_batch, load_text=tiny_gpt.load_text)
else:
    import course_lib as lib

    if importlib.util.find_spec("course_lib.transformer") is None:  # until notebook 07 is merged
        pytest.skip("course_lib.transformer (notebook 07) is not exported yet", allow_module_level=True)
    tmod = importlib.import_module("course_lib.transformer")

F = lib.nn.functional
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


# ---------------------------------------------------------------------------------------------------------------------
# helpers

def ours(a, dtype=None, requires_grad=False):
    """A `lib` tensor holding a copy of the NumPy array `a`."""
    a = np.array(a, dtype=dtype)
    t = lib.from_numpy(a)
    return t.requires_grad_() if requires_grad else t


def theirs(a, dtype=None, requires_grad=False):
    t = torch.from_numpy(np.array(a, dtype=dtype))
    return t.requires_grad_() if requires_grad else t


def arr(t):
    return t.detach().numpy()


def close(a, b, tol=1e-6):
    a, b = arr(a) if not isinstance(a, np.ndarray) else a, arr(b) if not isinstance(b, np.ndarray) else b
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def dtype_name(t):
    return str(t.dtype).split(".")[-1]


def backward_with(out, g):
    """out.backward(g) on either library, through a sum so neither needs a `gradient=` argument."""
    (out * g).sum().backward()


def same_error(fn_ours, fn_theirs):
    """Both raise, with the same exception kind; returns our exception."""
    with pytest.raises(Exception) as ref:
        fn_theirs()
    with pytest.raises(ref.type) as got:
        fn_ours()
    return got.value


TOL = {"float32": 1e-5, "float64": 1e-10}


# ---------------------------------------------------------------------------------------------------------------------
# Embedding

@needs_torch
@pytest.mark.parametrize("padding_idx", [None, 0, 3, -1])
def test_embedding_rows_and_gradient_scattered_back(padding_idx):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((10, 4)).astype(np.float32)
    idx = np.array([[1, 2, 1, 3], [9, 9, 0, 3], [3, 3, 3, 3]])  # repeated rows accumulate their gradients
    emb = lib.nn.Embedding(10, 4, padding_idx=padding_idx)
    ref = torch.nn.Embedding(10, 4, padding_idx=padding_idx)
    assert emb.padding_idx == ref.padding_idx
    assert tuple(emb.weight.shape) == (10, 4) and emb.weight.requires_grad
    if padding_idx is not None:
        assert not arr(emb.weight)[padding_idx].any(), "the padding row starts at zero"
    with lib.no_grad():
        emb.weight.copy_(ours(w))
    with torch.no_grad():
        ref.weight.copy_(theirs(w))
    out, expect = emb(ours(idx)), ref(theirs(idx))
    close(out, expect, 0)
    np.testing.assert_array_equal(arr(out), w[idx])  # the math: a row gather
    g = rng.standard_normal((3, 4, 4)).astype(np.float32)
    backward_with(out, ours(g))
    backward_with(expect, theirs(g))
    close(emb.weight.grad, ref.weight.grad, 1e-6)
    manual = np.zeros_like(w)
    np.add.at(manual, idx, g)
    if padding_idx is not None:
        manual[padding_idx] = 0  # the padding row gets no gradient
    close(emb.weight.grad, manual, 1e-5)


@needs_torch
def test_functional_embedding_matches():
    rng = np.random.default_rng(1)
    w = rng.standard_normal((7, 3))
    idx = np.array([0, 6, 6, 2])
    wo, wt = ours(w, requires_grad=True), theirs(w, requires_grad=True)
    out, ref = F.embedding(ours(idx), wo, padding_idx=6), torch.nn.functional.embedding(theirs(idx), wt, padding_idx=6)
    close(out, ref, 0)
    assert dtype_name(out) == dtype_name(ref) == "float64"
    out.sum().backward()
    ref.sum().backward()
    close(wo.grad, wt.grad, 0)


@needs_torch
@pytest.mark.parametrize("bad", [[10], [-1], [[0, 11]]])
def test_embedding_index_out_of_range(bad):
    emb, ref = lib.nn.Embedding(10, 3), torch.nn.Embedding(10, 3)
    err = same_error(lambda: emb(ours(bad, np.int64)), lambda: ref(theirs(bad, np.int64)))
    assert "out of range" in str(err)


@needs_torch
def test_embedding_errors():
    same_error(lambda: lib.nn.Embedding(5, 3)(ours([1.0])), lambda: torch.nn.Embedding(5, 3)(theirs([1.0])))
    same_error(lambda: lib.nn.Embedding(5, 3, padding_idx=5), lambda: torch.nn.Embedding(5, 3, padding_idx=5))


# ---------------------------------------------------------------------------------------------------------------------
# LayerNorm

@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape, normalized", [((2, 3, 8), 8), ((2, 3, 8), (8,)), ((4, 3, 5), (3, 5)), ((6,), 6)])
@pytest.mark.parametrize("affine, bias", [(True, True), (True, False), (False, True)])
def test_layer_norm_values_and_gradients(dtype, shape, normalized, affine, bias):
    rng = np.random.default_rng(2)
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    ln = lib.nn.LayerNorm(normalized, elementwise_affine=affine, bias=bias)
    ref = torch.nn.LayerNorm(normalized, elementwise_affine=affine, bias=bias)
    if dtype == "float64":
        ln, ref = ln.double(), ref.double()
    names = [n for n, _ in ref.named_parameters()]
    assert [n for n, _ in ln.named_parameters()] == names
    if not affine:
        assert ln.weight is None and ln.bias is None
    for name in names:  # not the trivial ones and zeros
        v = rng.standard_normal(getattr(ref, name).shape).astype(dtype)
        with lib.no_grad():
            getattr(ln, name).copy_(ours(v))
        with torch.no_grad():
            getattr(ref, name).copy_(theirs(v))
    xo, xt = ours(x, requires_grad=True), theirs(x, requires_grad=True)
    out, expect = ln(xo), ref(xt)
    assert dtype_name(out) == dtype
    close(out, expect, TOL[dtype] * 10)
    nd = 1 if isinstance(normalized, int) else len(normalized)
    axes = tuple(range(x.ndim - nd, x.ndim))
    y = (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + 1e-5)  # the math, biased variance
    if affine:
        y = y * arr(ref.weight) + (arr(ref.bias) if bias else 0)
    close(out, y.astype(dtype), 1e-4 if dtype == "float32" else 1e-10)
    g = rng.standard_normal(shape).astype(dtype)
    backward_with(out, ours(g))
    backward_with(expect, theirs(g))
    close(xo.grad, xt.grad, TOL[dtype] * 10)
    for name in names:
        close(getattr(ln, name).grad, getattr(ref, name).grad, TOL[dtype] * 10)


def test_layer_norm_gradcheck_float64():
    rng = np.random.default_rng(3)
    x = ours(rng.standard_normal((3, 2, 4)), requires_grad=True)
    w = ours(rng.standard_normal((2, 4)), requires_grad=True)
    b = ours(rng.standard_normal((2, 4)), requires_grad=True)
    check = lib.autograd.gradcheck if REF else lib.gradcheck
    assert check(lambda x, w, b: F.layer_norm(x, (2, 4), w, b, 1e-5), (x, w, b))
    assert check(lambda x: F.layer_norm(x, (4,)), (x,))


@needs_torch
def test_layer_norm_shape_error_and_eps():
    x = np.ones((2, 3), np.float32)
    err = same_error(lambda: lib.nn.LayerNorm(4)(ours(x)), lambda: torch.nn.LayerNorm(4)(theirs(x)))
    assert "4" in str(err) and "3" in str(err)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 6)) * 1e-3
    close(F.layer_norm(ours(x), (6,), eps=0.1), torch.nn.functional.layer_norm(theirs(x), (6,), eps=0.1), 1e-10)


# ---------------------------------------------------------------------------------------------------------------------
# GELU

@needs_torch
@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gelu_both_forms(approximate, dtype):
    x = np.linspace(-6, 6, 49).astype(dtype).reshape(7, 7)
    xo, xt = ours(x, requires_grad=True), theirs(x, requires_grad=True)
    out, ref = F.gelu(xo, approximate=approximate), torch.nn.functional.gelu(xt, approximate=approximate)
    assert dtype_name(out) == dtype
    close(out, ref, TOL[dtype])
    close(lib.nn.GELU(approximate=approximate)(ours(x)), ref, TOL[dtype])
    if approximate == "tanh":
        math_ = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
    else:
        math_ = 0.5 * x * (1 + np.vectorize(math.erf)(x / np.sqrt(2)))
    close(out, math_.astype(dtype), TOL[dtype] * 10)
    out.sum().backward()
    ref.sum().backward()
    close(xo.grad, xt.grad, TOL[dtype] * 10)


def test_gelu_default_is_exact_and_gradchecks():
    x = ours(np.linspace(-3, 3, 13), requires_grad=True)
    close(F.gelu(x), 0.5 * arr(x) * (1 + np.vectorize(math.erf)(arr(x) / np.sqrt(2))), 1e-12)
    check = lib.autograd.gradcheck if REF else lib.gradcheck
    assert check(lambda x: F.gelu(x), (x,))
    assert check(lambda x: F.gelu(x, approximate="tanh"), (x,))


@needs_torch
def test_gelu_bad_approximate():
    x = np.ones(3, np.float32)
    same_error(lambda: F.gelu(ours(x), approximate="fast"),
               lambda: torch.nn.functional.gelu(theirs(x), approximate="fast"))


# ---------------------------------------------------------------------------------------------------------------------
# tril / triu

@needs_torch
@pytest.mark.parametrize("shape", [(4, 5), (5, 3), (2, 3, 4), (2, 1, 3, 3)])
@pytest.mark.parametrize("diagonal", [-2, -1, 0, 1, 3])
def test_tril_triu(shape, diagonal):
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape)
    for name, np_fn in (("tril", np.tril), ("triu", np.triu)):
        xo, xt = ours(x, requires_grad=True), theirs(x, requires_grad=True)
        out = getattr(lib, name)(xo, diagonal=diagonal)
        ref = getattr(torch, name)(xt, diagonal=diagonal)
        close(out, ref, 0)
        close(out, np_fn(x, k=diagonal), 0)  # NumPy's works on the last two dimensions too
        close(getattr(xo, name)(diagonal), ref, 0)
        out.sum().backward()
        ref.sum().backward()
        close(xo.grad, xt.grad, 0)


@needs_torch
def test_tril_keeps_dtype_and_needs_two_dims():
    for a in (np.ones((3, 3), bool), np.arange(9).reshape(3, 3)):
        out, ref = lib.tril(ours(a)), torch.tril(theirs(a))
        assert dtype_name(out) == dtype_name(ref)
        close(out, ref, 0)
    same_error(lambda: lib.tril(ours(np.ones(3))), lambda: torch.tril(theirs(np.ones(3))))
    same_error(lambda: lib.triu(ours(np.float64(1.0))), lambda: torch.triu(theirs(np.float64(1.0))))


# ---------------------------------------------------------------------------------------------------------------------
# masked_fill

@needs_torch
@pytest.mark.parametrize("mask_shape", [(3, 4), (1, 4), (3, 1), (4,)])
def test_masked_fill_values_and_gradients(mask_shape):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    m = rng.random(mask_shape) < 0.5
    for value in (float("-inf"), 0.0, 2.5):
        xo, xt = ours(x, requires_grad=True), theirs(x, requires_grad=True)
        out, ref = xo.masked_fill(ours(m), value), xt.masked_fill(theirs(m), value)
        close(out, ref, 0)
        close(out, np.where(np.broadcast_to(m, x.shape), np.float32(value), x), 0)
        g = np.random.default_rng(7).standard_normal(x.shape).astype(np.float32)
        backward_with(out, ours(g))
        backward_with(ref, theirs(g))
        close(xo.grad, xt.grad, 0)  # no gradient into the filled places
    out = ours(x).masked_fill(ours(m), ours(np.float32(7.0)))  # a 0-dim tensor value
    close(out, theirs(x).masked_fill(theirs(m), theirs(np.float32(7.0))), 0)


@needs_torch
def test_masked_fill_errors():
    x, m = np.ones((2, 2), np.float32), np.ones(2, bool)
    same_error(lambda: ours(x).masked_fill(ours(np.ones(3, bool)), 0.0),
               lambda: theirs(x).masked_fill(theirs(np.ones(3, bool)), 0.0))
    same_error(lambda: ours(x).masked_fill(ours(np.ones(2, np.float32)), 0.0),
               lambda: theirs(x).masked_fill(theirs(np.ones(2, np.float32)), 0.0))
    same_error(lambda: ours(x).masked_fill(ours(m), ours(np.ones(2, np.float32))),
               lambda: theirs(x).masked_fill(theirs(m), theirs(np.ones(2, np.float32))))


# ---------------------------------------------------------------------------------------------------------------------
# scaled_dot_product_attention

def _sdpa_math(q, k, v, mask=None, causal=False, scale=None):
    """The formula, in NumPy: softmax(q k^T * scale + mask) v."""
    s = q @ np.swapaxes(k, -1, -2) * (1 / np.sqrt(q.shape[-1]) if scale is None else scale)
    if causal:
        mask = np.tril(np.ones((q.shape[-2], k.shape[-2]), bool))
    if mask is not None:
        s = np.where(mask, s, -np.inf) if mask.dtype == bool else s + mask
    s = np.exp(s - s.max(-1, keepdims=True))
    return (s / s.sum(-1, keepdims=True)) @ v


SDPA_CASES = [  # (q shape, k shape, v last dim, mask kind, is_causal, scale)
    ((2, 5, 8), (2, 5, 8), 8, None, False, None),
    ((2, 5, 8), (2, 5, 8), 8, None, True, None),
    ((2, 3, 5, 4), (2, 3, 5, 4), 4, None, True, None),
    ((2, 3, 4, 4), (2, 3, 6, 4), 5, None, True, None),  # L != S: PyTorch's causal mask is aligned top-left
    ((2, 3, 4, 4), (2, 3, 6, 4), 5, "bool", False, None),
    ((2, 3, 4, 4), (2, 3, 6, 4), 5, "float", False, 0.3),
    ((1, 2, 5, 8), (1, 2, 5, 8), 8, "bool-broadcast", False, None),
    ((3, 6, 4), (3, 6, 4), 4, None, False, 2.0),
]


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("qs, ks, dv, mask_kind, causal, scale", SDPA_CASES)
def test_sdpa_values_and_gradients(dtype, qs, ks, dv, mask_kind, causal, scale):
    rng = np.random.default_rng(7)
    q = rng.standard_normal(qs).astype(dtype)
    k = rng.standard_normal(ks).astype(dtype)
    v = rng.standard_normal(ks[:-1] + (dv,)).astype(dtype)
    mask = None
    if mask_kind == "bool":
        mask = rng.random((qs[-2], ks[-2])) < 0.7
        mask[:, 0] = True  # no row fully masked
    elif mask_kind == "bool-broadcast":
        mask = np.tril(np.ones((qs[-2], ks[-2]), bool))[None, None]
    elif mask_kind == "float":
        mask = rng.standard_normal(qs[:-1] + (ks[-2],)).astype(dtype)
    args_o = [ours(a, requires_grad=True) for a in (q, k, v)]
    args_t = [theirs(a, requires_grad=True) for a in (q, k, v)]
    kw_o = dict(attn_mask=None if mask is None else ours(mask), is_causal=causal, scale=scale)
    kw_t = dict(attn_mask=None if mask is None else theirs(mask), is_causal=causal, scale=scale)
    out = F.scaled_dot_product_attention(*args_o, **kw_o)
    ref = torch.nn.functional.scaled_dot_product_attention(*args_t, **kw_t)
    assert tuple(out.shape) == tuple(ref.shape) == qs[:-1] + (dv,) and dtype_name(out) == dtype
    close(out, ref, TOL[dtype] * 10)
    close(out, _sdpa_math(q.astype(np.float64), k, v, mask, causal, scale).astype(dtype), TOL[dtype] * 10)
    g = rng.standard_normal(tuple(ref.shape)).astype(dtype)
    backward_with(out, ours(g))
    backward_with(ref, theirs(g))
    for a, b in zip(args_o, args_t):
        close(a.grad, b.grad, TOL[dtype] * 10)


def test_sdpa_gradcheck_float64():
    rng = np.random.default_rng(8)
    q, k, v = (ours(rng.standard_normal((1, 2, 3, 4)), requires_grad=True) for _ in range(3))
    check = lib.autograd.gradcheck if REF else lib.gradcheck
    assert check(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True), (q, k, v))


@needs_torch
def test_sdpa_errors():
    f = np.float32
    q, k, v = np.ones((2, 3, 4), f), np.ones((2, 5, 4), f), np.ones((2, 5, 6), f)

    def both(qq, kk, vv, **kw):
        ko = {a: ours(b) if isinstance(b, np.ndarray) else b for a, b in kw.items()}
        kt = {a: theirs(b) if isinstance(b, np.ndarray) else b for a, b in kw.items()}
        return same_error(lambda: F.scaled_dot_product_attention(ours(qq), ours(kk), ours(vv), **ko),
                          lambda: torch.nn.functional.scaled_dot_product_attention(
                              theirs(qq), theirs(kk), theirs(vv), **kt))

    both(q, np.ones((2, 5, 3), f), v)  # q and k head sizes differ
    both(q, k, np.ones((2, 4, 6), f))  # k and v lengths differ
    err = both(q, k, v, attn_mask=np.ones((3, 5), bool), is_causal=True)
    assert "is_causal" in str(err)
    both(q, k, v, attn_mask=np.ones((4, 5), bool))  # the mask does not broadcast to (L, S)
    both(q, k.astype(np.float64), v)  # mixed dtypes


# ---------------------------------------------------------------------------------------------------------------------
# The model: tokenizer, batches, GPT

SMALL = dict(vocab_size=40, block_size=16, n_layer=2, n_head=2, n_embd=32, dropout=0.0, bias=True)


def _model(seed=0, **overrides):
    lib.manual_seed(seed)
    cfg = tmod.GPTConfig(**{**SMALL, **overrides})
    return tmod.GPT(cfg), cfg


def _torch_twin(model, cfg):
    """The same class, built from the same source under real PyTorch, with model's weights."""
    twin = tmod.build_under(torch)["GPT"](cfg)
    state = {k: torch.from_numpy(np.array(arr(v), copy=True)) for k, v in model.state_dict().items()}
    twin.load_state_dict(state)
    return twin


def test_config_defaults():
    cfg = tmod.GPTConfig(vocab_size=10, block_size=8, n_layer=1, n_head=2, n_embd=8)
    assert cfg.dropout == 0.0 and cfg.bias is True


def test_tokenizer_round_trip_and_batches():
    text = tmod.load_text()
    assert isinstance(text, str) and 10_000 < len(text.encode("utf-8")) <= 1_000_000
    tok = tmod.CharTokenizer(text)
    assert tok.vocab_size == len(set(text))
    sample = text[:200]
    ids = tok.encode(sample)
    assert len(ids) == len(sample) and all(0 <= i < tok.vocab_size for i in ids)
    assert tok.decode(ids) == sample
    data = ours(np.arange(100), np.int64)
    x, y = tmod.get_batch(data, 8, 5)
    assert tuple(x.shape) == tuple(y.shape) == (5, 8) and dtype_name(x) == dtype_name(y) == "int64"
    xa, ya = arr(x), arr(y)
    for row, nxt in zip(xa, ya):  # each row is a window of data, and y the same window one further
        np.testing.assert_array_equal(row, np.arange(row[0], row[0] + 8))
        np.testing.assert_array_equal(nxt, row + 1)
    assert 0 <= xa.min() and ya.max() <= 99


def test_tied_weights_are_one_tensor():
    model, cfg = _model()
    head = model.lm_head.weight
    embeddings = [m for m in model.modules() if isinstance(m, lib.nn.Embedding) and m.weight is head]
    assert len(embeddings) == 1 and tuple(head.shape) == (cfg.vocab_size, cfg.n_embd)
    params = list(model.parameters())
    assert sum(p is head for p in params) == 1, "a tied weight is one parameter, counted once"
    with lib.no_grad():
        embeddings[0].weight.fill_(0.5)
    assert (arr(model.lm_head.weight) == 0.5).all()  # one storage: a write through one name shows in the other


def test_loss_at_init_is_about_ln_vocab():
    model, cfg = _model()
    rng = np.random.default_rng(9)
    x = ours(rng.integers(0, cfg.vocab_size, (4, cfg.block_size)), np.int64)
    y = ours(rng.integers(0, cfg.vocab_size, (4, cfg.block_size)), np.int64)
    logits, loss = model(x, y)
    assert tuple(logits.shape) == (4, cfg.block_size, cfg.vocab_size)
    assert abs(loss.item() - math.log(cfg.vocab_size)) < 0.15
    logits, loss = model(x)
    assert loss is None


def test_kv_cache_generation_equals_recomputing():
    model, cfg = _model(seed=1)
    model.eval()
    prompt = ours([[1, 5, 2], [7, 7, 0]], np.int64)
    cached = model.generate(prompt, cfg.block_size - 3, temperature=0.0, use_kv_cache=True)
    plain = model.generate(prompt, cfg.block_size - 3, temperature=0.0, use_kv_cache=False)
    assert tuple(cached.shape) == (2, cfg.block_size)
    np.testing.assert_array_equal(arr(cached), arr(plain))
    np.testing.assert_array_equal(arr(cached)[:, :3], arr(prompt))


def test_configure_optimizer_gives_adamw():
    model, _ = _model()
    opt = model.configure_optimizer(weight_decay=0.1, lr=1e-3, betas=(0.9, 0.95))
    assert isinstance(opt, lib.optim.AdamW)
    in_groups = [p for group in opt.param_groups for p in group["params"]]
    assert len(in_groups) == len(list(model.parameters()))  # every parameter once, the tied one too


@needs_torch
def test_state_dict_loads_into_the_pytorch_build():
    model, cfg = _model()
    twin = _torch_twin(model, cfg)
    assert isinstance(twin, torch.nn.Module)
    assert sorted(model.state_dict()) == sorted(twin.state_dict())
    assert twin.lm_head.weight is [m for m in twin.modules() if isinstance(m, torch.nn.Embedding)][0].weight


@needs_torch
def test_twenty_adamw_steps_match_pytorch():
    model, cfg = _model(seed=2)
    twin = _torch_twin(model, cfg)
    model.train(), twin.train()
    opt = model.configure_optimizer(weight_decay=0.1, lr=3e-3, betas=(0.9, 0.95))
    topt = twin.configure_optimizer(weight_decay=0.1, lr=3e-3, betas=(0.9, 0.95))
    assert isinstance(topt, torch.optim.AdamW)
    rng = np.random.default_rng(10)
    tparams = dict(twin.named_parameters())
    losses, tlosses = [], []
    for step in range(20):
        seq = (rng.integers(0, cfg.vocab_size, (4, 1)) + 3 * np.arange(cfg.block_size + 1)) % cfg.vocab_size
        x, y = seq[:, :-1], seq[:, 1:]  # a learnable rule: the next token is 3 further
        opt.zero_grad()
        topt.zero_grad()
        _, loss = model(ours(x, np.int64), ours(y, np.int64))
        _, tloss = twin(theirs(x, np.int64), theirs(y, np.int64))
        loss.backward()
        tloss.backward()
        if step == 0:
            for name, p in model.named_parameters():
                g, tg = arr(p.grad), arr(tparams[name].grad)
                np.testing.assert_allclose(g, tg, rtol=1e-4, atol=1e-4 * np.abs(tg).max(), err_msg=name)
        opt.step()
        topt.step()
        losses.append(loss.item())
        tlosses.append(tloss.item())
    np.testing.assert_allclose(losses, tlosses, rtol=1e-4)
    assert losses[-1] < losses[0] - 0.5  # it learns the rule


@needs_torch
@pytest.mark.parametrize("use_kv_cache", [True, False])
def test_greedy_generation_matches_pytorch(use_kv_cache):
    model, cfg = _model(seed=3)
    twin = _torch_twin(model, cfg)
    model.eval(), twin.eval()
    prompt = np.array([[3, 1, 4, 1], [5, 9, 2, 6]])
    out = model.generate(ours(prompt, np.int64), 12, temperature=0.0, use_kv_cache=use_kv_cache)
    ref = twin.generate(theirs(prompt, np.int64), 12, temperature=0.0, use_kv_cache=use_kv_cache)
    np.testing.assert_array_equal(arr(out), arr(ref))


def test_the_long_run_script_runs(capsys):
    """tools/train_gpt.py (`make gpt`), as a smoke run: a tiny model, three steps, a sample."""
    spec = importlib.util.spec_from_file_location("train_gpt", ROOT / "tools" / "train_gpt.py")
    train_gpt = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train_gpt)
    assert train_gpt.main(["--smoke"] + (["--standin"] if REF else [])) == 0
    out = capsys.readouterr().out
    assert "bigram baseline" in out and "validation loss" in out and "sample" in out
    assert abs(train_gpt.lr_at(0, 100, 1.0, 10) - 0.1) < 1e-12 and train_gpt.lr_at(100, 100, 1.0, 10) == 0.1
    assert train_gpt.bigram_loss(np.array([0, 1, 0, 1]), np.array([0, 1]), 2) == pytest.approx(-math.log(3 / 4))


def _prefill_then_more(lib_, model, ids, first):
    """Logits of ids (B, T) fed as `first` tokens, then the rest in one block through the KV caches."""
    caches = [tmod.KVCache() if lib_ is lib else _torch_kv() for _ in model.h]
    with lib_.no_grad():
        a = model(ids[:, :first], caches=caches)[0]
        b = model(ids[:, first:], caches=caches)[0]
        return np.concatenate([np.asarray(arr(a)), np.asarray(arr(b))], axis=1)


def _torch_kv():
    return tmod.build_under(torch)["KVCache"]()


@pytest.mark.skipif(REF, reason="benchmarks/tiny_gpt.py, the stand-in, exports no KVCache class")
def test_kv_cache_prefill_then_a_block_equals_the_full_forward():
    """Feeding 4 tokens, then 4 more at once through the cache: query i of the new block sees the 4 cached keys
    and the new ones up to its own position (a mask aligned to the end, not is_causal's top-left one)."""
    model, cfg = _model(seed=4)
    model.eval()
    ids = np.random.default_rng(11).integers(0, cfg.vocab_size, (2, 8))
    with lib.no_grad():
        full = arr(model(ours(ids, np.int64))[0])
    stepped = _prefill_then_more(lib, model, ours(ids, np.int64), 4)
    np.testing.assert_allclose(stepped, full, rtol=1e-5, atol=1e-5)


@pytest.mark.skipif(REF, reason="benchmarks/tiny_gpt.py, the stand-in, exports no KVCache class")
@needs_torch
def test_kv_cache_prefill_then_a_block_matches_pytorch():
    model, cfg = _model(seed=4)
    twin = _torch_twin(model, cfg)
    model.eval(), twin.eval()
    ids = np.random.default_rng(12).integers(0, cfg.vocab_size, (2, 8))
    with torch.no_grad():
        full_pt = twin(theirs(ids, np.int64))[0].numpy()
    np.testing.assert_allclose(_prefill_then_more(torch, twin, theirs(ids, np.int64), 3), full_pt, rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_allclose(_prefill_then_more(lib, model, ours(ids, np.int64), 3), full_pt, rtol=1e-4,
                               atol=1e-4)


def test_sampling_with_top_k_one_is_greedy():
    """generate samples with torch.multinomial over the softmax; with top_k=1 only the most likely token is left."""
    model, cfg = _model(seed=5)
    model.eval()
    prompt = ours([[2, 4, 6], [1, 1, 0]], np.int64)
    sampled = model.generate(prompt, 6, temperature=0.9, top_k=1)
    greedy = model.generate(prompt, 6, temperature=0.0)
    np.testing.assert_array_equal(arr(sampled), arr(greedy))
