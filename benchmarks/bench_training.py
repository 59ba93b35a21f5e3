"""Notebook 06: training steps end to end (forward, loss, backward, optimizer step), course_lib vs PyTorch CPU.

Targets (issue 8): one epoch of a 784-256-10 MLP (batch 128, Adam) on 10,000 seeded synthetic samples within
1.1x of PyTorch; a small-batch SGD-with-momentum step (32x64 input, three Linear layers) not slower than
PyTorch (ratio <= 1.0). Both sides start from the same weights and see the same data in the same order.
"""
import numpy as np

from harness import Case, optional_torch


def _data(n, d_in, classes, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d_in)).astype(np.float32)
    y = rng.integers(0, classes, n).astype(np.int64)
    return x, y


def _copy_weights(cl_model, torch_model, torch):
    """Give the torch model course_lib's initial parameters (same names, same shapes)."""
    with torch.no_grad():
        for name, p in torch_model.named_parameters():
            p.copy_(torch.from_numpy(cl_model.state_dict()[name].numpy().copy()))


def _mlp_epoch():
    import course_lib
    from course_lib import nn, optim
    from course_lib.utils.data import DataLoader, TensorDataset

    x, y = _data(10_000, 784, 10)
    course_lib.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(course_lib.from_numpy(x), course_lib.from_numpy(y)), batch_size=128,
                        shuffle=True, generator=np.random.default_rng(0))

    def epoch():
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
        return loss

    impls = {"course_lib": epoch}
    torch = optional_torch()
    if torch is not None:
        tmodel = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
        _copy_weights(model, tmodel, torch)
        topt = torch.optim.Adam(tmodel.parameters(), lr=1e-3)
        tloss_fn = torch.nn.CrossEntropyLoss()
        g = torch.Generator().manual_seed(0)
        tloader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
                                              batch_size=128, shuffle=True, generator=g)

        def tepoch():
            for xb, yb in tloader:
                topt.zero_grad()
                loss = tloss_fn(tmodel(xb), yb)
                loss.backward()
                topt.step()
            return loss

        impls["torch"] = tepoch
    return impls


def _small_step():
    import course_lib
    from course_lib import nn, optim

    x, y = _data(32, 64, 10, seed=1)
    course_lib.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    xb, yb = course_lib.from_numpy(x), course_lib.from_numpy(y)

    def step():
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return loss

    impls = {"course_lib": step}
    torch = optional_torch()
    if torch is not None:
        tmodel = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 128),
                                     torch.nn.ReLU(), torch.nn.Linear(128, 10))
        _copy_weights(model, tmodel, torch)
        topt = torch.optim.SGD(tmodel.parameters(), lr=0.01, momentum=0.9)
        tloss_fn = torch.nn.CrossEntropyLoss()
        txb, tyb = torch.from_numpy(x), torch.from_numpy(y)

        def tstep():
            topt.zero_grad()
            loss = tloss_fn(tmodel(txb), tyb)
            loss.backward()
            topt.step()
            return loss

        impls["torch"] = tstep
    return impls


CASES = [
    Case("training: MLP 784-256-10 epoch, 10k samples, batch 128, Adam", _mlp_epoch),
    Case("training: step, 32x64 input, 3 Linear, SGD momentum", _small_step),
]
