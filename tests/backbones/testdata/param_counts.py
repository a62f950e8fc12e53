#!/usr/bin/python3
"""Reference PyTorch networks for the backbone tests, and their parameter counts.

Defines each network the way the papers' PyTorch code defines it (written here from reading that code, module
for module, with the same registration order; the channel counts are arguments so that torch_outputs.py can
build narrow copies, and default to the papers' values). Running this file writes param_counts.json next to it:
for every case the number of parameters (`sum(p.numel() for p in net.parameters())`) and of BatchNorm running
statistics (`running_mean` + `running_var`; `num_batches_tracked` is a bookkeeping counter with no TF.js
equivalent). TF.js stores BatchNorm's moving mean/variance as non-trainable weights, so
param_counts_test.ts compares TF.js trainable weights with `params` and non-trainable weights with `buffers`.

Each class has `forward` (logits), `features` (the penultimate vector of lib/backbones) and, where
lib/backbones has a `featureList`, `stages` (the same average-pooled intermediate outputs).

usage: /usr/bin/python3 tests/backbones/testdata/param_counts.py   (Debian python3-torch 1.13)
"""
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F


def gap(x):
    return F.adaptive_avg_pool2d(x, 1).flatten(1)


def flatten_linear(linear, chw):
    """Marks a Linear that follows a flatten of a (C, H, W) map (TF.js flattens (H, W, C) instead)."""
    linear.flatten_chw = chw
    return linear


class Classifier(nn.Module):
    def forward(self, x):
        return self.head(self.features(x))


# --- MNIST networks ------------------------------------------------------------------------------------------

class ProjectLeNet(Classifier):
    """This project's `lenet` (bench/torch_bench.py defines the same net)."""

    def __init__(self, num_classes):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, 32, 3, padding=1), nn.Conv2d(32, 64, 3, padding=1)
        self.fc = flatten_linear(nn.Linear(7 * 7 * 64, 128), (64, 7, 7))
        self.head = nn.Linear(128, num_classes)

    def features(self, x):
        x = F.max_pool2d(F.relu(self.c2(F.max_pool2d(F.relu(self.c1(x)), 2))), 2)
        return F.relu(self.fc(x.flatten(1)))


class LeNet5(Classifier):
    """LeNet-5 (LeCun et al. 1998) in the usual PyTorch MNIST form: 6@5x5 pad 2, 16@5x5, 120, 84."""

    def __init__(self, num_classes, c=(6, 16, 120, 84)):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, c[0], 5, padding=2), nn.Conv2d(c[0], c[1], 5)
        self.f1 = flatten_linear(nn.Linear(c[1] * 5 * 5, c[2]), (c[1], 5, 5))
        self.f2, self.head = nn.Linear(c[2], c[3]), nn.Linear(c[3], num_classes)

    def features(self, x):
        x = F.max_pool2d(F.relu(self.c2(F.max_pool2d(F.relu(self.c1(x)), 2))), 2)
        return F.relu(self.f2(F.relu(self.f1(x.flatten(1)))))


