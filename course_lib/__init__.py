"""course_lib: a small PyTorch, built from a flat buffer of numbers in the course's notebooks.

This file is written by hand (the only one besides _export.py): it gathers the public names of
the generated modules so that `import course_lib as torch` works. Everything it imports is
generated from notebooks/; edit those, then run `python -m course_lib._export`.
"""
from . import storage, broadcast, autograd
from .storage import (bool_ as bool, device, double, dtype, float16, float32, float64, half, int8, int16, int32,
                      int64, long, manual_seed, uint8)
from .broadcast import broadcast_shapes
from .autograd import (Tensor, abs, allclose, arange, argmax, argmin, broadcast_to, cat, chunk, clamp, clone,
                       concatenate, cos, detach, empty, enable_grad, equal, exp, eye, flatten, from_numpy, full,
                       full_like, gradcheck, is_grad_enabled, is_tensor, isclose, linspace, log, log_softmax,
                       logsumexp, matmul, max, maximum, mean, min, minimum, neg, no_grad, numel, ones, ones_like,
                       permute, pow, rand, randint, randn, randperm, relu, reshape, set_grad_enabled, sigmoid, sin,
                       softmax, split, sqrt, squeeze, stack, std, sum, t, tanh, tensor, transpose, unsqueeze, var,
                       where, zeros, zeros_like)

# The later layers: devices (04), nn (05), optim and data (06). Importing gpu registers the "cuda" backend,
# or the reason it is unavailable, with storage's backend table.
from . import cuda, gpu, nn, optim, serialization, utils  # noqa: E402
from .serialization import load, save  # noqa: E402

# PyTorch's short dtype names: torch.float is float32, torch.int is int32 (defined last: they shadow the builtins here)
from .storage import float32 as float, int32 as int  # noqa: E402,A001
