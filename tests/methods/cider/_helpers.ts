/** Shared helpers of the CIDER tests: closeness, leak checks, and a literal op-by-op port of CIDER's EMA loop. */
import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { l2Normalize } from "@lib/layers/l2_normalize.ts";

/** Asserts |actual − expected| ≤ tol elementwise. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what = ""): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!, e = expected[i]!;
    assert.ok(Math.abs(a - e) <= tol, `${what}[${i}]: got ${a}, expected ${e} (tol ${tol})`);
  }
}

/** Runs `f`, reads and disposes the tensors it returns, and asserts nothing else was left behind. */
export function noLeak<T extends tf.Tensor | tf.Tensor[]>(f: () => T): Float32Array[] {
  const before = tf.memory().numTensors;
  const out = f();
  const list = Array.isArray(out) ? out : [out];
  const values = list.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(list);
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  return values;
}

/**
 * CIDER's `DisLoss.forward` update loop ported op by op with TF.js ops (row replacement instead of an in-place
 * assignment), so TF.js autograd gives the reference gradient path: μ_c ← normalize(α·μ_c + (1 − α)·z_j).
 */
export function literalEma(
  prototypes: tf.Tensor2D,
  z: tf.Tensor2D,
  labels: readonly number[],
  alpha: number,
): tf.Tensor2D {
  const [c] = prototypes.shape;
  let mu: tf.Tensor2D = prototypes;
  labels.forEach((label, j) => {
    const row = tf.slice(mu, [label, 0], [1, -1]);
    const zj = tf.slice(z, [j, 0], [1, -1]);
    const u = l2Normalize(tf.add(tf.mul(row, alpha), tf.mul(zj, 1 - alpha)), -1);
    const select = tf.reshape(tf.oneHot(tf.tensor1d([label], "int32"), c), [c, 1]);
    mu = tf.add(mu, tf.mul(select, tf.sub(u, row))) as tf.Tensor2D;
  });
  return mu;
}

/** Unit-normalised random rows (seeded LCG; no TF.js randomness). */
export function unitRows(n: number, d: number, seed: number): number[][] {
  let s = seed >>> 0;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  return Array.from({ length: n }, () => {
    const v = Array.from({ length: d }, rand);
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
}
