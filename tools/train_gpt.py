"""The longer run of notebook 07's GPT (`make gpt`): about 10 minutes on a 2-core machine.

Trains notebook 07's model (`course_lib.transformer`), bigger and longer than in the notebook, on the same text:
AdamW, warm-up then cosine learning-rate decay, gradient clipping. Prints the validation loss against the bigram
baseline (counted on the training split, add-one smoothed) and a sample, and writes the summary to
benchmarks/gpt_run.txt (not tracked: machine-dependent).

    python tools/train_gpt.py [--minutes 10] [--steps 5000] [--out benchmarks/gpt_run.txt]
    python tools/train_gpt.py --smoke        # a few steps of a tiny model: does the pipeline run?

The run is time-budgeted: it times its first steps, then fixes the number of steps (and so the schedule) to what
fits in --minutes. --standin runs benchmarks/tiny_gpt.py's model instead (a check of this script on its own).
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import course_lib  # noqa: E402

# notebook 07 trains block 32, 2 layers, n_embd 64 for 400 steps; here twice the context, twice the depth, 1.5x the width
CONFIG = dict(block_size=64, n_layer=4, n_head=4, n_embd=96, dropout=0.1, bias=True)
SMOKE = dict(block_size=16, n_layer=1, n_head=2, n_embd=16, dropout=0.0, bias=True)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=10.0, help="training time budget (evaluation not counted)")
    p.add_argument("--steps", type=int, default=5000, help="at most this many steps")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=5e-3, help="the peak learning rate")
    p.add_argument("--warmup", type=int, help="warm-up steps (default: a tenth of the run, at most 200)")
    p.add_argument("--eval-batches", type=int, default=20)
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "gpt_run.txt")
    p.add_argument("--smoke", action="store_true", help="a tiny model for a few steps")
    p.add_argument("--standin", action="store_true", help="benchmarks/tiny_gpt.py's model, not notebook 07's")
    return p.parse_args(argv)


def source(standin):
    if standin:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        import tiny_gpt
        return tiny_gpt.GPTConfig, tiny_gpt.build_under(course_lib)["GPT"], tiny_gpt
    from course_lib import transformer
    return transformer.GPTConfig, transformer.GPT, transformer


def lr_at(step, total, peak, warmup):
    """Linear warm-up to `peak`, then cosine decay to peak / 10 at `total`."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def bigram_loss(train_ids, val_ids, vocab):
    """Cross-entropy (nats/char) on val of next-char counts from train, add-one smoothed: the baseline."""
    counts = np.ones((vocab, vocab))
    np.add.at(counts, (train_ids[:-1], train_ids[1:]), 1)
    logp = np.log(counts / counts.sum(1, keepdims=True))
    return float(-logp[val_ids[:-1], val_ids[1:]].mean())


def estimate_loss(model, data, block, batch, n, get_batch):
    """Mean loss over the same n random windows at every call (a fixed NumPy generator), without a graph."""
    model.eval()
    total, windows = 0.0, np.random.default_rng(0)
    with course_lib.no_grad():
        for _ in range(n):
            x, y = get_batch(data, block, batch, generator=windows)
            total += model(x, y)[1].item()
    model.train()
    return total / n


def main(argv=None):
    args = parse_args(argv)
    with threadpool_limits(1, user_api="blas"):  # as in the notebook: small matrices, and BLAS threads cost more
        return run(args)                          # than they gain on a busy 2-core machine


def run(args):
    GPTConfig, GPT, mod = source(args.standin)
    course_lib.manual_seed(args.seed)
    text = mod.load_text()
    tok = mod.CharTokenizer(text)
    ids = np.array(tok.encode(text), dtype=np.int64)
    split = int(0.9 * len(ids))
    train_ids, val_ids = ids[:split], ids[split:]
    train, val = course_lib.from_numpy(train_ids.copy()), course_lib.from_numpy(val_ids.copy())
    shape = SMOKE if args.smoke else CONFIG
    cfg = GPTConfig(vocab_size=tok.vocab_size, **shape)
    model = GPT(cfg)
    n_params = sum(p.numel() for p in model.parameters())
    opt = model.configure_optimizer(weight_decay=0.1, lr=args.lr, betas=(0.9, 0.95))
    baseline = bigram_loss(train_ids, val_ids, tok.vocab_size)
    max_steps = 3 if args.smoke else args.steps
    eval_batches = 2 if args.smoke else args.eval_batches
    print(f"{len(text):,} characters, vocabulary {tok.vocab_size}; model {shape}, {n_params:,} parameters; "
          f"bigram baseline {baseline:.3f} nats/char on the validation split", flush=True)

    total, budget, started, trained_s, step = max_steps, args.minutes * 60, time.perf_counter(), 0.0, 0
    curve, batches, timed_from = [], np.random.default_rng(args.seed), 0.0
    while step < total:
        warmup = min(200, max(1, total // 10))
        t0 = time.perf_counter()
        for group in opt.param_groups:
            group["lr"] = lr_at(step, total, args.lr, warmup if args.warmup is None else args.warmup)
        x, y = mod.get_batch(train, cfg.block_size, args.batch, generator=batches)
        _, loss = model(x, y)
        opt.zero_grad()
        loss.backward()
        course_lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        trained_s += time.perf_counter() - t0
        step += 1
        if step == 5:
            timed_from = trained_s
        if step in (15, 50) and not args.smoke:  # fix the schedule's length to what fits (first steps are slower)
            per_step = (trained_s - timed_from) / (step - 5)
            total = max(step + 1, min(max_steps, step + int((budget - trained_s) / per_step)))
            print(f"{per_step * 1e3:.0f} ms/step: {total} steps fit in {args.minutes:g} min", flush=True)
        if step % 250 == 0 or step == total:
            v = estimate_loss(model, val, cfg.block_size, args.batch, eval_batches, mod.get_batch)
            curve.append((step, loss.item(), v))
            print(f"step {step:5d}/{total}  train {loss.item():.3f}  val {v:.3f}  "
                  f"({time.perf_counter() - started:.0f} s)", flush=True)

    val_loss = curve[-1][2]
    model.eval()
    prompt = course_lib.from_numpy(np.array([tok.encode("\n" if "\n" in text else text[0])], dtype=np.int64))
    sample = tok.decode(model.generate(prompt, 60 if args.smoke else 400, temperature=0.8, top_k=20)[0].tolist())
    lines = [
        f"notebook 07's GPT, longer run ({'stand-in model' if args.standin else 'course_lib.transformer'})",
        f"model: {shape}, {n_params:,} parameters, vocabulary {tok.vocab_size}",
        f"{total} steps of batch {args.batch} in {trained_s:.0f} s ({trained_s / total * 1e3:.0f} ms/step)",
        f"validation loss {val_loss:.3f} nats/char; bigram baseline {baseline:.3f}; "
        f"the model beats it by {baseline - val_loss:+.3f} nats/char",
        "step, train loss, validation loss: " + "; ".join(f"{s} {a:.3f} {b:.3f}" for s, a, b in curve),
        "sample (temperature 0.8, top-k 20):", sample,
    ]
    report = "\n".join(lines) + "\n"
    print("\n" + report)
    if not args.smoke:
        args.out.write_text(report, encoding="utf-8")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
