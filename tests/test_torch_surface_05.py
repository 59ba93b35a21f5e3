"""Notebook 05's wider torch.nn surface against PyTorch (issue 18): losses and their graph nodes, one_hot,
batch normalisation, channel dropout, average pooling, more activations. Values, gradients, dtypes, errors and
node names; skipped without PyTorch."""
import warnings

import numpy as np
import pytest

import course_lib as cl
from course_lib import nn
from course_lib.nn import functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def pair(a, requires_grad=True, dtype=np.float64):
    a = np.asarray(a, dtype=dtype)
    return cl.tensor(a, requires_grad=requires_grad), torch.tensor(a, requires_grad=requires_grad)


def close(ours, theirs, tol=1e-10):
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=tol, atol=tol)


def same_error(ours, theirs, match=True):
    with pytest.raises(Exception) as e_ref:
        theirs()
    with pytest.raises(type(e_ref.value)) as e_ours:
        ours()
    if match:
        assert str(e_ours.value) == str(e_ref.value)


def chain(t):
    """Every node behind t, depth first, as (depth, name): the graph a learner walks with next_functions."""
    out = []

    def walk(node, depth):
        if node is None:
            return
        name = node.name() if hasattr(node, "name") else type(node).__name__
        out.append((depth, name.replace("torch::autograd::", "")))
        for nxt, _ in getattr(node, "next_functions", ()):
            walk(nxt, depth + 1)
    walk(t.grad_fn, 0)
    return out


def check_both(fn_ours, fn_theirs, arrays, grads_for, tol=1e-10, nodes=True):
    """Values, gradients (every input in grads_for) and node chains of one loss call, ours and PyTorch's."""
    ours = [cl.tensor(a, requires_grad=i in grads_for) for i, a in enumerate(arrays)]
    theirs = [torch.tensor(a, requires_grad=i in grads_for) for i, a in enumerate(arrays)]
    o, r = fn_ours(*ours), fn_theirs(*theirs)
    close(o, r, tol)
    if nodes:
        assert chain(o) == chain(r)
    if "Loss" in r.grad_fn.name():  # the loss nodes list their tensor inputs only, as PyTorch's
        assert len(o.grad_fn.next_functions) == len(r.grad_fn.next_functions)
    g = np.random.default_rng(1).standard_normal(tuple(r.shape))
    o.backward(cl.tensor(g))
    r.backward(torch.tensor(g))
    for i in grads_for:
        close(ours[i].grad, theirs[i].grad, tol)


# -- losses -------------------------------------------------------------------------------------------------------

RNG = np.random.default_rng(0)
X, Y = 2 * RNG.standard_normal((5, 4)), RNG.standard_normal((5, 4))
P, Q = RNG.uniform(0.02, 0.98, (5, 4)), RNG.uniform(0, 1, (5, 4))
W54 = RNG.uniform(0.5, 1.5, (5, 4))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name, kw", [("mse_loss", {}), ("l1_loss", {}), ("smooth_l1_loss", {}),
                                      ("smooth_l1_loss", {"beta": 0.5}), ("smooth_l1_loss", {"beta": 0.0}),
                                      ("huber_loss", {}), ("huber_loss", {"delta": 0.7})])
def test_pointwise_losses(name, kw, reduction):
    check_both(lambda x, y: getattr(F, name)(x, y, reduction=reduction, **kw),
               lambda x, y: getattr(TF, name)(x, y, reduction=reduction, **kw), (X, Y), (0, 1))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_pointwise_losses_with_weight(name, reduction):
    check_both(lambda x, y, w: getattr(F, name)(x, y, reduction=reduction, weight=w),
               lambda x, y, w: getattr(TF, name)(x, y, reduction=reduction, weight=w), (X, Y, W54), (0, 1))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weight", [None, W54, W54[0]])
def test_binary_cross_entropy(reduction, weight):
    args = (P, Q) if weight is None else (P, Q, weight)
    check_both(lambda *a: F.binary_cross_entropy(*a, reduction=reduction),
               lambda *a: TF.binary_cross_entropy(*a, reduction=reduction), args, (0, 1))
    check_both(lambda p, *a: F.binary_cross_entropy(p.sigmoid(), *a, reduction=reduction),
               lambda p, *a: TF.binary_cross_entropy(p.sigmoid(), *a, reduction=reduction), (X,) + args[1:], (0,))


def test_binary_cross_entropy_clamps_the_log():
    x, y = np.array([0.0, 1.0, 0.0, 1.0, 1e-50]), np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    check_both(lambda a, b: F.binary_cross_entropy(a, b, reduction="none"),
               lambda a, b: TF.binary_cross_entropy(a, b, reduction="none"), (x, y), (0,), tol=1e-7)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weight, pos_weight", [(None, None), (W54, None), (None, np.array([1.0, 2.0, 0.5, 3.0])),
                                                (W54[:1], np.array([1.0, 2.0, 0.5, 3.0]))])
