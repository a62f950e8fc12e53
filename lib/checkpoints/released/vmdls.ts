/**
 * VMDLS's released weights (Dinari & Freifeld, UAI 2022; `BGU-CS-VIL/vmdls` @5add9e2) and the name maps from
 * their `state_dict` keys to our networks: the VMDLS network (`lib/methods/vmdls/network.ts`: a registry backbone
 * plus the μ / log σ² heads) and the MNIST auto-encoder (`lib/methods/vmdls/autoencoder.ts`).
 *
 * Where the files are: the README (l. 28-29) links one Google Drive folder that holds "all the checkpoints and
 * weights"; it names the files at l. 35 (`ae_mnist.ckpt`, `ae_cifar100.ckpt`), l. 49-50 (`checkpoint_100.pth.tar`,
 * with a second Drive folder as an alternative, and `finetuning_wideresnet.tar`) and in the test commands, l. 69-84
 * (`cifar10_densenet.ckpt`, `cifar10_resnet.ckpt`, `cifar10_vgg.ckpt`, `cifar10_wresnet.ckpt`,
 * `cifar100_densenet.ckpt`, `cnn_mnist.ckpt`). Google Drive needs a browser: every file is `manual`. The authors
 * publish no size or checksum.
 *
 * What the authors' code does, and the maps encode (read at 5add9e2):
 * - `models/vae.py` `GMM_VAE_Contrastive`, a PyTorch Lightning 1.1.2 module, registers `encoder` (l. 148-156),
 *   `fc_mu`, `fc_var` (l. 163-164, `nn.Linear(enc_out_dim, latent_dim)`), `metric_loss` (l. 165, no state), `ae`
 *   (l. 174-177: pl_bolts' CIFAR-10 ResNet-18 auto-encoder, loaded for every dataset and frozen) and `sift`
 *   (l. 178, kornia's `SIFTDescriptor`, whose pooling conv `pk` has a weight). Lightning saves `state_dict()` of
 *   that module under `state_dict` (beside `epoch`, `callbacks`, `optimizer_states`, `lr_schedulers`,
 *   `hyper_parameters`), so the keys are `encoder.…`, `fc_mu.…`, `fc_var.…`, `ae.…`, `sift.pk.weight`; no
 *   DataParallel prefix (`main.py` l. 74 uses the Trainer's single-GPU `--gpus "0,"`). The test-time score uses
 *   `encoder`, `fc_mu` (`test_step`, l. 287-292); `ae` is replaced by `ae_dict[known_dataset]` before the scoring
 *   pass (`calculate_gaussian`, l. 810-811) and `sift` is never called, so the maps ignore `ae.` and `sift.`; they
 *   load `fc_var` (log σ²) for completeness.
 * - The encoders (`--enc_type`), with the modules each map lists in our layer-creation order:
 *   - `mnist-conv`: `MnistConvEncoder` (`models/decoders_encoders.py` l. 40-63): `encoder.{0,2,5,7,10}`
 *     (Conv2d with bias), `dec_layer` (Linear after `view(-1, 900)`: a (C, H, W) flatten);
 *   - `densenet`: `DenseNet3(100, class_num)` (`models/densenet.py` l. 68-129): `conv1`,
 *     `block<b>.layer.<i>.{bn1, conv1, bn2, conv2}`, `trans<b>.{bn1, conv1}`, `bn1`, and an `fc` that `forward`
 *     never calls (ignored);
 *   - `resnet18`: `ResNetEncoder` (`models/resnet_encoders.py` l. 206-267, pl_bolts' copy; `first_conv` and
 *     `maxpool1` false: a 3×3 stem, an identity max-pool): `conv1`, `bn1`,
 *     `layer<s>.<b>.{conv1, bn1, conv2, bn2, downsample.0, downsample.1}`, no classifier;
 *   - `vgg`: `VGGM` (`models/vgg.py` l. 8-53): `encoder.<i>` for the convolutions (with bias) and BatchNorms of
 *     the `nn.Sequential`, then `encoder.28` (Linear after a (C, 4, 4) flatten) and `encoder.30`;
 *   - `wresnet`: `WideResNet(28, class_num, 10, 0.1)` (`models/wide_resnet.py` l. 45-82): `conv1`,
 *     `block<g>.layer.<i>.{bn1, conv1, bn2, conv2, convShortcut}` (the shortcut only where the width changes),
 *     `bn1`; no classifier. Its blocks apply dropout 0.1 even in evaluation mode (`training=True`, l. 29); our
 *     network's dropout follows `training`, so we compute the expected (dropout-free) output.
 * - `models/mnist_ae.py` `MNIST_AE` (`ae_mnist.ckpt`, vae.py l. 75) registers `encoder` (`MnistConvEncoder`),
 *   `decoder` (`MnistConvDecoder`: `latent`, `enc_layer`, then `decoder.{0,2,4,6,8,10}` ConvTranspose2d and
 *   `decoder.12` Conv2d 1×1, `models/decoders_encoders.py` l. 79-106) and `fc` (l. 99); `forward` is
 *   decoder(fc(encoder(x))). `enc_layer`'s 900 outputs are reshaped by `view(-1, 100, 3, 3)`: a (C, H, W) unflatten.
 * @module
 */
