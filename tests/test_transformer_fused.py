"""Notebook 07's fused nodes (its "Beyond the core" speed part) against the core versions they stand in for, and
against PyTorch: FusedAttention (F.scaled_dot_product_attention), FusedLayerNorm (F.layer_norm) and the sorted
scatter-add of Embedding's backward.

- values and the gradients of every input equal the core's (float64 to 1e-12, float32 to float32 rounding) for the
  masks the fused node takes (is_causal, bool, float with batch dims, none) and the shapes that fall back;
- second derivatives (create_graph=True) equal finite differences and PyTorch's: the core LayerNorm's did not;
- a query with every key masked gets weights 0 (PyTorch's fused kernel; the composed softmax gives NaN);
- a learner's version of an exercise, once installed, is what runs (the fused node steps aside);
- the GPT trains on the 'sim' device (NumPy behind a GPU-like array module) exactly as on the CPU, and on
  'cuda' within 1e-4 where a GPU is present (skipped elsewhere);
- several threads at once give each its own right answer.
"""
import threading

import numpy as np
import pytest

import course_lib
from course_lib.checks import gradcheck
from course_lib.exercise import runs_reference

tmod = pytest.importorskip("course_lib.transformer")
F = course_lib.nn.functional
rng = np.random.default_rng(7)


def t(a, grad=True):
    return course_lib.tensor(a, requires_grad=grad)


def run(fn, arrays, seed_grad, **kw):
    """fn's output and the gradients of its tensor inputs for one upstream gradient."""
    ins = [t(a) for a in arrays]
    out = fn(*ins, **kw)
    out.backward(course_lib.tensor(seed_grad))
    return [out.detach().numpy()] + [x.grad.numpy() for x in ins], out.grad_fn


def close(a, b, dtype):
    tol = 1e-12 if dtype == np.float64 else 2e-5
    return all(np.allclose(x, y, rtol=tol, atol=tol) for x, y in zip(a, b))


MASKS = ["causal", "bool", "float_batch", "none", "bool_1d"]


def mask_kw(kind, L, S, dtype):
    if kind == "causal":
        return dict(is_causal=True)
    if kind == "bool":
        m = rng.random((L, S)) < 0.6
        m[:, 0] = True
        return dict(attn_mask=course_lib.tensor(m))
    if kind == "bool_1d":
        m = rng.random(S) < 0.6
        m[0] = True
        return dict(attn_mask=course_lib.tensor(m))
    if kind == "float_batch":
        return dict(attn_mask=course_lib.tensor(rng.standard_normal((3, L, S)).astype(dtype)))
    return {}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", MASKS)
@pytest.mark.parametrize("L,S,E,Ev", [(5, 5, 4, 4), (3, 7, 4, 6), (6, 4, 8, 2), (1, 9, 4, 4)])
def test_fused_attention_equals_core(dtype, kind, L, S, E, Ev):
    arrays = [rng.standard_normal(s).astype(dtype) for s in ((2, 3, L, E), (2, 3, S, E), (2, 3, S, Ev))]
    g = rng.standard_normal((2, 3, L, Ev)).astype(dtype)
    kw = mask_kw(kind, L, S, dtype)
    fused, node = run(F.scaled_dot_product_attention, arrays, g, **kw)
    core, _ = run(tmod._attention_composed, arrays, g, **kw)
    assert isinstance(node, tmod.FusedAttention)
    assert close(fused, core, dtype)


def test_attention_falls_back_where_the_fused_node_cannot():
    q, k, v = (rng.standard_normal((2, 4, 3)) for _ in range(3))
    # dropout, a mask requiring grad, mixed dtypes, broadcast batch dims: the core version (and its errors)
    assert not isinstance(F.scaled_dot_product_attention(t(q), t(k), t(v), dropout_p=0.5).grad_fn, tmod.FusedAttention)
    m = t(rng.standard_normal((4, 4)))
    out = F.scaled_dot_product_attention(t(q), t(k), t(v), attn_mask=m)
    out.sum().backward()
    assert m.grad is not None and not isinstance(out.grad_fn, tmod.FusedAttention)
    with pytest.raises(RuntimeError):
        F.scaled_dot_product_attention(t(q), t(k.astype(np.float32)), t(v))
    out = F.scaled_dot_product_attention(t(rng.standard_normal((2, 1, 4, 3))), t(rng.standard_normal((3, 4, 3))),
                                         t(rng.standard_normal((3, 4, 3))))
    assert out.shape == (2, 3, 4, 3) and not isinstance(out.grad_fn, tmod.FusedAttention)
    with pytest.raises(RuntimeError, match="is_causal"):
        F.scaled_dot_product_attention(t(q), t(k), t(v), attn_mask=course_lib.ones(4, 4, dtype=course_lib.bool),
                                       is_causal=True)


