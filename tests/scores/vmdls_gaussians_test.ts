import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { Rng } from "@lib/data/rng.ts";
import {
  classLogLikelihoods,
  classLogLikelihoodsTf,
  concatFeatures,
  fitClassGaussians,
} from "@lib/scores/vmdls_gaussians.ts";

await initBackend({ backend: "cpu", log: null });

const LOG_2PI = Math.log(2 * Math.PI);
const close = (a: number, e: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)), `${what}: got ${a}, expected ${e}`);
const matrix = (rows: number[][]) => ({ data: Float32Array.from(rows.flat()), dim: rows[0]!.length });

Deno.test("fitClassGaussians() + classLogLikelihoods(): hand-computed 1-d densities", () => {
  // Class 0: −1, 1 (ν = 0, σ² = 1); class 1: 3, 5 (ν = 4, σ² = 1). Both factorise at once: 0 + 2 steps.
  const g = fitClassGaussians(matrix([[-1], [1], [3], [5]]), Int32Array.of(0, 0, 1, 1));
  assert.deepEqual(g.means.map((m) => [...m]), [[0], [4]]);
  assert.equal(g.steps, 2);
  close(g.jitter, 2e-6, 1e-12, "jitter");
  const v = 1 + 2e-6;
  const ll = classLogLikelihoods(g, matrix([[0], [2.5]]));
  close(ll[0]!, -0.5 * (0 + Math.log(v) + LOG_2PI), 1e-12, "ℓ₀(0)");
  close(ll[1]!, -0.5 * (16 / v + Math.log(v) + LOG_2PI), 1e-12, "ℓ₁(0)");
  close(ll[2]!, -0.5 * (6.25 / v + Math.log(v) + LOG_2PI), 1e-12, "ℓ₀(2.5)");
  close(ll[3]!, -0.5 * (2.25 / v + Math.log(v) + LOG_2PI), 1e-12, "ℓ₁(2.5)");
  assert.throws(() => fitClassGaussians(matrix([[1], [2]]), Int32Array.of(0, 2)), /class 1 has no samples/);
  assert.throws(() => fitClassGaussians(matrix([[1], [NaN]]), Int32Array.of(0, 0)), /not finite/);
});

/**
 * The loop's criterion for Σ = [[a, a], [a, a]] + λI restated: pivots a + λ and (a + λ) − a²/(a + λ), each must
 * exceed tol·(a + λ).
 */
function stepsFor2x2(a: number, tol: number, step: number, from: number): number {
  for (let k = from;; k++) {
    const p1 = a + k * step, p2 = p1 - (a * a) / p1;
    if (p1 > tol * p1 && p2 > tol * p1) return k;
  }
}

Deno.test("fitClassGaussians(): a singular class covariance goes through the jitter loop, the running count carries", () => {
  // Class 0 on the line x = y: (0,0), (1,1), (2,2) → Σ₀ = (2/3)·[[1,1],[1,1]], singular.
  // Class 1 on x = y with spread 3×: Σ₁ = 6·[[1,1],[1,1]], needs more steps; its loop starts at class 0's count.
  const rows = [[0, 0], [1, 1], [2, 2], [0, 0], [3, 3], [6, 6]];
  const y = Int32Array.of(0, 0, 0, 1, 1, 1);
  const tol = 1e-5;
  const k0 = stepsFor2x2(2 / 3, tol, 1e-6, 0), k1 = stepsFor2x2(6, tol, 1e-6, k0);
  assert.ok(k0 >= 3 && k1 > k0, `k0 = ${k0}, k1 = ${k1}`);
  const g = fitClassGaussians(matrix(rows), y, { pivotTol: tol });
  assert.equal(g.steps, k1 + 2);
  close(g.jitter, (k1 + 2) * 1e-6, 1e-12, "jitter");
  // Classes in the other order: class 0's loop starts at the larger count and needs no step: same result.
  const swapped = fitClassGaussians(matrix([...rows.slice(3), ...rows.slice(0, 3)]), y, { pivotTol: tol });
  assert.equal(swapped.steps, k1 + 2);
  // The default proxy (float32 ε) and the float64 test alone (pivotTol 0) also need at least one step.
  assert.equal(
    fitClassGaussians(matrix(rows), y).steps,
    stepsFor2x2(6, 2 ** -23, 1e-6, stepsFor2x2(2 / 3, 2 ** -23, 1e-6, 0)) + 2,
  );
  assert.ok(fitClassGaussians(matrix(rows), y, { pivotTol: 0 }).steps >= 3);
  // The density with the final jitter, by the 2×2 formula: Σ̃ = [[a+λ, a], [a, a+λ]], det = λ(2a + λ).
  const a = 2 / 3, lam = g.jitter, det = lam * (2 * a + lam);
  const [u, w] = [1, 0]; // f − ν₀ for f = (2, 1)
  const quad = ((a + lam) * u * u - 2 * a * u * w + (a + lam) * w * w) / det;
  const ll = classLogLikelihoods(g, matrix([[2, 1]]));
  close(ll[0]!, -0.5 * (quad + Math.log(det) + 2 * LOG_2PI), 1e-9, "ℓ₀ off the line");
});

