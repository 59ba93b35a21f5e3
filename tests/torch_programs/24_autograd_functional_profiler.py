# torch.autograd.functional (jacobian, hessian, vjp, jvp) and the autograd profiler around a forward pass.
import torch
import torch.nn as nn
from torch.autograd.functional import hessian, jacobian, jvp, vjp


def exp_reducer(x):
    return x.exp().sum(dim=1)


torch.manual_seed(0)
inputs = torch.rand(2, 2)
print(jacobian(exp_reducer, inputs))


def exp_adder(x, y):
    return 2 * x.exp() + 3 * y


print(jacobian(exp_adder, (torch.rand(2), torch.rand(2))))


def pow_reducer(x):
    return x.pow(3).sum()


print(hessian(pow_reducer, torch.rand(2, 2)))
v = torch.ones(2)
print(vjp(exp_reducer, inputs, v))
print(jvp(exp_reducer, inputs, torch.ones(2, 2)))

model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
x = torch.randn(4, 8)
with torch.autograd.profiler.profile() as prof:
    with torch.autograd.profiler.record_function("model_forward"):
        out = model(x)
table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=5)
print(type(table).__name__, len(table) > 0)
print(out.shape)
