#!/usr/bin/python3
"""Fixture checkpoints for tests/checkpoints/released/vmdls_test.ts, made the way VMDLS's code makes its files.

What the authors' code does (BGU-CS-VIL/vmdls at 5add9e2, read in the mirror):
- models/vae.py `GMM_VAE_Contrastive` (a LightningModule) registers, in this order: `encoder` (l. 148-156: the
  `--enc_type` network: `MnistConvEncoder`, `DenseNet3(100, class_num)`, `resnet18_encoder`, `VGGM`,
  `WideResNet(28, class_num, 10, 0.1)`), `fc_mu` and `fc_var` (l. 163-164, Linear(enc_out_dim, latent_dim)),
  `metric_loss` (l. 165, a pytorch-metric-learning loss: no parameters, no buffers), `ae` (l. 174-177: the
  pl_bolts CIFAR-10 ResNet-18 auto-encoder, loaded whatever the dataset, frozen) and `sift` (l. 178:
  `kornia.feature.SIFTDescriptor(input_height)`, whose pooling conv `pk` has a weight). So every released `.ckpt`
  holds `encoder.*`, `fc_mu.*`, `fc_var.*`, `ae.*` and `sift.pk.weight`; only the first three are used at test
  time (`test_step`, l. 287-329: the feature ensemble `get_layer_output(x, 1..4)` + mu; the `ae` used for the
  reconstruction is replaced by `ae_dict[known_dataset]` in `calculate_gaussian`, l. 810-811).
- models/mnist_ae.py `MNIST_AE` registers `encoder` (`MnistConvEncoder`), `decoder` (`MnistConvDecoder`), `fc`
  (Linear(500, 32)); `ae_mnist.ckpt` is its checkpoint (vae.py l. 75).
- main.py trains with `pl.Trainer` and a `ModelCheckpoint` (l. 64-74); PyTorch Lightning 1.1.2 (README l. 8)
  saves `{epoch, global_step, pytorch-lightning_version, callbacks: {ModelCheckpoint: {...}}, optimizer_states,
  lr_schedulers, state_dict, hparams_name, hyper_parameters}` with `torch.save` (torch 1.7: the zip format);
  `hyper_parameters` is `dict(model.hparams)`, the init arguments (`save_hyperparameters()`, vae.py l. 113),
  which include every command-line option (`GMM_VAE_Contrastive(**vars(args))`, main.py l. 53).

Neither pytorch_lightning, pl_bolts, kornia nor pytorch_metric_learning is installed here: the classes below are
written for this file and only reproduce the authors' module names and registration order at a narrow width (the
authors' channel counts times WIDTH, rounded as lib/backbones rounds them); `ModelCheckpoint` is a stand-in class
registered under Lightning's module path so the `callbacks` key pickles as Lightning's does. The `ae` stand-in is
pl_bolts' AE abbreviated to one-channel `encoder.{conv1, bn1, layer1.0}`, `decoder.{linear, conv1}` and `fc`: its
keys are only ever ignored. Weights and BatchNorm statistics are random; the MNIST network takes one Adam step so
`optimizer_states` has Adam's per-parameter state.

The WRN applies dropout in evaluation mode too (`F.dropout(..., training=True)`, models/wide_resnet.py l. 29); its
reference outputs here are computed with that dropout off (the expected network output), which is what our
TF.js network computes in inference mode.

Writes vmdls_cnn_mnist.ckpt, vmdls_ae_mnist.ckpt, vmdls_c10_{densenet,resnet,vgg,wresnet}.ckpt,
vmdls_inputs_mnist.bin, vmdls_inputs_cifar.bin (NHWC float32) and vmdls_outputs.json (per file: the TF.js options
and PyTorch's eval-mode outputs: the feature ensemble members, mu, log var; for the AE the reconstruction and r).
usage: /usr/bin/python3 tests/checkpoints/released/testdata/make_vmdls_fixtures.py
"""
import json
import math
import os
import sys
import types

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
N = 2


