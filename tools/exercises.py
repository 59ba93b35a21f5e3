"""Generate the learner's exercise notebooks from the solution notebooks.

Usage: python tools/exercises.py [--nbs DIR] [--out DIR] [--force]      (default: notebooks/ -> exercises/)
(course tooling, kept outside the package; it imports nothing from course_lib).

In a solution notebook an exercise is a code cell whose solution sits between two marker lines:

    def my_strides(shape):
        # Hint: walk the dims from last to first; the last dim has stride 1.
        ### BEGIN SOLUTION
        ...
        ### END SOLUTION

In the exercise notebook the region from `### BEGIN SOLUTION` to `### END SOLUTION` (markers included) becomes one
line, at the BEGIN marker's indentation:

        raise NotImplementedError("Exercise: walk the dims from last to first; the last dim has stride 1.")

The hint is the `# Hint: ...` comment above the marker (with the comment lines that continue it). The check cells
of an exercise are the later code cells that use a name the exercise cell defines (e.g. `check_strides(my_strides)`):
they get the tag `raises-exception`, so that Run All goes on past an exercise that is not done yet, and their
outputs, like the exercise cell's, are cleared. Every other cell is unchanged except that execution counts are
cleared (the learner's run numbers them afresh).

An exercise may also sit in an `#| export` cell: then the learner writes a function of the library itself. Its
check cell runs the checks inside `with exercise("module:name", name):` (course_lib/exercise.py): a passing
version is installed into course_lib and saved in `<out>/mine/`, a stub or a failing version prints one line and
the reference is used instead, so such checks are not tagged `raises-exception`: Run All reaches the end.
The generator writes `<out>/mine/README.md`; the folder's presence is what puts the exercise notebooks (run from
`<out>/`) in exercise mode.

An exercise notebook that already exists and differs from a fresh generation (the learner's answers) is kept;
--force overwrites it.
"""
from __future__ import annotations

import argparse
import ast
import copy
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEGIN = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION\s*$")
END = re.compile(r"^[ \t]*### END SOLUTION\s*$")
HINT = re.compile(r"^[ \t]*#\s*Hint:\s*(?P<text>.*?)\s*$")
COMMENT = re.compile(r"^[ \t]*#(?![|!])\s?(?P<text>.*?)\s*$")
DEFAULT_HINT = "replace this line with your code"
CHECK_TAG = "raises-exception"
LIBRARY_CHECK = re.compile(r"""\bexercise\(\s*["'](?P<target>[\w.]+:[\w.]+)["']\s*,\s*(?P<name>[\w.]+)\s*\)""")
MINE_README = """# Your code, running as course_lib

When an exercise of a notebook in this folder passes its check, your function is saved here (one file per
function, named after the part of the library it replaces, e.g. `storage__contiguous_strides.py`). Every later
notebook run from this folder loads these files when it imports course_lib, so the library you train models with
runs your code. Delete a file to go back to the reference version of that function.
"""


class ExerciseError(Exception):
    """A notebook's solution markers are malformed; the message names the notebook and the cell."""


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return src if isinstance(src, str) else "".join(src)


def _hint(lines: list[str], begin: int) -> str:
    """The `# Hint:` comment above line `begin` (inside the same function), with its continuation lines."""
    for i in range(begin - 1, -1, -1):
        m = HINT.match(lines[i])
        if m:
            parts = [m.group("text")]
            for line in lines[i + 1:begin]:
                c = COMMENT.match(line)
                if not c or HINT.match(line):
                    break
                parts.append(c.group("text"))
            return " ".join(p for p in parts if p) or DEFAULT_HINT
        if BEGIN.match(lines[i]) or END.match(lines[i]) or re.match(r"^[^\s#]", lines[i]):
            break  # a previous exercise, or the start of the enclosing top-level statement (its `def` line)
    return DEFAULT_HINT


def stub_source(source: str, where: str = "cell") -> tuple[str, list[str]]:
    """Replace every solution region of one cell's source by a stub; return (new source, hints).

    `where` names the cell in error messages ("01_storage.ipynb cell 12").
    """
    lines = source.split("\n")
    out, hints, i = [], [], 0
    while i < len(lines):
        m = BEGIN.match(lines[i])
        if END.match(lines[i]):
            raise ExerciseError(f"{where}: line {i + 1}: `### END SOLUTION` without a `### BEGIN SOLUTION` above it")
        if not m:
            out.append(lines[i])
            i += 1
            continue
        j = i + 1
        while j < len(lines) and not END.match(lines[j]):
            if BEGIN.match(lines[j]):
                raise ExerciseError(f"{where}: line {j + 1}: `### BEGIN SOLUTION` inside another solution region "
                                    f"(opened on line {i + 1}); close it with `### END SOLUTION` first")
            j += 1
        if j == len(lines):
            raise ExerciseError(f"{where}: line {i + 1}: `### BEGIN SOLUTION` is never closed by `### END SOLUTION`")
        hint = _hint(lines, i)
        hints.append(hint)
        message = json.dumps(f"Exercise: {hint}", ensure_ascii=False)
        out.append(f"{m.group('indent')}raise NotImplementedError({message})")
        i = j + 1
    new = "\n".join(out)
    if hints:
        try:
            ast.parse(new)
        except SyntaxError as e:
            raise ExerciseError(f"{where}: the exercise version does not parse ({e}); put the markers inside a "
                                "function body, indented like the code they surround") from None
    return new, hints


