import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { Rng } from "@lib/data/rng.ts";
import {
  fitMahalanobis,
  mahalanobis,
  type MahalanobisFitOptions,
  type MahalanobisState,
  pseudoInverseSymmetric,
  symmetricEigen,
} from "@lib/scores/mahalanobis.ts";
import { ciderMahalanobisDetector } from "@lib/scores/cider_mahalanobis.ts";
import { DETECTORS } from "@lib/scores/mod.ts";
import type { DetectorContext, NetOutputs } from "@lib/scores/detector.ts";
import { normalizeRows } from "@lib/scores/matrix.ts";
import { matmulSquare } from "@lib/scores/_linalg.ts";
import { assertClose, noLeak, noLeakFit } from "./_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

/** class 0: (−1, 0), (1, 0) → μ₀ = (0, 0); class 1: (4, −1), (4, 1) → μ₁ = (4, 0). */
const ISO_ROWS = [[-1, 0], [1, 0], [4, -1], [4, 1]];
/** class 0: (−2, 0), (2, 0) → μ₀ = (0, 0); class 1: (4, −1), (4, 1) → μ₁ = (4, 0). */
const DIAG_ROWS = [[-2, 0], [2, 0], [4, -1], [4, 1]];
const LABELS = [0, 0, 1, 1];

function fitWith(rows: number[][], labels: readonly number[], opts: MahalanobisFitOptions = {}): MahalanobisState {
  const f = tf.tensor2d(rows);
  try {
    return noLeakFit(() => fitMahalanobis(f, labels, opts));
  } finally {
    f.dispose();
  }
}

function fit(rows: number[][], opts: MahalanobisFitOptions = {}): MahalanobisState {
  return fitWith(rows, LABELS, opts);
}

function score(state: MahalanobisState, rows: number[][]): Float32Array {
  const f = tf.tensor2d(rows);
  try {
    return noLeak(() => mahalanobis(state, f));
  } finally {
    f.dispose();
  }
}

Deno.test("fitMahalanobis() computes class means and the tied MLE covariance's inverse (hand-computed, isotropic)", () => {
  // Centred rows (−1, 0), (1, 0), (0, −1), (0, 1): S = 2·I, Σ = S/N = 0.5·I, P = Σ⁻¹ = 2·I.
  const state = fit(ISO_ROWS);
  assert.deepEqual(state.means, [[0, 0], [4, 0]]);
  assert.deepEqual(state.counts, [2, 2]);
  assertClose(state.precision, [2, 0, 0, 2], 1e-12, "precision");
  assert.equal(state.jitter, 0);
  // S(f) = max_c −(f − μ_c)ᵀ P (f − μ_c):
  //   (1, 0): D₀ = 2·1 = 2, D₁ = 2·9 = 18 → −2;  (2, 1): D₀ = 2·5 = 10 = D₁ → −10;  (4, 0): D₁ = 0 → 0
  assertClose(score(state, [[1, 0], [2, 1], [4, 0]]), [-2, -10, 0], 1e-5);
});

Deno.test("fitMahalanobis() shrinkage: Σ ← (1−α)Σ + α(trΣ/d)I, hand-computed diagonal example", () => {
  // S₀₀ = 4 + 4 = 8, S₁₁ = 1 + 1 = 2 → Σ = diag(2, 0.5), P = diag(0.5, 2).
  //   (1, 1): D₀ = 0.5 + 2 = 2.5, D₁ = 0.5·9 + 2 = 6.5 → −2.5
  assertClose(score(fit(DIAG_ROWS), [[1, 1]]), [-2.5], 1e-5, "no shrinkage");
  // α = 0.5: trΣ/d = 1.25 → Σ' = diag(0.5·2 + 0.625, 0.5·0.5 + 0.625) = diag(1.625, 0.875)
  //   (1, 1): D₀ = 1/1.625 + 1/0.875 = 0.615385 + 1.142857 = 1.758242 → −1.758242
  const shrunk = fit(DIAG_ROWS, { shrinkage: 0.5 });
  assertClose(shrunk.precision, [1 / 1.625, 0, 0, 1 / 0.875], 1e-12, "precision");
  assertClose(score(shrunk, [[1, 1]]), [-(1 / 1.625 + 1 / 0.875)], 1e-5, "α=0.5");
  // An explicit jitter λ: Σ + 0.5·I = diag(2.5, 1) → D₀(1, 1) = 0.4 + 1 = 1.4
  assertClose(score(fit(DIAG_ROWS, { jitter: 0.5 }), [[1, 1]]), [-1.4], 1e-5, "jitter");
});