/** Σ̃ of class `c` of a fit, from the data (biased covariance + jitter), as a nested array. */
function covariance(rows: number[][], y: number[], c: number, jitter: number): number[][] {
  const xs = rows.filter((_, i) => y[i] === c), n = xs.length, d = rows[0]!.length;
  const m = Array.from({ length: d }, (_, j) => xs.reduce((s, r) => s + r[j]!, 0) / n);
  return Array.from(
    { length: d },
    (_, a) =>
      Array.from(
        { length: d },
        (_, b) => xs.reduce((s, r) => s + r[a]! * r[b]!, 0) / n - m[a]! * m[b]! + (a === b ? jitter : 0),
      ),
  );
}

/** Inverse and determinant of a 3×3 matrix by cofactors. */
function inverse3(s: number[][]): { inv: number[][]; det: number } {
  const [[a, b, c], [d, e, f], [g, h, i]] = s as [
    [number, number, number],
    [number, number, number],
    [number, number, number],
  ];
  const A = e * i - f * h, B = -(d * i - f * g), C = d * h - e * g;
  const det = a * A + b * B + c * C;
  const adj = [
    [A, -(b * i - c * h), b * f - c * e],
    [B, a * i - c * g, -(a * f - c * d)],
    [C, -(a * h - b * g), a * e - b * d],
  ];
  return { inv: adj.map((r) => r.map((v) => v / det)), det };
}

Deno.test("classLogLikelihoods() equals −½[(f − ν)ᵀΣ̃⁻¹(f − ν) + log|Σ̃| + d log 2π]; the TF.js path agrees", () => {
  const rng = new Rng(5);
  const rows: number[][] = [], y: number[] = [];
  for (let c = 0; c < 2; c++) {
    for (let i = 0; i < 15; i++) {
      // float32 values, as the fit reads them
      rows.push([rng.normal(3 * c, 1), rng.normal(0, 2) + 0.5 * c, rng.normal(-c, 0.5)].map(Math.fround));
      y.push(c);
    }
  }
  const g = fitClassGaussians(matrix(rows), Int32Array.from(y));
  assert.equal(g.steps, 2, "full-rank classes need no loop step");
  const queries = [[0, 0, 0], [3, 1, -1], [10, -4, 2]];
  const ll = classLogLikelihoods(g, matrix(queries));
  for (let c = 0; c < 2; c++) {
    const { inv, det } = inverse3(covariance(rows, y, c, g.jitter));
    const nu = [...g.means[c]!];
    queries.forEach((f, q) => {
      const v = f.map((x, j) => x - nu[j]!);
      const quad = v.reduce((s, vi, i) => s + vi * v.reduce((t, vj, j) => t + inv[i]![j]! * vj, 0), 0);
      close(ll[q * 2 + c]!, -0.5 * (quad + Math.log(det) + 3 * LOG_2PI), 1e-9, `ℓ_${c}(query ${q})`);
    });
  }
  const before = tf.memory().numTensors;
  const t = tf.tensor2d(queries);
  const out = classLogLikelihoodsTf(g, t);
  const tfll = out.dataSync();
  tf.dispose([t, out]);
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  for (let i = 0; i < ll.length; i++) close(tfll[i]!, ll[i]!, 1e-5, `TF.js ℓ[${i}]`);
});

Deno.test("concatFeatures(): rows joined member by member", () => {
  const m = concatFeatures([matrix([[1, 2], [3, 4]]), matrix([[5], [6]])]);
  assert.equal(m.dim, 3);
  assert.deepEqual([...m.data], [1, 2, 5, 3, 4, 6]);
  assert.throws(() => concatFeatures([matrix([[1], [2]]), matrix([[1]])]), /different row counts/);
});
