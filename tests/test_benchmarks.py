"""The benchmark harness itself (not timings): passes, medians, and the README table update."""
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))
import harness  # noqa: E402
import run  # noqa: E402


def test_every_pass_times_every_case_and_the_median_is_kept(tmp_path, monkeypatch):
    (tmp_path / "bench_fake.py").write_text(
        "from harness import Case\n"
        "CASES = [Case('one', lambda: {'course_lib': lambda: None, 'numpy': lambda: None}),\n"
        "         Case('two', lambda: {'torch': lambda: None})]\n")
    seen = []
    fake = iter([{"course_lib": 3.0, "numpy": 1.0}, {"torch": 5.0},
                 {"course_lib": 1.0, "numpy": 2.0}, {"torch": 4.0},
                 {"course_lib": 2.0, "numpy": 9.0}, {"torch": 6.0}])
    monkeypatch.setattr(harness, "time_case", lambda impls, rounds: (seen.append(sorted(impls)), next(fake))[1])
    results = harness.run(tmp_path, rounds=1, passes=3)
    assert seen == [["course_lib", "numpy"], ["torch"]] * 3  # pass after pass through all cases
    assert results == [("one", {"course_lib": 2.0, "numpy": 2.0}), ("two", {"torch": 5.0})]
    assert "| one |" in harness.table(results)


def test_the_readme_section_is_replaced_and_nothing_else():
    readme = "intro\n<!-- BENCHMARKS -->\nold table\n<!-- /BENCHMARKS -->\nafter\n"
    assert run.with_report(readme, "new\n") == "intro\n<!-- BENCHMARKS -->\nnew\n<!-- /BENCHMARKS -->\nafter\n"
    for broken in ("no markers", "<!-- /BENCHMARKS -->\n<!-- BENCHMARKS -->\n"):
        with pytest.raises(ValueError, match="BENCHMARKS"):
            run.with_report(broken, "x")


def test_the_real_readme_has_the_section():
    readme = (BENCH.parent / "README.md").read_text(encoding="utf-8")
    assert run.with_report(readme, "x\n").count("<!-- BENCHMARKS -->") == 1
