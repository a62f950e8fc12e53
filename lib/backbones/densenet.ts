/**
 * DenseNet-BC for 32×32 inputs (Huang, Liu, van der Maaten & Weinberger, CVPR 2017), in the form of ODIN's
 * `DenseNet3` that ELOC, Unleashing Mask and VMDLS all build on.
 * @module
 */
import { tf } from "../tf.ts";
import { NORMALIZATION } from "../datasets/normalization.ts";
import { assembleBackbone } from "./assemble.ts";
import { bn, checkWidth, conv, dropout, gap, mark, relu, scaled, STAGE_PREFIX, type Sym } from "./_blocks.ts";
import type { Backbone, BackboneOptions } from "./types.ts";

/** Options of {@link densenetBc}. */
export interface DenseNetOptions extends BackboneOptions {
  /** Total depth; (depth − 4) must be divisible by 6 with bottlenecks, by 3 without. @default 100 */
  depth?: number;
  /** Growth rate k before the width multiplier is applied. @default 12 */
  growthRate?: number;
  /** Transition compression θ (ODIN's `reduction`). @default 0.5 */
  compression?: number;
  /** Bottleneck layers (BN-ReLU-conv1×1(4k) before each conv3×3). @default true */
  bottleneck?: boolean;
  /** Dropout after every convolution inside blocks and transitions (Unleashing Mask uses 0.3). @default 0 */
  dropRate?: number;
  /** Learn BatchNorm's γ and β; false gives Unleashing Mask's `NonAffineBatchNorm`. @default true */
  affineBatchNorm?: boolean;
}

/** Layers per dense block for a depth, or an error that says which depths are valid. */
export function denseLayersPerBlock(depth: number, bottleneck: boolean): number {
  const step = bottleneck ? 6 : 3;
  if (!Number.isInteger(depth) || depth < 4 + step || (depth - 4) % step !== 0) {
    throw new RangeError(
      `DenseNet depth must be 4 + ${step}·n (n ≥ 1) ${bottleneck ? "with" : "without"} bottlenecks ` +
        `(e.g. ${[1, 2, 6, 16].map((n) => 4 + step * n).join(", ")}), got ${depth}`,
    );
  }
  return (depth - 4) / step;
}

/**
 * A DenseNet(-BC) for CIFAR: conv3×3(2k) stem; three dense blocks of n layers joined by transitions
 * (BN-ReLU-conv1×1(⌊θ·c⌋)-avgpool2); BN-ReLU; global average pooling; linear head with zero bias.
 * Convolutions N(0, 2 / (k²·out)), no bias. `width` scales the growth rate (and hence every width).
 * `featureList`: stem, after transition 1, after transition 2, final BN-ReLU — the four outputs of ODIN's
 * `feature_list` (Lee et al.'s Mahalanobis); VMDLS's ensemble uses the last three, which have 108/150/342
 * channels for DenseNet-BC-100.
 * @see {@link https://arxiv.org/abs/1608.06993 | Paper}
 * @param opts Classes, input shape (default 32×32×3), width, depth, growth rate, compression, bottleneck,
 *   dropout, affine BN, normalization (default ODIN's CIFAR mean/std).
 * @returns The backbone (its name is the registry key `densenet_bc_100` whatever the depth).
 * @example DenseNet-BC-100 with Unleashing Mask's settings
 * ```ts
 * const net = densenetBc({ numClasses: 10, dropRate: 0.3, affineBatchNorm: false });
 * ```
 */
export function densenetBc(opts: DenseNetOptions): Backbone {
  const width = checkWidth(opts.width);
  const bottleneck = opts.bottleneck ?? true;
  const depth = opts.depth ?? 100;
  const n = denseLayersPerBlock(depth, bottleneck);
  const k = scaled(opts.growthRate ?? 12, width);
  const compression = opts.compression ?? 0.5;
  if (!(compression > 0 && compression <= 1)) throw new RangeError(`compression must be in (0, 1], got ${compression}`);
  const rate = opts.dropRate ?? 0;
  const affine = opts.affineBatchNorm ?? true;
  const bnRelu = (x: Sym) => relu(bn(x, { affine }));
  const convDrop = (x: Sym, filters: number, kernelSize: number) => dropout(conv(x, { filters, kernelSize }), rate);

  const input = tf.input({ shape: [...(opts.inputShape ?? [32, 32, 3])] });
  let h = mark(conv(input, { filters: 2 * k, kernelSize: 3 }), `${STAGE_PREFIX}0`);
  for (let block = 0; block < 3; block++) {
    for (let i = 0; i < n; i++) {
      let y = bottleneck ? convDrop(bnRelu(h), 4 * k, 1) : h;
      y = convDrop(bnRelu(y), k, 3);
      h = tf.layers.concatenate({ axis: -1 }).apply([h, y]) as Sym;
    }
    if (block < 2) {
      const channels = Math.floor((h.shape[3] as number) * compression);
      h = convDrop(bnRelu(h), channels, 1);
      h = tf.layers.averagePooling2d({ poolSize: 2, strides: 2 }).apply(h) as Sym;
      h = mark(h, `${STAGE_PREFIX}${block + 1}`);
    }
  }
  h = mark(bnRelu(h), `${STAGE_PREFIX}3`);
  return assembleBackbone({
    name: "densenet_bc_100",
    input,
    features: gap(h),
    headHidden: opts.headHidden,
    numClasses: opts.numClasses,
    normalization: opts.normalization ?? NORMALIZATION.cifarOdin,
    zeroBiasHead: true,
  });
}
