/**
 * Training stages of Unleashing Mask on the project's loop (`trainLoop`): the pretraining recipe, CE / UM / UMAP
 * fine-tuning (`main.py` + `trainers/default.py`) and OE / OE+UM fine-tuning (`main_OE.py` + `train_oe`). Every
 * stage uses SGD with PyTorch semantics and UM's per-epoch cosine schedule (hidden-networks `cosine_lr`).
 * @module
 */
import { tf } from "../../tf.ts";
import type { Backbone } from "../../backbones/mod.ts";
import type { Dataset } from "../../datasets/mod.ts";
import type { AugmentationName, AugmentStep } from "../../data/augment.ts";
import type { RngState } from "../../data/rng.ts";
import {
  type BatchSource,
  type CallbackResult,
  type DatasetSource,
  datasetSource,
  type EpochInfo,
  hiddenNetworksCosineLr,
  type LossOutput,
  SGD,
  trainableVariables,
  trainLoop,
  type TrainLoopOptions,
} from "../../train/mod.ts";
import { deriveSeed } from "../../train/seed.ts";
import type { SgdRecipe } from "./config.ts";
import { crossEntropy, oeUniformLoss, type UmCriterion, umLoss } from "./loss.ts";

/** One epoch of a training curve. */
export interface EpochPoint {
  /** Epochs completed (1-based). */
  epoch: number;
  /** Mean training objective over the epoch's batches (training mode). */
  loss: number;
  /** Mean batch cross-entropy on the ID images (training mode), the quantity UM constrains. */
  ce: number;
  /** Training accuracy on the ID images. */
  acc: number;
  /** Learning rate of the epoch. */
  lr: number;
}

/** Options of {@linkcode trainStage}. */
export interface StageOptions extends SgdRecipe {
  /** CE or the UM constraint on the ID term. */
  criterion: UmCriterion;
  /** Auxiliary outliers and the weight of the CE-to-uniform term (OE / OE+UM). */
  oe?: { aux: Dataset; weight: number };
  augment: AugmentationName | readonly AugmentStep[];
  /** Seed of the batch order and augmentation. */
  seed: number;
  /** Checkpoint directory (enables resume); default none. */
  runDir?: string;
  /** Called after every epoch with its curve point (e.g. to evaluate OOD metrics along the run). */
  onEpoch?: (point: EpochPoint) => CallbackResult;
  /** Extra loop options (state that must survive a resume, progress display, the config stored in checkpoints). */
  loop?: Pick<TrainLoopOptions<StageBatch>, "state" | "progress" | "config" | "log" | "keep">;
}

/** A batch of a stage: ID images and labels, and auxiliary outliers for OE. */
export interface StageBatch {
  x: tf.Tensor4D;
  y: tf.Tensor1D;
  xAux?: tf.Tensor4D;
}

/** What {@linkcode trainStage} reports. */
export interface StageOutcome {
  history: EpochPoint[];
  steps: number;
  seconds: number;
  /** True when every epoch came from a checkpoint (nothing trained in this call). */
  cached: boolean;
}

/**
 * ID batches zipped with auxiliary-outlier batches of the same size, as `zip(train_loader_in, train_loader_out)`.
 * The repo selects as many outliers as training images; when the stand-in set is smaller it is cycled (each pass
 * reshuffled), so every epoch still sees every ID batch. Both streams are seeded.
 */
function zippedSource(id: DatasetSource, aux: DatasetSource): BatchSource<StageBatch> {
  return {
    length: (e) => id.length(e),
    *epoch(e, skip) {
      const per = aux.length(0);
      if (per === 0) throw new Error("trainStage: the auxiliary outlier set is empty");
      // Pass r of the outliers in epoch e is aux epoch e·10⁴ + r: its own shuffle, resumable from `skip`.
      let round = Math.floor(skip / per), a = aux.epoch(e * 10_000 + round, skip % per);
      for (const b of id.epoch(e, skip)) {
        let o = a.next();
        if (o.done) {
          a = aux.epoch(e * 10_000 + ++round, 0);
          o = a.next();
        }
        tf.dispose(o.value.y);
        yield { x: b.x, y: b.y, xAux: o.value.x };
      }
      a.return(undefined);
    },
    getState: () => ({ ...prefix("id/", id.getState()), ...prefix("aux/", aux.getState()) }),
    setState: (s) => {
      id.setState(unprefix("id/", s));
      aux.setState(unprefix("aux/", s));
    },
  };
}

