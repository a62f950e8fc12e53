/**
 * CIFAR-style ResNets (He, Zhang, Ren & Sun, CVPR 2016): a 3×3 stride-1 stem without max-pool, stages of basic
 * blocks (conv3×3-BN-ReLU-conv3×3-BN + shortcut, ReLU), global average pooling, linear head.
 *
 * - ResNet-18 / ResNet-34: widths 64/128/256/512, blocks 2-2-2-2 / 3-4-6-3, the CIFAR variant of the CIDER
 *   (deeplearning-wisc/cider `models/resnet.py`) and CMG code; projection shortcuts (1×1 conv + BN) where the
 *   shape changes.
 * - ResNet-20: He et al.'s CIFAR network, widths 16/32/64, 3 blocks per stage. He et al. used parameter-free
 *   shortcuts (option A: stride-2 subsampling plus zero channels); the default here is the projection shortcut
 *   (option B), as in the ResNet-18 family and the benchmark; `shortcut: "padding"` gives option A.
 *
 * Convolutions have no bias and are initialised N(0, 2 / (k²·out)) (CIDER's `kaiming_normal_(mode="fan_out")`), or
 * with PyTorch's default (`convInit: "torch"`, CMG's ResNet-18).
 * `featureList`: the stem's and every stage's output, average-pooled (the last equals `features`), as in
 * Lee et al.'s multi-layer Mahalanobis.
 * @module
 */
import { tf } from "../tf.ts";
import { NORMALIZATION } from "../datasets/normalization.ts";
import { assembleBackbone } from "./assemble.ts";
import { bn, checkWidth, conv, gap, mark, relu, scaled, STAGE_PREFIX, type Sym } from "./_blocks.ts";
import type { Backbone, BackboneOptions } from "./types.ts";

/** Options of the ResNet factories. */
export interface ResNetOptions extends BackboneOptions {
  /**
   * How a block changes shape: `"projection"` (option B, 1×1 conv + BN) or `"padding"` (option A: subsample
   * by the stride and zero-pad the new channels, no parameters). @default "projection"
   */
  shortcut?: "projection" | "padding";
  /**
   * Initialisation of every convolution: `"heFanOut"` = N(0, 2 / (k²·out)) (CIDER's `kaiming_normal_(mode="fan_out")`)
   * or `"torch"` = PyTorch's default U(±1/√(in·k²)) (CMG's ResNet-18, which sets no init). @default "heFanOut"
   */
  convInit?: "heFanOut" | "torch";
}

/** A CIFAR ResNet's architecture: registry name, stage widths and blocks per stage. */
export interface CifarResNetConfig {
  name: string;
  widths: readonly number[];
  blocks: readonly number[];
}

const SHORTCUTS = ["projection", "padding"] as const;

function paddingShortcut(x: Sym, filters: number, strides: number): Sym {
  const inChannels = x.shape[3] as number;
  let y = strides > 1 ? tf.layers.maxPooling2d({ poolSize: 1, strides }).apply(x) as Sym : x;
  const extra = filters - inChannels;
  if (extra <= 0) return y;
  // Pad the channel axis: move it to where ZeroPadding2D pads (the width axis), pad, move it back.
  const front = Math.floor(extra / 2);
  y = tf.layers.permute({ dims: [1, 3, 2] }).apply(y) as Sym;
  y = tf.layers.zeroPadding2d({ padding: [[0, 0], [front, extra - front]] }).apply(y) as Sym;
  return tf.layers.permute({ dims: [1, 3, 2] }).apply(y) as Sym;
}

function basicBlock(x: Sym, filters: number, strides: number, opts: Pick<ResNetOptions, "shortcut" | "convInit">): Sym {
  const inChannels = x.shape[3] as number;
  const init = opts.convInit ?? "heFanOut";
  const y = bn(conv(relu(bn(conv(x, { filters, kernelSize: 3, strides, init }))), { filters, kernelSize: 3, init }));
  let s = x;
  if (strides !== 1 || inChannels !== filters) {
    s = opts.shortcut === "padding"
      ? paddingShortcut(x, filters, strides)
      : bn(conv(x, { filters, kernelSize: 1, strides, padding: 0, init }));
  }
  return relu(tf.layers.add().apply([y, s]) as Sym);
}

