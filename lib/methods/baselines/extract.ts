/**
 * Batched extraction of a network's outputs over a dataset: penultimate features, logits (the head applied to
 * those features, so the network runs once per image) and, on request, the per-stage features of
 * `featureList`. Everything comes back as plain row-major `Float32Array`s, so post-hoc scores can be fitted and
 * evaluated any number of times without running the network again (pytorch-ood's `fit_features` /
 * `predict_features` split; conventions C1).
 * @module
 */
import { tf } from "../../tf.ts";
import type { Backbone } from "../../backbones/mod.ts";
import type { Dataset } from "../../datasets/mod.ts";
import { tensorBatches } from "../../data/tensors.ts";
import type { Matrix } from "../../scores/matrix.ts";
import { headDataset } from "../../datasets/subset.ts";

export { argmaxRows, type Matrix, matrixTensor } from "../../scores/matrix.ts";

/** A network's outputs on a dataset, one row per image in dataset order. */
export interface NetOutputs {
  /** Number of images. */
  n: number;
  /** Logits [n, numClasses]. */
  logits: Matrix;
  /** Penultimate features [n, featureDim]. */
  features: Matrix;
  /** Per-stage pooled features (shallow to deep), when asked for and the backbone has `featureList`. */
  featureList?: Matrix[];
  /** The dataset's labels (-1 for unlabeled OOD images). */
  labels: Int32Array;
}

/** Options of {@linkcode extractOutputs}. */
export interface ExtractOptions {
  /** Images per forward pass; default 500. */
  batchSize?: number;
  /** Also extract `featureList` (needs a backbone that has it; throws otherwise). Default false. */
  featureList?: boolean;
  /** Only the first `limit` images; default all. */
  limit?: number;
}

/**
 * Runs `backbone` in inference mode over `ds` (normalised with `backbone.normalization`) and collects its
 * features, logits and optionally its `featureList`. Keeps no tensors.
 * @example Usage
 * ```ts ignore
 * const out = await extractOutputs(net, test, { batchSize: 500 });
 * const predictions = argmaxRows(out.logits);
 * ```
 */
export async function extractOutputs(backbone: Backbone, ds: Dataset, opts: ExtractOptions = {}): Promise<NetOutputs> {
  const withList = opts.featureList ?? false;
  const fl = backbone.featureList?.bind(backbone);
  if (withList && !fl) throw new Error(`extractOutputs: backbone ${backbone.name} has no featureList`);
  const src = headDataset(ds, opts.limit);
  const n = src.shape[0];
  const C = backbone.numClasses, D = backbone.featureDim;
  const logits = new Float32Array(n * C), features = new Float32Array(n * D);
  const dims = withList ? [...(backbone.featureListDims ?? [])] : [];
  const lists = dims.map((d) => new Float32Array(n * d));
  let row = 0;
  for (
    const { x, y } of tensorBatches(src, { batchSize: opts.batchSize ?? 500, normalization: backbone.normalization })
  ) {
    const b = x.shape[0];
    const outs = tf.tidy(() => {
      const f = backbone.features(x);
      return [f, backbone.head(f), ...(withList ? fl!(x) : [])];
    });
    try {
      const [f, l, ...layers] = await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>));
      features.set(f!, row * D);
      logits.set(l!, row * C);
      layers.forEach((v, i) => lists[i]!.set(v, row * dims[i]!));
    } finally {
      tf.dispose([x, y, ...outs]);
    }
    row += b;
  }
  return {
    n,
    logits: { data: logits, dim: C },
    features: { data: features, dim: D },
    ...(withList ? { featureList: lists.map((data, i) => ({ data, dim: dims[i]! })) } : {}),
    labels: src.labels.slice(),
  };
}

/** The first `n` rows of a matrix (a view). */
export function firstRows(m: Matrix, n: number): Matrix {
  return { data: m.data.subarray(0, Math.min(n * m.dim, m.data.length)), dim: m.dim };
}
