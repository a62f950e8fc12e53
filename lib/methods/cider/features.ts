/**
 * Batched extraction, in inference mode, of what the scores and measures need: penultimate features h, logits
 * (the backbone's head on h) and CIDER embeddings z, as plain row-major `Float32Array`s, so every score can be
 * fitted and evaluated without running the network again (conventions C1).
 * @module
 */
import { tf } from "../../tf.ts";
import type { Backbone } from "../../backbones/mod.ts";
import type { Dataset } from "../../datasets/mod.ts";
import { tensorBatches } from "../../data/tensors.ts";
import type { Matrix } from "../../scores/matrix.ts";
import type { CiderNet } from "./network.ts";

export { type Matrix, matrixTensor } from "../../scores/matrix.ts";

/** A network's outputs on a dataset, one row per image in dataset order. */
export interface Outputs {
  /** Images. */
  n: number;
  /** Penultimate features h [n, featureDim]. */
  features: Matrix;
  /** Logits [n, numClasses] (the backbone's `fc`, meaningful for the CE baseline only). */
  logits: Matrix;
  /** The dataset's labels. */
  labels: Int32Array;
}

/**
 * Runs the backbone over `ds` (normalised with `backbone.normalization`, no augmentation, inference mode) and
 * collects h and the logits. Keeps no tensors.
 */
export async function extractOutputs(backbone: Backbone, ds: Dataset, batchSize: number): Promise<Outputs> {
  const n = ds.shape[0], D = backbone.featureDim, C = backbone.numClasses;
  const features = new Float32Array(n * D), logits = new Float32Array(n * C);
  let row = 0;
  for (const { x, y } of tensorBatches(ds, { batchSize, normalization: backbone.normalization })) {
    const outs = tf.tidy(() => {
      const h = backbone.features(x);
      return [h, backbone.head(h)];
    });
    try {
      const [h, l] = await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>));
      features.set(h!, row * D);
      logits.set(l!, row * C);
      row += x.shape[0];
    } finally {
      tf.dispose([x, y, ...outs]);
    }
  }
  return { n, features: { data: features, dim: D }, logits: { data: logits, dim: C }, labels: ds.labels.slice() };
}

/** CIDER embeddings z of every image of `ds` (inference mode, no augmentation), row-major [n, embeddingDim]. */
export async function extractEmbeddings(net: CiderNet, ds: Dataset, batchSize: number): Promise<Float32Array> {
  const d = net.embeddingDim;
  const out = new Float32Array(ds.shape[0] * d);
  let row = 0;
  for (const { x, y } of tensorBatches(ds, { batchSize, normalization: net.backbone.normalization })) {
    const z = net.embed(x);
    try {
      out.set(await z.data() as Float32Array, row * d);
      row += x.shape[0];
    } finally {
      tf.dispose([x, y, z]);
    }
  }
  return out;
}

/** Rows scaled to unit L2 norm, h / (‖h‖ + 1e-10) (CIDER's `normalizer`), as a new matrix. */
export function normalizeRows(m: Matrix): Matrix {
  const out = new Float32Array(m.data.length);
  for (let r = 0; r < m.data.length / m.dim; r++) {
    let sq = 0;
    for (let k = 0; k < m.dim; k++) sq += m.data[r * m.dim + k]! ** 2;
    const s = 1 / (Math.sqrt(sq) + 1e-10);
    for (let k = 0; k < m.dim; k++) out[r * m.dim + k] = m.data[r * m.dim + k]! * s;
  }
  return { data: out, dim: m.dim };
}
