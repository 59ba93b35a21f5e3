"""course_lib: a small PyTorch, built from a flat buffer of numbers in the course's notebooks.

This file is written by hand (the only one besides _export.py): it gathers the public names of
the generated modules so that `import course_lib as torch` works. Everything it imports is
generated from notebooks/; edit those, then run `python -m course_lib._export`.
"""
import importlib as _importlib
import importlib.util as _util

from . import storage, broadcast, autograd
from .storage import (bool_ as bool, device, double, dtype, float16, float32, float64, half, int8, int16, int32,
                      int64, long, manual_seed, uint8)
from .broadcast import broadcast_shapes
from .autograd import (Tensor, abs, arange, argmax, argmin, broadcast_to, cat, clamp, concatenate, cos, empty,
                       enable_grad, exp, eye, flatten, from_numpy, full, full_like, gradcheck, is_grad_enabled,
                       is_tensor, linspace, log, log_softmax, logsumexp, matmul, maximum, mean, minimum, neg, no_grad,
                       ones, ones_like, pow, rand, randint, randn, randperm, relu, set_grad_enabled, sigmoid, sin,
                       softmax, sqrt, stack, sum, tanh, tensor, where, zeros, zeros_like)

# Modules of later notebooks, while the course is being written: imported when they exist.
for _name in ("gpu", "cuda", "nn", "optim", "utils", "serialization"):
    if _util.find_spec(f"{__name__}.{_name}") is not None:
        globals()[_name] = _importlib.import_module(f"{__name__}.{_name}")
if "serialization" in globals():
    from .serialization import load, save  # noqa: E402