/** Gauss–Jordan inverse (float64), an independent reference for the Cholesky route. */
function invert(a: number[][]): number[][] {
  const n = a.length;
  const m = a.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    const pivot = m[c]![c]!;
    m[c] = m[c]!.map((v) => v / pivot);
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r]![c]!;
      m[r] = m[r]!.map((v, j) => v - f * m[c]![j]!);
    }
  }
  return m.map((row) => row.slice(n));
}

Deno.test("mahalanobis() matches a float64 brute-force reference on correlated random features", () => {
  const rng = new Rng(5);
  const n = 60, d = 5, c = 3;
  const mixing = Array.from({ length: d }, () => Array.from({ length: d }, () => rng.normal()));
  const rows: number[][] = [], labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const z = Array.from({ length: d }, () => rng.normal());
    const y = i % c;
    // Rounded to float32 as the tensor will hold them, so the reference sees the same data.
    rows.push(mixing.map((mrow) => Math.fround(mrow.reduce((s, v, j) => s + v * z[j]!, 0) + 3 * y)));
    labels.push(y);
  }
  const means = Array.from({ length: c }, (_, k) => {
    const members = rows.filter((_, i) => labels[i] === k);
    return Array.from({ length: d }, (_, j) => members.reduce((s, r) => s + r[j]!, 0) / members.length);
  });
  const cov = Array.from({ length: d }, (_, a) =>
    Array.from({ length: d }, (_, b) =>
      rows.reduce((s, r, i) => {
        const m = means[labels[i]!]!;
        return s + (r[a]! - m[a]!) * (r[b]! - m[b]!);
      }, 0) / n));
  const p = invert(cov);
  const queries = Array.from({ length: 8 }, () => Array.from({ length: d }, () => 4 * rng.normal()));
  const expected = queries.map((q) =>
    Math.max(...means.map((m) => {
      const diff = q.map((v, j) => v - m[j]!);
      return -diff.reduce((s, da, a) => s + da * diff.reduce((t, db, b) => t + p[a]![b]! * db, 0), 0);
    }))
  );
  const f = tf.tensor2d(rows);
  const state = noLeakFit(() => fitMahalanobis(f, Int32Array.from(labels)));
  f.dispose();
  assertClose(state.precision, p.flat(), 1e-9 * Math.max(...p.flat().map(Math.abs)), "precision");
  const got = score(state, queries);
  got.forEach((g, i) =>
    assert.ok(Math.abs(g - expected[i]!) <= 1e-4 * Math.max(1, Math.abs(expected[i]!)), `${i}: ${g} vs ${expected[i]}`)
  );
});

Deno.test("fitMahalanobis() state is plain JSON data: a round trip scores identically", () => {
  const state = fit(ISO_ROWS);
  const copy = JSON.parse(JSON.stringify(state)) as MahalanobisState;
  assert.deepEqual(copy, state);
  assert.deepEqual(score(copy, [[1, 0], [3, 3]]), score(state, [[1, 0], [3, 3]]));
});

Deno.test("fitMahalanobis() adds jitter for a singular covariance, or throws when autoJitter is off", () => {
  // Second feature duplicates the first: Σ has rank 1.
  const rows = [[-1, -1], [1, 1], [3, 3], [5, 5]];
  const state = fit(rows);
  assert.ok(state.jitter > 0, `jitter ${state.jitter}`);
  assert.ok(state.precision.every(Number.isFinite));
  const s = score(state, [[0, 0], [0, 1]]);
  assert.ok(s.every(Number.isFinite));
  assert.ok(s[0]! > s[1]!, "off the subspace is less in-distribution");
  const f = tf.tensor2d(rows);
  assert.throws(
    () => fitMahalanobis(f, LABELS, { autoJitter: false }),
    /tied covariance \(d = 2\) is singular with jitter 0/,
  );
  f.dispose();
});