def _defined_names(source: str) -> set[str]:
    """Top-level names an exercise cell defines (functions, classes, assigned names)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        if isinstance(node, ast.ClassDef):  # `@_extend(Module) class _Steps:` grows Module: it defines Module's methods
            names |= {d.args[0].id for d in node.decorator_list if isinstance(d, ast.Call)
                      and getattr(d.func, "id", None) == "_extend" and d.args and isinstance(d.args[0], ast.Name)}
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def _function_names(source: str) -> set[str]:
    """Every function and method an exercise cell defines (at any depth)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


def _used_names(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


def _clear(cell: dict) -> None:
    cell["outputs"] = []
    cell["execution_count"] = None


def exercises(nb: dict, name: str = "notebook") -> list[dict]:
    """Describe a solution notebook's exercises: [{"cell": i, "hints": [...], "names": [...], "checks": [j, ...]}]."""
    found, code_cells = [], [i for i, c in enumerate(nb.get("cells", [])) if c.get("cell_type") == "code"]
    for i in code_cells:
        src = _source(nb["cells"][i])
        _, hints = stub_source(src, f"{name} cell {i}")
        if hints:
            found.append({"cell": i, "hints": hints, "names": sorted(_defined_names(src)), "checks": []})
    for ex in found:
        names = set(ex["names"])
        functions = _function_names(_source(nb["cells"][ex["cell"]]))
        ex["library"] = _source(nb["cells"][ex["cell"]]).lstrip().startswith("#| export")
        ex["targets"] = []
        for j in code_cells:
            if j <= ex["cell"] or any(j == other["cell"] for other in found):
                continue
            src = _source(nb["cells"][j])
            if ex["library"]:  # a library exercise is checked by the cells that hand one of its functions to exercise()
                targets = [m.group("target") for m in LIBRARY_CHECK.finditer(src)
                           if m.group("name").split(".")[0] in names and m.group("name").split(".")[-1] in functions]
                if targets:
                    ex["checks"].append(j)
                    ex["targets"] += [t for t in targets if t not in ex["targets"]]
            elif names & _used_names(src):
                ex["checks"].append(j)
    return found


def exercise_notebook(nb: dict, name: str = "notebook") -> dict:
    """The learner's version of a solution notebook (a new dict; `nb` is not modified)."""
    new = copy.deepcopy(nb)
    found = exercises(nb, name)
    for ex in found:
        cell = new["cells"][ex["cell"]]
        source, _ = stub_source(_source(cell), f"{name} cell {ex['cell']}")
        cell["source"] = source.splitlines(keepends=True) if isinstance(cell.get("source"), list) else source
        _clear(cell)
        for j in ex["checks"]:
            check = new["cells"][j]
            _clear(check)
            tags = check.setdefault("metadata", {}).setdefault("tags", [])
            if CHECK_TAG not in tags and not ex["library"]:
                tags.append(CHECK_TAG)
    for cell in new.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["execution_count"] = None
            for out in cell.get("outputs", []):
                if out.get("output_type") == "execute_result":
                    out["execution_count"] = None
    return new


def dumps(nb: dict) -> str:
    """Serialise like nbformat.write does (1-space indent, sorted keys, UTF-8), so files diff cleanly."""
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def generate(nbs: Path, out: Path, force: bool = False) -> list[tuple[Path, int, str]]:
    """Write the exercise version of every nbs/*.ipynb into out/; return [(path, number of exercises, what happened)].

    A file already in out/ that differs (the learner's work, or an older version) is kept unless `force`.
    """
    out.mkdir(parents=True, exist_ok=True)
    (out / "mine").mkdir(exist_ok=True)
    readme = out / "mine" / "README.md"
    if not readme.exists() or readme.read_text(encoding="utf-8") != MINE_README:
        readme.write_text(MINE_README, encoding="utf-8")
    written = []
    for path in sorted(nbs.glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        text = dumps(exercise_notebook(nb, path.name))
        target = out / path.name
        n = sum(len(e["hints"]) for e in exercises(nb, path.name))
        if not target.exists():
            status = "written"
        elif target.read_text(encoding="utf-8") == text:
            status = "unchanged"
        elif force:
            status = "overwritten"
        else:
            written.append((target, n, "kept: it differs (your work?); --force overwrites it"))
            continue
        target.write_text(text, encoding="utf-8")
        written.append((target, n, status))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/exercises.py", description=__doc__.split("\n")[0])
    parser.add_argument("--nbs", type=Path, default=ROOT / "notebooks", help="solution notebooks (default notebooks/)")
    parser.add_argument("--out", type=Path, default=ROOT / "exercises", help="where to write (default exercises/)")
    parser.add_argument("--force", action="store_true",
                        help="overwrite exercise notebooks that differ from a fresh generation (e.g. your answers)")
    args = parser.parse_args(argv)
    if args.out.resolve() == args.nbs.resolve():
        parser.error("--out must differ from --nbs: the solution notebooks would be overwritten")
    try:
        written = generate(args.nbs, args.out, force=args.force)
    except ExerciseError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for path, n, status in written:
        print(f"{path}: {n} exercise{'s' if n != 1 else ''} ({status})")
    if not written:
        print(f"no notebooks in {args.nbs}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