/**
 * A CIFAR ResNet with the given stages; `width` scales every stage's channel count.
 * @param cfg Name, stage widths and blocks per stage.
 * @param opts Classes, input shape (default 32×32×3), width, shortcut type, normalization (default CIDER's).
 * @returns The backbone (featureDim = last stage width).
 */
export function cifarResNet(cfg: CifarResNetConfig, opts: ResNetOptions): Backbone {
  const width = checkWidth(opts.width);
  const shortcut = opts.shortcut ?? "projection";
  if (!SHORTCUTS.includes(shortcut)) throw new Error(`Unknown shortcut "${shortcut}". Valid: ${SHORTCUTS.join(", ")}.`);
  const widths = cfg.widths.map((w) => scaled(w, width));
  const input = tf.input({ shape: [...(opts.inputShape ?? [32, 32, 3])] });
  const init = opts.convInit ?? "heFanOut";
  let h = mark(relu(bn(conv(input, { filters: widths[0]!, kernelSize: 3, init }))), `${STAGE_PREFIX}0`);
  widths.forEach((w, stage) => {
    for (let b = 0; b < cfg.blocks[stage]!; b++) {
      h = basicBlock(h, w, b === 0 && stage > 0 ? 2 : 1, { shortcut, convInit: init });
    }
    h = mark(h, `${STAGE_PREFIX}${stage + 1}`);
  });
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
 * ResNet-20 for CIFAR (He et al., CVPR 2016, §4.2): widths 16/32/64, 3 blocks per stage, 64-d features.
 * 272 474 parameters with projection shortcuts, 0.27 M (269 722) with `shortcut: "padding"` (10 classes).
 * @see {@link https://arxiv.org/abs/1512.03385 | Paper}
 * @param opts Classes, input shape, width, shortcut, normalization.
 * @returns The backbone.
 * @example Usage
 * ```ts
 * const net = resnet20({ numClasses: 10, shortcut: "padding" });
 * ```
 */
export const resnet20 = (opts: ResNetOptions): Backbone =>
  cifarResNet({ name: "resnet20", widths: [16, 32, 64], blocks: [3, 3, 3] }, opts);

/**
 * CIFAR ResNet-18 (He et al. 2016; the CIFAR variant used by CIDER, Ming et al. ICLR 2023, and CMG):
 * 512-d features, 11.17 M parameters with 10 classes.
 * @see {@link https://arxiv.org/abs/1512.03385 | Paper}
 * @param opts Classes, input shape, width, shortcut, normalization.
 * @returns The backbone.
 * @example Usage
 * ```ts
 * const net = resnet18({ numClasses: 10, width: 0.25 });
 * ```
 */
export const resnet18 = (opts: ResNetOptions): Backbone =>
  cifarResNet({ name: "resnet18", widths: [64, 128, 256, 512], blocks: [2, 2, 2, 2] }, opts);

/**
 * CIFAR ResNet-34 (He et al. 2016; CIDER's CIFAR-100 backbone, Ming et al. ICLR 2023): blocks 3-4-6-3,
 * 512-d features, 21.28 M parameters with 10 classes.
 * @see {@link https://arxiv.org/abs/2203.04450 | CIDER}
 * @param opts Classes, input shape, width, shortcut, normalization.
 * @returns The backbone.
 * @example Usage
 * ```ts
 * const net = resnet34({ numClasses: 100 });
 * ```
 */
export const resnet34 = (opts: ResNetOptions): Backbone =>
  cifarResNet({ name: "resnet34", widths: [64, 128, 256, 512], blocks: [3, 4, 6, 3] }, opts);
