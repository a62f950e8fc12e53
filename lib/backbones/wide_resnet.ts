/**
 * Wide residual networks for 32×32 inputs (Zagoruyko & Komodakis, BMVC 2016), in the pre-activation form of
 * the widely used PyTorch port that ELOC, Unleashing Mask and VMDLS copy (`WideResNet(depth, num_classes,
 * widen_factor, dropRate)`).
 * @module
 */
import { tf } from "../tf.ts";
import { NORMALIZATION } from "../datasets/normalization.ts";
import { assembleBackbone } from "./assemble.ts";
import { bn, checkWidth, conv, dropout, gap, mark, relu, scaled, STAGE_PREFIX, type Sym } from "./_blocks.ts";
import type { Backbone, BackboneOptions } from "./types.ts";

/** Options of the WRN factories. */
export interface WideResNetOptions extends BackboneOptions {
  /** Total depth; (depth − 4) must be divisible by 6. Defaults to the registry entry's (28 or 40). */
  depth?: number;
  /** Widening factor k. Defaults to the registry entry's (10 or 2). */
  widenFactor?: number;
  /** Dropout between the two convolutions of every block (ELOC: 0.3, VMDLS: 0.1). @default 0 */
  dropRate?: number;
}

/**
 * One pre-activation basic block. As in the reference code, when the block changes the number of channels the
 * BN-ReLU of its input feeds both the first convolution and the 1×1 shortcut convolution; otherwise the
 * shortcut is the raw input.
 */
function wideBlock(x: Sym, filters: number, strides: number, rate: number): Sym {
  const equal = (x.shape[3] as number) === filters;
  const pre = relu(bn(x));
  let y = relu(bn(conv(pre, { filters, kernelSize: 3, strides })));
  y = conv(dropout(y, rate), { filters, kernelSize: 3 });
  const shortcut = equal ? x : conv(pre, { filters, kernelSize: 1, strides, padding: 0 });
  return tf.layers.add().apply([shortcut, y]) as Sym;
}

/**
 * WRN-depth-k: conv3×3(16) stem; three groups of (depth − 4)/6 blocks with 16k, 32k, 64k channels (strides
 * 1, 2, 2); BN-ReLU; global average pooling; linear head with zero bias. Convolutions N(0, 2 / (k²·out)),
 * no bias. `width` multiplies every channel count (the stem included).
 * `featureList`: stem, group 1, group 2, final BN-ReLU (average-pooled; the last equals `features`).
 * Note: VMDLS's copy applies dropout even in evaluation mode (`training=True`); here dropout follows `training`.
 * @see {@link https://arxiv.org/abs/1605.07146 | Paper}
 * @param cfg Registry name and default depth / widening factor.
 * @param opts Classes, input shape (default 32×32×3), width, depth, widening factor, dropout, normalization
 *   (default ODIN's CIFAR mean/std, as ELOC).
 * @returns The backbone (featureDim = 64·k·width).
 */
export function wideResNet(
  cfg: { name: string; depth: number; widenFactor: number },
  opts: WideResNetOptions,
): Backbone {
  const width = checkWidth(opts.width);
  const depth = opts.depth ?? cfg.depth;
  if (!Number.isInteger(depth) || depth < 10 || (depth - 4) % 6 !== 0) {
    throw new RangeError(`WRN depth must be 4 + 6·n (n ≥ 1), e.g. 10, 16, 28, 40; got ${depth}`);
  }
  const k = opts.widenFactor ?? cfg.widenFactor;
  if (!(k > 0)) throw new RangeError(`widenFactor must be positive, got ${k}`);
  const rate = opts.dropRate ?? 0;
  const n = (depth - 4) / 6;
  const input = tf.input({ shape: [...(opts.inputShape ?? [32, 32, 3])] });
  let h = mark(conv(input, { filters: scaled(16, width), kernelSize: 3 }), `${STAGE_PREFIX}0`);
  [16, 32, 64].forEach((base, group) => {
    const filters = scaled(base * k, width);
    for (let b = 0; b < n; b++) h = wideBlock(h, filters, b === 0 && group > 0 ? 2 : 1, rate);
    h = group < 2 ? mark(h, `${STAGE_PREFIX}${group + 1}`) : h;
  });
  h = mark(relu(bn(h)), `${STAGE_PREFIX}3`);
  return assembleBackbone({
    name: cfg.name,
    input,
    features: gap(h),
    headHidden: opts.headHidden,
    numClasses: opts.numClasses,
    normalization: opts.normalization ?? NORMALIZATION.cifarOdin,
    zeroBiasHead: true,
  });
}

/**
 * WRN-28-10 (Zagoruyko & Komodakis 2016; ELOC's CIFAR backbone with dropout 0.3, VMDLS's with 0.1):
 * 640-d features, 36.5 M parameters with 10 classes.
 * @see {@link https://arxiv.org/abs/1605.07146 | Paper}
 * @param opts Classes, input shape, width, depth, widening factor, dropout, normalization.
 * @returns The backbone.
 * @example ELOC's configuration
 * ```ts
 * const net = wrn28x10({ numClasses: 8, dropRate: 0.3 });
 * ```
 */
export const wrn28x10 = (opts: WideResNetOptions): Backbone =>
  wideResNet({ name: "wrn_28_10", depth: 28, widenFactor: 10 }, opts);

/**
 * WRN-40-2 (Zagoruyko & Komodakis 2016; the usual small WRN of OOD benchmarks): 128-d features, 2.24 M
 * parameters with 10 classes.
 * @see {@link https://arxiv.org/abs/1605.07146 | Paper}
 * @param opts Classes, input shape, width, depth, widening factor, dropout, normalization.
 * @returns The backbone.
 * @example Usage
 * ```ts
 * const net = wrn40x2({ numClasses: 10, dropRate: 0.3 });
 * ```
 */
export const wrn40x2 = (opts: WideResNetOptions): Backbone =>
  wideResNet({ name: "wrn_40_2", depth: 40, widenFactor: 2 }, opts);
