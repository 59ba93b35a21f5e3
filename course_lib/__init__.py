"""course_lib: a small PyTorch, built from a flat buffer of numbers in the course's notebooks.

This file is written by hand (the only one besides _export.py): it gathers the public names of
the generated modules so that `import course_lib as torch` works. Everything it imports is
generated from notebooks/; edit those, then run `python -m course_lib._export`.
"""
from . import dtypes, devices, storage, broadcast, autograd, ops, views, reductions, creation, checks, protocols, functional
from .dtypes import (bool_ as bool, double, dtype, float16, float32, float64, half, int8, int16, int32, int64, long,
                     uint8)
from .devices import device
from .storage import manual_seed
from .broadcast import broadcast_shapes
from .autograd import Tensor, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .ops import abs, clamp, cos, exp, log, matmul, maximum, minimum, neg, pow, relu, sigmoid, sin, sqrt, tanh, where
from .views import cat, stack
from .reductions import log_softmax, logsumexp, mean, softmax, std, sum, var
from .creation import (arange, empty, eye, from_numpy, full, full_like, is_tensor, linspace, ones, ones_like, rand,
                       randint, randn, randperm, tensor, zeros, zeros_like)
from .checks import gradcheck
from .functional import (allclose, argmax, argmin, broadcast_to, chunk, clone, concatenate, detach, equal, flatten,
                         isclose, max, min, numel, permute, reshape, split, squeeze, t, transpose, unsqueeze)

# The later layers: devices (04: gpu, cuda, simdevice, fused_gelu, gpu_results), nn (05), optim and data (06).
# Importing gpu registers the "cuda" backend, or the reason it is unavailable, with storage's backend table.
from . import cuda, fused_gelu, gpu, gpu_results, nn, optim, serialization, simdevice, utils  # noqa: E402
from .serialization import load, save  # noqa: E402

# PyTorch's short dtype names: torch.float is float32, torch.int is int32 (defined last: they shadow the builtins here)
from .dtypes import float32 as float, int32 as int  # noqa: E402,A001
