"""course_lib.nn (notebook 05): registration, traversal, modes, state dicts, layers, losses, conv/pool, save/load."""
import warnings
import math
import re

import numpy as np
import pytest

import course_lib as cl
import course_lib
from course_lib import nn
from course_lib.nn import functional as F
from course_lib.nn import init
from course_lib.serialization import load, save


def t64(a, requires_grad=False):
    return cl.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.scale = nn.Parameter(cl.ones(1))
        self.block = nn.Sequential(nn.Linear(4, 4), nn.Tanh())
        self.fc2 = nn.Linear(4, 2)
        self.note = "not registered"

    def forward(self, x):
        return self.fc2(self.block(self.act(self.fc1(x)))) * self.scale


# -- registration ----------------------------------------------------------------------

def test_registration_by_assignment():
    net = Net()
    assert list(net._parameters) == ["scale"]
    assert list(net._modules) == ["fc1", "act", "block", "fc2"]
    assert "note" in net.__dict__ and net.note == "not registered"
    assert isinstance(net.fc1.weight, nn.Parameter) and net.fc1.weight.requires_grad
    # reassigning a name moves it between registries
    net.note = nn.Parameter(cl.zeros(2))
    assert "note" in net._parameters and "note" not in net.__dict__
    del net.note
    assert "note" not in net._parameters
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'note'"):
        net.note


def test_plain_tensor_is_not_a_parameter_and_cannot_replace_one():
    lin = nn.Linear(2, 2)
    lin.extra = cl.ones(2, requires_grad=True)
    assert [n for n, _ in lin.named_parameters()] == ["weight", "bias"]
    with pytest.raises(TypeError, match="cannot assign 'course_lib.Tensor' as parameter 'weight'"):
        lin.weight = cl.zeros(2, 2)
    lin.bias = None
    assert [n for n, _ in lin.named_parameters()] == ["weight"]
    assert list(lin.state_dict()) == ["weight"]


def test_assign_before_init_errors():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(cl.zeros(1))

    class BadModule(nn.Module):
        def __init__(self):
            self.l = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match=r"cannot assign parameters? before Module.__init__\(\) call"):
        Bad()
    with pytest.raises(AttributeError, match=r"cannot assign module before Module.__init__\(\) call"):
        BadModule()


def test_parameter_shares_memory_and_repr():
    t = cl.zeros(3)
    p = nn.Parameter(t)
    p.detach().add_(1)
    assert t.tolist() == [1.0, 1.0, 1.0]
    assert repr(p) == "Parameter containing:\ntensor([1., 1., 1.], requires_grad=True)"
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    y = (p * 2).sum()
    assert type(y) is cl.Tensor
    y.backward()
    assert p.grad.tolist() == [2.0, 2.0, 2.0]


# -- traversal --------------------------------------------------------------------------

def test_traversal_order_and_names():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "scale", "fc1.weight", "fc1.bias", "block.0.weight", "block.0.bias", "fc2.weight", "fc2.bias"]
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "act", "block", "block.0", "block.1", "fc2"]
    assert [n for n, _ in net.named_children()] == ["fc1", "act", "block", "fc2"]
    assert [type(m).__name__ for m in net.modules()] == ["Net", "Linear", "ReLU", "Sequential", "Linear", "Tanh",
                                                          "Linear"]
    assert len(list(net.parameters())) == 7
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale"]


def test_shared_parameters_and_modules_appear_once():
    shared = nn.Linear(2, 2)
    seq = nn.Sequential(shared, nn.ReLU(), shared)
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias"]
    assert [n for n, _ in seq.named_modules()] == ["", "0", "1"]
    other = nn.Linear(2, 2)
    other.weight = shared.weight  # tied weights
    both = nn.Sequential(shared, other)
    names = [n for n, _ in both.named_parameters()]
    assert names == ["0.weight", "0.bias", "1.bias"]
    # state_dict lists a tied tensor under every name, as PyTorch does
    assert list(both.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_plain_list_is_invisible_modulelist_is_not():
    class ListNet(nn.Module):
        def __init__(self, holder):
            super().__init__()
            self.layers = holder([nn.Linear(2, 2), nn.Linear(2, 2)])

    assert list(ListNet(list).parameters()) == []
    assert [n for n, _ in ListNet(nn.ModuleList).named_parameters()] == [
        "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"]


# -- modes, grads ----------------------------------------------------------------------

def test_train_eval_propagate():
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5), nn.ReLU()))
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net[1].train(False)
    assert net.training and not net[1].training and not net[1][0].training
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        net.train("yes")


def test_zero_grad_sets_none():
    net = Net()
    net(cl.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net(cl.randn(5, 3)).sum().backward()
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in net.parameters())


# -- state dicts -----------------------------------------------------------------------

def test_state_dict_keys_values_and_round_trip():
    a, b = Net(), Net()
    sd = a.state_dict()
    assert list(sd) == ["scale", "fc1.weight", "fc1.bias", "block.0.weight", "block.0.bias", "fc2.weight",
                        "fc2.bias"]
    assert all(type(v) is cl.Tensor and not v.requires_grad for v in sd.values())
    x = cl.randn(4, 3)
    assert not np.allclose(a(x).detach().numpy(), b(x).detach().numpy())
    w_before = b.fc1.weight
    assert repr(b.load_state_dict(sd)) == "<All keys matched successfully>"
    assert b.fc1.weight is w_before  # copied in place, objects kept
    np.testing.assert_array_equal(a(x).detach().numpy(), b(x).detach().numpy())
    # the state dict shares memory with the parameters (detached views), like PyTorch's
    sd["scale"].fill_(3.0)
    assert a.scale.item() == 3.0


