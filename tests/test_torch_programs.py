"""PyTorch tutorial-style programs, run unchanged under real PyTorch and under course_lib (issue 18).

Each file in tests/torch_programs/ is a normal script (`import torch`, `import torch.nn as nn`, ...) written for
this project in the style of PyTorch's beginner tutorials, the 60-minute blitz, "learning PyTorch with examples",
"what is torch.nn really", the recipes, pytorch/examples (mnist, regression, vae), makemore and micrograd's torch
checks. Its data is made in the program (NumPy with a fixed seed) or is scikit-learn's bundled digits; it trains
for a few steps only.

How a program is run
--------------------
* `test_runs_under_real_torch`: the program as it stands, under real PyTorch, nothing patched: it must run to the
  end (the programs are valid PyTorch, whatever course_lib lacks).
* `test_course_lib_prints_what_torch_prints`: the program is executed twice in this process, with its printed
  output captured, once with `torch` = real PyTorch and once with `torch` = course_lib. For the course_lib run,
  the program's `import torch...` / `from torch... import` statements are answered by course_lib's modules: the
  program is executed with its own `__builtins__` whose `__import__` maps `torch` -> `course_lib` and
  `torch.X` -> `course_lib.X`. Nothing is put into or taken out of sys.modules, so the real torch module and every
  other test are untouched.

Same random numbers (the harness's choice)
------------------------------------------
course_lib draws from a NumPy Generator (`manual_seed(s)` is `np.random.default_rng(s)`); it does not reproduce
PyTorch's Mersenne-Twister stream. So in the *torch* run, the harness routes every random draw the programs make
through course_lib's own random functions, and hands the numbers to torch as tensors: `torch.manual_seed`,
`torch.rand/randn/randint/randperm/rand_like/randn_like/multinomial`, `torch.Generator` objects passed as
`generator=`, `Tensor.uniform_/normal_` (so nn.init, hence every layer's initial weights), the dropout masks of
`F.dropout`/`F.dropout2d` (the mask is course_lib's dropout applied to ones; torch multiplies by it), and the
shuffled order of `DataLoader(shuffle=True)` (one `randperm(n)` per pass, as course_lib's loader draws). Where
course_lib lacks a random function (multinomial, Generator, dropout2d today) the harness falls back to NumPy
drawing from the same stream, so the torch run still completes. With both runs seeded alike (the harness seeds
both with 0 first; the programs call `manual_seed` themselves), both sides see identical random numbers by
construction: what is compared is everything else. All patches are undone after the run.

Comparison
----------
Printed output line by line, after `course_lib` is read as `torch` in course_lib's output (its dtypes print as
`course_lib.float32`: the library's own name is not a difference). Each line is split into numbers and the text around them: the text must be equal
(runs of blanks collapsed, `0x...` addresses blanked), integers equal exactly (shapes, counts, labels), and other
numbers equal within 1e-4 relative (float32) or one unit in the last printed digit (lines without numbers: equal
exactly, blanks included). A run that stops on an error
raises ProgramStopped (with the program's line and the error); a run that ends with different output raises
OutputDiffers (with the first differing lines).

Programs that fail on today's main are marked `xfail(strict=True, raises=<how they fail today>)` with the exact
missing names: when the feature lands the test fails (XPASS, or the other kind of failure), and the mark must be
updated or removed. Never skip.
"""
import builtins
import contextlib
import io
import math
import os
import random
import re
import traceback
import warnings
from pathlib import Path

import numpy as np
import pytest

import course_lib

PROGRAMS = Path(__file__).parent / "torch_programs"


class ProgramStopped(Exception):
    """The program stopped on an error under course_lib."""


class OutputDiffers(AssertionError):
    """The program ran to the end under course_lib but printed something else than under torch."""


# ---------------------------------------------------------------------------------------------------------------
# Running a program
# ---------------------------------------------------------------------------------------------------------------

def _course_lib_import(name, globals=None, locals=None, fromlist=(), level=0):
    if level == 0 and (name == "torch" or name.startswith("torch.")):
        module = builtins.__import__("course_lib" + name[len("torch"):], globals, locals, fromlist, level)
        return module
    return builtins.__import__(name, globals, locals, fromlist, level)


