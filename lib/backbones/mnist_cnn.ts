/**
 * The papers' MNIST CNNs: VMDLS's `mnist-conv` encoder and CMG's 9-layer CNN.
 * @module
 */
import { tf } from "../tf.ts";
import { NORMALIZATION } from "../datasets/normalization.ts";
import { spatialDropout2d } from "../layers/spatial_dropout.ts";
import { assembleBackbone } from "./assemble.ts";
import { bn, checkWidth, conv, dense, mark, scaled, STAGE_PREFIX, type Sym } from "./_blocks.ts";
import type { Backbone, BackboneOptions } from "./types.ts";

/**
 * VMDLS's MNIST encoder `MnistConvEncoder` (Dinari & Freifeld, UAI 2022; BGU-CS-VIL/vmdls
 * `models/decoders_encoders.py`): five conv3×3(100)+bias+ReLU layers with 2×2 max-pooling after the 2nd, 4th
 * and 5th (28 → 14 → 7 → 3), flatten (900), and a *linear* dense(500), the 500-d feature g(x); then our linear
 * head (VMDLS itself puts μ/log σ² heads there). PyTorch-default initialisation.
 *
 * `featureList` reproduces VMDLS's `get_layer_output(x, 1..3)` slices, quirks included: the 2nd conv's output
 * *before* its ReLU (`encoder[0:3]`), the first max-pool's output (`encoder[0:5]`), the 3rd conv after its ReLU
 * (`encoder[0:7]`), each average-pooled, then g(x) itself — the feature ensemble's first four members.
 * @see {@link https://openreview.net/pdf?id=ScLeuUUi9gq | Paper}
 * @param opts Classes, input shape (default 28×28×1), width multiplier (scales 100 and 500), normalization
 *   (default VMDLS's (0.5, 0.5)).
 * @returns The backbone (featureDim 500 at width 1).
 * @example Usage
 * ```ts
 * const net = mnistConv({ numClasses: 10 });
 * ```
 */
export function mnistConv(opts: BackboneOptions): Backbone {
  const width = checkWidth(opts.width);
  const c = scaled(100, width);
  const input = tf.input({ shape: [...(opts.inputShape ?? [28, 28, 1])] });
  const L = tf.layers;
  const cv = (x: Sym) => conv(x, { filters: c, kernelSize: 3, useBias: true, init: "torch" });
  const relu = (x: Sym) => L.reLU().apply(x) as Sym;
  const pool = (x: Sym) => L.maxPooling2d({ poolSize: 2, strides: 2 }).apply(x) as Sym;
  let h = cv(relu(cv(input)));
  h = mark(h, `${STAGE_PREFIX}0`);
  h = mark(pool(relu(h)), `${STAGE_PREFIX}1`);
  h = mark(relu(cv(h)), `${STAGE_PREFIX}2`);
  h = pool(relu(cv(h)));
  h = pool(relu(cv(h)));
  h = L.flatten().apply(h) as Sym;
  const g = dense(h, scaled(500, width), { name: "mnist_conv_fc" });
  return assembleBackbone({
    name: "mnist_conv",
    input,
    features: mark(g, `${STAGE_PREFIX}3`),
    headHidden: opts.headHidden,
    numClasses: opts.numClasses,
    normalization: opts.normalization ?? NORMALIZATION.mnistHalf,
  });
}

/** Options of {@link cmgCnn}. */
export interface CmgCnnOptions extends BackboneOptions {
  /** Channel-dropout (`nn.Dropout2d`) rate before each group of three convolutions. @default 0.2 */
  dropRate?: number;
}

/**
 * CMG's MNIST feature extractor `ConvEncoder` plus its MLP classifier (Wang et al., ECML-PKDD 2022;
 * shaoyijia/CMG `models/conv/cnn.py`, `models/fc/nets.py`): three groups of
 * [Dropout2d(0.2), conv3×3-BN-LeakyReLU(0.2) ×3 with stride 2 on the 3rd], widths 64-64-128, 128×3, 128×3,
 * 28 → 14 → 7 → 4; the features are the flattened 128·4·4 = 2048 map; the head is
 * Linear(2048 → 512)-ReLU-Linear(512 → numClasses) (CMG fine-tunes this head in stage 2). The first
 * Dropout2d acts on the input image, as in CMG. Initialisation as CMG's `weights_init`: conv N(0, 0.05),
 * BN γ ~ N(1, 0.02), β = 0; convolutions have no bias. CMG uses numClasses = 11 (6 seen classes + an "OOD"
 * slot + unused slots). `featureList`: each group's output, average-pooled (128-d each).
 * @see {@link https://2022.ecmlpkdd.org/wp-content/uploads/2022/09/sub_531.pdf | Paper}
 * @param opts Classes, input shape (default 28×28×1), width multiplier (convolutions and the default hidden
 *   layer), dropout rate, head (default [512 × width]), normalization (default none: inputs in [0, 1]).
 * @returns The backbone (featureDim 2048 at width 1).
 * @example Usage
 * ```ts
 * const net = cmgCnn({ numClasses: 11 });
 * ```
 */
export function cmgCnn(opts: CmgCnnOptions): Backbone {
  const width = checkWidth(opts.width);
  const rate = opts.dropRate ?? 0.2;
  const input = tf.input({ shape: [...(opts.inputShape ?? [28, 28, 1])] });
  const block = (x: Sym, filters: number, strides: number) => {
    const y = conv(x, { filters: scaled(filters, width), kernelSize: 3, strides, init: { stddev: 0.05 } });
    const z = bn(y, { gammaInitializer: tf.initializers.randomNormal({ mean: 1, stddev: 0.02 }) });
    return tf.layers.leakyReLU({ alpha: 0.2 }).apply(z) as Sym;
  };
  const drop = (x: Sym) => rate > 0 ? spatialDropout2d({ rate }).apply(x) as Sym : x;
  let h: Sym = input;
  const groups = [[64, 64, 128], [128, 128, 128], [128, 128, 128]];
  groups.forEach((filters, g) => {
    h = drop(h);
    filters.forEach((f, i) => h = block(h, f, i === 2 ? 2 : 1));
    h = mark(h, `${STAGE_PREFIX}${g}`);
  });
  return assembleBackbone({
    name: "cmg_cnn",
    input,
    features: tf.layers.flatten().apply(h) as Sym,
    headHidden: opts.headHidden ?? [scaled(512, width)],
    numClasses: opts.numClasses,
    normalization: opts.normalization ?? NORMALIZATION.unitRange,
  });
}