def test_fully_masked_query_gets_zero_weights_as_torch():
    torch = pytest.importorskip("torch")
    q, k, v = (rng.standard_normal((2, 5, 4)) for _ in range(3))
    m = rng.random((5, 5)) < 0.6
    m[:, 0], m[3] = True, False
    g = rng.standard_normal((2, 5, 4))
    ours, _ = run(F.scaled_dot_product_attention, (q, k, v), g, attn_mask=course_lib.tensor(m))
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    out = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, attn_mask=torch.tensor(m))
    out.backward(torch.tensor(g))
    theirs = [x.detach().numpy() for x in (out, tq.grad, tk.grad, tv.grad)]
    assert np.all(ours[0][:, 3] == 0)
    assert close(ours, theirs, np.float64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,norm,affine", [((4, 6), (6,), "both"), ((2, 3, 4), (3, 4), "both"),
                                               ((5, 3), (3,), "none"), ((3, 2, 5), (5,), "weight")])
def test_fused_layer_norm_equals_core(dtype, shape, norm, affine):
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    params = {"both": [rng.standard_normal(norm).astype(dtype)] * 2, "weight": [rng.standard_normal(norm).astype(dtype)],
              "none": []}[affine]
    g = rng.standard_normal(shape).astype(dtype)

    def call(fn):
        def f(x, *p):
            return fn(x, norm, *p)
        return f

    fused, node = run(call(F.layer_norm), [x, *params], g)
    core, _ = run(call(tmod._layer_norm_composed), [x, *params], g)
    assert isinstance(node, tmod.FusedLayerNorm) and type(node).__name__ == "NativeLayerNormBackward0"
    assert close(fused, core, dtype)


def test_second_derivatives_match_finite_differences():
    weight, probe = course_lib.tensor(rng.standard_normal(5)), course_lib.tensor(rng.standard_normal((3, 5)))

    def ln_grad(x):
        return course_lib.autograd.grad((probe * F.layer_norm(x, (5,), weight) ** 3).sum(), x, create_graph=True)[0]

    def core_ln_grad(x):
        return course_lib.autograd.grad((probe * tmod._layer_norm_composed(x, (5,), weight) ** 3).sum(), x,
                                        create_graph=True)[0]

    def attn_grad(q):
        out = F.scaled_dot_product_attention(q, q * 2, q.cos(), is_causal=True)
        return course_lib.autograd.grad((probe[:2, :3].sum() * out ** 2).sum(), q, create_graph=True)[0]

    x = t(rng.standard_normal((3, 5)))
    assert gradcheck(ln_grad, (x,))
    assert not gradcheck(core_ln_grad, (x,), raise_exception=False)  # the core treats x̂ and rstd as constants
    assert gradcheck(attn_grad, (t(rng.standard_normal((2, 4, 3))),))


def test_second_derivatives_match_torch():
    torch = pytest.importorskip("torch")
    a, w, c = rng.standard_normal((3, 5)), rng.standard_normal(5), rng.standard_normal((3, 5))
    q = rng.standard_normal((2, 4, 3))
    results = []
    for lib in (course_lib, torch):
        x, W = lib.tensor(a, requires_grad=True), lib.tensor(w, requires_grad=True)
        y = lib.nn.functional.layer_norm(x, (5,), W)
        (g,) = lib.autograd.grad((y * y * y).sum(), x, create_graph=True)
        hx, hw = lib.autograd.grad((g * lib.tensor(c)).sum(), (x, W))
        Q = lib.tensor(q, requires_grad=True)
        out = lib.nn.functional.scaled_dot_product_attention(Q, Q * 2, Q * 3, is_causal=True)
        (gq,) = lib.autograd.grad((out * out).sum(), Q, create_graph=True)
        (hq,) = lib.autograd.grad((gq * gq).sum(), Q)
        results.append([h.detach().numpy() for h in (hx, hw, hq)])
    assert close(results[0], results[1], np.float64)