def test_binary_cross_entropy_with_logits(reduction, weight, pos_weight):
    def call(f, x, y, *extra):
        w = extra[0] if weight is not None else None
        pw = extra[-1] if pos_weight is not None else None
        return f(x, y, w, reduction=reduction, pos_weight=pw)
    extras = tuple(a for a in (weight, pos_weight) if a is not None)
    check_both(lambda *a: call(F.binary_cross_entropy_with_logits, *a),
               lambda *a: call(TF.binary_cross_entropy_with_logits, *a), (10 * X, Q) + extras, (0, 1))


def test_binary_cross_entropy_with_logits_is_stable():
    z = np.array([1000.0, -1000.0, 50.0, -50.0, 0.0])
    y = np.array([0.0, 1.0, 1.0, 0.0, 0.5])
    check_both(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction="none"),
               lambda a, b: TF.binary_cross_entropy_with_logits(a, b, reduction="none"), (z, y), (0, 1))


@pytest.mark.parametrize("name", ["binary_cross_entropy", "binary_cross_entropy_with_logits", "mse_loss",
                                  "smooth_l1_loss", "huber_loss", "l1_loss"])
def test_loss_gradcheck_float64(name):
    x = cl.tensor(P if name == "binary_cross_entropy" else X, requires_grad=True)
    y = cl.tensor(Q, requires_grad=True)
    assert cl.gradcheck(lambda a, b: getattr(F, name)(a, b), (x, y))


def test_loss_float32_dtypes():
    for name, a in (("mse_loss", X), ("binary_cross_entropy", P), ("binary_cross_entropy_with_logits", X),
                    ("smooth_l1_loss", X), ("huber_loss", X)):
        o = getattr(F, name)(cl.tensor(a.astype(np.float32), requires_grad=True), cl.tensor(Q.astype(np.float32)))
        r = getattr(TF, name)(torch.tensor(a.astype(np.float32), requires_grad=True),
                              torch.tensor(Q.astype(np.float32)))
        close(o, r, 1e-6)
        o.backward()
        r.backward()


def test_loss_errors():
    p, q = cl.tensor(P), cl.tensor(Q)
    pt, qt = torch.tensor(P), torch.tensor(Q)
    same_error(lambda: F.binary_cross_entropy(p + 1, q), lambda: TF.binary_cross_entropy(pt + 1, qt))
    same_error(lambda: F.binary_cross_entropy(p, q + 1), lambda: TF.binary_cross_entropy(pt, qt + 1))
    same_error(lambda: F.binary_cross_entropy(p * float("nan"), q),
               lambda: TF.binary_cross_entropy(pt * float("nan"), qt))
    same_error(lambda: F.binary_cross_entropy(p, q[0]), lambda: TF.binary_cross_entropy(pt, qt[0]))
    same_error(lambda: F.binary_cross_entropy(p.float(), q), lambda: TF.binary_cross_entropy(pt.float(), qt))
    same_error(lambda: F.binary_cross_entropy(p, q, reduction="avg"),
               lambda: TF.binary_cross_entropy(pt, qt, reduction="avg"))
    same_error(lambda: F.binary_cross_entropy(cl.tensor([0, 1]), cl.tensor([0, 1])),
               lambda: TF.binary_cross_entropy(torch.tensor([0, 1]), torch.tensor([0, 1])))
    same_error(lambda: F.binary_cross_entropy(p, q, weight=cl.ones(3)),
               lambda: TF.binary_cross_entropy(pt, qt, weight=torch.ones(3)), match=False)
    same_error(lambda: F.binary_cross_entropy_with_logits(p, q[0]),
               lambda: TF.binary_cross_entropy_with_logits(pt, qt[0]))
    same_error(lambda: F.binary_cross_entropy_with_logits(p, q, pos_weight=cl.ones(3)),
               lambda: TF.binary_cross_entropy_with_logits(pt, qt, pos_weight=torch.ones(3)), match=False)
    same_error(lambda: F.smooth_l1_loss(p, q, beta=-1.0), lambda: TF.smooth_l1_loss(pt, qt, beta=-1.0))
    same_error(lambda: F.huber_loss(p, q, delta=0.0), lambda: TF.huber_loss(pt, qt, delta=0.0))
    same_error(lambda: F.mse_loss(p, q, weight=cl.ones(4)), lambda: TF.mse_loss(pt, qt, weight=torch.ones(4)))
    with pytest.warns(UserWarning, match="Please ensure they have the same size"):
        same_error(lambda: F.l1_loss(p, cl.ones(3)), lambda: TF.l1_loss(pt, torch.ones(3)))


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_loss_broadcast_warning(name):
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        o = getattr(F, name)(cl.tensor(X), cl.tensor(Y[0]))
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        r = getattr(TF, name)(torch.tensor(X), torch.tensor(Y[0]))
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]
    assert [w.category for w in ours] == [w.category for w in theirs]
    close(o, r)


