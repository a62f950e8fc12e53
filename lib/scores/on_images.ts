/**
 * Running a network over a set's images in normalised batches: {@linkcode collectRows} gathers per-image rows
 * (outputs, layer features) into plain matrices; {@linkcode scoreImages} concatenates the [b] scores of
 * input-space detectors (ODIN, UM's tuned Mahalanobis) over the first `limit` images of a set.
 * @module
 */
import { tf } from "../tf.ts";
import type { Dataset, Normalization } from "../datasets/types.ts";
import { headDataset } from "../datasets/subset.ts";
import { tensorBatches } from "../data/tensors.ts";
import type { AugmentationName, AugmentStep } from "../data/augment.ts";
import { concatTyped } from "../io/bytes.ts";
import type { Matrix } from "./matrix.ts";
import { scoresToArray } from "./types.ts";

/** Options of {@linkcode collectRows}. */
export interface CollectRowsOptions {
  /** The normalisation the network expects. */
  normalization: Normalization;
  /** Images per batch. */
  batchSize: number;
  /** A training augmentation applied to every batch (e.g. a train loader's); default none. */
  augment?: AugmentationName | readonly AugmentStep[];
  /** Seed of the augmentation stream. */
  seed?: number;
  /** Widths of `f`'s outputs, for an empty set (whose batches cannot tell them). */
  dims?: readonly number[];
}

/**
 * Runs `f` (inside `tf.tidy`) on the normalised batches of `ds`, in dataset order, and concatenates each of the
 * [b, d_i] tensors it returns into an [n, d_i] row-major matrix. Keeps no tensors.
 * @example Usage
 * ```ts ignore
 * const [features, logits] = await collectRows(ds, { normalization, batchSize: 500 }, (x) => {
 *   const f = net.features(x);
 *   return [f, net.head(f)];
 * });
 * ```
 */
export async function collectRows(
  ds: Dataset,
  opts: CollectRowsOptions,
  f: (x: tf.Tensor4D) => tf.Tensor2D[],
): Promise<Matrix[]> {
  const { dims: given, ...pass } = opts;
  const parts: Float32Array[][] = [], dims = [...(given ?? [])];
  const batches = tensorBatches(ds, { ...pass, shuffle: false });
  for (const { x, y } of batches) {
    const outs = tf.tidy(() => f(x));
    try {
      const values = await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>));
      outs.forEach((t, i) => {
        dims[i] = t.shape[1];
        (parts[i] ??= []).push(values[i]!);
      });
    } finally {
      tf.dispose([x, y, ...outs]);
    }
  }
  return dims.map((dim, i) => ({ data: concatTyped(parts[i] ?? [], (n) => new Float32Array(n)), dim }));
}

/** Options of {@linkcode scoreImages}. */
export interface ScoreImagesOptions {
  /** The normalisation the network expects (its inputs are normalised with it). */
  normalization: Normalization;
  /** Images per batch. */
  batchSize: number;
  /** Only the first `limit` images of the set; `null` / absent = all. */
  limit?: number | null;
}

/**
 * Scores the first `limit` images of `ds`, batch by batch, with `f` (normalised NHWC batch → new [b] tensor).
 * Every tensor is disposed; the result is one `Float32Array` in dataset order.
 * @example Usage
 * ```ts ignore
 * const s = await scoreImages(test, { normalization: net.normalization, batchSize: 64, limit: 1000 },
 *   (x) => odin(net, x, { temperature: 1000, epsilon: 0.0014 }));
 * ```
 */
export async function scoreImages(
  ds: Dataset,
  opts: ScoreImagesOptions,
  f: (x: tf.Tensor4D) => tf.Tensor1D,
): Promise<Float32Array> {
  const src = headDataset(ds, opts.limit ?? undefined);
  const out = new Float32Array(src.shape[0]);
  let row = 0;
  for (const { x, y } of tensorBatches(src, { batchSize: opts.batchSize, normalization: opts.normalization })) {
    try {
      const s = await scoresToArray(f(x));
      out.set(s, row);
      row += s.length;
    } finally {
      tf.dispose([x, y]);
    }
  }
  return out;
}
