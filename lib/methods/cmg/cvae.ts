/**
 * CMG's conditional VAEs for MNIST and CIFAR-10 (Wang, Shao, Lin, Hu, Liu, "CMG: A Class-Mixed Generation Approach
 * to Out-of-Distribution Detection", ECML-PKDD 2022; shaoyijia/CMG@265cc2c; papers.md §4a).
 *
 * ## MNIST (`dataset: "mnist"`, the default)
 *
 * - **encoder**, not conditioned on the class (`ConditionalVAE.encode`, `models/vae.py` l. 38–47; `ConvLayers`,
 *   `models/conv/nets.py` l. 6–20): Conv 1→64 and 64→128, kernel 4, stride 2, padding 15, ReLU each; flatten;
 *   Linear → 1024 + ReLU (`fcE`, l. 27, 42); μ and log σ² by two Linear 1024 → z_dim (l. 29–30, 44–45). With padding
 *   15 the map stays 28×28 ((28 + 30 − 4)/2 + 1 = 28), so the flatten is 128·28·28 = 100 352 wide (`out_feature_dim`,
 *   nets.py l. 14). `encoderPadding: 1` is our narrow CPU variant (28 → 14 → 7, flatten 6 272): a deviation.
 * - **class embedding** e_y = W·onehot(y) + b, `nn.Linear(class_num, z_dim)` with bias (vae.py l. 36), class_num 10
 *   even when only 6 classes are seen (`ConditionalVAE(image_channels=1, image_size=28, dataset='mnist')`, train.py
 *   l. 114, default class_num=10).
 * - **decoder** (`decode`, vae.py l. 54–60; `DeconvLayers`, nets.py l. 23–41): [z, e] → Linear 2·z_dim → 1024 + ReLU
 *   (`fromZ`) → Linear 1024 → 128·7·7 (`fcD`, no activation) → view 128×7×7 → ConvTranspose 128→64 (k4, s2, p1) +
 *   ReLU → ConvTranspose 64→1 (k4, s2, p1) → sigmoid; 7 → 14 → 28.
 * - z = μ + exp(½ log σ²)·ε drawn in every mode (`reparameterize`, l. 49–52; `GaussianSampling` here).
 * - 109 587 233 parameters at width 1, padding 15. No batch norm, so training and inference modes compute the same.
 *
 * ## CIFAR-10 (`dataset: "cifar10"`)
 *
 * `ConditionalVAE(image_channels=3, image_size=32, dataset='cifar10')` (train.py l. 118–127; vae.py l. 21–23), inputs
 * 32×32×3 in [0, 1]; the class embedding, `fcE`, μ / log σ², `fromZ`, the sampling and the loss are as for MNIST.
 * - **encoder** `ResNet18()` (nets.py l. 96–130, `BasicBlock` l. 68–93): conv 3×3 3→64, stride 1, padding 1, no bias
 *   → BN → ReLU; four stages of two BasicBlocks (conv 3×3 no bias → BN → ReLU → conv 3×3 no bias → BN, + shortcut,
 *   ReLU) with 64, 128, 256, 512 channels and first strides 1, 2, 2, 2; the shortcut is a 1×1 conv (no bias) + BN
 *   where the shape changes, else the identity; `F.avg_pool2d(out, 4)` on the 4×4 map (l. 125) → 512×1×1; flatten
 *   512 (`out_feature_dim`, l. 109) → `fcE` 512 → 1024.
 * - **decoder** `DeconvResnet(3)` (nets.py l. 133–162): `fcD` 1024 → 512·4·4 = 8 192 (no activation) → view
 *   512×4×4 (vae.py l. 58) → ResBlock(512) → ResBlock(512) → ReLU → ConvTranspose 512→512 (k4, s2, p1) → BN → ReLU
 *   → ConvTranspose 512→512 → BN → ReLU → ConvTranspose 512→3 → sigmoid; 4 → 8 → 16 → 32. All three transposed
 *   convolutions have a bias.
 * - **ResBlock** (nets.py l. 47–65): `x + block(x)` with block = [ReLU(inplace=True), Conv 3×3 (bias), BN,
 *   ReLU(inplace=True), Conv 1×1 (bias), BN]. Because the first ReLU works in place, it overwrites `x` before the
 *   addition is evaluated, so PyTorch computes **relu(x) + block(x)**, not x + block(x); this module implements
 *   what PyTorch computes (verified with torch 1.13: the reference `ResBlock` equals relu(x) + block(x) exactly and
 *   differs from x + block(x) by up to 2.9 on a random input; `tests/methods/cmg/testdata/make_cifar_cvae_fixture.py`).
 * - **BatchNorm**: PyTorch's defaults (momentum 0.1, i.e. TF.js momentum 0.9; ε 1e-5; γ = 1, β = 0). The CVAE is
 *   trained in train mode (batch statistics, moving averages updated; `train_cvae.py` l. 6–47 never calls `eval()`),
 *   and stage 2 decodes in eval mode (`vae.eval()`, `training/fine_tune.py` l. 80, 202): {@linkcode CmgCvae.encode} and
 *   {@linkcode CmgCvae.decode} run in inference mode (moving statistics), `forward(…, { training: true })` uses batch
 *   statistics and updates the moving averages. One difference remains: TF.js updates the moving variance with the
 *   biased batch variance, PyTorch with the unbiased one (a factor m/(m − 1) on the update, m = values per channel,
 *   at least 512·4·4 = 8 192 with the reference's batches of 512, so negligible).
 * - **Parameters** at width 1: 33 888 739 trainable (encoder ResNet-18 11 168 832, `fcE` 525 312, μ and log σ²
 *   65 600, embedding 352, `fromZ` 66 560, `fcD` 8 396 800, `DeconvResnet` 13 665 283), the count of PyTorch's
 *   `ConditionalVAE(...).parameters()`; `model.countParams()` adds the 15 744 BN moving means and variances
 *   (33 904 483). `width` scales every channel count (64…512 in both nets) and the 1 024 hidden units.
 * - **Structure**: the encoder (x → [μ, log σ²], named `cmg_encoder`) and the decoder ([z, e] → x̂, `cmg_decoder`)
 *   are functional sub-models nested in {@linkcode CmgCvae.model}; layer names follow the PyTorch module paths
 *   (`convE.layer2.0.shortcut.1` → `cmg_convE_layer2_0_shortcut_1`, `convD.decoder.3` → `cmg_convD_decoder_3`).
 *
 * ## Both
 *
 * **Layout.** TF.js is NHWC; PyTorch is NCHW. To keep the Linear layers' unit order identical to the reference
 * (so a PyTorch state dict maps onto these weights by transposing kernels only), the MNIST encoder permutes its last
 * map to channel-major before flattening (PyTorch's `Flatten` of C×H×W; CIFAR's map is 1×1) and the decoder reshapes
 * the `fcD` units to [C, H, W] and permutes them to [H, W, C] (PyTorch's `view(-1, 128, 7, 7)` / `(-1, 512, 4, 4)`).
 * Kernels map as: Linear TF [in, out] = torch `weight.T`; Conv2d TF [kh, kw, in, out] = torch [out, in, kh, kw]
 * permuted; ConvTranspose2d TF [kh, kw, out, in] = torch [in, out, kh, kw] permuted, no flip (checked against a naive
 * ConvTranspose2d, and for CIFAR-10 end to end against PyTorch, in `tests/methods/cmg/cvae_test.ts`).
 *
 * **Padding.** TF.js convolutions offer only "same"/"valid", so PyTorch's paddings are explicit: the MNIST encoder
 * zero-pads 15 (or 1) pixels on every side and convolves "valid" (the ResNet's stride-2 convolutions likewise pad 1);
 * each transposed convolution runs "valid" (output (H − 1)·2 + 4 = 2H + 2) and crops 1 pixel from every side, which
 * is exactly PyTorch's ConvTranspose2d with padding 1 (output (H − 1)·2 − 2·1 + 4 = 2H).
 *
 * **Initialisation**: PyTorch's defaults, U(±1/√fan_in) for kernels and biases, with fan_in = in·k² for
 * convolutions and out·k² for transposed ones (torch computes it from `weight.size(1)`); BN γ = 1, β = 0. Seed
 * `Math.random` (`seedEverything`) before {@linkcode createCmgCvae} for reproducible weights.
 * @module
 */
