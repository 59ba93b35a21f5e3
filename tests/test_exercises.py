"""Exercise notebooks: the generator (tools/exercises.py), and every notebook's exercises checked both ways.

- On the solutions: each exercise's check cells ran without error in the saved notebook (nbval re-runs the saved
  notebooks and compares, so this holds for a fresh run too).
- On the stubs: the generated learner notebook, executed top to bottom, fails exactly in the check cells, each with
  NotImplementedError and the exercise's hint, and nowhere else.
"""
from __future__ import annotations

import ast
import copy
import importlib
import importlib.util
import json
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
# The generator is course tooling (tools/, not a package): load it by path.
_spec = importlib.util.spec_from_file_location("course_exercises", ROOT / "tools" / "exercises.py")
ex = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ex)
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
ANSI = re.compile(r"\x1b\[[0-9;]*m")


# ---------------------------------------------------------------------------------------------------------------------
# The generator on a tiny synthetic notebook

EXERCISE = '''def my_strides(shape):
    """Strides (in elements) of a contiguous tensor of this shape."""
    # Hint: the last dim moves fastest;
    # walk the dims from last to first.
    strides = []
    ### BEGIN SOLUTION
    acc = 1
    for n in reversed(shape):
        strides.insert(0, acc)
        acc *= n
    return tuple(strides)
    ### END SOLUTION'''

STUB = '''def my_strides(shape):
    """Strides (in elements) of a contiguous tensor of this shape."""
    # Hint: the last dim moves fastest;
    # walk the dims from last to first.
    strides = []
    raise NotImplementedError("Exercise: the last dim moves fastest; walk the dims from last to first.")'''

CHECK = '''def check_strides(f):
    for shape, want in [((2, 3), (3, 1)), ((4,), (1,)), ((2, 3, 4), (12, 4, 1))]:
        got = f(shape)
        assert got == want, f"{f.__name__}({shape}) returned {got}; expected {want}: the last dim moves fastest"
    print("my_strides: all checks pass")
check_strides(my_strides)'''

METHODS = '''class Acc:
    def total(self, xs):
        # Hint: use "sum" \\ or a loop.
        ### BEGIN SOLUTION
        return sum(xs)
        ### END SOLUTION

    def mean(self, xs):
        ### BEGIN SOLUTION
        return sum(xs) / len(xs)
        ### END SOLUTION'''


def _synthetic() -> dict:
    nb = nbformat.v4.new_notebook()
    cells = [
        nbformat.v4.new_markdown_cell("# Title\n\n### BEGIN SOLUTION in markdown is just text"),
        nbformat.v4.new_code_cell("x = 1\nprint(x)", execution_count=1,
                                  outputs=[nbformat.v4.new_output("stream", name="stdout", text="1\n")]),
        nbformat.v4.new_code_cell(EXERCISE, execution_count=2),
        nbformat.v4.new_code_cell(CHECK, execution_count=3,
                                  outputs=[nbformat.v4.new_output("stream", name="stdout",
                                                                  text="my_strides: all checks pass\n")]),
        nbformat.v4.new_code_cell(METHODS, execution_count=4),
        nbformat.v4.new_code_cell("Acc().total([1, 2])", execution_count=5,
                                  outputs=[nbformat.v4.new_output("execute_result", {"text/plain": "3"},
                                                                  execution_count=5)]),
        nbformat.v4.new_code_cell("2 + 2", execution_count=6,
                                  outputs=[nbformat.v4.new_output("execute_result", {"text/plain": "4"},
                                                                  execution_count=6)]),
    ]
    cells[6].metadata["tags"] = ["nbval-ignore-output"]
    for i, c in enumerate(cells):
        c["id"] = f"syn-{i}"
    nb.cells = cells
    return json.loads(nbformat.writes(nb))  # as stored on disk: sources are lists of lines


def _src(cell) -> str:
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


def test_stub_replaces_the_region_at_its_indentation_with_the_hint():
    new, hints = ex.stub_source(EXERCISE)
    assert new == STUB
    assert hints == ["the last dim moves fastest; walk the dims from last to first."]


def test_stub_raises_with_the_hint_when_called():
    namespace = {}
    exec(ex.stub_source(EXERCISE)[0], namespace)
    with pytest.raises(NotImplementedError, match="Exercise: the last dim moves fastest"):
        namespace["my_strides"]((2, 3))


def test_each_region_gets_its_own_hint_and_quotes_are_escaped():
    new, hints = ex.stub_source(METHODS)
    assert hints == ['use "sum" \\ or a loop.', ex.DEFAULT_HINT]
    namespace = {}
    exec(new, namespace)
    acc = namespace["Acc"]()
    with pytest.raises(NotImplementedError) as info:
        acc.total([1])
    assert str(info.value) == 'Exercise: use "sum" \\ or a loop.'
    with pytest.raises(NotImplementedError, match=ex.DEFAULT_HINT):
        acc.mean([1])
    assert "        raise NotImplementedError(" in new  # method bodies: 8 spaces, like the markers


