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


# -- differences found by fuzzing against PyTorch 2.13, now matched -------------------------------------------

def _same_error(ours, theirs):
    """Both calls raise: the same exception type and the same message."""
    with pytest.raises(Exception) as t_err:
        theirs()
    with pytest.raises(type(t_err.value)) as o_err:
        ours()
    assert str(o_err.value) == str(t_err.value)


@pytest.mark.parametrize("view", [False, True])
def test_relu_inplace_values_and_gradients(view):
    a = np.random.default_rng(3).standard_normal((3, 4))
    x, xt = pair(a)
    y, yt = x * 2, xt * 2
    target, target_t = (y[1:], yt[1:]) if view else (y, yt)
    out, out_t = nn.ReLU(inplace=True)(target), torch.nn.ReLU(inplace=True)(target_t)
    assert out is target
    close(y, yt, 0)  # the input itself was overwritten (through the view, too)
    (y * cl.tensor(a)).sum().backward()
    (yt * torch.tensor(a)).sum().backward()
    close(x.grad, xt.grad, 0)
    z, zt = x * 1, xt * 1
    F.relu(z, inplace=False)
    close(z, zt, 0)  # inplace=False left the input alone


def test_relu_inplace_errors_like_pytorch():
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        F.relu(cl.ones(2, requires_grad=True), inplace=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        torch.nn.functional.relu(torch.ones(2, requires_grad=True), inplace=True)
    x = cl.tensor([-1.0, 2.0], requires_grad=True)
    y = x.sigmoid()  # sigmoid saves its output: overwriting it must make backward fail, as in PyTorch
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        F.relu(y, inplace=True).sum().backward()


def test_inplace_and_identity_signatures_and_reprs():
    assert repr(nn.ReLU(inplace=True)) == repr(torch.nn.ReLU(inplace=True)) == "ReLU(inplace=True)"
    assert repr(nn.ReLU()) == repr(torch.nn.ReLU()) == "ReLU()"
    assert repr(nn.Identity(54, unused="abc")) == repr(torch.nn.Identity(54, unused="abc")) == "Identity()"
    assert repr(nn.Dropout(inplace=True)) == repr(torch.nn.Dropout(inplace=True))


def test_dropout_inplace_overwrites_the_input():
    cl.manual_seed(0)
    x = cl.ones(20, 30)
    out = nn.Dropout(0.5, inplace=True)(x)
    assert out is x and set(np.unique(x.numpy())) == {0.0, 2.0}
    xt = torch.ones(20, 30)
    assert torch.nn.Dropout(0.5, inplace=True)(xt) is xt and set(np.unique(xt.numpy())) == {0.0, 2.0}
    w = cl.ones(4, 5, requires_grad=True)
    y = w * 1
    F.dropout(y, 0.5, inplace=True).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), y.detach().numpy())  # the gradient is the mask, scaled
    x = cl.ones(3)
    assert F.dropout(x, 1.0, inplace=True) is x and not x.numpy().any()
    assert nn.Dropout(0.5, inplace=True).eval()(x) is x


def _keys_and_types(container):
    return [(k, type(m).__name__) for k, m in container._modules.items()]


@pytest.mark.parametrize("index", [0, 1, -1, slice(1, 3), slice(None, None, 2), slice(0, 0)])
def test_sequential_and_modulelist_delitem_renumber_like_pytorch(index):
    layers = ("ReLU", "Tanh", "Sigmoid", "Identity")
    for ours, theirs in ((nn.Sequential(*(getattr(nn, n)() for n in layers)),
                          torch.nn.Sequential(*(getattr(torch.nn, n)() for n in layers))),
                         (nn.ModuleList([getattr(nn, n)() for n in layers]),
                          torch.nn.ModuleList([getattr(torch.nn, n)() for n in layers]))):
        del ours[index]
        del theirs[index]
        assert _keys_and_types(ours) == _keys_and_types(theirs)
        ours.append(nn.Flatten())
        theirs.append(torch.nn.Flatten())
        assert _keys_and_types(ours) == _keys_and_types(theirs)  # append after del: nothing is overwritten
        assert repr(ours) == repr(theirs)
    _same_error(lambda: nn.ModuleList([nn.ReLU()]).__delitem__(5),
                lambda: torch.nn.ModuleList([torch.nn.ReLU()]).__delitem__(5))
    _same_error(lambda: nn.Sequential(nn.ReLU()).__delitem__(5),
                lambda: torch.nn.Sequential(torch.nn.ReLU()).__delitem__(5))


