/**
 * Training of the compared methods with one recipe (same backbone, data, augmentation, epochs, batch size,
 * optimizer and schedule shape; `lib/train/loop.ts` does the stepping):
 *
 * | method | views | objective | warm-up |
 * |---|---|---|---|
 * | `ce` | 1 | softmax cross-entropy on the backbone's `fc` | fixed |
 * | `supcon` | 2 | SupCon on z (`supConLoss`) — the SSD+/KNN+ representation | per variant |
 * | `cider` | 2 | w·L_comp + L_dis with sequential-EMA prototypes (`ciderLoss`) | per variant |
 *
 * SupCon is CIDER's own baseline, `train_cider.py --loss supcon`: the same script, hence the same warm-up code
 * (`utils/util.py` `warmup_learning_rate`, called before every step for either loss), so its faithful variant
 * shares CIDER's negative first-epoch rate. CE is not trained by CIDER's repository; it gets the fixed ramp.
 *
 * Optimizer: SGD with PyTorch semantics (momentum, Nesterov, coupled weight decay) over every trainable
 * variable; variables that get no gradient (the `fc` of SupCon/CIDER) are not updated, as in PyTorch. Schedule:
 * `ciderLr` (CIDER's `adjust_learning_rate` + `warmup_learning_rate`): the faithful variant uses the
 * reference's warm-up formula p = (b + (e − 1)·T)/(W·T) with epochs counted from 0, so the rate is negative for
 * most of the first epoch (papers.md §6b); the clean one uses p = (b + e·T)/(W·T) (`ciderLr`'s "fixed").
 * @module
 */
import { tf } from "../../tf.ts";
import type { Dataset } from "../../datasets/mod.ts";
import type { AugmentStep } from "../../data/augment.ts";
import { ciderLr, datasetSource, type LossOutput, SGD, trainableVariables, trainLoop } from "../../train/mod.ts";
import { collectRows } from "../../scores/on_images.ts";
import type { CiderMethod, CiderTrainRecipe, CiderVariant } from "./config.ts";
import { ciderLoss, type CiderLossOptions, supConLoss, type TemperatureOptions } from "./losses.ts";
import type { CiderNet } from "./network.ts";
import { meanPrototypes, type PrototypeSet } from "./prototypes.ts";

/** One point of a training curve (`epoch` = epochs completed, fractional; the others are window means). */
export interface CurvePoint {
  epoch: number;
  loss: number;
  /** Learning rate of the last step of the window. */
  lr: number;
  /** CIDER only: L_comp and L_dis. */
  compactness?: number;
  dispersion?: number;
  /** CE only: training accuracy. */
  acc?: number;
}

/** Method-specific objective settings. */
export type MethodObjective =
  | { method: "ce" }
  | { method: "supcon"; loss: TemperatureOptions }
  | { method: "cider"; loss: CiderLossOptions };

/** Options of {@linkcode trainMethod}. */
export interface TrainMethodOptions {
  /** The shared recipe. */
  recipe: CiderTrainRecipe;
  /** Peak learning rate of this method. */
  lr: number;
  /** Warm-up formula of SupCon and CIDER: the reference's (`faithful`) or the fixed ramp (`clean`). CE: clean. */
  variant: CiderVariant;
  /** Training augmentation (per view). */
  augment: readonly AugmentStep[];
  /** Seed of the batch order and augmentation streams. */
  seed: number;
  /** Images per forward pass when initialising prototypes. */
  evalBatchSize: number;
  /** Checkpoint folder (resumed when it holds a checkpoint); default none. */
  runDir?: string;
  /** Called after every epoch (e.g. to advance a progress bar). */
  onEpoch?: (epoch: number, loss: number) => void | Promise<void>;
}

/** What {@linkcode trainMethod} returns. */
export interface TrainOutcome {
  history: CurvePoint[];
  /** Optimizer steps taken. */
  steps: number;
  /** CIDER: the prototypes at the start and at the end of training. */
  initialPrototypes?: PrototypeSet;
  prototypes?: PrototypeSet;
  seconds: number;
}

/** Uses two views per image (SupCon, CIDER) or one (CE). */
export function viewsOf(method: CiderMethod): 1 | 2 {
  return method === "ce" ? 1 : 2;
}

/**
 * Trains `net` in place with one method's objective (see the module table) and records its training curve.
 * Seed `Math.random` (`seedEverything`) before building the network for reproducible weights.
 * @param net Backbone + projection head (CE trains the backbone with its `fc` only).
 * @param train Labelled training images.
 * @param objective The method and its loss settings.
 * @param opts Recipe, learning rate, augmentation, seed.
 */
