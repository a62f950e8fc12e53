/**
 * VGG networks with batch norm for 32×32 inputs (Simonyan & Zisserman, ICLR 2015; BN after every convolution
 * as in Ioffe & Szegedy 2015), and VMDLS's smaller `VGGM`. Architectures are data: a list of convolution
 * widths and `"M"` (2×2 max-pool).
 * @module
 */
import { tf } from "../tf.ts";
import { NORMALIZATION } from "../datasets/normalization.ts";
import { assembleBackbone } from "./assemble.ts";
import { bn, checkWidth, conv, dense, gap, mark, relu, scaled, STAGE_PREFIX, type Sym } from "./_blocks.ts";
import type { Backbone, BackboneOptions } from "./types.ts";

/** A VGG layer list: convolution widths and "M" for a 2×2 max-pool. */
export type VggLayers = readonly (number | "M")[];

/** The VGG configurations of Simonyan & Zisserman's Table 1 (A, B, D, E). */
export const VGG_CONFIGS = {
  vgg11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
  vgg13: [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
  vgg16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
  vgg19: [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
} as const satisfies Record<string, VggLayers>;

const pool = (x: Sym) => tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }).apply(x) as Sym;
const convBn = (x: Sym, filters: number) => bn(conv(x, { filters, kernelSize: 3, useBias: true, init: "torch" }));

/**
 * A CIFAR VGG with batch norm: [conv3×3 (with bias)-BN-ReLU]… with max-pools as listed, global average
 * pooling (the map is 1×1 for 32×32 inputs, so this equals the usual flatten), one linear head — the
 * common CIFAR adaptation of VGG (no 4096-wide FC layers). PyTorch-default initialisation.
 * `featureList`: the output of every max-pool, average-pooled (the last equals `features`).
 * @param cfg Registry name and layer list.
 * @param opts Classes, input shape (default 32×32×3), width, normalization (default CIDER's CIFAR mean/std).
 * @returns The backbone (featureDim = last width × width multiplier).
 */
export function vggBn(cfg: { name: string; layers: VggLayers }, opts: BackboneOptions): Backbone {
  const width = checkWidth(opts.width);
  const input = tf.input({ shape: [...(opts.inputShape ?? [32, 32, 3])] });
  let h: Sym = input;
  let stage = 0;
  for (const layer of cfg.layers) {
    h = layer === "M" ? mark(pool(h), `${STAGE_PREFIX}${stage++}`) : relu(convBn(h, scaled(layer, width)));
  }
  return assembleBackbone({
    name: cfg.name,
    input,
    features: gap(h),
    headHidden: opts.headHidden,
    numClasses: opts.numClasses,
    normalization: opts.normalization ?? NORMALIZATION.cifarSupcon,
  });
}

/**
 * VGG-16 with batch norm for CIFAR (Simonyan & Zisserman, ICLR 2015, configuration D): 13 conv-BN-ReLU layers,
 * 512-d features, 14.73 M parameters with 10 classes.
 * @see {@link https://arxiv.org/abs/1409.1556 | Paper}
 * @param opts Classes, input shape, width, normalization.
 * @returns The backbone.
 * @example Usage
 * ```ts
 * const net = vgg16Bn({ numClasses: 10, width: 0.25 });
 * ```
 */
export const vgg16Bn = (opts: BackboneOptions): Backbone =>
  vggBn({ name: "vgg16_bn", layers: VGG_CONFIGS.vgg16 }, opts);

/**
 * VGG-11 with batch norm for CIFAR (configuration A): 8 conv-BN-ReLU layers, 512-d features, 9.23 M parameters
 * with 10 classes — a lighter VGG for the CPU profile.
 * @see {@link https://arxiv.org/abs/1409.1556 | Paper}
 * @param opts Classes, input shape, width, normalization.
 * @returns The backbone.
 * @example Usage
 * ```ts
 * const net = vgg11Bn({ numClasses: 10 });
 * ```
 */
export const vgg11Bn = (opts: BackboneOptions): Backbone =>
  vggBn({ name: "vgg11_bn", layers: VGG_CONFIGS.vgg11 }, opts);

/**
 * VMDLS's "vgg" encoder `VGGM` (Dinari & Freifeld, UAI 2022; BGU-CS-VIL/vmdls `models/vgg.py`):
 * conv-BN-ReLU widths 64, 128, M, 256, 256, M, 256×4, M (32 → 4), flatten (4096), dense(1024)-ReLU,
 * dense(1024)-ReLU — the 1024-d feature g(x); then our linear head (VMDLS puts μ/log σ² heads there).
 * Convolutions with bias, PyTorch-default initialisation.
 * `featureList` reproduces VMDLS's `get_layer_output(x, 1..3)` slices: the BN outputs of the 2nd, 4th and 8th
 * convolutions *before* their ReLU (`encoder[0:5]`, `[0:12]`, `[0:25]`), average-pooled, then g(x).
 * @see {@link https://openreview.net/pdf?id=ScLeuUUi9gq | Paper}
 * @param opts Classes, input shape (default 32×32×3), width (convolutions and dense layers), normalization
 *   (default VMDLS's CIFAR mean/std).
 * @returns The backbone (featureDim 1024 at width 1).
 * @example Usage
 * ```ts
 * const net = vmdlsVgg({ numClasses: 10 });
 * ```
 */
export function vmdlsVgg(opts: BackboneOptions): Backbone {
  const width = checkWidth(opts.width);
  const input = tf.input({ shape: [...(opts.inputShape ?? [32, 32, 3])] });
  const c = (n: number) => scaled(n, width);
  let h = relu(convBn(input, c(64)));
  h = mark(convBn(h, c(128)), `${STAGE_PREFIX}0`);
  h = relu(convBn(pool(relu(h)), c(256)));
  h = mark(convBn(h, c(256)), `${STAGE_PREFIX}1`);
  h = pool(relu(h));
  for (let i = 0; i < 3; i++) h = relu(convBn(h, c(256)));
  h = mark(convBn(h, c(256)), `${STAGE_PREFIX}2`);
  h = tf.layers.flatten().apply(pool(relu(h))) as Sym;
  h = dense(h, c(1024), { name: "vmdls_vgg_fc1", activation: "relu" });
  h = dense(h, c(1024), { name: "vmdls_vgg_fc2", activation: "relu" });
  return assembleBackbone({
    name: "vmdls_vgg",
    input,
    features: mark(h, `${STAGE_PREFIX}3`),
    headHidden: opts.headHidden,
    numClasses: opts.numClasses,
    normalization: opts.normalization ?? NORMALIZATION.cifarVmdls,
  });
}
