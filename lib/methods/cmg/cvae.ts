/**
 * CMG's conditional VAE for MNIST (Wang, Shao, Lin, Hu, Liu, "CMG: A Class-Mixed Generation Approach to
 * Out-of-Distribution Detection", ECML-PKDD 2022; shaoyijia/CMG@265cc2c; papers.md §4a):
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
 *
 * **Layout.** TF.js is NHWC; PyTorch is NCHW. To keep the Linear layers' unit order identical to the reference
 * (so a PyTorch state dict maps onto these weights by transposing kernels only), the encoder permutes its last
 * map to channel-major before flattening (PyTorch's `Flatten` of C×H×W) and the decoder reshapes the 6 272 units to
 * [128, 7, 7] and permutes them to [7, 7, 128] (PyTorch's `view(-1, 128, 7, 7)`). Kernels map as: Linear
 * TF [in, out] = torch `weight.T`; Conv2d TF [kh, kw, in, out] = torch [out, in, kh, kw] permuted; ConvTranspose2d
 * TF [kh, kw, out, in] = torch [in, out, kh, kw] permuted, no flip (checked against a naive ConvTranspose2d in
 * `tests/methods/cmg/cvae_test.ts`).
 *
 * **Padding.** TF.js convolutions offer only "same"/"valid", so PyTorch's paddings are explicit: the encoder
 * zero-pads 15 (or 1) pixels on every side and convolves "valid"; each transposed convolution runs "valid" (output
 * (H − 1)·2 + 4 = 2H + 2) and crops 1 pixel from every side, which is exactly PyTorch's ConvTranspose2d with
 * padding 1 (output (H − 1)·2 − 2·1 + 4 = 2H).
 *
 * **Initialisation**: PyTorch's defaults, U(±1/√fan_in) for kernels and biases, with fan_in = in·k² for
 * convolutions and out·k² for transposed ones (torch computes it from `weight.size(1)`). Seed `Math.random`
 * (`seedEverything`) before {@linkcode createCmgCvae} for reproducible weights.
 * @module
 */
import { tf } from "../../tf.ts";
import { checkWidth, scaled, type Sym, torchUniform } from "../../backbones/_blocks.ts";
import { GaussianSampling } from "../../layers/sampling.ts";
import type { Dataset, Normalization } from "../../datasets/types.ts";
import { NORMALIZATION } from "../../datasets/normalization.ts";
import { Adam, datasetSource, type LossOutput, trainableVariables, trainLoop } from "../../train/mod.ts";

/** Options of {@linkcode createCmgCvae}. */
export interface CmgCvaeOptions {
  /** Latent width (reference `z_dim=32`, `models/vae.py` l. 12). @default 32 */
  zDim?: number;
  /** One-hot width of the class embedding (reference `class_num=10` even with 6 seen classes). @default 10 */
  numClasses?: number;
  /**
   * Zero padding of both encoder convolutions: 15 = the reference (`nets.py` l. 11–12; the map stays 28×28, flatten
   * 100 352), 1 = a narrow CPU variant ending at 7×7 (flatten 6 272). @default 15
   */
  encoderPadding?: 15 | 1;
  /** Multiplier of the 64/128 channels and the 1 024 hidden units (1 = the reference). @default 1 */
  width?: number;
}

/** μ and log σ² of q(z | x), each [N, zDim]. */
export interface CmgEncoding {
  mu: tf.Tensor2D;
  logVar: tf.Tensor2D;
}

/** What a training forward pass returns. */
export interface CmgForward extends CmgEncoding {
  /** Reconstruction [N, 28, 28, 1] in (0, 1). */
  xHat: tf.Tensor4D;
}

/** Class labels: int ids [N] (tensor or array) or one-hot rows [N, numClasses]. */
export type CmgLabels = tf.Tensor1D | tf.Tensor2D | ArrayLike<number>;