def _execute(path, *, as_course_lib, tmp_path):
    """Execute the program file; return (stdout text, exception or None, traceback summary)."""
    source = path.read_text()
    code = compile(source, str(path), "exec")
    own_builtins = dict(vars(builtins))
    if as_course_lib:
        own_builtins["__import__"] = _course_lib_import
    namespace = {"__name__": "__main__", "__file__": str(path), "__builtins__": own_builtins}
    out = io.StringIO()
    error, where = None, ""
    Path(tmp_path).mkdir(parents=True, exist_ok=True)
    with _global_state_kept(), _working_directory(tmp_path):
        random.seed(0)
        np.random.seed(0)
        course_lib.manual_seed(0)
        try:
            with contextlib.redirect_stdout(out), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                exec(code, namespace)
        except Exception as e:  # noqa: BLE001 - reported with the program's line
            error = e
            frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == str(path)]
            if frames:
                where = f"line {frames[-1].lineno}: {frames[-1].line}"
    return out.getvalue(), error, where


@contextlib.contextmanager
def _working_directory(path):
    """The program's files (saved models) go to the test's own folder (contextlib.chdir is Python 3.11+)."""
    cwd = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(cwd)


@contextlib.contextmanager
def _global_state_kept():
    """What a program may change for the whole process (random states, grad mode, torch's defaults and flags) is
    put back afterwards, so that the programs leave no trace in other tests."""
    py_state, np_state, cl_grad = random.getstate(), np.random.get_state(), course_lib.is_grad_enabled()
    cl_numbers = course_lib.random_numbers
    cl_cudnn = getattr(getattr(course_lib, "backends", None), "cudnn", None)
    cl_flags = {k: getattr(cl_cudnn, k) for k in ("enabled", "benchmark", "deterministic", "allow_tf32")
                if hasattr(cl_cudnn, k)}
    cl_rng = cl_numbers.get_rng_state() if hasattr(cl_numbers, "get_rng_state") else cl_numbers._default_generator
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        cudnn = torch.backends.cudnn
        kept = (torch.get_rng_state(), torch.is_grad_enabled(), torch.get_default_dtype(),
                cudnn.benchmark, cudnn.deterministic)
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        course_lib.set_grad_enabled(cl_grad)
        if hasattr(cl_numbers, "set_rng_state"):
            cl_numbers.set_rng_state(cl_rng)
        else:
            cl_numbers._default_generator = cl_rng
        if hasattr(course_lib, "set_default_device"):
            course_lib.set_default_device(None)
        for k, v in cl_flags.items():  # a program's `torch.backends.cudnn.benchmark = True`, under course_lib too
            setattr(cl_cudnn, k, v)
        if torch is not None:
            torch.set_rng_state(kept[0])
            torch.set_grad_enabled(kept[1])
            torch.set_default_dtype(kept[2])
            cudnn.benchmark, cudnn.deterministic = kept[3], kept[4]
            torch.set_default_device(None)


# ---------------------------------------------------------------------------------------------------------------
# The torch run's random numbers come from course_lib's random functions (see the docstring)
# ---------------------------------------------------------------------------------------------------------------

class _Patches:
    def __init__(self):
        self._undo = []

    def set(self, obj, name, value):
        self._undo.append((obj, name, obj.__dict__.get(name, _MISSING) if isinstance(obj, type) else
                           getattr(obj, name, _MISSING)))
        setattr(obj, name, value)

    def undo(self):
        for obj, name, old in reversed(self._undo):
            if old is _MISSING:
                delattr(obj, name)
            else:
                setattr(obj, name, old)
        self._undo.clear()


_MISSING = object()


