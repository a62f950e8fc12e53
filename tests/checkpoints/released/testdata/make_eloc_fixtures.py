#!/usr/bin/python3
"""Fixture checkpoints of ELOC's released weights, made the way YU1ut/Ensemble-of-Leave-out-Classifiers saves them.

What the re-implementation does (read at d80b29c):
- models/densenet.py, models/wideresnet.py: the networks and their module names (conv1, blockN.layer.i.{bn1, conv1,
  bn2, conv2[, convShortcut]}, transN.{bn1, conv1}, bn1, fc), with 4/5 of the classes as outputs (train.py:59-61).
- eloc_solver.py:193-205: every epoch `torch.save({'epoch', 'state_dict': model.state_dict(), 'best_prec1', 'opt':
  optimizer.state_dict()}, '<checkpoint>/checkpoint.pth.tar')`, copied to `model_best.pth.tar` when the validation
  AUROC improves; `best_prec1` is that AUROC, a NumPy float64 (np.sum(...) / np.float(...), lines 181-191). The model
  is a bare module on the GPU (`.cuda()`, no DataParallel), so keys have no `module.` prefix and storages are CUDA.
- cal.py:49-56: test time loads `./checkpoints/{cifar10|cifar100}_fold_{k}_{dense|wide}_checkpoint/model_best.pth.tar`
  and `ck['state_dict']`; train_all.py names the 20 folders the same way.
- The README has linked the checkpoints since the first commit (2019-04-07), which asks for PyTorch 0.4.1: so, inferred,
  the legacy (non-zip) `torch.save` format. Saved on a GPU, their storages are `torch.cuda.FloatStorage` at location `cuda:0`;
  this script writes the same persistent ids from CPU tensors (CPU torch cannot make CUDA tensors).

The networks below are this project's own narrow copies with the same module names and registration order: DenseNet-BC
depth 10, growth 4 (the released: depth 100, growth 12; the authors hard-wire `Linear(342, ·)`, the final width at
depth 100, here the final width of the narrow net) and WRN-16 with widening 1/8 (the released: WRN-28-10, dropout 0.3,
inactive in eval mode). Weights and BatchNorm statistics are random.

Writes tests/checkpoints/released/testdata/eloc/: five DenseNet fold checkpoints and one WRN fold checkpoint at the
archive paths, and eloc_outputs.json (8-bit input images NHWC as base64, normalised with ODIN's CIFAR mean/std; per network the eval-mode logits; for the DenseNet
ensemble the ELOC member and ensemble scores with the CE perturbation of calData.py at T = 1000, eps = 0.002).
usage: /usr/bin/python3 tests/checkpoints/released/testdata/make_eloc_fixtures.py
"""
import base64
import json
import math
import os
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.serialization

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "eloc")
MEAN = [125.3 / 255, 123.0 / 255, 113.9 / 255]
STD = [63.0 / 255, 62.1 / 255, 66.7 / 255]
T, EPS = 1000.0, 0.002


# --- DenseNet-BC (ODIN's DenseNet3 layout) --------------------------------------------------------------------

