/**
 * VMDLS's training loop (Dinari & Freifeld, UAI 2022; BGU-CS-VIL/vmdls@5add9e2, papers.md §2a–2b) on the shared
 * `trainLoop` (`lib/train/loop.ts`): class-balanced batches, the reparameterised sample z, the triplet +
 * distancing loss with its margin schedule, the KL term to the previous epoch's class means, Adam with StepLR,
 * seeded and resumable from checkpoints, with a per-epoch training curve.
 * @module
 */
import { tf } from "../../tf.ts";
import type { Dataset } from "../../datasets/types.ts";
import { AUGMENTATIONS, augmentBatch, type AugmentStep } from "../../data/augment.ts";
import { batchToTensor, gatherBatch } from "../../data/tensors.ts";
import { Rng, type RngState } from "../../data/rng.ts";
import { Adam, type BatchSource, deriveSeed, SGD, stepLr, trainableVariables, trainLoop } from "../../train/mod.ts";
import { distancingMarginAt, klToClassPriors, type MarginScheduleOptions, tripletDistancingLoss } from "./losses.ts";
import { ClassMeanTracker, type ClassMeanTrackerState } from "./priors.ts";
import { BalancedBatchSampler } from "./sampler.ts";
import { reparameterize, standardNormal, type VmdlsNet } from "./network.ts";

/** Every training hyperparameter of VMDLS, with the reference's MNIST values as defaults. */
export interface VmdlsTrainConfig {
  /** Epochs (`--max_epochs 500`; the README says 100 suffice for MNIST, `README.md` l. 140–142). */
  epochs: number;
  /** Peak learning rate (`--lr 0.0001`, `README.md` l. 142). */
  lr: number;
  /**
   * `--opt`: `adam` = `torch.optim.Adam(self.parameters(), lr=lr)`, default betas, no weight decay (MNIST, VGG);
   * `sgd` = SGD(momentum 0.9, dampening 0, weight decay 1e-4, Nesterov) (ResNet-18, DenseNet), `models/vae.py`
   * l. 689–694.
   */
  optimizer: "adam" | "sgd";
  /** StepLR period in epochs (`--step_size 100`, `README.md` l. 142; `StepLR`, `models/vae.py` l. 695). */
  stepSize: number;
  /** StepLR factor (`--step_gamma`, default 0.1, `models/vae.py` l. 743). */
  stepGamma: number;
  /** B_c (`--batch_classes 10`, `README.md` l. 142). */
  classesPerBatch: number;
  /** B_s (`--sample_count 16`, `README.md` l. 142). */
  samplesPerClass: number;
  /** Ranking margin m (`TripletMarginLossModded(margin=0.1, …)`, `models/vae.py` l. 165). */
  margin: number;
  /** Distancing-margin schedule: start 0.15 (`neg_margin=0.15`, l. 165), jump 1 (`--margin_jump 1.0`),
   * from epoch 1 (`--margins_epoch 1`), M_d 32 (`--margin_max_distance 32`), `README.md` l. 142; applied by
   * `UpdateMargin`, l. 44–52. */
  marginSchedule: MarginScheduleOptions;
  /** KL weight (`--kl_coeff 0.1`, `README.md` l. 142). */
  klWeight: number;
  /** Std of the class priors (0.1, `models/vae.py` l. 256). */
  priorStd: number;
  /** First epoch with the KL term (`--generation_epoch 0`, `README.md` l. 142; l. 274–275). */
  generationEpoch: number;
  /** Training augmentation: the reference's MNIST transform, RandomRotation(10, fill 0) +
   * RandomResizedCrop(28, scale 0.95–1) (`data/data_transforms.py` l. 35–40; `--data_transforms mnist`). */
  augment: readonly AugmentStep[];
}

/** The reference's MNIST training command (`README.md` l. 142), papers.md §2b. */
export const VMDLS_MNIST_TRAIN: Readonly<VmdlsTrainConfig> = Object.freeze({
  epochs: 500,
  lr: 1e-4,
  optimizer: "adam",
  stepSize: 100,
  stepGamma: 0.1,
  classesPerBatch: 10,
  samplesPerClass: 16,
  margin: 0.1,
  marginSchedule: Object.freeze({ start: 0.15, jump: 1, fromEpoch: 1, max: 32 }),
  klWeight: 0.1,
  priorStd: 0.1,
  generationEpoch: 0,
  augment: AUGMENTATIONS.mnistRotateCrop,
});