const prefix = (p: string, s: Record<string, RngState>) =>
  Object.fromEntries(Object.entries(s).map(([k, v]) => [p + k, v]));
const unprefix = (p: string, s: Record<string, RngState>) =>
  Object.fromEntries(Object.entries(s).filter(([k]) => k.startsWith(p)).map(([k, v]) => [k.slice(p.length), v]));

/**
 * The loss of one batch: criterion(f(x), y) [+ w · L_OE(f(x_aux))], with ID and outliers concatenated through
 * the network in one training-mode pass (BatchNorm sees both, as `train_oe`).
 */
export function stageLoss(net: Backbone, criterion: UmCriterion, oeWeight: number) {
  return (b: StageBatch): LossOutput => {
    const n = b.x.shape[0];
    const input = b.xAux ? tf.concat([b.x, b.xAux]) as tf.Tensor4D : b.x;
    const logits = net.logits(input, { training: true });
    const idLogits = b.xAux ? tf.slice(logits, [0, 0], [n, -1]) as tf.Tensor2D : logits;
    let loss = umLoss(idLogits, b.y, criterion);
    if (b.xAux) {
      const out = tf.slice(logits, [n, 0], [-1, -1]) as tf.Tensor2D;
      loss = tf.add(loss, tf.mul(oeUniformLoss(out), oeWeight)) as tf.Scalar;
    }
    return { loss, logits: idLogits, labels: b.y, metrics: { ce: crossEntropy(idLogits, b.y) } };
  };
}

/**
 * Trains every trainable variable of `net` (for a UMAP subnet with frozen weights: the scores only) with SGD
 * (momentum, coupled weight decay on all of them) and UM's per-epoch cosine rate, on `train` (augmented,
 * reshuffled per epoch) and, for OE, on auxiliary outliers. With `runDir` the stage checkpoints at every epoch
 * end and resumes (or, complete, just loads) from there.
 */
export async function trainStage(net: Backbone, train: Dataset, opts: StageOptions): Promise<StageOutcome> {
  const t0 = performance.now();
  const vars = trainableVariables(net.model);
  const optimizer = new SGD(vars, { lr: opts.lr, momentum: opts.momentum, weightDecay: opts.weightDecay });
  const source = (ds: Dataset, purpose: string) =>
    datasetSource(ds, {
      batchSize: opts.batchSize,
      normalization: net.normalization,
      seed: deriveSeed(opts.seed, purpose),
      augment: opts.augment,
    });
  const src: BatchSource<StageBatch> = opts.oe
    ? zippedSource(source(train, "id"), source(opts.oe.aux, "aux"))
    : source(train, "id");
  const history: EpochPoint[] = [];
  const schedule = hiddenNetworksCosineLr({ lr: opts.lr, epochs: opts.epochs });
  try {
    const r = await trainLoop(net.model, stageLoss(net, opts.criterion, opts.oe?.weight ?? 0), src, {
      epochs: opts.epochs,
      optimizer,
      schedule,
      runDir: opts.runDir,
      progress: false,
      log: null,
      ...opts.loop,
      onEpochEnd: async (e: EpochInfo) => {
        const point: EpochPoint = {
          epoch: e.epoch + 1,
          loss: e.loss,
          ce: e.metrics.ce ?? NaN,
          acc: e.accuracy ?? NaN,
          lr: schedule({ epoch: e.epoch, stepInEpoch: 0, step: 0 }),
        };
        history.push(point);
        return await opts.onEpoch?.(point);
      },
    });
    return {
      history,
      steps: r.step,
      seconds: (performance.now() - t0) / 1000,
      cached: r.epochs.length === 0 && r.resumedFrom !== null,
    };
  } finally {
    optimizer.dispose();
  }
}
