# Recipes: saving and loading a general checkpoint (model, optimizer, epoch, loss), then resuming training; the
# resumed run must continue exactly where the uninterrupted one goes.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(5, 12)
        self.fc2 = nn.Linear(12, 3)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


rng = np.random.default_rng(2)
inputs = torch.from_numpy(rng.normal(size=(40, 5)).astype(np.float32))
targets = torch.from_numpy(rng.integers(0, 3, 40))

torch.manual_seed(0)
net = Net()
optimizer = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
print(net.state_dict().keys())
print(optimizer.state_dict()['param_groups'][0]['lr'], optimizer.state_dict()['param_groups'][0]['params'])


def train(net, optimizer, steps):
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.cross_entropy(net(inputs), targets)
        loss.backward()
        optimizer.step()
    return loss


loss = train(net, optimizer, 5)
EPOCH = 5
PATH = "model.pt"
torch.save({
    'epoch': EPOCH,
    'model_state_dict': net.state_dict(),
    'optimizer_state_dict': optimizer.state_dict(),
    'loss': loss.item(),
}, PATH)
print(f"saved at epoch {EPOCH}, loss {loss.item():.6f}")

model = Net()
optim2 = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
checkpoint = torch.load(PATH, weights_only=True)
model.load_state_dict(checkpoint['model_state_dict'])
optim2.load_state_dict(checkpoint['optimizer_state_dict'])
epoch = checkpoint['epoch']
print(epoch, round(checkpoint['loss'], 6), sorted(checkpoint.keys()))
model.train()

print(f"resumed {train(model, optim2, 3).item():.6f}")
print(f"straight {train(net, optimizer, 3).item():.6f}")
print(all(torch.equal(a, b) for a, b in zip(model.parameters(), net.parameters())))
