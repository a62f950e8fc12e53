import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { fitMahalanobis, mahalanobis } from "@lib/scores/mahalanobis.ts";
import {
  fitRelativeMahalanobis,
  relativeMahalanobis,
  relativeMahalanobisDetector,
  type RelativeMahalanobisFitOptions,
  type RelativeMahalanobisState,
} from "@lib/scores/relative_mahalanobis.ts";
import type { DetectorContext, NetOutputs } from "@lib/scores/detector.ts";
import { assertClose, noLeak, noLeakFit } from "./_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

/** class 0: (−1, 0), (1, 0) → μ₀ = (0, 0); class 1: (4, −1), (4, 1) → μ₁ = (4, 0). */
const ROWS = [[-1, 0], [1, 0], [4, -1], [4, 1]];
const LABELS = [0, 0, 1, 1];

function fit(rows: number[][], labels: number[], opts?: RelativeMahalanobisFitOptions): RelativeMahalanobisState {
  const f = tf.tensor2d(rows);
  try {
    return noLeakFit(() => fitRelativeMahalanobis(f, labels, opts));
  } finally {
    f.dispose();
  }
}

function score(state: RelativeMahalanobisState, rows: number[][]): Float32Array {
  const f = tf.tensor2d(rows);
  try {
    return noLeak(() => relativeMahalanobis(state, f));
  } finally {
    f.dispose();
  }
}

Deno.test("fitRelativeMahalanobis() is fitMahalanobis twice: tied class Gaussians and one background Gaussian (hand-computed)", () => {
  // Class fit: centred rows (∓1, 0), (0, ∓1) → Σ = 0.5·I, P = 2·I.
  // Background: μ₀ = (2, 0); centred (−3, 0), (−1, 0), (2, −1), (2, 1) → Σ₀ = diag(18, 2)/4 = diag(4.5, 0.5),
  //   P₀ = diag(2/9, 2).
  const state = fit(ROWS, LABELS);
  const f = tf.tensor2d(ROWS);
  assert.deepEqual(state.classes, fitMahalanobis(f, LABELS), "the class part is the Mahalanobis fit");
  f.dispose();
  assert.deepEqual(state.background.means, [[2, 0]]);
  assertClose(state.background.precision, [2 / 9, 0, 0, 2], 1e-12, "P₀");
  assert.deepEqual(JSON.parse(JSON.stringify(state)), state, "plain JSON data");
});

Deno.test("relativeMahalanobis() is D₀ − min_c D_c, hand-computed", () => {
  const state = fit(ROWS, LABELS);
  // (1, 0): D = (2, 18) → min 2; D₀ = 1·2/9 → 2/9 − 2 = −16/9.
  // (2, 0): D = (8, 8); D₀ = 0 (the background mean) → −8.
  // (4, 0): D₁ = 0; D₀ = 4·2/9 = 8/9 → +8/9 (above 0: relative to the background it is typical).
  // (2, 1): D = (10, 10); D₀ = 0 + 2 = 2 → −8, where plain Mahalanobis gives −10.
  assertClose(score(state, [[1, 0], [2, 0], [4, 0], [2, 1]]), [-16 / 9, -8, 8 / 9, -8], 1e-5);
  const f = tf.tensor2d([[2, 1]]);
  assertClose(noLeak(() => mahalanobis(state.classes, f)), [-10], 1e-5, "plain Mahalanobis");
  f.dispose();
});

Deno.test("relativeMahalanobis() with a class of one sample: μ_c is that sample and it adds nothing to Σ", () => {
  // Class 0: (∓1, 0), (0, ∓1) → μ₀ = 0, scatter 2·I; class 1: (5, 5) alone → μ₁ = (5, 5), scatter 0.
  //   Σ = 2·I/5 = 0.4·I → P = 2.5·I.
  // Background: μ₀ = (1, 1); Σ₀ = [[22, 20], [20, 22]]/5 = [[4.4, 4], [4, 4.4]], det = 3.36,
  //   P₀ = [[4.4, −4], [−4, 4.4]]/3.36.
  // (5, 5): D₁ = 0; D₀ = (4, 4)P₀(4, 4)ᵀ = 16·(4.4 − 4)·2/3.36 = 12.8/3.36 = 3.809524 → +3.809524 (numpy: 3.8095238).
  // (1, 1): D₀ = 0; D = (2.5·2, 2.5·32) → −5.  (2.5, 2.5), between the classes along the background's wide axis:
  //   D = (31.25, 31.25); D₀ = 2·2.25·0.4/3.36 = 0.535714 → −30.714286.
  const state = fit([[-1, 0], [1, 0], [0, -1], [0, 1], [5, 5]], [0, 0, 0, 0, 1]);
  assert.deepEqual(state.classes.counts, [4, 1]);
  assertClose(state.classes.precision, [2.5, 0, 0, 2.5], 1e-12, "P");
  assertClose(score(state, [[5, 5], [1, 1], [2.5, 2.5]]), [12.8 / 3.36, -5, 0.535714286 - 31.25], 1e-4);
  // pinv and Cholesky agree on a non-singular covariance.
  const pinv = fit([[-1, 0], [1, 0], [0, -1], [0, 1], [5, 5]], [0, 0, 0, 0, 1], { inverse: "pinv" });
  assertClose(score(pinv, [[5, 5], [2.5, 2.5]]), [12.8 / 3.36, 0.535714286 - 31.25], 1e-4, "pinv");
});

Deno.test("relativeMahalanobis detector: an ID feature above an OOD one, checks, no tensor leak", async () => {
  assert.deepEqual(relativeMahalanobisDetector.defaults, { shrinkage: 0, inverse: "cholesky" });
  const out = (rows: number[][], labels: number[]): NetOutputs => ({
    n: rows.length,
    logits: { data: new Float32Array(rows.length * 2), dim: 2 },
    features: { data: Float32Array.from(rows.flat()), dim: 2 },
    labels: Int32Array.from(labels),
  });
  const ctx = {
    model: { numClasses: 2 },
    train: { ds: null, outputs: out(ROWS, LABELS) },
  } as unknown as DetectorContext;
  const before = tf.memory().numTensors;
  const o = relativeMahalanobisDetector.defaults;
  const state = await relativeMahalanobisDetector.fit!(ctx, o);
  const s = await relativeMahalanobisDetector.score(
    { ds: null!, outputs: out([[0.2, -0.3], [2, 3]], [0, -1]) },
    o,
    state,
    ctx,
  );
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  assert.ok(s[0]! > s[1]!, `ID ${s[0]} vs OOD ${s[1]}`);
  const wide = tf.tensor2d([[1, 2, 3]]);
  assert.throws(() => relativeMahalanobis(state, wide), /fitted on 2-d features, got 3-d/);
  wide.dispose();
  const f = tf.tensor2d(ROWS);
  assert.throws(() => fitRelativeMahalanobis(f, LABELS, { numClasses: 3 }), /class 2 has no training samples/);
  f.dispose();
});
