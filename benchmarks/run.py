"""Time course_lib against NumPy and PyTorch; print (or write) a markdown table.

    python benchmarks/run.py [-k SUBSTRING] [--threads N] [--rounds R] [--out benchmarks/RESULTS.md]
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", dest="keyword", help="only cases whose 'bench_file: name' contains this")
    parser.add_argument("--threads", type=int, help="threads for NumPy's BLAS/OpenMP and torch")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds per case (median is reported)")
    parser.add_argument("--out", type=Path, help="also write the table, with a machine header, to this file")
    return parser.parse_args(argv)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform
    return platform.processor() or platform.machine() or "unknown CPU"


def machine_header(threads: int | None) -> str:
    from datetime import datetime, timezone

    import numpy
    from harness import optional_torch

    torch = optional_torch()
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    torch_version = torch.__version__ if torch else "not installed"
    thread_note = f", {threads} thread(s)" if threads else ""
    return (f"Measured {when} on {cpu_model()} ({os.cpu_count()} cores{thread_note}), "
            f"Python {sys.version.split()[0]}, numpy {numpy.__version__}, torch {torch_version}. "
            "Median time per call; ratios above 1 mean course_lib is slower.")


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.threads:  # must happen before NumPy (and its BLAS) is first imported
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)
    sys.path[:0] = [str(HERE), str(HERE.parent)]  # harness, and course_lib without installing it
    import harness

    if args.threads and (torch := harness.optional_torch()):
        torch.set_num_threads(args.threads)
    results = harness.run(HERE, args.keyword, args.rounds)
    text = harness.table(results)
    print(text)
    if args.out:
        args.out.write_text(machine_header(args.threads) + "\n\n" + text + "\n", encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