/** The paper's ablations of the training loss. */
export interface VmdlsAblation {
  /** false: no distancing term (M_t = 0, so max(0, M_t − d_an) ≡ 0: a plain triplet loss). @default true */
  distancing?: boolean;
  /** false: no KL term. @default true */
  kl?: boolean;
}

/** Options of {@linkcode trainVmdls}: any hyperparameter (default {@linkcode VMDLS_MNIST_TRAIN}) and the run. */
export interface VmdlsTrainOptions extends Partial<VmdlsTrainConfig> {
  /** Seed of the batch, augmentation and ε streams (seed `Math.random` before building the net for weights). */
  seed: number;
  /** Loss terms switched off. */
  ablate?: VmdlsAblation;
  /** Checkpoint folder (resumed when it holds a checkpoint). */
  runDir?: string;
  /** Also save every N optimizer steps (besides epoch ends). @default 0 */
  checkpointEvery?: number;
  /** Stop (with a checkpoint when `runDir` is set) once this many optimizer steps were taken in total. */
  maxSteps?: number;
  /** Called after every epoch with its curve point. */
  onEpoch?: (point: VmdlsEpochPoint) => void | Promise<void>;
}

/** One epoch of the training curve (means over the epoch's steps). */
export interface VmdlsEpochPoint {
  /** Epoch (0-based). */
  epoch: number;
  /** Total loss L = triplet + KL. */
  loss: number;
  /** The triplet + distancing term (the reference logs it as `triplet_loss`, `models/vae.py` l. 280). */
  triplet: number;
  /** The KL term (0 before `generationEpoch` and when ablated). */
  kl: number;
  /** M_t of the epoch (0 when the distancing term is ablated). */
  distancingMargin: number;
  /** Learning rate of the epoch. */
  lr: number;
  seconds: number;
}

/** What {@linkcode trainVmdls} returns. */
export interface VmdlsTrainResult {
  /** The training curve, one point per epoch run in this call. */
  curve: VmdlsEpochPoint[];
  /** Optimizer steps taken in total. */
  steps: number;
  /** The KL priors after training: the last epoch's class means of z, [K][D]. */
  classMeans: number[][];
  /** The configuration used. */
  config: VmdlsTrainConfig;
  /** The checkpoint the run continued from, if any. */
  resumedFrom: string | null;
  seconds: number;
}

/** A VMDLS training batch. */
export interface VmdlsBatch {
  /** Normalised, augmented images. */
  x: tf.Tensor4D;
  /** Labels (int32 tensor; the loop disposes it). */
  y: tf.Tensor1D;
  /** The same labels on the host. */
  labels: Int32Array;
  /** ε of the reparameterisation, [B, D]. */
  eps: tf.Tensor2D;
}

/**
 * The class-balanced batch source: epoch e draws its batches from a fresh `BalancedBatchSampler` seeded with
 * `deriveSeed(seed, "sampler/e")` (the reference rebuilds its sampler each epoch, `main.py` l. 74
 * `reload_dataloaders_every_epoch=True`), augments from the `augment` stream and draws ε from the `eps` stream;
 * both streams' states are checkpointed, so a resumed epoch is bit-identical.
 */
