#!/usr/bin/python3
"""PyTorch peer for `deno task bench`: the same networks as lib/backbones (same layers, widths and width
multiplier, 10 classes), trained with SGD+momentum on random data and run in eval mode, on the same cores.
Prints one JSON line per memory format.

usage: /usr/bin/python3 bench/torch_bench.py NET BATCH TRAIN_STEPS INFER_REPS THREADS [OPTIONS_JSON]
NET is a registry name of lib/backbones/mod.ts; OPTIONS_JSON holds backbone options such as {"width": 0.25}.
"""
import json
import math
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def scaled(c, width):
    """Channels × width, rounded like JavaScript's Math.round, at least 1 (lib/backbones/_blocks.ts `scaled`)."""
    return max(1, int(math.floor(c * width + 0.5)))


class LeNet(nn.Module):
    def __init__(self, w=1.0):
        super().__init__()
        a, b, f = scaled(32, w), scaled(64, w), scaled(128, w)
        self.c1, self.c2 = nn.Conv2d(1, a, 3, padding=1), nn.Conv2d(a, b, 3, padding=1)
        self.f1, self.head = nn.Linear(7 * 7 * b, f), nn.Linear(f, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        return self.head(F.relu(self.f1(x.flatten(1))))


class LeNet5(nn.Module):
    def __init__(self, w=1.0):
        super().__init__()
        a, b, f1, f2 = scaled(6, w), scaled(16, w), scaled(120, w), scaled(84, w)
        self.c1, self.c2 = nn.Conv2d(1, a, 5, padding=2), nn.Conv2d(a, b, 5)
        self.f1, self.f2, self.head = nn.Linear(b * 25, f1), nn.Linear(f1, f2), nn.Linear(f2, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c2(F.max_pool2d(F.relu(self.c1(x)), 2))), 2)
        return self.head(F.relu(self.f2(F.relu(self.f1(x.flatten(1))))))


class MnistConv(nn.Module):
    """VMDLS MnistConvEncoder + linear head."""

    def __init__(self, w=1.0):
        super().__init__()
        c, d = scaled(100, w), scaled(500, w)
        self.convs = nn.ModuleList([nn.Conv2d(1, c, 3, 1, 1)] + [nn.Conv2d(c, c, 3, 1, 1) for _ in range(4)])
        self.fc, self.head = nn.Linear(c * 9, d), nn.Linear(d, 10)

    def forward(self, x):
        for i, conv in enumerate(self.convs):
            x = F.relu(conv(x))
            if i in (1, 3, 4):
                x = F.max_pool2d(x, 2, 2)
        return self.head(self.fc(x.flatten(1)))


class CmgCnn(nn.Module):
    """CMG ConvEncoder (Dropout2d, conv-BN-LeakyReLU ×9) + MLP head."""

    def __init__(self, w=1.0, drop_rate=0.2, head_hidden=None):
        super().__init__()
        chans = [1] + [scaled(c, w) for c in (64, 64, 128, 128, 128, 128, 128, 128, 128)]
        self.convs = nn.ModuleList(nn.Conv2d(chans[k], chans[k + 1], 3, 2 if k % 3 == 2 else 1, 1, bias=False) for k in range(9))
        self.bns = nn.ModuleList(nn.BatchNorm2d(c) for c in chans[1:])
        self.drop = nn.Dropout2d(drop_rate)
        h = head_hidden[0] if head_hidden else scaled(512, w)  # an explicit headHidden is not scaled
        self.fc1, self.fc2 = nn.Linear(chans[-1] * 16, h), nn.Linear(h, 10)

    def forward(self, x):
        for k, (conv, bn) in enumerate(zip(self.convs, self.bns)):
            if k % 3 == 0:
                x = self.drop(x)
            x = F.leaky_relu(bn(conv(x)), 0.2)
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride, shortcut="projection"):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout)
        self.c2, self.b2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout)
        self.proj, self.stride, self.pad = None, stride, 0
        if stride != 1 or cin != cout:
            if shortcut == "projection":
                self.proj = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
            else:
                self.pad = cout - cin

    def forward(self, x):
        y = self.b2(self.c2(F.relu(self.b1(self.c1(x)))))
        if self.proj is not None:
            s = self.proj(x)
        elif self.stride != 1 or self.pad:
            s = F.pad(x[:, :, ::self.stride, ::self.stride], (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))
        else:
            s = x
        return F.relu(y + s)