import { tf } from "../../tf.ts";
import { checkWidth, conv, dense, relu, scaled, type Sym, torchUniform } from "../../backbones/_blocks.ts";
import { batchNormalization } from "../../layers/batch_norm.ts";
import { GaussianSampling } from "../../layers/sampling.ts";
import type { Dataset, Normalization } from "../../datasets/types.ts";
import { NORMALIZATION } from "../../datasets/normalization.ts";
import { Adam, datasetSource, type LossOutput, trainableVariables, trainLoop } from "../../train/mod.ts";

/** Which of the reference's two CVAEs (`ConditionalVAE(dataset=…)`, `models/vae.py` l. 18–25). */
export type CmgCvaeDataset = "mnist" | "cifar10";

/** Options of {@linkcode createCmgCvae}. */
export interface CmgCvaeOptions {
  /**
   * The architecture: MNIST (28×28×1, two convolutions) or CIFAR-10 (32×32×3, ResNet-18 / DeconvResnet).
   * @default "mnist"
   */
  dataset?: CmgCvaeDataset;
  /** Latent width (reference `z_dim=32`, `models/vae.py` l. 12). @default 32 */
  zDim?: number;
  /** One-hot width of the class embedding (reference `class_num=10` even with 6 seen classes). @default 10 */
  numClasses?: number;
  /**
   * MNIST only (passing it with `dataset: "cifar10"` throws). Zero padding of both encoder convolutions: 15 = the
   * reference (`nets.py` l. 11–12; the map stays 28×28, flatten 100 352), 1 = a narrow CPU variant ending at 7×7
   * (flatten 6 272). @default 15
   */
  encoderPadding?: 15 | 1;
  /**
   * Multiplier of every channel count and of the 1 024 hidden units (1 = the reference): MNIST 64/128; CIFAR-10 the
   * ResNet's 64…512 and the decoder's 512. @default 1
   */
  width?: number;
}