export async function trainMethod(
  net: CiderNet,
  train: Dataset,
  objective: MethodObjective,
  opts: TrainMethodOptions,
): Promise<TrainOutcome> {
  const t0 = performance.now();
  const { recipe } = opts;
  const method = objective.method;
  const backbone = net.backbone;
  const source = datasetSource(train, {
    batchSize: recipe.batchSize,
    normalization: backbone.normalization,
    seed: opts.seed,
    augment: opts.augment,
    views: viewsOf(method),
  });
  const stepsPerEpoch = source.length(0);
  const model = method === "ce" ? backbone.model : net.model;
  const optimizer = new SGD(trainableVariables(model), {
    lr: opts.lr,
    momentum: recipe.momentum,
    nesterov: recipe.nesterov,
    weightDecay: recipe.weightDecay,
  });
  const schedule = ciderLr({
    lr: opts.lr,
    epochs: recipe.epochs,
    cosine: true,
    decayRate: recipe.decayRate,
    warm: recipe.warmup.enabled,
    warmEpochs: recipe.warmup.epochs,
    warmupFrom: recipe.warmup.from,
    variant: method !== "ce" && opts.variant === "faithful" ? "faithful" : "fixed",
  });
  let prototypes: PrototypeSet | undefined;
  let initialPrototypes: PrototypeSet | undefined;
  if (objective.method === "cider") {
    // CIDER's init_class_prototypes: eval mode, eval transform, the training set, before any step.
    const z = await extractEmbeddings(net, train, opts.evalBatchSize);
    prototypes = initialPrototypes = meanPrototypes(z, train.labels, backbone.numClasses);
  }
  const numClasses = backbone.numClasses;
  const lossFn = ({ x, y }: { x: tf.Tensor4D; y: tf.Tensor1D }, { training }: { training: true }): LossOutput => {
    if (objective.method === "ce") {
      const logits = backbone.logits(x, { training });
      const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(y, numClasses), logits) as tf.Scalar;
      const acc = tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), y), "float32")) as tf.Scalar;
      return { loss, metrics: { acc } };
    }
    const z = net.embed(x, { training });
    if (objective.method === "supcon") return { loss: supConLoss(z, y, objective.loss) };
    const t = ciderLoss(z, y.dataSync(), prototypes!, objective.loss);
    prototypes = { ...prototypes!, values: t.prototypes };
    return { loss: t.loss, metrics: { compactness: t.compactness, dispersion: t.dispersion } };
  };
  const history: CurvePoint[] = [];
  let win = { loss: 0, n: 0, comp: 0, dis: 0, acc: 0 };
  try {
    const result = await trainLoop(model, lossFn, source, {
      epochs: recipe.epochs,
      optimizer,
      schedule,
      progress: false,
      log: null,
      ...(opts.runDir ? { runDir: opts.runDir, config: { method, recipe, lr: opts.lr, seed: opts.seed } } : {}),
      ...(prototypes
        ? {
          state: {
            save: () => ({ prototypes: Array.from(prototypes!.values) }),
            load: (s: Record<string, unknown>) => {
              prototypes = { ...prototypes!, values: Float32Array.from(s.prototypes as number[]) };
            },
          },
        }
        : {}),
      onStep: (s) => {
        win = {
          loss: win.loss + s.loss,
          n: win.n + 1,
          comp: win.comp + (s.metrics.compactness ?? 0),
          dis: win.dis + (s.metrics.dispersion ?? 0),
          acc: win.acc + (s.metrics.acc ?? 0),
        };
        if (s.stepInEpoch % recipe.logEvery === 0 || s.stepInEpoch === stepsPerEpoch) {
          const point: CurvePoint = {
            epoch: s.epoch + s.stepInEpoch / stepsPerEpoch,
            loss: win.loss / win.n,
            lr: s.lr,
          };
          if (method === "ce") point.acc = win.acc / win.n;
          if (prototypes) [point.compactness, point.dispersion] = [win.comp / win.n, win.dis / win.n];
          history.push(point);
          win = { loss: 0, n: 0, comp: 0, dis: 0, acc: 0 };
        }
      },
      onEpochEnd: (e) => opts.onEpoch?.(e.epoch, e.loss),
    });
    return {
      history,
      steps: result.step,
      ...(prototypes ? { prototypes, initialPrototypes } : {}),
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    optimizer.dispose();
  }
}

/** CIDER embeddings z of every image of `ds` (inference mode, no augmentation), row-major [n, embeddingDim]. */
export async function extractEmbeddings(net: CiderNet, ds: Dataset, batchSize: number): Promise<Float32Array> {
  const normalization = net.backbone.normalization;
  const [z] = await collectRows(ds, { batchSize, normalization, dims: [net.embeddingDim] }, (x) => [net.embed(x)]);
  return z!.data;
}
