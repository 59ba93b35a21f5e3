# A custom Dataset with transforms, a DataLoader over it, one batch looked at, and a short training run.
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset


class BlobDataset(Dataset):
    def __init__(self, n, transform=None, target_transform=None):
        rng = np.random.default_rng(9)
        self.labels = rng.integers(0, 3, n)
        centres = np.array([[0.0, 2.0], [2.0, -1.0], [-2.0, -1.0]])
        self.points = (centres[self.labels] + rng.normal(0, 0.7, (n, 2))).astype(np.float32)
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        point = torch.from_numpy(self.points[idx])
        label = int(self.labels[idx])
        if self.transform:
            point = self.transform(point)
        if self.target_transform:
            label = self.target_transform(label)
        return point, label


training_data = BlobDataset(150, transform=lambda p: p / 2.0)
torch.manual_seed(0)
sample_idx = torch.randint(len(training_data), size=(1,)).item()
point, label = training_data[sample_idx]
print(sample_idx, point, label)

train_dataloader = DataLoader(training_data, batch_size=30, shuffle=True)
train_features, train_labels = next(iter(train_dataloader))
print(f"Feature batch shape: {train_features.size()}")
print(f"Labels batch shape: {train_labels.size()}")
print(train_labels.dtype, train_labels[:5])

model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 3))
optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
loss_fn = nn.CrossEntropyLoss()
for epoch in range(4):
    for X, y in train_dataloader:
        loss = loss_fn(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print(f"epoch {epoch} loss {loss.item():.6f}")
