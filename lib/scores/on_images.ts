/**
 * Input-space detectors (ODIN, UM's tuned Mahalanobis) run the network on a set's images themselves: this walks
 * the first `limit` images of a set in normalised batches and concatenates the [b] scores of each batch.
 * @module
 */
import { tf } from "../tf.ts";
import type { Dataset, Normalization } from "../datasets/types.ts";
import { headDataset } from "../datasets/subset.ts";
import { tensorBatches } from "../data/tensors.ts";
import { scoresToArray } from "./types.ts";

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
