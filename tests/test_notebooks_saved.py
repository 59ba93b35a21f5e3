"""Every notebook is saved as nbval expects: after one clean Restart-and-Run-All, without errors."""
import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
MAX_BYTES = 1_500_000


def _source(cell) -> str:
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


def _tags(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


@pytest.fixture(params=NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def notebook(request):
    path = request.param
    return path, json.loads(path.read_text(encoding="utf-8"))


def test_small_enough(notebook):
    path, _ = notebook
    size = path.stat().st_size
    assert size < MAX_BYTES, f"{path.name} is {size / 1e6:.2f} MB; keep notebooks under 1.5 MB (smaller figures?)"


def test_kernel_and_first_cell(notebook):
    path, nb = notebook
    kernel = nb.get("metadata", {}).get("kernelspec", {}).get("name")
    assert kernel == "python3", f"{path.name}: kernelspec name is {kernel!r}, expected 'python3'"
    assert nb["cells"] and nb["cells"][0]["cell_type"] == "markdown", f"{path.name}: the first cell must be markdown"


def test_saved_after_one_clean_run(notebook):
    path, nb = notebook
    code = [c for c in nb["cells"] if c["cell_type"] == "code" and _source(c).strip()]
    counts = [c.get("execution_count") for c in code]
    expected = list(range(1, len(code) + 1))
    assert counts == expected, (f"{path.name}: execution counts are {counts}, expected {expected}; "
                                "save it after Kernel > Restart Kernel and Run All Cells")


def test_no_errors_or_stderr(notebook):
    path, nb = notebook
    problems = []
    for i, cell in enumerate(nb["cells"]):
        tags = _tags(cell)
        for out in cell.get("outputs", []):
            if out["output_type"] == "error" and "raises-exception" not in tags:
                problems.append(f"cell {i} shows {out.get('ename')}: tag it `raises-exception` if that is intended")
            if (out["output_type"] == "stream" and out.get("name") == "stderr"
                    and not tags & {"raises-exception", "nbval-ignore-output"}):
                problems.append(f"cell {i} writes to stderr: fix the warning, or tag it `nbval-ignore-output`")
    assert not problems, f"{path.name}:\n" + "\n".join(problems)
