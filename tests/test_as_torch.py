"""A short PyTorch program runs unchanged with `import course_lib as torch`, and gives PyTorch's numbers.

The same source text is executed twice — once with the real torch module, once with course_lib
bound to the name `torch` — from identical starting weights; every value the program records
must agree. This is the API.md promise checked end to end, not op by op.
"""
import numpy as np
import pytest

import course_lib

real_torch = pytest.importorskip("torch")

PROGRAM = '''
nn, F = torch.nn, torch.nn.functional

class MyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(4 * 4 * 4, 16), nn.Tanh(), nn.Linear(16, 3))

    def forward(self, x):
        return self.body(self.pool(F.relu(self.conv(x))))

net = MyNet()
net.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in start.items()})
record["keys"] = list(net.state_dict().keys())
record["n_params"] = sum(p.numel() for p in net.parameters())
x, y = torch.from_numpy(images), torch.from_numpy(labels)
opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3)
for step in range(4):
    opt.zero_grad()
    loss = nn.CrossEntropyLoss()(net(x), y)
    loss.backward()
    opt.step()
    record[f"loss{step}"] = loss.item()
adam = torch.optim.Adam(net.parameters(), lr=1e-2)
for step in range(3):
    adam.zero_grad()
    out = net(x)
    loss = F.mse_loss(out.softmax(dim=1), torch.full((6, 3), 1.0 / 3)) + (out ** 2).mean() + out.std()
    loss.backward()
    adam.step()
    record[f"adam{step}"] = loss.item()
record["grad_conv"] = net.conv.weight.grad.numpy().copy()
record["weights"] = {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}

with torch.no_grad():
    logits = net(x)
    record["pred"] = logits.argmax(dim=1).tolist()
    values, indices = logits.max(dim=1)
    record["max"] = values.numpy().copy()
    record["maxi"] = indices.tolist()

a = torch.arange(12.0).reshape(3, 4).requires_grad_()
b = a.t()[1:, ::2] * 2 + a.sum(dim=1, keepdim=True).T[:, :2]
c = torch.where(b > 10, b, torch.zeros_like(b)).logsumexp(dim=0)
c.sum().backward()
record["view_grad"] = a.grad.numpy().copy()
record["c"] = c.detach().numpy().copy()

w = torch.tensor([1.5, -0.5], requires_grad=True)
(g,) = torch.autograd.grad((w.exp() * w).sum(), w, create_graph=True)
(h,) = torch.autograd.grad(g.sum(), w)
record["second"] = h.numpy().copy()
'''


def _run(module):
    rng = np.random.default_rng(0)
    images = rng.standard_normal((6, 1, 8, 8)).astype(np.float32)
    labels = rng.integers(0, 3, 6).astype(np.int64)
    real_torch.manual_seed(0)
    start = {k: v.detach().numpy().copy() for k, v in _torch_net().state_dict().items()}
    record = {}
    exec(PROGRAM, {"torch": module, "start": start, "images": images, "labels": labels, "record": record})
    return record


def _torch_net():
    nn = real_torch.nn

    class MyNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 4, kernel_size=3, padding=1)
            self.pool = nn.MaxPool2d(2)
            self.body = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.Tanh(), nn.Linear(16, 3))

    return MyNet()


def test_a_pytorch_program_runs_unchanged_and_agrees():
    ours, theirs = _run(course_lib), _run(real_torch)
    assert ours.keys() == theirs.keys()
    for key in theirs:
        a, b = ours[key], theirs[key]
        if isinstance(b, dict):
            assert a.keys() == b.keys()
            for k in b:
                np.testing.assert_allclose(a[k], b[k], rtol=2e-4, atol=2e-5, err_msg=f"{key}[{k}]")
        elif isinstance(b, (list, int)) and not isinstance(b, bool) and key not in ("pred", "maxi"):
            assert a == b, key
        else:
            np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=2e-4,
                                       atol=2e-5, err_msg=key)
