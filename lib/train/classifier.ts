/**
 * The standard classifier recipe (the post-hoc baselines' plain cross-entropy model): softmax cross-entropy, SGD with momentum and coupled weight
 * decay (PyTorch semantics), a cosine learning rate annealed per step to 0, no augmentation. It records a
 * training curve (running loss and accuracy every `logEvery` steps, test loss and accuracy after each epoch).
 * @module
 */
import { tf } from "../tf.ts";
import type { Backbone } from "../backbones/mod.ts";
import type { Dataset } from "../datasets/mod.ts";
import { tensorBatches } from "../data/tensors.ts";
import type { AugmentationName, AugmentStep } from "../data/augment.ts";
import { type LossOutput, trainLoop } from "./loop.ts";
import { SGD, trainableVariables } from "./optimizers.ts";
import { cosineLr } from "./schedules.ts";
import { datasetSource } from "./source.ts";

/** The standard training recipe: cross-entropy, SGD with momentum, cosine learning rate per step. */
export interface TrainRecipe {
  /** Epochs over the training images. */
  epochs: number;
  /** Images per optimizer step. */
  batchSize: number;
  /** Peak learning rate (cosine-annealed to 0 over all steps). */
  lr: number;
  /** SGD momentum (PyTorch semantics). */
  momentum: number;
  /** Coupled L2 weight decay. */
  weightDecay: number;
  /** Training images used (a seeded random subset); `null` = all of them. */
  trainLimit: number | null;
  /** Optimizer steps between two points of the training curve. */
  logEvery: number;
}

/**
 * One point of the training curve, in the Keras/TF.js `History` convention that `trainingCurves` reads:
 * `epoch` (epochs completed, fractional), then either `loss`/`acc` (training: running means since the previous
 * point) or `val_loss`/`val_acc` (the validation set, after an epoch).
 */
export type CurvePoint = Record<string, number>;

/** What {@linkcode trainClassifier} reports. */
export interface TrainOutcome {
  /** Training curve points, in order. */
  history: CurvePoint[];
  /** Optimizer steps taken. */
  steps: number;
  /** Training accuracy over the last epoch. */
  trainAccuracy: number;
  /** Wall time in seconds. */
  seconds: number;
}

/** Options of {@linkcode trainClassifier}. */
export interface TrainClassifierOptions {
  /** Seed of the batch order (the weights were initialised when the backbone was built). */
  seed: number;
  /** Held-out labelled images evaluated after every epoch (`val_loss`, `val_acc`). */
  validation?: Dataset;
  /** Images per forward pass for the validation set; default 500. */
  evalBatchSize?: number;
  /** Shows the loop's own per-epoch progress bar; default false. */
  progress?: boolean;
}

/** Options of {@linkcode evaluateClassifier}. */
export interface EvaluateClassifierOptions {
  /** Images per forward pass; default 500. */
  batchSize?: number;
  /** Apply this training augmentation (e.g. Unleashing Mask's loss estimate over the train loader); default none. */
  augment?: AugmentationName | readonly AugmentStep[];
  /** Seed of the augmentation stream. */
  seed?: number;
}

/**
 * Mean softmax cross-entropy and top-1 accuracy of a classifier on a labelled dataset, in inference mode
 * (BatchNorm moving statistics, no dropout: PyTorch's `model.eval()`), in dataset order, optionally with a
 * training augmentation; per-image values summed in float64.
 * @returns `{ loss, accuracy, count }` (NaN for an empty set).
 */
