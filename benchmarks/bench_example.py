"""Example benchmark: proves the harness works (course_lib's column stays empty)."""
import numpy as np

from harness import Case, optional_torch

N = 1_000_000


def _add():
    rng = np.random.default_rng(0)
    a, b = rng.random(N, dtype=np.float32), rng.random(N, dtype=np.float32)
    impls = {"numpy": lambda: a + b}
    torch = optional_torch()
    if torch is not None:
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        impls["torch"] = lambda: ta + tb
    return impls


CASES = [Case("add, 1M float32", _add)]
