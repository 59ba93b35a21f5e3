"""Your code, running as course_lib: the exercise machinery (written by hand, like __init__.py).

In the exercise notebooks (`exercises/NN_*.ipynb`, written by `make exercises`) some functions of the library are
left for you to write. The check cell after each one looks like this:

    with exercise("storage:contiguous_strides", contiguous_strides):
        expect(contiguous_strides((2, 3)) == (3, 1), "shape (2, 3): moving one row must skip a whole row")

- If the checks pass, your function *is* `course_lib.storage.contiguous_strides` from then on: every module of the
  library that uses it calls yours, for the rest of this kernel. It is also saved in `exercises/mine/`, so the
  later notebooks (each a new kernel) load it when they import course_lib.
- If you have not written it yet (the stub raises NotImplementedError), or a check fails, one line says so and
  the library keeps the reference version, also under your notebook's name for it, so Run All still reaches the
  end of the notebook.

A target names a module of course_lib and a name in it, separated by a colon: "storage:contiguous_strides", or a
method: "autograd:Mul.backward". Once installed, your function reads its names (Parameter, Tensor...) in the
library's module, as it does when a later notebook loads it: a notebook that defines its own `Parameter` class
before switching to course_lib's (notebook 05) still gets a library that registers course_lib's Parameters. In the solution notebooks (`notebooks/`, no `mine/` folder beside them) the same
cells only run the checks: nothing is installed or saved.

`report()` (the end of notebook 06) lists which parts of the library are yours and which are still the reference.
"""
from __future__ import annotations

import builtins
import dis
import importlib
import inspect
import linecache
import os
import re
import sys
import textwrap
import traceback
import types
from pathlib import Path

__all__ = ["exercise", "expect", "raises", "report", "mine_dir"]

_PACKAGE = "course_lib"

# Every part of the library a learner writes, in course order (tests/test_exercise_ownership.py checks that this
# list is exactly the targets the notebooks' exercise cells hand to exercise()).
COURSE_TARGETS = [
    "storage:contiguous_strides", "storage:index_to_position", "storage:is_contiguous_layout",  # 01
    "storage:view_strides", "storage:expand_strides",  # 01
    "kernels:broadcast_shapes", "kernels:_operands", "kernels:reduce_dims", "kernels:unbroadcast",  # 02
    "autograd:Mul.backward", "autograd:_dependencies", "autograd:_accumulate", "ops:Tanh.backward",  # 03
    "views:Permute.backward", "views:Expand.backward", "ops:MatMul.backward", "reductions:Sum.backward",
    "reductions:Mean.backward",
    "nn:Module.__setattr__", "nn:Module.named_modules", "nn:Module.state_dict", "nn:Linear.forward",  # 05
    "optim:Optimizer.zero_grad", "optim:SGD._update", "optim:Adam._update",  # 06
    "transformer:causal_attention_scores", "transformer:LayerNormFunction.backward", "transformer:KVCache.update",  # 07
]
_REFERENCE: dict[str, object] = {}  # target -> the reference object (function, or the raw class attribute)
_YOURS: dict[str, object] = {}  # target -> your installed object, in this kernel
_SAID: set[tuple[str, str]] = set()  # (target, what) already said once in this kernel


class ExerciseFailed(AssertionError):
    """A check of an exercise failed; the message names the symptom and the input, not the answer."""


def expect(condition: bool, symptom: str) -> None:
    """One check inside an `exercise` block: when `condition` is false, fail with `symptom` (what went wrong, on
    which input: never the answer)."""
    if not condition:
        raise ExerciseFailed(symptom)


def raises(kind: type[BaseException], fn, *args, **kwargs) -> bool:
    """Does fn(*args, **kwargs) raise `kind`? A stub's NotImplementedError (a RuntimeError too) is let through, so
    an unwritten exercise is never mistaken for one that raises correctly."""
    try:
        fn(*args, **kwargs)
    except NotImplementedError:
        raise
    except kind:
        return True
    return False


def mine_dir() -> Path | None:
    """Where your passing solutions are saved: $COURSE_LIB_MINE, else a `mine/` folder in the current directory
    (the exercise notebooks' folder has one), else None (solution mode: nothing is installed or saved)."""
    env = os.environ.get("COURSE_LIB_MINE")
    if env:
        return Path(env)
    here = Path.cwd() / "mine"
    return here if here.is_dir() else None


# --- finding and replacing a target ---------------------------------------------------------------------------------