@contextlib.contextmanager
def _torch_draws_from_course_lib(torch):
    import torch.nn.functional as F
    import torch.utils.data.sampler as sampler

    cl = course_lib
    real_manual_seed, real_dropout, real_dropout2d = torch.manual_seed, F.dropout, F.dropout2d

    class Generator:
        """Stands in for torch.Generator: a course_lib Generator where course_lib has one, else a NumPy one."""

        def __init__(self, device="cpu"):
            self.device = torch.device(device)
            self._seed = 67280421310721
            self.inner = cl.Generator() if hasattr(cl, "Generator") else np.random.default_rng(self._seed)

        def manual_seed(self, seed):
            self._seed = int(seed)
            if hasattr(cl, "Generator"):
                self.inner.manual_seed(self._seed)
            else:
                self.inner = np.random.default_rng(self._seed)
            return self

        def initial_seed(self):
            return self._seed

    def inner(generator):
        return generator.inner if isinstance(generator, Generator) else None

    def cl_dtype(dtype):
        return None if dtype is None else getattr(cl, str(dtype).split(".")[-1])

    def to_torch(t, dtype=None, device=None, requires_grad=False):
        out = torch.from_numpy(np.array(t.numpy()))
        if dtype is not None:
            out = out.to(dtype)
        return out.to(device or "cpu").requires_grad_(requires_grad)

    def size_of(size, kw):
        if "size" in kw:
            size = (kw.pop("size"),)
        if len(size) == 1 and isinstance(size[0], (tuple, list, torch.Size)):
            size = tuple(size[0])
        return tuple(int(n) for n in size)

    def floats(fn):
        def draw(*size, generator=None, dtype=None, device=None, requires_grad=False, **kw):
            values = fn(size_of(size, kw), generator=inner(generator), dtype=cl_dtype(dtype or torch.get_default_dtype()))
            return to_torch(values, dtype or torch.get_default_dtype(), device, requires_grad)
        return draw

    def randint(*args, size=None, generator=None, dtype=None, device=None, requires_grad=False, low=None,
                high=None):
        args = list(args)
        if size is None:
            size = args.pop()
        if high is None:
            high = args.pop()
        if low is None:
            low = args.pop() if args else 0
        values = cl.randint(low, high, tuple(size), generator=inner(generator))
        return to_torch(values, dtype or torch.int64, device, requires_grad)

    def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
        return to_torch(cl.randperm(n, generator=inner(generator)), dtype or torch.int64, device, requires_grad)

    def like(fn):
        def draw(input, *, dtype=None, device=None, requires_grad=False, **kw):
            return fn(tuple(input.shape), dtype=dtype or input.dtype, device=device or input.device,
                      requires_grad=requires_grad)
        return draw

    def multinomial(input, num_samples, replacement=False, *, generator=None):
        probs = input.detach().cpu().numpy()  # the program's dtype, as course_lib's multinomial will see it
        if hasattr(cl, "multinomial"):
            return to_torch(cl.multinomial(cl.tensor(probs), num_samples, replacement, generator=inner(generator)))
        g = inner(generator) or cl.random_numbers.default_generator()
        rows = np.atleast_2d(probs).astype(np.float64)
        picks = np.stack([g.choice(len(row), size=num_samples, replace=replacement, p=row / row.sum())
                          for row in rows])
        return torch.from_numpy(picks.reshape(probs.shape[:-1] + (num_samples,)).astype(np.int64))

    def fill(method):
        def fill_(self, a=0.0, b=1.0, generator=None):
            values = getattr(cl.empty(tuple(self.shape), dtype=cl_dtype(self.dtype)), method)(
                a, b, generator=inner(generator))
            with torch.no_grad():
                self.copy_(torch.from_numpy(np.array(values.numpy())))
            return self
        return fill_

    def scaled(input, scale, inplace):
        scale = torch.from_numpy(np.array(scale.numpy())).to(input.dtype)
        return input.mul_(scale) if inplace else input * scale

    def dropout(input, p=0.5, training=True, inplace=False):
        if not training or p == 0.0 or not 0.0 <= p <= 1.0:
            return real_dropout(input, p, training, inplace)
        ones = cl.ones(tuple(input.shape), dtype=cl_dtype(input.dtype))
        return scaled(input, cl.nn.functional.dropout(ones, p, True), inplace)

    def dropout2d(input, p=0.5, training=True, inplace=False):
        if not training or p == 0.0 or not 0.0 <= p <= 1.0:
            return real_dropout2d(input, p, training, inplace)
        ones = cl.ones(tuple(input.shape), dtype=cl_dtype(input.dtype))
        if hasattr(cl.nn.functional, "dropout2d"):
            return scaled(input, cl.nn.functional.dropout2d(ones, p, True), inplace)
        keep = (cl.rand(tuple(input.shape[:-2]) + (1, 1)) >= p).float() * (1.0 / (1.0 - p))
        return scaled(input, keep, inplace)

    def sampler_iter(self):
        yield from cl.randperm(len(self.data_source), generator=inner(self.generator)).tolist()

    def manual_seed(seed):
        cl.manual_seed(int(seed))
        return real_manual_seed(seed)

    patches = _Patches()
    try:
        patches.set(torch, "manual_seed", manual_seed)
        patches.set(torch, "Generator", Generator)
        patches.set(torch, "rand", floats(cl.rand))
        patches.set(torch, "randn", floats(cl.randn))
        patches.set(torch, "rand_like", like(torch.rand))
        patches.set(torch, "randn_like", like(torch.randn))
        patches.set(torch, "randint", randint)
        patches.set(torch, "randperm", randperm)
        patches.set(torch, "multinomial", multinomial)
        patches.set(torch.Tensor, "multinomial", multinomial)
        patches.set(torch.Tensor, "uniform_", fill("uniform_"))
        patches.set(torch.Tensor, "normal_", fill("normal_"))
        patches.set(F, "dropout", dropout)
        patches.set(F, "dropout2d", dropout2d)
        patches.set(sampler.RandomSampler, "__iter__", sampler_iter)
        yield
    finally:
        patches.undo()


