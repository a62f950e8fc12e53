/**
 * Row-major float32 matrices (a network's logits or features on a dataset, kept outside TF.js between passes) and
 * the tensor round trips the score functions need.
 * @module
 */
import { tf } from "../tf.ts";
import { scoresToArray } from "./types.ts";

/** A row-major matrix: rows·dim values. */
export interface Matrix {
  /** rows·dim values, row-major. */
  data: Float32Array;
  /** Row width. */
  dim: number;
}

/** A matrix as a new [rows, dim] `tf.Tensor2D` (the caller disposes it). */
export function matrixTensor(m: Matrix): tf.Tensor2D {
  return tf.tensor2d(m.data, [m.dim ? m.data.length / m.dim : 0, m.dim], "float32");
}

/** Runs the score function `f` on a matrix as a tensor and reads the [n] result (every tensor disposed). */
export async function scoreMatrix(m: Matrix, f: (t: tf.Tensor2D) => tf.Tensor1D): Promise<Float32Array> {
  const t = matrixTensor(m);
  try {
    return await scoresToArray(f(t));
  } finally {
    t.dispose();
  }
}

/** Fits `f` on a matrix as a tensor, disposed afterwards. */
export function fitMatrix<S>(m: Matrix, f: (t: tf.Tensor2D) => S): S {
  const t = matrixTensor(m);
  try {
    return f(t);
  } finally {
    t.dispose();
  }
}

/** Row-wise argmax (e.g. predicted classes from logits); the first maximum wins. */
export function argmaxRows(m: Matrix): Int32Array {
  const n = m.dim ? m.data.length / m.dim : 0;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < m.dim; j++) if (m.data[i * m.dim + j]! > m.data[i * m.dim + best]!) best = j;
    out[i] = best;
  }
  return out;
}

/** Fits `f` on several matrices as tensors, all disposed afterwards. */
export function fitMatrices<S>(ms: readonly Matrix[], f: (t: tf.Tensor2D[]) => S): S {
  const ts = ms.map(matrixTensor);
  try {
    return f(ts);
  } finally {
    tf.dispose(ts);
  }
}

/** Runs the score function `f` on several matrices as tensors and reads the [n] result (every tensor disposed). */
export async function scoreMatrices(
  ms: readonly Matrix[],
  f: (t: tf.Tensor2D[]) => tf.Tensor1D,
): Promise<Float32Array> {
  const ts = ms.map(matrixTensor);
  try {
    return await scoresToArray(f(ts));
  } finally {
    tf.dispose(ts);
  }
}

/** The first `n` rows of a matrix (a view, no copy). */
export function firstRows(m: Matrix, n: number): Matrix {
  return { data: m.data.subarray(0, Math.min(n * m.dim, m.data.length)), dim: m.dim };
}

/**
 * Rows scaled to unit L2 norm, h / (‖h‖₂ + 1e-10) (the KNN paper's `normalizer`, deeplearning-wisc/knn-ood
 * `run_cifar.py`; the same ε as KNN's bank; CIDER's `eval_ood.py` takes `F.normalize`, h / max(‖h‖₂, 1e-12)), in
 * float64 sums, as a new matrix.
 * @example Usage
 * ```ts
 * normalizeRows({ data: Float32Array.of(3, 4), dim: 2 }).data; // ≈ [0.6, 0.8]
 * ```
 */
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
