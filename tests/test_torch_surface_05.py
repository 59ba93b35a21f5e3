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


def check_both(fn_ours, fn_theirs, arrays, grads_for, tol=1e-10):
    """Values, gradients (every input in grads_for) and node chains of one loss call, ours and PyTorch's."""
    ours = [cl.tensor(a, requires_grad=i in grads_for) for i, a in enumerate(arrays)]
    theirs = [torch.tensor(a, requires_grad=i in grads_for) for i, a in enumerate(arrays)]
    o, r = fn_ours(*ours), fn_theirs(*theirs)
    close(o, r, tol)
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
        r = getattr(TF, name)(torch.tensor(a.astype(np.float32), requires_grad=True), torch.tensor(Q.astype(np.float32)))
        close(o, r, 1e-6)
        o.backward()
        r.backward()


def test_loss_errors():
    p, q = cl.tensor(P), cl.tensor(Q)
    pt, qt = torch.tensor(P), torch.tensor(Q)
    same_error(lambda: F.binary_cross_entropy(p + 1, q), lambda: TF.binary_cross_entropy(pt + 1, qt))
    same_error(lambda: F.binary_cross_entropy(p, q + 1), lambda: TF.binary_cross_entropy(pt, qt + 1))
    same_error(lambda: F.binary_cross_entropy(p * float("nan"), q), lambda: TF.binary_cross_entropy(pt * float("nan"), qt))
    same_error(lambda: F.binary_cross_entropy(p, q[0]), lambda: TF.binary_cross_entropy(pt, qt[0]))
    same_error(lambda: F.binary_cross_entropy(p.float(), q), lambda: TF.binary_cross_entropy(pt.float(), qt))
    same_error(lambda: F.binary_cross_entropy(p, q, reduction="avg"), lambda: TF.binary_cross_entropy(pt, qt, reduction="avg"))
    same_error(lambda: F.binary_cross_entropy(cl.tensor([0, 1]), cl.tensor([0, 1])),
               lambda: TF.binary_cross_entropy(torch.tensor([0, 1]), torch.tensor([0, 1])))
    same_error(lambda: F.binary_cross_entropy(p, q, weight=cl.ones(3)),
               lambda: TF.binary_cross_entropy(pt, qt, weight=torch.ones(3)), match=False)
    same_error(lambda: F.binary_cross_entropy_with_logits(p, q[0]), lambda: TF.binary_cross_entropy_with_logits(pt, qt[0]))
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
