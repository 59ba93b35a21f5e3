"""Issue 18 in notebook 06: optim as a package, RMSprop / Adadelta / Adagrad and optim.lr_scheduler against PyTorch
(parameter trajectories over 20 steps in float32 and float64, param groups, state dicts, errors, the learning-rate
sequences of the schedulers over 30 steps, and the warnings)."""
import importlib
import warnings

import numpy as np
import pytest

import course_lib
from course_lib import optim
from course_lib.optim import lr_scheduler

torch = pytest.importorskip("torch")

STEPS = 20


def _grad(w):
    return w ** 3 - np.sin(w) + 0.5


def _trajectories(name, kw, dtype, groups=False):
    """The same initial values and gradient function for course_lib and torch: the values after each step."""
    init = [np.array([1.5, -2.0, 0.3]), np.array([[0.7, -0.1], [2.0, 0.05]])]
    out = {}
    for lib in (course_lib, torch):
        t_dtype = getattr(lib, dtype)
        params = [lib.tensor(v, dtype=t_dtype, requires_grad=True) for v in init]
        spec = [{"params": [params[0]]}, {"params": [params[1]], "lr": kw.get("lr", 0.01) * 0.5}] if groups else params
        opt = getattr(lib.optim, name)(spec, **kw)
        path = []
        for _ in range(STEPS):
            for p in params:
                p.grad = lib.tensor(_grad(p.detach().numpy().astype(np.float64)), dtype=t_dtype)
            opt.step()
            path.append([p.detach().numpy().copy() for p in params])
        out[lib.__name__] = path
    return out["course_lib"], out["torch"]


CASES = [
    ("RMSprop", {}), ("RMSprop", {"lr": 0.01, "alpha": 0.9}), ("RMSprop", {"weight_decay": 0.1}),
    ("RMSprop", {"momentum": 0.9}), ("RMSprop", {"centered": True}), ("RMSprop", {"centered": True, "alpha": 0.3}),
    ("RMSprop", {"centered": True, "momentum": 0.5, "weight_decay": 0.01, "maximize": True}),
    ("Adadelta", {}), ("Adadelta", {"lr": 0.5, "rho": 0.95, "eps": 1e-5}), ("Adadelta", {"weight_decay": 0.1}),
    ("Adadelta", {"maximize": True}),
    ("Adagrad", {}), ("Adagrad", {"lr": 0.1, "lr_decay": 0.05}), ("Adagrad", {"initial_accumulator_value": 0.5}),
    ("Adagrad", {"weight_decay": 0.1, "eps": 1e-6, "maximize": True}),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, kw", CASES)
def test_trajectories_match_pytorch(name, kw, dtype):
    ours, theirs = _trajectories(name, kw, dtype)
    tol32 = 1e-5 if kw.get("centered") else 1e-6  # centered: √(v − ḡ²) cancels, and amplifies rounding
    for step, (a, b) in enumerate(zip(ours, theirs)):
        for x, y in zip(a, b):
            assert x.dtype == y.dtype
            # float32: 1e-6 of the parameters' scale (about 1). PyTorch's CPU kernels fuse a*b+c (FMA) where NumPy
            # rounds twice, so single elements that pass near 0 can differ by an ulp of 1, not of themselves.
            np.testing.assert_allclose(x, y, rtol=tol32 if dtype == "float32" else 1e-12,
                                       atol=tol32 if dtype == "float32" else 1e-14,
                                       err_msg=f"{name}{kw} step {step + 1}")


@pytest.mark.parametrize("name, kw", [("RMSprop", {"momentum": 0.9, "centered": True}), ("Adadelta", {"lr": 0.5}),
                                      ("Adagrad", {"lr_decay": 0.1})])
def test_param_groups_match_pytorch(name, kw):
    ours, theirs = _trajectories(name, kw, "float64", groups=True)
    for a, b in zip(ours, theirs):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name, kw", [("RMSprop", {}), ("RMSprop", {"momentum": 0.9, "centered": True}),
                                      ("Adadelta", {}), ("Adagrad", {"initial_accumulator_value": 0.1})])