def test_exercise_notebook_changes_only_exercises_and_their_checks():
    nb = _synthetic()
    before = copy.deepcopy(nb)
    new = ex.exercise_notebook(nb, "synthetic.ipynb")
    assert nb == before, "the solution notebook must not be modified"
    cells = new["cells"]
    assert [c["id"] for c in cells] == [c["id"] for c in nb["cells"]]
    assert cells[0] == nb["cells"][0]                                  # markdown untouched
    assert _src(cells[1]) == _src(nb["cells"][1]) and cells[1]["outputs"] == nb["cells"][1]["outputs"]
    assert _src(cells[2]) == STUB and cells[2]["outputs"] == []
    assert _src(cells[3]) == CHECK and cells[3]["outputs"] == []       # the check cell: same code, no output
    assert "raises-exception" in cells[3]["metadata"]["tags"]          # Run All goes on past an unfinished exercise
    assert "raises-exception" in cells[5]["metadata"]["tags"] and cells[5]["outputs"] == []  # uses Acc
    assert cells[6]["outputs"][0]["data"] == nb["cells"][6]["outputs"][0]["data"]  # unrelated output kept
    assert cells[6]["metadata"]["tags"] == ["nbval-ignore-output"]
    assert all(c.get("execution_count") is None for c in cells if c["cell_type"] == "code")
    assert all(o.get("execution_count") is None for c in cells for o in c.get("outputs", []))
    nbformat.validate(nbformat.reads(ex.dumps(new), as_version=4))


def test_exercises_lists_each_exercise_with_its_checks():
    found = ex.exercises(_synthetic(), "synthetic.ipynb")
    assert [(e["cell"], e["names"], e["checks"]) for e in found] == [(2, ["my_strides"], [3]), (4, ["Acc"], [5])]


@pytest.mark.parametrize("source, message", [
    ("def f():\n    ### BEGIN SOLUTION\n    return 1\n", "never closed"),
    ("def f():\n    return 1\n    ### END SOLUTION\n", "without a `### BEGIN SOLUTION`"),
    ("def f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n    ### END SOLUTION\n", "inside another"),
    ("### BEGIN SOLUTION\nif True:\n### END SOLUTION\n    pass\n", "does not parse"),
])
def test_malformed_markers_are_reported_with_the_cell(source, message):
    with pytest.raises(ex.ExerciseError, match=message) as info:
        ex.stub_source(source, "x.ipynb cell 7")
    assert "x.ipynb cell 7" in str(info.value)


def test_command_line_writes_every_notebook(tmp_path, capsys):
    nbs, out = tmp_path / "nbs", tmp_path / "out"
    nbs.mkdir()
    (nbs / "01_a.ipynb").write_text(json.dumps(_synthetic()), encoding="utf-8")
    assert ex.main(["--nbs", str(nbs), "--out", str(out)]) == 0
    assert "01_a.ipynb: 3 exercises" in capsys.readouterr().out
    written = (out / "01_a.ipynb").read_text(encoding="utf-8")
    code = "".join(_src(c) for c in json.loads(written)["cells"] if c["cell_type"] == "code")
    assert code.count("raise NotImplementedError(") == 3 and "### BEGIN SOLUTION" not in code
    again = tmp_path / "again"
    ex.main(["--nbs", str(nbs), "--out", str(again)])
    assert (again / "01_a.ipynb").read_text(encoding="utf-8") == written, "generation must be deterministic"
    with pytest.raises(SystemExit):
        ex.main(["--nbs", str(nbs), "--out", str(nbs)])


def test_the_learners_work_is_kept_unless_forced(tmp_path, capsys):
    nbs, out = tmp_path / "nbs", tmp_path / "out"
    nbs.mkdir()
    (nbs / "01_a.ipynb").write_text(json.dumps(_synthetic()), encoding="utf-8")
    ex.main(["--nbs", str(nbs), "--out", str(out)])
    mine = (out / "01_a.ipynb").read_text(encoding="utf-8").replace("raise NotImplementedError(", "return (")
    (out / "01_a.ipynb").write_text(mine, encoding="utf-8")
    capsys.readouterr()
    assert ex.main(["--nbs", str(nbs), "--out", str(out)]) == 0
    assert "kept" in capsys.readouterr().out and (out / "01_a.ipynb").read_text(encoding="utf-8") == mine
    assert ex.main(["--nbs", str(nbs), "--out", str(out), "--force"]) == 0
    assert "overwritten" in capsys.readouterr().out and (out / "01_a.ipynb").read_text(encoding="utf-8") != mine


