"""float16 arithmetic with a number, and float fill values out of range, as PyTorch (two silent wrong numbers).

PyTorch computes half-precision element-wise ops in float32 and rounds the result to float16 once, so a number
past float16's largest value (65504) still works: 0.25 * 1e5 is 24992. NumPy rounds the number to float16 first
(1e5 -> inf), so course_lib printed inf. full/linspace with a finite value past the dtype's range raise in PyTorch
("value cannot be converted ... without overflow"); course_lib filled inf. Each case runs on both libraries.
"""
import numpy as np
import pytest

import course_lib

torch = pytest.importorskip("torch")

OPS = {
    "mul number": lambda L, a: a * 1e5,
    "number mul": lambda L, a: 1e5 * a,
    "div number": lambda L, a: a / 1e-5,
    "add number": lambda L, a: a + 70000.0,
    "sub int 0-d": lambda L, a: a - L.tensor(3),
    "mul float32 0-d": lambda L, a: a * L.tensor(1e5),
    "mul float64 0-d": lambda L, a: a * L.tensor(1e5, dtype=L.float64),
    "compare": lambda L, a: a < 70000.0,
    "mul_ number": lambda L, a: a.clone().mul_(1e5),
    "div_ number": lambda L, a: a.clone().div_(1e-5),
    "add_ 0-d": lambda L, a: a.clone().add_(L.tensor(1e5)),
    "0-d half * 0-d float32": lambda L, a: a[0] * L.tensor(1e5),
}


@pytest.mark.parametrize("name", list(OPS))
def test_float16_with_a_number_computes_in_float32(name):
    data = [0.25, 3.0, -1.5, 0.1]
    results = []
    for L in (course_lib, torch):
        out = OPS[name](L, L.tensor(data, dtype=L.float16))
        results.append((np.asarray(out.tolist()), str(out.dtype).split(".")[-1]))
    (ours, our_dtype), (theirs, their_dtype) = results
    assert our_dtype == their_dtype and np.array_equal(ours, theirs, equal_nan=True), (ours, theirs)


@pytest.mark.parametrize("make", [
    lambda L: L.full((2,), 70000.0, dtype=L.float16),
    lambda L: L.full((2,), -1e39, dtype=L.float32),
    lambda L: L.full((2,), 1e300),
    lambda L: L.linspace(0, 1e6, 3, dtype=L.float16),
    lambda L: L.linspace(-1e5, 0, 3, dtype=L.float16),
])
def test_fill_values_past_the_float_range_raise(make):
    with pytest.raises(RuntimeError, match="without overflow"):
        make(torch)
    with pytest.raises(RuntimeError, match="without overflow"):
        make(course_lib)


@pytest.mark.parametrize("value", [65504.0, float("inf"), float("-inf"), float("nan"), -65504.0])
def test_fill_values_in_range_or_not_finite_are_kept(value):
    ours = course_lib.full((2,), value, dtype=course_lib.float16).tolist()
    theirs = torch.full((2,), value, dtype=torch.float16).tolist()
    assert np.array_equal(ours, theirs, equal_nan=True)