Deno.test("fitMahalanobis() rejects bad labels, empty classes and non-finite features; mahalanobis() checks dims", () => {
  const f = tf.tensor2d(ISO_ROWS);
  assert.throws(() => fitMahalanobis(f, [0, 0, 1]), /3 labels for 4 feature rows/);
  assert.throws(() => fitMahalanobis(f, [0, 0, 1, 1.5]), /label 3 is 1\.5/);
  assert.throws(() => fitMahalanobis(f, LABELS, { numClasses: 3 }), /class 2 has no training samples/);
  assert.throws(() => fitMahalanobis(f, [0, 0, 1, 3], { numClasses: 3 }), /not below numClasses = 3/);
  const bad = tf.tensor2d([[0, NaN], [1, 1]]);
  assert.throws(() => fitMahalanobis(bad, [0, 0]), /feature row 0 is not finite/);
  const state = fitMahalanobis(f, LABELS);
  const wide = tf.tensor2d([[1, 2, 3]]);
  assert.throws(() => mahalanobis(state, wide), /fitted on 2-d features, got 3-d/);
  tf.dispose([f, bad, wide]);
});

const GLOBAL = { covariance: "global", inverse: "pinv" } as const;

Deno.test("fitMahalanobis({ covariance: 'global' }) is torch.cov of all features around the global mean (hand-computed)", () => {
  // Class 0: (−1, 0), (1, 0) → μ₀ = (0, 0); class 1: (4, −1), (4, 1) → μ₁ = (4, 0); global mean (2, 0).
  // Centred: (−3, 0), (−1, 0), (2, −1), (2, 1): S = [[18, 0], [0, 2]]; Σ = S/(N − 1) = diag(6, 2/3), P = diag(1/6, 1.5).
  // (The tied MLE covariance of the same rows is 0.5·I: the global one adds the between-class spread along x.)
  const rows = [[-1, 0], [1, 0], [4, -1], [4, 1]], labels = [0, 0, 1, 1];
  for (const inverse of ["cholesky", "pinv"] as const) {
    const state = fitWith(rows, labels, { covariance: "global", inverse });
    assert.deepEqual(state.means, [[0, 0], [4, 0]]);
    assertClose(state.precision, [1 / 6, 0, 0, 1.5], 1e-12, `precision (${inverse})`);
    assert.deepEqual([state.covariance, state.inverse, state.jitter], ["global", inverse, 0]);
    // (1, 0): D₀ = 1/6, D₁ = 9/6 → −1/6;  (2, 1): D₀ = 4/6 + 1.5 = D₁ → −13/6
    assertClose(score(state, [[1, 0], [2, 1]]), [-1 / 6, -13 / 6], 1e-6, inverse);
  }
  assertClose(fitWith(rows, labels).precision, [2, 0, 0, 2], 1e-12, "the default stays tied");
});

Deno.test("fitMahalanobis({ inverse: 'pinv' }) pseudo-inverts a singular covariance: the null space is ignored (hand-computed)", () => {
  // Every row on the line y = x: class 0: (0, 0), (2, 2) → μ₀ = (1, 1); class 1: (4, 4), (6, 6) → μ₁ = (5, 5).
  // Centred on (3, 3): a·(1, 1) for a = −3, −1, 1, 3, Σa² = 20: Σ = (20/3)·J, J = [[1, 1], [1, 1]] = 2uuᵀ with
  // u = (1, 1)/√2, so Σ = (40/3)·uuᵀ (rank 1) and pinv(Σ) = (3/40)·uuᵀ = (3/80)·J.
  const state = fitWith([[0, 0], [2, 2], [4, 4], [6, 6]], [0, 0, 1, 1], GLOBAL);
  assertClose(state.precision, [3 / 80, 3 / 80, 3 / 80, 3 / 80], 1e-12, "pinv");
  // (3, 3): D₀ = (2, 2)P(2, 2)ᵀ = (3/80)·16 = 0.6 = D₁ → −0.6.  (2, 0) differs from μ₀ by (1, −1) ⟂ u → D₀ = 0.
  assertClose(score(state, [[3, 3], [2, 0], [1, 1]]), [-0.6, 0, 0], 1e-6);
  // Cholesky cannot invert it: without jitter it throws.
  assert.throws(
    () => fitWith([[0, 0], [2, 2], [4, 4], [6, 6]], [0, 0, 1, 1], { covariance: "global", autoJitter: false }),
    /singular/,
  );
});