def test_legacy_size_average_reduce():
    for kw in ({"size_average": False}, {"reduce": False}, {"size_average": True, "reduce": True}):
        with warnings.catch_warnings(record=True) as ours:
            warnings.simplefilter("always")
            o = F.binary_cross_entropy(cl.tensor(P), cl.tensor(Q), **kw)
        with warnings.catch_warnings(record=True) as theirs:
            warnings.simplefilter("always")
            r = TF.binary_cross_entropy(torch.tensor(P), torch.tensor(Q), **kw)
        close(o, r)
        assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]


@pytest.mark.parametrize("cls, kw", [("BCELoss", {}), ("BCELoss", {"weight": W54[0]}), ("BCEWithLogitsLoss", {}),
                                     ("BCEWithLogitsLoss", {"pos_weight": W54[0], "weight": W54}),
                                     ("SmoothL1Loss", {"beta": 0.3}), ("L1Loss", {"reduction": "sum"}),
                                     ("HuberLoss", {"delta": 0.4, "reduction": "none"})])
def test_loss_modules(cls, kw):
    ours = getattr(nn, cls)(**{k: cl.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()})
    theirs = getattr(torch.nn, cls)(**{k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()})
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    a = P if cls == "BCELoss" else X
    check_both(ours, theirs, (a, Q), (0,))


# -- graph nodes: the chain a learner walks -----------------------------------------------------------------------

@pytest.mark.parametrize("shape, reduction", [((6, 5), "mean"), ((6, 5), "none"), ((5,), "sum"), ((2, 5, 3), "mean"),
                                              ((2, 5, 3), "none"), ((2, 5, 3, 2), "mean"), ((2, 5, 3, 2), "none"),
                                              ((2, 5, 2, 2, 2), "sum")])
@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
def test_class_losses_nodes_values_gradients(fn, shape, reduction):
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape)
    tshape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    t = rng.integers(0, 5, tshape)
    if t.ndim:
        t.reshape(-1)[1] = -100  # one ignored target
    w = rng.uniform(0.5, 1.5, 5)
    for weight in (None, w):
        extra = () if weight is None else (weight,)
        check_both(lambda a, b, *c: getattr(F, fn)(a, b.long(), *c, reduction=reduction),
                   lambda a, b, *c: getattr(TF, fn)(a, b.long(), *c, reduction=reduction),
                   (x, t) + extra, (0,))


def test_blitz_chain_mse_and_cross_entropy():
    """The blitz tutorial's walk: loss.grad_fn, then next_functions[0][0] again and again."""
    rng = np.random.default_rng(3)
    x, xt = pair(rng.standard_normal((4, 6)), requires_grad=False, dtype=np.float32)
    lin, lint = nn.Linear(6, 3), torch.nn.Linear(6, 3)
    lint.load_state_dict({k: torch.tensor(v.numpy()) for k, v in lin.state_dict().items()})
    for ours, theirs in ((F.mse_loss(lin(x).relu(), cl.zeros(4, 3)), TF.mse_loss(lint(xt).relu(), torch.zeros(4, 3))),
                         (nn.CrossEntropyLoss()(lin(x), cl.tensor([0, 1, 2, 0])),
                          torch.nn.CrossEntropyLoss()(lint(xt), torch.tensor([0, 1, 2, 0])))):
        walk_ours, walk_theirs = [], []
        a, b = ours.grad_fn, theirs.grad_fn
        while True:
            walk_ours.append(a.name().replace("torch::autograd::", ""))
            walk_theirs.append(b.name().replace("torch::autograd::", ""))
            if not getattr(b, "next_functions", ()):
                break
            a, b = a.next_functions[0][0], b.next_functions[0][0]
        assert walk_ours == walk_theirs  # (Linear's weight edge has no TBackward0 here: that one node differs)


def test_nll_loss_errors_and_empty_mean():
    x, xt = pair(np.zeros((3, 4)))
    same_error(lambda: F.nll_loss(x, cl.tensor([0, 4, 1])), lambda: TF.nll_loss(xt, torch.tensor([0, 4, 1])))
    same_error(lambda: F.nll_loss(x, cl.tensor([0, 1])), lambda: TF.nll_loss(xt, torch.tensor([0, 1])))
    o = F.nll_loss(x, cl.tensor([-100, -100, -100]))
    r = TF.nll_loss(xt, torch.tensor([-100, -100, -100]))
    assert np.isnan(o.item()) and np.isnan(r.item())
    o.backward()
    r.backward()
    close(x.grad, xt.grad)