/** μ and log σ² of q(z | x), each [N, zDim]. */
export interface CmgEncoding {
  mu: tf.Tensor2D;
  logVar: tf.Tensor2D;
}

/** What a training forward pass returns. */
export interface CmgForward extends CmgEncoding {
  /** Reconstruction [N, ...inputShape] in (0, 1). */
  xHat: tf.Tensor4D;
}

/** Class labels: int ids [N] (tensor or array) or one-hot rows [N, numClasses]. */
export type CmgLabels = tf.Tensor1D | tf.Tensor2D | ArrayLike<number>;

/** CMG's CVAE (MNIST or CIFAR-10); every weight lives in {@linkcode CmgCvae.model}. */
export interface CmgCvae {
  /**
   * [x (inputShape, [0, 1]), onehot(y)] → [μ, log σ², x̂], with z sampled: all weights (optimizers, checkpoints).
   * For CIFAR-10 the encoder and decoder are nested sub-models `cmg_encoder` and `cmg_decoder`.
   */
  readonly model: tf.LayersModel;
  /** The trainable variables of `model` (what Adam updates). */
  readonly variables: tf.Variable[];
  readonly dataset: CmgCvaeDataset;
  readonly zDim: number;
  readonly numClasses: number;
  /** The MNIST encoder's padding (15 or 1); null for CIFAR-10. */
  readonly encoderPadding: 15 | 1 | null;
  readonly width: number;
  /**
   * Width of the encoder's flattened features: MNIST 100 352 (padding 15) or 6 272 (padding 1) at width 1;
   * CIFAR-10 512·width (the ResNet's pooled output).
   */
  readonly flatDim: number;
  /** [28, 28, 1] (MNIST) or [32, 32, 3] (CIFAR-10). */
  readonly inputShape: readonly [number, number, number];
  /** Inputs in [0, 1], no normalisation (the reference's `ToTensor()` only), one mean/std per input channel. */
  readonly normalization: Normalization;
  /** q(z | x): μ and log σ², in inference mode (BN moving statistics) (caller disposes). */
  encode(x: tf.Tensor4D): CmgEncoding;
  /** e_y = W·onehot(y) + b, [N, zDim] (caller disposes). */
  embed(labels: CmgLabels): tf.Tensor2D;
  /** x̂ = decoder([z, e]), [N, ...inputShape] in (0, 1), in inference mode (`vae.eval()`) (caller disposes). */
  decode(z: tf.Tensor2D, e: tf.Tensor2D): tf.Tensor4D;
  /**
   * The full pass μ, log σ², z = μ + σ·ε (ε through `Math.random`), x̂ = decode(z, e_y). With `training: true`
   * batch norm uses batch statistics and updates its moving averages (CIFAR-10); default inference mode.
   */
  forward(x: tf.Tensor4D, labels: CmgLabels, opts?: { training?: boolean }): CmgForward;
  /** Frees every weight. */
  dispose(): void;
}

type Layer = tf.layers.Layer;

/** Applies layers in order to a concrete tensor or a symbolic one. */
function chain<T extends tf.Tensor | Sym>(x: T, layers: readonly Layer[]): T {
  let h = x;
  for (const l of layers) h = l.apply(h) as T;
  return h;
}

/** What each architecture builder hands to {@linkcode createCmgCvae}. */
interface CvaeParts {
  model: tf.LayersModel;
  embedLayer: Layer;
  encoderPadding: 15 | 1 | null;
  flatDim: number;
  inputShape: readonly [number, number, number];
  /** Eager, inference-mode encoder (inside a tidy). */
  encode(x: tf.Tensor4D): [tf.Tensor2D, tf.Tensor2D];
  /** Eager, inference-mode decoder of [z, e] (inside a tidy). */
  decode(ze: tf.Tensor2D): tf.Tensor4D;
}