class VmdlsMnistConv(Classifier):
    """BGU-CS-VIL/vmdls models/decoders_encoders.py MnistConvEncoder (+ a linear classifier on its 500-d output)."""

    def __init__(self, num_classes, c=100, d=500):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c, 3, 1, 1), nn.ReLU(), nn.Conv2d(c, c, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(c, c, 3, 1, 1), nn.ReLU(), nn.Conv2d(c, c, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(c, c, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2, 2))
        self.dec_layer = flatten_linear(nn.Linear(c * 3 * 3, d), (c, 3, 3))
        self.head = nn.Linear(d, num_classes)

    def features(self, x):
        return self.dec_layer(self.encoder(x).flatten(1))

    def stages(self, x):
        """VMDLS get_layer_output(x, 1..3) slices, then g(x)."""
        return [gap(self.encoder[0:3](x)), gap(self.encoder[0:5](x)), gap(self.encoder[0:7](x)), self.features(x)]


class CmgConvEncoder(Classifier):
    """shaoyijia/CMG models/conv/cnn.py ConvEncoder + models/fc/nets.py MLP(2048 -> 512 -> classes)."""

    def __init__(self, num_classes, c=(64, 64, 128, 128, 128, 128, 128, 128, 128), hidden=512):
        super().__init__()
        ins = (1,) + tuple(c[:-1])
        self.convs = nn.ModuleList(nn.Conv2d(i, o, 3, 2 if k % 3 == 2 else 1, 1, bias=False) for k, (i, o) in enumerate(zip(ins, c)))
        self.bns = nn.ModuleList(nn.BatchNorm2d(o) for o in c)
        self.drops = nn.ModuleList(nn.Dropout2d(0.2) for _ in range(3))
        self.fc1 = flatten_linear(nn.Linear(c[-1] * 4 * 4, hidden), (c[-1], 4, 4))
        self.features_chw = (c[-1], 4, 4)  # the features are a flattened (C, H, W) map
        self.fc2 = nn.Linear(hidden, num_classes)

    def groups(self, x):
        out = []
        for k, (conv, bn) in enumerate(zip(self.convs, self.bns)):
            if k % 3 == 0:
                x = self.drops[k // 3](x)
            x = F.leaky_relu(bn(conv(x)), 0.2)
            if k % 3 == 2:
                out.append(x)
        return out

    def features(self, x):
        return self.groups(x)[-1].flatten(1)

    def head(self, f):
        return self.fc2(F.relu(self.fc1(f)))

    def stages(self, x):
        return [gap(g) for g in self.groups(x)]


# --- CIFAR ResNets ---------------------------------------------------------------------------------------------

class ResBlock(nn.Module):
    """Basic block; shortcut 'B' = 1x1 conv + BN (CIDER models/resnet.py), 'A' = subsample + zero channels."""

    def __init__(self, cin, cout, stride, option):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout)
        self.conv2, self.bn2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if (stride != 1 or cin != cout) and option == "B":
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        self.stride, self.pad = stride, cout - cin

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        if len(self.shortcut) == 0 and (self.stride != 1 or self.pad > 0):  # option A
            s = x[:, :, ::self.stride, ::self.stride]
            s = F.pad(s, (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))
        else:
            s = self.shortcut(x)
        return F.relu(out + s)


class CifarResNet(Classifier):
    def __init__(self, widths, blocks, num_classes, option="B"):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0])
        self.layers = nn.ModuleList()
        cin = widths[0]
        for stage, (w, n) in enumerate(zip(widths, blocks)):
            blocks_ = []
            for b in range(n):
                blocks_.append(ResBlock(cin, w, 2 if b == 0 and stage > 0 else 1, option))
                cin = w
            self.layers.append(nn.Sequential(*blocks_))
        self.fc = nn.Linear(cin, num_classes)

    def head(self, f):
        return self.fc(f)

    def maps(self, x):
        out = [F.relu(self.bn1(self.conv1(x)))]
        for layer in self.layers:
            out.append(layer(out[-1]))
        return out

    def features(self, x):
        return gap(self.maps(x)[-1])

    def stages(self, x):
        return [gap(m) for m in self.maps(x)]


# --- DenseNet-BC (ODIN's DenseNet3, as in ELOC / Unleashing Mask / VMDLS) ---------------------------------------

def bn2d(c, affine):
    return nn.BatchNorm2d(c, affine=affine)


class Bottleneck(nn.Module):
    def __init__(self, cin, growth, affine):
        super().__init__()
        self.bn1, self.conv1 = bn2d(cin, affine), nn.Conv2d(cin, 4 * growth, 1, bias=False)
        self.bn2, self.conv2 = bn2d(4 * growth, affine), nn.Conv2d(4 * growth, growth, 3, padding=1, bias=False)

    def forward(self, x):
        return torch.cat([x, self.conv2(F.relu(self.bn2(self.conv1(F.relu(self.bn1(x))))))], 1)


class Transition(nn.Module):
    def __init__(self, cin, cout, affine):
        super().__init__()
        self.bn1, self.conv1 = bn2d(cin, affine), nn.Conv2d(cin, cout, 1, bias=False)

    def forward(self, x):
        return F.avg_pool2d(self.conv1(F.relu(self.bn1(x))), 2)


class DenseNet3(Classifier):
    """Dropout (Unleashing Mask's 0.3) is inactive in eval mode and has no parameters, so it is left out."""

    def __init__(self, depth, num_classes, growth=12, reduction=0.5, affine=True):
        super().__init__()
        n = int((depth - 4) / 3 / 2)
        c = 2 * growth
        self.conv1 = nn.Conv2d(3, c, 3, padding=1, bias=False)
        for block in range(1, 4):  # registered as block1, trans1, block2, trans2, block3, like DenseNet3
            setattr(self, f"block{block}", nn.Sequential(*[Bottleneck(c + i * growth, growth, affine) for i in range(n)]))
            c += n * growth
            if block < 3:
                setattr(self, f"trans{block}", Transition(c, int(math.floor(c * reduction)), affine))
                c = int(math.floor(c * reduction))
        self.bn1 = bn2d(c, affine)
        self.fc = nn.Linear(c, num_classes)

    def head(self, f):
        return self.fc(f)

    def maps(self, x):
        """ODIN/Lee et al. feature_list: conv1, trans1, trans2, relu(bn1(block3))."""
        out = [self.conv1(x)]
        out.append(self.trans1(self.block1(out[-1])))
        out.append(self.trans2(self.block2(out[-1])))
        out.append(F.relu(self.bn1(self.block3(out[-1]))))
        return out

    def features(self, x):
        return gap(self.maps(x)[-1])  # F.avg_pool2d(out, 8) on the 8×8 map

    def stages(self, x):
        return [gap(m) for m in self.maps(x)]