def test_class_losses_second_derivatives():
    x = cl.tensor(np.random.default_rng(4).standard_normal((4, 3)), requires_grad=True)
    xt = torch.tensor(x.detach().numpy(), requires_grad=True)
    t = [0, 2, 1, 1]
    g, = cl.autograd.grad(F.cross_entropy(x, cl.tensor(t)), x, create_graph=True)
    gt, = torch.autograd.grad(TF.cross_entropy(xt, torch.tensor(t)), xt, create_graph=True)
    close(g, gt)
    h, = cl.autograd.grad((g * g).sum(), x)
    ht, = torch.autograd.grad((gt * gt).sum(), xt)
    close(h, ht)
    for name in ("mse_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy_with_logits"):
        y = cl.tensor(Q[:4, :3])
        g, = cl.autograd.grad(getattr(F, name)(x, y), x, create_graph=True)
        gt, = torch.autograd.grad(getattr(TF, name)(xt, torch.tensor(Q[:4, :3])), xt, create_graph=True)
        close(g, gt)
        h, = cl.autograd.grad((g * g).sum(), x)
        ht, = torch.autograd.grad((gt * gt).sum(), xt)
        close(h, ht)


# -- one_hot ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("values, num_classes", [([0, 2, 1], -1), ([[0, 2], [3, 1]], -1), ([[0, 2], [3, 1]], 6),
                                                 ([], 3), (2, -1), (1, 4)])
def test_one_hot(values, num_classes):
    o = F.one_hot(cl.tensor(values, dtype=cl.int64), num_classes)
    r = TF.one_hot(torch.tensor(values, dtype=torch.int64), num_classes)
    assert o.dtype is cl.int64 and tuple(o.shape) == tuple(r.shape)
    np.testing.assert_array_equal(o.numpy(), r.numpy())


@pytest.mark.parametrize("values, kw", [([0, -1], {}), ([0, 3], {"num_classes": 3}), ([0.0, 1.0], {}),
                                        ([0, 1], {"num_classes": -2}), ([0, 1], {"num_classes": 0}), ([], {})])
def test_one_hot_errors(values, kw):
    dtype = (cl.float32, torch.float32) if isinstance(values[0] if values else 0, float) else (cl.int64, torch.int64)
    same_error(lambda: F.one_hot(cl.tensor(values, dtype=dtype[0]), **kw),
               lambda: TF.one_hot(torch.tensor(values, dtype=dtype[1]), **kw))
    same_error(lambda: F.one_hot(cl.tensor([0, 1], dtype=cl.int32)),
               lambda: TF.one_hot(torch.tensor([0, 1], dtype=torch.int32)))


# -- batch normalisation ------------------------------------------------------------------------------------------

def _same_module_state(ours, theirs, tol=1e-10):
    so, st = ours.state_dict(), theirs.state_dict()
    assert list(so) == list(st)
    for k in so:
        np.testing.assert_allclose(so[k].numpy(), st[k].numpy(), rtol=tol, atol=tol)
        assert str(so[k].dtype).split(".")[-1] == str(st[k].dtype).split(".")[-1], k


@pytest.mark.parametrize("cls, shape", [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (5, 3, 4)),
                                        ("BatchNorm2d", (4, 3, 2, 5))])
@pytest.mark.parametrize("kw", [{}, {"momentum": None}, {"momentum": 0.3, "eps": 1e-3}, {"affine": False},
                                {"track_running_stats": False}, {"bias": False}])
def test_batch_norm_modules(cls, shape, kw):
    rng = np.random.default_rng(5)
    ours, theirs = getattr(nn, cls)(3, dtype=cl.float64, **kw), getattr(torch.nn, cls)(3, dtype=torch.float64, **kw)
    assert repr(ours) == repr(theirs)
    if ours.weight is not None:  # random affine parameters, the same on both sides
        w = rng.standard_normal(3)
        with cl.no_grad(), torch.no_grad():
            ours.weight.copy_(cl.tensor(w))
            theirs.weight.copy_(torch.tensor(w))
    for step in range(3):  # training: batch statistics, running buffers updated
        x = rng.standard_normal(shape) * 2 + step
        xo, xt = cl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        o, r = ours(xo), theirs(xt)
        close(o, r)
        assert chain(o) == chain(r)
        g = rng.standard_normal(shape)
        o.backward(cl.tensor(g))
        r.backward(torch.tensor(g))
        close(xo.grad, xt.grad, 1e-9)
        for p_ours, p_theirs in zip(ours.parameters(), theirs.parameters()):
            close(p_ours.grad, p_theirs.grad, 1e-9)
        _same_module_state(ours, theirs)
    ours.eval()
    theirs.eval()
    x = rng.standard_normal(shape)
    xo, xt = cl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    o, r = ours(xo), theirs(xt)
    close(o, r)
    o.sum().backward()
    r.sum().backward()
    close(xo.grad, xt.grad)
    _same_module_state(ours, theirs)


