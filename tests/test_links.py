"""Launch links agree with the one repository URL in pyproject.toml ([project.urls] Repository), via tools/links.py."""
import importlib.util
import json
import re
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("course_links", ROOT / "tools" / "links.py")
links = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(links)


def test_every_launch_link_agrees_with_pyproject():
    assert links.check() == [], "\n".join(links.check()) + "\nrun: python tools/links.py --write"


def test_pyproject_names_a_github_repository():
    assert re.fullmatch(r"https://github\.com/[^/]+/[^/]+", links.repository_url())


@pytest.fixture
def copy(tmp_path):
    """The files the links live in, copied, so the test can change them."""
    for rel in ["pyproject.toml", *links.FILES]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, tmp_path / rel)
    return tmp_path


def test_a_changed_repository_is_caught_and_rewritten_everywhere(copy):
    pyproject = copy / "pyproject.toml"
    old = links.slug(copy)
    pyproject.write_text(pyproject.read_text(encoding="utf-8").replace(old, "someone/tiny-torch"), encoding="utf-8")
    problems = links.check(copy)
    assert len(problems) >= len(links.LINKS), problems  # each generated link now disagrees
    changed = links.write(copy)
    assert set(changed) == {"README.md", "notebooks/04_gpu.ipynb"}, changed
    assert links.check(copy) == []
    readme = (copy / "README.md").read_text(encoding="utf-8")
    assert "mybinder.org/v2/gh/someone/tiny-torch/main?urlpath=lab/tree/notebooks/00_tour.ipynb" in readme
    assert "colab.research.google.com/github/someone/tiny-torch/blob/main/notebooks/04_gpu.ipynb" in readme
    nb = json.loads((copy / "notebooks/04_gpu.ipynb").read_text(encoding="utf-8"))
    text = "".join("".join(c["source"]) for c in nb["cells"])
    assert '"course-lib @ git+https://github.com/someone/tiny-torch"' in text and old not in text
    # only the sources changed: the stored outputs, counts and the file's format are as before
    before = json.loads((ROOT / "notebooks/04_gpu.ipynb").read_text(encoding="utf-8"))
    assert [c.get("outputs") for c in nb["cells"]] == [c.get("outputs") for c in before["cells"]]


def test_a_stray_link_is_caught(copy):
    readme = copy / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") +
                      "\n[b](https://mybinder.org/v2/gh/other/repo/main?urlpath=lab)\n", encoding="utf-8")
    assert any("other/repo" in p for p in links.check(copy))


def test_a_missing_link_is_caught(copy):
    readme = copy / "README.md"
    text = readme.read_text(encoding="utf-8")
    readme.write_text(re.sub(links.COLAB_04, "https://example.org", text), encoding="utf-8")
    assert any("README Colab badge" in p for p in links.check(copy))


def test_notebook_04_installs_the_course_on_colab_only():
    """The first code cell installs from the repository only under Colab, and prints nothing elsewhere."""
    nb = json.loads((ROOT / "notebooks/04_gpu.ipynb").read_text(encoding="utf-8"))
    first = next(c for c in nb["cells"] if c["cell_type"] == "code")
    source = "".join(first["source"])
    assert '"google.colab" in sys.modules' in source and f"git+{links.repository_url()}" in source
    assert first["outputs"] == []
    calls = []
    fake = type(sys)("subprocess")
    fake.run = lambda *a, **k: calls.append(a)
    saved = sys.modules.get("subprocess")
    try:
        sys.modules["subprocess"] = fake
        exec(compile(source, "cell", "exec"), {})           # not on Colab: nothing runs
        assert calls == []
        sys.modules["google.colab"] = type(sys)("google.colab")
        exec(compile(source, "cell", "exec"), {})           # on Colab: one pip install from the repository
        assert len(calls) == 1 and f"course-lib @ git+{links.repository_url()}" in calls[0][0]
    finally:
        sys.modules.pop("google.colab", None)
        sys.modules["subprocess"] = saved
