"""Record CPU-vs-GPU timings for notebook 04 into benchmarks/gpu_results.json (needs an NVIDIA GPU and CuPy).

    python benchmarks/gpu_record.py [--out PATH] [--quick]

Times, across sizes: an n×n float32 matmul; GELU on n float32 (the composition of tensor ops on CPU and GPU, and
the fused CuPy kernel); one training step of a 2-layer MLP (forward, backward, SGD update) — with course_lib on
CPU and CUDA, and with PyTorch CUDA when it is installed. Each figure is the median of several runs after a
warm-up, with a device sync before every clock reading. Finishes in well under 3 minutes. Never run by CI.
"""
import argparse
import datetime
import json
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # course_lib from this checkout

import numpy as np  # noqa: E402

import course_lib  # noqa: E402
from course_lib import cuda  # noqa: E402
from course_lib.fused_gelu import gelu, gelu_composed  # noqa: E402


def median_seconds(fn, sync, reps=15, budget_s=1.5):
    """Median wall time of fn() after one warm-up call, syncing before and after each run."""
    fn()
    sync()
    times, start = [], time.perf_counter()
    for _ in range(reps):
        sync()
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
        if time.perf_counter() - start > budget_s and len(times) >= 3:
            break
    return statistics.median(times)


def no_sync():
    pass


def bench_matmul(sizes):
    out = {"cpu": [], "cuda": []}
    for n in sizes:
        a = course_lib.randn(n, n)
        b = course_lib.randn(n, n)
        out["cpu"].append(median_seconds(lambda: a @ b, no_sync, reps=5 if n >= 2048 else 15))
        ga, gb = a.cuda(), b.cuda()
        out["cuda"].append(median_seconds(lambda: ga @ gb, cuda.synchronize))
    return out


def bench_gelu(sizes):
    out = {"cpu": [], "cuda": [], "cuda_fused": []}
    for n in sizes:
        x = course_lib.randn(n)
        out["cpu"].append(median_seconds(lambda: gelu_composed(x), no_sync, reps=7))
        gx = x.cuda()
        out["cuda"].append(median_seconds(lambda: gelu_composed(gx), cuda.synchronize))
        out["cuda_fused"].append(median_seconds(lambda: gelu(gx), cuda.synchronize))
    return out


def _mlp_arrays(hidden, batch=512, d_in=512, d_out=10, seed=0):
    g = np.random.default_rng(seed)
    x = g.standard_normal((batch, d_in)).astype(np.float32)
    y = np.eye(d_out, dtype=np.float32)[g.integers(0, d_out, batch)]
    w1 = (g.standard_normal((d_in, hidden)) / np.sqrt(d_in)).astype(np.float32)
    w2 = (g.standard_normal((hidden, d_out)) / np.sqrt(hidden)).astype(np.float32)
    return x, y, w1, np.zeros(hidden, np.float32), w2, np.zeros(d_out, np.float32)


def course_lib_step(device, hidden, lr=0.01):
    x, y, *params = [course_lib.tensor(a).to(device) for a in _mlp_arrays(hidden)]
    for p in params:
        p.requires_grad_()
    w1, b1, w2, b2 = params

    def step():
        out = ((x @ w1 + b1).relu() @ w2 + b2).log_softmax(1)
        loss = -(out * y).sum() / x.shape[0]
        loss.backward()
        with course_lib.no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad = None
        return loss
    return step


def torch_step(torch, hidden, lr=0.01):
    x, y, *params = [torch.tensor(a, device="cuda") for a in _mlp_arrays(hidden)]
    for p in params:
        p.requires_grad_()
    w1, b1, w2, b2 = params

    def step():
        out = ((x @ w1 + b1).relu() @ w2 + b2).log_softmax(1)
        loss = -(out * y).sum() / x.shape[0]
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad = None
        return loss
    return step


def bench_mlp(hiddens):
    try:
        import torch
        torch = torch if torch.cuda.is_available() else None
    except ImportError:
        torch = None
    out = {"cpu": [], "cuda": [], "torch_cuda": []}
    for h in hiddens:
        out["cpu"].append(median_seconds(course_lib_step("cpu", h), no_sync, reps=7))
        out["cuda"].append(median_seconds(course_lib_step("cuda", h), cuda.synchronize))
        out["torch_cuda"].append(median_seconds(torch_step(torch, h), torch.cuda.synchronize) if torch else None)
    return out, (torch.__version__ if torch else None)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "gpu_results.json")
    parser.add_argument("--quick", action="store_true", help="fewer sizes (a smoke test)")
    args = parser.parse_args(argv)
    if not cuda.is_available():
        print(f"No CUDA here: {course_lib.gpu.cuda_unavailable_reason}. Nothing recorded.", file=sys.stderr)
        return 1
    course_lib.manual_seed(0)
    cupy = course_lib.gpu.cuda_backend.xp
    matmul_sizes = [64, 256, 1024] if args.quick else [32, 64, 128, 256, 512, 1024, 2048, 4096]
    gelu_sizes = [2 ** k for k in ((10, 16, 20) if args.quick else range(8, 27, 2))]
    hiddens = [64, 1024] if args.quick else [32, 128, 512, 2048, 8192]
    t0 = time.perf_counter()
    matmul = bench_matmul(matmul_sizes)
    print(f"matmul done ({time.perf_counter() - t0:.0f} s)", flush=True)
    gelu_times = bench_gelu(gelu_sizes)
    print(f"gelu done ({time.perf_counter() - t0:.0f} s)", flush=True)
    mlp, torch_version = bench_mlp(hiddens)
    print(f"mlp done ({time.perf_counter() - t0:.0f} s)", flush=True)
    results = {
        "card": cuda.get_device_name(0),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
        "recorded_by": "benchmarks/gpu_record.py",
        "versions": {"python": platform.python_version(), "numpy": np.__version__, "cupy": cupy.__version__,
                     "torch": torch_version, "cuda_runtime": cupy.cuda.runtime.runtimeGetVersion()},
        "host": {"machine": platform.machine(), "cpus": __import__("os").cpu_count()},
        "method": "median wall time after a warm-up, device synchronized before every clock reading",
        "benchmarks": {
            "matmul": {"size_label": "n (n×n float32 @ n×n)", "sizes": matmul_sizes, "times": matmul},
            "gelu": {"size_label": "elements (float32)", "sizes": gelu_sizes, "times": gelu_times},
            "mlp_step": {"size_label": "hidden width (batch 512, 512 → h → 10, SGD step)", "sizes": hiddens,
                         "times": mlp},
        },
    }
    i = matmul_sizes.index(1024 if args.quick else 4096)
    results["summary"] = {
        f"matmul {matmul_sizes[i]} cpu/cuda": matmul["cpu"][i] / matmul["cuda"][i],
        "mlp_step cuda/torch_cuda (largest)": (mlp["cuda"][-1] / mlp["torch_cuda"][-1]) if mlp["torch_cuda"][-1] else None,
        "gelu composed/fused (largest)": gelu_times["cuda"][-1] / gelu_times["cuda_fused"][-1],
    }
    args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(results["summary"], indent=1))
    print(f"wrote {args.out} in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
