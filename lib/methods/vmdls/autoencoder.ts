/**
 * VMDLS's reconstruction weighting (Dinari & Freifeld, UAI 2022; BGU-CS-VIL/vmdls@5add9e2; papers.md §2c, step 2):
 * an auto-encoder trained on the ID training images, and
 *
 *   r(x) = mean_j (GAP(L1(x))_j − GAP(L1(x̂))_j)²,   x̂ = AE(x),
 *
 * with L1 the VMDLS backbone's first stage (`get_layer_output(·, 1)`, the 2nd convolution before its ReLU for
 * mnist-conv: `models/decoders_encoders.py` l. 65–69; `featureList()[0]` of our `mnist_conv`), as the reference's
 * `test_step` computes it (`models/vae.py` l. 314–323) and `test_epoch_end` reduces it (l. 551–553,
 * `((all_sift - all_sift_hat)**2).mean(axis=1)`). The score divides r by its maximum (`lib/scores/vmdls.ts`).
 *
 * **The auto-encoder.** The reference ships its weights (`models/ae_mnist.ckpt`, Google Drive only) and the script
 * that trained them, `models/mnist_ae.py`; we train our own with that script's recipe, seeded, with a checkpoint cache:
 * - architecture (`MNIST_AE`, l. 96–106, `enc_type='mnist'` from `ae_dict`, `models/vae.py` l. 75):
 *   `MnistConvEncoder` (five conv3×3(100)+bias+ReLU, max-pool 2×2 after the 2nd, 4th and 5th, flatten 900, linear 500;
 *   `models/decoders_encoders.py` l. 40–63) → `fc` linear 500 → 32 (`mnist_ae.py` l. 99) → `MnistConvDecoder`
 *   (linear 32 → 500, linear 500 → 900, reshape 100×3×3, four ConvTranspose2d(100, 2, stride 1) + ReLU
 *   3 → 4 → 5 → 6 → 7, two ConvTranspose2d(100, 2, stride 2) + ReLU 7 → 14 → 28, conv1×1 → 1 channel, linear
 *   output; l. 79–106). No BatchNorm, no dropout, no activation between the linear layers. PyTorch's default
 *   initialisation (U(±1/√fan_in); a transposed convolution's fan_in is out_channels·k², as torch computes it).
 *   Our reshape of the 900 units is NHWC where PyTorch's `view(-1, 100, 3, 3)` is NCHW: a fixed permutation of the
 *   units of a learned linear layer, the same function class.
 * - training (`step`, `configure_optimizers`, `cli_main`; `mnist_ae.py` l. 108–132, 156–188): MSE (mean over
 *   pixels and images) between x̂ and x, Adam(lr 1e-4), batch 256, on pl_bolts' `MNISTDataModule`, whose default
 *   transform is `ToTensor()` alone: **inputs on [0, 1]** (the `dt` dict with Normalize(0.5, 0.5) at l. 15–29 is
 *   never used). The epoch count is the Lightning command line's, not recorded.
 *
 * **The range quirk.** At test time the reference feeds the AE the *normalised* batch x ∈ [−1, 1]
 * (`self.ae(x[...])`, `models/vae.py` l. 319, x from the `blob` transform with Normalize(0.5, 0.5)), although it was
 * trained on [0, 1], and feeds x̂ to the backbone as is (l. 322). {@linkcode ReconstructionOptions.inputs} offers
 * both: `"faithful"` reproduces this; `"clean"` gives the AE the [0, 1] image it was trained on and normalises x̂
 * like the backbone's inputs before L1.
 * @module
 */
import { tf } from "../../tf.ts";
import type { Dataset, Normalization } from "../../datasets/types.ts";
import { NORMALIZATION } from "../../datasets/normalization.ts";
import { batchToTensor, gatherBatch } from "../../data/tensors.ts";
import { indexBatches } from "../../data/batches.ts";
import { checkWidth, conv, dense, scaled, type Sym, torchUniform } from "../../backbones/_blocks.ts";
import { Adam, datasetSource, type LossOutput, trainableVariables, trainLoop } from "../../train/mod.ts";
import type { DetectorModel } from "../../scores/detector.ts";
import type { VmdlsReconstruction } from "../../scores/vmdls.ts";