import type { ModuleSpec, StateDictMap } from "../load_state_dict.ts";
import type { ReleasedFile } from "./types.ts";

/** The commit of `BGU-CS-VIL/vmdls` whose README was read (HEAD, "Merge pull request #1"). */
export const VMDLS_RELEASE_COMMIT = "5add9e29";

/** The Google Drive folder of all released files (README l. 29). */
export const VMDLS_DRIVE_URL = "https://drive.google.com/drive/folders/10lGq9LNyaWhFaN0eCGQd_sMaTob87ZaL?usp=sharing";

/** The README's alternative folder for `checkpoint_100.pth.tar` (l. 49). */
export const VMDLS_FINETUNE_ALT_URL = "https://drive.google.com/drive/folders/1HOG05gDorYBxaKXGrF9nXnvYrVogsZaw";

/** The `--enc_type` values of the released encoders. */
export type VmdlsEncType = "mnist-conv" | "densenet" | "resnet18" | "vgg" | "wresnet";

function entry(id: string, filename: string, description: string, source: string, url = VMDLS_DRIVE_URL): ReleasedFile {
  return {
    paper: "vmdls",
    id,
    description,
    url,
    download: "manual",
    filename,
    format: "file",
    source: `README.md at ${VMDLS_RELEASE_COMMIT}: ${source}; the files are in the Google Drive folder of l. 29 ` +
      "(no size or checksum published)",
  };
}

const lightning = (what: string, cmd: string) =>
  `${what}: a PyTorch Lightning 1.1.2 checkpoint of GMM_VAE_Contrastive (models/vae.py), test command ${cmd}`;

