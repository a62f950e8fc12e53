/**
 * CMG stage 1, the ID classifier (Wang, Shao, Lin, Hu, Liu, "Out-of-Distribution Detection with Class-Mixed
 * Generation" (CMG), ECML-PKDD 2022; code `shaoyijia/CMG` @265cc2c, `training/train_classifier.py`,
 * `models/main_model.py`, `train.py`; papers.md §4a "Stage 1"):
 *
 * - network: `MainModel(28, 1, 11)` = the MNIST extractor + MLP head (`createBackbone("cmg_cnn", { numClasses: 11 })`),
 *   n_out = 11 logits for K = 6 seen classes labelled 0..5 (`train.py` l. 100); for CIFAR-10 `MainModel(32, 3, 11)`
 *   (Setting 1) or `MainModel(32, 3, 110)` (Setting 2, all 10 classes), a ResNet-18 extractor (`models/conv/nets.py`,
 *   PyTorch's default initialisation: `createBackbone("resnet18", { convInit: "torch", headHidden: [512] })`);
 * - loss: softmax cross-entropy over **all** n_out logits with targets 0..K−1 (`F.cross_entropy(prediction, y,
 *   reduction='none')` + `weighted_average(…, weights=None)` = the batch mean, `main_model.py` l. 76–79), so the
 *   unseen slot K and the spare slots K+1..n_out−1 are pushed down by every training softmax;
 * - training mode (`self.train()`, `main_model.py` l. 70): BatchNorm batch statistics and the extractor's Dropout2d
 *   active, the first one on the raw input image;
 * - `torch.optim.Adam(model.parameters(), lr=0.001)` (`train_classifier.py` l. 13–14): PyTorch Adam, no weight decay,
 *   no schedule; 100 epochs for MNIST, 200 for CIFAR-10 (l. 7–11); batches of 512, shuffled (`train.py` l. 30, 95);
 *   inputs in [0, 1] (`transforms.ToTensor()` only, `train.py` l. 41), CIFAR-10's augmented with RandomCrop(32,
 *   padding 4) + HorizontalFlip (l. 54–57); the final weights are kept (`train_classifier.py` l. 24).
 *
 * Why not `trainClassifier` (`lib/train/classifier.ts`): it is SGD with momentum under a cosine schedule, while CMG
 * uses plain Adam at a constant rate; this is a thin `trainLoop` call instead.
 * @module
 */
import { tf } from "../../tf.ts";
import type { Backbone } from "../../backbones/mod.ts";
import type { AugmentationName, AugmentStep } from "../../data/augment.ts";
import type { Dataset } from "../../datasets/types.ts";
import { Adam, datasetSource, type LossOutput, trainableVariables, trainLoop } from "../../train/mod.ts";

/** The reference's stage-1 recipe for MNIST (`training/train_classifier.py` l. 7–14, `train.py` l. 30). */
export const CMG_CLASSIFIER: Readonly<{ epochs: number; batchSize: number; lr: number }> = Object.freeze({
  epochs: 100,
  batchSize: 512,
  lr: 1e-3,
});

/** Options of {@linkcode trainCmgClassifier}. */
export interface TrainCmgClassifierOptions {
  /** Epochs (reference 100 for MNIST, `train_classifier.py` l. 8). */
  epochs: number;
  /** Images per Adam step (reference 512, `train.py` l. 30). @default 512 */
  batchSize?: number;
  /** Adam's learning rate, constant (reference 1e-3, `train_classifier.py` l. 13). @default 1e-3 */
  lr?: number;
  /** Seed of the batch order (seed `Math.random` with `seedEverything` for the weights and the dropout masks). */
  seed: number;
  /**
   * Training augmentation: none for MNIST, `cropFlip` (RandomCrop(32, padding 4) + HorizontalFlip) for CIFAR-10
   * (`train.py` l. 54–57). @default "none"
   */
  augment?: AugmentationName | readonly AugmentStep[];
  /** Checkpoint folder for `trainLoop` (saved at every epoch end, resumed when it holds a checkpoint). */
  runDir?: string;
  /** Called after every epoch with its curve point. */
  onEpoch?: (point: CmgClassifierEpoch) => void | Promise<void>;
}

/** One epoch of the stage-1 training curve. */
export interface CmgClassifierEpoch {
  /** Epoch (0-based). */
  epoch: number;
  /** Mean cross-entropy over the epoch's batches (training mode, dropout active). */
  loss: number;
  /** Training accuracy over the epoch (argmax over all n_out logits, training mode). */
  accuracy: number;
  /** Wall time of the epoch. */
  seconds: number;
}

