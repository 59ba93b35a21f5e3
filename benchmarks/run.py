"""Time course_lib against NumPy and PyTorch; print (or write) a markdown table.

    python benchmarks/run.py [-k SUBSTRING] [--threads N] [--rounds R] [--passes P]
                             [--out benchmarks/RESULTS.md] [--readme README.md]
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
    parser.add_argument("--passes", type=int, default=1,
                        help="go through all cases this many times and report the median of the passes")
    parser.add_argument("--out", type=Path, help="also write the table, with a machine header, to this file")
    parser.add_argument("--readme", type=Path,
                        help="also put the table between <!-- BENCHMARKS --> and <!-- /BENCHMARKS --> in this file")
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


def machine_header(threads: int | None, passes: int = 1) -> str:
    from datetime import datetime, timezone

    import numpy
    from harness import optional_torch

    torch = optional_torch()
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    torch_version = torch.__version__ if torch else "not installed"
    thread_note = f", {threads} thread(s)" if threads else ""
    return (f"Measured {when} on {cpu_model()} ({os.cpu_count()} cores{thread_note}), "
            f"Python {sys.version.split()[0]}, numpy {numpy.__version__}, torch {torch_version}. "
            + (f"Median time per call, median of {passes} passes; " if passes > 1 else "Median time per call; ")
            + "ratios above 1 mean course_lib is slower.")


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.threads:  # must happen before NumPy (and its BLAS) is first imported
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)
    sys.path[:0] = [str(HERE), str(HERE.parent)]  # harness, and course_lib without installing it
    import harness

    if args.threads and (torch := harness.optional_torch()):
        torch.set_num_threads(args.threads)
    results = harness.run(HERE, args.keyword, args.rounds, args.passes)
    text = harness.table(results)
    print(text)
    report = machine_header(args.threads, args.passes) + "\n\n" + text + "\n"
    if args.out:
        args.out.write_text(report, encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    if args.readme:
        args.readme.write_text(with_report(args.readme.read_text(encoding="utf-8"), report), encoding="utf-8")
        print(f"updated the table in {args.readme}", file=sys.stderr)
    return 0


def with_report(readme: str, report: str) -> str:
    """readme with `report` between its <!-- BENCHMARKS --> and <!-- /BENCHMARKS --> lines."""
    start, end = "<!-- BENCHMARKS -->\n", "<!-- /BENCHMARKS -->"
    if readme.count(start) != 1 or readme.count(end) != 1 or readme.index(start) > readme.index(end):
        raise ValueError(f"expected one {start.strip()} line followed by one {end} line")
    head, rest = readme.split(start)
    return head + start + report + end + rest.split(end)[1]


if __name__ == "__main__":
    sys.exit(main())
