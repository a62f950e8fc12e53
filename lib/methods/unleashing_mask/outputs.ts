/**
 * Batched passes of a network over a dataset, collected as plain row-major arrays (no tensors kept): logits,
 * the layers Mahalanobis uses, the mean cross-entropy and accuracy. Everything runs in inference mode
 * (BatchNorm moving statistics, no dropout), as the repo's `model.eval()`.
 * @module
 */
import { tf } from "../../tf.ts";
import type { Backbone } from "../../backbones/mod.ts";
import type { Dataset } from "../../datasets/mod.ts";
import { tensorBatches } from "../../data/tensors.ts";
import type { Matrix } from "../../scores/matrix.ts";
import { headDataset } from "../../datasets/subset.ts";
import type { AugmentationName, AugmentStep } from "../../data/augment.ts";
import type { Seed } from "../../data/rng.ts";

export { argmaxRows, type Matrix, matrixTensor } from "../../scores/matrix.ts";

/** Options of the batched passes. */
export interface PassOptions {
  /** Images per forward pass. */
  batchSize: number;
  /** Only the first `limit` images; default all. */
  limit?: number;
  /** Apply this training augmentation (the repo's train loader); default none. */
  augment?: AugmentationName | readonly AugmentStep[];
  /** Seed of the augmentation stream. */
  seed?: Seed;
}

/**
 * Runs `f` on normalised batches of `ds` (in dataset order) and concatenates the rows it returns. `f` runs inside
 * `tf.tidy`; its outputs are read and disposed.
 * @returns one matrix per output of `f`, and the labels of the images passed.
 */
export async function mapRows(
  ds: Dataset,
  normalization: Backbone["normalization"],
  f: (x: tf.Tensor4D, y: tf.Tensor1D) => tf.Tensor2D[],
  opts: PassOptions,
): Promise<{ outputs: Matrix[]; labels: Int32Array }> {
  const src = headDataset(ds, opts.limit);
  const parts: Float32Array[][] = [];
  const dims: number[] = [];
  for (
    const b of tensorBatches(src, {
      batchSize: opts.batchSize,
      normalization,
      augment: opts.augment,
      seed: opts.seed,
      shuffle: false,
    })
  ) {
    try {
      const outs = tf.tidy(() => f(b.x, b.y));
      try {
        for (const [i, o] of outs.entries()) {
          dims[i] = o.shape[1];
          (parts[i] ??= []).push((await o.data()) as Float32Array);
        }
      } finally {
        tf.dispose(outs);
      }
    } finally {
      tf.dispose([b.x, b.y]);
    }
  }
  const outputs = parts.map((p, i) => {
    const data = new Float32Array(p.reduce((s, a) => s + a.length, 0));
    let o = 0;
    for (const a of p) {
      data.set(a, o);
      o += a.length;
    }
    return { data, dim: dims[i]! };
  });
  return { outputs, labels: Int32Array.from(src.labels) };
}

/** Logits [n, C] of a network on a dataset (inference mode). */
export async function logitsOf(net: Backbone, ds: Dataset, opts: PassOptions): Promise<Matrix> {
  const { outputs } = await mapRows(ds, net.normalization, (x) => [net.logits(x)], opts);
  return outputs[0] ?? { data: new Float32Array(0), dim: net.numClasses };
}

/**
 * The layers UM's Mahalanobis uses: `featureList` (Lee et al.'s per-stage pooled features, UM's
 * `feature_list`) when the backbone has it, else the penultimate features alone.
 */
export function mahalanobisLayers(net: Backbone): (x: tf.Tensor4D) => tf.Tensor2D[] {
  const list = net.featureList?.bind(net);
  return list ? (x) => list(x) : (x) => [net.features(x)];
}

/** Mean cross-entropy and top-1 accuracy of a classifier on a labelled dataset (inference mode). */
export async function lossAndAccuracy(
  net: Pick<Backbone, "logits" | "normalization">,
  ds: Dataset,
  opts: PassOptions,
): Promise<{ loss: number; accuracy: number; count: number }> {
  let loss = 0, correct = 0, count = 0;
  const { outputs } = await mapRows(ds, net.normalization, (x, y) => {
    const logits = net.logits(x);
    const onehot = tf.cast(tf.oneHot(tf.cast(y, "int32"), logits.shape[1]), "float32");
    const nll = tf.neg(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)), 1, true));
    const hit = tf.cast(tf.equal(tf.argMax(logits, 1), tf.cast(y, "int32")), "float32").reshape([-1, 1]);
    return [tf.concat([nll, hit], 1) as tf.Tensor2D];
  }, opts);
  const m = outputs[0];
  if (m) {
    for (let i = 0; i < m.data.length; i += 2) {
      loss += m.data[i]!;
      correct += m.data[i + 1]!;
      count++;
    }
  }
  return { loss: count ? loss / count : NaN, accuracy: count ? correct / count : NaN, count };
}