/** VMDLS's released files (README at 5add9e2), all in one Google Drive folder: downloaded by hand. */
export const VMDLS_RELEASED: readonly ReleasedFile[] = [
  entry(
    "cnn_mnist",
    "cnn_mnist.ckpt",
    lightning("MNIST, mnist-conv encoder, D = 32", "README l. 84"),
    "l. 84 (--checkpoint_path cnn_mnist.ckpt)",
  ),
  entry(
    "ae_mnist",
    "ae_mnist.ckpt",
    "MNIST reconstruction auto-encoder (MNIST_AE, models/mnist_ae.py; vae.py l. 75 loads models/ae_mnist.ckpt)",
    "l. 35",
  ),
  entry(
    "cifar10_densenet",
    "cifar10_densenet.ckpt",
    lightning("CIFAR-10, DenseNet-BC-100 encoder, D = 32", "README l. 69"),
    "l. 69",
  ),
  entry(
    "cifar10_resnet",
    "cifar10_resnet.ckpt",
    lightning("CIFAR-10, ResNet-18 encoder, D = 32", "README l. 72"),
    "l. 72",
  ),
  entry("cifar10_vgg", "cifar10_vgg.ckpt", lightning("CIFAR-10, VGG (VGGM) encoder, D = 32", "README l. 75"), "l. 75"),
  entry(
    "cifar10_wresnet",
    "cifar10_wresnet.ckpt",
    lightning("CIFAR-10, WRN-28-10 encoder, D = 32, no reconstruction weighting", "README l. 78"),
    "l. 78",
  ),
  entry(
    "cifar100_densenet",
    "cifar100_densenet.ckpt",
    lightning("CIFAR-100, DenseNet-BC-100 encoder, D = 64", "README l. 81"),
    "l. 81",
  ),
  entry(
    "ae_cifar100",
    "ae_cifar100.ckpt",
    "CIFAR-100 reconstruction auto-encoder (pl_bolts AE with a ResNet-50 encoder; models/train_resnet_ae.py; " +
      "vae.py l. 74 loads models/ae_cifar100.ckpt)",
    "l. 35",
  ),
  entry(
    "checkpoint_100",
    "checkpoint_100.pth.tar",
    "CIFAR-100 DenseNet-BC-100 classifier the CIFAR-100 fine-tuning starts from (--weights, main.py; its " +
      `'state_dict' is loaded into the encoder, vae.py l. 157-162); also in ${VMDLS_FINETUNE_ALT_URL}`,
    "l. 49 (and the fine-tuning command, l. 147-148)",
  ),
  entry(
    "finetuning_wideresnet",
    "finetuning_wideresnet.tar",
    "CIFAR-10 WRN-28-10 classifier the WRN fine-tuning starts from (--weights; vae.py l. 157-162)",
    "l. 50 (and the fine-tuning command, l. 153)",
  ),
];

/** What the released file of each VMDLS network is, for the notebook's released run. */
export interface VmdlsReleasedNetwork {
  /** The released checkpoint (id in {@linkcode VMDLS_RELEASED}). */
  readonly id: string;
  /** `--enc_type`. */
  readonly encType: VmdlsEncType;
  /** ID dataset (registry name). */
  readonly idDataset: "mnist" | "cifar10" | "cifar100";
  /** Latent dimension D (`--latent_dim` of the README's test command). */
  readonly latentDim: number;
  /** The auto-encoder of the reconstruction weighting (`--ae_features`), or null (WRN, or not shipped here). */
  readonly autoencoder: string | null;
  /** The README line of the test command. */
  readonly readmeLine: number;
}

/** The released VMDLS networks by checkpoint id (README test commands, l. 69-84). */
export const VMDLS_RELEASED_NETWORKS: Readonly<Record<string, VmdlsReleasedNetwork>> = {
  cnn_mnist: {
    id: "cnn_mnist",
    encType: "mnist-conv",
    idDataset: "mnist",
    latentDim: 32,
    autoencoder: "ae_mnist",
    readmeLine: 84,
  },
  cifar10_densenet: {
    id: "cifar10_densenet",
    encType: "densenet",
    idDataset: "cifar10",
    latentDim: 32,
    autoencoder: null,
    readmeLine: 69,
  },
  cifar10_resnet: {
    id: "cifar10_resnet",
    encType: "resnet18",
    idDataset: "cifar10",
    latentDim: 32,
    autoencoder: null,
    readmeLine: 72,
  },
  cifar10_vgg: {
    id: "cifar10_vgg",
    encType: "vgg",
    idDataset: "cifar10",
    latentDim: 32,
    autoencoder: null,
    readmeLine: 75,
  },
  cifar10_wresnet: {
    id: "cifar10_wresnet",
    encType: "wresnet",
    idDataset: "cifar10",
    latentDim: 32,
    autoencoder: null,
    readmeLine: 78,
  },
  cifar100_densenet: {
    id: "cifar100_densenet",
    encType: "densenet",
    idDataset: "cifar100",
    latentDim: 64,
    autoencoder: null,
    readmeLine: 81,
  },
};