/** CMG's MNIST CVAE; every weight lives in {@linkcode CmgCvae.model}. */
export interface CmgCvae {
  /** [x (28×28×1, [0, 1]), onehot(y)] → [μ, log σ², x̂], with z sampled: all weights (optimizers, checkpoints). */
  readonly model: tf.LayersModel;
  /** The trainable variables of `model` (what Adam updates). */
  readonly variables: tf.Variable[];
  readonly zDim: number;
  readonly numClasses: number;
  readonly encoderPadding: 15 | 1;
  readonly width: number;
  /** Width of the encoder's flattened map (100 352 for padding 15 at width 1, 6 272 for padding 1). */
  readonly flatDim: number;
  /** [28, 28, 1]. */
  readonly inputShape: readonly [number, number, number];
  /** Inputs in [0, 1], no normalisation (the reference's `ToTensor()` only). */
  readonly normalization: Normalization;
  /** q(z | x): μ and log σ² (caller disposes). */
  encode(x: tf.Tensor4D): CmgEncoding;
  /** e_y = W·onehot(y) + b, [N, zDim] (caller disposes). */
  embed(labels: CmgLabels): tf.Tensor2D;
  /** x̂ = decoder([z, e]), [N, 28, 28, 1] in (0, 1) (caller disposes). */
  decode(z: tf.Tensor2D, e: tf.Tensor2D): tf.Tensor4D;
  /** The full pass μ, log σ², z = μ + σ·ε (ε through `Math.random`), x̂ = decode(z, e_y). */
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

/**
 * Builds CMG's MNIST CVAE (`ConditionalVAE(dataset='mnist')`, `models/vae.py` l. 9–67; layer list, layout and padding
 * in the module documentation). Encoder, embedding and decoder are layer lists shared by the functional `model`
 * and by the eager `encode` / `embed` / `decode`.
 * @see {@link https://2022.ecmlpkdd.org/wp-content/uploads/2022/09/sub_531.pdf | Paper} · shaoyijia/CMG `models/vae.py`, `models/conv/nets.py`
 * @param opts z width, class count, encoder padding, width multiplier.
 * @returns The CVAE (dispose it with `dispose()`).
 * @example Usage
 * ```ts ignore
 * const cvae = createCmgCvae({ encoderPadding: 1, width: 0.25 });
 * const { mu, logVar } = cvae.encode(x);           // [N, 32] each
 * const xHat = cvae.decode(mu, cvae.embed([0, 3])); // [N, 28, 28, 1]
 * ```
 */
export function createCmgCvae(opts: CmgCvaeOptions = {}): CmgCvae {
  const width = checkWidth(opts.width);
  const zDim = opts.zDim ?? 32;
  const numClasses = opts.numClasses ?? 10;
  const pad = opts.encoderPadding ?? 15;
  if (!Number.isInteger(zDim) || zDim < 1) throw new RangeError(`zDim must be a positive integer, got ${zDim}`);
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new RangeError(`numClasses must be a positive integer, got ${numClasses}`);
  }
  if (pad !== 15 && pad !== 1) throw new RangeError(`encoderPadding must be 15 (reference) or 1, got ${pad}`);
  const c1 = scaled(64, width), c2 = scaled(128, width), hidden = scaled(1024, width);
  const L = tf.layers;
  const convOut = (h: number) => Math.floor((h + 2 * pad - 4) / 2) + 1;
  const side = convOut(convOut(28));
  const flatDim = c2 * side * side;
  const linear = (units: number, fanIn: number, name: string, activation?: "relu") =>
    L.dense({
      units,
      name,
      kernelInitializer: torchUniform(fanIn),
      biasInitializer: torchUniform(fanIn),
      ...(activation ? { activation } : {}),
    });
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
    L.conv2dTranspose({
      filters,
      kernelSize: 4,
      strides: 2,
      padding: "valid",
      kernelInitializer: torchUniform(filters * 16),
      biasInitializer: torchUniform(filters * 16),
      name,
    }),
    L.cropping2D({ cropping: [[1, 1], [1, 1]], name: `${name}_crop` }),
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
    zDim,
    numClasses,
    encoderPadding: pad,
    width,
    flatDim,
    inputShape: [28, 28, 1],
    normalization: NORMALIZATION.unitRange,
    encode: (x) => {
      const [m, v] = tf.tidy(() => {
        const f = chain(x as tf.Tensor, trunk);
        return [muLayer.apply(f) as tf.Tensor2D, logVarLayer.apply(f) as tf.Tensor2D];
      });
      return { mu: m, logVar: v };
    },
    embed: (labels) => tf.tidy(() => embedLayer.apply(onehot(labels)) as tf.Tensor2D),
    decode: (zs, es) => tf.tidy(() => chain(tf.concat([zs, es], 1) as tf.Tensor, decoder) as tf.Tensor4D),
    forward: (x, labels, o = {}) => {
      const [m, v, r] = tf.tidy(() =>
        model.apply([x, onehot(labels)], { training: o.training ?? false }) as tf.Tensor[]
      );
      return { mu: m as tf.Tensor2D, logVar: v as tf.Tensor2D, xHat: r as tf.Tensor4D };
    },
    dispose: () => model.dispose(),
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
  /** Epochs (reference 100 for MNIST, `train_cvae.py` l. 9–10). */
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
 * weight decay; the final weights are kept. Labels must lie in [0, numClasses).
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
  if (hh !== 28 || ww !== 28 || cc !== 1) throw new Error(`trainCmgCvae: needs 28×28×1 images, got ${train.shape}`);
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
