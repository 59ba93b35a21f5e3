"""A small GPT in plain PyTorch-style code, built under any torch-like module (course_lib or torch).

The benchmark's own model (bench_transformer.py times it when notebook 07's `course_lib.transformer` is not there),
and the stand-in for that module's interface in tests/test_transformer.py's self-check mode (COURSE_TRANSFORMER_REF=
torch runs the tests with real PyTorch on both sides). `build_under(torch_module)` returns {"GPTConfig", "GPT", ...}
built from this one source: the same code, the same parameter names, on either library.

Pieces a library may not have yet (Embedding, LayerNorm, GELU, scaled_dot_product_attention, tril) are composed
from ops it has, so the profile shows where a GPT's time goes either way.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass
class GPTConfig:
    vocab_size: int = 65
    block_size: int = 64
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 64
    dropout: float = 0.0
    bias: bool = True


def build_under(torch):
    """The model classes of this file, written against `torch` (a module: course_lib or torch)."""
    nn, F = torch.nn, torch.nn.functional

    class _Embedding(nn.Module):  # composed stand-in: a row gather, its gradient scattered back by indexing
        def __init__(self, num_embeddings, embedding_dim):
            super().__init__()
            self.weight = nn.Parameter(torch.randn(num_embeddings, embedding_dim))

        def forward(self, idx):
            return self.weight[idx]

    class _LayerNorm(nn.Module):  # composed stand-in over the last dimension
        def __init__(self, n, eps=1e-5, bias=True):
            super().__init__()
            self.eps = eps
            self.weight = nn.Parameter(torch.ones(n))
            self.bias = nn.Parameter(torch.zeros(n)) if bias else None

        def forward(self, x):
            mu = x.mean(dim=-1, keepdim=True)
            xc = x - mu
            var = (xc * xc).mean(dim=-1, keepdim=True)
            y = xc / (var + self.eps).sqrt() * self.weight
            return y + self.bias if self.bias is not None else y

    Embedding = getattr(nn, "Embedding", _Embedding)
    LayerNorm = (lambda n, bias=True: nn.LayerNorm(n, bias=bias)) if hasattr(nn, "LayerNorm") else _LayerNorm

    def gelu(x):  # the tanh form, so both libraries compute the same function
        if hasattr(F, "gelu"):
            return F.gelu(x, approximate="tanh")
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)))

    def causal_mask(t):
        if hasattr(torch, "tril"):
            return torch.tril(torch.ones(t, t, dtype=torch.bool))
        return torch.from_numpy(np.tril(np.ones((t, t), dtype=bool)))

    def attention(q, k, v):
        if hasattr(F, "scaled_dot_product_attention"):
            return F.scaled_dot_product_attention(q, k, v, is_causal=q.shape[-2] > 1 and q.shape[-2] == k.shape[-2])
        t, s = q.shape[-2], k.shape[-2]
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.shape[-1]))
        if t > 1:  # a cached single-token query sees every key
            att = att.masked_fill(causal_mask(s)[s - t:] == False, float("-inf"))  # noqa: E712
        return F.softmax(att, dim=-1) @ v

    class CausalSelfAttention(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.n_head, self.n_embd = config.n_head, config.n_embd
            self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
            self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
            self.resid_dropout = nn.Dropout(config.dropout)

        def forward(self, x, cache=None):
            b, t, c = x.shape
            h = self.n_head
            q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
            q = q.view(b, t, h, c // h).transpose(1, 2)
            k = k.view(b, t, h, c // h).transpose(1, 2)
            v = v.view(b, t, h, c // h).transpose(1, 2)
            if cache is not None:
                if cache.get("k") is not None:
                    k = torch.cat([cache["k"], k], dim=2)
                    v = torch.cat([cache["v"], v], dim=2)
                cache["k"], cache["v"] = k, v
            y = attention(q, k, v).transpose(1, 2).contiguous().view(b, t, c)
            return self.resid_dropout(self.c_proj(y))

    class MLP(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
            self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
            self.dropout = nn.Dropout(config.dropout)

        def forward(self, x):
            return self.dropout(self.c_proj(gelu(self.c_fc(x))))

    class Block(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.ln_1 = LayerNorm(config.n_embd, bias=config.bias)
            self.attn = CausalSelfAttention(config)
            self.ln_2 = LayerNorm(config.n_embd, bias=config.bias)
            self.mlp = MLP(config)

        def forward(self, x, cache=None):
            x = x + self.attn(self.ln_1(x), cache)
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.config = config
            self.wte = Embedding(config.vocab_size, config.n_embd)
            self.wpe = Embedding(config.block_size, config.n_embd)
            self.drop = nn.Dropout(config.dropout)
            self.h = nn.ModuleList([Block(config) for _ in range(config.n_layer)])
            self.ln_f = LayerNorm(config.n_embd, bias=config.bias)
            self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
            self.lm_head.weight = self.wte.weight  # weight tying
            with torch.no_grad():
                for name, p in self.named_parameters():
                    if name.endswith("c_proj.weight"):
                        p.normal_(0.0, 0.02 / math.sqrt(2 * config.n_layer))
                    elif p.dim() == 2:
                        p.normal_(0.0, 0.02)
                    elif name.endswith("bias"):
                        p.zero_()

        def forward(self, idx, targets=None, caches=None, start=0):
            b, t = idx.shape
            pos = torch.arange(start, start + t, dtype=torch.int64)
            x = self.drop(self.wte(idx) + self.wpe(pos))
            for i, block in enumerate(self.h):
                x = block(x, None if caches is None else caches[i])
            logits = self.lm_head(self.ln_f(x))
            loss = None
            if targets is not None:
                loss = F.cross_entropy(logits.view(b * t, -1), targets.view(b * t))
            return logits, loss

        def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None, use_kv_cache=True):
            """Append max_new_tokens tokens: greedy when temperature == 0, else sampled (NumPy's generator, seeded
            by `self.sample_seed`: the stand-in does not need the library's own multinomial)."""
            bs = self.config.block_size
            rng = np.random.default_rng(getattr(self, "sample_seed", 0))
            with torch.no_grad():
                caches = None
                for _ in range(max_new_tokens):
                    if use_kv_cache and idx.shape[1] <= bs:
                        if caches is None:
                            caches = [{} for _ in self.h]
                            logits, _ = self(idx, caches=caches)
                        else:
                            logits, _ = self(idx[:, -1:], caches=caches, start=idx.shape[1] - 1)
                    else:
                        logits, _ = self(idx[:, -bs:])
                    logits = logits[:, -1, :]
                    if temperature == 0:
                        nxt = logits.argmax(dim=-1, keepdim=True)
                    else:
                        z = logits.numpy().astype(np.float64) / temperature
                        if top_k is not None:
                            kth = np.sort(z, axis=-1)[:, -min(top_k, z.shape[-1])][:, None]
                            z = np.where(z < kth, -np.inf, z)
                        p = np.exp(z - z.max(-1, keepdims=True))
                        p /= p.sum(-1, keepdims=True)
                        picks = [[rng.choice(len(row), p=row)] for row in p]
                        nxt = torch.from_numpy(np.array(picks, dtype=np.int64))
                    idx = torch.cat([idx, nxt], dim=1)
            return idx

        def configure_optimizer(self, weight_decay, lr, betas):
            params = list(self.parameters())
            decay = [p for p in params if p.dim() >= 2]
            no_decay = [p for p in params if p.dim() < 2]
            return torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                                      {"params": no_decay, "weight_decay": 0.0}], lr=lr, betas=betas)

    return {"GPTConfig": GPTConfig, "GPT": GPT, "Block": Block, "CausalSelfAttention": CausalSelfAttention,
            "MLP": MLP}


class CharTokenizer:
    def __init__(self, text):
        self.chars = sorted(set(text))
        self.vocab_size = len(self.chars)
        self.stoi = {c: i for i, c in enumerate(self.chars)}

    def encode(self, s):
        return [self.stoi[c] for c in s]

    def decode(self, ids):
        return "".join(self.chars[int(i)] for i in ids)


def get_batch(data, block_size, batch_size, generator=None):
    """(x, y): batch_size random windows of `data` (a 1-D int64 tensor) and the same windows shifted by one."""
    import importlib

    torch = importlib.import_module(type(data).__module__.split(".")[0])
    rng = generator if generator is not None else np.random.default_rng()
    ix = rng.integers(0, len(data) - block_size, batch_size)
    x = torch.stack([data[i:i + block_size] for i in ix])
    y = torch.stack([data[i + 1:i + 1 + block_size] for i in ix])
    return x, y


def load_text():
    """A deterministic stand-in text (the real module loads a public-domain book)."""
    rng = np.random.default_rng(0)
    words = ["the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "to", "it", "was", "good"]
    return " ".join(words[i] for i in rng.integers(0, len(words), 20_000)) + ".\n"
