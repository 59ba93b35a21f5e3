"""Notebook 04 passes nbval with CuPy installed, whether or not the machine has an NVIDIA GPU.

`pip install -e '.[gpu]'` (or `pip install cupy-cuda12x`) installs CuPy on any machine; notebook 04's saved outputs
must hold there too (they once printed CuPy's "CUDA driver version is insufficient for CUDA runtime version" where the
saved notebook says "CuPy is not installed"). This test installs the gpu extra's CuPy (pyproject.toml) with
`pip install --target` into test-artifacts/cupy-py3.X/ (once: later runs reuse it; delete the folder to refresh it),
puts it on the PYTHONPATH of a subprocess, checks what course_lib says about CUDA there, and runs nbval on
notebooks/04_gpu.ipynb. Only what the environment lacks is installed (CuPy and its small helpers, not NumPy).

Without network the install fails and the test skips, saying so; under CI=true it fails instead.
About 5 s here with pip's cache warm, plus CuPy's download (~100 MB) the first time.
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "test-artifacts" / f"cupy-py{sys.version_info[0]}.{sys.version_info[1]}"
STAMP = TARGET / ".installed"
NO_GPU = "no NVIDIA driver/GPU found"

pytestmark = pytest.mark.slow


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _gpu_extra() -> list[str]:
    """The gpu extra's requirements, e.g. ['cupy-cuda12x>=13'] (pyproject.toml)."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    try:
        import tomllib
        return tomllib.loads(text)["project"]["optional-dependencies"]["gpu"]
    except ImportError:  # Python 3.10: read the one line
        return re.findall(r'"([^"]+)"', re.search(r"^gpu\s*=\s*\[(.*)\]", text, re.M).group(1))


def _name(requirement: str) -> str:
    return re.match(r"[A-Za-z0-9._-]+", requirement).group(0)


def _missing(requirements: list[str]) -> list[str]:
    """The requirements (unconditional ones only) whose package this environment does not have."""
    out = []
    for req in requirements:
        if ";" in req:  # extras and platform markers: not needed to import CuPy
            continue
        try:
            importlib.metadata.distribution(_name(req))
        except importlib.metadata.PackageNotFoundError:
            out.append(req)
    return out


def _pip_target(folder: Path, requirements: list[str]) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-q", "--no-deps",
           "--target", str(folder), *requirements]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=1200)


def _install_cupy() -> str:
    """Install the gpu extra into TARGET (unless done before); '' on success, else pip's complaint."""
    wanted = _gpu_extra()
    if STAMP.is_file() and STAMP.read_text(encoding="utf-8") == json.dumps(wanted):
        return ""
    partial = TARGET.with_name(TARGET.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    todo, seen = wanted, set()
    while todo:  # the requirements, then whatever of theirs this environment lacks, and so on
        out = _pip_target(partial, todo)
        if out.returncode != 0:
            return (out.stderr or out.stdout).strip()[-3000:]
        seen |= {_name(r).lower() for r in todo}
        installed = [importlib.metadata.Distribution.at(p) for p in partial.glob("*.dist-info")]
        todo = [r for d in installed for r in _missing(d.requires or []) if _name(r).lower() not in seen]
    shutil.rmtree(TARGET, ignore_errors=True)
    partial.rename(TARGET)
    STAMP.write_text(json.dumps(wanted), encoding="utf-8")
    return ""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), str(TARGET), os.environ.get("PYTHONPATH")]))
    return env


PROBE = r"""
import json, cupy, course_lib
from course_lib import gpu
try:
    driver = cupy.cuda.runtime.driverGetVersion()
except Exception:
    driver = 0
error = None
if not course_lib.cuda.is_available():
    try:
        course_lib.ones(2).to("cuda")
    except Exception as e:
        error = [type(e).__name__, str(e)]
print(json.dumps({"cupy": cupy.__version__, "driver": driver, "available": course_lib.cuda.is_available(),
                  "reason": gpu.cuda_unavailable_reason, "error": error}))
"""


def test_notebook_04_passes_nbval_with_cupy_installed():
    if importlib.util.find_spec("cupy") is not None:
        pytest.skip("CuPy is installed in this environment: nbval over notebooks/ already runs notebook 04 with it")
    complaint = _install_cupy()
    if complaint:
        message = f"could not install {' '.join(_gpu_extra())} into {TARGET} (no network?):\n{complaint}"
        if _in_ci():
            pytest.fail(message)
        pytest.skip(message)

    probe = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=_env(), capture_output=True, text=True,
                           timeout=300)
    assert probe.returncode == 0, f"CuPy from {TARGET} does not import with course_lib:\n{probe.stderr[-3000:]}"
    seen = json.loads(probe.stdout.strip().splitlines()[-1])
    if not seen["available"]:  # CuPy without a GPU: PyTorch's RuntimeError (a CUDA build), and why
        assert seen["error"] and seen["error"][0] == "RuntimeError", seen
        if seen["driver"] == 0:  # no driver at all: not CuPy's "driver version is insufficient"
            assert seen["reason"].startswith(NO_GPU) and "insufficient" not in seen["reason"], seen
            assert "pip install -e '.[gpu]'" in seen["reason"] and "Colab" in seen["reason"], seen

    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "notebooks/04_gpu.ipynb"]
    out = subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, (
        f"notebook 04 fails nbval with CuPy {seen['cupy']} installed (CUDA available: {seen['available']}; "
        f"reason: {seen['reason']!r}): a cell prints something that depends on CuPy or the GPU. Tag it "
        f"nbval-ignore-output and assert what matters instead.\n{out.stdout[-6000:]}\n{out.stderr[-2000:]}")