def test_generator_imports_nothing_from_course_lib():
    tree = ast.parse((ROOT / "tools" / "exercises.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert not any(a.name.split(".")[0] == "course_lib" for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0 and (node.module or "").split(".")[0] != "course_lib", ast.unparse(node)


# ---------------------------------------------------------------------------------------------------------------------
# The course's notebooks, both ways

def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


WITH_EXERCISES = [p for p in NOTEBOOKS if ex.exercises(_load(p), p.name)]


def _error_text(out) -> str:
    return ANSI.sub("", "\n".join([out.get("ename", ""), out.get("evalue", ""), *out.get("traceback", [])]))


def test_the_generator_accepts_every_notebook():
    """Malformed markers in any notebook fail here, naming the notebook and cell."""
    for path in NOTEBOOKS:
        ex.exercise_notebook(_load(path), path.name)


@pytest.mark.skipif(not WITH_EXERCISES, reason="no notebook has `### BEGIN SOLUTION` exercises yet")
@pytest.mark.parametrize("path", WITH_EXERCISES, ids=[p.stem for p in WITH_EXERCISES])
def test_checks_pass_on_the_solutions(path):
    nb = _load(path)
    for e in ex.exercises(nb, path.name):
        where = f"{path.name} cell {e['cell']} ({', '.join(e['names'])})"
        if e["library"]:  # the learner writes part of course_lib: its check cell hands it to exercise()
            assert e["checks"], f"{where}: no later cell checks it with `with exercise(\"module:name\", name):`"
            for target in e["targets"]:
                module, _, qualname = target.partition(":")
                obj = importlib.import_module(f"course_lib.{module}")
                for part in qualname.split("."):
                    obj = getattr(obj, part, None)
                assert obj is not None, f"{where}: exercise target {target!r} is not in course_lib"
        assert e["checks"], f"{where}: no later code cell checks this exercise (e.g. `check_x({e['names'][0]})`)"
        for j in e["checks"]:
            cell = nb["cells"][j]
            assert cell.get("execution_count") is not None, f"{path.name} cell {j}: the check cell was not run"
            errors = [_error_text(o) for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            assert not errors, f"{path.name} cell {j}: the check fails on the solution:\n{errors[0]}"


@pytest.mark.slow
@pytest.mark.skipif(not WITH_EXERCISES, reason="no notebook has `### BEGIN SOLUTION` exercises yet")
@pytest.mark.parametrize("path", WITH_EXERCISES, ids=[p.stem for p in WITH_EXERCISES])
def test_checks_fail_helpfully_on_the_stubs(path, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    import _sliced_poll  # noqa: F401  (a missed zmq wake-up costs a second, not the cell timeout)

    solution = _load(path)
    found = ex.exercises(solution, path.name)
    learner = nbformat.reads(ex.dumps(ex.exercise_notebook(solution, path.name)), as_version=4)
    last = max(j for e in found for j in [e["cell"], *e["checks"]])
    learner.cells = learner.cells[:last + 1]  # nothing after the last check matters here
    from nbclient.exceptions import CellTimeoutError

    mine = tmp_path / "mine"  # exercise mode, as in exercises/: the library exercises fall back, not fail
    mine.mkdir()
    monkeypatch.setenv("COURSE_LIB_MINE", str(mine))
    for attempt in (1, 2):
        try:  # no cell here takes over 20 s; a cell that times out hit nbclient's rare hang on widget cells
            NotebookClient(learner, timeout=120, kernel_name="python3", allow_errors=True,
                           resources={"metadata": {"path": str(path.parent)}}).execute()
            break
        except CellTimeoutError:  # (jupyter/nbclient#312): run the notebook once more in a fresh kernel
            if attempt == 2:
                raise

    problems, expected_fail = [], {}
    for e in found:
        for j in e["checks"]:
            expected_fail[j] = e
    for i, cell in enumerate(learner.cells):
        if cell.cell_type != "code":
            continue
        errors = [_error_text(o) for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if i in expected_fail and expected_fail[i]["library"]:
            e = expected_fail[i]
            text = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")
            for target in e["targets"]:
                line = f"○ {target}: not written yet; course_lib and this notebook use the reference version"
                if line not in text.splitlines():
                    problems.append(f"cell {i} (the check of {target}) did not say {line!r}; it printed:\n{text}")
            if errors:
                problems.append(f"cell {i} (the check of {e['targets']}) raised instead of falling back:\n"
                                f"{errors[0][-1500:]}")
        elif i in expected_fail:
            e = expected_fail[i]
            if not errors:
                problems.append(f"cell {i} (the check of {', '.join(e['names'])}) passed on the stub: "
                                "it must call the learner's function")
            elif "NotImplementedError" not in errors[0] or not any(h in errors[0] for h in e["hints"]):
                problems.append(f"cell {i} (the check of {', '.join(e['names'])}) failed without the "
                                f"NotImplementedError and hint {e['hints']!r}; it said:\n{errors[0][-1500:]}")
        elif errors and "raises-exception" not in solution["cells"][i].get("metadata", {}).get("tags", []):
            problems.append(f"cell {i} failed in the exercise version (only check cells may):\n{errors[0][-1500:]}")
    assert not problems, f"exercise version of {path.name}:\n" + "\n".join(problems)
