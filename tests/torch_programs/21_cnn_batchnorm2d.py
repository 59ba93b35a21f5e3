# A small CNN on scikit-learn's digits with BatchNorm2d, AvgPool2d and Dropout2d, trained with RMSprop and a
# cosine schedule; train and eval behaviour compared. (No bias before a BatchNorm: it cancels out of the loss, so its
# gradient is rounding noise that RMSprop would scale up into the running mean.)
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim import RMSprop
from torch.optim.lr_scheduler import CosineAnnealingLR
from torch.utils.data import DataLoader, TensorDataset
from sklearn.datasets import load_digits

digits = load_digits()
images = torch.tensor(digits.images[:384, None] / 16.0, dtype=torch.float32)
labels = torch.tensor(digits.target[:384])
loader = DataLoader(TensorDataset(images, labels), batch_size=64, shuffle=True)

torch.manual_seed(0)
model = nn.Sequential(
    nn.Conv2d(1, 8, 3, padding=1, bias=False),
    nn.BatchNorm2d(8),
    nn.ReLU(),
    nn.AvgPool2d(2),
    nn.Dropout2d(0.1),
    nn.Conv2d(8, 16, 3, padding=1, bias=False),
    nn.BatchNorm2d(16),
    nn.ReLU(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Flatten(),
    nn.Linear(16 * 2 * 2, 10),
)
print(model)
print([k for k in model.state_dict().keys() if k.startswith("1.")])

optimizer = RMSprop(model.parameters(), lr=1e-2, alpha=0.9)
scheduler = CosineAnnealingLR(optimizer, T_max=3)
for epoch in range(3):
    model.train()
    total = 0.0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(xb)
    scheduler.step()
    print(f"epoch {epoch}: loss {total / len(loader.dataset):.6f} lr {scheduler.get_last_lr()[0]:.6f}")

print(model[1].running_mean)
model.eval()
with torch.no_grad():
    logits = model(images[:100])
    print("accuracy", (logits.argmax(1) == labels[:100]).sum().item())
    print(logits[:2])
model.train()
with torch.no_grad():
    print(model[:4](images[:8]).mean().item())