def test_load_state_dict_strictness_errors():
    lin = nn.Linear(3, 2)
    bad = {"weight": cl.zeros(3, 3), "x": cl.zeros(1)}
    with pytest.raises(RuntimeError) as e:
        lin.load_state_dict(bad)
    msg = str(e.value)
    assert msg.startswith("Error(s) in loading state_dict for Linear:")
    assert 'Missing key(s) in state_dict: "bias".' in msg
    assert 'Unexpected key(s) in state_dict: "x".' in msg
    assert "size mismatch for weight: copying a param with shape (3, 3) from checkpoint, the shape in current " \
           "model is (2, 3)." in msg
    assert msg.index("Missing") < msg.index("Unexpected") < msg.index("size mismatch")
    keys = lin.load_state_dict({"weight": cl.ones(2, 3), "x": cl.zeros(1)}, strict=False)
    assert keys.missing_keys == ["bias"] and keys.unexpected_keys == ["x"]
    assert lin.weight.detach().numpy().tolist() == [[1.0] * 3] * 2
    with pytest.raises(RuntimeError, match="size mismatch for bias"):
        lin.load_state_dict({"weight": cl.ones(2, 3), "bias": cl.ones(3)}, strict=False)


def test_buffers_are_state_not_parameters():
    m = nn.Module()
    m.register_buffer("running", cl.zeros(2))
    m.register_buffer("scratch", cl.zeros(1), persistent=False)
    m.w = nn.Parameter(cl.ones(1))
    assert [n for n, _ in m.named_parameters()] == ["w"]
    assert [n for n, _ in m.named_buffers()] == ["running", "scratch"]
    assert list(m.state_dict()) == ["w", "running"]
    m.double()
    assert m.running.dtype == cl.float64 and m.w.dtype == cl.float64


def test_to_dtype_keeps_parameter_objects():
    lin = nn.Linear(2, 3)
    w = lin.weight
    lin.to(cl.float64)
    assert lin.weight is w and w.dtype == cl.float64 and isinstance(w, nn.Parameter) and w.requires_grad
    lin(t64(np.ones((1, 2)))).sum().backward()
    assert w.grad.dtype == cl.float64
    lin.float()
    assert w.dtype == cl.float32 and w.grad.dtype == cl.float32
    assert lin.to("cpu") is lin and lin.cpu() is lin
    with pytest.raises(TypeError, match="floating point"):
        lin.to(cl.int64)


def test_repr_matches_pytorch_layout():
    net = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Sequential(nn.Dropout(0.2), nn.Flatten()), nn.Softmax(dim=1),
                        nn.Conv2d(1, 2, 3, stride=2, padding=1), nn.Conv2d(1, 2, 3, bias=False), nn.Tanh())
    assert repr(net) == """Sequential(
  (0): Linear(in_features=3, out_features=2, bias=True)
  (1): ReLU()
  (2): Sequential(
    (0): Dropout(p=0.2, inplace=False)
    (1): Flatten(start_dim=1, end_dim=-1)
  )
  (3): Softmax(dim=1)
  (4): Conv2d(1, 2, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))
  (5): Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1), bias=False)
  (6): Tanh()
)"""
    folded = "ModuleList(\n  (0-1): 2 x ReLU()\n  (2): Tanh()\n)"
    assert repr(nn.ModuleList([nn.ReLU(), nn.ReLU(), nn.Tanh()])) == folded
    assert repr(nn.MSELoss()) == "MSELoss()" and repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss()"


# -- containers ------------------------------------------------------------------------

def test_sequential_indexing():
    seq = nn.Sequential(nn.Linear(1, 1), nn.ReLU(), nn.Linear(1, 2))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear) and seq[-1] is seq[2]
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and list(tail._modules) == ["1", "2"] and tail[1] is seq[2]
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear"]
    with pytest.raises(IndexError, match="index 5 is out of range"):
        seq[5]
    x = cl.randn(4, 1)
    ref = seq[2](seq[1](seq[0](x)))
    np.testing.assert_array_equal(seq(x).detach().numpy(), ref.detach().numpy())
    seq.append(nn.Tanh())
    assert len(seq) == 4 and list(seq._modules) == ["0", "1", "2", "3"]


def test_modulelist_ops():
    ml = nn.ModuleList([nn.Linear(1, 1)])
    ml.append(nn.ReLU())
    ml.extend([nn.Tanh(), nn.Sigmoid()])
    ml.insert(1, nn.Identity())
    assert [type(m).__name__ for m in ml] == ["Linear", "Identity", "ReLU", "Tanh", "Sigmoid"]
    assert len(ml) == 5 and isinstance(ml[-1], nn.Sigmoid) and len(ml[1:3]) == 2
    with pytest.raises(NotImplementedError, match="forward"):
        ml(cl.zeros(1))


# -- layers: values and gradients (gradcheck in float64) -------------------------------

def test_linear_matches_numpy_and_gradcheck():
    lin = nn.Linear(3, 2).double()
    x = t64(np.random.default_rng(0).standard_normal((4, 3)), requires_grad=True)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    np.testing.assert_allclose(lin(x).detach().numpy(), x.detach().numpy() @ w.T + b, rtol=1e-12)
    assert cl.gradcheck(lambda x, w, b: F.linear(x, w, b), (x, lin.weight, lin.bias))
    assert nn.Linear(3, 2, bias=False)(cl.ones(1, 3)).shape == (1, 2)


def test_linear_init_statistics():
    cl.manual_seed(0)
    lin = nn.Linear(400, 300)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    bound = 1 / math.sqrt(400)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound  # U(-a, a) has std a/√3
    assert abs(w.mean()) < 0.01 * bound
    assert np.abs(w).max() > 0.99 * bound
    conv = nn.Conv2d(4, 8, 3)
    assert np.abs(conv.weight.detach().numpy()).max() <= 1 / math.sqrt(4 * 9)


@pytest.mark.parametrize("layer, ref", [
    (nn.ReLU(), lambda a: np.maximum(a, 0)),
    (nn.Tanh(), np.tanh),
    (nn.Sigmoid(), lambda a: 1 / (1 + np.exp(-a))),
    (nn.Softmax(dim=1), lambda a: np.exp(a) / np.exp(a).sum(1, keepdims=True)),
    (nn.LogSoftmax(dim=1), lambda a: a - np.log(np.exp(a).sum(1, keepdims=True))),
    (nn.Flatten(), lambda a: a.reshape(a.shape[0], -1)),
    (nn.Identity(), lambda a: a),
])
def test_activation_layers(layer, ref):
    a = np.random.default_rng(1).standard_normal((3, 4, 2))
    x = t64(a, requires_grad=True)
    np.testing.assert_allclose(layer(x).detach().numpy(), ref(a), rtol=1e-12, atol=1e-14)
    assert cl.gradcheck(layer, (x,))


