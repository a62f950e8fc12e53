/**
 * LeNet-style CNNs for 28×28 digits.
 * @module
 */
import { tf } from "../tf.ts";
import { NORMALIZATION } from "../datasets/normalization.ts";
import { assembleBackbone } from "./assemble.ts";
import { checkWidth, conv, mark, scaled, STAGE_PREFIX, type Sym, torchUniform } from "./_blocks.ts";
import type { Backbone, BackboneOptions } from "./types.ts";

/**
 * The project's small MNIST CNN (the main job's network and the `lenet` benchmark row):
 * conv3×3(32)-ReLU-maxpool, conv3×3(64)-ReLU-maxpool, dense(128)-ReLU (the features), dense head.
 * Glorot-uniform initialisation (TF.js defaults). 421 642 parameters with 10 classes. `featureList` gives the
 * pooled outputs of both conv blocks and the features (for the multi-layer Mahalanobis ensemble).
 * @param opts Classes, input shape (default 28×28×1), width multiplier, normalization (default MNIST 0.1307/0.3081).
 * @returns The backbone.
 * @example Usage
 * ```ts
 * const net = lenet({ numClasses: 10 });
 * ```
 */
export function lenet(opts: BackboneOptions): Backbone {
  const width = checkWidth(opts.width);
  const input = tf.input({ shape: [...(opts.inputShape ?? [28, 28, 1])] });
  const L = tf.layers;
  let h = L.conv2d({ filters: scaled(32, width), kernelSize: 3, padding: "same", activation: "relu" }).apply(
    input,
  ) as Sym;
  h = mark(L.maxPooling2d({ poolSize: 2 }).apply(h) as Sym, `${STAGE_PREFIX}0`);
  h = L.conv2d({ filters: scaled(64, width), kernelSize: 3, padding: "same", activation: "relu" }).apply(h) as Sym;
  h = mark(L.maxPooling2d({ poolSize: 2 }).apply(h) as Sym, `${STAGE_PREFIX}1`);
  h = L.flatten().apply(h) as Sym;
  const features = mark(L.dense({ units: scaled(128, width), activation: "relu" }).apply(h) as Sym, `${STAGE_PREFIX}2`);
  return assembleBackbone({
    name: "lenet",
    input,
    features,
    headHidden: opts.headHidden,
    numClasses: opts.numClasses,
    normalization: opts.normalization ?? NORMALIZATION.mnistStandard,
  });
}

/**
 * LeNet-5 (LeCun, Bottou, Bengio & Haffner, Proc. IEEE 1998), in its common modern form for 28×28 MNIST:
 * conv5×5(6, pad 2)-ReLU-maxpool2, conv5×5(16)-ReLU-maxpool2, dense(120)-ReLU, dense(84)-ReLU (the features),
 * linear head. Deviations from the 1998 network: ReLU instead of scaled tanh, max-pooling instead of trainable
 * sub-sampling, a full C3 connection table, and a linear head instead of RBF units. PyTorch-default
 * initialisation. 61 706 parameters with 10 classes.
 * @see {@link https://doi.org/10.1109/5.726791 | Paper}
 * @param opts Classes, input shape (default 28×28×1), width multiplier, normalization (default MNIST 0.1307/0.3081).
 * @returns The backbone.
 * @example Usage
 * ```ts
 * const net = lenet5({ numClasses: 10 });
 * ```
 */
export function lenet5(opts: BackboneOptions): Backbone {
  const width = checkWidth(opts.width);
  const input = tf.input({ shape: [...(opts.inputShape ?? [28, 28, 1])] });
  const L = tf.layers;
  const pool = (x: Sym) => L.maxPooling2d({ poolSize: 2, strides: 2 }).apply(x) as Sym;
  const reluDense = (x: Sym, units: number) => {
    const init = () => torchUniform(x.shape[1] as number);
    return L.dense({ units, activation: "relu", kernelInitializer: init(), biasInitializer: init() }).apply(x) as Sym;
  };
  let h = pool(
    L.reLU().apply(
      conv(input, { filters: scaled(6, width), kernelSize: 5, padding: 2, useBias: true, init: "torch" }),
    ) as Sym,
  );
  h = pool(
    L.reLU().apply(
      conv(h, { filters: scaled(16, width), kernelSize: 5, padding: 0, useBias: true, init: "torch" }),
    ) as Sym,
  );
  h = L.flatten().apply(h) as Sym;
  h = reluDense(h, scaled(120, width));
  const features = reluDense(h, scaled(84, width));
  return assembleBackbone({
    name: "lenet5",
    input,
    features,
    headHidden: opts.headHidden,
    numClasses: opts.numClasses,
    normalization: opts.normalization ?? NORMALIZATION.mnistStandard,
  });
}
