#!/usr/bin/python3
"""Reference outputs of CMG's CIFAR-10 conditional VAE for tests/methods/cmg/cvae_test.ts.

Re-declares `ConditionalVAE(image_channels=3, image_size=32, dataset='cifar10')` (shaoyijia/CMG@265cc2c,
`models/vae.py` l. 9-67; `ResNet18`, `BasicBlock`, `ResBlock`, `DeconvResnet` of `models/conv/nets.py`
l. 47-162) with every channel count scaled by WIDTH (1 = the reference), fills every parameter and BatchNorm
buffer with a closed-form value the TypeScript test recomputes,

    value[i] = base + scale * sin(offset + 0.37 * i)      (i = index in PyTorch's flattened layout, float64 -> float32)

and records, for two closed-form images and latents:
- eval mode (`vae.eval()`, BN running statistics): mu and logvar of `encode(x)`, and `decode(z, class_embed(onehot))`;
- train mode (batch statistics): mu of `encode(x)` and the same decode (running statistics are not compared:
  PyTorch updates running_var with the unbiased batch variance, TF.js with the biased one).

Images x[n, c, h, w] = 0.5 + 0.5 * sin(0.3 + 0.11 * i) over the NCHW flattened index i; z[n, j] = sin(0.23 * i + 1)
over the [N, zDim] index; labels [1, 7]. All arrays are stored flattened in PyTorch's layout (NCHW for images).
It also checks, and records, that PyTorch's `ResBlock` computes relu(x) + block(x) (its first ReLU is in place).

usage: /usr/bin/python3 tests/methods/cmg/testdata/make_cifar_cvae_fixture.py   (writes cifar_cvae_fixture.json)
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

WIDTH = 0.0625
Z_DIM = 8
CLASS_NUM = 10
LABELS = [1, 7]


def scaled(c, width):
    return max(1, round(c * width))


# ---- models/conv/nets.py, channel counts scaled --------------------------------------------------------------
class ResBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.block = nn.Sequential(
            nn.ReLU(True),
            nn.Conv2d(dim, dim, 3, 1, 1),
            nn.BatchNorm2d(dim),
            nn.ReLU(True),
            nn.Conv2d(dim, dim, 1),
            nn.BatchNorm2d(dim)
        )

    def forward(self, x):
        return x + self.block(x)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != self.expansion * planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, self.expansion * planes, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(self.expansion * planes)
            )

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        out = F.relu(out)
        return out


class ResNet(nn.Module):
    def __init__(self, block, num_blocks, width, channel_num=3):
        super().__init__()
        c = [scaled(k, width) for k in (64, 128, 256, 512)]
        self.in_planes = c[0]
        self.conv1 = nn.Conv2d(channel_num, c[0], kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c[0])
        self.layer1 = self._make_layer(block, c[0], num_blocks[0], stride=1)
        self.layer2 = self._make_layer(block, c[1], num_blocks[1], stride=2)
        self.layer3 = self._make_layer(block, c[2], num_blocks[2], stride=2)
        self.layer4 = self._make_layer(block, c[3], num_blocks[3], stride=2)
        self.out_channels = c[3]
        self.out_feature_dim = c[3] * block.expansion

    def _make_layer(self, block, planes, num_blocks, stride):
        strides = [stride] + [1] * (num_blocks - 1)
        layers = []
        for stride in strides:
            layers.append(block(self.in_planes, planes, stride))
            self.in_planes = planes * block.expansion
        return nn.Sequential(*layers)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer1(out)
        out = self.layer2(out)
        out = self.layer3(out)
        out = self.layer4(out)
        out = F.avg_pool2d(out, 4)
        return out


class DeconvResnet(nn.Module):
    def __init__(self, channel_num, dim=512):
        super().__init__()
        self.image_channels = channel_num
        self.in_channel = dim
        self.in_size = 4
        self.in_feature_dim = dim * 4 * 4
        self.decoder = nn.Sequential(
            ResBlock(dim),
            ResBlock(dim),
            nn.ReLU(True),
            nn.ConvTranspose2d(dim, dim, 4, 2, 1),
            nn.BatchNorm2d(dim),
            nn.ReLU(True),
            nn.ConvTranspose2d(dim, dim, 4, 2, 1),
            nn.BatchNorm2d(dim),
            nn.ReLU(True),
            nn.ConvTranspose2d(dim, channel_num, 4, 2, 1)
        )

    def forward(self, x):
        return torch.sigmoid(self.decoder(x))


# ---- models/vae.py (cifar10 branch), hidden 1024 scaled --------------------------------------------------------
class ConditionalVAE(nn.Module):
    def __init__(self, width=1.0, z_dim=32, image_channels=3, image_size=32, class_num=10):
        super().__init__()
        self.class_num = class_num
        self.image_size = image_size
        self.image_channels = image_channels
        hidden = scaled(1024, width)
        self.convE = ResNet(BasicBlock, [2, 2, 2, 2], width)
        self.convD = DeconvResnet(image_channels, dim=scaled(512, width))
        self.fcE = nn.Linear(self.convE.out_feature_dim, hidden)
        self.z_dim = z_dim
        self.fcE_mean = nn.Linear(hidden, z_dim)
        self.fcE_logvar = nn.Linear(hidden, z_dim)
        self.fromZ = nn.Linear(2 * z_dim, hidden)
        self.fcD = nn.Linear(hidden, self.convD.in_feature_dim)
        self.class_embed = nn.Linear(class_num, z_dim)

    def encode(self, x):
        feature = self.convE(x).contiguous().view(x.size(0), -1)
        hE = F.relu(self.fcE(feature))
        return self.fcE_mean(hE), self.fcE_logvar(hE)

    def decode(self, z, y_embed):
        z = torch.cat([z, y_embed], dim=1)
        hD = F.relu(self.fromZ(z))
        feature = self.fcD(hD)
        return self.convD(feature.view(-1, self.convD.in_channel, self.convD.in_size, self.convD.in_size))


def closed_form(n, base, scale, offset):
    return (base + scale * np.sin(offset + 0.37 * np.arange(n, dtype=np.float64))).astype(np.float32)


def fill(vae):
    """Sets every parameter and BN buffer to the closed form; returns the specs the TypeScript test replays."""
    specs = []
    state = vae.state_dict()
    for k, (name, t) in enumerate(state.items()):
        if name.endswith("num_batches_tracked"):
            continue
        offset = 0.1 + 0.7 * k
        leaf = name.rsplit(".", 1)[1]
        module = vae.get_submodule(name.rsplit(".", 1)[0])
        if isinstance(module, nn.BatchNorm2d):
            base, scale = {"weight": (1.0, 0.2), "bias": (0.0, 0.1), "running_mean": (0.0, 0.1),
                           "running_var": (1.0, 0.5)}[leaf]
        else:
            if isinstance(module, nn.ConvTranspose2d):
                fan_in = module.weight.shape[1] * module.weight[0, 0].numel()  # torch's fan_in (weight.size(1)·k²)
            else:
                fan_in = module.weight[0].numel()
            base, scale = 0.0, 1.0 / math.sqrt(fan_in)
            if name == "convD.decoder.9.weight":
                scale *= 20  # spreads the eval-mode sigmoid outputs (about 0.53-0.55 otherwise) so the test sees them
        t.copy_(torch.from_numpy(closed_form(t.numel(), base, scale, offset)).view_as(t))
        specs.append({"name": name, "shape": list(t.shape), "base": base, "scale": scale, "offset": offset})
    return specs


def check_resblock_quirk():
    """PyTorch's ResBlock returns relu(x) + block(x), not x + block(x): its first ReLU(inplace=True) mutates x."""
    torch.manual_seed(0)
    rb = ResBlock(4).eval()
    x = torch.randn(2, 4, 3, 3)
    out = rb(x.clone())
    rest = nn.Sequential(*list(rb.block)[1:])
    relu_plus = F.relu(x) + rest(F.relu(x))
    plain = x + rest(F.relu(x))
    return {"maxAbsDiffReluPlusBlock": float((out - relu_plus).abs().max()),
            "maxAbsDiffXPlusBlock": float((out - plain).abs().max())}