# --- WideResNet (the PyTorch port used by ELOC / Unleashing Mask / VMDLS) ---------------------------------------

class WideBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn1, self.conv1 = nn.BatchNorm2d(cin), nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2, self.conv2 = nn.BatchNorm2d(cout), nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.equalInOut = cin == cout
        self.convShortcut = nn.Conv2d(cin, cout, 1, stride, 0, bias=False) if not self.equalInOut else None

    def forward(self, x):
        if not self.equalInOut:
            x = F.relu(self.bn1(x))
            out = x
        else:
            out = F.relu(self.bn1(x))
        out = self.conv2(F.relu(self.bn2(self.conv1(out))))
        return (x if self.equalInOut else self.convShortcut(x)) + out


class WideResNet(Classifier):
    def __init__(self, depth, num_classes, widen_factor, ch=None):
        super().__init__()
        ch = ch or [16, 16 * widen_factor, 32 * widen_factor, 64 * widen_factor]
        n = (depth - 4) // 6
        self.conv1 = nn.Conv2d(3, ch[0], 3, 1, 1, bias=False)
        self.groups = nn.ModuleList()
        for g in range(3):
            self.groups.append(nn.Sequential(*[
                WideBlock(ch[g] if b == 0 else ch[g + 1], ch[g + 1], (1 if g == 0 else 2) if b == 0 else 1) for b in range(n)]))
        self.bn1 = nn.BatchNorm2d(ch[3])
        self.fc = nn.Linear(ch[3], num_classes)

    def head(self, f):
        return self.fc(f)

    def maps(self, x):
        out = [self.conv1(x)]
        out.append(self.groups[0](out[-1]))
        out.append(self.groups[1](out[-1]))
        out.append(F.relu(self.bn1(self.groups[2](out[-1]))))
        return out

    def features(self, x):
        return gap(self.maps(x)[-1])

    def stages(self, x):
        return [gap(m) for m in self.maps(x)]


# --- VGG ------------------------------------------------------------------------------------------------------

VGG_CFG = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
}


class CifarVgg(Classifier):
    """The common CIFAR VGG with BN: conv3x3 (bias) + BN + ReLU per entry, max-pools, one Linear(512, classes)."""

    def __init__(self, cfg, num_classes):
        super().__init__()
        mods, cin = [], 3
        for v in cfg:
            if v == "M":
                mods.append(nn.MaxPool2d(2, 2))
            else:
                mods += [nn.Conv2d(cin, v, 3, padding=1), nn.BatchNorm2d(v), nn.ReLU()]
                cin = v
        self.body = nn.Sequential(*mods)
        self.classifier = nn.Linear(cin, num_classes)

    def head(self, f):
        return self.classifier(f)

    def features(self, x):
        return self.body(x).flatten(1)

    def stages(self, x):
        out = []
        for m in self.body:
            x = m(x)
            if isinstance(m, nn.MaxPool2d):
                out.append(gap(x))
        return out


class VmdlsVggm(Classifier):
    """BGU-CS-VIL/vmdls models/vgg.py VGGM (+ a linear classifier on its 1024-d output)."""

    def __init__(self, num_classes, c=(64, 128, 256), f=1024):
        super().__init__()
        mods, cin = [], 3
        for v in [c[0], c[1], "M", c[2], c[2], "M", c[2], c[2], c[2], c[2], "M"]:
            if v == "M":
                mods.append(nn.MaxPool2d(2, 2))
            else:
                mods += [nn.Conv2d(cin, v, 3, padding=1), nn.BatchNorm2d(v), nn.ReLU()]
                cin = v
        mods += [nn.Flatten(), flatten_linear(nn.Linear(cin * 4 * 4, f), (cin, 4, 4)), nn.ReLU(), nn.Linear(f, f), nn.ReLU()]
        self.encoder = nn.Sequential(*mods)
        self.head = nn.Linear(f, num_classes)

    def features(self, x):
        return self.encoder(x)

    def stages(self, x):
        """VMDLS get_layer_output(x, 1..3) slices (before the ReLUs), then g(x)."""
        return [gap(self.encoder[0:5](x)), gap(self.encoder[0:12](x)), gap(self.encoder[0:25](x)), self.features(x)]


# --- the cases ------------------------------------------------------------------------------------------------