# ---------------------------------------------------------------------------------------------------------------
# Comparing what the two runs printed
# ---------------------------------------------------------------------------------------------------------------

_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
_NUMBER = re.compile(r"(?<![\w.])-?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w])|(?<![\w.])-?(?:inf|nan)(?!\w)")


def _split(line):
    """(text with each number as '#', the numbers). Lines without numbers keep their blanks exactly; in lines with
    numbers, runs of blanks are collapsed (column padding follows the printed widths of the numbers)."""
    line = _ADDRESS.sub("0x…", line)
    numbers = _NUMBER.findall(line)
    skeleton = " ".join(_NUMBER.sub("#", line).split()) if numbers else line
    return skeleton, numbers


def _same_number(a, b):
    if re.fullmatch(r"-?\d+", a) or re.fullmatch(r"-?\d+", b):
        return a == b
    x, y = float(a), float(b)
    if math.isnan(x) or math.isnan(y) or math.isinf(x) or math.isinf(y):
        return a == b
    mantissa, _, exponent = b.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    last_digit = 10.0 ** (-decimals + (int(exponent) if exponent else 0))
    return abs(x - y) <= max(1e-4 * abs(y), 1.01 * last_digit, 1e-6)


def _compare(ours, theirs, name):
    a, b = ours.replace("course_lib", "torch").splitlines(), theirs.splitlines()
    for i, (x, y) in enumerate(zip(a, b), 1):
        (sx, nx), (sy, ny) = _split(x), _split(y)
        if sx != sy or len(nx) != len(ny) or not all(_same_number(p, q) for p, q in zip(nx, ny)):
            raise OutputDiffers(f"{name}: printed line {i} differs\n  course_lib: {x!r}\n  torch:      {y!r}")
    if len(a) != len(b):
        i = min(len(a), len(b))
        extra = a[i] if len(a) > len(b) else b[i]
        raise OutputDiffers(f"{name}: course_lib printed {len(a)} lines, torch {len(b)}; first extra: {extra!r}")


# ---------------------------------------------------------------------------------------------------------------
# What each program needs that today's course_lib lacks (exact names); removed as the features land
# ---------------------------------------------------------------------------------------------------------------

XFAIL = {}  # every program prints what torch prints (issue 18); a program that regresses gets a mark here


def _params():
    return list(_param_iter())


def _param_iter():
    for path in sorted(PROGRAMS.glob("*.py")):
        marks = []
        if path.stem in XFAIL:
            raises, reason = XFAIL[path.stem]
            marks.append(pytest.mark.xfail(strict=True, raises=raises, reason=reason))
        yield pytest.param(path, id=path.stem, marks=marks)


