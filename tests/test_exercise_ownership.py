"""The learner's code is the library: every library exercise solved with different code, then run by course_lib.

For each library exercise (an `#| export` cell with a solution region, checked with `with exercise(...)`), the
table below holds a correct solution written differently from the reference and instrumented: each call is
recorded by `course_spy`. The test writes the exercise notebooks, puts these solutions in place of the stubs, runs
the notebooks in exercise mode (a `mine/` folder), and then checks, in a fresh kernel, that course_lib calls the
learner's versions. A deliberately wrong solution must fail its check with a symptom line and fall back.
"""
from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("course_exercises", ROOT / "tools" / "exercises.py")
ex = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ex)

SPY = '''import os
def hit(target):
    with open(os.environ["COURSE_SPY_LOG"], "a", encoding="utf-8") as f:
        f.write(target + "\\n")
'''

# Each notebook's table lives in tests/exercise_solutions/nbNN.py: SOLUTIONS (target -> a correct solution written
# differently, recording its calls with course_spy), USE (code that makes course_lib call those targets, run in a
# fresh kernel after the exercise notebooks) and WRONG (target -> (a wrong solution, the exact line its check prints)).
SOLUTIONS, USE, WRONG = {}, [], {}
for _path in sorted((Path(__file__).parent / "exercise_solutions").glob("nb*.py")):
    _mod_spec = importlib.util.spec_from_file_location(f"exercise_solutions_{_path.stem}", _path)
    _mod = importlib.util.module_from_spec(_mod_spec)
    _mod_spec.loader.exec_module(_mod)
    SOLUTIONS.update(_mod.SOLUTIONS)
    USE.append(_mod.USE)
    WRONG.update(getattr(_mod, "WRONG", {}))


def _library_exercises() -> dict[str, list[tuple[str, int, str]]]:
    """notebook name -> [(target, exercise cell index, function name)] for every library exercise."""
    found = {}
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for e in ex.exercises(nb, path.name):
            if e["library"]:
                for target in e["targets"]:
                    found.setdefault(path.name, []).append((target, e["cell"], target.split(":")[1]))
    return found


LIBRARY = _library_exercises()
TARGETS = [t for items in LIBRARY.values() for t, _, _ in items]


def _replace_def(source: str, name: str, new: str) -> str:
    """`source` with its function (or method, at its indentation) `name` replaced by the code in `new`; of several
    functions of that name, the stub (the one that raises NotImplementedError)."""
    tree = ast.parse(source)
    name = name.rpartition(".")[2]  # "Class.method" or "function": the def's own name
    found = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name]
    lines = source.split("\n")
    node = next((n for n in found if "NotImplementedError" in "\n".join(lines[n.lineno - 1:n.end_lineno])), found[0])
    start = (node.decorator_list[0].lineno if node.decorator_list else node.lineno) - 1
    code = textwrap.indent(textwrap.dedent(new).strip("\n"), " " * node.col_offset)
    return "\n".join(lines[:start] + code.split("\n") + lines[node.end_lineno:])