def test_defaults_and_state_keys_match_pytorch(name, kw):
    ours = getattr(optim, name)([course_lib.ones(2, requires_grad=True)], **kw)
    theirs = getattr(torch.optim, name)([torch.ones(2, requires_grad=True)], **kw)
    assert {k: v for k, v in ours.defaults.items()} == {k: v for k, v in theirs.defaults.items()}
    for opt, lib in ((ours, course_lib), (theirs, torch)):
        opt.param_groups[0]["params"][0].grad = lib.ones(2)
        opt.step()
    assert sorted(ours.state_dict()["state"][0]) == sorted(theirs.state_dict()["state"][0])
    assert sorted(ours.state_dict()["param_groups"][0]) == sorted(theirs.state_dict()["param_groups"][0])


@pytest.mark.parametrize("name, kw", [("RMSprop", {"momentum": 0.9, "centered": True}), ("Adadelta", {}),
                                      ("Adagrad", {"lr_decay": 0.1})])
def test_state_dict_round_trip_continues_identically(name, kw):
    def run(resume_at=None):
        w = course_lib.tensor([1.0, -2.0, 0.5], dtype=course_lib.float64, requires_grad=True)
        opt = getattr(optim, name)([w], **kw)
        for step in range(10):
            if step == resume_at:
                saved = opt.state_dict()
                opt = getattr(optim, name)([w], lr=123.0)
                opt.load_state_dict(saved)
            w.grad = course_lib.tensor(_grad(w.detach().numpy()))
            opt.step()
        return w.detach().numpy()

    np.testing.assert_array_equal(run(), run(resume_at=4))


@pytest.mark.parametrize("name, kw", [
    ("RMSprop", {"lr": -1.0}), ("RMSprop", {"eps": -1e-8}), ("RMSprop", {"momentum": -0.1}),
    ("RMSprop", {"weight_decay": -1}), ("RMSprop", {"alpha": -0.5}),
    ("Adadelta", {"lr": -1.0}), ("Adadelta", {"rho": 1.5}), ("Adadelta", {"rho": -0.1}), ("Adadelta", {"eps": -1.0}),
    ("Adadelta", {"weight_decay": -1}),
    ("Adagrad", {"lr": -1.0}), ("Adagrad", {"lr_decay": -1}), ("Adagrad", {"weight_decay": -1}),
    ("Adagrad", {"initial_accumulator_value": -1}), ("Adagrad", {"eps": -1.0}),
])
def test_bad_hyperparameters_raise_as_in_pytorch(name, kw):
    with pytest.raises(ValueError) as theirs:
        getattr(torch.optim, name)([torch.ones(1, requires_grad=True)], **kw)
    with pytest.raises(ValueError) as ours:
        getattr(optim, name)([course_lib.ones(1, requires_grad=True)], **kw)
    assert str(ours.value) == str(theirs.value)


def test_optim_is_a_package_like_torchs():
    assert hasattr(optim, "__path__") and optim.lr_scheduler is lr_scheduler
    mod = importlib.import_module("course_lib.optim.lr_scheduler")
    assert mod.StepLR is lr_scheduler.StepLR
    from course_lib.optim import SGD, Adam, AdamW, Optimizer, required  # noqa: F401  everything importable before
    from course_lib.optim.lr_scheduler import (CosineAnnealingLR, ExponentialLR, LambdaLR, LinearLR,  # noqa: F401
                                               LRScheduler, MultiStepLR, OneCycleLR, SequentialLR, StepLR)
    ours = set(lr_scheduler.__all__)
    assert ours <= set(torch.optim.lr_scheduler.__all__)
    assert {"RMSprop", "Adadelta", "Adagrad", "SGD", "Adam", "AdamW"} <= set(optim.__all__)


# -- schedulers ------------------------------------------------------------------------------------------------

