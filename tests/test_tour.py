"""The tour notebook (00) keeps its promises: the glossary, the exercise format, portable outputs."""
import json
import re
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "00_tour.ipynb"

GLOSSARY = {
    "tensor": "张量", "stride": "步长", "broadcasting": "广播", "computational graph": "计算图",
    "dynamic graph": "动态图", "static graph": "静态图", "gradient": "梯度", "backpropagation": "反向传播",
    "automatic differentiation": "自动微分", "module": "模块", "parameter": "参数", "loss function": "损失函数",
    "optimizer": "优化器", "learning rate": "学习率", "batch": "批量", "epoch": "轮次", "view": "视图",
    "contiguous": "连续", "device": "设备", "kernel": "核函数",
}


def _source(cell):
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


@pytest.fixture(scope="module")
def cells():
    if not NOTEBOOK.exists():
        pytest.fail(f"{NOTEBOOK.name} is missing: build it from scratch/nb/00_tour.py")
    return json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]


def test_glossary_pairs(cells):
    rows = {}
    for cell in cells:
        if cell["cell_type"] == "markdown":
            for line in _source(cell).splitlines():
                parts = [p.strip() for p in line.strip().strip("|").split("|")]
                if line.startswith("|") and len(parts) >= 2:
                    rows[parts[0]] = parts[1]
    missing = [f"{en} {zh}" for en, zh in GLOSSARY.items() if zh not in rows.get(en, "")]
    assert not missing, f"glossary rows missing or wrong: {missing}"


def test_exercise_format(cells):
    exercises = [c for c in cells if c["cell_type"] == "code" and "### BEGIN SOLUTION" in _source(c)]
    assert exercises, "the tour needs one 'try it' exercise"
    for cell in exercises:
        lines = _source(cell).splitlines()
        begin = next(i for i, l in enumerate(lines) if l.strip() == "### BEGIN SOLUTION")
        end = next(i for i, l in enumerate(lines) if l.strip() == "### END SOLUTION")
        assert begin < end, "### END SOLUTION must follow ### BEGIN SOLUTION"
        assert any(l.strip().startswith("# Hint:") for l in lines[:begin]), "a '# Hint:' line must precede the solution"
        indent = {len(l) - len(l.lstrip()) for l in (lines[begin], lines[end])}
        assert len(indent) == 1, "the solution markers must be indented like the code they enclose"


def test_outputs_hold_no_absolute_paths(cells):
    home = re.compile(r"(/home/|/work/|/Users/|/tmp/|[A-Za-z]:\\\\)")
    for i, cell in enumerate(cells):
        for out in cell.get("outputs", []):
            text = "".join(out.get("text", "")) + "".join(out.get("data", {}).get("text/plain", ""))
            assert not home.search(text), f"cell {i} prints an absolute path: {text[:200]!r}"


def test_loss_decreases_and_fit_is_printed(cells):
    text = "".join("".join(o.get("text", "")) for c in cells for o in c.get("outputs", []))
    match = re.search(r"learned W = (-?[\d.]+), b = (-?[\d.]+)", text)
    assert match, "the Y = WX + b fit must print its learned W and b"
    W, b = map(float, match.groups())
    assert abs(W - 2.0) < 0.1 and abs(b + 0.5) < 0.1, f"learned W={W}, b={b} is far from the true 2.0, -0.5"


def test_intro_tells_the_truth_about_exercises(cells):
    """The intro's promise matches the notebook: it has an exercise, so it must not say 'nothing to implement'."""
    intro = _source(cells[0])
    has_exercise = any(c["cell_type"] == "code" and "### BEGIN SOLUTION" in _source(c) for c in cells)
    assert has_exercise and "nothing to implement" not in intro and "exercise" in intro, intro[:600]