def test_dropout():
    cl.manual_seed(0)
    x = cl.ones(200, 100)
    d = nn.Dropout(0.3)
    y = d(x).numpy()
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
    d.eval()
    assert d(x) is x
    assert not F.dropout(x, 1.0).numpy().any()
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)
    xg = t64(np.ones((3, 4)), requires_grad=True)
    cl.manual_seed(1)
    out = F.dropout(xg, 0.5)
    out.sum().backward()
    np.testing.assert_array_equal(xg.grad.numpy(), out.detach().numpy())  # the gradient is the same mask


def test_mse_loss():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    x, y = t64(a, requires_grad=True), t64(b)
    assert math.isclose(nn.MSELoss()(x, y).item(), ((a - b) ** 2).mean(), rel_tol=1e-12)
    assert math.isclose(nn.MSELoss(reduction="sum")(x, y).item(), ((a - b) ** 2).sum(), rel_tol=1e-12)
    np.testing.assert_allclose(nn.MSELoss(reduction="none")(x, y).detach().numpy(), (a - b) ** 2)
    assert cl.gradcheck(lambda x: F.mse_loss(x, y), (x,))
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.mse_loss(x, y, reduction="avg")


def _ce_ref(logits, target):
    m = logits.max(1, keepdims=True)
    logp = logits - m - np.log(np.exp(logits - m).sum(1, keepdims=True))
    return -logp[np.arange(len(target)), target]


def test_cross_entropy_values_reductions_and_gradcheck():
    rng = np.random.default_rng(3)
    a, tgt = rng.standard_normal((5, 4)), rng.integers(0, 4, 5)
    x, t = t64(a, requires_grad=True), cl.tensor(tgt)
    ref = _ce_ref(a, tgt)
    assert math.isclose(nn.CrossEntropyLoss()(x, t).item(), ref.mean(), rel_tol=1e-12)
    assert math.isclose(nn.CrossEntropyLoss(reduction="sum")(x, t).item(), ref.sum(), rel_tol=1e-12)
    np.testing.assert_allclose(nn.CrossEntropyLoss(reduction="none")(x, t).detach().numpy(), ref, rtol=1e-12)
    assert cl.gradcheck(lambda x: F.cross_entropy(x, t), (x,))
    # ignore_index drops a sample from the mean
    t2 = cl.tensor(np.where(np.arange(5) == 2, -100, tgt))
    keep = np.arange(5) != 2
    assert math.isclose(F.cross_entropy(x, t2).item(), ref[keep].mean(), rel_tol=1e-12)
    with pytest.raises(IndexError, match="Target 7 is out of bounds"):
        F.cross_entropy(x, cl.tensor([0, 1, 7, 0, 0]))
    with pytest.raises(ValueError, match="batch_size"):
        F.cross_entropy(x, cl.tensor([0, 1]))


def test_cross_entropy_huge_logits_are_finite():
    logits = cl.tensor([[3000.0, 0.0, -3000.0], [1000.0, 1001.0, 999.0]], requires_grad=True)
    target = cl.tensor([2, 1])
    loss = F.cross_entropy(logits, target)
    ref = _ce_ref(np.array([[3000.0, 0.0, -3000.0], [1000.0, 1001.0, 999.0]]), np.array([2, 1])).mean()
    assert np.isfinite(loss.item()) and math.isclose(loss.item(), ref, rel_tol=1e-5)
    loss.backward()
    assert np.isfinite(logits.grad.numpy()).all()


def test_cross_entropy_spatial_and_probability_targets():
    rng = np.random.default_rng(4)
    a = rng.standard_normal((2, 3, 4))  # (N, C, d)
    tgt = rng.integers(0, 3, (2, 4))
    x = t64(a, requires_grad=True)
    flat = _ce_ref(a.transpose(0, 2, 1).reshape(-1, 3), tgt.reshape(-1)).reshape(2, 4)
    np.testing.assert_allclose(F.cross_entropy(x, cl.tensor(tgt), reduction="none").detach().numpy(), flat)
    probs = np.eye(3)[tgt].transpose(0, 2, 1)  # one-hot probabilities give the same loss
    assert math.isclose(F.cross_entropy(x, t64(probs)).item(), flat.mean(), rel_tol=1e-12)


# -- convolution and pooling -----------------------------------------------------------

def conv2d_loop(x, w, b, stride, padding):
    """The definition, one output element at a time."""
    (sh, sw), (ph, pw) = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n, c, h, wd = xp.shape
    o, _, kh, kw = w.shape
    oh, ow = (h - kh) // sh + 1, (wd - kw) // sw + 1
    out = np.zeros((n, o, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3]))
    return out + (0 if b is None else b[None, :, None, None])


def maxpool_loop(x, k, s, p):
    (kh, kw), (sh, sw), (ph, pw) = k, s, p
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)
    oh, ow = (xp.shape[2] - kh) // sh + 1, (xp.shape[3] - kw) // sw + 1
    out = np.empty(x.shape[:2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = xp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw].max(axis=(2, 3))
    return out


CONV_CASES = [((2, 3, 6, 5), (4, 3, 3, 3), (1, 1), (0, 0)),
              ((1, 2, 7, 7), (3, 2, 3, 2), (2, 1), (1, 0)),
              ((3, 1, 8, 8), (2, 1, 3, 3), (1, 1), (1, 1)),
              ((1, 1, 5, 5), (1, 1, 5, 5), (1, 1), (0, 0))]


@pytest.mark.parametrize("xs, ws, stride, padding", CONV_CASES)
def test_conv2d_matches_loop(xs, ws, stride, padding):
    rng = np.random.default_rng(5)
    x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])
    out = F.conv2d(t64(x), t64(w), t64(b), stride, padding)
    np.testing.assert_allclose(out.numpy(), conv2d_loop(x, w, b, stride, padding), rtol=1e-10, atol=1e-12)


