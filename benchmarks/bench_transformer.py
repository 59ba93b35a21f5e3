"""Notebook 07: one GPT training step (forward, loss, backward, AdamW step), and greedy generation with and
without the KV cache, course_lib vs PyTorch CPU side by side.

Target (issue 19): the training step at most 1.5x PyTorch. Both sides run the same model class built from one
source (`build_under(torch)`), start from the same weights (course_lib's state_dict) and see the same batch.
The model is notebook 07's (`course_lib.transformer`) when it is exported, else benchmarks/tiny_gpt.py, the same
architecture in plain PyTorch-style code. Generation tokens/s = new tokens / time per call.

    python benchmarks/run.py -k transformer
    python benchmarks/bench_transformer.py --profile     # where course_lib's training step spends its time
"""
import importlib
import importlib.util
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Case, optional_torch  # noqa: E402

# The notebook's model and batch (its training cell: 400 steps within 60 s on a 2-core machine; 61 characters)
CONFIG = dict(vocab_size=61, block_size=32, n_layer=2, n_head=4, n_embd=64, dropout=0.0, bias=True)
BATCH = 32
PROMPT, NEW_TOKENS = 8, 24  # within the block: the KV cache holds the whole context


def _source():
    """(GPTConfig, build_under): notebook 07's module when it is there, else the benchmark's own GPT."""
    if importlib.util.find_spec("course_lib.transformer") is not None:
        mod = importlib.import_module("course_lib.transformer")
        return mod.GPTConfig, mod.build_under, "course_lib.transformer"
    import tiny_gpt
    return tiny_gpt.GPTConfig, tiny_gpt.build_under, "benchmarks/tiny_gpt.py"


def models():
    """(course_lib model, torch model or None, config): the same weights on both sides."""
    import course_lib

    GPTConfig, build_under, _ = _source()
    cfg = GPTConfig(**CONFIG)
    course_lib.manual_seed(0)
    model = build_under(course_lib)["GPT"](cfg)
    torch = optional_torch()
    twin = None
    if torch is not None:
        twin = build_under(torch)["GPT"](cfg)
        twin.load_state_dict({k: torch.from_numpy(np.array(v.detach().numpy(), copy=True))
                              for k, v in model.state_dict().items()})
    return model, twin, cfg


def _batch(cfg, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, cfg.vocab_size, (BATCH, cfg.block_size)).astype(np.int64)
    y = rng.integers(0, cfg.vocab_size, (BATCH, cfg.block_size)).astype(np.int64)
    return x, y


def _stepper(model, xb, yb):
    """One training step of `model` on the batch (forward, loss, backward, AdamW step): the same on both sides."""
    opt = model.configure_optimizer(weight_decay=0.1, lr=1e-3, betas=(0.9, 0.95))

    def step():
        opt.zero_grad()
        _, loss = model(xb, yb)
        loss.backward()
        opt.step()
        return loss
    return step


def _training_step():
    import course_lib

    model, twin, cfg = models()
    x, y = _batch(cfg)
    impls = {"course_lib": _stepper(model, course_lib.from_numpy(x), course_lib.from_numpy(y))}
    if twin is not None:
        torch = optional_torch()
        impls["torch"] = _stepper(twin, torch.from_numpy(x), torch.from_numpy(y))
    return impls


def _generation(use_kv_cache):
    def setup():
        import course_lib

        model, twin, cfg = models()
        model.eval()
        prompt = np.arange(PROMPT, dtype=np.int64).reshape(1, PROMPT) % cfg.vocab_size
        p = course_lib.from_numpy(prompt)
        impls = {"course_lib": lambda: model.generate(p, NEW_TOKENS, temperature=0.0, use_kv_cache=use_kv_cache)}
        if twin is not None:
            torch = optional_torch()
            twin.eval()
            tp = torch.from_numpy(prompt)
            impls["torch"] = lambda: twin.generate(tp, NEW_TOKENS, temperature=0.0, use_kv_cache=use_kv_cache)
        return impls
    return setup


_SHAPE = (f"{CONFIG['n_layer']} layers, {CONFIG['n_head']} heads, n_embd {CONFIG['n_embd']}, "
          f"block {CONFIG['block_size']}")
CASES = [
    Case(f"transformer: GPT training step ({_SHAPE}, batch {BATCH}), AdamW", _training_step, rounds=31),  # ~1 step a sample
    Case(f"transformer: generate {NEW_TOKENS} tokens greedy, KV cache", _generation(True)),
    Case(f"transformer: generate {NEW_TOKENS} tokens greedy, no cache", _generation(False)),
]


def profile(steps=30, top=25):
    """cProfile course_lib's training step: the functions with the most own time, and the most cumulative."""
    import cProfile
    import pstats

    step = _training_step()["course_lib"]
    for _ in range(3):
        step()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(steps):
        step()
    prof.disable()
    stats = pstats.Stats(prof).strip_dirs()
    print(f"model: {_source()[2]}, {steps} steps")
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    if "--profile" in sys.argv:
        profile()
    else:
        from harness import table, time_case
        print(table([(c.name, time_case(c.setup())) for c in CASES]))