class CifarResNet(nn.Module):
    def __init__(self, widths, blocks, w=1.0, shortcut="projection"):
        super().__init__()
        widths = [scaled(c, w) for c in widths]
        self.stem = nn.Sequential(nn.Conv2d(3, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU())
        layers, cin = [], widths[0]
        for stage, (c, n) in enumerate(zip(widths, blocks)):
            for b in range(n):
                layers.append(BasicBlock(cin, c, 2 if b == 0 and stage > 0 else 1, shortcut))
                cin = c
        self.stages, self.head = nn.Sequential(*layers), nn.Linear(cin, 10)

    def forward(self, x):
        return self.head(F.adaptive_avg_pool2d(self.stages(self.stem(x)), 1).flatten(1))


class DenseNetBC(nn.Module):
    """ODIN's DenseNet3 with bottlenecks (optionally non-affine BN and dropout, as Unleashing Mask)."""

    def __init__(self, w=1.0, depth=100, growth_rate=12, compression=0.5, drop_rate=0.0, affine=True):
        super().__init__()
        n, k = (depth - 4) // 6, scaled(growth_rate, w)
        self.drop, c = drop_rate, 2 * k
        self.conv1 = nn.Conv2d(3, c, 3, 1, 1, bias=False)
        self.blocks, self.trans = nn.ModuleList(), nn.ModuleList()
        for block in range(3):
            layers = nn.ModuleList()
            for _ in range(n):
                layers.append(nn.ModuleList([nn.BatchNorm2d(c, affine=affine), nn.Conv2d(c, 4 * k, 1, bias=False),
                                             nn.BatchNorm2d(4 * k, affine=affine), nn.Conv2d(4 * k, k, 3, 1, 1, bias=False)]))
                c += k
            self.blocks.append(layers)
            if block < 2:
                out = int(math.floor(c * compression))
                self.trans.append(nn.ModuleList([nn.BatchNorm2d(c, affine=affine), nn.Conv2d(c, out, 1, bias=False)]))
                c = out
        self.bn, self.head = nn.BatchNorm2d(c, affine=affine), nn.Linear(c, 10)

    def forward(self, x):
        d = lambda t: F.dropout(t, self.drop, self.training) if self.drop > 0 else t
        x = self.conv1(x)
        for block, layers in enumerate(self.blocks):
            for bn1, c1, bn2, c2 in layers:
                x = torch.cat([x, d(c2(F.relu(bn2(d(c1(F.relu(bn1(x))))))))], 1)
            if block < 2:
                bn, conv = self.trans[block]
                x = F.avg_pool2d(d(conv(F.relu(bn(x)))), 2)
        return self.head(F.adaptive_avg_pool2d(F.relu(self.bn(x)), 1).flatten(1))


class WideBlock(nn.Module):
    def __init__(self, cin, cout, stride, drop_rate):
        super().__init__()
        self.b1, self.c1 = nn.BatchNorm2d(cin), nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b2, self.c2 = nn.BatchNorm2d(cout), nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.short = nn.Conv2d(cin, cout, 1, stride, 0, bias=False) if cin != cout else None
        self.drop = drop_rate

    def forward(self, x):
        pre = F.relu(self.b1(x))
        y = F.relu(self.b2(self.c1(pre)))
        y = self.c2(F.dropout(y, self.drop, self.training) if self.drop > 0 else y)
        return y + (x if self.short is None else self.short(pre))


class WideResNet(nn.Module):
    def __init__(self, depth, widen_factor, w=1.0, drop_rate=0.0):
        super().__init__()
        n, stem = (depth - 4) // 6, scaled(16, w)
        self.conv1 = nn.Conv2d(3, stem, 3, 1, 1, bias=False)
        blocks, cin = [], stem
        for g, base in enumerate((16, 32, 64)):
            c = scaled(base * widen_factor, w)
            for b in range(n):
                blocks.append(WideBlock(cin, c, 2 if b == 0 and g > 0 else 1, drop_rate))
                cin = c
        self.blocks, self.bn, self.head = nn.Sequential(*blocks), nn.BatchNorm2d(cin), nn.Linear(cin, 10)

    def forward(self, x):
        return self.head(F.adaptive_avg_pool2d(F.relu(self.bn(self.blocks(self.conv1(x)))), 1).flatten(1))


VGG16 = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
VGG11 = [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]


class VggBn(nn.Module):
    def __init__(self, cfg, w=1.0):
        super().__init__()
        mods, cin = [], 3
        for v in cfg:
            if v == "M":
                mods.append(nn.MaxPool2d(2, 2))
            else:
                mods += [nn.Conv2d(cin, scaled(v, w), 3, padding=1), nn.BatchNorm2d(scaled(v, w)), nn.ReLU()]
                cin = scaled(v, w)
        self.body, self.head = nn.Sequential(*mods), nn.Linear(cin, 10)

    def forward(self, x):
        return self.head(F.adaptive_avg_pool2d(self.body(x), 1).flatten(1))


class VmdlsVgg(nn.Module):
    def __init__(self, w=1.0):
        super().__init__()
        mods, cin = [], 3
        for v in (64, 128, "M", 256, 256, "M", 256, 256, 256, 256, "M"):
            if v == "M":
                mods.append(nn.MaxPool2d(2, 2))
            else:
                mods += [nn.Conv2d(cin, scaled(v, w), 3, padding=1), nn.BatchNorm2d(scaled(v, w)), nn.ReLU()]
                cin = scaled(v, w)
        f = scaled(1024, w)
        mods += [nn.Flatten(), nn.Linear(cin * 16, f), nn.ReLU(), nn.Linear(f, f), nn.ReLU(), nn.Linear(f, 10)]
        self.body = nn.Sequential(*mods)

    def forward(self, x):
        return self.body(x)


MNIST, CIFAR = (1, 28, 28), (3, 32, 32)
NETS = {
    "lenet": (lambda o: LeNet(o.get("width", 1.0)), MNIST),
    "lenet5": (lambda o: LeNet5(o.get("width", 1.0)), MNIST),
    "mnist_conv": (lambda o: MnistConv(o.get("width", 1.0)), MNIST),
    "cmg_cnn": (lambda o: CmgCnn(o.get("width", 1.0), o.get("dropRate", 0.2), o.get("headHidden")), MNIST),
    "resnet20": (lambda o: CifarResNet([16, 32, 64], [3, 3, 3], o.get("width", 1.0), o.get("shortcut", "projection")), CIFAR),
    "resnet18": (lambda o: CifarResNet([64, 128, 256, 512], [2, 2, 2, 2], o.get("width", 1.0), o.get("shortcut", "projection")), CIFAR),
    "resnet34": (lambda o: CifarResNet([64, 128, 256, 512], [3, 4, 6, 3], o.get("width", 1.0), o.get("shortcut", "projection")), CIFAR),
    "densenet_bc_100": (lambda o: DenseNetBC(o.get("width", 1.0), o.get("depth", 100), o.get("growthRate", 12),
                                             o.get("compression", 0.5), o.get("dropRate", 0.0),
                                             o.get("affineBatchNorm", True)), CIFAR),
    "wrn_28_10": (lambda o: WideResNet(o.get("depth", 28), o.get("widenFactor", 10), o.get("width", 1.0), o.get("dropRate", 0.0)), CIFAR),
    "wrn_40_2": (lambda o: WideResNet(o.get("depth", 40), o.get("widenFactor", 2), o.get("width", 1.0), o.get("dropRate", 0.0)), CIFAR),
    "vgg16_bn": (lambda o: VggBn(VGG16, o.get("width", 1.0)), CIFAR),
    "vgg11_bn": (lambda o: VggBn(VGG11, o.get("width", 1.0)), CIFAR),
    "vmdls_vgg": (lambda o: VmdlsVgg(o.get("width", 1.0)), CIFAR),
}


def measure(net_name, options, batch, train_steps, infer_reps, channels_last):
    torch.manual_seed(0)
    make, shape = NETS[net_name]
    net = make(options)
    x, y = torch.randn(batch, *shape), torch.randint(0, 10, (batch,))
    if channels_last:
        net, x = net.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    train_ms = []
    net.train()
    for i in range(train_steps + 2 if train_steps else 0):  # two warm-up steps
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(net(x), y).backward()
        opt.step()
        train_ms.append((time.perf_counter() - t0) * 1000)
    infer_ms = []
    net.eval()
    with torch.no_grad():
        for i in range(infer_reps + 2):
            t0 = time.perf_counter()
            net(x)
            infer_ms.append((time.perf_counter() - t0) * 1000)
    train = statistics.median(train_ms[2:]) if train_steps else None
    infer = statistics.median(infer_ms[2:])
    return {
        "engine": "pytorch",
        "format": "channels_last" if channels_last else "NCHW",
        "net": net_name,
        "options": options,
        "batch": batch,
        "threads": torch.get_num_threads(),
        "version": torch.__version__,
        "params": sum(p.numel() for p in net.parameters()),
        "trainMs": train,
        "inferMs": infer,
    }


def main():
    net_name, batch, train_steps, infer_reps, threads = sys.argv[1], *map(int, sys.argv[2:6])
    options = json.loads(sys.argv[6]) if len(sys.argv) > 6 else {}
    if net_name not in NETS:
        raise SystemExit(f"Unknown net {net_name!r}. Valid: {', '.join(NETS)}")
    torch.set_num_threads(threads)
    for channels_last in (False, True):
        print(json.dumps(measure(net_name, options, batch, train_steps, infer_reps, channels_last)), flush=True)


if __name__ == "__main__":
    main()
