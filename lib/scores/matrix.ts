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
