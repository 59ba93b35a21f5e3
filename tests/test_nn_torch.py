"""course_lib.nn against PyTorch with identical weights: values and gradients (skipped without PyTorch)."""
import numpy as np
import pytest

import course_lib as cl
from course_lib import nn
from course_lib.nn import functional as F

torch = pytest.importorskip("torch")


def pair(a, requires_grad=True):
    """The same float64 data as a course_lib tensor and a torch tensor."""
    a = np.asarray(a, dtype=np.float64)
    return cl.tensor(a, requires_grad=requires_grad), torch.tensor(a, requires_grad=requires_grad)


def close(ours, theirs, tol=1e-10):
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("xs, ws, stride, padding", [
    ((2, 3, 6, 5), (4, 3, 3, 3), 1, 0),
    ((1, 2, 7, 7), (3, 2, 3, 2), (2, 1), (1, 0)),
    ((64, 1, 8, 8), (16, 1, 3, 3), 1, 1),
    ((4, 16, 4, 4), (32, 16, 3, 3), 1, 1),
    ((2, 2, 9, 9), (2, 2, 4, 4), 3, 2),
])
def test_conv2d_values_and_gradients(xs, ws, stride, padding):
    rng = np.random.default_rng(0)
    x, xt = pair(rng.standard_normal(xs))
    w, wt = pair(rng.standard_normal(ws))
    b, bt = pair(rng.standard_normal(ws[0]))
    out, ref = F.conv2d(x, w, b, stride, padding), torch.nn.functional.conv2d(xt, wt, bt, stride, padding)
    close(out, ref)
    g = rng.standard_normal(tuple(ref.shape))
    out.backward(cl.tensor(g))
    ref.backward(torch.tensor(g))
    for ours, theirs in ((x, xt), (w, wt), (b, bt)):
        close(ours.grad, theirs.grad)


@pytest.mark.parametrize("k, s, p", [(2, None, 0), (3, 1, 1), ((3, 2), (2, 1), (1, 0)), (3, 2, 1)])
def test_max_pool2d_values_and_gradients(k, s, p):
    rng = np.random.default_rng(1)
    x, xt = pair(rng.standard_normal((2, 3, 7, 6)))
    out, ref = F.max_pool2d(x, k, s, p), torch.nn.functional.max_pool2d(xt, k, s, p)
    close(out, ref, 0)
    g = rng.standard_normal(tuple(ref.shape))
    out.backward(cl.tensor(g))
    ref.backward(torch.tensor(g))
    close(x.grad, xt.grad)


def test_max_pool2d_ties_route_like_pytorch():
    a = np.array([[[[1.0, 1.0, 0.0], [1.0, 1.0, 2.0], [2.0, 0.0, 2.0]]]])
    x, xt = pair(a)
    F.max_pool2d(x, 2, 1).sum().backward()
    torch.nn.functional.max_pool2d(xt, 2, 1).sum().backward()
    close(x.grad, xt.grad, 0)


def copy_weights(ours, theirs):
    """Load a torch module's state dict into ours (through NumPy), checking the keys are the same."""
    sd = {k: cl.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
    assert list(sd) == list(ours.state_dict())
    ours.load_state_dict(sd)


def test_cnn_state_dict_keys_outputs_and_gradients():
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                 torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                 torch.nn.Flatten(), torch.nn.Linear(128, 10)).double()
    ours = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(128, 10)).double()
    copy_weights(ours, theirs)
    rng = np.random.default_rng(2)
    x, xt = pair(rng.standard_normal((8, 1, 8, 8)), requires_grad=False)
    y = rng.integers(0, 10, 8)
    loss = nn.CrossEntropyLoss()(ours(x), cl.tensor(y))
    ref = torch.nn.CrossEntropyLoss()(theirs(xt), torch.tensor(y))
    assert abs(loss.item() - ref.item()) < 1e-10
    loss.backward()
    ref.backward()
    for (name, p), (name_t, pt) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert name == name_t
        close(p.grad, pt.grad)


def test_mlp_with_dropout_in_eval_and_mse():
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Dropout(0.5), torch.nn.Linear(8, 2),
                                 torch.nn.Sigmoid()).double().eval()
    ours = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Dropout(0.5), nn.Linear(8, 2), nn.Sigmoid()).double().eval()
    copy_weights(ours, theirs)
    rng = np.random.default_rng(3)
    x, xt = pair(rng.standard_normal((5, 3)), requires_grad=False)
    target, target_t = pair(rng.random((5, 2)), requires_grad=False)
    for reduction in ("mean", "sum", "none"):
        close(F.mse_loss(ours(x), target, reduction=reduction),
              torch.nn.functional.mse_loss(theirs(xt), target_t, reduction=reduction))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_huge_logits_and_ignore_index(reduction):
    rng = np.random.default_rng(4)
    logits = rng.standard_normal((6, 5)) * 3000
    target = rng.integers(0, 5, 6)
    target[1] = -100
    x, xt = pair(logits)
    out = F.cross_entropy(x, cl.tensor(target), reduction=reduction)
    ref = torch.nn.functional.cross_entropy(xt, torch.tensor(target), reduction=reduction)
    close(out, ref, 1e-9)
    out.sum().backward()
    ref.sum().backward()
    close(x.grad, xt.grad, 1e-9)


def test_repr_and_errors_match_pytorch():
    assert repr(nn.Linear(3, 2)) == repr(torch.nn.Linear(3, 2))
    assert repr(nn.Conv2d(1, 2, 3, stride=2, padding=1)) == repr(torch.nn.Conv2d(1, 2, 3, stride=2, padding=1))
    seq = (nn.Linear(1, 1), nn.ReLU(), nn.Flatten(), nn.Softmax(dim=1), nn.Dropout(0.2), nn.Tanh(), nn.Sigmoid())
    seq_t = (torch.nn.Linear(1, 1), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Softmax(dim=1),
             torch.nn.Dropout(0.2), torch.nn.Tanh(), torch.nn.Sigmoid())
    assert repr(nn.Sequential(*seq)) == repr(torch.nn.Sequential(*seq_t))
    lin, lin_t = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    for x, xt in [(cl.zeros(4, 5), torch.zeros(4, 5))]:
        with pytest.raises(RuntimeError) as ours:
            lin(x)
        with pytest.raises(RuntimeError) as theirs:
            lin_t(xt)
        assert str(ours.value) == str(theirs.value)
    conv, conv_t = nn.Conv2d(1, 16, 3, padding=1), torch.nn.Conv2d(1, 16, 3, padding=1)
    for shape in [(2, 3), (4, 3, 8, 8)]:
        with pytest.raises(RuntimeError) as ours:
            conv(cl.zeros(*shape))
        with pytest.raises(RuntimeError) as theirs:
            conv_t(torch.zeros(*shape))
        assert str(ours.value) == str(theirs.value)


def test_linear_init_distribution_matches_pytorch():
    cl.manual_seed(0)
    torch.manual_seed(0)
    ours = nn.Linear(256, 512).weight.detach().numpy().ravel()
    theirs = torch.nn.Linear(256, 512).weight.detach().numpy().ravel()
    assert abs(ours.max() - theirs.max()) < 1e-3 and abs(ours.min() - theirs.min()) < 1e-3
    assert abs(ours.std() - theirs.std()) < 2e-3
