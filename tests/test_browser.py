"""Every notebook, run the way a learner runs it: JupyterLab in a real (headless) Chromium, Run -> Run All Cells.

For each notebooks/*.ipynb this starts JupyterLab (once, on a free localhost port, with a token, in a temporary copy of
the checkout so nothing is ever saved over the real notebooks), opens the notebook at the same URL path the Binder
badge uses (lab/tree/notebooks/NAME.ipynb), clicks Run -> Run All Cells in the menu bar, waits until every cell has
run and the kernel is idle, then checks:
  - no error output, except in cells tagged `raises-exception` (and Run All went on past those);
  - nothing on stderr (the course rule), apart from known one-off messages of a fresh environment;
  - no "Error displaying widget";
  - for a notebook with widgets: moving a slider (or picking another dropdown entry, toggle, checkbox) changes an
    output; the control driven is named by its description label in the test output;
  - for the training notebooks (06 trains the digits models, 07 the GPT): a progress bar appears and ends full;
  - no "official Jupyter news" pop-up (the course's overrides.json is installed in the environment).

On failure a screenshot of the whole notebook is saved to test-artifacts/browser/NAME.png.
To look at every notebook after Run All, even when all is well:

    COURSE_SCREENSHOTS=test-artifacts/screenshots .venv/bin/python -m pytest tests/test_browser.py -q   (or make screenshots)

Needs `playwright` (requirements-dev.txt) and Debian's chromium at /usr/bin/chromium (never a downloaded browser);
without them tests/conftest.py skips these tests, unless COURSE_REQUIRE_BROWSER=1 (set by .ci/run), where the
missing stack is a failure.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
TRAINING = ("06_training", "07_transformer")  # long training cells: they must show progress
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
SCREENSHOTS = os.environ.get("COURSE_SCREENSHOTS")
VIEWPORT = {"width": 1400, "height": 1000}
RUN_TIMEOUT_S = float(os.environ.get("COURSE_BROWSER_RUN_TIMEOUT", "240"))  # one notebook's Run All
WIDGET_TIMEOUT_S = 15
PROGRESS_STATES = 4  # a cell "shows progress" when its output is seen in this many states while Run All goes on
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
# stderr lines a fresh environment may print once; anything else on stderr is a notebook bug.
HARMLESS_STDERR = re.compile(r"Matplotlib is building the font cache|Fontconfig", re.I)
# Test-only JupyterLab user settings (the course defaults themselves come from binder/overrides.json, installed in the
# environment): never autosave (we run a copy anyway) and keep every cell in the DOM for checks and screenshots.
TEST_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def _browser_stack_missing() -> str | None:
    import importlib.util
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install -r requirements-dev.txt)"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return None


def test_browser_stack_present_when_required():
    """In CI (.ci/run sets COURSE_REQUIRE_BROWSER=1) a missing browser stack fails instead of skipping silently."""
    missing = _browser_stack_missing()
    if os.environ.get("COURSE_REQUIRE_BROWSER") == "1" or os.environ.get("CI", "").lower() == "true":
        assert missing is None, f"in CI (COURSE_REQUIRE_BROWSER=1 or CI=true) the browser tests must run: {missing}"
    elif missing:
        pytest.skip(f"browser tests will be skipped: {missing}")


def test_course_defaults_are_installed_by_make_and_binder():
    """The course's JupyterLab defaults are installed both by `make` (the venv) and by Binder's postBuild."""
    overrides = json.loads((ROOT / "binder" / "overrides.json").read_text(encoding="utf-8"))
    notification = overrides["@jupyterlab/apputils-extension:notification"]
    assert notification["fetchNews"] == "false", "binder/overrides.json must turn the news pop-up off"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    post_build = (ROOT / "binder" / "postBuild").read_text(encoding="utf-8")
    for name, text in (("Makefile", makefile), ("binder/postBuild", post_build)):
        assert "binder/overrides.json" in text and "share/jupyter/lab/settings" in text, \
            f"{name} must copy binder/overrides.json into <prefix>/share/jupyter/lab/settings/"
        assert re.search(r"jupyter trust .*notebooks/\*\.ipynb", text), f"{name} must `jupyter trust notebooks/*.ipynb`"
    lab = re.search(r"^lab:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert lab and "jupyter lab notebooks/00_tour.ipynb" in lab.group(1), "`make lab` must open notebooks/00_tour.ipynb"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    urlpath = re.search(r"mybinder\.org/v2/[^)\s]*\?urlpath=lab/tree/([^)&\s]+)", readme)
    assert urlpath, "README.md needs a Binder badge with ?urlpath=lab/tree/notebooks/00_..."
    assert urlpath.group(1) == "notebooks/00_tour.ipynb", f"the Binder badge opens {urlpath.group(1)}, not notebook 00"
    if (ROOT / "notebooks").is_dir() and any((ROOT / "notebooks").glob("00_*.ipynb")):
        assert (ROOT / urlpath.group(1)).is_file(), f"the Binder badge opens {urlpath.group(1)}, which does not exist"


# ---------------------------------------------------------------------------------------------------------------------
# The JupyterLab server and the browser (one of each for the whole module)

@dataclass
class Lab:
    base: str
    token: str
    root: Path
    log: Path
    browser: object

    def url(self, rel: str) -> str:
        # `reset`: start from an empty workspace, not one restoring (and starting kernels for) earlier notebooks.
        return f"{self.base}/lab/tree/{rel}?reset&token={self.token}"

    def log_tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _copy_checkout(dest: Path) -> None:
    """Copy the checkout's files (tracked + untracked, not ignored) so Run All never touches the real notebooks."""
    try:
        files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                               capture_output=True).stdout.decode().split("\0")
    except (OSError, subprocess.CalledProcessError):
        files = [str(p.relative_to(ROOT)) for p in (ROOT / "notebooks").rglob("*") if p.is_file()]
    for rel in filter(None, files):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    missing = _browser_stack_missing()
    if missing:
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "checkout"
    root.mkdir()
    _copy_checkout(root)
    copies = sorted(str(p) for p in (root / "notebooks").glob("*.ipynb"))
    if copies:  # as `make lab` and Binder's postBuild do
        subprocess.run([str(Path(sys.executable).parent / "jupyter"), "trust", *copies], capture_output=True)
    settings = tmp / "user-settings"
    for rel, value in TEST_SETTINGS.items():
        (settings / rel).parent.mkdir(parents=True, exist_ok=True)
        (settings / rel).write_text(json.dumps(value))
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
               PYTHONUNBUFFERED="1")
    env.pop("COURSE_SCREENSHOTS", None)
    port, token = _free_port(), secrets.token_hex(16)
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
           "--LabApp.expose_app_in_browser=True", "--ServerApp.port_retries=0"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = tmp / "jupyterlab.log"
    server = subprocess.Popen(cmd, cwd=root, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                              start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited with {server.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer within 90 s:\n{log.read_text(errors='replace')[-3000:]}")
                time.sleep(0.25)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                yield Lab(base, token, root, log, browser)
            finally:
                browser.close()
    finally:
        try:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(server.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        server.wait()
        if ARTIFACTS.exists() or os.environ.get("CI"):
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shutil.copy(log, ARTIFACTS / "jupyterlab.log")


# ---------------------------------------------------------------------------------------------------------------------
# Driving one notebook

# The notebook panel for a path, and what its cells look like now (from JupyterLab's own model, not from scraping).
JS_STATE = """(path) => {
  const app = window.jupyterapp;
  if (!app) return {ready: false, why: 'no window.jupyterapp'};
  const panel = Array.from(app.shell.widgets('main')).find(w => w.context && w.context.path === path);
  if (!panel || !panel.content || !panel.context.isReady) return {ready: false, why: 'notebook not open yet'};
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const cells = panel.content.widgets.map((cell, i) => {
    const m = cell.model;
    const out = {type: m.type, tags: m.getMetadata('tags') || [], source: m.sharedModel.getSource()};
    if (m.type === 'code') {
      out.count = m.executionCount;
      out.prompt = (cell.node.querySelector('.jp-InputPrompt') || {textContent: ''}).textContent.trim();
      out.outputs = m.outputs.toJSON().map(o => ({output_type: o.output_type, name: o.name, ename: o.ename,
        evalue: o.evalue, text: typeof o.text === 'string' ? o.text : (o.text || []).join(''),
        widget: !!(o.data && o.data['application/vnd.jupyter.widget-view+json'])}));
    }
    return out;
  });
  const dialogs = Array.from(document.querySelectorAll('.jp-Dialog')).map(d => d.innerText.slice(0, 300));
  return {ready: true, kernel: kernel ? kernel.status : 'none', kernelName: kernel ? kernel.name : null,
          cells, dialogs};
}"""

# A fingerprint of everything the notebook shows as output, except the widget controls themselves (a slider's
# readout changes when it moves; that is not the output changing).
JS_OUTPUT_SIGNATURE = """(path) => {
  const panel = Array.from(window.jupyterapp.shell.widgets('main')).find(w => w.context && w.context.path === path);
  const parts = [];
  for (const area of panel.node.querySelectorAll('.jp-Cell .jp-OutputArea')) {
    const copy = area.cloneNode(true);
    copy.querySelectorAll('.widget-readout, .widget-label, .widget-label-basic, select, input, button, ' +
                          '.noUi-target, .widget-slider, .progress').forEach(e => e.remove());
    parts.push(copy.textContent);
    copy.querySelectorAll('img').forEach(img => parts.push(img.getAttribute('src') || ''));
    copy.querySelectorAll('svg').forEach(svg => parts.push(String(svg.innerHTML.length) + svg.textContent));
  }
  return parts.join('\\u0001');
}"""

# Widget controls a learner can play with, in notebook order: [{kind, label, index}].
JS_CONTROLS = """(path) => {
  const panel = Array.from(window.jupyterapp.shell.widgets('main')).find(w => w.context && w.context.path === path);
  const found = [];
  const label = el => { const l = el.querySelector('.widget-label'); return l ? l.textContent.trim() : ''; };
  panel.node.querySelectorAll('.jp-OutputArea .widget-slider, .jp-OutputArea .widget-hslider').forEach(el => {
    if (el.querySelector('.noUi-handle')) found.push({kind: 'slider', label: label(el)});
  });
  panel.node.querySelectorAll('.jp-OutputArea .widget-dropdown').forEach(el => {
    const s = el.querySelector('select'); if (s && s.options.length > 1) found.push({kind: 'dropdown', label: label(el)});
  });
  panel.node.querySelectorAll('.jp-OutputArea .widget-toggle-buttons').forEach(el => {
    if (el.querySelectorAll('button').length > 1) found.push({kind: 'toggle', label: label(el)});
  });
  panel.node.querySelectorAll('.jp-OutputArea .widget-checkbox').forEach(el => {
    const l = el.querySelector('label'); found.push({kind: 'checkbox', label: l ? l.textContent.trim() : ''});
  });
  panel.node.querySelectorAll('.jp-OutputArea .widget-radio').forEach(el => {
    if (el.querySelectorAll('input').length > 1) found.push({kind: 'radio', label: label(el)});
  });
  panel.node.querySelectorAll('.jp-OutputArea .widget-text').forEach(el => {
    if (el.querySelector('input')) found.push({kind: 'text', label: label(el)});
  });
  return found;
}"""

JS_PROGRESS = """(path) => {
  const panel = Array.from(window.jupyterapp.shell.widgets('main')).find(w => w.context && w.context.path === path);
  return Array.from(panel.node.querySelectorAll('.jp-OutputArea .progress .progress-bar, ' +
                                                '.jp-OutputArea progress')).map(b =>
    b.tagName === 'PROGRESS' ? String(Math.round(100 * b.value / (b.max || 1))) : (b.style.width || b.style.height));
}"""

# A short fingerprint of each cell's output (text, progress bars, pictures), to see outputs change while cells run.
JS_CELL_OUTPUTS = """(path) => {
  const panel = Array.from(window.jupyterapp.shell.widgets('main')).find(w => w.context && w.context.path === path);
  return Array.from(panel.node.querySelectorAll('.jp-Notebook .jp-Cell')).map(cell => {
    const area = cell.querySelector('.jp-OutputArea');
    if (!area || !area.children.length) return '';
    const text = area.innerText.trim();
    const bars = Array.from(area.querySelectorAll('.progress .progress-bar')).map(b => b.style.width || b.style.height);
    const imgs = Array.from(area.querySelectorAll('img')).map(img => {
      const src = img.getAttribute('src') || ''; return src.length + src.slice(-24); });
    return text.length + ':' + text.slice(-80) + '|' + bars.join(',') + '|' + imgs.join(',');
  });
}"""

JS_NEWS = """() => Array.from(document.querySelectorAll('.jp-toast-message, .Toastify__toast, .jp-Notification'))
  .map(e => e.innerText).filter(t => /news/i.test(t))"""

JS_ERROR_WIDGETS = """(path) => {
  const panel = Array.from(window.jupyterapp.shell.widgets('main')).find(w => w.context && w.context.path === path);
  return Array.from(panel.node.querySelectorAll('.jp-OutputArea')).map(a => a.innerText)
    .filter(t => t.includes('Error displaying widget') || t.includes('Error rendering output item'))
    .map(t => t.slice(0, 300));
}"""


@dataclass
class Report:
    name: str
    problems: list[str] = field(default_factory=list)
    widget_driven: str | None = None
    controls: list[dict] = field(default_factory=list)
    progress_seen: list[tuple[str, ...]] = field(default_factory=list)   # ipywidgets progress bars during the run
    running_outputs: dict[int, list[str]] = field(default_factory=dict)  # cell -> its outputs while it ran
    seconds: float = 0.0

    @property
    def progress_cells(self) -> list[int]:
        """Cells seen with 4+ different outputs during Run All: they show progress (a cell that just prints, or
        shows a widget and its first output, is seen in at most 3 states)."""
        return [i for i, outs in self.running_outputs.items() if len(outs) >= PROGRESS_STATES]


def _saved(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _has_widgets(nb: dict) -> bool:
    return any(WIDGET_VIEW in o.get("data", {}) for c in nb.get("cells", []) for o in c.get("outputs", []))


def _has_progress(nb: dict) -> bool:
    state = nb.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    return any(m.get("model_name", "").endswith("ProgressModel") for m in state.values())


def _wait_state(page, rel: str, predicate, timeout: float, poll=None):
    """Poll the notebook's state until predicate(state) is true; return the last state (or raise TimeoutError)."""
    deadline, state = time.monotonic() + timeout, None
    while True:
        state = page.evaluate(JS_STATE, rel)
        if poll:
            poll(state)
        if state.get("ready") and predicate(state):
            return state
        if time.monotonic() > deadline:
            raise TimeoutError(json.dumps({k: v for k, v in state.items() if k != "cells"})[:500])
        time.sleep(0.25)


def _run_finished(state) -> bool:
    code = [c for c in state["cells"] if c["type"] == "code" and c["source"].strip()]
    if state["kernel"] != "idle" or any(c["prompt"] == "[*]:" or c["prompt"] == "[*]" for c in code):
        return False
    # Run All stops at an error, except in a cell tagged raises-exception: the kernel then runs the rest (JupyterLab
    # already shows their prompts as [ ] while they run, so wait for their execution counts).
    stopped = any(o["output_type"] == "error" and "raises-exception" not in c["tags"] for c in code for o in c["outputs"])
    return bool(code) and (all(c["count"] is not None for c in code) or stopped)


def _drive(page, rel: str, control: dict, nth: int) -> bool:
    """Change the nth control of its kind; return True if some output of the notebook changed."""
    before = page.evaluate(JS_OUTPUT_SIGNATURE, rel)
    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)").first
    kind = control["kind"]
    attempts = []
    if kind == "slider":
        handle = panel.locator(".jp-OutputArea .widget-slider .noUi-handle, "
                               ".jp-OutputArea .widget-hslider .noUi-handle").nth(nth)
        handle.scroll_into_view_if_needed()
        attempts = [lambda: (handle.focus(), handle.press("ArrowRight")),
                    lambda: (handle.focus(), handle.press("ArrowLeft"), handle.press("ArrowLeft"))]
    elif kind == "dropdown":
        select = panel.locator(".jp-OutputArea .widget-dropdown select").nth(nth)
        select.scroll_into_view_if_needed()
        values = select.evaluate("s => Array.from(s.options).map(o => o.value)")
        current = select.input_value()
        attempts = [lambda v=v: select.select_option(v) for v in values if v != current][:2]
    elif kind == "toggle":
        group = panel.locator(".jp-OutputArea .widget-toggle-buttons").nth(nth)
        group.scroll_into_view_if_needed()
        buttons = group.locator("button")
        attempts = [lambda i=i: buttons.nth(i).click() for i in range(buttons.count())
                    if "mod-active" not in (buttons.nth(i).get_attribute("class") or "")][:2]
    elif kind == "checkbox":
        box = panel.locator(".jp-OutputArea .widget-checkbox input").nth(nth)
        box.scroll_into_view_if_needed()
        attempts = [lambda: box.click()]
    elif kind == "radio":
        group = panel.locator(".jp-OutputArea .widget-radio").nth(nth)
        group.scroll_into_view_if_needed()
        inputs = group.locator("input")
        attempts = [lambda i=i: inputs.nth(i).check() for i in range(inputs.count()) if not inputs.nth(i).is_checked()][:2]
    elif kind == "text":
        box = panel.locator(".jp-OutputArea .widget-text input").nth(nth)
        box.scroll_into_view_if_needed()
        attempts = [lambda: (box.click(), box.press("End"), box.type("1"), box.press("Enter"))]
    for act in attempts:
        act()
        deadline = time.monotonic() + WIDGET_TIMEOUT_S / len(attempts)
        while time.monotonic() < deadline:
            time.sleep(0.25)
            if page.evaluate(JS_OUTPUT_SIGNATURE, rel) != before:
                return True
    return False


SCROLLER = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer"
MAX_VIEWPORT_HEIGHT = 15000


def _screenshot(page, rel: str, target: Path) -> None:
    """A picture of the whole notebook: grow the viewport to the notebook's height (up to 15000 px) and shoot; a
    longer notebook is shot in slices while scrolling, stitched into one image (slice files without Pillow)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        page.evaluate("() => { const app = window.jupyterapp; if (app) { app.shell.collapseLeft(); "
                      "app.shell.collapseRight(); } }")
        metrics = "s => [s.scrollHeight, s.clientHeight, window.innerHeight]"
        total, client, inner = page.eval_on_selector(SCROLLER, metrics)
        page.set_viewport_size({"width": VIEWPORT["width"],
                                "height": int(min(max(total + inner - client, 800), MAX_VIEWPORT_HEIGHT))})
        time.sleep(0.3)
        total, client, _ = page.eval_on_selector(SCROLLER, metrics)
        if total <= client + 2:
            page.eval_on_selector(SCROLLER, "s => { s.scrollTop = 0; }")
            time.sleep(0.3)
            page.screenshot(path=str(target))
            return
        box = page.locator(SCROLLER).bounding_box()
        slices, top = [], 0
        while True:
            actual = page.eval_on_selector(SCROLLER, f"s => {{ s.scrollTop = {top}; return s.scrollTop; }}")
            time.sleep(0.3)
            slices.append((actual, page.screenshot(clip=box)))
            if actual + client >= total - 2 or len(slices) >= 20:
                break
            top = actual + client
        try:
            import io
            from PIL import Image
        except ImportError:
            for k, (_, png) in enumerate(slices, 1):
                target.with_name(f"{target.stem}-{k}.png").write_bytes(png)
            return
        images = [(y, Image.open(io.BytesIO(png))) for y, png in slices]
        sheet = Image.new("RGB", (images[0][1].width, slices[-1][0] + images[-1][1].height), "white")
        for y, image in images:
            sheet.paste(image, (0, y))
        sheet.save(target, optimize=True)
    finally:
        page.set_viewport_size(VIEWPORT)


def run_notebook(lab: Lab, rel: str, saved: dict, *, training: bool = False, shoot_failures: bool = True) -> Report:
    """Open lab.root/rel in JupyterLab, Run All from the menu, and check what the learner would see."""
    report, started = Report(Path(rel).stem), time.monotonic()
    page = lab.browser.new_page(viewport=VIEWPORT)
    console_errors = []
    page.on("pageerror", lambda e: console_errors.append(str(e)))
    try:
        page.goto(lab.url(rel), wait_until="domcontentloaded", timeout=60_000)
        state = _wait_state(page, rel, lambda s: s["kernel"] == "idle" and len(s["cells"]) == len(saved["cells"]),
                            timeout=90)
        if state["kernelName"] != "python3":
            report.problems.append(f"the notebook opened with kernel {state['kernelName']!r}, not python3")
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()

        def watch_progress(s):
            if training and s.get("ready"):
                seen = tuple(page.evaluate(JS_PROGRESS, rel))
                if seen and (not report.progress_seen or report.progress_seen[-1] != seen):
                    report.progress_seen.append(seen)
                for i, sig in enumerate(page.evaluate(JS_CELL_OUTPUTS, rel)):
                    outputs = report.running_outputs.setdefault(i, [])
                    if sig and (not outputs or outputs[-1] != sig):
                        outputs.append(sig)

        # Run All first marks cells [*]; wait until the kernel took the work, then until it is all done.
        try:
            _wait_state(page, rel, lambda s: s["kernel"] == "busy" or any(
                c.get("prompt") in ("[*]:", "[*]") for c in s["cells"]), timeout=20)
        except TimeoutError:
            pass  # a very fast notebook may already be done
        try:
            state = _wait_state(page, rel, _run_finished, timeout=RUN_TIMEOUT_S, poll=watch_progress)
            time.sleep(0.5)
            state = _wait_state(page, rel, _run_finished, timeout=30)
        except TimeoutError as e:
            report.problems.append(f"Run All did not finish within {RUN_TIMEOUT_S:.0f} s ({e})")
            state = page.evaluate(JS_STATE, rel)

        for i, cell in enumerate(state.get("cells", [])):
            if cell["type"] != "code":
                continue
            expected = "raises-exception" in cell["tags"]
            for out in cell["outputs"]:
                if out["output_type"] == "error" and not expected:
                    report.problems.append(f"cell {i} raised {out['ename']}: {out['evalue']}"[:400])
                if out["output_type"] == "stream" and out["name"] == "stderr" and not expected:
                    text = "\n".join(l for l in out["text"].splitlines() if l.strip() and not HARMLESS_STDERR.search(l))
                    if text:
                        report.problems.append(f"cell {i} wrote to stderr: {text[:300]}")
            if cell["source"].strip() and cell["count"] is None and not report.problems:
                report.problems.append(f"cell {i} was not run by Run All (prompt {cell['prompt']!r})")
        for d in state.get("dialogs", []):
            report.problems.append(f"a dialog is open: {d!r}")

        if _has_widgets(saved):
            report.controls = page.evaluate(JS_CONTROLS, rel)
            counts: dict[str, int] = {}
            for control in report.controls:
                nth = counts.get(control["kind"], 0)
                counts[control["kind"]] = nth + 1
                if _drive(page, rel, control, nth):
                    report.widget_driven = f"{control['kind']} {control['label']!r}"
                    break
            if report.widget_driven is None:
                tried = ", ".join(f"{c['kind']} {c['label']!r}" for c in report.controls) or "none found"
                report.problems.append(f"no widget control changed any output when moved (controls: {tried})")
        for text in page.evaluate(JS_ERROR_WIDGETS, rel):
            report.problems.append(f"a widget failed to display: {text!r}")

        if training and not report.progress_cells:
            report.problems.append("no cell showed progress while it ran (an output that changes during the cell: an "
                                   "ipywidgets progress bar, or a display handle's update()); long training cells "
                                   "must show progress")
        if _has_progress(saved):
            final = page.evaluate(JS_PROGRESS, rel)
            if final and not all(v.startswith("100") for v in final):
                report.problems.append(f"a progress bar did not end full: {final}")

        news = page.evaluate(JS_NEWS)
        if news:
            report.problems.append(f"JupyterLab shows the news pop-up {news[0]!r}: binder/overrides.json is not "
                                   f"installed in {sys.prefix}/share/jupyter/lab/settings/ (run `make venv`)")
        for e in console_errors:
            if "widget" in e.lower():
                report.problems.append(f"browser error: {e[:300]}")
    except Exception as e:  # a crash of the driver is a failure too, with a screenshot
        report.problems.append(f"{type(e).__name__}: {e}"[:1000])
    finally:
        report.seconds = time.monotonic() - started
        shots = []
        if report.problems and shoot_failures:
            shots.append(ARTIFACTS / f"{report.name}.png")
        if SCREENSHOTS and shoot_failures:  # (the self-test's notebook is not a course notebook)
            shots.append(Path(SCREENSHOTS) / f"{report.name}.png")
        for shot in shots:
            try:
                _screenshot(page, rel, shot)
            except Exception as e:
                report.problems.append(f"(screenshot to {shot} failed: {e})")
        try:
            page.evaluate("""(path) => { const p = Array.from(window.jupyterapp.shell.widgets('main'))
                .find(w => w.context && w.context.path === path); return p && p.sessionContext.shutdown(); }""", rel)
        except Exception:
            pass
        page.close()
    return report


# ---------------------------------------------------------------------------------------------------------------------
# The tests

@pytest.mark.browser
@pytest.mark.skipif(not NOTEBOOKS, reason="no notebooks in notebooks/ yet")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_run_all_in_jupyterlab(lab, path):
    saved = _saved(path)
    report = run_notebook(lab, f"notebooks/{path.name}", saved, training=path.stem in TRAINING)
    where = f"screenshot: {ARTIFACTS / (report.name + '.png')}"
    assert not report.problems, (f"{path.name} after Run -> Run All Cells in JupyterLab:\n  - "
                                 + "\n  - ".join(report.problems) + f"\n{where}\nJupyterLab log tail:\n{lab.log_tail()}")
    print(f"{path.name}: ok in {report.seconds:.1f} s; widget driven: {report.widget_driven}; "
          f"cells showing progress: {report.progress_cells}")


def _selftest_notebook() -> dict:
    """A tiny notebook with a widget, an expected error, progress, and one unexpected error at the end."""
    import nbformat
    nb = nbformat.v4.new_notebook()
    cells = [
        ("import ipywidgets as widgets\nfrom IPython.display import display\nimport time", []),
        ("widgets.interact(lambda n: print(f'n squared is {n * n}'),\n"
         "                 n=widgets.IntSlider(value=2, min=0, max=10, description='n'))\n_ = None",
         ["nbval-ignore-output"]),
        ("1 / 0", ["raises-exception"]),
        ("bar = widgets.IntProgress(min=0, max=20, description='epoch')\ndisplay(bar)\n"
         "for i in range(20):\n    time.sleep(0.1)\n    bar.value = i + 1", ["nbval-ignore-output"]),
        ("print('still running after the expected error')", []),
        ("undefined_name", []),
        ("print('never reached')", []),
    ]
    for i, (src, tags) in enumerate(cells):
        cell = nbformat.v4.new_code_cell(src)
        cell.metadata["tags"] = tags
        cell["id"] = f"selftest-{i}"
        nb.cells.append(cell)
    nb.cells[1].outputs = [nbformat.v4.new_output("display_data", {WIDGET_VIEW: {"model_id": "x", "version_major": 2,
                                                                                 "version_minor": 0}})]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    return nb


@pytest.mark.browser
def test_the_checker_itself(lab):
    """The driver finds an unexpected error, tolerates `raises-exception`, moves a slider and sees progress."""
    import nbformat
    nb = _selftest_notebook()
    rel = "selftest/selftest.ipynb"
    (lab.root / "selftest").mkdir(exist_ok=True)
    nbformat.write(nb, lab.root / rel)
    report = run_notebook(lab, rel, json.loads(nbformat.writes(nb)), training=True, shoot_failures=False)
    assert report.widget_driven == "slider 'n'", report
    assert len(report.progress_seen) >= 2, "the progress bar was never seen moving during the run"
    assert 3 in report.progress_cells, report.running_outputs
    assert len(report.problems) == 1 and report.problems[0].startswith("cell 5 raised NameError"), report.problems
