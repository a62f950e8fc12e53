#!/usr/bin/python3
"""Reference outputs for tests/backbones/torch_equivalence_test.ts.

Builds narrow copies of the reference networks of param_counts.py (same code, fewer channels), gives them
random weights and random BatchNorm statistics, and records, in eval mode, for two random images: the logits,
the penultimate features and the stage outputs. The weights are written in TF.js layout, in the order TF.js
creates the layers (per layer kind, the same order as PyTorch registers the modules):
conv kernels [O, I, kh, kw] -> [kh, kw, I, O]; Linear weights [out, in] -> [in, out], with the input index of
a Linear that follows a flatten permuted from PyTorch's (C, H, W) order to TF.js's (H, W, C); BatchNorm
[gamma, beta, running_mean, running_var] (or the last two without affine). Images are stored NHWC.

Writes torch_outputs.json (index: shapes and offsets) and torch_outputs.bin (float32 little-endian).
usage: /usr/bin/python3 tests/backbones/testdata/torch_outputs.py
"""
import json
import os

import numpy as np
import torch
import torch.nn as nn

from param_counts import (MNIST_NETS, CifarResNet, CifarVgg, CmgConvEncoder, DenseNet3, LeNet5, VmdlsMnistConv, VmdlsVggm,
                          WideResNet)

C = 3  # classes
CASES = [
    # key, backbone, TF.js options, narrow reference network, input size
    ("lenet5", "lenet5", {"width": 0.25}, lambda: LeNet5(C, c=(2, 4, 30, 21)), 28),
    ("mnist_conv", "mnist_conv", {"width": 0.08}, lambda: VmdlsMnistConv(C, c=8, d=40), 28),
    ("cmg_cnn", "cmg_cnn", {"width": 0.0625, "headHidden": [8]},
     lambda: CmgConvEncoder(C, c=(4, 4, 8, 8, 8, 8, 8, 8, 8), hidden=8), 28),
    ("resnet20", "resnet20", {"width": 0.125, "inputShape": [16, 16, 3]}, lambda: CifarResNet([2, 4, 8], [3, 3, 3], C, "B"), 16),
    ("resnet20:padding", "resnet20", {"width": 0.125, "shortcut": "padding", "inputShape": [16, 16, 3]},
     lambda: CifarResNet([2, 4, 8], [3, 3, 3], C, "A"), 16),
    ("resnet18", "resnet18", {"width": 0.03125, "inputShape": [16, 16, 3]},
     lambda: CifarResNet([2, 4, 8, 16], [2, 2, 2, 2], C), 16),
    ("densenet_bc_100", "densenet_bc_100", {"width": 1 / 12, "inputShape": [16, 16, 3]},
     lambda: DenseNet3(100, C, growth=1), 16),
    ("densenet_bc_100:nonaffine", "densenet_bc_100",
     {"width": 1 / 6, "depth": 40, "affineBatchNorm": False, "dropRate": 0.3, "inputShape": [16, 16, 3]},
     lambda: DenseNet3(40, C, growth=2, affine=False), 16),
    ("wrn_40_2", "wrn_40_2", {"width": 0.125, "depth": 16, "inputShape": [16, 16, 3]},
     lambda: WideResNet(16, C, 2, ch=[2, 4, 8, 16]), 16),
    ("vgg16_bn", "vgg16_bn", {"width": 0.03125},
     lambda: CifarVgg([2, 2, "M", 4, 4, "M", 8, 8, 8, "M", 16, 16, 16, "M", 16, 16, 16, "M"], C), 32),
    ("vmdls_vgg", "vmdls_vgg", {"width": 0.03125}, lambda: VmdlsVggm(C, c=(2, 4, 8), f=32), 32),
]


def randomize(net, gen):
    """Random weights (scaled so activations stay O(1)) and random BatchNorm statistics."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            fan_in = m.weight[0].numel()
            m.weight.data = torch.randn(m.weight.shape, generator=gen) * (1.5 / fan_in) ** 0.5
            if m.bias is not None:
                m.bias.data = torch.randn(m.bias.shape, generator=gen) * 0.1
        elif isinstance(m, nn.BatchNorm2d):
            m.running_mean.data = torch.randn(m.running_mean.shape, generator=gen) * 0.2
            m.running_var.data = torch.rand(m.running_var.shape, generator=gen) + 0.5
            if m.affine:
                m.weight.data = torch.rand(m.weight.shape, generator=gen) + 0.5
                m.bias.data = torch.randn(m.bias.shape, generator=gen) * 0.2


def tf_weights(net):
    """Weights per layer kind in TF.js layout: {"conv": [[...]], "bn": [[...]], "dense": [[...]]}."""
    out = {"conv": [], "bn": [], "dense": []}
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            ws = [m.weight.detach().permute(2, 3, 1, 0)]
            out["conv"].append(ws + ([m.bias.detach()] if m.bias is not None else []))
        elif isinstance(m, nn.BatchNorm2d):
            stats = [m.running_mean, m.running_var]
            out["bn"].append(([m.weight.detach(), m.bias.detach()] if m.affine else []) + stats)
        elif isinstance(m, nn.Linear):
            w = m.weight.detach()
            chw = getattr(m, "flatten_chw", None)
            if chw is not None:
                c, h, w_ = chw
                w = w.reshape(w.shape[0], c, h, w_).permute(0, 2, 3, 1).reshape(w.shape[0], -1)
            out["dense"].append([w.t(), m.bias.detach()])
    return out


class Blob:
    def __init__(self):
        self.parts, self.offset = [], 0

    def add(self, t):
        a = np.ascontiguousarray(t.detach().cpu().numpy(), dtype="<f4")
        entry = {"offset": self.offset, "shape": list(a.shape)}
        self.parts.append(a.tobytes())
        self.offset += a.nbytes
        return entry


def main():
    gen = torch.Generator().manual_seed(0)
    blob, index = Blob(), {}
    for key, backbone, options, make, size in CASES:
        net = make()
        randomize(net, gen)
        net.eval()
        channels = 1 if backbone in MNIST_NETS else 3
        x = torch.rand(2, channels, size, size, generator=gen) * 2 - 1
        with torch.no_grad():
            logits, features = net(x), net.features(x)
            if hasattr(net, "features_chw"):  # a flattened map: TF.js's order is (H, W, C)
                features = features.reshape(2, *net.features_chw).permute(0, 2, 3, 1).reshape(2, -1)
            stages = net.stages(x) if hasattr(net, "stages") else None
        index[key] = {
            "backbone": backbone,
            "options": {"numClasses": C, **options},
            "input": blob.add(x.permute(0, 2, 3, 1)),
            "logits": blob.add(logits),
            "features": blob.add(features),
            "featureList": [blob.add(s) for s in stages] if stages is not None else None,
            "weights": {kind: [[blob.add(t) for t in layer] for layer in layers] for kind, layers in tf_weights(net).items()},
        }
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "torch_outputs.bin"), "wb") as f:
        f.write(b"".join(blob.parts))
    with open(os.path.join(here, "torch_outputs.json"), "w") as f:
        json.dump({"generator": "tests/backbones/testdata/torch_outputs.py", "torch": torch.__version__, "cases": index}, f)
        f.write("\n")
    print(f"{len(index)} cases, {blob.offset / 1024:.0f} KiB of float32")


if __name__ == "__main__":
    main()