/** What {@linkcode trainCmgClassifier} returns. */
export interface CmgClassifierHistory {
  /** One point per epoch run in this call. */
  curve: CmgClassifierEpoch[];
  /** Adam steps taken in total (a resumed run included). */
  steps: number;
  /** Wall time of this call. */
  seconds: number;
  /** The checkpoint the run continued from, if any. */
  resumedFrom: string | null;
}

/**
 * The stage-1 loss: mean softmax cross-entropy over **all** n_out logits,
 *
 *   L = −(1/N) Σ_n log softmax(f(x_n))_{y_n},   softmax over c = 0..n_out−1,
 *
 * as `F.cross_entropy(prediction, y, reduction='none')` averaged by `weighted_average(…, weights=None)`
 * (`models/main_model.py` l. 78–79). Every logit, the unseen slot and the spare slots included, gets the gradient
 * softmax_c / N (minus 1/N at the target).
 * @param logits [N, n_out] logits.
 * @param y [N] int32 labels in [0, n_out) (not checked here).
 * @returns The scalar loss (the caller disposes it).
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * const l = cmgClassifierLoss(tf.tensor2d([[0, 0, 0, 0]]), tf.tensor1d([1], "int32")); // log 4
 * ```
 */
export function cmgClassifierLoss(logits: tf.Tensor2D, y: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() =>
    tf.losses.softmaxCrossEntropy(tf.oneHot(tf.cast(y, "int32"), logits.shape[1]), logits) as tf.Scalar
  );
}

/**
 * Trains `backbone` in place as CMG's stage-1 classifier (`training/train_classifier.py`): {@linkcode
 * cmgClassifierLoss} over all n_out logits, the network in training mode (Dropout2d on the input and before conv4 and
 * conv7, BatchNorm batch statistics), PyTorch Adam on every trainable variable at a constant `lr`, no weight decay,
 * batches reshuffled every epoch from `seed`, no augmentation, inputs scaled by the backbone's normalization
 * (`cmg_cnn`: [0, 1]). The final weights are kept (no validation, no selection).
 * @param backbone E.g. `createBackbone("cmg_cnn", { numClasses: 11 })` (built after `seedEverything`).
 * @param idTrain The seen-class training images, labels 0..K−1 (e.g. `splitByClasses(mnist, cmgSplit(1)).seen`).
 * @param opts Epochs, batch size, learning rate, seed, checkpoints, per-epoch callback.
 * @returns The per-epoch curve, steps and wall time.
 * @throws RangeError when a label lies outside [0, n_out).
 * @example Usage
 * ```ts ignore
 * seedEverything(123);
 * const net = createBackbone("cmg_cnn", { numClasses: 11 });
 * const h = await trainCmgClassifier(net, seen.train, { epochs: 100, seed: 123 });
 * ```
 */
export async function trainCmgClassifier(
  backbone: Backbone,
  idTrain: Dataset,
  opts: TrainCmgClassifierOptions,
): Promise<CmgClassifierHistory> {
  const nOut = backbone.numClasses;
  for (const y of idTrain.labels) {
    if (!(y >= 0 && y < nOut)) throw new RangeError(`trainCmgClassifier: label ${y} outside [0, ${nOut})`);
  }
  const batchSize = opts.batchSize ?? CMG_CLASSIFIER.batchSize;
  const lr = opts.lr ?? CMG_CLASSIFIER.lr;
  const t0 = performance.now();
  const source = datasetSource(idTrain, {
    batchSize,
    normalization: backbone.normalization,
    seed: opts.seed,
    augment: opts.augment ?? "none",
  });
  const optimizer = new Adam(trainableVariables(backbone.model), { lr });
  const curve: CmgClassifierEpoch[] = [];
  try {
    const result = await trainLoop(
      backbone.model,
      ({ x, y }: { x: tf.Tensor4D; y: tf.Tensor1D }, { training }): LossOutput => {
        const logits = backbone.logits(x, { training });
        return { loss: cmgClassifierLoss(logits, y), logits, labels: y };
      },
      source,
      {
        epochs: opts.epochs,
        optimizer,
        progress: false,
        log: null,
        ...(opts.runDir
          ? { runDir: opts.runDir, config: { epochs: opts.epochs, batchSize, lr, seed: opts.seed, nOut } }
          : {}),
        onEpochEnd: async (e) => {
          const point = { epoch: e.epoch, loss: e.loss, accuracy: e.accuracy ?? NaN, seconds: e.seconds };
          curve.push(point);
          await opts.onEpoch?.(point);
        },
      },
    );
    return { curve, steps: result.step, seconds: (performance.now() - t0) / 1000, resumedFrom: result.resumedFrom };
  } finally {
    optimizer.dispose();
  }
}
