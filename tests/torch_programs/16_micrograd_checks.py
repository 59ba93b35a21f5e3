# Checks in the style of micrograd's tests: small scalar expressions, their values and gradients, in float64.
import torch

x = torch.Tensor([-4.0]).double()
x.requires_grad = True
z = 2 * x + 2 + x
q = z.relu() + z * x
h = (z * z).relu()
y = h + q + q * x
y.backward()
xpt, ypt = x, y
print(ypt.data.item())
print(xpt.grad.item())

a = torch.Tensor([-4.0]).double()
b = torch.Tensor([2.0]).double()
a.requires_grad = True
b.requires_grad = True
c = a + b
d = a * b + b ** 3
c = c + c + 1
c = c + 1 + c + (-a)
d = d + d * 2 + (b + a).relu()
d = d + 3 * d + (b - a).relu()
e = c - d
f = e ** 2
g = f / 2.0
g = g + 10.0 / f
g.backward()
print(f"{g.data.item():.6f}")
print(f"{a.grad.item():.6f}")
print(f"{b.grad.item():.6f}")
print(g.dtype, a.grad.dtype)

n = torch.Tensor([[0.5, -1.0], [2.0, 3.0]])
print(n, n.dtype)
w = torch.Tensor(2, 3).fill_(0.25)
print(w.shape)
print((n @ w).tanh())