def _params_plain():
    return [pytest.param(path, id=path.stem) for path in sorted(PROGRAMS.glob("*.py"))]


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """The programs are tiny: torch's thread pool only adds contention (and time) on a shared machine."""
    try:
        import torch
    except ImportError:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_the_comparison_tolerates_rounding_and_nothing_else():
    _compare("loss: 0.123457  [ 64/600]\nshape torch.Size([2, 3])", "loss: 0.123456  [ 64/600]\n"
             "shape torch.Size([2, 3])", "same")
    _compare("tensor([1.0000e-05, 2.5000e+00])\n<AddBackward0 object at 0x7f00aa>",
             "tensor([1.0001e-05, 2.5000e+00])\n<AddBackward0 object at 0x55beef>", "rounding")
    _compare("value 1.00001234", "value 1.0000", "relative")
    for ours, theirs in [("loss: 0.1240", "loss: 0.1234"),     # beyond rounding
                         ("(2, 3)", "torch.Size([2, 3])"),     # text around numbers
                         ("correct: 153", "correct: 152"),     # integers exactly
                         ("tensor([1., 2.])", "tensor([1, 2])"),  # a float where torch prints an integer
                         ("a  b", "a b"),                      # lines without numbers: blanks too
                         ("x\ny", "x")]:                       # line count
        with pytest.raises(OutputDiffers):
            _compare(ours, theirs, "differs")


def test_there_are_enough_programs():
    names = {path.stem for path in PROGRAMS.glob("*.py")}
    assert len(names) >= 16
    assert set(XFAIL) <= names, "an xfail mark names a program that does not exist"


@pytest.mark.parametrize("path", _params_plain())
def test_runs_under_real_torch(path, tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    text, error, where = _execute(path, as_course_lib=False, tmp_path=tmp_path)
    assert error is None, f"{path.name} stops under real PyTorch at {where}: {error!r}\n{text[-2000:]}"
    assert text.strip(), f"{path.name} printed nothing"


@pytest.mark.parametrize("path", _params())
def test_course_lib_prints_what_torch_prints(path, tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    with _torch_draws_from_course_lib(torch):
        theirs, error, where = _execute(path, as_course_lib=False, tmp_path=tmp_path / "torch")
    assert error is None, f"{path.name} stops under real PyTorch (patched draws) at {where}: {error!r}"
    ours, error, where = _execute(path, as_course_lib=True, tmp_path=tmp_path / "course_lib")
    if error is not None:
        raise ProgramStopped(f"{path.name} stops under course_lib at {where}: "
                             f"{type(error).__name__}: {error}") from error
    _compare(ours, theirs, path.name)


# ---------------------------------------------------------------------------------------------------------------
# `python tests/test_torch_programs.py [name ...]`: where each program stands today, against the XFAIL table
# (run it after merging a feature, to update the table: a program whose needs all landed must lose its mark)
# ---------------------------------------------------------------------------------------------------------------

def _where_it_stands(path):
    import tempfile
    import torch

    with tempfile.TemporaryDirectory() as folder:
        with _torch_draws_from_course_lib(torch):
            theirs, error, where = _execute(path, as_course_lib=False, tmp_path=Path(folder) / "torch")
        if error is not None:
            return AssertionError, f"stops under real PyTorch at {where}: {error!r}"
        ours, error, where = _execute(path, as_course_lib=True, tmp_path=Path(folder) / "course_lib")
    if error is not None:
        return ProgramStopped, f"{where}: {type(error).__name__}: {error}"
    try:
        _compare(ours, theirs, path.name)
    except OutputDiffers as e:
        return OutputDiffers, str(e).split(": ", 1)[1]
    return None, "prints what torch prints"


if __name__ == "__main__":
    import sys

    import torch

    torch.set_num_threads(1)
    for path in sorted(PROGRAMS.glob("*.py")):
        if sys.argv[1:] and not any(word in path.stem for word in sys.argv[1:]):
            continue
        kind, detail = _where_it_stands(path)
        marked = XFAIL.get(path.stem, (None, ""))[0]
        verdict = "ok" if kind is marked else f"UPDATE THE MARK (marked {getattr(marked, '__name__', None)})"
        print(f"{path.stem}: {getattr(kind, '__name__', 'passes')} -- {verdict}\n    {detail}")