def _split(target: str) -> tuple[object, str, str]:
    """'autograd:Mul.backward' -> (the module course_lib.autograd, 'Mul', 'backward'); owner '' for a function."""
    module_name, sep, qualname = target.partition(":")
    if not sep or not qualname:
        raise ValueError(f"exercise target {target!r} should look like 'module:name' or 'module:Class.method'")
    module = importlib.import_module(f"{_PACKAGE}.{module_name}")
    owner, _, name = qualname.rpartition(".")
    return module, owner, name


def _current(target: str) -> object:
    module, owner, name = _split(target)
    if owner:
        return inspect.getattr_static(getattr(module, owner), name)
    return getattr(module, name)


def runs_reference(target: str) -> bool:
    """True while the library runs its own version of `target`: no learner's version is installed. A fused fast path
    that stands in for an exercise (notebook 07's attention, LayerNorm) is used only then, so that what you wrote
    is what runs once you have written it."""
    return _current(target) is _reference(target)


def _reference(target: str) -> object:
    if target not in _REFERENCE:
        _REFERENCE[target] = _current(target)
    return _REFERENCE[target]


def _place(target: str, new: object) -> None:
    """Make `new` what the library runs for `target`: a method is set on its class; a function is rebound in every
    course_lib module that holds the current one (modules that did `from .storage import contiguous_strides` hold
    their own reference to it)."""
    module, owner, name = _split(target)
    if owner:
        cls = getattr(module, owner)
        setattr(cls, name, new)
        return
    old = getattr(module, name)
    for mod_name, mod in list(sys.modules.items()):
        if mod is None or not (mod_name == _PACKAGE or mod_name.startswith(_PACKAGE + ".")):
            continue
        for key, value in list(vars(mod).items()):
            if value is old:
                setattr(mod, key, new)


def _rebind(fn: object, namespace: dict) -> object:
    """`fn` with the same code, reading its global names from `namespace` (a static/classmethod stays one)."""
    f = getattr(fn, "__func__", fn)
    if not inspect.isfunction(f) or f.__globals__ is namespace:
        return fn
    new = types.FunctionType(f.__code__, namespace, f.__name__, f.__defaults__, f.__closure__)
    new.__kwdefaults__, new.__qualname__, new.__doc__ = f.__kwdefaults__, f.__qualname__, f.__doc__
    new.__dict__.update(f.__dict__)
    return type(fn)(new) if isinstance(fn, (staticmethod, classmethod)) else new


def _in_library(target: str, fn: object) -> object:
    """Your notebook function as the library runs it: where a global name it uses means something else in the
    library, its names are read in the target's module, as when a later notebook loads it from mine/. (In the notebook, `Parameter` is the notebook's class; in course_lib it
    must be course_lib.nn.Parameter, or the library's own layers would not register.) Names only your notebook
    has (your helpers) come along."""
    f = getattr(fn, "__func__", fn)
    if not inspect.isfunction(f) or f.__globals__.get("__name__") != "__main__":
        return fn
    module, owner, name = _split(target)
    home, used = vars(module), _names_used(f.__code__)
    if all(f.__globals__.get(n, home[n]) is home[n] for n in used if n in home):
        return fn  # every name it uses means the same in the notebook and in the library: nothing to do
    extra = {n: f.__globals__[n] for n in used - set(home) - set(dir(builtins)) if n in f.__globals__}
    if not extra:
        return _rebind(fn, home)  # the module's own names, live
    namespace = {**home, **extra}
    new = _rebind(fn, namespace)
    if not owner:
        namespace[name] = new  # a recursive call reaches your function, not the reference
    return new


def _in_notebook(ref: object, glb: dict) -> object:
    """The reference method as your notebook's class runs it: its names read in the notebook, where every name it
    uses is defined (else unchanged)."""
    f = getattr(ref, "__func__", ref)
    if not inspect.isfunction(f):
        return ref
    needed = _names_used(f.__code__) - set(dir(builtins))
    return _rebind(ref, glb) if needed <= set(glb) else ref


def _as_installed(target: str, fn: object) -> object:
    """Your function in the form the target needs: a staticmethod where the reference is one, its global names
    read in the library (see _in_library)."""
    fn = _in_library(target, fn)
    ref = _reference(target)
    if isinstance(ref, staticmethod) and not isinstance(fn, staticmethod):
        return staticmethod(fn)
    if isinstance(ref, classmethod) and not isinstance(fn, classmethod):
        return classmethod(getattr(fn, "__func__", fn))
    return fn


