/**
 * Helpers of the detectors that recompute the logits through the classifier's last linear layer after changing
 * the features or the weights (ReAct, ASH, DICE, GradNorm): the layer's logits, numpy's percentile, numpy's
 * rounding, and the argument checks they share.
 * @module
 */
import { tf } from "../tf.ts";
import type { LastLayer } from "./detector.ts";

/** Throws unless `layer` maps `d`-dimensional features (its kernel has d·C values). */
export function checkLayerInput(layer: LastLayer, d: number, where: string): void {
  const c = layer.kernel.dim;
  if (layer.kernel.data.length !== d * c) {
    throw new Error(
      `${where}: the last layer takes ${layer.kernel.data.length / c}-d features, got ${d}-d ` +
        `(are these the penultimate features the layer is applied to?)`,
    );
  }
}

/** Throws unless 0 ≤ p ≤ 100. */
export function checkPercentile(p: number, name: string, where: string): void {
  if (!(p >= 0 && p <= 100)) throw new Error(`${where}: ${name} must be a percentile in [0, 100], got ${p}`);
}

/** logits = features · kernel + bias, [N, C]. Call inside `tf.tidy`. */
export function layerLogits(features: tf.Tensor2D, layer: LastLayer): tf.Tensor2D {
  const [, d] = features.shape;
  const kernel = tf.tensor2d(layer.kernel.data, [d, layer.kernel.dim], "float32");
  return tf.add(tf.matMul(features, kernel), tf.tensor1d(layer.bias, "float32")) as tf.Tensor2D;
}

/** The Energy score through the layer, logsumexp(features · kernel + bias) (T = 1), as a new [N] tensor. */
export function layerEnergy(features: tf.Tensor2D, layer: LastLayer): tf.Tensor1D {
  return tf.tidy(() => tf.logSumExp(layerLogits(features, layer), 1) as tf.Tensor1D);
}

/**
 * `np.percentile(values, p)` with numpy's default `linear` method: with the values sorted ascending x_(0..n−1),
 * h = (n − 1)·p/100 and the result x_(⌊h⌋) + (h − ⌊h⌋)·(x_(⌊h⌋+1) − x_(⌊h⌋)). Two quickselects on a float64
 * copy, O(n), so a 50 000 × 512 training matrix needs no sort.
 * @throws on an empty or non-finite input, or p outside [0, 100].
 * @example Usage
 * ```ts
 * percentile([1, 2, 3, 4], 90); // 3.7 (h = 2.7: 3 + 0.7·(4 − 3))
 * ```
 */
export function percentile(values: ArrayLike<number>, p: number): number {
  checkPercentile(p, "p", "percentile");
  const n = values.length;
  if (n === 0) throw new Error("percentile: no values");
  const a = Float64Array.from(values);
  for (let i = 0; i < n; i++) if (!Number.isFinite(a[i]!)) throw new Error(`percentile: value ${i} is ${a[i]}`);
  const h = (n - 1) * (p / 100), lo = Math.floor(h), frac = h - lo;
  const xlo = select(a, lo);
  if (frac === 0 || lo + 1 >= n) return xlo;
  // After select(a, lo) every element right of lo is ≥ x_(lo), so the next order statistic is their minimum.
  let xhi = Infinity;
  for (let i = lo + 1; i < n; i++) if (a[i]! < xhi) xhi = a[i]!;
  return xlo + frac * (xhi - xlo);
}

/**
 * The k-th smallest value of `a` (0-based), in O(n): rearranges `a` so that a[k] holds it, smaller values to its
 * left and larger ones to its right (Hoare's select).
 */
export function select(a: Float64Array, k: number): number {
  let left = 0, right = a.length - 1;
  while (right > left) {
    // Median of three as the pivot keeps sorted and constant runs from the quadratic case.
    const mid = (left + right) >>> 1;
    const pivot = median3(a[left]!, a[mid]!, a[right]!);
    let i = left, j = right;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else break;
  }
  return a[k]!;
}

function median3(x: number, y: number, z: number): number {
  return x < y ? (y < z ? y : x < z ? z : x) : (x < z ? x : y < z ? z : y);
}

/** `np.round` (round half to even): 2.5 → 2, 3.5 → 4, −0.5 → −0. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
