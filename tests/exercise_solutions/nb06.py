"""Notebook 06's library exercises solved differently (see tests/test_exercise_ownership.py)."""

# target -> a correct solution, written differently from the reference, that records its calls with course_spy
SOLUTIONS = {
    "optim:Optimizer.zero_grad": '''
def zero_grad(self, set_to_none=True):
    import course_spy
    course_spy.hit("optim:Optimizer.zero_grad")
    with_grads = [p for group in self.param_groups for p in group["params"] if p.grad is not None]
    for p in with_grads:
        if set_to_none:
            p.grad = None
        else:
            _zeroed(p.grad)
''',
    "optim:SGD._update": '''
def _update(self, group):
    import course_spy
    course_spy.hit("optim:SGD._update")
    lr, mu, wd, damp, nesterov = (group[k] for k in ("lr", "momentum", "weight_decay", "dampening", "nesterov"))
    with no_grad():
        for p in group["params"]:
            if p.grad is None:
                continue
            d = -p.grad if group.get("maximize") else p.grad
            if wd:
                d = d + p * wd
            if mu:
                st = self.state.setdefault(p, {})
                if "momentum_buffer" in st:
                    st["momentum_buffer"].mul_(mu).add_(d * (1 - damp))
                else:
                    st["momentum_buffer"] = d.detach().clone()
                buf = st["momentum_buffer"]
                d = d + buf * mu if nesterov else buf
            p.sub_(d * lr)
''',
    "optim:Adam._update": '''
def _update(self, group):
    import course_spy
    course_spy.hit("optim:Adam._update")
    lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
    amsgrad = group.get("amsgrad", False)
    with no_grad():
        for p in group["params"]:
            if p.grad is None:
                continue
            g = p.grad.neg() if group.get("maximize") else p.grad
            if wd and group.get("decoupled_weight_decay"):
                p.mul_(1 - lr * wd)
            elif wd:
                g = g + p * wd
            s = self.state.get(p)
            if s is None:
                s = self.state[p] = {"step": 0, "exp_avg": zeros_like(p), "exp_avg_sq": zeros_like(p)}
                if amsgrad:
                    s["max_exp_avg_sq"] = zeros_like(p)
            s["step"] += 1
            t = s["step"]
            s["exp_avg"].mul_(b1).add_(g * (1 - b1))
            s["exp_avg_sq"].mul_(b2).add_(g * g * (1 - b2))
            v = s["exp_avg_sq"]
            if amsgrad:
                v = s["max_exp_avg_sq"].copy_(maximum(s["max_exp_avg_sq"], v))
            m_hat = s["exp_avg"] / (1 - b1 ** t)  # the textbook form: corrected moments, not corrected scalars
            v_hat = v / (1 - b2 ** t)
            p.sub_(lr * m_hat / (v_hat.sqrt() + eps))
''',
}

# code that makes course_lib call each target, run in a fresh kernel after the exercise notebooks ran
USE = '''
import course_lib as torch
from course_lib import nn
from course_lib.nn import functional as F
from course_lib.optim import SGD, Adam
torch.manual_seed(0)
net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
x, y = torch.randn(16, 4), torch.tensor([0, 1, 2, 0] * 4)
for opt in (SGD(net.parameters(), lr=0.1, momentum=0.9), Adam(net.parameters(), lr=0.01)):
    first = None
    for _ in range(5):
        opt.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    assert loss.item() < first, (type(opt).__name__, first, loss.item())
'''

# target -> (a wrong solution, the exact line its check prints)
WRONG = {
    "optim:SGD._update": ('''
def _update(self, group):
    with no_grad():
        for p in group["params"]:
            if p.grad is not None:
                p -= group["lr"] * p.grad   # momentum and weight decay forgotten
''', "✗ optim:SGD._update: momentum on quadratic: the path leaves the plain NumPy one; course_lib and this notebook use the reference version until this passes"),
}