export async function evaluateClassifier(
  net: Pick<Backbone, "logits" | "normalization">,
  ds: Dataset,
  opts: EvaluateClassifierOptions = {},
): Promise<{ loss: number; accuracy: number; count: number }> {
  let loss = 0, correct = 0, count = 0;
  const batches = tensorBatches(ds, { batchSize: 500, ...opts, normalization: net.normalization, shuffle: false });
  for (const b of batches) {
    const rows = tf.tidy(() => {
      const logits = net.logits(b.x), y = tf.cast(b.y, "int32");
      const nll = tf.neg(tf.sum(tf.mul(tf.cast(tf.oneHot(y, logits.shape[1]), "float32"), tf.logSoftmax(logits)), 1));
      return tf.stack([nll, tf.cast(tf.equal(tf.argMax(logits, 1), y), "float32")], 1);
    });
    const v = (await rows.data()) as Float32Array;
    tf.dispose([b.x, b.y, rows]);
    for (let i = 0; i < v.length; i += 2, count++) [loss, correct] = [loss + v[i]!, correct + v[i + 1]!];
  }
  return { loss: count ? loss / count : NaN, accuracy: count ? correct / count : NaN, count };
}

/**
 * Trains `backbone` (in place) on `train` with the standard recipe: softmax cross-entropy, `SGD(lr, momentum,
 * weightDecay)`, learning rate η_t = lr·(1 + cos(π·t/T))/2 over the T steps of the run, batches reshuffled every
 * epoch from `seed`, no augmentation. Seed `Math.random` (`seedEverything`) before building the backbone for
 * reproducible weights.
 * @example Usage
 * ```ts ignore
 * seedEverything(0);
 * const net = createBackbone("lenet", { numClasses: 10 });
 * const out = await trainClassifier(net, train, recipe, { seed: 0, validation: test });
 * await trainingCurves(out.history);
 * ```
 */
export async function trainClassifier(
  backbone: Backbone,
  train: Dataset,
  recipe: Pick<TrainRecipe, "epochs" | "batchSize" | "lr" | "momentum" | "weightDecay" | "logEvery">,
  opts: TrainClassifierOptions,
): Promise<TrainOutcome> {
  const t0 = performance.now();
  const source = datasetSource(train, {
    batchSize: recipe.batchSize,
    normalization: backbone.normalization,
    seed: opts.seed,
  });
  const stepsPerEpoch = source.length(0);
  const optimizer = new SGD(trainableVariables(backbone.model), {
    lr: recipe.lr,
    momentum: recipe.momentum,
    weightDecay: recipe.weightDecay,
  });
  const history: CurvePoint[] = [];
  let window = { loss: 0, acc: 0, steps: 0 };
  const numClasses = backbone.numClasses;
  try {
    const result = await trainLoop(
      backbone.model,
      ({ x, y }, { training }): LossOutput => {
        const logits = backbone.logits(x, { training });
        const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(y, numClasses), logits) as tf.Scalar;
        const acc = tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), y), "float32")) as tf.Scalar;
        return { loss, logits, labels: y, metrics: { acc } };
      },
      source,
      {
        epochs: recipe.epochs,
        optimizer,
        schedule: cosineLr({ lr: recipe.lr, tMax: recipe.epochs * stepsPerEpoch, unit: "step" }),
        progress: opts.progress ?? false,
        log: null,
        onStep: (s) => {
          window = { loss: window.loss + s.loss, acc: window.acc + (s.metrics.acc ?? NaN), steps: window.steps + 1 };
          if (s.stepInEpoch % recipe.logEvery === 0 || s.stepInEpoch === stepsPerEpoch) {
            history.push({
              epoch: s.epoch + s.stepInEpoch / stepsPerEpoch,
              loss: window.loss / window.steps,
              acc: window.acc / window.steps,
            });
            window = { loss: 0, acc: 0, steps: 0 };
          }
        },
        onEpochEnd: async (e) => {
          if (!opts.validation) return;
          const v = await evaluateClassifier(backbone, opts.validation, { batchSize: opts.evalBatchSize });
          history.push({ epoch: e.epoch + 1, val_loss: v.loss, val_acc: v.accuracy });
        },
      },
    );
    const last = result.epochs.at(-1);
    return {
      history,
      steps: result.step,
      trainAccuracy: last?.accuracy ?? NaN,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    optimizer.dispose();
  }
}
