"""A tiny side-by-side timing harness: course_lib vs NumPy vs PyTorch, in one process.

A benchmark module `benchmarks/bench_*.py` defines `CASES = [Case(name, setup), ...]`; `setup()`
returns a dict of zero-argument callables keyed "course_lib", "numpy" and/or "torch" (a key may be
missing). Inputs are built in `setup`, so only the operation itself is timed.
"""
from __future__ import annotations

import gc
import importlib.util
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

IMPLS = ("course_lib", "numpy", "torch")
TARGET_S = 0.02  # each measurement lasts about this long


@dataclass
class Case:
    name: str
    setup: Callable[[], dict[str, Callable[[], object]]]
    rounds: int = 0  # at least this many rounds: a case whose one call outlasts TARGET_S gets one call per sample


def optional_torch():
    """The torch module, or None when PyTorch is not installed (its column then shows '—')."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def _inner_iterations(fn: Callable[[], object]) -> int:
    """How many calls make one measurement last about TARGET_S."""
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= TARGET_S / 4:
            return max(1, round(n * TARGET_S / elapsed))
        n *= 2


def time_case(impls: dict[str, Callable[[], object]], rounds: int = 7) -> dict[str, float]:
    """Median seconds per call of each implementation, measured round-robin (interleaved)."""
    names = [k for k in IMPLS if k in impls]
    if not names:
        return {}
    inner = {k: _inner_iterations(impls[k]) for k in names}  # also warms each one up
    samples: dict[str, list[float]] = {k: [] for k in names}
    for r in range(rounds):
        for k in names[r % len(names):] + names[: r % len(names)]:  # rotate who goes first
            fn, n = impls[k], inner[k]
            gc.collect()  # every sample starts from a clean heap; the collector stays on while timing
            start = time.perf_counter()
            for _ in range(n):
                fn()
            samples[k].append((time.perf_counter() - start) / n)
    return {k: statistics.median(v) for k, v in samples.items()}


def load_cases(folder: Path, keyword: str | None = None) -> list[tuple[str, Case]]:
    """(module name, case) for every case of every bench_*.py whose name contains `keyword`."""
    found = []
    for path in sorted(folder.glob("bench_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for case in getattr(module, "CASES", []):
            label = f"{path.stem}: {case.name}"
            if keyword is None or keyword.lower() in label.lower():
                found.append((path.stem, case))
    return found


def format_time(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def format_ratio(a: float | None, b: float | None) -> str:
    return "—" if a is None or b is None else f"{a / b:.2f}"


def table(results: list[tuple[str, dict[str, float]]]) -> str:
    """A markdown table: times per call, and course_lib's time relative to NumPy and PyTorch."""
    lines = ["| case | course_lib | numpy | torch | course_lib/numpy | course_lib/torch |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, t in results:
        c, n, p = (t.get(k) for k in IMPLS)
        lines.append(f"| {name} | {format_time(c)} | {format_time(n)} | {format_time(p)} "
                     f"| {format_ratio(c, n)} | {format_ratio(c, p)} |")
    return "\n".join(lines)


def run(folder: Path, keyword: str | None = None, rounds: int = 7,
        passes: int = 1) -> list[tuple[str, dict[str, float]]]:
    """Time every case `passes` times over (each pass goes through all cases) and keep the median of the passes.

    A busy spell on a shared machine lasts seconds and spoils whole cases, which interleaving within one
    case cannot undo; separate passes minutes apart can.
    """
    cases, at_least = [], {}
    for module, case in load_cases(folder, keyword):
        at_least[case.name] = case.rounds
        try:
            cases.append((module, case.name, case.setup()))
        except ImportError as e:
            print(f"skipping {module}: {case.name} ({e})", file=sys.stderr)
    samples: dict[str, dict[str, list[float]]] = {name: {} for _, name, _ in cases}
    for p in range(passes):
        for module, name, impls in cases:
            tag = f" (pass {p + 1}/{passes})" if passes > 1 else ""
            print(f"timing {module}: {name}{tag} ...", file=sys.stderr, flush=True)
            for impl, seconds in time_case(impls, max(rounds, at_least[name])).items():
                samples[name].setdefault(impl, []).append(seconds)
    return [(name, {k: statistics.median(v) for k, v in by_impl.items()}) for name, by_impl in samples.items()]