SCHEDULERS = {
    "StepLR": lambda L, o: L.StepLR(o, 7, gamma=0.5),
    "StepLR-default": lambda L, o: L.StepLR(o, step_size=3),
    "MultiStepLR": lambda L, o: L.MultiStepLR(o, [5, 12, 12, 20], gamma=0.3),
    "ExponentialLR": lambda L, o: L.ExponentialLR(o, 0.9),
    "CosineAnnealingLR": lambda L, o: L.CosineAnnealingLR(o, T_max=10),
    "CosineAnnealingLR-eta": lambda L, o: L.CosineAnnealingLR(o, T_max=7, eta_min=0.003),
    "LambdaLR": lambda L, o: L.LambdaLR(o, lambda e: 1 / (1 + e)),
    "LambdaLR-groups": lambda L, o: L.LambdaLR(o, [lambda e: 0.9 ** e, lambda e: 1 + e]),
    "MultiplicativeLR": lambda L, o: L.MultiplicativeLR(o, lambda e: 0.95),
    "ConstantLR": lambda L, o: L.ConstantLR(o, factor=0.5, total_iters=4),
    "LinearLR": lambda L, o: L.LinearLR(o, start_factor=0.1, total_iters=8),
    "LinearLR-down": lambda L, o: L.LinearLR(o, start_factor=1.0, end_factor=0.2, total_iters=12),
    "PolynomialLR": lambda L, o: L.PolynomialLR(o, total_iters=20, power=2.0),
    "OneCycleLR": lambda L, o: L.OneCycleLR(o, max_lr=1.0, total_steps=31),
    "OneCycleLR-linear-3": lambda L, o: L.OneCycleLR(o, max_lr=[1.0, 0.5], epochs=4, steps_per_epoch=8,
                                                     anneal_strategy="linear", three_phase=True),
    "OneCycleLR-no-momentum": lambda L, o: L.OneCycleLR(o, max_lr=0.3, total_steps=40, pct_start=0.25,
                                                        cycle_momentum=False, div_factor=10.0),
    "SequentialLR": lambda L, o: L.SequentialLR(o, [L.LinearLR(o, start_factor=0.01, total_iters=5),
                                                    L.CosineAnnealingLR(o, T_max=25)], milestones=[5]),
    "SequentialLR-3": lambda L, o: L.SequentialLR(o, [L.ConstantLR(o, 0.5, 3), L.ExponentialLR(o, 0.8),
                                                      L.StepLR(o, 4)], milestones=[6, 15]),
}


def _lr_sequence(lib, make, optimizer="SGD", steps=30, **opt_kw):
    a, b = lib.ones(2, requires_grad=True), lib.ones(3, requires_grad=True)
    opt = getattr(lib.optim, optimizer)([{"params": [a]}, {"params": [b], "lr": 0.05}], lr=0.1, **opt_kw)
    sched = make(lib.optim.lr_scheduler, opt)
    seq = []
    for _ in range(steps):
        seq.append([(g["lr"], g.get("momentum"), g.get("betas")) for g in opt.param_groups])
        opt.step()
        sched.step()
    seq.append([(g["lr"], g.get("momentum"), g.get("betas")) for g in opt.param_groups])
    return seq, sched, opt


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_lr_sequences_match_pytorch(name, optimizer):
    kw = {"momentum": 0.9} if optimizer == "SGD" else {}
    ours, s1, o1 = _lr_sequence(course_lib, SCHEDULERS[name], optimizer, **kw)
    theirs, s2, o2 = _lr_sequence(torch, SCHEDULERS[name], optimizer, **kw)
    for step, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(np.array([x[0] for x in a]), np.array([x[0] for x in b]), rtol=1e-12, atol=0,
                                   err_msg=f"{name} lr at step {step}")
        for (_, m1, b1), (_, m2, b2) in zip(a, b):
            assert (m1 is None) == (m2 is None) and (m1 is None or abs(m1 - m2) < 1e-12), (name, step)
            assert (b1 is None) == (b2 is None) and (b1 is None or np.allclose(b1, b2, rtol=1e-12)), (name, step)
    assert s1.last_epoch == s2.last_epoch
    np.testing.assert_allclose(s1.get_last_lr(), s2.get_last_lr(), rtol=1e-12)
    assert [g["initial_lr"] for g in o1.param_groups] == pytest.approx([g["initial_lr"] for g in o2.param_groups])
    assert hasattr(s1, "base_lrs") == hasattr(s2, "base_lrs")  # SequentialLR has none
    assert getattr(s1, "base_lrs", None) == pytest.approx(getattr(s2, "base_lrs", None))