def test_batch_norm_float32_and_gradcheck():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((8, 4, 3)).astype(np.float32)
    o, r = nn.BatchNorm1d(4)(cl.tensor(x)), torch.nn.BatchNorm1d(4)(torch.tensor(x))
    close(o, r, 1e-5)
    xg = cl.tensor(rng.standard_normal((5, 3, 2)), requires_grad=True)
    w, b = cl.tensor(rng.standard_normal(3), requires_grad=True), cl.tensor(rng.standard_normal(3), requires_grad=True)
    rm, rv = cl.tensor(rng.standard_normal(3)), cl.tensor(rng.uniform(0.5, 2, 3))
    for training in (True, False):
        assert cl.gradcheck(lambda x, w, b: F.batch_norm(x, rm.clone(), rv.clone(), w, b, training, 0.1, 1e-5),
                            (xg, w, b))


def test_batch_norm_second_derivatives():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((5, 3))
    w = rng.standard_normal(3)
    for training in (True, False):
        xo, xt = cl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        wo, wt = cl.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
        o = F.batch_norm(xo, cl.zeros(3, dtype=cl.float64), cl.ones(3, dtype=cl.float64), wo, None, training)
        r = TF.batch_norm(xt, torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64), wt, None,
                          training)
        go = cl.autograd.grad((o ** 3).sum(), (xo, wo), create_graph=True)
        gt = torch.autograd.grad((r ** 3).sum(), (xt, wt), create_graph=True)
        for a, b in zip(go, gt):
            close(a, b, 1e-9)
        ho = cl.autograd.grad(sum((g * g).sum() for g in go), (xo, wo))
        ht = torch.autograd.grad(sum((g * g).sum() for g in gt), (xt, wt))
        for a, b in zip(ho, ht):
            close(a, b, 1e-8)


def test_batch_norm_errors():
    same_error(lambda: nn.BatchNorm1d(3)(cl.randn(4, 5)), lambda: torch.nn.BatchNorm1d(3)(torch.randn(4, 5)))
    same_error(lambda: nn.BatchNorm1d(3)(cl.randn(1, 3)), lambda: torch.nn.BatchNorm1d(3)(torch.randn(1, 3)))
    same_error(lambda: nn.BatchNorm2d(3)(cl.randn(1, 3, 1, 1)),
               lambda: torch.nn.BatchNorm2d(3)(torch.randn(1, 3, 1, 1)))
    same_error(lambda: nn.BatchNorm1d(3)(cl.randn(4, 3, 2, 2)),
               lambda: torch.nn.BatchNorm1d(3)(torch.randn(4, 3, 2, 2)))
    same_error(lambda: nn.BatchNorm2d(3)(cl.randn(2, 3, 4)), lambda: torch.nn.BatchNorm2d(3)(torch.randn(2, 3, 4)))
    same_error(lambda: F.batch_norm(cl.randn(4, 3), None, None), lambda: TF.batch_norm(torch.randn(4, 3), None, None))
    same_error(lambda: F.batch_norm(cl.randn(4, 3), cl.zeros(3), cl.ones(3), cl.ones(4)),
               lambda: TF.batch_norm(torch.randn(4, 3), torch.zeros(3), torch.ones(3), torch.ones(4)))
    o = nn.BatchNorm1d(3).eval()(cl.randn(1, 3))  # a batch of one is fine in eval
    assert o.shape == (1, 3)


# -- channel dropout, average pooling ------------------------------------------------------------------------------

def test_dropout2d_drops_whole_channels():
    cl.manual_seed(0)
    x = cl.ones(8, 16, 3, 3, requires_grad=True)
    y = F.dropout2d(x, 0.25)
    a = y.detach().numpy().reshape(8, 16, 9)
    assert set(np.unique(a).tolist()) <= {0.0, float(np.float32(1 / 0.75))}
    assert (a.min(axis=2) == a.max(axis=2)).all()
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), a.reshape(x.shape))
    assert F.dropout2d(x, 0.5, training=False) is x
    np.testing.assert_array_equal(F.dropout2d(x, 1.0).detach().numpy(),
                                  TF.dropout2d(torch.ones(8, 16, 3, 3), 1.0).numpy())
    m, mt = nn.Dropout2d(0.3), torch.nn.Dropout2d(0.3)
    assert repr(m) == repr(mt)
    m.eval()
    assert m(x) is x


@pytest.mark.parametrize("shape", [(2, 3), (2, 3, 4), (1, 2, 3, 4, 5)])
def test_dropout2d_warnings_and_errors(shape):
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        F.dropout2d(cl.ones(*shape))
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        TF.dropout2d(torch.ones(*shape))
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]
    same_error(lambda: F.dropout2d(cl.ones(2, 3, 2, 2), 1.5), lambda: TF.dropout2d(torch.ones(2, 3, 2, 2), 1.5))
    same_error(lambda: nn.Dropout2d(-0.1), lambda: torch.nn.Dropout2d(-0.1))


@pytest.mark.parametrize("shape, k, s, p, ceil, include", [
    ((2, 3, 6, 6), 2, None, 0, False, True), ((2, 3, 7, 5), 3, 2, 1, False, True),
    ((2, 3, 7, 5), 3, 2, 1, False, False), ((1, 2, 7, 7), (3, 2), (2, 1), (1, 0), True, True),
    ((1, 2, 7, 7), 3, 2, 1, True, False), ((3, 5, 5), 2, 1, 1, False, False),
    ((1, 1, 6, 6), 4, 3, 2, True, True)])