/**
 * Builds CMG's CVAE (`ConditionalVAE`, `models/vae.py` l. 9–67): the MNIST one by default, the CIFAR-10 one with
 * `dataset: "cifar10"` (layer lists, layout, padding, batch-norm modes and parameter counts in the module
 * documentation). The eager `encode` / `embed` / `decode` share the weights of the functional `model`.
 * @see {@link https://2022.ecmlpkdd.org/wp-content/uploads/2022/09/sub_531.pdf | Paper} · shaoyijia/CMG `models/vae.py`, `models/conv/nets.py`
 * @param opts Architecture, z width, class count, MNIST encoder padding, width multiplier.
 * @returns The CVAE (dispose it with `dispose()`).
 * @example Usage
 * ```ts ignore
 * const cvae = createCmgCvae({ encoderPadding: 1, width: 0.25 });
 * const { mu, logVar } = cvae.encode(x);           // [N, 32] each
 * const xHat = cvae.decode(mu, cvae.embed([0, 3])); // [N, 28, 28, 1]
 * const cifar = createCmgCvae({ dataset: "cifar10" }); // 32×32×3, 33 888 739 trainable parameters
 * ```
 */
export function createCmgCvae(opts: CmgCvaeOptions = {}): CmgCvae {
  const width = checkWidth(opts.width);
  const dataset = opts.dataset ?? "mnist";
  const zDim = opts.zDim ?? 32;
  const numClasses = opts.numClasses ?? 10;
  if (!Number.isInteger(zDim) || zDim < 1) throw new RangeError(`zDim must be a positive integer, got ${zDim}`);
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new RangeError(`numClasses must be a positive integer, got ${numClasses}`);
  }
  let parts: CvaeParts;
  if (dataset === "mnist") {
    parts = mnistCvae(zDim, numClasses, width, opts.encoderPadding ?? 15);
  } else if (dataset === "cifar10") {
    if (opts.encoderPadding !== undefined) {
      throw new RangeError(
        `encoderPadding (${opts.encoderPadding}) applies to the MNIST CVAE only; CIFAR-10's encoder is a ResNet-18`,
      );
    }
    parts = cifarCvae(zDim, numClasses, width);
  } else {
    throw new RangeError(`dataset must be "mnist" or "cifar10", got ${dataset}`);
  }
  const { model, embedLayer } = parts;

  const onehot = (labels: CmgLabels): tf.Tensor2D =>
    tf.tidy(() => {
      if (labels instanceof tf.Tensor) {
        if (labels.rank === 2) return tf.cast(labels, "float32") as tf.Tensor2D;
        return tf.cast(tf.oneHot(tf.cast(labels, "int32") as tf.Tensor1D, numClasses), "float32") as tf.Tensor2D;
      }
      const ids = Int32Array.from(labels);
      for (const y of ids) if (y < 0 || y >= numClasses) throw new RangeError(`label ${y} outside [0, ${numClasses})`);
      return tf.cast(tf.oneHot(tf.tensor1d(ids, "int32"), numClasses), "float32") as tf.Tensor2D;
    });

  return {
    model,
    variables: trainableVariables(model),
    dataset,
    zDim,
    numClasses,
    encoderPadding: parts.encoderPadding,
    width,
    flatDim: parts.flatDim,
    inputShape: parts.inputShape,
    normalization: parts.inputShape[2] === 1 ? NORMALIZATION.unitRange : NORMALIZATION.unitRangeRgb,
    encode: (x) => {
      const [m, v] = tf.tidy(() => parts.encode(x));
      return { mu: m, logVar: v };
    },
    embed: (labels) => tf.tidy(() => embedLayer.apply(onehot(labels)) as tf.Tensor2D),
    decode: (zs, es) => tf.tidy(() => parts.decode(tf.concat([zs, es], 1) as tf.Tensor2D)),
    forward: (x, labels, o = {}) => {
      const [m, v, r] = tf.tidy(() =>
        model.apply([x, onehot(labels)], { training: o.training ?? false }) as tf.Tensor[]
      );
      return { mu: m as tf.Tensor2D, logVar: v as tf.Tensor2D, xHat: r as tf.Tensor4D };
    },
    dispose: () => model.dispose(),
  };
}

/** A Linear layer initialised like `nn.Linear` (U(±1/√fan_in) for weight and bias). */
function linear(units: number, fanIn: number, name: string, activation?: "relu"): Layer {
  return tf.layers.dense({
    units,
    name,
    kernelInitializer: torchUniform(fanIn),
    biasInitializer: torchUniform(fanIn),
    ...(activation ? { activation } : {}),
  });
}