@pytest.mark.parametrize("name", ["StepLR", "CosineAnnealingLR", "SequentialLR", "OneCycleLR", "LambdaLR"])
def test_scheduler_state_dict_matches_and_resumes(name):
    ours, s1, _ = _lr_sequence(course_lib, SCHEDULERS[name], steps=10)
    _, s2, _ = _lr_sequence(torch, SCHEDULERS[name], steps=10)
    saved, theirs = s1.state_dict(), s2.state_dict()
    assert sorted(saved) == sorted(theirs)
    assert saved["last_epoch"] == theirs["last_epoch"] and saved.get("_step_count") == theirs.get("_step_count")
    # a fresh optimizer and scheduler, restored from the checkpoints, continue the same sequence
    for lib, sched, state in ((course_lib, s1, saved), (torch, s2, theirs)):
        opt_state = sched.optimizer.state_dict()
        a, b = lib.ones(2, requires_grad=True), lib.ones(3, requires_grad=True)
        opt = lib.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.05}], lr=0.1, momentum=0.9)
        fresh = SCHEDULERS[name](lib.optim.lr_scheduler, opt)
        opt.load_state_dict(opt_state)
        fresh.load_state_dict(state)
        for _ in range(10):
            opt.step()
            fresh.step()
        sched.resumed = [g["lr"] for g in opt.param_groups]
    np.testing.assert_allclose(s1.resumed, s2.resumed, rtol=1e-12)


def _warnings_of(lib, order):
    w = lib.ones(1, requires_grad=True)
    opt = lib.optim.SGD([w], lr=0.1)
    sched = lib.optim.lr_scheduler.StepLR(opt, 2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for what in order:
            opt.step() if what == "opt" else sched.step() if what == "sched" else sched.get_lr()
    return [(w.category, str(w.message)) for w in caught]


@pytest.mark.parametrize("order", [["sched", "opt"], ["opt", "sched", "sched"], ["get_lr"]])
def test_warnings_match_pytorch(order):
    assert _warnings_of(course_lib, order) == _warnings_of(torch, order)


def test_step_with_an_epoch_warns_and_uses_the_closed_form():
    out = []
    for lib in (course_lib, torch):
        opt = lib.optim.SGD([lib.ones(1, requires_grad=True)], lr=0.1)
        sched = lib.optim.lr_scheduler.CosineAnnealingLR(opt, 10)
        opt.step()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sched.step(4)
        out.append((sched.get_last_lr(), [str(w.message) for w in caught]))
    assert out[0][1] == out[1][1]
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-12)


@pytest.mark.parametrize("make", [
    lambda L, o: L.StepLR(None, 3),
    lambda L, o: L.LinearLR(o, start_factor=0.0),
    lambda L, o: L.LinearLR(o, end_factor=1.5),
    lambda L, o: L.ConstantLR(o, factor=2.0),
    lambda L, o: L.LambdaLR(o, [lambda e: 1.0, lambda e: 2.0]),
    lambda L, o: L.OneCycleLR(o, max_lr=1.0),
    lambda L, o: L.OneCycleLR(o, max_lr=1.0, total_steps=0),
    lambda L, o: L.OneCycleLR(o, max_lr=1.0, total_steps=10, pct_start=1),
    lambda L, o: L.OneCycleLR(o, max_lr=1.0, total_steps=10, anneal_strategy="exp"),
    lambda L, o: L.OneCycleLR(o, max_lr=[1.0, 2.0], total_steps=10),
    lambda L, o: L.SequentialLR(o, [], []),
    lambda L, o: L.SequentialLR(o, [L.StepLR(o, 2), L.StepLR(o, 3)], []),
    lambda L, o: L.StepLR(o, 2, last_epoch=5),
    lambda L, o: L.SequentialLR(o, [L.StepLR(o, 2), L.ReduceLROnPlateau(o)], [3]),
    lambda L, o: L.ReduceLROnPlateau(o, factor=1.0),
    lambda L, o: L.ReduceLROnPlateau(o, mode="lowest"),
    lambda L, o: L.ReduceLROnPlateau(o, threshold_mode="ratio"),
    lambda L, o: L.ReduceLROnPlateau(o, min_lr=[0.1, 0.2]),
    lambda L, o: L.ReduceLROnPlateau(None),
])
def test_bad_arguments_raise_as_in_pytorch(make):
    def attempt(lib):
        opt = lib.optim.SGD([lib.ones(1, requires_grad=True)], lr=0.1, momentum=0.9)
        with pytest.raises(Exception) as e:
            make(lib.optim.lr_scheduler, opt)
        return type(e.value), str(e.value).split("\n")[0]

    ours, theirs = attempt(course_lib), attempt(torch)
    assert ours[0] is theirs[0]
    assert ours[1] == theirs[1].replace("torch.optim", "course_lib.optim")