def test_avg_pool2d(shape, k, s, p, ceil, include):
    rng = np.random.default_rng(8)
    check_both(lambda x: F.avg_pool2d(x, k, s, p, ceil, include), lambda x: TF.avg_pool2d(x, k, s, p, ceil, include),
               (rng.standard_normal(shape),), (0,))
    xo = cl.tensor(rng.standard_normal(shape), requires_grad=True)
    assert cl.gradcheck(lambda x: F.avg_pool2d(x, k, s, p, ceil, include), (xo,))
    mo, mt = nn.AvgPool2d(k, s, p, ceil, include), torch.nn.AvgPool2d(k, s, p, ceil, include)
    assert repr(mo) == repr(mt)
    x = rng.standard_normal(shape).astype(np.float32)
    close(mo(cl.tensor(x)), mt(torch.tensor(x)), 1e-6)


def test_avg_pool2d_divisor_override_and_errors():
    x = np.random.default_rng(9).standard_normal((1, 2, 5, 5))
    close(F.avg_pool2d(cl.tensor(x), 2, divisor_override=3), TF.avg_pool2d(torch.tensor(x), 2, divisor_override=3))
    same_error(lambda: F.avg_pool2d(cl.ones(1, 1, 3, 3), 2, padding=2),
               lambda: TF.avg_pool2d(torch.ones(1, 1, 3, 3), 2, padding=2))
    same_error(lambda: F.avg_pool2d(cl.ones(1, 1, 3, 3), 5), lambda: TF.avg_pool2d(torch.ones(1, 1, 3, 3), 5))
    same_error(lambda: F.avg_pool2d(cl.ones(1, 1, 3, 3), 2, stride=0),
               lambda: TF.avg_pool2d(torch.ones(1, 1, 3, 3), 2, stride=0))
    same_error(lambda: F.avg_pool2d(cl.ones(3, 3), 2), lambda: TF.avg_pool2d(torch.ones(3, 3), 2))


# -- activations --------------------------------------------------------------------------------------------------

ACT_X = np.concatenate([np.linspace(-5, 5, 11) + 0.05, [25.0, -25.0, 0.0]])


@pytest.mark.parametrize("name, kw, module, mkw", [
    ("leaky_relu", {}, "LeakyReLU", {}), ("leaky_relu", {"negative_slope": 0.2}, "LeakyReLU", {"negative_slope": 0.2}),
    ("elu", {}, "ELU", {}), ("elu", {"alpha": 0.5}, "ELU", {"alpha": 0.5}),
    ("softplus", {}, "Softplus", {}),
    ("softplus", {"beta": 2.0, "threshold": 10.0}, "Softplus", {"beta": 2, "threshold": 10}),
    ("silu", {}, "SiLU", {})])
def test_activations(name, kw, module, mkw):
    check_both(lambda x: getattr(F, name)(x, **kw), lambda x: getattr(TF, name)(x, **kw), (ACT_X,), (0,))
    xo = cl.tensor(ACT_X[:11], requires_grad=True)
    assert cl.gradcheck(lambda x: getattr(F, name)(x, **kw), (xo,))
    mo, mt = getattr(nn, module)(**mkw), getattr(torch.nn, module)(**mkw)
    assert repr(mo) == repr(mt)
    x32 = ACT_X.astype(np.float32)
    xo, xt = cl.tensor(x32, requires_grad=True), torch.tensor(x32, requires_grad=True)
    o, r = mo(xo), mt(xt)
    close(o, r, 1e-6)
    o.sum().backward()
    r.sum().backward()
    close(xo.grad, xt.grad, 1e-6)


@pytest.mark.parametrize("name", ["leaky_relu", "elu", "silu"])
def test_activations_inplace(name):
    xo, xt = cl.tensor(ACT_X.copy()), torch.tensor(ACT_X.copy())
    o, r = getattr(F, name)(xo, inplace=True), getattr(TF, name)(xt, inplace=True)
    assert o is xo
    close(xo, xt)
    assert repr(getattr(nn, {"leaky_relu": "LeakyReLU", "elu": "ELU", "silu": "SiLU"}[name])(inplace=True)) == \
        repr(getattr(torch.nn, {"leaky_relu": "LeakyReLU", "elu": "ELU", "silu": "SiLU"}[name])(inplace=True))


@pytest.mark.parametrize("name", ["elu", "softplus", "silu"])
def test_activations_second_derivatives(name):
    xo, xt = cl.tensor(ACT_X, requires_grad=True), torch.tensor(ACT_X, requires_grad=True)
    go, = cl.autograd.grad(getattr(F, name)(xo).sum(), xo, create_graph=True)
    gt, = torch.autograd.grad(getattr(TF, name)(xt).sum(), xt, create_graph=True)
    close(go, gt)
    ho, = cl.autograd.grad(go.sum(), xo)
    ht, = torch.autograd.grad(gt.sum(), xt)
    close(ho, ht)


