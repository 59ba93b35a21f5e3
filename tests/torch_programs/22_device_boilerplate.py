# The device boilerplate tutorials start with: accelerator, cuda, mps, cudnn flags, a default device, moving models.
import torch
import torch.nn as nn

if torch.accelerator.is_available():
    device = torch.accelerator.current_accelerator().type
else:
    device = "cpu"
print(f"Using {device} device")

if torch.cuda.is_available():
    device = torch.device("cuda")
elif torch.backends.mps.is_available():
    device = torch.device("mps")
else:
    device = torch.device("cpu")
print(device, device.type)
print(torch.backends.mps.is_built() in (True, False))

torch.backends.cudnn.benchmark = True
torch.backends.cudnn.deterministic = False
print(torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic)
print(torch.cuda.is_available(), torch.accelerator.is_available())

torch.set_default_device(device)
x = torch.ones(2, 3)
print(x.device)
torch.set_default_device(None)

torch.manual_seed(0)
model = nn.Linear(3, 2).to(device)
x = torch.randn(4, 3).to(device)
out = model(x)
print(out.device, out.shape)
print(next(model.parameters()).device)
print(out.cpu().detach().numpy().round(4).tolist())