def _run_notebook(path: Path, env: dict, upto: int | None = None) -> nbformat.NotebookNode:
    """Run the notebook in a fresh kernel (only its first `upto` cells when given)."""
    from nbclient import NotebookClient

    import _sliced_poll  # noqa: F401
    nb = nbformat.read(path, as_version=4)
    if upto is not None:
        nb.cells = nb.cells[:upto]
    old = dict(os.environ)
    os.environ.update(env)
    try:
        NotebookClient(nb, timeout=180, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
    return nb


def _outputs(nb) -> tuple[str, list[str]]:
    text, errors = [], []
    for i, cell in enumerate(nb.cells):
        expected_error = "raises-exception" in cell.get("metadata", {}).get("tags", [])  # by design, or a practice stub
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream":
                text.append(o.get("text", ""))
            elif o.get("output_type") == "error" and not expected_error:
                errors.append(f"cell {i}: {o.get('ename')}: {o.get('evalue')}")
    return "".join(text), errors


def _setup(tmp_path: Path, solutions: dict[str, str]) -> tuple[Path, dict]:
    out = tmp_path / "exercises"
    ex.generate(ROOT / "notebooks", out)
    for name, items in LIBRARY.items():
        path = out / name
        nb = json.loads(path.read_text(encoding="utf-8"))
        for target, cell, fn_name in items:
            if target in solutions:
                src = "".join(nb["cells"][cell]["source"])
                nb["cells"][cell]["source"] = _replace_def(src, fn_name, solutions[target])
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    spy_dir = tmp_path / "spy"
    spy_dir.mkdir()
    (spy_dir / "course_spy.py").write_text(SPY, encoding="utf-8")
    env = {"PYTHONPATH": os.pathsep.join([str(spy_dir), str(ROOT)]), "COURSE_SPY_LOG": str(tmp_path / "spy.log"),
           "COURSE_LIB_MINE": str(out / "mine")}
    return out, env


def test_the_course_list_of_targets_is_the_notebooks_list():
    from course_lib import exercise
    assert exercise.COURSE_TARGETS == TARGETS, ("course_lib/exercise.py's COURSE_TARGETS must list every library "
                                                "exercise's target in notebook order")


def test_every_library_exercise_has_a_different_solution_here():
    assert set(TARGETS) == set(SOLUTIONS), ("each library exercise needs a row in SOLUTIONS (and only those): "
                                            f"missing {sorted(set(TARGETS) - set(SOLUTIONS))}, "
                                            f"extra {sorted(set(SOLUTIONS) - set(TARGETS))}")


@pytest.mark.slow
def test_the_learners_solutions_become_the_library(tmp_path):
    out, env = _setup(tmp_path, SOLUTIONS)
    for name, items in LIBRARY.items():
        nb = _run_notebook(out / name, env)
        text, errors = _outputs(nb)
        assert not errors, f"{name} (exercise mode, solved differently): {errors}"
        for target, _, _ in items:
            assert f"✓ {target}: your version passes; course_lib runs it from now on" in text, (name, target, text)
            assert (out / "mine" / (target.replace(":", "__") + ".py")).exists()
    log = Path(env["COURSE_SPY_LOG"])
    log.write_text("", encoding="utf-8")
    script = tmp_path / "use.py"
    script.write_text("import course_lib as torch\n" + "\n".join(USE)
                      + f"\ntorch.exercise.report({TARGETS!r})\n", encoding="utf-8")
    run = subprocess.run([sys.executable, str(script)], cwd=out, env={**os.environ, **env}, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    called = set(log.read_text(encoding="utf-8").split())
    assert called == set(TARGETS), f"course_lib did not call the learner's {sorted(set(TARGETS) - called)}"
    assert f"{len(TARGETS)} of {len(TARGETS)} parts are yours" in run.stdout, run.stdout


@pytest.mark.slow
def test_a_wrong_solution_fails_with_a_symptom_and_falls_back(tmp_path):
    out, env = _setup(tmp_path, {t: src for t, (src, _) in WRONG.items()})
    for name, items in LIBRARY.items():
        if not any(t in WRONG for t, _, _ in items):
            continue
        # up to the last check of a wrong solution: what comes after is the reference's (notebook 06 trains models)
        solution = json.loads((ROOT / "notebooks" / name).read_text(encoding="utf-8"))
        last = max(j for e in ex.exercises(solution, name) if e["library"] and set(e["targets"]) & set(WRONG)
                   for j in e["checks"])
        nb = _run_notebook(out / name, env, upto=last + 1)
        text, errors = _outputs(nb)
        assert not errors, f"{name}: a wrong solution must not stop Run All: {errors}"
        for target in (t for t, _, _ in items if t in WRONG):  # this notebook's wrong solutions
            line = WRONG[target][1]
            assert line in text.splitlines(), (target, text)
            assert not (out / "mine" / (target.replace(":", "__") + ".py")).exists()
