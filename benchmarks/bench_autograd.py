"""Autograd overhead (notebook 03): small-tensor forward+backward and a long chain, against PyTorch eager (CPU)."""
import numpy as np

from harness import Case, optional_torch


def _small_graph():
    """y = x*2; y = y.exp(); y = y + x; y = y.tanh(); y.sum().backward() on 10-element float32 tensors."""
    import course_lib as cl

    data = np.random.default_rng(0).standard_normal(10).astype(np.float32)
    x = cl.tensor(data, requires_grad=True)

    def ours():
        y = x * 2
        y = y.exp()
        y = y + x
        y = y.tanh()
        y.sum().backward()
        x.grad = None

    impls = {"course_lib": ours}
    torch = optional_torch()
    if torch is not None:
        tx = torch.tensor(data, requires_grad=True)

        def theirs():
            y = tx * 2
            y = y.exp()
            y = y + tx
            y = y.tanh()
            y.sum().backward()
            tx.grad = None

        impls["torch"] = theirs
    return impls


def _chain(n=10_000):
    """n elementwise ops in a row on a 10-element tensor, then backward through all of them."""
    import course_lib as cl

    data = np.random.default_rng(1).standard_normal(10).astype(np.float32)
    x = cl.tensor(data, requires_grad=True)

    def ours():
        y = x
        for _ in range(n // 2):
            y = y * 1.0001
            y = y + 0.0001
        y.sum().backward()
        x.grad = None

    impls = {"course_lib": ours}
    torch = optional_torch()
    if torch is not None:
        tx = torch.tensor(data, requires_grad=True)

        def theirs():
            y = tx
            for _ in range(n // 2):
                y = y * 1.0001
                y = y + 0.0001
            y.sum().backward()
            tx.grad = None

        impls["torch"] = theirs
    return impls


CASES = [Case("autograd: 5-op graph fwd+bwd, 10 elems", _small_graph),
         Case("autograd: 10,000-op chain fwd+bwd", _chain)]