# -- a tutorial-style program: the new layers and a new loss, trained side by side -------------------------------

def test_small_cnn_with_the_new_layers_trains_like_torch():
    rng = np.random.default_rng(10)
    x = rng.standard_normal((16, 1, 8, 8)).astype(np.float32)
    y = (rng.uniform(size=(16, 1)) > 0.5).astype(np.float32)

    def build(m):
        return m.Sequential(m.Conv2d(1, 4, 3, padding=1), m.BatchNorm2d(4), m.LeakyReLU(0.1), m.AvgPool2d(2),
                            m.Flatten(), m.Linear(64, 8), m.BatchNorm1d(8), m.SiLU(), m.Linear(8, 1))
    cl.manual_seed(0)
    ours, theirs = build(nn), build(torch.nn)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    opt = cl.optim.SGD(ours.parameters(), lr=0.1, momentum=0.9)
    opt_t = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)
    loss_fn, loss_fn_t = nn.BCEWithLogitsLoss(), torch.nn.BCEWithLogitsLoss()
    for _ in range(5):
        opt.zero_grad()
        opt_t.zero_grad()
        loss, loss_t = loss_fn(ours(cl.tensor(x)), cl.tensor(y)), loss_fn_t(theirs(torch.tensor(x)), torch.tensor(y))
        assert loss.item() == pytest.approx(loss_t.item(), rel=1e-5)
        loss.backward()
        loss_t.backward()
        opt.step()
        opt_t.step()
    ours.eval()
    theirs.eval()
    close(ours(cl.tensor(x)), theirs(torch.tensor(x)), 1e-4)
    _same_module_state(ours, theirs, 1e-4)


def test_avg_pool2d_second_derivatives():
    x = np.random.default_rng(11).standard_normal((2, 2, 5, 5))
    xo, xt = cl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    go, = cl.autograd.grad((F.avg_pool2d(xo, 3, 2, 1) ** 3).sum(), xo, create_graph=True)
    gt, = torch.autograd.grad((TF.avg_pool2d(xt, 3, 2, 1) ** 3).sum(), xt, create_graph=True)
    close(go, gt)
    ho, = cl.autograd.grad((go * go).sum(), xo)
    ht, = torch.autograd.grad((gt * gt).sum(), xt)
    close(ho, ht)


# -- the same code on a device: the 'sim' stand-in GPU refuses host arrays ------------------------------------------

def test_the_new_surface_stays_on_the_sim_device():
    from course_lib.simdevice import register_sim_device
    register_sim_device()
    rng = np.random.default_rng(12)
    X4, I4 = rng.standard_normal((6, 4)), rng.standard_normal((2, 3, 5, 5))
    P4, Y4 = rng.uniform(0.1, 0.9, (6, 4)), rng.uniform(0, 1, (6, 4))
    cases = [(lambda x, y: F.mse_loss(x, y), (X4, Y4)), (lambda x, y: F.smooth_l1_loss(x, y, beta=0.5), (X4, Y4)),
             (lambda x, y: F.huber_loss(x, y), (X4, Y4)), (lambda x, y: F.binary_cross_entropy(x, y), (P4, Y4)),
             (lambda x, y: F.binary_cross_entropy_with_logits(x, y, pos_weight=y[0].detach() + 1), (X4, Y4)),
             (lambda x, t: F.cross_entropy(x, t), (X4, rng.integers(0, 4, 6))),
             (lambda x, t: F.nll_loss(x, t), (I4, rng.integers(0, 3, (2, 5, 5)))),
             (lambda x: F.batch_norm(x, None, None, None, None, True), (I4,)),
             (lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), (I4,)),
             (lambda x: F.leaky_relu(x, 0.1), (X4,)), (F.elu, (X4,)), (F.softplus, (X4,)), (F.silu, (X4,))]
    for fn, arrays in cases:
        on_cpu = [cl.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
        on_sim = [cl.tensor(a).to("sim").requires_grad_(a.dtype.kind == "f") for a in arrays]
        o_cpu, o_sim = fn(*on_cpu), fn(*on_sim)
        assert str(o_sim.device) == "sim"
        np.testing.assert_allclose(o_sim.detach().cpu().numpy(), o_cpu.detach().numpy(), rtol=1e-12)
        o_cpu.sum().backward()
        o_sim.sum().backward()
        np.testing.assert_allclose(on_sim[0].grad.cpu().numpy(), on_cpu[0].grad.numpy(), rtol=1e-12, atol=1e-15)
    assert str(F.one_hot(cl.tensor([0, 2]).to("sim")).device) == "sim"
    bn = nn.BatchNorm2d(3).to("sim")
    assert str(bn(cl.tensor(I4).to("sim")).device) == "sim" and str(bn.running_mean.device) == "sim"


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(5, 4), (2, 4, 3), (4,)])
def test_cross_entropy_label_smoothing(reduction, weighted, shape):
    rng = np.random.default_rng(13)
    x = rng.standard_normal(shape)
    t = rng.integers(0, 4, (shape[0],) + shape[2:] if len(shape) > 1 else ())
    if t.ndim:
        t.reshape(-1)[0] = -100
    extra = (rng.uniform(0.5, 1.5, 4),) if weighted else ()
    check_both(lambda a, b, *w: F.cross_entropy(a, b, *w, reduction=reduction, label_smoothing=0.2),
               lambda a, b, *w: TF.cross_entropy(a, b, *w, reduction=reduction, label_smoothing=0.2),
               (x, t) + extra, (0,), nodes=False)
    probs = rng.dirichlet(np.ones(4), shape[0]) if len(shape) == 2 else None
    if probs is not None:
        check_both(lambda a, p: F.cross_entropy(a, p, reduction=reduction, label_smoothing=0.3),
                   lambda a, p: TF.cross_entropy(a, p, reduction=reduction, label_smoothing=0.3), (x, probs), (0,),
                   nodes=False)
    same_error(lambda: F.cross_entropy(cl.tensor(x), cl.tensor(t), label_smoothing=1.5),
               lambda: TF.cross_entropy(torch.tensor(x), torch.tensor(t), label_smoothing=1.5))