class DenseLayer(nn.Module):
    """Bottleneck layer: BN-ReLU-conv1x1(4k)-BN-ReLU-conv3x3(k), output concatenated to the input."""

    def __init__(self, cin, k):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.relu = nn.ReLU()
        self.conv1 = nn.Conv2d(cin, 4 * k, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(4 * k)
        self.conv2 = nn.Conv2d(4 * k, k, 3, padding=1, bias=False)

    def forward(self, x):
        y = self.conv2(F.relu(self.bn2(self.conv1(F.relu(self.bn1(x))))))
        return torch.cat([x, y], 1)


class Transition(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.relu = nn.ReLU()
        self.conv1 = nn.Conv2d(cin, cout, 1, bias=False)

    def forward(self, x):
        return F.avg_pool2d(self.conv1(F.relu(self.bn1(x))), 2)


class DenseStage(nn.Module):
    """Holds its layers as `layer` (an nn.Sequential), as the authors' DenseBlock does."""

    def __init__(self, n, cin, k):
        super().__init__()
        self.layer = nn.Sequential(*[DenseLayer(cin + i * k, k) for i in range(n)])

    def forward(self, x):
        return self.layer(x)


class DenseNet(nn.Module):
    def __init__(self, num_classes, depth=100, growth_rate=12, reduction=0.5):
        super().__init__()
        n = (depth - 4) // 6
        c = 2 * growth_rate
        self.conv1 = nn.Conv2d(3, c, 3, padding=1, bias=False)
        self.block1 = DenseStage(n, c, growth_rate)
        c += n * growth_rate
        self.trans1 = Transition(c, int(math.floor(c * reduction)))
        c = int(math.floor(c * reduction))
        self.block2 = DenseStage(n, c, growth_rate)
        c += n * growth_rate
        self.trans2 = Transition(c, int(math.floor(c * reduction)))
        c = int(math.floor(c * reduction))
        self.block3 = DenseStage(n, c, growth_rate)
        c += n * growth_rate
        self.bn1 = nn.BatchNorm2d(c)
        self.relu = nn.ReLU()
        self.in_planes = c
        self.fc = nn.Linear(c, num_classes)  # 342 = c at depth 100, growth 12

    def forward(self, x):
        out = self.trans2(self.block2(self.trans1(self.block1(self.conv1(x)))))
        out = F.relu(self.bn1(self.block3(out)))
        return self.fc(F.avg_pool2d(out, 8).view(-1, self.in_planes))


# --- WideResNet (pre-activation port) -------------------------------------------------------------------------

class WideLayer(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.relu1 = nn.ReLU()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu2 = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.equalInOut = cin == cout
        # Registered only when the width changes, last in the block (the authors' `... and nn.Conv2d(...) or None`).
        self.convShortcut = None if self.equalInOut else nn.Conv2d(cin, cout, 1, stride, 0, bias=False)

    def forward(self, x):
        pre = F.relu(self.bn1(x))
        y = self.conv2(F.relu(self.bn2(self.conv1(pre))))
        return (x if self.equalInOut else self.convShortcut(pre)) + y


class WideStage(nn.Module):
    def __init__(self, n, cin, cout, stride):
        super().__init__()
        self.layer = nn.Sequential(*[WideLayer(cin if i == 0 else cout, cout, stride if i == 0 else 1) for i in range(n)])

    def forward(self, x):
        return self.layer(x)


class WideResNet(nn.Module):
    def __init__(self, num_classes, depth=28, widen_factor=10):
        super().__init__()
        ch = [16, int(16 * widen_factor), int(32 * widen_factor), int(64 * widen_factor)]
        n = (depth - 4) // 6
        self.conv1 = nn.Conv2d(3, ch[0], 3, 1, 1, bias=False)
        self.block1 = WideStage(n, ch[0], ch[1], 1)
        self.block2 = WideStage(n, ch[1], ch[2], 2)
        self.block3 = WideStage(n, ch[2], ch[3], 2)
        self.bn1 = nn.BatchNorm2d(ch[3])
        self.relu = nn.ReLU()
        self.nChannels = ch[3]
        self.fc = nn.Linear(ch[3], num_classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.block3(self.block2(self.block1(self.conv1(x))))))
        return self.fc(F.avg_pool2d(out, 8).view(-1, self.nChannels))


# --- weights, saving ------------------------------------------------------------------------------------------

def randomize(net, gen):
    """Random weights (activations stay O(1)), random BatchNorm statistics, a few tracked batches."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            m.weight.data = torch.randn(m.weight.shape, generator=gen) * (1.5 / m.weight[0].numel()) ** 0.5
            if m.bias is not None:
                m.bias.data = torch.randn(m.bias.shape, generator=gen) * 0.5
        elif isinstance(m, nn.BatchNorm2d):
            m.running_mean.data = torch.randn(m.running_mean.shape, generator=gen) * 0.2
            m.running_var.data = torch.rand(m.running_var.shape, generator=gen) + 0.5
            m.weight.data = torch.rand(m.weight.shape, generator=gen) + 0.5
            m.bias.data = torch.randn(m.bias.shape, generator=gen) * 0.2
            m.num_batches_tracked.fill_(40000)


def save_like_authors(net, path, epoch, gen):
    """eloc_solver.py's dict, in the legacy format, with the CUDA storage types and location of a GPU run."""
    opt = torch.optim.SGD(net.parameters(), 0.001, momentum=0.9, weight_decay=5e-4)
    for p in net.parameters():  # one momentum buffer per parameter, as after training
        opt.state[p]["momentum_buffer"] = torch.randn(p.shape, generator=gen) * 1e-3
    state = {
        "epoch": epoch,
        "state_dict": net.state_dict(),
        "best_prec1": np.float64(0.95 + 0.01 * torch.rand(1, generator=gen).item()),
        "opt": opt.state_dict(),
    }
    os.makedirs(os.path.dirname(path), exist_ok=True)
    saved = {name: getattr(torch, name) for name in ("FloatStorage", "LongStorage")}
    tag = torch.serialization.location_tag
    try:
        for name in saved:
            setattr(torch, name, getattr(torch.cuda, name))
        torch.serialization.location_tag = lambda storage: "cuda:0"
        torch.save(state, path, _use_new_zipfile_serialization=False)
    finally:
        for name, cls in saved.items():
            setattr(torch, name, cls)
        torch.serialization.location_tag = tag
    with open(path, "rb") as f:
        data = f.read()
    assert b"torch.cuda" in data and b"cuda:0" in data and not data.startswith(b"PK"), path


# --- ELOC's test-time score (calData.py + calMetric.py) --------------------------------------------------------

def eloc_member_score(net, x, classes, num_classes):
    """CE perturbation at T, softmax at T scattered into C classes, max p - H(p) over the non-zero entries."""
    x = x.clone().requires_grad_(True)
    logits = net(x)
    loss = F.cross_entropy(logits / T, logits.argmax(1))
    loss.backward()
    g = (x.grad >= 0).float() * 2 - 1
    g = g / torch.tensor(STD).view(1, 3, 1, 1)
    with torch.no_grad():
        p = F.softmax(net(x.detach() - EPS * g) / T, 1).double()
    full = torch.zeros(p.shape[0], num_classes, dtype=torch.float64)
    full[:, classes] = p
    h = torch.stack([-(r[r > 0] * torch.log(r[r > 0])).sum() for r in full])
    return (full.max(1).values - h).tolist()


def eloc_classes(fold, num_classes):
    """The fold's ID classes in permutation order (train.py split_dataset)."""
    np.random.seed(3)
    p = np.random.permutation(num_classes).tolist()
    s = num_classes // 5
    out = p[(fold - 1) * s:fold * s]
    return [c for c in p if c not in out]


def main():
    torch.set_grad_enabled(True)
    gen = torch.Generator().manual_seed(17)
    # 8-bit images (stored NHWC as bytes), normalised as cal.py's transform does.
    pixels = torch.randint(0, 256, (3, 3, 32, 32), generator=gen)
    x = (pixels.float() / 255 - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)
    nhwc = bytes(pixels.permute(0, 2, 3, 1).reshape(-1).to(torch.uint8).tolist())
    out = {"pixels": {"shape": [3, 32, 32, 3], "base64": base64.b64encode(nhwc).decode("ascii")},
           "temperature": T, "epsilon": EPS, "dense": {"folds": []}}
    nets = []
    for fold in range(1, 6):
        net = DenseNet(8, depth=10, growth_rate=4)
        randomize(net, gen)
        net.eval()
        path = os.path.join(OUT, f"cifar10_fold_{fold}_dense_checkpoint", "model_best.pth.tar")
        save_like_authors(net, path, 60 + fold, gen)
        with torch.no_grad():
            logits = net(x)
        classes = eloc_classes(fold, 10)
        out["dense"]["folds"].append({"fold": fold, "classes": classes, "logits": logits.reshape(-1).tolist(),
                                      "score": eloc_member_score(net, x, classes, 10)})
        nets.append(net)
    out["dense"]["ensemble"] = [sum(f["score"][i] for f in out["dense"]["folds"]) for i in range(3)]
    out["dense"]["options"] = {"depth": 10, "growthRate": 4, "numClasses": 8}

    wide = WideResNet(8, depth=16, widen_factor=0.125)
    randomize(wide, gen)
    wide.eval()
    save_like_authors(wide, os.path.join(OUT, "cifar10_fold_1_wide_checkpoint", "model_best.pth.tar"), 88, gen)
    with torch.no_grad():
        out["wide"] = {"options": {"depth": 16, "widenFactor": 0.125, "numClasses": 8},
                       "logits": wide(x).reshape(-1).tolist()}
    with open(os.path.join(OUT, "eloc_outputs.json"), "w") as f:
        json.dump(out, f)
        f.write("\n")


if __name__ == "__main__":
    main()