/**
 * PyTorch's ConvTranspose2d(k4, s2, p1) with its default init: a "valid" transposed convolution (H → 2H + 2)
 * cropped by 1 on every side (→ 2H); fan_in = out·16 as torch computes it.
 */
function deconvLayers(filters: number, name: string): Layer[] {
  return [
    tf.layers.conv2dTranspose({
      filters,
      kernelSize: 4,
      strides: 2,
      padding: "valid",
      kernelInitializer: torchUniform(filters * 16),
      biasInitializer: torchUniform(filters * 16),
      name,
    }),
    tf.layers.cropping2D({ cropping: [[1, 1], [1, 1]], name: `${name}_crop` }),
  ];
}

/** The MNIST CVAE: layer lists applied symbolically (the model) and eagerly (no batch norm, so no modes). */
function mnistCvae(zDim: number, numClasses: number, width: number, pad: 15 | 1): CvaeParts {
  if (pad !== 15 && pad !== 1) throw new RangeError(`encoderPadding must be 15 (reference) or 1, got ${pad}`);
  const c1 = scaled(64, width), c2 = scaled(128, width), hidden = scaled(1024, width);
  const L = tf.layers;
  const convOut = (h: number) => Math.floor((h + 2 * pad - 4) / 2) + 1;
  const side = convOut(convOut(28));
  const flatDim = c2 * side * side;
  const encConv = (filters: number, inC: number, name: string) => [
    L.zeroPadding2d({ padding: pad, name: `${name}_pad` }),
    L.conv2d({
      filters,
      kernelSize: 4,
      strides: 2,
      padding: "valid",
      activation: "relu",
      kernelInitializer: torchUniform(inC * 16),
      biasInitializer: torchUniform(inC * 16),
      name,
    }),
  ];
  const deconv = (filters: number, name: string, activation: "relu" | "sigmoid") => [
    ...deconvLayers(filters, name),
    L.activation({ activation, name: `${name}_${activation}` }),
  ];
  const trunk: Layer[] = [
    ...encConv(c1, 1, "cmg_enc_conv1"),
    ...encConv(c2, c1, "cmg_enc_conv2"),
    L.permute({ dims: [3, 1, 2], name: "cmg_enc_chw" }), // NHWC → NCHW, so the flatten is PyTorch's order
    L.flatten({ name: "cmg_enc_flatten" }),
    linear(hidden, flatDim, "cmg_fcE", "relu"),
  ];
  const muLayer = linear(zDim, hidden, "cmg_fcE_mean");
  const logVarLayer = linear(zDim, hidden, "cmg_fcE_logvar");
  const embedLayer = linear(zDim, numClasses, "cmg_class_embed");
  const concat = L.concatenate({ axis: -1, name: "cmg_dec_concat" });
  const decoder: Layer[] = [
    linear(hidden, 2 * zDim, "cmg_fromZ", "relu"),
    linear(c2 * 49, hidden, "cmg_fcD"),
    L.reshape({ targetShape: [c2, 7, 7], name: "cmg_dec_view" }), // PyTorch's view(-1, 128, 7, 7)
    L.permute({ dims: [2, 3, 1], name: "cmg_dec_hwc" }), // NCHW → NHWC
    ...deconv(c1, "cmg_deconv1", "relu"),
    ...deconv(1, "cmg_deconv2", "sigmoid"),
  ];

  const xIn = tf.input({ shape: [28, 28, 1], name: "cmg_x" });
  const yIn = tf.input({ shape: [numClasses], name: "cmg_onehot" });
  const h = chain(xIn, trunk);
  const mu = muLayer.apply(h) as Sym, logVar = logVarLayer.apply(h) as Sym;
  const z = new GaussianSampling({ name: "cmg_z" }).apply([mu, logVar]) as Sym;
  const e = embedLayer.apply(yIn) as Sym;
  const xHat = chain(concat.apply([z, e]) as Sym, decoder);
  const model = tf.model({ inputs: [xIn, yIn], outputs: [mu, logVar, xHat], name: "cmg_cvae" });
  return {
    model,
    embedLayer,
    encoderPadding: pad,
    flatDim,
    inputShape: [28, 28, 1],
    encode: (x) => {
      const f = chain(x as tf.Tensor, trunk);
      return [muLayer.apply(f) as tf.Tensor2D, logVarLayer.apply(f) as tf.Tensor2D];
    },
    decode: (ze) => chain(ze as tf.Tensor, decoder) as tf.Tensor4D,
  };
}

