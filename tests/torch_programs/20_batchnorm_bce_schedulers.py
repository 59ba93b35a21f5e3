# A binary classifier with BatchNorm1d and Dropout, its two losses (BCEWithLogits and BCE on sigmoid), and the
# learning-rate schedulers tutorials use, stepped once per epoch.
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
import torch.optim.lr_scheduler as lr_scheduler

rng = np.random.default_rng(5)
X = rng.normal(size=(256, 6)).astype(np.float32)
y = ((X[:, 0] * X[:, 1] + X[:, 2] - 0.5 * X[:, 3]) > 0).astype(np.float32)
X, y = torch.from_numpy(X), torch.from_numpy(y).unsqueeze(1)


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 1))

    def forward(self, x):
        return self.layers(x)


torch.manual_seed(0)
model = Classifier()
print(model)
bn = model.layers[1]
print(bn.running_mean, bn.running_var, bn.num_batches_tracked)

criterion = nn.BCEWithLogitsLoss()
optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
schedulers = [lr_scheduler.ExponentialLR(optimizer, gamma=0.9)]
for epoch in range(4):
    model.train()
    for start in range(0, 256, 64):
        xb, yb = X[start:start + 64], y[start:start + 64]
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
    for s in schedulers:
        s.step()
    print(epoch, f"{loss.item():.6f}", schedulers[0].get_last_lr())
print(bn.running_mean)
print(bn.running_var)
print(bn.num_batches_tracked)

model.eval()
with torch.no_grad():
    probs = torch.sigmoid(model(X))
    print("accuracy", ((probs > 0.5).float() == y).float().mean().item())
    print("BCE", nn.BCELoss()(probs, y).item())
    print(model(X[:3]))

for make in (lambda o: lr_scheduler.StepLR(o, step_size=2, gamma=0.5),
             lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=5),
             lambda o: lr_scheduler.LambdaLR(o, lr_lambda=lambda epoch: 0.95 ** epoch),
             lambda o: lr_scheduler.MultiStepLR(o, milestones=[2, 4], gamma=0.1)):
    opt = optim.Adam(model.parameters(), lr=0.01)
    sched = make(opt)
    lrs = []
    for epoch in range(6):
        opt.step()
        sched.step()
        lrs.append(round(sched.get_last_lr()[0], 8))
    print(type(sched).__name__, lrs)