def test_core_loss_layers_take_pytorchs_full_signatures():
    rng = np.random.default_rng(14)
    x, t, w = rng.standard_normal((6, 4)), rng.integers(0, 4, 6), rng.uniform(0.5, 1.5, 4)
    t[0] = 1
    for make in (lambda m, W: m.CrossEntropyLoss(W, None, 1, None, "sum", 0.1),
                 lambda m, W: m.CrossEntropyLoss(label_smoothing=0.25, reduction="none"),
                 lambda m, W: m.NLLLoss(W, None, 1, None, "mean")):
        ours, theirs = make(nn, cl.tensor(w)), make(torch.nn, torch.tensor(w))
        assert list(ours.state_dict()) == list(theirs.state_dict())
        check_both(ours, theirs, (x, t), (0,), nodes=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert nn.MSELoss(size_average=False).reduction == torch.nn.MSELoss(size_average=False).reduction == "sum"
    assert len({str(c.message) for c in caught}) == 1


# -- issue 18, the hostile tester: no silent None gradient for a weight, no integer inputs -------------------------

@pytest.mark.parametrize("module", [False, True])
@pytest.mark.parametrize("fn, arg", [("binary_cross_entropy", "weight"),
                                     ("binary_cross_entropy_with_logits", "weight"),
                                     ("binary_cross_entropy_with_logits", "pos_weight")])
def test_bce_weight_that_requires_grad_is_refused_as_torch(fn, arg, module):
    """Our losses gave weight.grad None after backward; PyTorch refuses such a weight at the call."""
    def run(lib, fun):
        x = lib.tensor([0.3, 0.6], requires_grad=True)
        y = lib.tensor([0.0, 1.0])
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        if module:
            cls = lib.nn.BCELoss if fn == "binary_cross_entropy" else lib.nn.BCEWithLogitsLoss
            return cls(**{arg: w})(x, y)
        return getattr(fun, fn)(x, y, **{arg: w})
    same_error(lambda: run(cl, F), lambda: run(torch, TF))
    with cl.no_grad(), torch.no_grad():  # without grad mode nothing is refused
        close(run(cl, F), run(torch, TF), tol=1e-6)


@pytest.mark.parametrize("name", ["silu", "elu", "leaky_relu", "softplus"])
@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
@pytest.mark.parametrize("inplace", [False, True])
def test_activations_refuse_integer_and_bool_inputs_as_torch(name, dtype, inplace):
    if inplace and name == "softplus":
        pytest.skip("softplus has no inplace")
    kw = {"inplace": True} if inplace else {}
    a = np.array([1, 0, 1]).astype(dtype)
    same_error(lambda: getattr(F, name)(cl.tensor(a), **kw), lambda: getattr(TF, name)(torch.tensor(a), **kw))


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
@pytest.mark.parametrize("cls, shape", [("BatchNorm1d", (4, 2)), ("BatchNorm2d", (2, 2, 2, 2))])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_refuses_integer_and_bool_inputs_as_torch(cls, shape, dtype, training):
    a = (np.arange(np.prod(shape)).reshape(shape) % 2).astype(dtype)
    ours, theirs = getattr(nn, cls)(2), getattr(torch.nn, cls)(2)
    ours.train(training), theirs.train(training)
    same_error(lambda: ours(cl.tensor(a)), lambda: theirs(torch.tensor(a)))
    same_error(lambda: F.batch_norm(cl.tensor(a), cl.zeros(2), cl.ones(2), training=training),
               lambda: TF.batch_norm(torch.tensor(a), torch.zeros(2), torch.ones(2), training=training))