Deno.test("symmetricEigen() and pseudoInverseSymmetric() on random symmetric matrices: A = VΛVᵀ, VᵀV = I, APA = A", () => {
  const rng = new Rng(3);
  for (const [n, rank] of [[5, 5], [8, 3], [16, 16]] as const) {
    // A = Bᵀ·diag(±)·B with B rank × n: symmetric, indefinite, of the given rank.
    const b = Array.from({ length: rank * n }, () => rng.normal());
    const a = new Float64Array(n * n);
    for (let k = 0; k < rank; k++) {
      const sign = k % 3 === 2 ? -1 : 1;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j]! += sign * b[k * n + i]! * b[k * n + j]!;
    }
    const { values, vectors: v } = symmetricEigen(a, n);
    const vt = new Float64Array(n * n), vl = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) [vt[j * n + i], vl[i * n + j]] = [v[i * n + j]!, v[i * n + j]! * values[j]!];
    }
    const identity = Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0));
    assertClose(matmulSquare(vt, v, n), identity, 1e-12, `VᵀV (n ${n})`);
    assertClose(matmulSquare(vl, vt, n), a, 1e-10, `VΛVᵀ (n ${n})`);
    assert.equal(values.filter((x) => Math.abs(x) > 1e-9).length, rank, "rank");
    const p = pseudoInverseSymmetric(a, n);
    assertClose(matmulSquare(matmulSquare(a, p, n), a, n), a, 1e-9, `APA = A (n ${n})`);
    assertClose(matmulSquare(matmulSquare(p, a, n), p, n), p, 1e-9, `PAP = P (n ${n})`);
  }
  assertClose(pseudoInverseSymmetric([1, 1, 1, 1], 2), [0.25, 0.25, 0.25, 0.25], 1e-15, "2·uuᵀ");
  assertClose(pseudoInverseSymmetric([2, 0, 0, 0], 2), [0.5, 0, 0, 0], 0, "diagonal with a zero");
});

Deno.test("ciderMahalanobis detector: CIDER's defaults, paper-tagged, equal to fitMahalanobis on normalised features", async () => {
  assert.equal(DETECTORS.ciderMahalanobis, ciderMahalanobisDetector);
  assert.equal(ciderMahalanobisDetector.paper, "cider");
  assert.deepEqual(ciderMahalanobisDetector.defaults, {
    shrinkage: 0,
    normalize: true,
    covariance: "global",
    inverse: "pinv",
  });
  const rng = new Rng(5);
  const rows = Array.from({ length: 12 }, (_, i) => [rng.normal() + (i % 3) * 2, rng.normal(), rng.normal() + 1]);
  const labels = Int32Array.from(rows, (_, i) => i % 3);
  const out = (r: number[][]): NetOutputs => ({
    n: r.length,
    logits: { data: new Float32Array(r.length * 3), dim: 3 },
    features: { data: Float32Array.from(r.flat()), dim: 3 },
    labels,
  });
  const ctx = { model: { numClasses: 3 }, train: { ds: null, outputs: out(rows) } } as unknown as DetectorContext;
  const o = ciderMahalanobisDetector.defaults;
  const state = await ciderMahalanobisDetector.fit!(ctx, o);
  const test = rows.slice(0, 5).map((r) => r.map((x) => x * 3));
  const got = await ciderMahalanobisDetector.score({ ds: null!, outputs: out(test) }, o, state, ctx);
  const unit = (m: number[][]) => {
    const n = normalizeRows({ data: Float32Array.from(m.flat()), dim: 3 }).data;
    return m.map((_, i) => Array.from(n.subarray(i * 3, i * 3 + 3)));
  };
  const ref = fitWith(unit(rows), Array.from(labels), GLOBAL);
  assertClose(state.precision, ref.precision, 1e-9, "precision");
  assertClose(got, score(ref, unit(test)), 1e-5, "scores (scale-free: the features are normalised)");
});