def test_conv2d_windows_are_a_view():
    x = cl.randn(2, 3, 6, 6)
    win = F.sliding_windows2d(x, 3, 1)
    assert win.shape == (2, 3, 4, 4, 3, 3)
    assert np.shares_memory(win.numpy(), x.numpy())
    assert win.stride() == (108, 36, 6, 1, 6, 1)


def test_conv2d_gradcheck():
    rng = np.random.default_rng(6)
    x = t64(rng.standard_normal((2, 2, 4, 4)), requires_grad=True)
    w = t64(rng.standard_normal((2, 2, 3, 3)), requires_grad=True)
    b = t64(rng.standard_normal(2), requires_grad=True)
    assert cl.gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1), (x, w, b))


def test_conv2d_module_and_errors():
    conv = nn.Conv2d(1, 16, 3, padding=1)
    assert conv(cl.randn(4, 1, 8, 8)).shape == (4, 16, 8, 8)
    assert conv(cl.randn(1, 8, 8)).shape == (16, 8, 8)  # unbatched
    assert nn.Conv2d(1, 2, 3, stride=2)(cl.randn(1, 1, 7, 7)).shape == (1, 2, 3, 3)
    with pytest.raises(RuntimeError, match=re.escape(
            "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: [2, 3]")):
        conv(cl.zeros(2, 3))
    with pytest.raises(RuntimeError, match=re.escape(
            "Given groups=1, weight of size [16, 1, 3, 3], expected input[4, 3, 8, 8] to have 1 channels, but got 3 "
            "channels instead")):
        conv(cl.zeros(4, 3, 8, 8))
    with pytest.raises(RuntimeError, match="Kernel size can't be greater than actual input size"):
        nn.Conv2d(1, 1, 3)(cl.zeros(1, 1, 2, 2))


@pytest.mark.parametrize("k, s, p", [((2, 2), (2, 2), (0, 0)), ((3, 3), (1, 1), (1, 1)), ((3, 2), (2, 1), (1, 0))])
def test_max_pool2d_matches_loop_and_gradcheck(k, s, p):
    rng = np.random.default_rng(7)
    a = rng.standard_normal((2, 2, 6, 5))
    x = t64(a, requires_grad=True)
    np.testing.assert_array_equal(F.max_pool2d(x, k, s, p).detach().numpy(), maxpool_loop(a, k, s, p))
    assert cl.gradcheck(lambda x: F.max_pool2d(x, k, s, p), (x,))


def test_max_pool2d_gradient_goes_to_one_maximum_and_errors():
    x = cl.ones(1, 1, 2, 2, requires_grad=True)
    nn.MaxPool2d(2)(x).sum().backward()
    assert x.grad.numpy().reshape(-1).tolist() == [1.0, 0.0, 0.0, 0.0]  # ties: the first, as PyTorch
    with pytest.raises(RuntimeError, match="pad should be at most half of effective kernel size"):
        nn.MaxPool2d(3, padding=2)(cl.zeros(1, 1, 8, 8))
    with pytest.raises(RuntimeError, match="Output size is too small"):
        nn.MaxPool2d(3)(cl.zeros(1, 1, 2, 2))
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"


def test_small_cnn_trains():
    cl.manual_seed(0)
    rng = np.random.default_rng(0)
    x = cl.tensor(rng.standard_normal((32, 1, 8, 8)).astype(np.float32))
    y = cl.tensor((x.numpy()[:, 0, :4].sum((1, 2)) > x.numpy()[:, 0, 4:].sum((1, 2))).astype(np.int64))
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 2))
    first = None
    for _ in range(60):
        loss = F.cross_entropy(net(x), y)
        first = loss.item() if first is None else first
        net.zero_grad()
        loss.backward()
        with cl.no_grad():
            for p in net.parameters():
                p -= 0.1 * p.grad
    assert loss.item() < 0.5 * first


# -- init ------------------------------------------------------------------------------

def test_init_functions():
    w = cl.zeros(64, 32)
    init.xavier_uniform_(w)
    assert np.abs(w.numpy()).max() <= math.sqrt(6 / 96)
    init.constant_(w, 0.5)
    assert (w.numpy() == 0.5).all()
    assert math.isclose(init.calculate_gain("leaky_relu", math.sqrt(5)), math.sqrt(1 / 3))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.kaiming_uniform_(cl.zeros(3))
    p = nn.Parameter(cl.zeros(3, 3))
    init.normal_(p)  # works on a leaf that requires grad (no_grad inside)
    assert p.requires_grad and p.grad_fn is None and p.detach().numpy().std() > 0.5


# -- save / load -----------------------------------------------------------------------

def test_save_load_round_trip_exact(tmp_path):
    net = Net()
    net.register_buffer("steps", cl.tensor([3, 4]))
    net.register_buffer("mask", cl.tensor([True, False]))
    net.register_buffer("half", cl.tensor([1.5, -2.25], dtype=cl.float16))
    net.register_buffer("dbl", cl.tensor(np.pi, dtype=cl.float64))
    sd = net.state_dict()
    path = tmp_path / "model.pt"  # any extension: save does not append ".npz"
    save(sd, path)
    back = load(path)
    assert list(back) == list(sd)
    for k in sd:
        assert back[k].dtype == sd[k].dtype and back[k].shape == sd[k].shape, k
        np.testing.assert_array_equal(back[k].numpy(), sd[k].numpy())
    fresh = Net()
    fresh.register_buffer("steps", cl.zeros(2, dtype=cl.int64))
    fresh.register_buffer("mask", cl.zeros(2, dtype=cl.bool))
    fresh.register_buffer("half", cl.zeros(2, dtype=cl.float16))
    fresh.register_buffer("dbl", cl.tensor(0.0, dtype=cl.float64))
    fresh.load_state_dict(back)
    x = cl.randn(3, 3)
    np.testing.assert_array_equal(fresh(x).detach().numpy(), net(x).detach().numpy())