CASES = [
    # key, backbone, TF.js options, reference constructor, source
    ("lenet", "lenet", {}, lambda c: ProjectLeNet(c), "this project's bench/torch_bench.py LeNet"),
    ("lenet5", "lenet5", {}, lambda c: LeNet5(c), "LeNet-5, common PyTorch MNIST form"),
    ("mnist_conv", "mnist_conv", {}, lambda c: VmdlsMnistConv(c), "BGU-CS-VIL/vmdls MnistConvEncoder + Linear(500, C)"),
    ("cmg_cnn", "cmg_cnn", {}, lambda c: CmgConvEncoder(c), "shaoyijia/CMG ConvEncoder + MLP"),
    ("cmg_cnn@11", "cmg_cnn", {"numClasses": 11}, lambda c: CmgConvEncoder(c), "CMG Setting 1 (11 outputs)"),
    ("resnet20", "resnet20", {}, lambda c: CifarResNet([16, 32, 64], [3] * 3, c, "B"), "ResNet-20, projection shortcuts"),
    ("resnet20:padding", "resnet20", {"shortcut": "padding"}, lambda c: CifarResNet([16, 32, 64], [3] * 3, c, "A"),
     "ResNet-20, He et al. option A"),
    ("resnet18", "resnet18", {}, lambda c: CifarResNet([64, 128, 256, 512], [2, 2, 2, 2], c), "deeplearning-wisc/cider resnet18"),
    ("resnet34", "resnet34", {}, lambda c: CifarResNet([64, 128, 256, 512], [3, 4, 6, 3], c), "deeplearning-wisc/cider resnet34"),
    ("resnet34@100", "resnet34", {"numClasses": 100}, lambda c: CifarResNet([64, 128, 256, 512], [3, 4, 6, 3], c),
     "CIDER CIFAR-100"),
    ("densenet_bc_100", "densenet_bc_100", {}, lambda c: DenseNet3(100, c), "ODIN DenseNet3(100) as in ELOC/UM/VMDLS"),
    ("densenet_bc_100@100", "densenet_bc_100", {"numClasses": 100}, lambda c: DenseNet3(100, c), "DenseNet3(100), CIFAR-100"),
    ("densenet_bc_100:nonaffine", "densenet_bc_100", {"affineBatchNorm": False, "dropRate": 0.3},
     lambda c: DenseNet3(100, c, affine=False), "ZFancy/Unleashing-Mask DenseNet3 with NonAffineBatchNorm"),
    ("wrn_28_10", "wrn_28_10", {}, lambda c: WideResNet(28, c, 10), "WideResNet(28, C, 10) as in ELOC/VMDLS"),
    ("wrn_40_2", "wrn_40_2", {}, lambda c: WideResNet(40, c, 2), "WideResNet(40, C, 2)"),
    ("vgg16_bn", "vgg16_bn", {}, lambda c: CifarVgg(VGG_CFG["vgg16"], c), "CIFAR VGG-16-BN"),
    ("vgg11_bn", "vgg11_bn", {}, lambda c: CifarVgg(VGG_CFG["vgg11"], c), "CIFAR VGG-11-BN"),
    ("vmdls_vgg", "vmdls_vgg", {}, lambda c: VmdlsVggm(c), "BGU-CS-VIL/vmdls VGGM + Linear(1024, C)"),
]

MNIST_NETS = ("lenet", "lenet5", "mnist_conv", "cmg_cnn")


def count(net):
    params = sum(p.numel() for p in net.parameters())
    buffers = sum(b.numel() for name, b in net.named_buffers() if name.endswith(("running_mean", "running_var")))
    return params, buffers


def main():
    out = {}
    for key, backbone, options, make, source in CASES:
        num_classes = options.get("numClasses", 10)
        net = make(num_classes).eval()
        size = 28 if backbone in MNIST_NETS else 32
        with torch.no_grad():  # the definitions are complete networks: they run and give [2, classes]
            logits = net(torch.zeros(2, 1 if size == 28 else 3, size, size))
        assert tuple(logits.shape) == (2, num_classes), (key, logits.shape)
        params, buffers = count(net)
        out[key] = {
            "backbone": backbone,
            "options": {"numClasses": num_classes, **{k: v for k, v in options.items() if k != "numClasses"}},
            "params": params,
            "buffers": buffers,
            "source": source,
        }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "param_counts.json")
    with open(path, "w") as f:
        json.dump({"generator": "tests/backbones/testdata/param_counts.py", "torch": torch.__version__, "cases": out}, f, indent=1)
        f.write("\n")
    for key, v in out.items():
        print(f"{key:28s} {v['params']:>12,d} params {v['buffers']:>8,d} BN buffers")


if __name__ == "__main__":
    main()