def _use_reference(target: str, yours: object | None) -> None:
    """Back to the reference: in the library, and under your notebook's name for it (so later cells still run)."""
    ref = _reference(target)
    if _current(target) is not ref:
        _place(target, ref)
    _YOURS.pop(target, None)
    fn = getattr(yours, "__func__", yours)
    glb = getattr(fn, "__globals__", None)
    if glb is None or glb.get("__name__") != "__main__":
        return
    _, owner, name = _split(target)
    if not owner and glb.get(name) is yours:
        glb[name] = _in_notebook(ref, glb)  # read in the notebook too: its own classes (notebook 03's Tensor)
    elif owner and isinstance(glb.get(owner), type) and inspect.getattr_static(glb[owner], name, None) is not None:
        setattr(glb[owner], name, _in_notebook(ref, glb))  # the notebook's class, with the notebook's classes


def _say_once(target: str, what: str, line: str) -> None:
    if (target, what) not in _SAID:
        _SAID.add((target, what))
        print(line)


# --- saving and loading your solutions -----------------------------------------------------------------------------

def _file_for(folder: Path, target: str) -> Path:
    return folder / (target.replace(":", "__") + ".py")


def _names_used(code) -> set[str]:
    """Global names a function's code (and the code nested in it) reads."""
    names = {ins.argval for ins in dis.get_instructions(code) if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME")}
    for const in code.co_consts:
        if inspect.iscode(const):
            names |= _names_used(const)
    return names


def _notebook_helpers(target: str, fn: object) -> tuple[list[str], list[str]]:
    """What else of your notebook `fn` needs in a later kernel: (sources of the functions and classes it uses that
    you defined in the notebook, names of other notebook values it uses, which cannot be saved)."""
    module, _, _ = _split(target)
    known = set(vars(module)) | set(dir(builtins))
    sources, unsaved, seen, todo = [], [], set(), [getattr(fn, "__func__", fn)]
    while todo:
        f = todo.pop()
        glb = getattr(f, "__globals__", {})
        for name in sorted(_names_used(f.__code__) - known - seen):
            seen.add(name)
            if name not in glb:
                continue  # not defined anywhere: the function would fail here too, and its checks show it
            value = glb[name]
            if inspect.ismodule(value):
                sources.append(f"import {value.__name__} as {name}" if value.__name__ != name else f"import {name}")
            elif (inspect.isfunction(value) or inspect.isclass(value)) and value.__module__ == "__main__":
                sources.append(textwrap.dedent(inspect.getsource(value)))
                if inspect.isfunction(value):
                    todo.append(value)
            else:
                unsaved.append(name)
    return sources, unsaved


def _save(folder: Path, target: str, fn: object) -> list[str]:
    """Write your function (and the notebook helpers it calls) to folder; returns the notebook values it uses that
    could not be saved with it (then nothing is saved: a later kernel could not run it)."""
    helpers, unsaved = _notebook_helpers(target, fn)
    path = _file_for(folder, target)
    if unsaved:
        if path.exists():
            path.unlink()
        return unsaved
    source = textwrap.dedent(inspect.getsource(getattr(fn, "__func__", fn)))
    folder.mkdir(parents=True, exist_ok=True)
    imports = [h for h in helpers if h.startswith("import ")]
    defs = [h.rstrip() + "\n\n" for h in helpers if not h.startswith("import ")]
    parts = [f"# course_lib target: {target}"] + imports + ([""] if imports else []) + defs + [source]
    path.write_text("\n".join(parts), encoding="utf-8")
    return []


def _load(path: Path) -> tuple[str, object]:
    """(target, your function) from a saved file. Its code runs among the target module's names (np, Tensor...)."""
    text = path.read_text(encoding="utf-8")
    first, _, source = text.partition("\n")
    target = first.removeprefix("# course_lib target: ").strip()
    module, _, name = _split(target)
    namespace = dict(vars(module))
    exec(compile(source, str(path), "exec"), namespace)  # noqa: S102 - the learner's own code, saved by exercise()
    return target, namespace[name]


def load_saved(folder: Path | None = None) -> list[str]:
    """Install every solution saved in `folder` (default: mine_dir()); called when course_lib is imported. A file
    that does not load says so in one line and leaves the reference in place. Returns the targets installed."""
    folder = mine_dir() if folder is None else folder
    if folder is None or not folder.is_dir():
        return []
    installed = []
    for path in sorted(folder.glob("*.py")):
        try:
            target, fn = _load(path)
            _reference(target)
            _place(target, _as_installed(target, fn))
            _YOURS[target] = fn
            installed.append(target)
        except Exception as e:  # noqa: BLE001 - any failure means: use the reference, and say why once
            _say_once(path.name, "load", f"○ {path.name}: could not load your saved code "
                      f"({type(e).__name__}: {e}); course_lib and this notebook use the reference version")
    return installed


# --- the check cell -------------------------------------------------------------------------------------------------

def _where(tb, fn) -> str:
    """Where an error in a check came from, in the learner's terms: the line of their function that raised (not
    the library's innermost frame), and the check that was running with the values of its small variables."""
    frames = list(traceback.walk_tb(tb))
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    mine = [(f, n) for f, n in frames if f.f_code is code]
    if mine:
        frame, lineno = mine[-1]
        where = f"line {lineno - code.co_firstlineno + 1} of your {code.co_name}"
    else:  # it raised in code of the library your function called, or in the check itself
        frame, lineno = frames[-1]
        where = f"line {lineno} of {frame.f_code.co_name}"
    check, check_line = frames[0]
    text = linecache.getline(check.f_code.co_filename, check_line).strip()
    lambdas = set(re.findall(r"lambda\s+([\w\s,=*]*):", text))
    params = {p.strip(" *").split("=")[0] for group in lambdas for p in group.split(",")}
    shown = []
    for name in dict.fromkeys(re.findall(r"(?<![\w.])([A-Za-z_]\w*)(?!\s*\()", text)):
        if name in params or name not in check.f_locals:
            continue
        value = check.f_locals[name]
        if isinstance(value, (bool, int, float, str, tuple, list, type(None))) and len(repr(value)) <= 40:
            shown.append(f"{name}={value!r}")
    if text:
        where += f", in the check {text[:80]!r}" + (f" with {', '.join(shown)}" if shown else "")
    return where


class exercise:  # noqa: N801 - used like a function: `with exercise(target, fn):`
    """Check your `fn` for `target` in a `with` block; see the module docstring."""

    def __init__(self, target: str, fn: object):
        self.target, self.fn = target, fn
        _reference(target)
        self.folder = mine_dir()
        if self.folder is not None:  # exercise mode: your function runs inside the checks too
            _place(target, _as_installed(target, fn))

    def __enter__(self) -> "exercise":
        return self

    def __exit__(self, kind, error, tb) -> bool:
        target, folder = self.target, self.folder
        if kind is None:
            if folder is not None:
                _YOURS[target] = self.fn
                try:
                    unsaved = _save(folder, target, self.fn)
                except (OSError, TypeError):  # inspect cannot read the source back (code run by exec, not a cell)
                    print(f"✓ {target}: your version passes; course_lib runs it in this notebook, but it cannot be "
                          "saved for the later notebooks: Python cannot read its source back (write it in a "
                          "notebook cell)")
                    return False
                if unsaved:
                    print(f"✓ {target}: your version passes; course_lib runs it in this notebook, but the later "
                          f"notebooks cannot: it uses {', '.join(unsaved)} from your notebook (move it inside the "
                          "function to keep it)")
                else:
                    print(f"✓ {target}: your version passes; course_lib runs it from now on")
            else:
                print(f"✓ {target}: passes")
            return False
        if folder is None:  # solution mode: a failing check is a real failure of the course
            return False
        if isinstance(error, NotImplementedError):
            line = f"○ {target}: not written yet; course_lib and this notebook use the reference version"
        elif isinstance(error, ExerciseFailed):
            line = f"✗ {target}: {error}; course_lib and this notebook use the reference version until this passes"
        else:
            line = (f"✗ {target}: {type(error).__name__}: {error} ({_where(tb, self.fn)}); "
                    "course_lib and this notebook use the reference version until this passes")
        _use_reference(target, self.fn)
        saved = _file_for(folder, target)
        if saved.exists():
            saved.unlink()
        print(line)
        return True  # the one line above instead of a traceback: Run All goes on


def report(targets: list[str] | None = None) -> dict[str, str]:
    """Which parts of the library run your code and which the reference, printed as a table (default: every
    exercise of the course, COURSE_TARGETS); also returned as a dict."""
    folder = mine_dir()
    known = list(targets) if targets is not None else list(COURSE_TARGETS)
    for t in _YOURS:
        if t not in known:
            known.append(t)
    result = {t: ("yours" if t in _YOURS else "reference") for t in known}
    width = max((len(t) for t in known), default=10)
    for t, who in result.items():
        print(f"{t:<{width}}  {who}")
    mine = sum(who == "yours" for who in result.values())
    print(f"{mine} of {len(result)} parts are yours" + ("" if folder else " (solution mode: nothing is installed)"))
    return result