def test_your_exercise_runs_instead_of_the_fused_node(monkeypatch):
    for target in ("transformer:causal_attention_scores", "transformer:LayerNormFunction.backward"):
        assert runs_reference(target)
    calls = []
    reference_scores = tmod.causal_attention_scores

    def yours(q, k, scale):
        calls.append("scores")
        return reference_scores(q, k, scale)

    reference_backward = tmod.LayerNormFunction.backward

    def your_backward(ctx, grad):
        calls.append("layer_norm")
        return reference_backward(ctx, grad)

    monkeypatch.setattr(tmod, "causal_attention_scores", yours)
    monkeypatch.setattr(tmod.LayerNormFunction, "backward", staticmethod(your_backward))
    assert not runs_reference("transformer:causal_attention_scores")
    q = t(rng.standard_normal((2, 4, 3)))
    out = F.scaled_dot_product_attention(q, q, q, is_causal=True)
    assert not isinstance(out.grad_fn, tmod.FusedAttention) and calls == ["scores"]
    x = t(rng.standard_normal((2, 4)))
    F.layer_norm(x, (4,)).pow(2).sum().backward()
    assert calls == ["scores", "layer_norm"]
    monkeypatch.undo()
    assert runs_reference("transformer:causal_attention_scores")


def test_sorted_scatter_add_equals_ufunc_at():
    for n, rows in [(0, 7), (1, 7), (500, 7), (500, 1), (3000, 50)]:
        index = rng.integers(0, rows, n)
        whole = rng.integers(-5, 5, (n, 4)).astype(np.float32)
        fast, core = np.zeros((rows, 4), np.float32), np.zeros((rows, 4), np.float32)
        tmod._scatter_add(np, fast, index, whole)
        tmod._scatter_add_at(np, core, index, whole)
        assert np.array_equal(fast, core)


@pytest.mark.parametrize("other", ["sim", "cuda"])
def test_gpt_trains_on_another_device_as_on_the_cpu(other):
    """'sim' (NumPy behind a GPU-like array module) everywhere; 'cuda' where CuPy finds a GPU (issue 19's GPU run)."""
    if other == "cuda" and not course_lib.cuda.is_available():
        pytest.skip("no CUDA device: course_lib.cuda.is_available() is False")
    if other == "sim":
        from course_lib.simdevice import register_sim_device
        register_sim_device()
    cfg = tmod.GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16)
    x, y = rng.integers(0, 11, (4, 8)), rng.integers(0, 11, (4, 8))
    losses = {}
    for device in ("cpu", other):
        course_lib.manual_seed(0)
        model = tmod.GPT(cfg).to(device)
        opt = model.configure_optimizer(weight_decay=0.1, lr=1e-2, betas=(0.9, 0.95))
        xb, yb = course_lib.tensor(x).to(device), course_lib.tensor(y).to(device)
        losses[device] = []
        for _ in range(3):
            opt.zero_grad()
            _, loss = model(xb, yb)
            loss.backward()
            opt.step()
            losses[device].append(loss.item())
        assert str(next(model.parameters()).device).startswith(device)
    assert np.allclose(losses["cpu"], losses[other], rtol=1e-6 if other == "sim" else 1e-4), losses


def test_threads_each_get_their_own_answer():
    cases = [[rng.standard_normal((2, 3, 6, 4)) for _ in range(3)] for _ in range(4)]
    expected = [run(tmod._attention_composed, c, np.ones((2, 3, 6, 4)), is_causal=True)[0] for c in cases]
    got, errors = [None] * len(cases), []

    def work(i):
        try:
            for _ in range(20):
                got[i] = run(F.scaled_dot_product_attention, cases[i], np.ones((2, 3, 6, 4)), is_causal=True)[0]
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(cases))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors and all(close(g, e, np.float64) for g, e in zip(got, expected))
