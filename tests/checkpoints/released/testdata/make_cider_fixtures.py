#!/usr/bin/python3
"""Fixture checkpoints for tests/checkpoints/released/cider_test.ts, made the way CIDER's code makes its files.

What the authors' code does (deeplearning-wisc/cider at dce8ad3, read in the mirror):
- models/resnet.py: `SupCEHeadResNet` registers `encoder` (the CIFAR `ResNet`: conv1, bn1, layer1..layer4 of
  `BasicBlock`s with conv1, bn1, conv2, bn2 and a `shortcut` Sequential (1x1 conv, BN) where the shape changes),
  then `fc` (Linear(512, n_cls), never trained), then `head` (Sequential(Linear, ReLU, Linear) for `--head mlp`).
- utils/util.py `set_model`: `model.cuda()`, no DataParallel, so the keys carry no `module.` prefix.
- train_cider.py `save_checkpoint`: `torch.save({'epoch', 'state_dict': model.state_dict(), 'opt_state_dict',
  'dis_state_dict', 'uni_state_dict'}, 'checkpoint_<epoch>.pth.tar')`. `DisLoss` keeps the model as a submodule,
  so its state dict holds `prototypes` and a second copy of every model key under `model.` (the same storages).
- eval_ood.py: `torch.load(ckpt)['state_dict']`, strict `load_state_dict`, `net.eval()`; KNN uses
  `intermediate_forward` = F.normalize(encoder(x).squeeze(), dim=1).

torchvision is not installed here and is not needed: the classes below are written for this file and only
reproduce the module names and registration order of the authors' networks, at a narrow width (stage widths
64·w … 512·w, rounded as `lib/backbones` rounds them) and with a narrow head. Weights and BatchNorm statistics
are random; one SGD step (momentum 0.9, Nesterov, weight decay 1e-4, as train_cider.py) fills the optimizer's
momentum buffers so `opt_state_dict` has the structure of a real checkpoint. torch 1.13 writes the zip format,
as the authors' torch (≥ 1.6) did.

Writes cider_c10_resnet18.pth.tar, cider_c100_resnet34.pth.tar and cider_outputs.json (per file: the TF.js
options, NHWC inputs, and PyTorch's eval-mode outputs: fc logits, penultimate h, normalised h, head embedding z).
usage: /usr/bin/python3 tests/checkpoints/released/testdata/make_cider_fixtures.py
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


def scaled(c, width):
    return max(1, int(c * width + 0.5))  # Math.round for positive values, as lib/backbones/_blocks.ts


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + self.shortcut(x))


class Encoder(nn.Module):
    def __init__(self, blocks, width):
        super().__init__()
        widths = [scaled(c, width) for c in (64, 128, 256, 512)]
        self.conv1 = nn.Conv2d(3, widths[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        cin = widths[0]
        for s, (n, cout) in enumerate(zip(blocks, widths)):
            layer = []
            for b in range(n):
                layer.append(Block(cin, cout, 2 if (b == 0 and s > 0) else 1))
                cin = cout
            setattr(self, f"layer{s + 1}", nn.Sequential(*layer))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dim = cin

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        for s in range(1, 5):
            x = getattr(self, f"layer{s}")(x)
        return torch.flatten(self.avgpool(x), 1)


class HeadNet(nn.Module):
    """encoder, fc, head: the attribute names and order of SupCEHeadResNet with an MLP head."""

    def __init__(self, blocks, width, n_cls, feat_dim):
        super().__init__()
        self.encoder = Encoder(blocks, width)
        d = self.encoder.dim
        self.fc = nn.Linear(d, n_cls)
        self.head = nn.Sequential(nn.Linear(d, d), nn.ReLU(inplace=True), nn.Linear(d, feat_dim))

    def forward(self, x):
        return F.normalize(self.head(self.encoder(x)), dim=1)


class Dispersion(nn.Module):
    """Stands in for DisLoss's state: a `prototypes` buffer, then the model as the submodule `model`."""

    def __init__(self, model, n_cls, feat_dim, gen):
        super().__init__()
        self.register_buffer("prototypes", F.normalize(torch.randn(n_cls, feat_dim, generator=gen), dim=1))
        self.model = model


class Compactness(nn.Module):
    """Stands in for CompLoss: no parameters, an empty state dict."""


def randomize(net, gen):
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            m.weight.data = torch.randn(m.weight.shape, generator=gen) * (1.5 / m.weight[0].numel()) ** 0.5
            if m.bias is not None:
                m.bias.data = torch.randn(m.bias.shape, generator=gen) * 0.1
        elif isinstance(m, nn.BatchNorm2d):
            m.running_mean.data = torch.randn(m.running_mean.shape, generator=gen) * 0.2
            m.running_var.data = torch.rand(m.running_var.shape, generator=gen) + 0.5
            m.weight.data = torch.rand(m.weight.shape, generator=gen) + 0.5
            m.bias.data = torch.randn(m.bias.shape, generator=gen) * 0.2
            m.num_batches_tracked.fill_(9775)  # 500 epochs × 98 steps − warm-up bookkeeping: any int64


def values(t):
    return [float(f"{v:.9g}") for v in t.detach().reshape(-1).tolist()]


CASES = [
    # file, backbone, blocks, classes, README folder, optimizer step taken (momentum buffers in opt_state_dict;
    # left out of the ResNet-34 file only to keep the testdata small)
    ("cider_c10_resnet18.pth.tar", "resnet18", [2, 2, 2, 2], 10, "ckpt_c10", True),
    ("cider_c100_resnet34.pth.tar", "resnet34", [3, 4, 6, 3], 100, "ckpt_c100", False),
]
WIDTH, FEAT_DIM, SIZE, N = 1 / 64, 8, 8, 2


def main():
    gen = torch.Generator().manual_seed(17)
    index = {"width": WIDTH, "featDim": FEAT_DIM, "cases": {}}
    for file, backbone, blocks, n_cls, folder, step in CASES:
        torch.manual_seed(17)
        model = HeadNet(blocks, WIDTH, n_cls, FEAT_DIM)
        opt = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9, nesterov=True, weight_decay=1e-4)
        model.train()
        loss = model(torch.randn(4, 3, SIZE, SIZE, generator=gen)).sum() + model.fc(
            model.encoder(torch.randn(4, 3, SIZE, SIZE, generator=gen))).sum()
        opt.zero_grad()
        loss.backward()
        if step:
            opt.step()
        randomize(model, gen)
        dis, comp = Dispersion(model, n_cls, FEAT_DIM, gen), Compactness()
        torch.save({
            "epoch": 500,
            "state_dict": model.state_dict(),
            "opt_state_dict": opt.state_dict(),
            "dis_state_dict": dis.state_dict(),
            "uni_state_dict": comp.state_dict(),
        }, os.path.join(HERE, file))
        model.eval()
        x = torch.randint(-128, 128, (N, 3, SIZE, SIZE), generator=gen).float() / 64
        with torch.no_grad():
            h = model.encoder(x)
            out = {"logits": model.fc(h), "features": h, "normalized": F.normalize(h, dim=1), "embedding": model(x)}
        index["cases"][file] = {
            "backbone": backbone,
            "blocks": blocks,
            "numClasses": n_cls,
            "readmeFolder": folder,
            "inputShape": [N, SIZE, SIZE, 3],
            "input": values(x.permute(0, 2, 3, 1)),
            **{k: {"shape": list(v.shape), "values": values(v)} for k, v in out.items()},
        }
    with open(os.path.join(HERE, "cider_outputs.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