def test_save_load_nested_and_no_pickle(tmp_path):
    obj = {"state": {0: {"step": 3, "buf": cl.ones(2)}}, "param_groups": [{"lr": 0.1, "params": [0, 1]}],
           "t": (1, None, "x")}
    save(obj, tmp_path / "opt.bin")
    back = load(tmp_path / "opt.bin")
    assert back["state"][0]["step"] == 3 and back["state"][0]["buf"].tolist() == [1.0, 1.0]
    assert back["param_groups"] == [{"lr": 0.1, "params": [0, 1]}] and back["t"] == (1, None, "x")
    with pytest.raises(TypeError, match="save\\(\\) can store"):
        save({"f": object()}, tmp_path / "bad")
    # an archive holding a pickled object array is refused
    np.savez(tmp_path / "evil.npz", __structure__=np.array([{"a": 1}], dtype=object))
    with pytest.raises((ValueError, RuntimeError)):
        load(tmp_path / "evil.npz")



def _bad_file_error(path, *words):
    """load(path) raises one RuntimeError that names the file and says what is wrong."""
    with pytest.raises(RuntimeError) as info:
        load(path)
    message = str(info.value)
    assert "not a valid course_lib file" in message and str(path) in message, message
    for w in words:
        assert w in message, message
    return info.value


