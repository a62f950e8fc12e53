"""Fixture checkpoints of Unleashing Mask's released DenseNets, made the way the authors' code makes them.

Run with Debian's PyTorch (no other packages):  /usr/bin/python3 make_unleashing_mask_fixtures.py
Writes, next to this script:
  um_densenet_c10.state         narrow DenseNet3 (depth 10, growth 4, 10 classes), saved like main.py at
                                ZFancy/Unleashing-Mask@1640ce6: torch.save of {epoch, arch, state_dict, best_acc1, ...,
                                optimizer, curr_acc1, curr_acc5} with the model wrapped in DataParallel (keys "module.");
                                zip format (the code needs torch >= 1.7: torch.quantile).
  um_densenet_c100_legacy.state the same layout (depth 16, growth 3, 7 classes) in the legacy (pre-1.6) format,
                                as requirements.txt's torch==1.3.0 would write it.
  um_densenet_subnet.state      depth 10, growth 4, 10 classes with SubnetConv/SubnetLinear layers (a UMAP or
                                estimate_loss run): every conv and the head carry a `scores` tensor.
  um_fixtures.json              architecture of each file, and PyTorch's eval-mode outputs on the inputs below
                                (logits; pooled penultimate features; the feature_list maps averaged over space).
  um_inputs.bin                 float32 little-endian inputs, N x 3 x 32 x 32, pixels in [0, 1] (the authors'
                                normalisation runs inside forward()).

The network is written here from the module structure of models/densenet.py (DenseNet3, BottleneckBlock,
BasicBlock, TransitionBlock, DenseBlock), utils/builder.py (bias-free convs; the 1x1 conv's padding is dropped),
utils/bn_type.py (NonAffineBatchNorm) and utils/conv_type.py / utils/linear_type.py (the `scores` parameter), so the
state_dict keys are the authors'. Weights and BN statistics are random; the subnet masks are not applied here
(a dense model loading such a file ignores `scores`, as utils/net_utils.py:pretrained does).
"""
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
MEAN = [x / 255.0 for x in (125.3, 123.0, 113.9)]
STD = [x / 255.0 for x in (63.0, 62.1, 66.7)]


class NonAffineBatchNorm(nn.BatchNorm2d):
    def __init__(self, dim):
        super().__init__(dim, affine=False)


