# The blitz's autograd part: a gradient by hand and by backward(), the graph walked node by node, frozen layers.
import torch
from torch import nn, optim

torch.manual_seed(0)
a = torch.tensor([2., 3.], requires_grad=True)
b = torch.tensor([6., 4.], requires_grad=True)
Q = 3 * a ** 3 - b ** 2
external_grad = torch.tensor([1., 1.])
Q.backward(gradient=external_grad)
print(9 * a ** 2 == a.grad)
print(-2 * b == b.grad)
print(Q.grad_fn)

x = torch.rand(5, 5)
y = torch.rand(5, 5)
z = torch.rand((5, 5), requires_grad=True)
a = x + y
print(f"Does `a` require gradients?: {a.requires_grad}")
b = x + z
print(f"Does `b` require gradients?: {b.requires_grad}")

s = torch.tensor([0.5, 1.5], requires_grad=True)
t = torch.sin(s)
u = 2 * t
v = (u * s).sum()
node = v.grad_fn
depth = 0
while node is not None:
    print("  " * depth + type(node).__name__)
    parents = [f for f, _ in node.next_functions if f is not None]
    node = parents[0] if parents else None
    depth += 1
print(u.grad_fn.next_functions)

model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 4))
for param in model.parameters():
    param.requires_grad = False
model[2] = nn.Linear(8, 3)
optimizer = optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
data = torch.rand(4, 6)
labels = torch.rand(4, 3)
for step in range(3):
    optimizer.zero_grad()
    loss = ((model(data) - labels) ** 2).sum()
    loss.backward()
    optimizer.step()
    print(step, round(loss.item(), 5))
print([p.grad is None for p in model.parameters()])
