"""Shared test setup: GPU tests skip without CUDA, browser tests skip without a browser stack."""
import importlib.util
import shutil

import pytest


def _cuda_available():
    if importlib.util.find_spec("cupy") is None:
        return False
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def _browser_available():
    return importlib.util.find_spec("playwright") is not None and shutil.which("chromium") is not None


def pytest_collection_modifyitems(config, items):
    skip_gpu = pytest.mark.skip(reason="needs CUDA and CuPy (pip install -e '.[gpu]' on a machine with a GPU)")
    skip_browser = pytest.mark.skip(reason="needs playwright and Debian's chromium (installed by .ci/run)")
    gpu, browser = None, None
    for item in items:
        if "gpu" in item.keywords:
            gpu = _cuda_available() if gpu is None else gpu
            if not gpu:
                item.add_marker(skip_gpu)
        if "browser" in item.keywords:
            browser = _browser_available() if browser is None else browser
            if not browser:
                item.add_marker(skip_browser)