/** Batch norm with PyTorch's defaults (momentum 0.1 ⇒ TF.js 0.9, ε 1e-5, γ 1, β 0), named. */
function bnNamed(x: Sym, name: string): Sym {
  return batchNormalization({ momentum: 0.9, epsilon: 1e-5, name }).apply(x) as Sym;
}

/** `BasicBlock(inC, planes, stride)` of `nets.py` l. 68–93, layers named after the PyTorch module path. */
function basicBlock(x: Sym, inC: number, planes: number, stride: number, name: string): Sym {
  const c = (h: Sym, filters: number, k: number, s: number, n: string) =>
    conv(h, { filters, kernelSize: k, strides: s, padding: k === 3 ? 1 : 0, init: "torch", name: `${name}_${n}` });
  let out = relu(bnNamed(c(x, planes, 3, stride, "conv1"), `${name}_bn1`));
  out = bnNamed(c(out, planes, 3, 1, "conv2"), `${name}_bn2`);
  const short = stride !== 1 || inC !== planes
    ? bnNamed(c(x, planes, 1, stride, "shortcut_0"), `${name}_shortcut_1`)
    : x;
  return relu(tf.layers.add({ name: `${name}_add` }).apply([out, short]) as Sym);
}

/**
 * `ResBlock(dim)` of `nets.py` l. 47–65 as PyTorch evaluates it: relu(x) + block'(relu(x)) with block' = [Conv 3×3
 * (bias), BN, ReLU, Conv 1×1 (bias), BN] (the in-place first ReLU overwrites x before the sum; module docs).
 */
function resBlock(x: Sym, dim: number, name: string): Sym {
  const r = tf.layers.reLU({ name: `${name}_block_0` }).apply(x) as Sym;
  let b = conv(r, { filters: dim, kernelSize: 3, padding: 1, useBias: true, init: "torch", name: `${name}_block_1` });
  b = relu(bnNamed(b, `${name}_block_2`));
  b = conv(b, { filters: dim, kernelSize: 1, padding: 0, useBias: true, init: "torch", name: `${name}_block_4` });
  b = bnNamed(b, `${name}_block_5`);
  return tf.layers.add({ name: `${name}_add` }).apply([r, b]) as Sym;
}

/**
 * The CIFAR-10 CVAE: functional encoder and decoder sub-models nested in the outer model, so the eager calls can
 * run them in inference mode while `model.apply(…, { training })` propagates the mode into them.
 */