/** The architecture parameters of an encoder's map (the released files: the defaults; fixtures: narrow). */
export interface VmdlsEncoderArch {
  /** mnist-conv: channels of the convolutions (100), for `dec_layer`'s (C, 3, 3) flatten. */
  channels?: number;
  /** vgg: channels of the last convolution (256), for `encoder.28`'s (C, 4, 4) flatten. */
  vggChannels?: number;
  /** densenet: depth (100; bottleneck blocks). wresnet: depth (28). */
  depth?: number;
  /** resnet18: blocks per stage ([2, 2, 2, 2]). */
  blocks?: readonly number[];
  /** wresnet: widening factor (10): group 1 has a shortcut convolution when it is not 1. */
  widenFactor?: number;
}

/** The encoder's modules (names without the `encoder.` prefix) in our layer-creation order. */
export function vmdlsEncoderModules(encType: VmdlsEncType, arch: VmdlsEncoderArch = {}): ModuleSpec[] {
  const conv = (name: string): ModuleSpec => ({ name, kind: "conv" });
  const bn = (name: string): ModuleSpec => ({ name, kind: "bn" });
  switch (encType) {
    case "mnist-conv": {
      const c = arch.channels ?? 100;
      return [0, 2, 5, 7, 10].map((i) => conv(`encoder.${i}`)).concat({
        name: "dec_layer",
        kind: "dense",
        flattenChw: [c, 3, 3],
      });
    }
    case "vgg": {
      const c = arch.vggChannels ?? 256;
      const convs = [0, 3, 7, 10, 14, 17, 20, 23];
      return [
        ...convs.flatMap((i) => [conv(`encoder.${i}`), bn(`encoder.${i + 1}`)]),
        { name: "encoder.28", kind: "dense", flattenChw: [c, 4, 4] },
        { name: "encoder.30", kind: "dense" },
      ];
    }
    case "densenet": {
      const depth = arch.depth ?? 100;
      if (!Number.isInteger(depth) || depth < 10 || (depth - 4) % 6 !== 0) {
        throw new RangeError(`DenseNet3 (bottleneck) depth must be 4 + 6·n, got ${depth}`);
      }
      const n = (depth - 4) / 6;
      const out: ModuleSpec[] = [conv("conv1")];
      for (let b = 1; b <= 3; b++) {
        for (let i = 0; i < n; i++) {
          const p = `block${b}.layer.${i}`;
          out.push(bn(`${p}.bn1`), conv(`${p}.conv1`), bn(`${p}.bn2`), conv(`${p}.conv2`));
        }
        if (b < 3) out.push(bn(`trans${b}.bn1`), conv(`trans${b}.conv1`));
      }
      return [...out, bn("bn1")];
    }
    case "resnet18": {
      const blocks = arch.blocks ?? [2, 2, 2, 2];
      const out: ModuleSpec[] = [conv("conv1"), bn("bn1")];
      blocks.forEach((count, s) => {
        for (let b = 0; b < count; b++) {
          const p = `layer${s + 1}.${b}`;
          out.push(conv(`${p}.conv1`), bn(`${p}.bn1`), conv(`${p}.conv2`), bn(`${p}.bn2`));
          // The first block of stages 2-4 halves the map and doubles the width: a projection shortcut.
          if (b === 0 && s > 0) out.push(conv(`${p}.downsample.0`), bn(`${p}.downsample.1`));
        }
      });
      return out;
    }
    case "wresnet": {
      const depth = arch.depth ?? 28;
      if (!Number.isInteger(depth) || depth < 10 || (depth - 4) % 6 !== 0) {
        throw new RangeError(`WideResNet depth must be 4 + 6·n, got ${depth}`);
      }
      const n = (depth - 4) / 6;
      const k = arch.widenFactor ?? 10;
      const out: ModuleSpec[] = [conv("conv1")];
      for (let g = 1; g <= 3; g++) {
        for (let i = 0; i < n; i++) {
          const p = `block${g}.layer.${i}`;
          out.push(bn(`${p}.bn1`), conv(`${p}.conv1`), bn(`${p}.bn2`), conv(`${p}.conv2`));
          // A block that changes the width (the first of groups 2-3; of group 1 when k ≠ 1) has `convShortcut`.
          if (i === 0 && (g > 1 || k !== 1)) out.push(conv(`${p}.convShortcut`));
        }
      }
      return [...out, bn("bn1")];
    }
  }
}