export function vmdlsBatchSource(
  train: Dataset,
  opts: {
    seed: number;
    classesPerBatch: number;
    samplesPerClass: number;
    augment: readonly AugmentStep[];
    latentDim: number;
    normalization: VmdlsNet["normalization"];
  },
): BatchSource<VmdlsBatch> {
  const sampler = (epoch: number) =>
    new BalancedBatchSampler(train.labels, {
      classesPerBatch: opts.classesPerBatch,
      samplesPerClass: opts.samplesPerClass,
      seed: deriveSeed(opts.seed, `sampler/${epoch}`),
    });
  const count = sampler(0).batchesPerEpoch;
  let streams = { augment: new Rng(0), eps: new Rng(0) };
  let restored: Record<string, RngState> | null = null;
  const pixels = (idx: number[], rng: Rng) =>
    opts.augment.length ? augmentBatch(train.images, train.shape, idx, opts.augment, rng) : {
      images: gatherBatch(train, idx).images,
      shape: [idx.length, train.shape[1], train.shape[2], train.shape[3]] as const,
    };
  return {
    length: () => count,
    *epoch(epoch: number, skip: number) {
      const batches = sampler(epoch).epoch();
      const fresh = () => ({
        augment: new Rng(deriveSeed(opts.seed, `augment/${epoch}`)),
        eps: new Rng(deriveSeed(opts.seed, `eps/${epoch}`)),
      });
      if (skip > 0 && restored?.augment && restored.eps) {
        streams = { augment: Rng.fromState(restored.augment), eps: Rng.fromState(restored.eps) };
      } else {
        streams = fresh();
        for (let b = 0; b < skip; b++) { // replay the skipped batches' draws
          pixels(batches[b]!, streams.augment);
          standardNormal(streams.eps, batches[b]!.length * opts.latentDim);
        }
      }
      restored = null;
      for (let b = skip; b < batches.length; b++) {
        const idx = batches[b]!;
        const { images, shape } = pixels(idx, streams.augment);
        const labels = Int32Array.from(idx, (i) => train.labels[i]!);
        const eps = standardNormal(streams.eps, idx.length * opts.latentDim);
        yield {
          x: batchToTensor(images, shape, opts.normalization),
          y: tf.tensor1d(labels, "int32"),
          labels,
          eps: tf.tensor2d(eps, [idx.length, opts.latentDim]),
        };
      }
    },
    getState: () => ({ augment: streams.augment.getState(), eps: streams.eps.getState() }),
    setState: (s) => {
      restored = s;
    },
  };
}

/** The recipe of a run: {@linkcode VMDLS_MNIST_TRAIN} with the given (defined) values over it. */
export function vmdlsRecipe(given: Partial<VmdlsTrainConfig>): VmdlsTrainConfig {
  const defined = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  return { ...VMDLS_MNIST_TRAIN, ...defined };
}

/**
 * The recipe's optimiser over `variables` (`models/vae.py` l. 689–694): Adam(lr) with default betas and no weight
 * decay, or SGD(lr, momentum 0.9, dampening 0, weight decay 1e-4, Nesterov).
 */
export function vmdlsOptimizer(
  config: Pick<VmdlsTrainConfig, "optimizer" | "lr">,
  variables: tf.Variable[],
): SGD | Adam {
  return config.optimizer === "sgd"
    ? new SGD(variables, { lr: config.lr, momentum: 0.9, nesterov: true, weightDecay: 1e-4 })
    : new Adam(variables, { lr: config.lr });
}

/**
 * Trains `net` in place with VMDLS's objective, as the reference's `step` (`models/vae.py` l. 240–282) and its
 * callbacks:
 * - per batch: [μ, log σ²] = heads(g(x)) in training mode, z = μ + σ·ε (l. 208–222);
 *   L = tripletDistancing(z, y; m, M_t) + [e ≥ generation_epoch]·KL(z, μ, log σ²; m_c) (l. 273–276);
 * - M_t = `distancingMarginAt(e)` (`UpdateMargin`, l. 44–52); ablated: M_t = 0;
 * - m_c: the class means of the detached z over the previous epoch's steps, zeros in epoch 0 (l. 252–254, 338,
 *   352–354; `ClassMeanTracker`); z of every step is accumulated whether or not the KL term is on, as in l. 252;
 * - batches: `BalancedBatchSampler`, B_c × B_s, one fresh sampler per epoch (`vmdlsBatchSource`);
 * - Adam(lr, betas (0.9, 0.999), ε 1e-8, no weight decay) or Nesterov SGD (`optimizer`) over every weight of
 *   `net.model` (backbone and heads; l. 689–694) with StepLR(step_size, γ) stepped per epoch (l. 695);
 * - the augmentation on raw uint8 images, then the backbone's normalization ((0.5, 0.5) for mnist_conv).
 * At the end, `net.setClassMeans` gets the last epoch's class means of z (the nearest-class-mean `logits`).
 * Not reproduced: the reference's per-epoch validation on the ID + OOD *test* sets and its top-3-by-F1
 * checkpoint selection (`main.py` l. 64–70): this loop keeps the last weights (checkpoints via `runDir`).
 * @see {@link https://openreview.net/pdf?id=ScLeuUUi9gq | Paper} · BGU-CS-VIL/vmdls `models/vae.py`, `main.py`
 * @param net The network (seed `Math.random` with `seedEverything` before building it for reproducible weights).
 * @param train Labelled training images (uint8).
 * @param opts Hyperparameters (defaults: the MNIST command), seed, ablations, checkpoints.
 * @example Usage
 * ```ts ignore
 * seedEverything(0);
 * const net = vmdlsNet(createBackbone("mnist_conv", { numClasses: 10 }), { latentDim: 32 });
 * const { curve } = await trainVmdls(net, mnistTrain, { seed: 0, epochs: 100 });
 * ```
 */