class SubnetConv(nn.Conv2d):
    """Same parameters as the authors' SubnetConv: weight plus `scores` (the mask is not applied here)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.scores = nn.Parameter(torch.randn(self.weight.size()))


class SubnetLinear(nn.Linear):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.scores = nn.Parameter(torch.randn(self.weight.size()))


class Kinds:
    def __init__(self, subnet):
        self.conv_cls = SubnetConv if subnet else nn.Conv2d
        self.linear_cls = SubnetLinear if subnet else nn.Linear

    def conv(self, k, cin, cout):
        return self.conv_cls(cin, cout, kernel_size=k, stride=1, padding=1 if k == 3 else 0, bias=False)

    def bn(self, c):
        return NonAffineBatchNorm(c)

    def linear(self, cin, cout):
        return self.linear_cls(cin, cout)


class Bottleneck(nn.Module):
    def __init__(self, kinds, cin, growth, drop):
        super().__init__()
        self.bn1 = kinds.bn(cin)
        self.relu = nn.ReLU(inplace=True)
        self.conv1 = kinds.conv(1, cin, 4 * growth)
        self.bn2 = kinds.bn(4 * growth)
        self.conv2 = kinds.conv(3, 4 * growth, growth)
        self.drop = drop

    def forward(self, x):
        y = F.dropout(self.conv1(self.relu(self.bn1(x))), p=self.drop, training=self.training)
        y = F.dropout(self.conv2(self.relu(self.bn2(y))), p=self.drop, training=self.training)
        return torch.cat([x, y], 1)


class Basic(nn.Module):
    def __init__(self, kinds, cin, growth, drop):
        super().__init__()
        self.bn1 = kinds.bn(cin)
        self.relu = nn.ReLU(inplace=True)
        self.conv1 = kinds.conv(3, cin, growth)
        self.drop = drop

    def forward(self, x):
        y = F.dropout(self.conv1(self.relu(self.bn1(x))), p=self.drop, training=self.training)
        return torch.cat([x, y], 1)


class Transition(nn.Module):
    def __init__(self, kinds, cin, cout, drop):
        super().__init__()
        self.bn1 = kinds.bn(cin)
        self.relu = nn.ReLU(inplace=True)
        self.conv1 = kinds.conv(1, cin, cout)
        self.drop = drop

    def forward(self, x):
        y = F.dropout(self.conv1(self.relu(self.bn1(x))), p=self.drop, training=self.training)
        return F.avg_pool2d(y, 2)


class Dense(nn.Module):
    def __init__(self, kinds, n, cin, growth, block, drop):
        super().__init__()
        self.layer = nn.Sequential(*[block(kinds, cin + i * growth, growth, drop) for i in range(n)])

    def forward(self, x):
        return self.layer(x)


class DenseNet3(nn.Module):
    def __init__(self, depth, num_classes, growth, reduction=0.5, bottleneck=True, drop=0.3, subnet=False):
        super().__init__()
        kinds = Kinds(subnet)
        c = 2 * growth
        n = (depth - 4) // 3
        block = Basic
        if bottleneck:
            n //= 2
            block = Bottleneck
        self.conv1 = kinds.conv(3, 3, c)
        self.block1 = Dense(kinds, n, c, growth, block, drop)
        c += n * growth
        self.trans1 = Transition(kinds, c, int(math.floor(c * reduction)), drop)
        c = int(math.floor(c * reduction))
        self.block2 = Dense(kinds, n, c, growth, block, drop)
        c += n * growth
        self.trans2 = Transition(kinds, c, int(math.floor(c * reduction)), drop)
        c = int(math.floor(c * reduction))
        self.block3 = Dense(kinds, n, c, growth, block, drop)
        c += n * growth
        self.bn1 = kinds.bn(c)
        self.relu = nn.ReLU(inplace=True)
        self.fc = kinds.linear(c, num_classes)
        self.in_planes = c

    def normalize(self, x):
        x = x.clone()
        for i in range(3):
            x[:, i] = (x[:, i] - MEAN[i]) / STD[i]
        return x

    def outputs(self, x):
        """Logits, pooled penultimate features and the four feature_list maps (stem, trans1, trans2, final)."""
        maps = []
        out = self.conv1(self.normalize(x))
        maps.append(out)
        out = self.trans1(self.block1(out))
        maps.append(out)
        out = self.trans2(self.block2(out))
        maps.append(out)
        out = self.relu(self.bn1(self.block3(out)))
        maps.append(out)
        feats = F.avg_pool2d(out, 8).view(-1, self.in_planes)
        return self.fc(feats), feats, maps


def randomize(model, gen):
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * (0.3 if p.dim() > 1 else 0.1))
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen) * 0.2)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) * 1.5 + 0.5)
                m.num_batches_tracked.fill_(391)


def save_like_main(model, path, legacy):
    """main.py: DataParallel model, SGD with (bn, rest) groups as get_optimizer, then save_checkpoint's dict."""
    wrapped = torch.nn.DataParallel(model)  # no GPU: keeps `module.` in every key, runs the module itself
    params = list(wrapped.named_parameters())
    optimizer = torch.optim.SGD(
        [
            {"params": [v for n, v in params if "bn" in n], "weight_decay": 1e-4},
            {"params": [v for n, v in params if "bn" not in n], "weight_decay": 1e-4},
        ],
        0.1, momentum=0.9, weight_decay=1e-4, nesterov=False,
    )
    for p in wrapped.parameters():  # one step so the optimizer state holds momentum buffers, as a real file does
        p.grad = torch.zeros_like(p)
    optimizer.step()
    state = {
        "epoch": 100,
        "arch": "DenseNet",
        "state_dict": wrapped.state_dict(),
        "best_acc1": 94.01,
        "best_acc5": 99.8,
        "best_train_acc1": 99.9,
        "best_train_acc5": 100.0,
        "optimizer": optimizer.state_dict(),
        "curr_acc1": 93.9,
        "curr_acc5": 99.8,
    }
    if legacy:
        torch.save(state, path, _use_new_zipfile_serialization=False)
    else:
        torch.save(state, path)


def main():
    gen = torch.Generator().manual_seed(20230522)
    inputs = torch.rand((3, 3, 32, 32), generator=gen)
    cases = {}
    specs = [
        ("um_densenet_c10.state", dict(depth=10, num_classes=10, growth=4, bottleneck=True), False, False),
        ("um_densenet_c100_legacy.state", dict(depth=16, num_classes=7, growth=3, bottleneck=True), True, False),
        ("um_densenet_subnet.state", dict(depth=10, num_classes=10, growth=4, bottleneck=True), False, True),
    ]
    for filename, arch, legacy, subnet in specs:
        model = DenseNet3(**arch, subnet=subnet)
        randomize(model, gen)
        model.eval()
        with torch.no_grad():
            logits, feats, maps = model.outputs(inputs)
        save_like_main(model, os.path.join(HERE, filename), legacy)
        cases[filename] = {
            "arch": arch,
            "legacyFormat": legacy,
            "subnet": subnet,
            "logits": logits.tolist(),
            "features": feats.tolist(),
            "featureList": [m.mean(dim=(2, 3)).tolist() for m in maps],
        }
    with open(os.path.join(HERE, "um_inputs.bin"), "wb") as f:
        f.write(inputs.numpy().astype("<f4").tobytes())
    with open(os.path.join(HERE, "um_fixtures.json"), "w") as f:
        json.dump({"torch": torch.__version__, "inputShape": list(inputs.shape), "cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
