"""Notebook 02's kernels through the user-facing API: element-wise ops, reductions, broadcasting, matmul.

course_lib is timed through `course_lib.Tensor` operators and methods (`a + b`, `a.sum()`, `a @ b`),
NumPy on the same arrays, PyTorch on tensors that share them (torch.from_numpy). Targets (issue 4):
element-wise and reductions on 1M float32 elements and the 512x1x256 + 1x512x256 broadcast within
1.2x of PyTorch CPU; matmul 1024x1024 float32 within 1.05x of NumPy and of PyTorch.
"""
import numpy as np

from harness import Case, optional_torch

N = 1_000_000


def _arrays(*shapes, dtype=np.float32):
    rng = np.random.default_rng(0)
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


def _case(np_fn, shapes, cl_fn=None, torch_fn=None):
    """A setup that runs the same expression on course_lib tensors, NumPy arrays and torch tensors."""
    cl_fn = cl_fn or np_fn
    torch_fn = torch_fn or cl_fn

    def setup():
        import course_lib
        arrays = _arrays(*shapes)
        cl = [course_lib.from_numpy(a) for a in arrays]
        try:
            cl_fn(*cl)
        except Exception as e:  # a broken user-facing op: skip the case and say why (run.py prints it)
            raise ImportError(f"course_lib fails on this case: {type(e).__name__}: {e}") from None
        impls = {"course_lib": lambda: cl_fn(*cl), "numpy": lambda: np_fn(*arrays)}
        torch = optional_torch()
        if torch is not None:
            tt = [torch.from_numpy(a) for a in arrays]
            impls["torch"] = lambda: torch_fn(*tt)
        return impls
    return setup


def _np_logsumexp(a):
    m = a.max()
    return np.log(np.exp(a - m).sum()) + m


CASES = [
    Case("add, 1M float32", _case(lambda a, b: a + b, [N, N])),
    Case("mul, 1M float32", _case(lambda a, b: a * b, [N, N])),
    Case("div, 1M float32", _case(lambda a, b: a / b, [N, N])),
    Case("add scalar, 1M float32", _case(lambda a: a + 1.5, [N])),
    Case("less than, 1M float32", _case(lambda a, b: a < b, [N, N])),
    Case("add transposed, 1000x1000 float32", _case(lambda a, b: a.T + b, [(1000, 1000), (1000, 1000)],
                                                     cl_fn=lambda a, b: a.t() + b)),
    Case("broadcast add 512x1x256 + 1x512x256", _case(lambda a, b: a + b, [(512, 1, 256), (1, 512, 256)])),
    Case("sum, 1M float32", _case(lambda a: a.sum(), [N])),
    Case("mean, 1M float32", _case(lambda a: a.mean(), [N])),
    Case("max, 1M float32", _case(lambda a: a.max(), [N])),
    Case("argmax, 1M float32", _case(lambda a: a.argmax(), [N])),
    Case("sum dim=1, 1000x1000 float32", _case(lambda a: a.sum(axis=1), [(1000, 1000)],
                                               cl_fn=lambda a: a.sum(dim=1))),
    Case("sum dim=0, 1000x1000 float32", _case(lambda a: a.sum(axis=0), [(1000, 1000)],
                                               cl_fn=lambda a: a.sum(dim=0))),
    Case("var, 1M float32", _case(lambda a: a.var(ddof=1), [N], cl_fn=lambda a: a.var())),
    Case("logsumexp, 1M float32", _case(_np_logsumexp, [N], cl_fn=lambda a: a.logsumexp(0))),
    Case("matmul 1024x1024 float32", _case(lambda a, b: a @ b, [(1024, 1024), (1024, 1024)])),
]