def test_load_refuses_files_that_save_did_not_write_with_one_clear_error(tmp_path):
    import io
    import json
    import pickle
    import zipfile
    good = tmp_path / "good.pt"
    save({"w": cl.ones(2), "n": [1, (2, None)]}, good)
    data = good.read_bytes()
    (tmp_path / "pickled.pt").write_bytes(pickle.dumps({"a": 1}))
    err = _bad_file_error(tmp_path / "pickled.pt", "pickle", "never loads pickles")
    assert "allow_pickle" not in str(err) and "pickle.load" not in str(err)  # neither exists here
    np.save(tmp_path / "plain.npy", np.ones(3))
    _bad_file_error(tmp_path / "plain.npy", "NumPy array")
    for cut in (len(data) // 2, len(data) - 1, 10):
        (tmp_path / "cut.pt").write_bytes(data[:cut])
        _bad_file_error(tmp_path / "cut.pt", "truncated or damaged")
    (tmp_path / "empty.pt").write_bytes(b"")
    _bad_file_error(tmp_path / "empty.pt", "empty")
    (tmp_path / "text.pt").write_text("hello")
    _bad_file_error(tmp_path / "text.pt", "not a zip archive")
    np.savez(tmp_path / "plain.npz", a=np.ones(3))
    _bad_file_error(tmp_path / "plain.npz", "no structure record")
    with zipfile.ZipFile(tmp_path / "torch.pt", "w") as z:  # what torch.save writes: a zip holding a pickle
        z.writestr("archive/data.pkl", pickle.dumps({"a": 1}))
    _bad_file_error(tmp_path / "torch.pt", "torch.save", "never loads pickles")

    def crafted(record, arrays=()):
        path = tmp_path / "crafted.pt"
        with zipfile.ZipFile(path, "w") as z:
            for name, a in arrays:
                with z.open(name + ".npy", "w") as member:
                    np.lib.format.write_array(member, a, allow_pickle=True)
            z.writestr("__structure__.json", record)
        return path

    deep = '{"list": [' * 100_000 + ']}' * 100_000
    for record, arrays in [(deep, ()), ('{"list": [' * 2000 + '{"value": 1}' + ']}' * 2000, ()),
                           ("{}", ()), ("{not json", ()), ("[1, 2]", ()), ('{"weird": 3}', ()),
                           ('{"dict": 5}', ()), ('{"dict": [[1]]}', ()), ('{"dict": [[[1], {"value": 1}]]}', ()),
                           ('{"tensor": "missing"}', ()), ('{"tensor": 5}', ()),
                           ('{"tensor": "x"}', [("x", np.array([{"a": 1}], dtype=object))]),
                           ('{"tensor": "x"}', [("x", np.array([1j]))])]:
        _bad_file_error(crafted(record, arrays), "damaged")
    data = bytearray(data)  # one byte of an array flipped: the zip's checksum catches it
    data[data.index(b"\x93NUMPY") + 130] ^= 0xFF
    (tmp_path / "flipped.pt").write_bytes(bytes(data))
    _bad_file_error(tmp_path / "flipped.pt", "damaged")
    with pytest.raises(RuntimeError, match="the file object.*pickle"):
        load(io.BytesIO(pickle.dumps([1])))
    with pytest.raises(FileNotFoundError):  # a missing file is not a bad file
        load(tmp_path / "nothing.pt")
    back = load(good)  # and a good file still loads
    assert back["w"].tolist() == [1.0, 1.0] and back["n"] == [1, (2, None)]


def test_top_level_save_load():
    assert cl.save is save and cl.load is load


# -- the fused graph nodes (Affine = linear, NllLoss over LogSoftmaxRows) agree with their compositions --------

@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_fused_cross_entropy_matches_the_composition(reduction, weighted):
    course_lib.manual_seed(3)
    x = course_lib.randn(6, 5, dtype=course_lib.float64, requires_grad=True)
    t = course_lib.tensor([0, 4, 2, -100, 1, 4])
    w = course_lib.rand(5, dtype=course_lib.float64) + 0.5 if weighted else None
    fused = F.cross_entropy(x, t, weight=w, reduction=reduction)
    logp = x.log_softmax(1)  # the composition from plain tensor ops
    picked = -logp[course_lib.arange(6), course_lib.where(t == -100, 0, t)] * (t != -100)
    wt = (t != -100).double() if w is None else w[course_lib.where(t == -100, 0, t)] * (t != -100)
    if w is not None:
        picked = picked * w[course_lib.where(t == -100, 0, t)]
    composed = picked.sum() / wt.sum() if reduction == "mean" else picked.sum() if reduction == "sum" else picked
    assert fused.grad_fn.name() == "NllLossBackward0"
    assert fused.grad_fn.next_functions[0][0].name() == "LogSoftmaxBackward0"
    np.testing.assert_allclose(fused.detach().numpy(), composed.detach().numpy(), rtol=1e-12)
    g = course_lib.ones_like(fused)
    (gf,) = course_lib.autograd.grad(fused, x, g)
    (gc,) = course_lib.autograd.grad(composed, x, g)
    np.testing.assert_allclose(gf.numpy(), gc.numpy(), rtol=1e-10, atol=1e-12)
    assert course_lib.gradcheck(lambda a: F.cross_entropy(a, t, weight=w, reduction=reduction), (x,))


def test_fused_nodes_give_second_derivatives():
    course_lib.manual_seed(4)
    x = course_lib.randn(4, 3, dtype=course_lib.float64, requires_grad=True)
    wt = course_lib.randn(2, 3, dtype=course_lib.float64, requires_grad=True)
    b = course_lib.randn(2, dtype=course_lib.float64, requires_grad=True)
    t = course_lib.tensor([0, 1, 1, 0])

    def loss(x, wt, b):
        return F.cross_entropy(F.linear(x, wt, b).tanh(), t)

    def composed(x, wt, b):
        return F.nll_loss(F.log_softmax((x @ wt.t() + b).tanh(), 1), t)

    for fn in (loss, composed):
        gx, = course_lib.autograd.grad(fn(x, wt, b), x, create_graph=True)
        hx, = course_lib.autograd.grad(gx.pow(2).sum(), wt)
        if fn is loss:
            first, second = gx, hx
    np.testing.assert_allclose(first.detach().numpy(), gx.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(second.numpy(), hx.numpy(), rtol=1e-8, atol=1e-12)


def test_fused_linear_handles_batched_inputs_and_bad_shapes():
    course_lib.manual_seed(5)
    x = course_lib.randn(2, 3, 4, dtype=course_lib.float64, requires_grad=True)
    w = course_lib.randn(5, 4, dtype=course_lib.float64, requires_grad=True)
    b = course_lib.randn(5, dtype=course_lib.float64, requires_grad=True)
    assert course_lib.gradcheck(F.linear, (x, w, b))
    assert course_lib.gradcheck(lambda x, w: F.linear(x, w), (x, w))
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(6x4 and 3x5\)"):
        F.linear(x, course_lib.randn(5, 3, dtype=course_lib.float64))


# -- PyTorch behaviours checked without PyTorch (test_nn_torch.py compares them with it) -----------------------

def test_load_accepts_pytorchs_keywords_and_returns_an_ordered_dict(tmp_path):
    from collections import OrderedDict
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    path = tmp_path / "model.pt"
    save(model.state_dict(), path)
    for kw in ({}, {"weights_only": True}, {"weights_only": False}, {"map_location": "cpu"},
               {"map_location": cl.device("cpu"), "weights_only": True}, {"map_location": {"cpu": "cpu"}},
               {"mmap": False}):
        sd = load(path, **kw)
        assert type(sd) is OrderedDict and list(sd) == ["0.weight", "0.bias"], kw
        assert sd["0.weight"].device == cl.device("cpu")
    save({"epoch": 3, "model": model.state_dict()}, path)  # a plain dict stays a plain dict
    checkpoint = cl.load(path, weights_only=True)
    assert type(checkpoint) is dict and type(checkpoint["model"]) is OrderedDict
    with pytest.raises(TypeError, match="never unpickles"):
        load(path, pickle_module=object())
    import zipfile
    with zipfile.ZipFile(path) as z:  # still no pickle inside: .npy arrays and a JSON record
        assert all(n.endswith(".npy") or n == "__structure__.json" for n in z.namelist())


def test_deepcopy_of_state_dict_and_model():
    import copy
    cl.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    best = copy.deepcopy(model.state_dict())
    twin = copy.deepcopy(model)
    with cl.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    assert all(not np.array_equal(best[k].numpy(), v.numpy()) for k, v in model.state_dict().items())
    assert isinstance(twin[0].weight, nn.Parameter) and twin[0].weight is not model[0].weight
    np.testing.assert_array_equal(twin[0].weight.detach().numpy(), best["0.weight"].numpy())
    model.load_state_dict(best)
    x = cl.randn(2, 3)
    np.testing.assert_array_equal(model(x).detach().numpy(), twin(x).detach().numpy())


def test_delitem_renumbers_so_append_adds_a_module():
    s = nn.Sequential(nn.ReLU(), nn.Tanh(), nn.Sigmoid())
    del s[0]
    s.append(nn.Identity())
    assert [type(m).__name__ for m in s] == ["Tanh", "Sigmoid", "Identity"] and list(s._modules) == ["0", "1", "2"]
    ml = nn.ModuleList([nn.Linear(1, 1), nn.ReLU(), nn.Tanh(), nn.Linear(1, 2)])
    del ml[1:3]
    assert list(ml._modules) == ["0", "1"] and list(ml.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    with pytest.raises(IndexError, match="index 2 is out of range"):
        del ml[2]


def test_relu_and_dropout_inplace():
    x = cl.tensor([-1.0, 0.5, 2.0])
    assert nn.ReLU(inplace=True)(x) is x and x.tolist() == [0.0, 0.5, 2.0]
    y = cl.tensor([-1.0, 3.0])
    assert F.relu(y).tolist() == [0.0, 3.0] and y.tolist() == [-1.0, 3.0]
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)" and repr(nn.Identity(3, bias=False)) == "Identity()"
    w = cl.tensor([-2.0, 1.0, 3.0], requires_grad=True)
    h = w * 2
    F.relu(h, inplace=True).sum().backward()
    assert w.grad.tolist() == [0.0, 2.0, 2.0]
    cl.manual_seed(0)
    z = cl.ones(10, 10)
    assert nn.Dropout(0.5, inplace=True)(z) is z and set(np.unique(z.numpy())) <= {0.0, 2.0}


def test_cross_entropy_every_target_ignored_is_nan_with_zero_gradient():
    import warnings
    a = cl.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.cross_entropy(a, cl.tensor([1, 1]), ignore_index=1)
        loss.backward()
    assert math.isnan(loss.item()) and not a.grad.numpy().any()
    b = t64(np.ones((2, 3, 2)), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.cross_entropy(b, cl.full((2, 2), 0), ignore_index=0)
        loss.backward()
    assert math.isnan(loss.item()) and not b.grad.numpy().any()


def test_mse_loss_broadcasts_with_a_warning():
    with pytest.warns(UserWarning, match=re.escape("Using a target size (torch.Size([4])) that is different to the "
                                                   "input size (torch.Size([4, 1])). This will likely lead to "
                                                   "incorrect results")):
        loss = F.mse_loss(cl.zeros(4, 1), cl.arange(4.0))
    assert loss.item() == pytest.approx(np.mean(np.arange(4.0) ** 2))  # the (4, 4) table's mean
    with pytest.warns(UserWarning), pytest.raises(RuntimeError, match="must match the size of tensor b"):
        F.mse_loss(cl.ones(3), cl.ones(4))


def test_cross_entropy_rejects_float_index_targets_and_bad_weights():
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte, but got Float"):
        F.cross_entropy(cl.zeros(6, 4), cl.tensor([0.0, 1, 2, 3, 0, 1]))
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte, but got Int"):
        F.cross_entropy(cl.zeros(6, 4), cl.tensor([0, 1, 2, 3, 0, 1], dtype=cl.int32))
    with pytest.raises(RuntimeError, match=re.escape("weight tensor should be defined either for all 3 classes or "
                                                     "no classes but got weight tensor of shape: [2]")):
        nn.CrossEntropyLoss(weight=cl.tensor([1.0, 2.0]))(cl.zeros(6, 3), cl.tensor([0, 1, 2, 0, 1, 1]))
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        F.softmax(cl.zeros(2, 3, dtype=cl.int64), 1)


def test_softmax_without_dim_uses_the_legacy_rule():
    a = np.random.default_rng(0).standard_normal((2, 3))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax has been deprecated"):
        out = F.softmax(t64(a))
    np.testing.assert_allclose(out.numpy(), np.exp(a) / np.exp(a).sum(1, keepdims=True))


def test_max_pool2d_minus_inf_windows_and_ceil_mode_and_dilation():
    x = cl.full((1, 1, 3, 3), float("-inf"), requires_grad=True)
    nn.MaxPool2d(2, padding=1)(x).sum().backward()
    assert x.grad.numpy()[0, 0].tolist() == [[1, 1, 0], [1, 1, 0], [0, 0, 0]]  # no gradient lost to the padding
    img = cl.arange(25.0).reshape(1, 1, 5, 5)
    assert nn.MaxPool2d(2, ceil_mode=True)(img)[0, 0].tolist() == [[6, 8, 9], [16, 18, 19], [21, 23, 24]]
    assert nn.MaxPool2d(2, dilation=2)(img)[0, 0].tolist() == [[12, 14], [22, 24]]
    with pytest.raises(RuntimeError, match="stride should not be zero"):
        nn.MaxPool2d(2, stride=0)(img)


def test_zero_fan_in_and_string_padding():
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        lin = nn.Linear(0, 3)
    assert lin(cl.zeros(2, 0)).tolist() == [[0.0] * 3] * 2
    conv = nn.Conv2d(2, 3, (2, 4), padding="same")
    assert conv(cl.randn(1, 2, 5, 6)).shape == (1, 3, 5, 6) and "padding=same" in repr(conv)
    assert nn.Conv2d(2, 3, 3, padding="valid")(cl.randn(1, 2, 5, 6)).shape == (1, 3, 3, 4)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        nn.Conv2d(2, 3, 3, stride=2, padding="same")


def test_load_state_dict_needs_a_mapping():
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like, got <class 'list'>."):
        nn.Linear(2, 2).load_state_dict([1, 2])


def test_conv_and_pool_give_second_derivatives():
    """Windows2d's and MaxPick's backward are themselves differentiable (create_graph), overlapping windows too."""
    course_lib.manual_seed(6)
    x = course_lib.randn(2, 2, 6, 6, dtype=course_lib.float64, requires_grad=True)
    v = course_lib.randn(2, 2, 6, 6, dtype=course_lib.float64)
    for pool in ((2, 2, 0), (3, 1, 1)):  # windows tiling the image, and overlapping windows with padding
        def first_derivative_along_v(w):
            y = F.max_pool2d(F.conv2d(x, w, None, 1, 1).tanh(), *pool)
            gx, = course_lib.autograd.grad((y * y).sum(), x, create_graph=True)
            return (gx * v).sum()
        w = course_lib.randn(2, 2, 3, 3, dtype=course_lib.float64, requires_grad=True)
        assert course_lib.gradcheck(first_derivative_along_v, (w,))


def test_max_pool2d_nan_and_integer_windows():
    """A NaN wins its window and the last NaN gets the gradient (PyTorch's CPU rule); integer input pads with the
    dtype's lowest value, without a warning."""
    nan = float("nan")
    x = course_lib.tensor([[1.0, nan, 2.0, 0.0], [nan, 5.0, 7.0, 1.0]]).reshape(1, 1, 2, 4).requires_grad_()
    y = F.max_pool2d(x, 2)
    assert np.isnan(y.detach().numpy()[0, 0, 0, 0]) and y.detach().numpy()[0, 0, 0, 1] == 7.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[[[0, 0, 0, 0], [1, 0, 1, 0]]]])
    ints = course_lib.arange(16).reshape(1, 1, 4, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = F.max_pool2d(ints, 2, padding=1)
    np.testing.assert_array_equal(out.numpy(), [[[[0, 2, 3], [8, 10, 11], [12, 14, 15]]]])
    assert out.dtype == course_lib.int64


def test_conv2d_refuses_mismatched_dtypes_and_bias_like_pytorch():
    x = course_lib.randn(1, 3, 5, 5)
    w = course_lib.randn(4, 3, 3, 3)
    with pytest.raises(RuntimeError, match="^expected scalar type Float but found Double$"):
        F.conv2d(x, w.double())
    with pytest.raises(RuntimeError, match=r"^Input type \(float\) and bias type \(double\) should be the same$"):
        F.conv2d(x, w, course_lib.randn(4, dtype=course_lib.float64))
    for bad in ((5,), (1,), (4, 1)):  # a bias of one element must not broadcast silently
        with pytest.raises(RuntimeError, match=r"Given weight of size \[4, 3, 3, 3\], expected bias to be "
                                               r"1-dimensional with 4 elements, but got bias of size"):
            F.conv2d(x, w, course_lib.randn(*bad))
    # padding='same': the channel error names the shape PyTorch checks (the input plus an even kernel's extra pad)
    with pytest.raises(RuntimeError, match=r"expected input\[1, 2, 5, 5\] to have 3 channels, but got 2"):
        F.conv2d(course_lib.randn(1, 2, 5, 5), w, padding="same")
    with pytest.raises(RuntimeError, match=r"expected input\[1, 2, 6, 6\] to have 3 channels, but got 2"):
        F.conv2d(course_lib.randn(1, 2, 5, 5), course_lib.randn(4, 3, 2, 2), padding="same")
    with pytest.raises(RuntimeError, match="Invalid padding string: 'full'"):
        F.conv2d(course_lib.randn(1, 2, 5, 5), w, padding="full")  # checked before the channels, as in PyTorch


def test_max_pool2d_unbatched_bool_and_per_dim_padding_errors():
    x = course_lib.randn(2, 6, 6, requires_grad=True)
    y = F.max_pool2d(x, 2)
    assert y.shape == (2, 3, 3) and y.grad_fn.name() == "MaxPool2DWithIndicesBackward0"
    np.testing.assert_array_equal(y.detach().numpy(), x.detach().numpy().reshape(2, 3, 2, 3, 2).max(axis=(2, 4)))
    with pytest.raises(NotImplementedError, match="\"max_pool2d\" not implemented for 'Bool'"):
        F.max_pool2d(course_lib.ones(1, 4, 4, dtype=course_lib.bool), 2)
    with pytest.raises(RuntimeError, match=r"but got pad=3, kernel_size=1 and dilation=1$"):
        F.max_pool2d(course_lib.randn(1, 1, 8, 8), (1, 4), 1, (3, 0))


def test_linear_and_conv_dtype_mismatches_use_pytorchs_words():
    w, b = course_lib.randn(5, 4), course_lib.randn(5)
    x64 = course_lib.randn(3, 4, dtype=course_lib.float64)
    with pytest.raises(RuntimeError, match="^mat1 and mat2 must have the same dtype, but got Double and Float$"):
        F.linear(x64, w, b)
    with pytest.raises(RuntimeError, match="^mat1 and mat2 must have the same dtype, but got Long and Float$"):
        F.linear(course_lib.ones(3, 4, dtype=course_lib.int64), w, b)
    with pytest.raises(RuntimeError, match="^self and mat2 must have the same dtype, but got Double and Float$"):
        F.linear(course_lib.randn(3, 4), w, b.double())
    with pytest.raises(RuntimeError, match=r"^expected m1 and m2 to have the same dtype, but got: double != float$"):
        F.linear(x64, w)  # no bias: PyTorch's mm wording
    with pytest.raises(RuntimeError, match=r"^Input type \(double\) and bias type \(float\) should be the same$"):
        F.conv2d(course_lib.randn(1, 3, 5, 5, dtype=course_lib.float64), course_lib.randn(4, 3, 3, 3),
                 course_lib.randn(4))  # the bias is checked before the weight, as in PyTorch
    with pytest.raises(RuntimeError, match="^Only Tensors of floating point and complex dtype can require gradients$"):
        course_lib.tensor([1, 2], requires_grad=True)


def test_conv_and_pool_keep_pytorchs_graph_rules():
    """Changing a conv's weight or input in place before backward is an error (the matmul saved copies, so the
    output node saves the originals, as PyTorch's convolution node does); a second backward through a pool without
    retain_graph is refused."""
    x = course_lib.randn(2, 3, 6, 6, requires_grad=True)
    conv = nn.Conv2d(3, 4, 3, padding=1)
    out = conv(x)
    assert out.grad_fn.name() == "ConvolutionBackward0"
    with course_lib.no_grad():
        conv.weight.mul_(0.5)  # what optimizer.step() before loss.backward() does
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()
    h = x * 1.0
    out = F.conv2d(h, course_lib.randn(4, 3, 2, 2), padding="same")  # an even kernel: `input` gets a padded copy
    h.mul_(2)  # ... yet a change to the caller's tensor is still caught
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()
    y = F.max_pool2d(x * 1.0, 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_pool_input_changed_in_place_and_a_bias_of_the_wrong_length_are_refused():
    x = course_lib.randn(1, 1, 4, 4, requires_grad=True)
    h = x * 1.0
    y = F.max_pool2d(h, 2)
    h.mul_(2)  # PyTorch's pooling node saved its input: backward would read changed values
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    with pytest.raises(RuntimeError, match=r"The expanded size of the tensor \(4\) must match the existing size \(5\) "
                                           r"at non-singleton dimension 1.  Target sizes: \[2, 4\].  Tensor sizes: \[5\]"):
        F.linear(course_lib.ones(2, 3), course_lib.ones(4, 3), course_lib.ones(5))
    assert F.linear(course_lib.ones(2, 3), course_lib.ones(4, 3), course_lib.ones(1)).tolist() == [[4.0] * 4] * 2


def test_conv2d_refuses_negative_padding_and_non_positive_stride_like_pytorch():
    """PyTorch 2.13: RuntimeError for both, checked before the channels (F.pad's cropping is a separate matter)."""
    x, w = cl.ones(1, 1, 4, 4), cl.ones(1, 1, 2, 2)
    for padding in (-1, (0, -1), (-2, 1)):
        with pytest.raises(RuntimeError, match="^negative padding is not supported$"):
            F.conv2d(x, w, padding=padding)
    with pytest.raises(RuntimeError, match="negative padding is not supported"):
        F.conv2d(cl.ones(1, 2, 4, 4), w, padding=-1)
    for stride in (0, -1, (1, 0)):
        with pytest.raises(RuntimeError, match="^non-positive stride is not supported$"):
            F.conv2d(x, w, stride=stride)
    with pytest.raises(RuntimeError, match="negative padding is not supported"):
        nn.Conv2d(1, 1, 2, padding=-1)