def test_sequential_of_an_ordered_dict_is_renumbered_after_del_like_pytorch():
    from collections import OrderedDict
    ours = nn.Sequential(OrderedDict(a=nn.Linear(2, 2), b=nn.ReLU(), c=nn.Linear(2, 1)))
    theirs = torch.nn.Sequential(OrderedDict(a=torch.nn.Linear(2, 2), b=torch.nn.ReLU(), c=torch.nn.Linear(2, 1)))
    del ours[1]
    del theirs[1]
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("spatial", [False, True])
def test_cross_entropy_with_every_target_ignored(weighted, spatial):
    import warnings
    rng = np.random.default_rng(4)
    shape, tshape = ((2, 3, 2, 2), (2, 2, 2)) if spatial else ((4, 3), (4,))
    x, xt = pair(rng.standard_normal(shape))
    w = np.array([1.0, 2.0, 0.5]) if weighted else None
    target = np.ones(tshape, dtype=np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy RuntimeWarning (division by zero) may escape
        loss = F.cross_entropy(x, cl.tensor(target), None if w is None else cl.tensor(w), ignore_index=1)
        loss.backward()
    ref = torch.nn.functional.cross_entropy(xt, torch.tensor(target), None if w is None else torch.tensor(w),
                                            ignore_index=1)
    ref.backward()
    assert np.isnan(loss.item()) and np.isnan(ref.item())
    close(x.grad, xt.grad, 0)  # zeros, not nan
    x2 = cl.tensor(rng.standard_normal(shape), requires_grad=True)  # and with create_graph
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g, = cl.autograd.grad(F.cross_entropy(x2, cl.tensor(target), ignore_index=1), x2, create_graph=True)
    assert not g.detach().numpy().any()


def test_mse_loss_broadcasts_with_pytorchs_warning():
    for a_shape, b_shape in [((4, 1), (4,)), ((3,), ())]:
        a, at = pair(np.arange(np.prod(a_shape), dtype=float).reshape(a_shape))
        b, bt = pair(np.full(b_shape, 0.5), requires_grad=False)
        with pytest.warns(UserWarning) as ours:
            out = F.mse_loss(a, b)
        with pytest.warns(UserWarning) as theirs:
            ref = torch.nn.functional.mse_loss(at, bt)
        close(out, ref)
        assert str(ours[0].message) == str(theirs[0].message)  # the same text, torch.Size([...]) included
        out.backward()
        ref.backward()
        close(a.grad, at.grad)
        with pytest.warns(UserWarning, match="Please ensure they have the same size"):
            nn.MSELoss(reduction="none")(a, b)
    with pytest.warns(UserWarning):  # shapes that do not broadcast: the warning, then PyTorch's RuntimeError
        _same_error(lambda: F.mse_loss(cl.ones(3), cl.ones(4)), lambda: torch.nn.functional.mse_loss(
            torch.ones(3), torch.ones(4)))


TARGET_CASES = [  # (input shape, input dtype, target, weight)
    ((6, 4), "float32", np.array([0.0, 1, 2, 3, 0, 1], dtype=np.float32), None),
    ((6, 4), "float32", np.array([0, 1, 2, 3, 0, 1], dtype=np.int32), None),
    ((6, 4), "float32", np.array([0, 1, 0, 1, 0, 1], dtype=np.bool_), None),
    ((6, 4), "int64", np.array([0, 1, 2, 3, 0, 1]), None),
    ((6, 4, 3), "int64", np.zeros((6, 3), dtype=np.int64), None),
    ((6, 4), "int64", np.zeros((6, 4), dtype=np.int64), None),
    ((6, 4), "float32", np.zeros((6, 4), dtype=np.int64), None),
    ((6, 4, 3), "float32", np.zeros((6, 3), dtype=np.float32), None),
    ((6, 3), "float32", np.array([0, 1, 2, 0, 1, 1]), np.array([1.0, 2.0], dtype=np.float32)),
    ((6, 3), "float32", np.array([0, 1, 2, 0, 1, 1]), np.ones((3, 1), dtype=np.float32)),
    ((6, 3), "float32", np.zeros((6, 3), dtype=np.float32), np.array([1.0, 2.0], dtype=np.float32)),
    ((1, 4), "float32", np.array(1), None),
    ((6, 4), "float32", np.zeros((6, 1), dtype=np.int64), None),
    ((6, 4), "float32", np.zeros(5, dtype=np.int64), None),
    ((6, 4, 3), "float32", np.zeros((6, 2), dtype=np.int64), None),
]


@pytest.mark.parametrize("shape, dtype, target, weight", TARGET_CASES)
def test_cross_entropy_target_and_weight_errors_like_pytorch(shape, dtype, target, weight):
    def run(lib, f):
        x = lib.zeros(*shape, dtype=getattr(lib, dtype))
        w = None if weight is None else lib.from_numpy(weight.copy())
        return lambda: f(x, lib.from_numpy(target.copy()), w)
    _same_error(run(cl, F.cross_entropy), run(torch, torch.nn.functional.cross_entropy))
    if target.shape != shape:
        _same_error(run(cl, F.nll_loss), run(torch, torch.nn.functional.nll_loss))


def test_uint8_targets_are_accepted_like_pytorch():
    a = np.random.default_rng(5).standard_normal((6, 4))
    t = np.array([0, 1, 2, 3, 0, 1], dtype=np.uint8)
    x, xt = pair(a)
    close(F.cross_entropy(x, cl.from_numpy(t)), torch.nn.functional.cross_entropy(xt, torch.from_numpy(t)))


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_of_integers_is_not_implemented_like_pytorch(fn, dim):
    for dtype in ("int64", "int32", "bool"):
        _same_error(lambda: getattr(F, fn)(cl.zeros(3, 4, dtype=getattr(cl, dtype)), dim),
                    lambda: getattr(torch.nn.functional, fn)(torch.zeros(3, 4, dtype=getattr(torch, dtype)), dim))
    _same_error(lambda: F.mse_loss(cl.zeros(3, dtype=cl.int64), cl.zeros(3, dtype=cl.int64)),
                lambda: torch.nn.functional.mse_loss(torch.zeros(3, dtype=torch.int64), torch.zeros(3, dtype=torch.int64)))


@pytest.mark.parametrize("shape", [(5,), (2, 3), (2, 3, 4), (2, 3, 4, 5)])
@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_without_dim_warns_and_picks_pytorchs_dim(shape, fn):
    a = np.random.default_rng(6).standard_normal(shape)
    x, xt = pair(a)
    with pytest.warns(UserWarning) as ours:
        out = getattr(F, fn)(x)
    with pytest.warns(UserWarning) as theirs:
        ref = getattr(torch.nn.functional, fn)(xt)
    assert str(ours[0].message) == str(theirs[0].message)
    assert ours[0].filename == __file__  # the warning points at the caller, as PyTorch's does
    close(out, ref)
    module, module_t = getattr(nn, "Softmax" if fn == "softmax" else "LogSoftmax")(), \
        getattr(torch.nn, "Softmax" if fn == "softmax" else "LogSoftmax")()
    with pytest.warns(UserWarning, match=f"Implicit dimension choice for {fn} has been deprecated") as w:
        close(module(x), module_t(xt))
    assert w[0].filename == __file__
    close(F.softmax(x, -1, dtype=cl.float32), torch.nn.functional.softmax(xt, -1, dtype=torch.float32), 1e-6)


POOL_CASES = [  # kernel, stride, padding, dilation, ceil_mode
    (2, None, 0, 1, True), (3, 2, 1, 1, True), (2, 1, 0, 2, False), ((3, 2), (2, 1), (1, 0), (1, 2), True),
    (3, 2, 1, 2, False), (2, 3, 1, 1, True), (3, 3, 0, 1, True),
]


@pytest.mark.parametrize("k, s, p, d, ceil", POOL_CASES)
def test_max_pool2d_dilation_and_ceil_mode_like_pytorch(k, s, p, d, ceil):
    rng = np.random.default_rng(8)
    a = rng.standard_normal((2, 3, 7, 8)).round(0)  # rounded: many ties
    x, xt = pair(a)
    out = nn.MaxPool2d(k, s, p, dilation=d, ceil_mode=ceil)(x)
    ref = torch.nn.MaxPool2d(k, s, p, dilation=d, ceil_mode=ceil)(xt)
    assert out.shape == tuple(ref.shape)
    close(out, ref, 0)
    g = rng.standard_normal(tuple(ref.shape))
    out.backward(cl.tensor(g))
    ref.backward(torch.tensor(g))
    close(x.grad, xt.grad)
    assert repr(nn.MaxPool2d(k, s, p, dilation=d, ceil_mode=ceil)) == repr(torch.nn.MaxPool2d(
        k, s, p, dilation=d, ceil_mode=ceil))


@pytest.mark.parametrize("k, s, p", [(2, None, 1), (3, 1, 1), ((3, 2), (2, 1), (1, 1)), (2, 2, 1)])
def test_max_pool2d_all_minus_inf_windows_keep_their_gradient(k, s, p):
    a = np.full((1, 2, 3, 5), -np.inf)
    a[0, 1, 1:, 3:] = np.random.default_rng(9).standard_normal((2, 2))  # some windows real, some all -inf
    x, xt = pair(a)
    out, ref = F.max_pool2d(x, k, s, p), torch.nn.functional.max_pool2d(xt, k, s, p)
    close(out, ref, 0)
    out.sum().backward()
    ref.sum().backward()
    close(x.grad, xt.grad, 0)


@pytest.mark.parametrize("args, kw", [
    ((2, 0), {}), ((2, -1), {}), (((2, 2), (2, 0)), {}), ((3, 1, 2), {}), ((3, 1, 2), {"dilation": 2}),
    ((3, 1, 3), {"dilation": 2}), ((2, 1, -1), {}), ((4, 1, 0), {"dilation": 2}), ((2, 1, 0), {"dilation": (2, 0)}),
])
def test_max_pool2d_errors_like_pytorch(args, kw):
    _same_error(lambda: F.max_pool2d(cl.zeros(1, 1, 6, 6), *args, **kw),
                lambda: torch.nn.functional.max_pool2d(torch.zeros(1, 1, 6, 6), *args, **kw))


@pytest.mark.parametrize("make", [lambda m: m.Linear(0, 3), lambda m: m.Linear(3, 0), lambda m: m.Conv2d(0, 4, 3)])
def test_zero_fan_in_initialises_like_pytorch(make):
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        ours = make(nn)
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        theirs = make(torch.nn)
    for (name, p), (name_t, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert name == name_t and p.shape == tuple(q.shape)
    close(ours.bias, theirs.bias, 0)  # bound 0: zeros
    if isinstance(ours, nn.Linear) and ours.in_features == 0:
        close(ours(cl.zeros(2, 0)), theirs(torch.zeros(2, 0)), 0)


@pytest.mark.parametrize("kernel", [3, (2, 4), (1, 5), 4])
@pytest.mark.parametrize("padding", ["same", "valid"])
def test_conv2d_string_padding_like_pytorch(kernel, padding):
    import warnings
    rng = np.random.default_rng(10)
    x, xt = pair(rng.standard_normal((2, 3, 6, 7)))
    ours, theirs = nn.Conv2d(3, 4, kernel, padding=padding), torch.nn.Conv2d(3, 4, kernel, padding=padding)
    with cl.no_grad():
        ours.weight.copy_(cl.tensor(theirs.weight.detach().numpy()))
        ours.bias.copy_(cl.tensor(theirs.bias.detach().numpy()))
    ours.double()
    theirs.double()
    out = ours(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's note that an even kernel makes it copy the input
        ref = theirs(xt)
    assert out.shape == tuple(ref.shape)
    close(out, ref)
    g = rng.standard_normal(tuple(ref.shape))
    out.backward(cl.tensor(g))
    ref.backward(torch.tensor(g))
    close(x.grad, xt.grad)
    close(ours.weight.grad, theirs.weight.grad)
    assert repr(ours) == repr(theirs)


def test_conv2d_string_padding_errors_like_pytorch():
    _same_error(lambda: nn.Conv2d(2, 3, 3, stride=2, padding="same"),
                lambda: torch.nn.Conv2d(2, 3, 3, stride=2, padding="same"))
    # PyTorch prints a Python set there, whose order changes with the hash seed: compare up to that order
    message = r"Invalid padding string 'full', should be one of \{('valid', 'same'|'same', 'valid')\}"
    for lib in (nn, torch.nn):
        with pytest.raises(ValueError, match=message):
            lib.Conv2d(2, 3, 3, padding="full")
    _same_error(lambda: F.conv2d(cl.zeros(1, 2, 5, 5), cl.zeros(3, 2, 3, 3), stride=2, padding="same"),
                lambda: torch.nn.functional.conv2d(torch.zeros(1, 2, 5, 5), torch.zeros(3, 2, 3, 3), stride=2,
                                                   padding="same"))
    _same_error(lambda: F.conv2d(cl.zeros(1, 2, 5, 5), cl.zeros(3, 2, 3, 3), padding="full"),
                lambda: torch.nn.functional.conv2d(torch.zeros(1, 2, 5, 5), torch.zeros(3, 2, 3, 3), padding="full"))


@pytest.mark.parametrize("bad", [[1, 2], None, [("weight", 1)]])
def test_load_state_dict_of_a_non_mapping_is_a_type_error_like_pytorch(bad):
    _same_error(lambda: nn.Linear(2, 2).load_state_dict(bad), lambda: torch.nn.Linear(2, 2).load_state_dict(bad))