function cifarCvae(zDim: number, numClasses: number, width: number): CvaeParts {
  const L = tf.layers;
  const [c1, c2, c3, c4] = [64, 128, 256, 512].map((k) => scaled(k, width)) as [number, number, number, number];
  const hidden = scaled(1024, width), dim = scaled(512, width);

  // Encoder: ResNet18 (nets.py l. 96–130) → flatten → fcE + ReLU → μ, log σ² (vae.py l. 38–47).
  const xEnc = L.input({ shape: [32, 32, 3], name: "cmg_enc_x" });
  let h = conv(xEnc, { filters: c1, kernelSize: 3, padding: 1, init: "torch", name: "cmg_convE_conv1" });
  h = relu(bnNamed(h, "cmg_convE_bn1"));
  let inC = c1;
  for (const [stage, planes, stride] of [[1, c1, 1], [2, c2, 2], [3, c3, 2], [4, c4, 2]] as const) {
    for (let b = 0; b < 2; b++) {
      h = basicBlock(h, inC, planes, b === 0 ? stride : 1, `cmg_convE_layer${stage}_${b}`);
      inC = planes;
    }
  }
  h = L.averagePooling2d({ poolSize: 4, name: "cmg_convE_avgpool" }).apply(h) as Sym; // F.avg_pool2d(out, 4)
  h = L.flatten({ name: "cmg_enc_flatten" }).apply(h) as Sym; // 1×1 map: the same order as PyTorch's
  const hE = dense(h, hidden, { name: "cmg_fcE", activation: "relu" });
  const encoder = tf.model({
    inputs: xEnc,
    outputs: [dense(hE, zDim, { name: "cmg_fcE_mean" }), dense(hE, zDim, { name: "cmg_fcE_logvar" })],
    name: "cmg_encoder",
  });

  // Decoder: fromZ + ReLU → fcD → view(-1, 512, 4, 4) (vae.py l. 54–60) → DeconvResnet (nets.py l. 133–162).
  const zeIn = L.input({ shape: [2 * zDim], name: "cmg_dec_ze" });
  let d = dense(zeIn, hidden, { name: "cmg_fromZ", activation: "relu" });
  d = dense(d, dim * 16, { name: "cmg_fcD" });
  d = L.reshape({ targetShape: [dim, 4, 4], name: "cmg_dec_view" }).apply(d) as Sym; // PyTorch's view: channel-major
  d = L.permute({ dims: [2, 3, 1], name: "cmg_dec_hwc" }).apply(d) as Sym; // NCHW → NHWC
  d = resBlock(d, dim, "cmg_convD_decoder_0");
  d = resBlock(d, dim, "cmg_convD_decoder_1");
  d = L.reLU({ name: "cmg_convD_decoder_2" }).apply(d) as Sym;
  d = chain(d, deconvLayers(dim, "cmg_convD_decoder_3"));
  d = L.reLU({ name: "cmg_convD_decoder_5" }).apply(bnNamed(d, "cmg_convD_decoder_4")) as Sym;
  d = chain(d, deconvLayers(dim, "cmg_convD_decoder_6"));
  d = L.reLU({ name: "cmg_convD_decoder_8" }).apply(bnNamed(d, "cmg_convD_decoder_7")) as Sym;
  d = chain(d, deconvLayers(3, "cmg_convD_decoder_9"));
  d = L.activation({ activation: "sigmoid", name: "cmg_convD_sigmoid" }).apply(d) as Sym;
  const decoder = tf.model({ inputs: zeIn, outputs: d, name: "cmg_decoder" });

  const embedLayer = linear(zDim, numClasses, "cmg_class_embed");
  const xIn = L.input({ shape: [32, 32, 3], name: "cmg_x" });
  const yIn = L.input({ shape: [numClasses], name: "cmg_onehot" });
  const [mu, logVar] = encoder.apply(xIn) as Sym[] as [Sym, Sym];
  const z = new GaussianSampling({ name: "cmg_z" }).apply([mu, logVar]) as Sym;
  const e = embedLayer.apply(yIn) as Sym;
  const xHat = decoder.apply(L.concatenate({ axis: -1, name: "cmg_dec_concat" }).apply([z, e]) as Sym) as Sym;
  const model = tf.model({ inputs: [xIn, yIn], outputs: [mu, logVar, xHat], name: "cmg_cvae" });
  return {
    model,
    embedLayer,
    encoderPadding: null,
    flatDim: c4,
    inputShape: [32, 32, 3],
    encode: (x) => encoder.apply(x, { training: false }) as [tf.Tensor2D, tf.Tensor2D],
    decode: (ze) => decoder.apply(ze, { training: false }) as tf.Tensor4D,
  };
}

/** The three scalars of {@linkcode cvaeLoss}. */
export interface CvaeLoss {
  /** kl + recon. */
  loss: tf.Scalar;
  /** (1/B) Σ_i KL(q(z|x_i) ‖ N(0, I)) / (C·H·W). */
  kl: tf.Scalar;
  /** (1/B) Σ_i (1/(C·H·W)) Σ_p (x_ip − x̂_ip)². */
  recon: tf.Scalar;
}

/**
 * CMG's CVAE loss, as `train_cvae` computes it (`training/train_cvae.py` l. 30–40):
 *
 *   kl    = mean_i [ −½ Σ_j (1 + log σ²_ij − μ_ij² − σ²_ij) ] / (C·H·W)     (l. 30–32)
 *   recon = mean_i mean_p (x_ip − x̂_ip)²                                     (l. 34–38)
 *   loss  = kl + recon                                                       (l. 40)
 *
 * `weighted_average(·, weights=None, dim=0)` is a plain batch mean (`models/utils/loss_functions.py` l. 7–8).
 * @see {@link https://2022.ecmlpkdd.org/wp-content/uploads/2022/09/sub_531.pdf | Paper} · shaoyijia/CMG `training/train_cvae.py`
 * @param x Inputs [N, H, W, C] in [0, 1].
 * @param xHat Reconstructions, same shape.
 * @param mu [N, zDim].
 * @param logVar [N, zDim].
 * @returns Three new scalars (the caller disposes them).
 * @example Usage
 * ```ts ignore
 * const { loss, kl, recon } = cvaeLoss(x, xHat, mu, logVar);
 * ```
 */
export function cvaeLoss(x: tf.Tensor4D, xHat: tf.Tensor4D, mu: tf.Tensor2D, logVar: tf.Tensor2D): CvaeLoss {
  if (x.shape.join() !== xHat.shape.join()) throw new Error(`cvaeLoss: x is ${x.shape} but x̂ is ${xHat.shape}`);
  if (mu.shape.join() !== logVar.shape.join()) throw new Error(`cvaeLoss: μ is ${mu.shape} but log σ² ${logVar.shape}`);
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const chw = h * w * c;
    const klPer = tf.mul(tf.sum(tf.sub(tf.sub(tf.add(1, logVar), tf.square(mu)), tf.exp(logVar)), 1), -0.5);
    const kl = tf.div(tf.mean(klPer), chw) as tf.Scalar;
    const recon = tf.mean(tf.mean(tf.reshape(tf.squaredDifference(x, xHat), [n, chw]), 1)) as tf.Scalar;
    return { loss: tf.add(kl, recon) as tf.Scalar, kl, recon };
  });
}