def test_onecycle_past_the_end_raises_as_in_pytorch():
    for lib in (course_lib, torch):
        opt = lib.optim.SGD([lib.ones(1, requires_grad=True)], lr=0.1, momentum=0.9)
        sched = lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=3)
        for _ in range(2):
            opt.step()
            sched.step()
        opt.step()
        with pytest.raises(ValueError, match="Tried to step 4 times. The specified number of total steps is 3"):
            sched.step()
            sched.step()


def test_a_tutorial_training_loop_with_a_scheduler_matches_pytorch():
    """Warm-up + cosine on AdamW, RMSprop with StepLR: a small regression trained the same way by both."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((32, 3)), rng.standard_normal((32, 1))
    w0, b0 = rng.standard_normal((3, 1)) * 0.1, np.zeros(1)

    def train(lib, make_opt, make_sched):
        w = lib.tensor(w0, requires_grad=True)
        b = lib.tensor(b0, requires_grad=True)
        opt = make_opt(lib.optim, [w, b])
        sched = make_sched(lib.optim.lr_scheduler, opt)
        xs, ys, losses = lib.tensor(x), lib.tensor(y), []
        for _ in range(15):
            opt.zero_grad()
            loss = ((xs @ w + b - ys) ** 2).mean()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
        return losses

    for make_opt, make_sched in [
            (lambda O, ps: O.AdamW(ps, lr=0.05), lambda L, o: L.SequentialLR(
                o, [L.LinearLR(o, 0.1, total_iters=3), L.CosineAnnealingLR(o, 12)], [3])),
            (lambda O, ps: O.RMSprop(ps, lr=0.01, momentum=0.5), lambda L, o: L.StepLR(o, 5, 0.5)),
            (lambda O, ps: O.Adadelta(ps), lambda L, o: L.ExponentialLR(o, 0.9)),
            (lambda O, ps: O.SGD(ps, lr=0.01, momentum=0.9), lambda L, o: L.OneCycleLR(o, 0.1, total_steps=15))]:
        np.testing.assert_allclose(train(course_lib, make_opt, make_sched), train(torch, make_opt, make_sched),
                                   rtol=1e-10)


@pytest.mark.parametrize("kw", [{}, {"factor": 0.5, "patience": 2}, {"mode": "max", "patience": 1, "cooldown": 2},
                                {"threshold_mode": "abs", "threshold": 0.05, "patience": 0, "min_lr": [0.01, 0.02]},
                                {"patience": 1, "factor": 0.2, "min_lr": 0.004, "eps": 1e-3}])
def test_reduce_lr_on_plateau_matches_pytorch(kw):
    rng = np.random.default_rng(3)
    metrics = np.cumsum(rng.normal(-0.02, 0.1, 40)) + 2.0
    runs = []
    for lib in (course_lib, torch):
        a, b = lib.ones(2, requires_grad=True), lib.ones(3, requires_grad=True)
        opt = lib.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.05}], lr=0.1)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
        seq = []
        for i, m in enumerate(metrics):
            opt.step()
            sched.step(lib.tensor(m) if i % 2 else float(m))
            seq.append((sched.get_last_lr(), sched.num_bad_epochs, sched.cooldown_counter, sched.best, sched.last_epoch))
        runs.append((seq, sorted(sched.state_dict())))
    assert runs[0][1] == runs[1][1]
    for ours, theirs in zip(runs[0][0], runs[1][0]):
        np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-15)
        assert ours[1:] == pytest.approx(theirs[1:])


# -- a tutorial-style program, run unchanged under both libraries ---------------------------------------------

PROGRAM = '''
import torch.optim.lr_scheduler  # noqa: F401  (the package form, as scripts write it)
from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR, StepLR

device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
if device == "cpu":
    device = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
torch.backends.cudnn.benchmark = True

nn = torch.nn
model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1)).to(device)
model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in start.items()})
x, y = torch.from_numpy(xs).to(device), torch.from_numpy(ys).to(device)
loss_fn = nn.MSELoss()

for name, make_opt, make_sched in PLANS:
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in start.items()})
    opt = make_opt(torch.optim, model.parameters())
    sched = make_sched(torch.optim.lr_scheduler, opt)
    for epoch in range(12):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        sched.step()
        record[f"{name} loss {epoch}"] = loss.item()
        record[f"{name} lr {epoch}"] = sched.get_last_lr()[0]
record["device"] = device
'''

PLANS = [
    ("rmsprop+step", lambda O, ps: O.RMSprop(ps, lr=0.01, momentum=0.5), lambda L, o: L.StepLR(o, 4, 0.5)),
    ("adadelta+exp", lambda O, ps: O.Adadelta(ps), lambda L, o: L.ExponentialLR(o, 0.9)),
    ("adagrad+cos", lambda O, ps: O.Adagrad(ps, lr=0.05), lambda L, o: L.CosineAnnealingLR(o, 12)),
    ("adamw+warmup-cos", lambda O, ps: O.AdamW(ps, lr=0.01),
     lambda L, o: L.SequentialLR(o, [L.LinearLR(o, 0.1, total_iters=3), L.CosineAnnealingLR(o, 9)], [3])),
    ("sgd+onecycle", lambda O, ps: O.SGD(ps, lr=0.01, momentum=0.9), lambda L, o: L.OneCycleLR(o, 0.1, total_steps=12)),
]


def test_a_training_script_with_schedulers_runs_unchanged_and_agrees():
    import sys

    rng = np.random.default_rng(0)
    xs = rng.standard_normal((16, 4)).astype(np.float32)
    ys = rng.standard_normal((16, 1)).astype(np.float32)
    torch.manual_seed(0)
    start = {k: v.detach().numpy().copy() for k, v in
             torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).state_dict().items()}
    records = []
    for lib in (course_lib, torch):
        saved = {k: sys.modules[k] for k in list(sys.modules) if k == "torch" or k.startswith("torch.")}
        try:  # `import torch.optim.lr_scheduler` inside the program must find this library
            if lib is course_lib:
                sys.modules.update({"torch": course_lib, "torch.optim": course_lib.optim,
                                    "torch.optim.lr_scheduler": course_lib.optim.lr_scheduler})
            record = {}
            exec(PROGRAM, {"torch": lib, "start": start, "xs": xs, "ys": ys, "record": record, "PLANS": PLANS})
        finally:
            sys.modules.update(saved)
            lib.backends.cudnn.benchmark = False  # the script's switch, put back for the tests that follow
        records.append(record)
    ours, theirs = records
    assert ours.keys() == theirs.keys() and ours["device"] == theirs["device"] == "cpu"
    for key in theirs:
        if key != "device":
            np.testing.assert_allclose(ours[key], theirs[key], rtol=2e-5, atol=1e-7, err_msg=key)


@pytest.mark.parametrize("name, kw", [("RMSprop", {"momentum": 0.9, "centered": True}), ("Adadelta", {}),
                                      ("Adagrad", {"lr_decay": 0.1})])
def test_new_optimizers_step_on_the_sim_device_without_transfers(name, kw):
    """The updates run on the parameter's device: on 'sim' the same numbers as on the CPU, and no host copies."""
    from course_lib.simdevice import register_sim_device

    sim = register_sim_device()
    paths = {}
    for dev in ("cpu", "sim"):
        w = course_lib.tensor([1.0, -2.0, 0.5], dtype=course_lib.float64).to(dev).requires_grad_()
        opt = getattr(optim, name)([w], **kw)
        g = course_lib.tensor([0.3, -0.1, 0.7], dtype=course_lib.float64).to(dev)
        sim.log.reset()
        for _ in range(5):
            w.grad = g * w
            opt.step()
        if dev == "sim":
            assert sim.log.device_to_host == 0 and sim.log.host_to_device == 0
            assert all(t.device.type == "sim" for s in opt.state.values() for t in s.values()
                       if isinstance(t, course_lib.Tensor))
        paths[dev] = w.detach().cpu().numpy()
    np.testing.assert_array_equal(paths["cpu"], paths["sim"])


def test_the_old_base_name_can_be_subclassed_as_in_older_scripts():
    class Halve(lr_scheduler._LRScheduler):
        def get_lr(self):
            return [g["lr"] if self.last_epoch == 0 else g["lr"] / 2 for g in self.optimizer.param_groups]

    rates = []
    for lib, Base in ((course_lib, Halve), (torch, None)):
        if Base is None:
            class Base(torch.optim.lr_scheduler._LRScheduler):
                get_lr = Halve.get_lr
        opt = lib.optim.SGD([lib.ones(1, requires_grad=True)], lr=0.8)
        sched = Base(opt)
        for _ in range(3):
            opt.step()
            sched.step()
        rates.append(sched.get_last_lr())
    assert rates[0] == rates[1] == [0.1]