export async function trainVmdls(net: VmdlsNet, train: Dataset, opts: VmdlsTrainOptions): Promise<VmdlsTrainResult> {
  const t0 = performance.now();
  const { seed, ablate = {}, runDir, checkpointEvery, maxSteps, onEpoch, ...given } = opts;
  const config = vmdlsRecipe(given);
  const useDistancing = ablate.distancing !== false, useKl = ablate.kl !== false;
  const k = net.numClasses, d = net.latentDim;
  const tracker = new ClassMeanTracker(k, d);
  const source = vmdlsBatchSource(train, {
    seed,
    classesPerBatch: config.classesPerBatch,
    samplesPerClass: config.samplesPerClass,
    augment: config.augment,
    latentDim: d,
    normalization: net.normalization,
  });
  if (source.length!(0) < 1) {
    throw new Error(
      `trainVmdls: ${train.shape[0]} images give no batch of ${config.classesPerBatch} × ${config.samplesPerClass}`,
    );
  }
  const marginAt = (epoch: number) => useDistancing ? distancingMarginAt(epoch, config.marginSchedule) : 0;
  const optimizer = vmdlsOptimizer(config, trainableVariables(net.model));
  const schedule = stepLr({ lr: config.lr, stepSize: config.stepSize, gamma: config.stepGamma });
  const curve: VmdlsEpochPoint[] = [];
  let priors: tf.Tensor2D | null = null; // m_c of the current epoch, built once per epoch
  let priorsEpoch = -1;
  const lossFn = ({ x, labels, eps }: VmdlsBatch, { training, epoch }: { training: true; epoch: number }) => {
    const { mu, logVar } = net.forward(x, { training });
    const z = reparameterize(mu, logVar, eps);
    tracker.add(z.dataSync(), labels);
    const triplet = tripletDistancingLoss(z, labels, { margin: config.margin, distancingMargin: marginAt(epoch) });
    let kl: tf.Scalar;
    if (useKl && epoch >= config.generationEpoch) {
      if (priorsEpoch !== epoch) {
        priors?.dispose();
        priors = tf.keep(tf.tensor2d(tracker.meansFlat(), [k, d]));
        priorsEpoch = epoch;
      }
      kl = klToClassPriors(z, mu, logVar, labels, priors!, { priorStd: config.priorStd, weight: config.klWeight });
    } else kl = tf.scalar(0);
    return { loss: tf.add(triplet, kl) as tf.Scalar, metrics: { triplet, kl } };
  };
  try {
    const result = await trainLoop(net.model, lossFn, source, {
      epochs: config.epochs,
      optimizer,
      schedule,
      progress: false,
      log: null,
      checkpointEvery,
      maxSteps,
      ...(runDir ? { runDir, config: { ...config, seed, ablate } } : {}),
      state: {
        save: () => ({ tracker: tracker.getState() }),
        load: (s) => tracker.setState(s.tracker as ClassMeanTrackerState),
      },
      onEpochEnd: async (e) => {
        tracker.endEpoch();
        const point: VmdlsEpochPoint = {
          epoch: e.epoch,
          loss: e.loss,
          triplet: e.metrics.triplet ?? NaN,
          kl: e.metrics.kl ?? NaN,
          distancingMargin: marginAt(e.epoch),
          lr: schedule({ epoch: e.epoch, stepInEpoch: 0, step: e.step, stepsPerEpoch: source.length!(e.epoch) }),
          seconds: e.seconds,
        };
        curve.push(point);
        await onEpoch?.(point);
      },
    });
    net.setClassMeans(tracker.meansFlat());
    return {
      curve,
      steps: result.step,
      classMeans: tracker.means.map((m) => Array.from(m)),
      config,
      resumedFrom: result.resumedFrom,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    (priors as tf.Tensor2D | null)?.dispose();
    optimizer.dispose();
  }
}