/** Options of {@linkcode trainCmgCvae}. */
export interface TrainCmgCvaeOptions {
  /** Epochs (reference 100 for MNIST, 200 for CIFAR-10, `train_cvae.py` l. 9–12). */
  epochs: number;
  /** Images per step (reference 512, `train.py` l. 30, shuffled). @default 512 */
  batchSize?: number;
  /** Adam's learning rate (reference 1e-3, `train_cvae.py` l. 15–17). @default 1e-3 */
  lr?: number;
  /** Seed of the batch order (weights and ε: seed `Math.random` with `seedEverything`). */
  seed: number;
  /** Checkpoint folder for `trainLoop` (saved every epoch, resumed when present). Default none. */
  runDir?: string;
  /** Called after every epoch with its mean loss, KL and reconstruction terms. */
  onEpoch?: (epoch: number, m: { loss: number; kl: number; recon: number }) => void | Promise<void>;
}

/** What {@linkcode trainCmgCvae} returns: per-epoch means. */
export interface CmgCvaeHistory {
  loss: number[];
  kl: number[];
  recon: number[];
  steps: number;
  seconds: number;
}

/**
 * Trains `cvae` in place on `train` (`training/train_cvae.py`): inputs in [0, 1], the true labels one-hot, Adam
 * (PyTorch semantics, lr 1e-3), batches of 512 reshuffled every epoch, loss {@linkcode cvaeLoss}, no schedule, no
 * weight decay; the final weights are kept; batch norm (CIFAR-10) in training mode throughout, as the reference's
 * module never leaves `train()`. Images must have the CVAE's `inputShape`; labels must lie in [0, numClasses).
 * @example Usage
 * ```ts ignore
 * const h = await trainCmgCvae(cvae, seenTrain, { epochs: 2, seed: 123 });
 * ```
 */
export async function trainCmgCvae(cvae: CmgCvae, train: Dataset, opts: TrainCmgCvaeOptions): Promise<CmgCvaeHistory> {
  for (const y of train.labels) {
    if (y < 0 || y >= cvae.numClasses) throw new RangeError(`trainCmgCvae: label ${y} outside [0, ${cvae.numClasses})`);
  }
  const [, hh, ww, cc] = train.shape;
  const [eh, ew, ec] = cvae.inputShape;
  if (hh !== eh || ww !== ew || cc !== ec) {
    throw new Error(`trainCmgCvae: the ${cvae.dataset} CVAE needs ${eh}×${ew}×${ec} images, got ${train.shape}`);
  }
  const t0 = performance.now();
  const source = datasetSource(train, {
    batchSize: opts.batchSize ?? 512,
    normalization: cvae.normalization,
    seed: opts.seed,
  });
  const optimizer = new Adam(cvae.variables, { lr: opts.lr ?? 1e-3 });
  const hist: CmgCvaeHistory = { loss: [], kl: [], recon: [], steps: 0, seconds: 0 };
  try {
    const result = await trainLoop(
      cvae.model,
      ({ x, y }: { x: tf.Tensor4D; y: tf.Tensor1D }): LossOutput => {
        const { mu, logVar, xHat } = cvae.forward(x, y, { training: true });
        const { loss, kl, recon } = cvaeLoss(x, xHat, mu, logVar);
        return { loss, metrics: { kl, recon } };
      },
      source,
      {
        epochs: opts.epochs,
        optimizer,
        progress: false,
        log: null,
        ...(opts.runDir ? { runDir: opts.runDir, config: { ...opts, onEpoch: undefined, n: train.shape[0] } } : {}),
        state: {
          save: () => ({ ...hist }),
          load: (s) => {
            hist.loss = [...(s.loss as number[])];
            hist.kl = [...(s.kl as number[])];
            hist.recon = [...(s.recon as number[])];
          },
        },
        onEpochEnd: async (e) => {
          const m = { loss: e.loss, kl: e.metrics.kl ?? NaN, recon: e.metrics.recon ?? NaN };
          hist.loss.push(m.loss);
          hist.kl.push(m.kl);
          hist.recon.push(m.recon);
          await opts.onEpoch?.(e.epoch, m);
        },
      },
    );
    hist.steps = result.step;
  } finally {
    optimizer.dispose();
  }
  hist.seconds = (performance.now() - t0) / 1000;
  return hist;
}
