"""Storage (notebook 01): creating a view is O(ndim), never O(numel).

The same three views — t.T, t[::2, 1:], t.view(...) — are timed on a 4x4 and a 2000x2000 float32
tensor, in course_lib, NumPy and PyTorch. A view only computes new (shape, strides, offset), so each
column's big/small ratio should be about 1 (a copy of the big tensor would be ~250,000 times the work).
The case "read a strided view into NumPy" checks the zero-copy claim while timing it.
"""
import numpy as np

from harness import Case, optional_torch

from course_lib import factories

SIZES = {"4x4": 4, "2000x2000": 2000}
VIEWS = {
    "t.T": (lambda t: t.T, lambda a: a.T, lambda x: x.T),
    "t[::2, 1:]": (lambda t: t[::2, 1:], lambda a: a[::2, 1:], lambda x: x[::2, 1:]),
    "t.view(n/2, 2n)": (None, None, None),  # filled in per size below
}


def _case(view_name, n):
    def setup():
        a = np.random.default_rng(0).random((n, n), dtype=np.float32)
        t = factories.from_numpy(a)
        if view_name == "t.view(n/2, 2n)":
            shape = (n // 2, 2 * n)
            ours, theirs, torchs = (lambda t: t.view(shape)), (lambda a: a.reshape(shape, copy=False)), \
                (lambda x: x.view(shape))
        else:
            ours, theirs, torchs = VIEWS[view_name]
        impls = {"course_lib": lambda: ours(t), "numpy": lambda: theirs(a)}
        torch = optional_torch()
        if torch is not None:
            x = torch.from_numpy(a)
            impls["torch"] = lambda: torchs(x)
        return impls
    return setup


def _read_strided():
    a = np.random.default_rng(0).random((2000, 2000), dtype=np.float32)
    t = factories.from_numpy(a).T[::2, 1:]
    assert np.shares_memory(t.numpy(), a), "numpy() of a strided view must not copy"
    impls = {"course_lib": lambda: t.numpy(), "numpy": lambda: a.T[::2, 1:]}
    torch = optional_torch()
    if torch is not None:
        x = torch.from_numpy(a).T[::2, 1:]
        impls["torch"] = lambda: x.numpy()
    return impls


CASES = [Case(f"view {view} on {label}", _case(view, n)) for view in VIEWS for label, n in SIZES.items()]
CASES.append(Case("numpy() of a strided 2000x2000 view (zero-copy)", _read_strided))


def ratios(rounds=3):
    """big/small time ratio per view and implementation (run this file directly to print them)."""
    from harness import time_case
    out = {}
    for view in VIEWS:
        small, big = (time_case(_case(view, n)(), rounds) for n in SIZES.values())
        out[view] = {k: big[k] / small[k] for k in small}
    return out


if __name__ == "__main__":
    for view, r in ratios().items():
        print(f"{view:18}", "  ".join(f"{k} {v:.2f}" for k, v in r.items()))
