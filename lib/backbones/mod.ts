/**
 * The backbone registry: `createBackbone(name, options)` builds any network of the five papers by name.
 *
 * | name | network | used by | features | params (10 classes) |
 * |---|---|---|---|---|
 * | `lenet` | small MNIST CNN (this project's main job) | – | 128 | 0.42 M |
 * | `lenet5` | LeNet-5 (LeCun et al. 1998), ReLU/max-pool form | – | 84 | 0.06 M |
 * | `mnist_conv` | VMDLS `MnistConvEncoder` | VMDLS | 500 | 0.82 M |
 * | `cmg_cnn` | CMG 9-layer CNN + MLP head, LeakyReLU, Dropout2d | CMG | 2048 | 2.05 M |
 * | `resnet20` | CIFAR ResNet-20 (He et al. 2016) | – | 64 | 0.27 M |
 * | `resnet18` | CIFAR ResNet-18 | CIDER, CMG | 512 | 11.17 M |
 * | `resnet34` | CIFAR ResNet-34 | CIDER | 512 | 21.28 M |
 * | `densenet_bc_100` | DenseNet-BC-100, k = 12 (ODIN's `DenseNet3`) | ELOC, UM, VMDLS | 342 | 0.77 M |
 * | `wrn_28_10` | WRN-28-10 | ELOC, VMDLS | 640 | 36.48 M |
 * | `wrn_40_2` | WRN-40-2 | – | 128 | 2.24 M |
 * | `vgg16_bn` | CIFAR VGG-16 with BN | – | 512 | 14.73 M |
 * | `vgg11_bn` | CIFAR VGG-11 with BN | – | 512 | 9.23 M |
 * | `vmdls_vgg` | VMDLS `VGGM` | VMDLS | 1024 | 8.58 M |
 *
 * Every factory takes {@link BackboneOptions} (`numClasses`, `inputShape`, `width`, `normalization`); some take
 * more (`ResNetOptions.shortcut`; `DenseNetOptions` depth/growthRate/compression/bottleneck/dropRate/
 * affineBatchNorm; `WideResNetOptions` depth/widenFactor/dropRate; `CmgCnnOptions` dropRate); every
 * factory also takes `headHidden` for an MLP head (CMG's classifier).
 * Parameter counts at width 1 equal the reference PyTorch definitions (tests/backbones/param_counts_test.ts), and
 * given the same weights every network computes the same logits, features and featureList as its PyTorch
 * reference (tests/backbones/torch_equivalence_test.ts; strided convolutions pad like PyTorch for that).
 * Layout differences to keep in mind when porting PyTorch weights: tensors are NHWC, kernels HWIO, dense kernels
 * [in, out], and a flatten of a feature map runs over (H, W, C), so the first dense layer after a flatten
 * (LeNet-5, `mnist_conv`, `cmg_cnn`, `vmdls_vgg`) needs its inputs permuted from PyTorch's (C, H, W) order
 * (tests/backbones/testdata/torch_outputs.py does it); `cmg_cnn`'s 2048-d features are in (H, W, C) order.
 * @module
 */
import { lenet, lenet5 } from "./lenet.ts";
import { cmgCnn, mnistConv } from "./mnist_cnn.ts";
import { resnet18, resnet20, resnet34 } from "./resnet.ts";
import { densenetBc } from "./densenet.ts";
import { wrn28x10, wrn40x2 } from "./wide_resnet.ts";
import { vgg11Bn, vgg16Bn, vmdlsVgg } from "./vgg.ts";
import type { Backbone, BackboneOptions } from "./types.ts";

export type { Backbone, BackboneOptions, ForwardOptions, LinearWeights, Normalization } from "./types.ts";
export type { ResNetOptions } from "./resnet.ts";
export type { DenseNetOptions } from "./densenet.ts";
export type { WideResNetOptions } from "./wide_resnet.ts";
export type { CmgCnnOptions } from "./mnist_cnn.ts";
export { assembleBackbone, backboneFromModel } from "./assemble.ts";

/** Every backbone factory by name (see the module table). */
export const BACKBONES = {
  lenet,
  lenet5,
  mnist_conv: mnistConv,
  cmg_cnn: cmgCnn,
  resnet20,
  resnet18,
  resnet34,
  densenet_bc_100: densenetBc,
  wrn_28_10: wrn28x10,
  wrn_40_2: wrn40x2,
  vgg16_bn: vgg16Bn,
  vgg11_bn: vgg11Bn,
  vmdls_vgg: vmdlsVgg,
} as const satisfies Record<string, (opts: BackboneOptions) => Backbone>;

/** A key of {@link BACKBONES}. */
export type BackboneName = keyof typeof BACKBONES;

/** The options each backbone accepts, by name. */
export type BackboneOptionsMap = { [N in BackboneName]: Parameters<typeof BACKBONES[N]>[0] };

/** The options the backbone `N` accepts. */
export type BackboneOptionsOf<N extends BackboneName> = BackboneOptionsMap[N];

/** True when `name` is a registered backbone. */
export function isBackboneName(name: string): name is BackboneName {
  return Object.hasOwn(BACKBONES, name);
}

/**
 * Builds the backbone `name`.
 * @param name A key of {@link BACKBONES}.
 * @param opts The factory's options (at least `numClasses`).
 * @returns A new, randomly initialised backbone.
 * @throws Error listing the valid names when `name` is unknown.
 * @example A narrow DenseNet-BC-100 for the CPU profile
 * ```ts
 * const net = createBackbone("densenet_bc_100", { numClasses: 10, width: 0.5 });
 * const logits = net.logits(tf.zeros([2, 32, 32, 3]));
 * ```
 */
export function createBackbone<N extends BackboneName>(name: N, opts: BackboneOptionsOf<N>): Backbone;
/** Builds a backbone from a name known only at run time (e.g. a config file); throws for unknown names. */
export function createBackbone(name: string, opts: BackboneOptions): Backbone;
export function createBackbone(name: string, opts: BackboneOptions): Backbone {
  if (!isBackboneName(name)) {
    throw new Error(`Unknown backbone "${name}". Valid names: ${Object.keys(BACKBONES).join(", ")}.`);
  }
  return (BACKBONES[name] as (o: BackboneOptions) => Backbone)(opts);
}