def scaled(c, width):
    return max(1, int(c * width + 0.5))  # Math.round for positive values, as lib/backbones/_blocks.ts


def lightning_stand_in():
    """A class pickled as pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint (the callbacks key)."""
    names = ["pytorch_lightning", "pytorch_lightning.callbacks", "pytorch_lightning.callbacks.model_checkpoint"]
    for n in names:
        sys.modules.setdefault(n, types.ModuleType(n))

    class ModelCheckpoint:
        pass

    ModelCheckpoint.__module__ = names[-1]
    ModelCheckpoint.__qualname__ = "ModelCheckpoint"
    sys.modules[names[-1]].ModelCheckpoint = ModelCheckpoint
    return ModelCheckpoint


MODEL_CHECKPOINT = lightning_stand_in()


# ---- models/decoders_encoders.py, mnist_ae.py (narrow) ----------------------------------------------------------

class MnistConvEncoder(nn.Module):
    def __init__(self, c, hidden):
        super().__init__()
        self.c = c
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c, 3, 1, 1), nn.ReLU(), nn.Conv2d(c, c, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(c, c, 3, 1, 1), nn.ReLU(), nn.Conv2d(c, c, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(c, c, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2, 2))
        self.dec_layer = nn.Linear(c * 3 * 3, hidden)

    def forward(self, x):
        return self.dec_layer(self.encoder(x).view(-1, self.c * 3 * 3))

    def get_layer_output(self, x, layer_num):
        pool = nn.AdaptiveAvgPool2d((1, 1))
        if layer_num in (1, 2, 3):
            return torch.flatten(pool(self.encoder[0:{1: 3, 2: 5, 3: 7}[layer_num]](x)), 1)
        return self.forward(x)


class MnistConvDecoder(nn.Module):
    def __init__(self, latent_dim, c, hidden):
        super().__init__()
        self.c = c
        self.latent = nn.Linear(latent_dim, hidden)
        self.enc_layer = nn.Linear(hidden, c * 3 * 3)
        t = lambda s: nn.ConvTranspose2d(c, c, 2, s, 0)  # noqa: E731
        self.decoder = nn.Sequential(
            t(1), nn.ReLU(), t(1), nn.ReLU(), t(1), nn.ReLU(), t(1), nn.ReLU(), t(2), nn.ReLU(), t(2), nn.ReLU(),
            nn.Conv2d(c, 1, 1, 1, 0))

    def forward(self, x):
        return self.decoder(self.enc_layer(self.latent(x)).view(-1, self.c, 3, 3))


class MNIST_AE(nn.Module):
    def __init__(self, c, hidden, latent_dim):
        super().__init__()
        self.encoder = MnistConvEncoder(c, hidden)
        self.decoder = MnistConvDecoder(latent_dim, c, hidden)
        self.fc = nn.Linear(hidden, latent_dim)

    def forward(self, x):
        return self.decoder(self.fc(self.encoder(x)))


# ---- models/resnet_encoders.py (narrow) -------------------------------------------------------------------------

class EncoderBlock(nn.Module):
    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNetEncoder(nn.Module):
    def __init__(self, widths, blocks=(2, 2, 2, 2)):
        super().__init__()
        self.inplanes = widths[0]
        self.conv1 = nn.Conv2d(3, self.inplanes, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=1, stride=1)  # maxpool1=False
        for i, (w, n) in enumerate(zip(widths, blocks)):
            setattr(self, f"layer{i + 1}", self._make_layer(w, n, 1 if i == 0 else 2))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))

    def _make_layer(self, planes, blocks, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))
        layers = [EncoderBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [EncoderBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def get_layer_output(self, x, layer_num):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for i in range(1, 5):
            x = getattr(self, f"layer{i}")(x)
            if i == layer_num and i < 4:
                return torch.flatten(self.avgpool(x), 1)
        return torch.flatten(self.avgpool(x), 1)

    def forward(self, x):
        return self.get_layer_output(x, 4)


class BoltsAEStandIn(nn.Module):
    """pl_bolts' AE(input_height=32) attribute names (encoder, decoder, fc), abbreviated: only ignored keys."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Module()
        self.encoder.conv1 = nn.Conv2d(3, 1, 3, 1, 1, bias=False)
        self.encoder.bn1 = nn.BatchNorm2d(1)
        self.encoder.layer1 = nn.Sequential(EncoderBlock(1, 1))
        self.decoder = nn.Module()
        self.decoder.linear = nn.Linear(4, 8 * 4 * 4)
        self.decoder.conv1 = nn.Conv2d(1, 3, 3, 1, 1, bias=False)
        self.fc = nn.Linear(8, 4)


class SiftStandIn(nn.Module):
    """kornia.feature.SIFTDescriptor(patch_size): its one weight, the pooling conv `pk` (fixed, not trained)."""

    def __init__(self, patch_size):
        super().__init__()
        ks = 2 * int(patch_size / 5)
        self.pk = nn.Conv2d(1, 1, ks, patch_size // 4, ks // 4, bias=False)
        half = ks / 2.0
        xc2 = half - (torch.arange(ks).float() + 0.5 - half).abs()
        self.pk.weight.data.copy_((torch.ger(xc2, xc2) / half ** 2).reshape(1, 1, ks, ks))


class MetricLossStandIn(nn.Module):
    """TripletMarginLossModded: a module without parameters or buffers."""


# ---- models/densenet.py (DenseNet3, narrow) ---------------------------------------------------------------------

class BottleneckBlock(nn.Module):
    def __init__(self, in_planes, out_planes):
        super().__init__()
        inter = out_planes * 4
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(in_planes, inter, 1, 1, 0, bias=False)
        self.bn2 = nn.BatchNorm2d(inter)
        self.conv2 = nn.Conv2d(inter, out_planes, 3, 1, 1, bias=False)

    def forward(self, x):
        out = self.conv1(self.relu(self.bn1(x)))
        return torch.cat([x, self.conv2(self.relu(self.bn2(out)))], 1)


class TransitionBlock(nn.Module):
    def __init__(self, in_planes, out_planes):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(in_planes, out_planes, 1, 1, 0, bias=False)

    def forward(self, x):
        return F.avg_pool2d(self.conv1(self.relu(self.bn1(x))), 2)


class DenseBlock(nn.Module):
    def __init__(self, n, in_planes, growth):
        super().__init__()
        self.layer = nn.Sequential(*[BottleneckBlock(in_planes + i * growth, growth) for i in range(n)])

    def forward(self, x):
        return self.layer(x)


class DenseNet3(nn.Module):
    def __init__(self, depth, num_classes, growth_rate=12, reduction=0.5):
        super().__init__()
        in_planes = 2 * growth_rate
        n = int((depth - 4) / 3 / 2)
        self.conv1 = nn.Conv2d(3, in_planes, 3, 1, 1, bias=False)
        self.block1 = DenseBlock(n, in_planes, growth_rate)
        in_planes = int(in_planes + n * growth_rate)
        self.trans1 = TransitionBlock(in_planes, int(math.floor(in_planes * reduction)))
        in_planes = int(math.floor(in_planes * reduction))
        self.block2 = DenseBlock(n, in_planes, growth_rate)
        in_planes = int(in_planes + n * growth_rate)
        self.trans2 = TransitionBlock(in_planes, int(math.floor(in_planes * reduction)))
        in_planes = int(math.floor(in_planes * reduction))
        self.block3 = DenseBlock(n, in_planes, growth_rate)
        in_planes = int(in_planes + n * growth_rate)
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.relu = nn.ReLU(inplace=True)
        self.fc = nn.Linear(in_planes, num_classes)
        self.in_planes = in_planes

    def forward(self, x):
        out = self.trans2(self.block2(self.trans1(self.block1(self.conv1(x)))))
        out = self.relu(self.bn1(self.block3(out)))
        return F.avg_pool2d(out, 8).view(-1, self.in_planes)

    def get_layer_output(self, x, layer_index):
        pool = nn.AdaptiveAvgPool2d((1, 1))
        if layer_index > 3:
            return self.forward(x)
        out = self.trans1(self.block1(self.conv1(x)))
        if layer_index >= 2:
            out = self.trans2(self.block2(out))
        if layer_index == 3:
            out = self.relu(self.bn1(self.block3(out)))
        return pool(out)


# ---- models/vgg.py (VGGM, narrow) -------------------------------------------------------------------------------

class VGGM(nn.Module):
    def __init__(self, width):
        super().__init__()
        c = lambda n: scaled(n, width)  # noqa: E731
        cb = lambda i, o: [nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU()]  # noqa: E731
        self.encoder = nn.Sequential(
            *cb(3, c(64)), *cb(c(64), c(128)), nn.MaxPool2d(2, 2),
            *cb(c(128), c(256)), *cb(c(256), c(256)), nn.MaxPool2d(2, 2),
            *cb(c(256), c(256)), *cb(c(256), c(256)), *cb(c(256), c(256)), *cb(c(256), c(256)), nn.MaxPool2d(2, 2),
            nn.Flatten(), nn.Linear(c(256) * 4 * 4, c(1024)), nn.ReLU(), nn.Linear(c(1024), c(1024)), nn.ReLU())

    def forward(self, x):
        return self.encoder(x)

    def get_layer_output(self, x, layer_num):
        pool = nn.AdaptiveAvgPool2d((1, 1))
        if layer_num in (1, 2, 3):
            return torch.flatten(pool(self.encoder[0:{1: 5, 2: 12, 3: 25}[layer_num]](x)), 1)
        return self.forward(x)


# ---- models/wide_resnet.py (narrow) -----------------------------------------------------------------------------

class BasicBlock(nn.Module):
    def __init__(self, in_planes, out_planes, stride, dropRate=0.0):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(in_planes, out_planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_planes)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out_planes, out_planes, 3, 1, 1, bias=False)
        self.droprate = dropRate
        self.equalInOut = in_planes == out_planes
        self.convShortcut = (not self.equalInOut) and nn.Conv2d(in_planes, out_planes, 1, stride, 0, bias=False) or None

    def forward(self, x):
        if not self.equalInOut:
            x = self.relu1(self.bn1(x))
        else:
            out = self.relu1(self.bn1(x))
        out = self.relu2(self.bn2(self.conv1(out if self.equalInOut else x)))
        if self.droprate > 0:
            out = F.dropout(out, p=self.droprate, training=True)  # as the authors: also in eval mode
        out = self.conv2(out)
        return torch.add(x if self.equalInOut else self.convShortcut(x), out)


class NetworkBlock(nn.Module):
    def __init__(self, nb_layers, in_planes, out_planes, stride, dropRate):
        super().__init__()
        self.layer = nn.Sequential(*[
            BasicBlock(in_planes if i == 0 else out_planes, out_planes, stride if i == 0 else 1, dropRate)
            for i in range(nb_layers)])

    def forward(self, x):
        return self.layer(x)


class WideResNet(nn.Module):
    def __init__(self, depth, widen_factor, width, dropRate):
        super().__init__()
        ch = [scaled(16, width), scaled(16 * widen_factor, width), scaled(32 * widen_factor, width),
              scaled(64 * widen_factor, width)]
        n = (depth - 4) // 6
        self.conv1 = nn.Conv2d(3, ch[0], 3, 1, 1, bias=False)
        self.dropout = torch.nn.Dropout(0.3)
        self.block1 = NetworkBlock(n, ch[0], ch[1], 1, dropRate)
        self.block2 = NetworkBlock(n, ch[1], ch[2], 2, dropRate)
        self.block3 = NetworkBlock(n, ch[2], ch[3], 2, dropRate)
        self.bn1 = nn.BatchNorm2d(ch[3])
        self.relu = nn.ReLU()

    def forward(self, x):
        out = self.block3(self.block2(self.block1(self.conv1(x))))
        out = self.relu(self.relu(self.bn1(out)))
        out = F.avg_pool2d(out, 8)
        return out.view(-1, out.shape[1])

    def get_layer_output(self, x, layer_index):
        pool = nn.AdaptiveAvgPool2d((1, 1))
        if layer_index > 2:
            return self.forward(x)
        out = self.block1(self.conv1(x))
        if layer_index == 2:
            out = self.block2(out)
        return pool(out)


# ---- models/vae.py GMM_VAE_Contrastive (the attributes with state, in registration order) ------------------------

class GmmVaeContrastive(nn.Module):
    def __init__(self, encoder, enc_out_dim, latent_dim, input_height):
        super().__init__()
        self.encoder = encoder
        self.fc_mu = nn.Linear(enc_out_dim, latent_dim)
        self.fc_var = nn.Linear(enc_out_dim, latent_dim)
        self.metric_loss = MetricLossStandIn()
        self.ae = BoltsAEStandIn()
        self.sift = SiftStandIn(input_height)

    def ensemble(self, x):
        """test_step (vae.py l. 289-292): [flatten(get_layer_output(x, i)) for i in 1..4] + [mu]."""
        mu = self.fc_mu(self.encoder(x))
        return [torch.flatten(self.encoder.get_layer_output(x, i), 1) for i in range(1, 5)] + [mu]


def randomize(net, gen):
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            fan_in = m.weight[0].numel() if not isinstance(m, nn.ConvTranspose2d) else m.weight[:, 0].numel()
            m.weight.data = torch.randn(m.weight.shape, generator=gen) * (1.5 / fan_in) ** 0.5
            if m.bias is not None:
                m.bias.data = torch.randn(m.bias.shape, generator=gen) * 0.1
        elif isinstance(m, nn.BatchNorm2d):
            m.running_mean.data = torch.randn(m.running_mean.shape, generator=gen) * 0.2
            m.running_var.data = torch.rand(m.running_var.shape, generator=gen) + 0.5
            m.weight.data = torch.rand(m.weight.shape, generator=gen) + 0.5
            m.bias.data = torch.randn(m.bias.shape, generator=gen) * 0.2
            m.num_batches_tracked.fill_(18700)


def values(t):
    return [float(f"{v:.8g}") for v in t.detach().reshape(-1).tolist()]


def lightning_checkpoint(model, optimizer, scheduler, hparams, epoch, monitor, score, dirpath):
    """What PL 1.1.2's CheckpointConnector.dump_checkpoint builds, in its key order."""
    return {
        "epoch": epoch,
        "global_step": epoch * 374,
        "pytorch-lightning_version": "1.1.2",
        "callbacks": {MODEL_CHECKPOINT: {
            "monitor": monitor,
            "best_model_score": None if score is None else torch.tensor(score),
            "best_model_path": f"{dirpath}/last.ckpt",
            "current_score": None if score is None else torch.tensor(score),
            "dirpath": dirpath,
        }},
        "optimizer_states": [optimizer.state_dict()],
        "lr_schedulers": [] if scheduler is None else [scheduler.state_dict()],
        "state_dict": model.state_dict(),
        "hparams_name": "kwargs",
        "hyper_parameters": hparams,
    }


def vmdls_hparams(enc_type, enc_out_dim, latent_dim, input_height, known, lr, opt, extra):
    """A representative part of `dict(model.hparams)`: the init arguments and the command line's options."""
    return {
        "input_height": input_height, "enc_type": enc_type, "first_conv": False, "maxpool1": False,
        "enc_out_dim": enc_out_dim, "kl_coeff": 0.1, "latent_dim": latent_dim, "lr": lr, "class_num": 10,
        "generation_epoch": 0, "lower_bound": 0.05, "step_size": 100, "step_gamma": 0.1, "cov_scaling": 5.0,
        "recon_weight": 0.1, "gen_weight": 0.5, "log_tsne": False, "weights": None, "finetune": False,
        "finetune_lr": 0.0001, "known_dataset": known, "opt": opt, "ae_features": False,
        "margin_max_distance": 32.0, "sample_count": 16, "checkpoint_path": None, "margin_jumps": 1.0,
        "unknown_dataset": "omniglot" if known == "mnist" else "imagenet-resize", "batch_classes": 10,
        "offline": True, "batch_size": 400, "num_workers": 8, "data_dir": "./data", "gpus": "0,", "max_epochs": 500,
        **extra,
    }


def tf_inputs(x):
    return x.permute(0, 2, 3, 1).contiguous().numpy().astype("float32")


def main():
    torch.manual_seed(5)
    gen = torch.Generator().manual_seed(5)
    index = {"cases": {}}

    # MNIST: the VMDLS network (mnist-conv) and the reconstruction AE, width 0.05 of the authors' 100 / 500.
    width, latent = 0.05, 4
    c, hidden = scaled(100, width), scaled(500, width)
    x_mnist = torch.rand(N, 1, 28, 28, generator=gen) * 2 - 1  # blob transform: [-1, 1]
    tf_inputs(x_mnist).tofile(os.path.join(HERE, "vmdls_inputs_mnist.bin"))

    net = GmmVaeContrastive(MnistConvEncoder(c, hidden), hidden, latent, 28)
    randomize(net.encoder, gen)
    randomize(net.fc_mu, gen)
    randomize(net.fc_var, gen)
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=100, gamma=0.1)
    net.train()
    loss = net.fc_mu(net.encoder(x_mnist)).pow(2).sum() + net.fc_var(net.encoder(x_mnist)).sum()
    opt.zero_grad()
    loss.backward()
    opt.step()
    randomize(net.encoder, gen)  # the Adam step moved the weights; fresh random ones keep the scale known
    net.eval()
    torch.save(lightning_checkpoint(
        net, opt, sched,
        vmdls_hparams("mnist-conv", hidden, latent, 28, "mnist", 0.0001, "adam", {"data_transforms": "mnist"}),
        499, "f1_score", 0.987, "checkpoints/mnist/VMDLS-1"), os.path.join(HERE, "vmdls_cnn_mnist.ckpt"))
    with torch.no_grad():
        members = net.ensemble(x_mnist)
        log_var = net.fc_var(net.encoder(x_mnist))

    ae = MNIST_AE(c, hidden, latent)
    randomize(ae, gen)
    ae_opt = torch.optim.Adam(ae.parameters(), lr=1e-4)
    ae.eval()
    torch.save(lightning_checkpoint(
        ae, ae_opt, None,
        {"input_height": 28, "enc_type": "mnist", "first_conv": False, "maxpool1": False, "enc_out_dim": hidden,
         "kl_coeff": 0.1, "latent_dim": latent, "lr": 0.0001, "dataset": "mnist", "batch_size": 256,
         "num_workers": 8, "data_dir": ".", "gpus": 1, "max_epochs": 100},
        99, None, None, "lightning_logs/version_0/checkpoints"), os.path.join(HERE, "vmdls_ae_mnist.ckpt"))
    with torch.no_grad():
        x_hat = ae(x_mnist)  # the faithful range: the AE gets the [-1, 1] batch (vae.py l. 319)
        d_x = torch.flatten(net.encoder.get_layer_output(x_mnist, 1), 1)
        d_hat = torch.flatten(net.encoder.get_layer_output(x_hat, 1), 1)
        r = ((d_x - d_hat) ** 2).mean(axis=1)  # test_epoch_end, vae.py l. 553 (before the division by max)

    index["cases"]["vmdls_cnn_mnist.ckpt"] = {
        "encType": "mnist-conv", "backbone": "mnist_conv", "options": {"width": width}, "latentDim": latent,
        "inputs": "vmdls_inputs_mnist.bin", "inputShape": [N, 28, 28, 1],
        "members": [values(m) for m in members], "memberDims": [m.shape[1] for m in members],
        "logVar": values(log_var),
    }
    index["cases"]["vmdls_ae_mnist.ckpt"] = {
        "autoencoder": {"width": width, "latentDim": latent}, "inputs": "vmdls_inputs_mnist.bin",
        "inputShape": [N, 28, 28, 1], "reconstruction": values(x_hat.permute(0, 2, 3, 1)), "r": values(r),
        "encoderCheckpoint": "vmdls_cnn_mnist.ckpt",
    }

    # CIFAR-10 encoders, 32x32 inputs (the authors' F.avg_pool2d(out, 8) needs them).
    x_cifar = torch.randn(N, 3, 32, 32, generator=gen)
    tf_inputs(x_cifar).tofile(os.path.join(HERE, "vmdls_inputs_cifar.bin"))
    cases = [
        # file, --enc_type, registry backbone, TF.js options, authors' encoder (narrow)
        ("vmdls_c10_densenet.ckpt", "densenet", "densenet_bc_100", {"depth": 10, "growthRate": 2},
         lambda: DenseNet3(10, 10, growth_rate=2)),
        ("vmdls_c10_resnet.ckpt", "resnet18", "resnet18", {"width": 1 / 64},
         lambda: ResNetEncoder([scaled(w, 1 / 64) for w in (64, 128, 256, 512)])),
        ("vmdls_c10_vgg.ckpt", "vgg", "vmdls_vgg", {"width": 1 / 64}, lambda: VGGM(1 / 64)),
        ("vmdls_c10_wresnet.ckpt", "wresnet", "wrn_28_10",
         {"depth": 10, "widenFactor": 2, "width": 0.125, "dropRate": 0.1},
         lambda: WideResNet(10, 2, 0.125, 0.1)),
    ]
    for file, enc_type, backbone, options, make in cases:
        encoder = make()
        with torch.no_grad():
            dim = encoder(torch.zeros(1, 3, 32, 32)).shape[1] if enc_type != "wresnet" else None
        if enc_type == "wresnet":
            dim = encoder.bn1.num_features
        net = GmmVaeContrastive(encoder, dim, latent, 32)
        randomize(net.encoder, gen)
        randomize(net.fc_mu, gen)
        randomize(net.fc_var, gen)
        opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=100, gamma=0.1)
        net.eval()
        torch.save(lightning_checkpoint(
            net, opt, sched, vmdls_hparams(enc_type, dim, latent, 32, "cifar_known", 0.1, "sgd", {}),
            499, "f1_score", 0.91, "checkpoints/cifar_known/VMDLS-2"), os.path.join(HERE, file))
        if enc_type == "wresnet":
            for m in net.encoder.modules():
                if isinstance(m, BasicBlock):
                    m.droprate = 0.0  # the expected output (see the module docstring)
        with torch.no_grad():
            members = net.ensemble(x_cifar)
            log_var = net.fc_var(net.encoder(x_cifar))
        index["cases"][file] = {
            "encType": enc_type, "backbone": backbone, "options": options, "latentDim": latent,
            "inputs": "vmdls_inputs_cifar.bin", "inputShape": [N, 32, 32, 3],
            "members": [values(m) for m in members], "memberDims": [m.shape[1] for m in members],
            "logVar": values(log_var),
        }

    with open(os.path.join(HERE, "vmdls_outputs.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