/** An auto-encoder x ↦ x̂ on images of one shape. */
export interface Autoencoder {
  /** input → x̂, one functional model (what checkpoints hold). */
  readonly model: tf.LayersModel;
  /** [height, width, channels]. */
  readonly inputShape: readonly [number, number, number];
  /** Width of the code z. */
  readonly latentDim: number;
  /** The input normalisation it is trained on: [0, 1] (`unitRange`), as the reference's `mnist_ae.py`. */
  readonly normalization: Normalization;
  /** x̂ = decoder(fc(encoder(x))) (the caller disposes it). */
  reconstruct(x: tf.Tensor4D, opts?: { training?: boolean }): tf.Tensor4D;
}

/** Options of {@linkcode mnistAutoencoder}. */
export interface AutoencoderOptions {
  /** Code width (reference: `latent_dim` 32, `mnist_ae.py` l. 47). @default 32 */
  latentDim?: number;
  /** Multiplier of the 100 channels and the 500 units (1 = the reference), as the backbones' `width`. @default 1 */
  width?: number;
}

/**
 * The reference's MNIST auto-encoder (`MNIST_AE(input_height=28, enc_type='mnist')`; see the module documentation
 * for the layer list and its sources), on 28×28×1 inputs. Seed `Math.random` (`seedEverything`) first for
 * reproducible weights.
 * @example Usage
 * ```ts ignore
 * const ae = mnistAutoencoder({ width: 0.25 });
 * const xHat = ae.reconstruct(x); // [N, 28, 28, 1]
 * ```
 */
export function mnistAutoencoder(opts: AutoencoderOptions = {}): Autoencoder {
  const width = checkWidth(opts.width);
  const latentDim = opts.latentDim ?? 32;
  if (!Number.isInteger(latentDim) || latentDim < 1) throw new RangeError(`latentDim must be ≥ 1, got ${latentDim}`);
  const c = scaled(100, width), hidden = scaled(500, width);
  const L = tf.layers;
  const input = tf.input({ shape: [28, 28, 1] });
  // Encoder: conv3×3 + ReLU ×5, max-pool after the 2nd, 4th and 5th (28 → 14 → 7 → 3), flatten, linear 500.
  let h: Sym = input;
  for (const poolAfter of [false, true, false, true, true]) {
    h = L.reLU().apply(conv(h, { filters: c, kernelSize: 3, useBias: true, init: "torch" })) as Sym;
    if (poolAfter) h = L.maxPooling2d({ poolSize: 2, strides: 2 }).apply(h) as Sym;
  }
  h = dense(L.flatten().apply(h) as Sym, hidden, { name: "ae_enc_fc" });
  h = dense(h, latentDim, { name: "ae_code" });
  // Decoder: linear → 500 → 900, reshape 3×3×c, transposed convolutions 3 → 7 (stride 1) → 14 → 28 (stride 2).
  h = dense(h, hidden, { name: "ae_dec_latent" });
  h = dense(h, 9 * c, { name: "ae_dec_fc" });
  h = L.reshape({ targetShape: [3, 3, c] }).apply(h) as Sym;
  for (const strides of [1, 1, 1, 1, 2, 2]) {
    const init = torchUniform(c * 2 * 2);
    h = L.conv2dTranspose({
      filters: c,
      kernelSize: 2,
      strides,
      padding: "valid",
      kernelInitializer: init,
      biasInitializer: init,
    }).apply(h) as Sym;
    h = L.reLU().apply(h) as Sym;
  }
  const out = conv(h, { filters: 1, kernelSize: 1, useBias: true, init: "torch" });
  const model = tf.model({ inputs: input, outputs: out, name: "vmdls_mnist_ae" });
  return {
    model,
    inputShape: [28, 28, 1],
    latentDim,
    normalization: NORMALIZATION.unitRange,
    reconstruct: (x, o = {}) => model.apply(x, { training: o.training ?? false }) as tf.Tensor4D,
  };
}

/** The auto-encoder's training recipe (`mnist_ae.py`: MSE, Adam 1e-4, batch 256; the epochs are ours). */
export interface AutoencoderRecipe {
  /** Epochs over the training images (the reference's count is not recorded). */
  epochs: number;
  /** Images per step (reference 256, `mnist_ae.py` l. 149). */
  batchSize: number;
  /** Adam's learning rate (reference 1e-4, l. 48 and 141). */
  lr: number;
}

