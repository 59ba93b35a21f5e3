# Older spellings learners still meet (Variable, FloatTensor, torch.Tensor(data)) and the function forms with
# keywords and out=, with the small reductions tutorials use (sum(keepdims=), norm, all, histogram, mm).
import torch
from torch.autograd import Variable

torch.manual_seed(0)
x = Variable(torch.randn(3, 4), requires_grad=True)
w = Variable(torch.FloatTensor([[1.0], [2.0], [-1.0], [0.5]]), requires_grad=True)
t = torch.Tensor([[1, 2], [3, 4]])
print(t, t.dtype)
labels = torch.LongTensor([1, 0, 2])
print(labels, labels.dtype)

y = x.mm(w)
print(y.shape)
loss = y.pow(2).sum()
loss.backward()
print(w.grad)

a = torch.rand(2, 3)
b = torch.rand(2, 3)
result = torch.empty(2, 3)
torch.add(a, b, out=result)
print(result)
print(torch.add(a, b, alpha=2))
print(torch.mul(input=a, other=3.0))
print(torch.matmul(input=a, other=b.t()))
print(a.sum(1, keepdims=True))
print(a.norm(), torch.norm(a, dim=1))
print(torch.all(a > 0), (a > 0.5).all(dim=1))
hist, edges = torch.histogram(torch.tensor([1.0, 2.0, 1.0, 4.0]), bins=4, range=(0.0, 4.0))
print(hist, edges)
