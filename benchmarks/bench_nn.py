"""nn (notebook 05): Conv2d through a strided window view + one matmul, and a small CNN training step."""
import numpy as np

from harness import Case, optional_torch

import course_lib
from course_lib import nn
from course_lib.nn import functional as F


def _conv_forward():
    """Conv2d forward, batch 64, 16 -> 32 channels, 8x8, 3x3, padding 1 (the second layer of notebook 06's CNN)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 16, 8, 8)).astype(np.float32)
    w = rng.standard_normal((32, 16, 3, 3)).astype(np.float32)
    b = rng.standard_normal(32).astype(np.float32)
    xc, wc, bc = course_lib.tensor(x), course_lib.tensor(w), course_lib.tensor(b)

    def numpy_conv():
        xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
        win = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(2, 3))  # (N, C, 8, 8, 3, 3) view
        cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(64 * 64, 16 * 9)
        return (cols @ w.reshape(32, -1).T).reshape(64, 8, 8, 32).transpose(0, 3, 1, 2) + b[:, None, None]

    impls = {"course_lib": lambda: F.conv2d(xc, wc, bc, 1, 1), "numpy": numpy_conv}
    torch = optional_torch()
    if torch is not None:
        xt, wt, bt = torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b)
        impls["torch"] = lambda: torch.nn.functional.conv2d(xt, wt, bt, 1, 1)
    return impls


def _cnn_step():
    """Forward + backward of notebook 06's CNN on a batch of 64 8x8 images (no optimizer step)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    course_lib.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1),
                        nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(128, 10))
    xc, yc = course_lib.tensor(x), course_lib.tensor(y)

    def ours():
        net.zero_grad()
        F.cross_entropy(net(xc), yc).backward()

    impls = {"course_lib": ours}
    torch = optional_torch()
    if torch is not None:
        tn = torch.nn
        tnet = tn.Sequential(tn.Conv2d(1, 16, 3, padding=1), tn.ReLU(), tn.MaxPool2d(2),
                             tn.Conv2d(16, 32, 3, padding=1), tn.ReLU(), tn.MaxPool2d(2), tn.Flatten(),
                             tn.Linear(128, 10))
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)

        def theirs():
            tnet.zero_grad()
            tn.functional.cross_entropy(tnet(xt), yt).backward()
        impls["torch"] = theirs
    return impls


def _loss_step(loss_name, target):
    """Linear(20, 10) and a loss, forward + backward, batch 64: the loss nodes' own cost (PyTorch's fused nodes
    MseLossBackward0, NllLossBackward0 over LogSoftmaxBackward0, BinaryCrossEntropyWithLogitsBackward0)."""
    def setup():
        rng = np.random.default_rng(0)
        x = rng.standard_normal((64, 20)).astype(np.float32)
        w = rng.standard_normal((10, 20)).astype(np.float32)
        b = rng.standard_normal(10).astype(np.float32)
        y = rng.integers(0, 10, 64) if target == "class" else rng.uniform(0, 1, (64, 10)).astype(np.float32)
        xc, yc = course_lib.tensor(x), course_lib.tensor(y)
        wc, bc = course_lib.tensor(w, requires_grad=True), course_lib.tensor(b, requires_grad=True)
        impls = {"course_lib": lambda: getattr(F, loss_name)(F.linear(xc, wc, bc), yc).backward()}
        torch = optional_torch()
        if torch is not None:
            xt, yt = torch.from_numpy(x), torch.from_numpy(y)
            wt, bt = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
            tf = torch.nn.functional
            impls["torch"] = lambda: getattr(tf, loss_name)(tf.linear(xt, wt, bt), yt).backward()
        return impls
    return setup


CASES = [Case("nn: conv2d forward 64x16x8x8 -> 32, 3x3 pad 1", _conv_forward),
         Case("nn: CNN forward+backward, batch 64 (notebook 06)", _cnn_step),
         Case("nn: linear + cross_entropy, forward+backward, batch 64", _loss_step("cross_entropy", "class")),
         Case("nn: linear + mse_loss, forward+backward, batch 64", _loss_step("mse_loss", "real")),
         Case("nn: linear + bce_with_logits, forward+backward, batch 64",
              _loss_step("binary_cross_entropy_with_logits", "real"))]