/** The reference's recipe without its unrecorded epoch count. */
export const AUTOENCODER_RECIPE: Omit<AutoencoderRecipe, "epochs"> = { batchSize: 256, lr: 1e-4 };

/** Options of {@linkcode trainAutoencoder}. */
export interface TrainAutoencoderOptions {
  /** Seed of the batch order (weights: seed `Math.random` before {@linkcode mnistAutoencoder}). */
  seed: number;
  /**
   * Checkpoint folder (e.g. `checkpoints/vmdls/ae-mnist-w0.25-s0`): saved every epoch, and a run whose folder holds
   * a finished checkpoint loads it instead of training (the cache). One folder per (width, latent size, recipe,
   * seed, training set): the stored config is not compared. Default none.
   */
  runDir?: string;
  /** Called after every epoch. */
  onEpoch?: (epoch: number, loss: number) => void | Promise<void>;
}

/** What {@linkcode trainAutoencoder} returns. */
export interface AutoencoderOutcome {
  /** Mean training MSE of every epoch (restored from the checkpoint when resumed). */
  losses: number[];
  /** Optimizer steps in total. */
  steps: number;
  /** The checkpoint the run continued from (the whole run when it was complete), or null. */
  resumedFrom: string | null;
  seconds: number;
}

/**
 * Trains `ae` in place on `train`'s images, [0, 1] inputs, no augmentation, batches reshuffled every epoch from
 * `seed`: L = mean (x̂ − x)², Adam (`mnist_ae.py` l. 108–132). Labels are ignored.
 */
export async function trainAutoencoder(
  ae: Autoencoder,
  train: Dataset,
  recipe: AutoencoderRecipe,
  opts: TrainAutoencoderOptions,
): Promise<AutoencoderOutcome> {
  const t0 = performance.now();
  const source = datasetSource(train, {
    batchSize: recipe.batchSize,
    normalization: ae.normalization,
    seed: opts.seed,
  });
  const optimizer = new Adam(trainableVariables(ae.model), { lr: recipe.lr });
  let losses: number[] = [];
  try {
    const result = await trainLoop(
      ae.model,
      ({ x }: { x: tf.Tensor4D }): LossOutput => ({
        loss: tf.mean(tf.squaredDifference(ae.reconstruct(x, { training: true }), x)) as tf.Scalar,
      }),
      source,
      {
        epochs: recipe.epochs,
        optimizer,
        progress: false,
        log: null,
        ...(opts.runDir ? { runDir: opts.runDir, config: { recipe, seed: opts.seed, n: train.shape[0] } } : {}),
        state: { save: () => ({ losses }), load: (s) => void (losses = [...(s.losses as number[])]) },
        onEpochEnd: async (e) => {
          losses.push(e.loss);
          await opts.onEpoch?.(e.epoch, e.loss);
        },
      },
    );
    return { losses, steps: result.step, resumedFrom: result.resumedFrom, seconds: (performance.now() - t0) / 1000 };
  } finally {
    optimizer.dispose();
  }
}

/** Mean squared pixel error (x̂ − x)² of `ae` over `ds` on its [0, 1] training scale, in dataset order. */
export async function reconstructionMse(ae: Autoencoder, ds: Dataset, batchSize = 256): Promise<number> {
  let sum = 0;
  for (const idx of indexBatches(ds.shape[0], { batchSize })) {
    const x = batchTensor(ds, idx, ae.normalization);
    const s = tf.tidy(() => tf.sum(tf.squaredDifference(ae.reconstruct(x), x)));
    sum += (await s.data())[0]!;
    tf.dispose([x, s]);
  }
  return sum / (ds.shape[0] * ds.shape[1] * ds.shape[2] * ds.shape[3]);
}

/** How the auto-encoder's input range is handled at test time (see the module documentation). */
export type AeInputs = "faithful" | "clean";

/** Options of {@linkcode reconstructionWeights}. */
export interface ReconstructionOptions {
  /**
   * `"faithful"`: the AE gets the backbone-normalised x (the reference: [−1, 1] into an AE trained on [0, 1]) and
   * x̂ goes to the backbone as is. `"clean"`: the AE gets x on its own training scale and x̂ is mapped to the
   * backbone's normalisation before L1.
   */
  inputs: AeInputs;
  /** Index of L1 in the model's `featureList` (VMDLS: 0, `get_layer_output(·, 1)`). @default 0 */
  stage?: number;
  /** Images per forward pass. @default 256 */
  batchSize?: number;
}

