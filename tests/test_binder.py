"""The Binder launch installs the same environment as requirements.txt."""
import os
import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"


def _requirements(path: Path) -> dict[str, str]:
    """Name -> specifier of each requirement line, skipping comments and the editable `-e .`."""
    reqs = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith(("-e", "--editable")):
            continue
        req = Requirement(line)
        reqs[canonicalize_name(req.name)] = str(req.specifier)
    return reqs


def test_binder_requirements_match_requirements_txt():
    local, binder = _requirements(ROOT / "requirements.txt"), _requirements(BINDER / "requirements.txt")
    assert binder == local, ("binder/requirements.txt and requirements.txt differ: "
                             f"only in requirements.txt {sorted(local.items() - binder.items())}, "
                             f"only in binder {sorted(binder.items() - local.items())}")


def test_requirements_txt_installs_the_checkout():
    lines = [l.strip() for l in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()]
    assert "-e ." in lines, "requirements.txt must install course_lib itself with `-e .`"


def test_post_build_installs_the_checkout():
    post_build = BINDER / "postBuild"
    text = post_build.read_text(encoding="utf-8")
    assert text.startswith("#!"), "binder/postBuild must start with a shebang line"
    assert re.search(r"^set -e", text, re.MULTILINE), "binder/postBuild must `set -e` so a failed step fails the build"
    assert re.search(r"^pip install .*-e \.\s*$", text, re.MULTILINE), "binder/postBuild must `pip install -e .`"
    assert os.access(post_build, os.X_OK), "binder/postBuild must be executable (git update-index --chmod=+x)"


def test_runtime_is_python_3_10_or_newer():
    runtime = (BINDER / "runtime.txt").read_text(encoding="utf-8").strip()
    match = re.fullmatch(r"python-3\.(\d+)", runtime)
    assert match and int(match.group(1)) >= 10, f"binder/runtime.txt says {runtime!r}; expected python-3.10 or newer"


def test_binder_installs_every_dependency_of_course_lib():
    """postBuild installs course_lib with --no-deps, so each of its dependencies must be listed for Binder."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    binder = _requirements(BINDER / "requirements.txt")
    missing = [d for d in deps if canonicalize_name(Requirement(d).name) not in binder]
    assert not missing, f"pyproject.toml's dependencies {missing} are not in binder/requirements.txt"
