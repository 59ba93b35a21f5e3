"""course_lib.exercise: a learner's passing function becomes the library's, a failing one falls back in one line.

Each case runs a small script as __main__ (like a notebook kernel) in a fresh process, in a folder with or without
a `mine/` folder (exercise mode vs solution mode). The learner code here is deliberately written differently from
the reference, and records its calls, so the tests can see that course_lib really runs it.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PRELUDE = """
import course_lib
import spy
from course_lib import storage, autograd
from course_lib.exercise import exercise, expect, report
CALLS = spy.CALLS

def view_strides(shape, strides, new_shape):
    # a learner's version, written differently: group dims into contiguous runs, then split each run
    spy.CALLS.append(tuple(new_shape))
    old = [(n, s) for n, s in zip(shape, strides) if n != 1]
    out, i = [], 0
    for n in new_shape:
        if n == 1:
            out.append(0)
            continue
        if i >= len(old):
            return None
        size, stride = old[i]
        if size == n:
            out.append(stride); i += 1
        elif size % n == 0:
            out.append(stride * (size // n)); old[i] = (size // n, stride)
        else:
            # merge with the next dims when they are contiguous with this one
            total = n
            while size < total and i + 1 < len(old) and old[i][1] == old[i + 1][0] * old[i + 1][1]:
                size, stride = size * old[i + 1][0], old[i + 1][1]; i += 1
            if size != total:
                return None
            out.append(stride); i += 1
    return tuple(out)
"""

CHECK = """
with exercise("storage:view_strides", view_strides):
    expect(view_strides((2, 3), (3, 1), (6,)) == (1,), "shape (2, 3) -> (6,): flattening a contiguous tensor")
    expect(view_strides((2, 3), (1, 2), (6,)) is None, "a transposed (2, 3) cannot be flattened without a copy")
"""


def _run(tmp: Path, code: str, mine: bool) -> subprocess.CompletedProcess:
    if mine:
        (tmp / "mine").mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "COURSE_LIB_MINE"}
    env["PYTHONPATH"] = str(ROOT)
    (tmp / "spy.py").write_text("CALLS = []  # the learner code records its calls here\n", encoding="utf-8")
    script = tmp / "learner.py"
    script.write_text(textwrap.dedent(code), encoding="utf-8")
    return subprocess.run([sys.executable, str(script)], cwd=tmp, env=env, capture_output=True, text=True, timeout=120)


def test_a_passing_solution_runs_in_the_library_and_in_a_later_kernel(tmp_path):
    out = _run(tmp_path, PRELUDE + CHECK + """
n = len(CALLS)
t = course_lib.arange(24.).view(2, 3, 4).view(6, 4)
print("library called it:", len(CALLS) > n, storage.view_strides is view_strides)
""", mine=True)
    assert out.returncode == 0, out.stderr
    assert "✓ storage:view_strides: your version passes; course_lib runs it from now on" in out.stdout
    assert "library called it: True True" in out.stdout
    saved = tmp_path / "mine" / "storage__view_strides.py"
    assert saved.read_text(encoding="utf-8").startswith("# course_lib target: storage:view_strides\n")
    # a later notebook is a new kernel: importing course_lib loads the saved version, which the library runs
    later = _run(tmp_path, """
import course_lib
from course_lib import storage
assert storage.view_strides.__code__.co_filename.endswith("storage__view_strides.py")
x = course_lib.arange(24.).view(4, 6)
print(x.shape, x.stride())
course_lib.exercise.report(["storage:view_strides", "autograd:Mul.backward"])
""", mine=True)
    assert later.returncode == 0, later.stderr
    assert "torch.Size([4, 6]) (6, 1)" in later.stdout
    assert "storage:view_strides   yours" in later.stdout and "autograd:Mul.backward  reference" in later.stdout
    assert "1 of 2 parts are yours" in later.stdout


def test_a_wrong_solution_falls_back_in_one_line_and_run_all_goes_on(tmp_path):
    out = _run(tmp_path, PRELUDE + CHECK + """
def view_strides(shape, strides, new_shape):
    return tuple(1 for _ in new_shape)   # wrong: every dim steps by one element
""" + CHECK + """
print("library uses the reference:", storage.view_strides is autograd.__dict__.get("view_strides", storage.view_strides)
      and storage.view_strides.__module__ == "course_lib.storage")
print("notebook name now the reference:", view_strides.__module__ == "course_lib.storage")
print(course_lib.arange(6.).view(2, 3).t().reshape(6).tolist())
""", mine=True)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[1] == ("✗ storage:view_strides: a transposed (2, 3) cannot be flattened without a copy; "
                        "course_lib and this notebook use the reference version until this passes")
    assert "library uses the reference: True" in out.stdout and "notebook name now the reference: True" in out.stdout
    assert "[0.0, 3.0, 1.0, 4.0, 2.0, 5.0]" in out.stdout
    assert not (tmp_path / "mine" / "storage__view_strides.py").exists()  # the earlier passing version is withdrawn
    assert "Traceback" not in out.stdout + out.stderr


def test_an_unwritten_stub_and_an_error_each_say_one_line(tmp_path):
    out = _run(tmp_path, PRELUDE + """
def view_strides(shape, strides, new_shape):
    raise NotImplementedError("Exercise: walk both shapes together")
""" + CHECK + """
def view_strides(shape, strides, new_shape):
    return strides[5]
""" + CHECK + """
print(course_lib.arange(6.).view(3, 2).tolist())
""", mine=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == "○ storage:view_strides: not written yet; course_lib and this notebook use the reference version"
    assert out.stdout.splitlines()[1].startswith("✗ storage:view_strides: IndexError: tuple index out of range (line ")
    assert "[[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]" in out.stdout


def test_a_backward_rule_on_a_class_and_a_broken_saved_file(tmp_path):
    out = _run(tmp_path, """
import course_lib
from course_lib.exercise import exercise, expect
import spy
SEEN = spy.CALLS
class Mul(course_lib.autograd.Function):
    @staticmethod
    def backward(ctx, grad):
        spy.CALLS.append(1)
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad * b) if need_a else None, (a * grad) if need_b else None
with exercise("autograd:Mul.backward", Mul.backward):
    x = course_lib.tensor([1.0, -2.0], requires_grad=True)
    (x * x).sum().backward()
    expect(x.grad.tolist() == [2.0, -4.0], "d/dx sum(x*x) at x = [1, -2]")
print("ran yours:", len(SEEN) > 0)
""", mine=True)
    assert out.returncode == 0, out.stderr
    assert "✓ autograd:Mul.backward: your version passes" in out.stdout and "ran yours: True" in out.stdout
    (tmp_path / "mine" / "storage__view_strides.py").write_text(
        "# course_lib target: storage:view_strides\ndef view_strides(:\n", encoding="utf-8")
    later = _run(tmp_path, """
import course_lib
x = course_lib.tensor([3.0], requires_grad=True)
(x * x).sum().backward()
print(x.grad.tolist(), course_lib.arange(4.).view(2, 2).shape)
""", mine=True)
    assert later.returncode == 0, later.stderr
    assert later.stdout.splitlines()[0].startswith(
        "○ storage__view_strides.py: could not load your saved code (SyntaxError: ")
    assert "[6.0] torch.Size([2, 2])" in later.stdout


def test_solution_mode_checks_but_installs_nothing(tmp_path):
    out = _run(tmp_path, PRELUDE + CHECK + """
print(storage.view_strides is view_strides)
""", mine=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["✓ storage:view_strides: passes", "False"]
    assert not (tmp_path / "mine").exists()
    failing = _run(tmp_path, PRELUDE + """
with exercise("storage:view_strides", view_strides):
    expect(False, "a check that fails")
""", mine=False)
    assert failing.returncode != 0 and "ExerciseFailed: a check that fails" in failing.stderr


def test_notebook_helpers_are_saved_with_it_and_notebook_values_are_named(tmp_path):
    out = _run(tmp_path, """
import course_lib
from course_lib.exercise import exercise, expect
import numpy as numpy_alias

def _step(size):
    return numpy_alias.maximum(size, 1)

def contiguous_strides(shape):
    out, acc = [], 1
    for n in reversed(shape):
        out.append(acc)
        acc *= int(_step(n))
    return tuple(out[::-1])

with exercise("storage:contiguous_strides", contiguous_strides):
    expect(contiguous_strides((2, 3)) == (3, 1), "shape (2, 3)")

LIMIT = 10
def contiguous_strides(shape):
    assert len(shape) < LIMIT
    out, acc = [], 1
    for n in reversed(shape):
        out.append(acc)
        acc *= max(n, 1)
    return tuple(out[::-1])

with exercise("storage:contiguous_strides", contiguous_strides):
    expect(contiguous_strides((2, 3)) == (3, 1), "shape (2, 3)")
""", mine=True)
    assert out.returncode == 0, out.stderr
    first, second = out.stdout.splitlines()
    assert first == "✓ storage:contiguous_strides: your version passes; course_lib runs it from now on"
    assert "the later notebooks cannot: it uses LIMIT from your notebook" in second
    assert not (tmp_path / "mine" / "storage__contiguous_strides.py").exists()


def test_saved_helpers_load_in_a_later_kernel(tmp_path):
    out = _run(tmp_path, """
import course_lib
from course_lib.exercise import exercise, expect
import numpy as numpy_alias

def _step(size):
    return numpy_alias.maximum(size, 1)

def contiguous_strides(shape):
    out, acc = [], 1
    for n in reversed(shape):
        out.append(acc)
        acc *= int(_step(n))
    return tuple(out[::-1])

with exercise("storage:contiguous_strides", contiguous_strides):
    expect(contiguous_strides((2, 3)) == (3, 1), "shape (2, 3)")
""", mine=True)
    assert out.returncode == 0, out.stderr
    later = _run(tmp_path, """
from course_lib import storage
print(storage.contiguous_strides((4, 0, 5)), storage.contiguous_strides.__code__.co_filename.endswith(".py"))
""", mine=True)
    assert later.returncode == 0, later.stderr
    assert later.stdout.strip() == "(5, 5, 1) True"


def test_a_method_reads_the_librarys_classes_in_the_library_and_the_notebooks_in_the_notebook(tmp_path):
    # notebook 05 defines its own Parameter and Module before it switches to the library's: a learner's
    # __setattr__ that tests isinstance(value, Parameter) must mean course_lib.nn.Parameter once course_lib runs it
    out = _run(tmp_path, """
import course_lib
from course_lib import nn
from course_lib.autograd import Tensor
from course_lib.exercise import exercise, expect


class Parameter(Tensor):  # the notebook's own classes, not the library's
    pass


class Module:
    pass


def __setattr__(self, name, value):
    if isinstance(value, Parameter):
        self._forget(name, keep=self._parameters)
        self._parameters[name] = value
    elif isinstance(value, Module):
        self._forget(name, keep=self._modules)
        self._modules[name] = value
    else:
        for store in (self._parameters, self._modules, self._buffers):
            if name in store:
                store[name] = value
                return
        object.__setattr__(self, name, value)


with exercise("nn:Module.__setattr__", __setattr__):
    expect(__setattr__.__globals__["Parameter"] is Parameter, "the notebook's function reads the notebook's names")
installed = nn.Module.__setattr__
print("same code, library names:", installed.__code__ is __setattr__.__code__,
      installed.__globals__["Parameter"] is nn.Parameter)
print("Linear registers:", [n for n, _ in nn.Linear(2, 3).named_parameters()])
""", mine=True)
    assert out.returncode == 0, out.stderr
    assert "✓ nn:Module.__setattr__: your version passes; course_lib runs it from now on" in out.stdout
    assert "same code, library names: True True" in out.stdout
    assert "Linear registers: ['weight', 'bias']" in out.stdout
    later = _run(tmp_path, """
import course_lib
from course_lib import nn
print(nn.Module.__setattr__.__code__.co_filename.endswith("nn__Module.__setattr__.py"),
      [n for n, _ in nn.Sequential(nn.Linear(2, 3)).named_parameters()])
""", mine=True)
    assert later.returncode == 0, later.stderr
    assert "True ['0.weight', '0.bias']" in later.stdout


def test_a_passing_solution_whose_source_python_cannot_read_says_one_line(tmp_path):
    # cells run with exec() in a plain process (not a notebook kernel): inspect cannot read the function back
    out = _run(tmp_path, PRELUDE + """
exec('''
def view_strides(shape, strides, new_shape):
    return (1,) if tuple(new_shape) == (6,) and tuple(strides) == (3, 1) else None
''')
""" + CHECK + """
print("library runs it:", storage.view_strides((2, 3), (3, 1), (6,)) == (1,))
""", mine=True)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    assert out.stdout.splitlines()[0] == (
        "✓ storage:view_strides: your version passes; course_lib runs it in this notebook, but it cannot be saved for "
        "the later notebooks: Python cannot read its source back (write it in a notebook cell)")
    assert "library runs it: True" in out.stdout
    assert not (tmp_path / "mine" / "storage__view_strides.py").exists()