/** The network whose first stage r(x) compares: anything with `featureList` (a `Backbone`, the VMDLS network). */
export type StageModel = Pick<DetectorModel, "featureList" | "normalization">;

/**
 * r(x) for every image of `ds`, in dataset order: mean_j (GAP(L1(x))_j − GAP(L1(x̂))_j)² (`models/vae.py`
 * l. 316–323, 553), L1 = `model.featureList(·)[stage]`, x̂ from `ae` with the range handling of `opts.inputs`.
 * Inference mode; no tensor is kept.
 * @example Usage
 * ```ts ignore
 * const r = await reconstructionWeights(ae, vmdlsNet, testSet, { inputs: "faithful" });
 * ```
 */
export async function reconstructionWeights(
  ae: Pick<Autoencoder, "reconstruct" | "normalization">,
  model: StageModel,
  ds: Dataset,
  opts: ReconstructionOptions,
): Promise<Float32Array> {
  const list = model.featureList?.bind(model);
  if (!list) throw new Error("reconstructionWeights: the model has no featureList");
  const stage = opts.stage ?? 0;
  const net = model.normalization, own = ae.normalization;
  const r = new Float32Array(ds.shape[0]);
  let off = 0;
  for (const idx of indexBatches(ds.shape[0], { batchSize: opts.batchSize ?? 256 })) {
    const x = batchTensor(ds, idx, net);
    const aeIn = opts.inputs === "faithful" ? x : batchTensor(ds, idx, own);
    try {
      const rows = tf.tidy(() => {
        const xHat = opts.inputs === "faithful" ? ae.reconstruct(x) : renormalize(ae.reconstruct(aeIn), own, net);
        const fs = list(tf.concat([x, xHat], 0));
        const f = fs[stage];
        if (!f) throw new Error(`reconstructionWeights: stage ${stage} of a featureList of ${fs.length}`);
        const [a, b] = tf.split(f, 2, 0) as [tf.Tensor2D, tf.Tensor2D];
        return tf.mean(tf.squaredDifference(a, b), 1);
      });
      r.set(await rows.data() as Float32Array, off);
      rows.dispose();
    } finally {
      tf.dispose([x, aeIn]);
    }
    off += idx.length;
  }
  return r;
}

/**
 * {@linkcode reconstructionWeights} as the `reconstruction` option of `vmdlsDetector` (`lib/scores/vmdls.ts`): r on
 * the context's model and batch size, memoised per (model, set), since `fit` and `score` both ask for the ID test set.
 * @example Usage
 * ```ts ignore
 * const spec = { use: "vmdls", opts: { reconstruction: vmdlsReconstruction(ae, { inputs: "clean" }) } };
 * ```
 */
export function vmdlsReconstruction(
  ae: Pick<Autoencoder, "reconstruct" | "normalization">,
  opts: Omit<ReconstructionOptions, "batchSize">,
): VmdlsReconstruction {
  const memo = new WeakMap<object, WeakMap<Dataset, Promise<Float32Array>>>();
  return (ds, ctx) => {
    const perModel = memo.get(ctx.model) ?? new WeakMap<Dataset, Promise<Float32Array>>();
    memo.set(ctx.model, perModel);
    let r = perModel.get(ds);
    if (!r) {
      r = reconstructionWeights(ae, ctx.model, ds, { ...opts, batchSize: ctx.batchSize });
      perModel.set(ds, r);
    }
    return r;
  };
}

function batchTensor(ds: Dataset, idx: Int32Array, norm: Normalization): tf.Tensor4D {
  const { images } = gatherBatch(ds, idx);
  return batchToTensor(images, [idx.length, ds.shape[1], ds.shape[2], ds.shape[3]], norm);
}

/** x normalised with `from` → the same image normalised with `to`: ((x·σ_f + μ_f) − μ_t) / σ_t per channel. */
function renormalize(x: tf.Tensor4D, from: Normalization, to: Normalization): tf.Tensor4D {
  const k = from.std.map((s, c) => s / to.std[c]!);
  const b = from.mean.map((m, c) => (m - to.mean[c]!) / to.std[c]!);
  return tf.add(tf.mul(x, tf.tensor1d(k)), tf.tensor1d(b));
}
