/**
 * Helpers shared by the score files: argument checks, label reading, and the signed-gradient input
 * perturbation of ODIN and Mahalanobis preprocessing.
 * @module
 */
import { tf } from "../tf.ts";
import type { Labels, Normalization } from "./types.ts";

/** Throws unless `t` is a rank-2 tensor with at least one row; returns [rows, cols]. */
export function check2d(t: tf.Tensor, what: string, where: string): [number, number] {
  if (t.rank !== 2) throw new Error(`${where}: ${what} must be a 2-D tensor [N, d], got shape [${t.shape.join(", ")}]`);
  const [n, d] = t.shape as [number, number];
  if (d < 1) throw new Error(`${where}: ${what} has no columns (shape [${n}, ${d}])`);
  return [n, d];
}

/** Throws unless `x` is a rank-4 NHWC tensor. */
export function check4d(x: tf.Tensor, where: string): void {
  if (x.rank !== 4) throw new Error(`${where}: x must be a 4-D NHWC tensor, got shape [${x.shape.join(", ")}]`);
}

/** Throws unless `v` is a positive finite number. */
export function checkPositive(v: number, name: string, where: string): void {
  if (!(v > 0) || !Number.isFinite(v)) throw new Error(`${where}: ${name} must be a positive finite number, got ${v}`);
}

/** Throws unless `v` is a positive integer. */
export function checkPositiveInt(v: number, name: string, where: string): void {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${where}: ${name} must be a positive integer, got ${v}`);
}

/** Reads labels into an Int32Array of length `n`, checking that they are non-negative integers. */
export function readLabels(labels: Labels, n: number, where: string): Int32Array {
  const values: ArrayLike<number> = isTensor(labels) ? labels.dataSync() : labels;
  if (values.length !== n) throw new Error(`${where}: ${values.length} labels for ${n} feature rows`);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (!Number.isInteger(v) || v < 0) throw new Error(`${where}: label ${i} is ${v}; labels must be integers ≥ 0`);
    out[i] = v;
  }
  return out;
}

function isTensor(x: unknown): x is tf.Tensor {
  return x instanceof tf.Tensor;
}

/**
 * The per-channel divisor for the signed gradient: `normalization.std` when `divide` is true (one value, or one
 * per channel of `channels`), else null. Throws a clear error when it is needed but missing or mis-sized.
 */
export function signDivisor(
  normalization: Normalization | undefined,
  divide: boolean,
  channels: number,
  where: string,
): number[] | null {
  if (!divide) return null;
  const std = normalization?.std;
  if (!std || std.length === 0) {
    throw new Error(
      `${where}: divideBySignStd is true but the model has no normalization.std; pass opts.normalization ` +
        `or set divideBySignStd: false`,
    );
  }
  if (std.length !== 1 && std.length !== channels) {
    throw new Error(`${where}: normalization.std has ${std.length} values for ${channels}-channel inputs`);
  }
  for (const s of std) checkPositive(s, "normalization.std", where);
  return std.length === 1 ? Array.from({ length: channels }, () => std[0]!) : [...std];
}

/**
 * x − ε · s / std, s = +1 where `grad` ≥ 0 else −1 (the `torch.ge(grad, 0)` binarisation of the ODIN code, so a
 * zero gradient counts as +1); `divisor` null leaves out the division. Call inside `tf.tidy`.
 */
export function signStep(x: tf.Tensor4D, grad: tf.Tensor4D, epsilon: number, divisor: number[] | null): tf.Tensor4D {
  const sign = tf.where(tf.greaterEqual(grad, 0), tf.onesLike(grad), tf.onesLike(grad).neg());
  const step = divisor ? tf.div(sign, tf.tensor1d(divisor)) : sign;
  return tf.sub(x, tf.mul(step, epsilon)) as tf.Tensor4D;
}

/** Runs `f` on row batches of `x` (each inside `tf.tidy`) and concatenates the [b] results into one [N] tensor. */
export function mapBatches(x: tf.Tensor4D, batchSize: number, f: (batch: tf.Tensor4D) => tf.Tensor1D): tf.Tensor1D {
  const n = x.shape[0];
  if (n === 0) return tf.tensor1d([]);
  if (n <= batchSize) return tf.tidy(() => f(x));
  const parts: tf.Tensor1D[] = [];
  try {
    for (let start = 0; start < n; start += batchSize) {
      const size = Math.min(batchSize, n - start);
      parts.push(tf.tidy(() => f(tf.slice(x, [start, 0, 0, 0], [size, -1, -1, -1]))));
    }
    return tf.concat(parts) as tf.Tensor1D;
  } finally {
    tf.dispose(parts);
  }
}
