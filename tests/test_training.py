"""End to end: nn + optim + DataLoader train real models (seeded, fast), and follow PyTorch's trajectory."""
import numpy as np
import pytest

import course_lib
from course_lib import optim
from course_lib.utils.data import DataLoader, TensorDataset

nn = pytest.importorskip("course_lib.nn")


def _digits():
    datasets = pytest.importorskip("sklearn.datasets")
    model_selection = pytest.importorskip("sklearn.model_selection")
    d = datasets.load_digits()
    xtr, xte, ytr, yte = model_selection.train_test_split(d.data.astype(np.float32), d.target, test_size=0.2,
                                                          stratify=d.target, random_state=0)
    mean, std = xtr.mean(), xtr.std()
    return [course_lib.tensor(a) for a in ((xtr - mean) / std, ytr, (xte - mean) / std, yte)]


def _accuracy(model, x, y):
    with course_lib.no_grad():
        return (model(x).argmax(dim=1) == y).float().mean().item()


def test_linear_regression_with_minibatches_finds_least_squares():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((256, 3))
    w_true = np.array([1.5, -2.0, 0.5])
    Y = X @ w_true + 0.3 + 0.01 * rng.standard_normal(256)
    w = course_lib.zeros(3, dtype=course_lib.float64, requires_grad=True)
    b = course_lib.zeros(1, dtype=course_lib.float64, requires_grad=True)
    opt = optim.SGD([w, b], lr=0.05, momentum=0.9)
    loader = DataLoader(TensorDataset(course_lib.tensor(X), course_lib.tensor(Y)), batch_size=32, shuffle=True,
                        generator=np.random.default_rng(1))
    for _ in range(30):
        for xb, yb in loader:
            opt.zero_grad()
            loss = ((xb @ w + b - yb) ** 2).mean()
            loss.backward()
            opt.step()
    A = np.hstack([X, np.ones((256, 1))])
    ref = np.linalg.lstsq(A, Y, rcond=None)[0]
    np.testing.assert_allclose(np.append(w.detach().numpy(), b.detach().numpy()), ref, atol=2e-3)


def test_mlp_on_digits_reaches_96_percent():
    xtr, ytr, xte, yte = _digits()
    course_lib.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(xtr, ytr), batch_size=32, shuffle=True, generator=np.random.default_rng(0))
    before = _accuracy(model, xte, yte)
    for _ in range(8):
        for xb, yb in loader:
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
    acc = _accuracy(model, xte, yte)
    assert before < 0.3 and acc >= 0.96, f"test accuracy {acc:.3f} (before training {before:.3f})"


@pytest.mark.parametrize("name, kw", [("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)),
                                      ("Adam", dict(lr=3e-3, weight_decay=1e-4))])
def test_training_follows_pytorch(name, kw):
    torch = pytest.importorskip("torch")
    xtr, ytr, _, _ = _digits()
    course_lib.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    tmodel = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
    with torch.no_grad():
        for key, p in tmodel.named_parameters():
            p.copy_(torch.from_numpy(model.state_dict()[key].numpy().copy()))
    opt, topt = getattr(optim, name)(model.parameters(), **kw), getattr(torch.optim, name)(tmodel.parameters(), **kw)
    loss_fn, tloss_fn = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    losses, tlosses = [], []
    for xb, yb in DataLoader(TensorDataset(xtr, ytr), batch_size=64, shuffle=True, generator=np.random.default_rng(0)):
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        topt.zero_grad()
        tloss = tloss_fn(tmodel(torch.from_numpy(xb.numpy())), torch.from_numpy(yb.numpy()))
        tloss.backward()
        topt.step()
        losses.append(loss.item())
        tlosses.append(tloss.item())
    np.testing.assert_allclose(losses, tlosses, rtol=1e-3, atol=1e-4)
    for key, p in tmodel.named_parameters():
        np.testing.assert_allclose(model.state_dict()[key].numpy(), p.detach().numpy(), rtol=1e-3, atol=1e-4)


def _notebook_06():
    import json
    from pathlib import Path
    path = Path(__file__).resolve().parent.parent / "notebooks" / "06_training.ipynb"
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    src = lambda c: "".join(c["source"])
    out = lambda c: "".join("".join(o.get("text", "")) for o in c.get("outputs", []))
    return cells, src, out


def test_notebook_06_prose_quotes_the_accuracies_its_cells_print():
    """The summary and the linear model's prose quote the figures the notebook computes, not other ones."""
    import re
    cells, src, out = _notebook_06()
    printed = "".join(out(c) for c in cells if c["cell_type"] == "code")
    measured = dict(re.findall(r"^(linear|MLP|CNN)\s+test accuracy ([\d.]+) %$", printed, re.M))
    assert set(measured) == {"linear", "MLP", "CNN"}, printed[-2000:]
    prose = "\n".join(src(c) for c in cells if c["cell_type"] == "markdown")
    summary = next(src(c) for c in cells if c["cell_type"] == "markdown" and "## Summary" in src(c))
    quoted = re.findall(r"(\d+(?:\.\d+)?) %", summary)
    assert quoted == [measured["linear"], measured["MLP"], measured["CNN"]], (quoted, measured)
    assert f"{measured['linear']} % with a linear model" in prose
    for percent in re.findall(r"(\d+(?:\.\d+)?) % with a linear model", prose):
        assert percent == measured["linear"]


def test_notebook_06_describes_each_optimizer_by_its_own_options():
    """describe_run names only options the optimizer has (torch.optim's names): no momentum for Adam."""
    import re
    cells, src, out = _notebook_06()
    lines = [l for c in cells if "def describe_run" in src(c) for l in out(c).splitlines()]
    assert len(lines) == 5, lines
    names = {"SGD": optim.SGD([course_lib.zeros(1, requires_grad=True)]).defaults,
             "Adam": optim.Adam([course_lib.zeros(1, requires_grad=True)]).defaults}
    try:
        import torch
        names = {k: torch.optim.__dict__[k]([torch.zeros(1, requires_grad=True)]).defaults for k in names}
    except ImportError:
        pass
    for line in lines:
        cls, args = re.search(r"\b(SGD|Adam)\(([^()]*(?:\([^()]*\))?[^()]*)\)", line).groups()
        keys = re.findall(r"(\w+)=", args)
        assert keys and set(keys) <= set(names[cls]), (line, sorted(names[cls]))
        assert cls != "Adam" or "momentum" not in line, line