def flat(t):
    return [round(float(v), 7) for v in t.detach().reshape(-1)]


@torch.no_grad()
def main():
    quirk = check_resblock_quirk()
    assert quirk["maxAbsDiffReluPlusBlock"] < 1e-6 < quirk["maxAbsDiffXPlusBlock"], quirk
    full = ConditionalVAE(1.0, 32)
    trainable = sum(p.numel() for p in full.parameters())
    bn_buffers = sum(b.numel() for n, b in full.named_buffers() if not n.endswith("num_batches_tracked"))

    vae = ConditionalVAE(WIDTH, Z_DIM, class_num=CLASS_NUM)
    specs = fill(vae)
    n = 2
    x = torch.from_numpy((0.5 + 0.5 * np.sin(0.3 + 0.11 * np.arange(n * 3 * 32 * 32))).astype(np.float32))
    x = x.view(n, 3, 32, 32)
    z = torch.from_numpy(np.sin(1 + 0.23 * np.arange(n * Z_DIM)).astype(np.float32)).view(n, Z_DIM)
    onehot = F.one_hot(torch.tensor(LABELS), CLASS_NUM).float()

    vae.eval()
    mu, logvar = vae.encode(x)
    x_hat = vae.decode(z, vae.class_embed(onehot))
    out = {"eval": {"mu": flat(mu), "logVar": flat(logvar), "xHat": flat(x_hat)}}
    vae.train()
    mu_t, _ = vae.encode(x)
    x_hat_t = vae.decode(z, vae.class_embed(onehot))
    out["train"] = {"mu": flat(mu_t), "xHat": flat(x_hat_t)}

    fixture = {
        "about": "written by make_cifar_cvae_fixture.py; see its docstring",
        "torch": torch.__version__,
        "width": WIDTH, "zDim": Z_DIM, "numClasses": CLASS_NUM, "labels": LABELS, "n": n,
        "width1": {"trainableParams": trainable, "bnBuffers": bn_buffers},
        "resBlockQuirk": quirk,
        "tensors": specs,
        **out,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cifar_cvae_fixture.json")
    with open(path, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path}: torch {torch.__version__}, width-1 trainable params {trainable}, BN buffers {bn_buffers}, "
          f"quirk {quirk}, |xHat| range {float(x_hat.min()):.4f}..{float(x_hat.max()):.4f}, mu {flat(mu)[:4]}")


if __name__ == "__main__":
    main()
