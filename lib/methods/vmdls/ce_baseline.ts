/**
 * The cross-entropy baseline of the VMDLS notebook, trained on exactly VMDLS's data stream: the same class-balanced
 * B_c × B_s batches, augmentation, optimiser, StepLR schedule and epochs (`vmdlsBatchSource`), with softmax
 * cross-entropy on the backbone's own linear head instead of the triplet + KL objective — so the comparison with
 * VMDLS changes the loss and nothing else. The paper's CE baselines (MSP, Mahalanobis) score this network.
 * @module
 */
import { tf } from "../../tf.ts";
import type { Backbone } from "../../backbones/mod.ts";
import type { Dataset } from "../../datasets/types.ts";
import { stepLr, trainableVariables, trainLoop } from "../../train/mod.ts";
import { vmdlsBatchSource, vmdlsOptimizer, vmdlsRecipe, type VmdlsTrainConfig } from "./train.ts";

/** Options of {@linkcode trainCeBaseline}. */
export interface CeBaselineOptions extends Partial<VmdlsTrainConfig> {
  /** Seed of the batch and augmentation streams (seed `Math.random` before building the backbone for weights). */
  seed: number;
  /** Checkpoint folder (resumed when it holds a checkpoint). */
  runDir?: string;
  /** Called after every epoch with its mean loss. */
  onEpoch?: (epoch: number, loss: number) => void | Promise<void>;
}

/** What {@linkcode trainCeBaseline} returns. */
export interface CeBaselineResult {
  /** Mean cross-entropy of every epoch run in this call. */
  losses: number[];
  /** Optimizer steps taken in total. */
  steps: number;
  /** The recipe used. */
  config: VmdlsTrainConfig;
  seconds: number;
}

/**
 * Trains `backbone` in place with softmax cross-entropy on VMDLS's batches (see the module documentation): the
 * recipe's optimiser (`adam`, or Nesterov SGD with weight decay 1e-4) and StepLR, the recipe's augmentation.
 * @example Usage
 * ```ts ignore
 * seedEverything(0);
 * const net = createBackbone("mnist_conv", { numClasses: 10 });
 * await trainCeBaseline(net, mnistTrain, { seed: 0, epochs: 5, lr: 1e-3 });
 * ```
 */
export async function trainCeBaseline(
  backbone: Backbone,
  train: Dataset,
  opts: CeBaselineOptions,
): Promise<CeBaselineResult> {
  const t0 = performance.now();
  const { seed, runDir, onEpoch, ...given } = opts;
  const config = vmdlsRecipe(given);
  const source = vmdlsBatchSource(train, {
    seed,
    classesPerBatch: config.classesPerBatch,
    samplesPerClass: config.samplesPerClass,
    augment: config.augment,
    latentDim: 1, // ε is drawn and ignored: the augmentation stream stays the one VMDLS sees
    normalization: backbone.normalization,
  });
  const optimizer = vmdlsOptimizer(config, trainableVariables(backbone.model));
  const losses: number[] = [];
  try {
    const result = await trainLoop(
      backbone.model,
      ({ x, y }) => {
        const logits = backbone.logits(x, { training: true });
        return { loss: tf.losses.softmaxCrossEntropy(tf.oneHot(y, backbone.numClasses), logits) as tf.Scalar };
      },
      source,
      {
        epochs: config.epochs,
        optimizer,
        schedule: stepLr({ lr: config.lr, stepSize: config.stepSize, gamma: config.stepGamma }),
        progress: false,
        log: null,
        ...(runDir ? { runDir, config: { ...config, seed, objective: "cross-entropy" } } : {}),
        onEpochEnd: async (e) => {
          losses.push(e.loss);
          await onEpoch?.(e.epoch, e.loss);
        },
      },
    );
    return { losses, steps: result.step, config, seconds: (performance.now() - t0) / 1000 };
  } finally {
    optimizer.dispose();
  }
}