/** Keys of a GMM_VAE_Contrastive checkpoint the evaluation does not use (see the module documentation). */
export function vmdlsIgnoredKey(encType: VmdlsEncType) {
  return (key: string): boolean =>
    key.startsWith("ae.") || key.startsWith("sift.") || key.startsWith("metric_loss.") ||
    (encType === "densenet" && key.startsWith("encoder.fc."));
}

/**
 * The name map of a released VMDLS checkpoint (`GMM_VAE_Contrastive.state_dict()`) onto `vmdlsNet(backbone).model`
 * (the backbone's layers up to g, then `vmdls_mu`, `vmdls_logvar`): `encoder.<module>` in our layer order, then
 * `fc_mu`, `fc_var`; `ae.`, `sift.` (and DenseNet's unused `encoder.fc`) ignored.
 *
 * @param encType `--enc_type` of the checkpoint.
 * @param arch Architecture parameters (defaults: the released networks; narrow fixtures pass theirs).
 * @example The released MNIST network
 * ```ts
 * const map = vmdlsNetMap("mnist-conv");
 * ```
 */
export function vmdlsNetMap(encType: VmdlsEncType, arch: VmdlsEncoderArch = {}): StateDictMap {
  return {
    label: `VMDLS GMM_VAE_Contrastive (--enc_type ${encType})`,
    modules: [
      ...vmdlsEncoderModules(encType, arch).map((m) => ({ ...m, name: `encoder.${m.name}` })),
      { name: "fc_mu", kind: "dense" },
      { name: "fc_var", kind: "dense" },
    ],
    ignore: vmdlsIgnoredKey(encType),
  };
}

/**
 * The name map of `ae_mnist.ckpt` (`MNIST_AE.state_dict()`) onto `mnistAutoencoder()`'s model: the encoder's
 * convolutions and `dec_layer` (a (C, 3, 3) flatten), `fc`, `decoder.latent`, `decoder.enc_layer` (a (C, 3, 3)
 * unflatten), the six transposed convolutions and the 1×1 output convolution.
 *
 * @param arch `channels`: the convolutions' width (100; narrow fixtures pass theirs).
 */
export function vmdlsMnistAeMap(arch: Pick<VmdlsEncoderArch, "channels"> = {}): StateDictMap {
  const c = arch.channels ?? 100;
  return {
    label: "VMDLS MNIST_AE (models/mnist_ae.py)",
    modules: [
      ...vmdlsEncoderModules("mnist-conv", { channels: c }).map((m) => ({ ...m, name: `encoder.${m.name}` })),
      { name: "fc", kind: "dense" },
      { name: "decoder.latent", kind: "dense" },
      { name: "decoder.enc_layer", kind: "dense", unflattenChw: [c, 3, 3] },
      ...[0, 2, 4, 6, 8, 10].map((i): ModuleSpec => ({ name: `decoder.decoder.${i}`, kind: "convTranspose" })),
      { name: "decoder.decoder.12", kind: "conv" },
    ],
  };
}
