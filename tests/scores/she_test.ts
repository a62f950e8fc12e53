import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { fitShe, she, sheDetector } from "@lib/scores/she.ts";
import type { DetectorContext, NetOutputs } from "@lib/scores/detector.ts";
import type { Matrix } from "@lib/scores/matrix.ts";
import { assertClose } from "./_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

const m = (rows: number[][]): Matrix => ({ data: Float32Array.from(rows.flat()), dim: rows[0]!.length });

/**
 * d = 2, C = 2. Class 0: (2, 0) and (4, 0) predicted 0 (correct), (1, 1) predicted 1 (wrong, left out);
 * class 1: (0, 3) predicted 1 (correct, the only one). S₀ = (3, 0) (with the wrong row it would be (7/3, 1/3)),
 * S₁ = (0, 3).
 */
const FEATURES = [[2, 0], [4, 0], [1, 1], [0, 3]];
const LOGITS = [[1, 0], [1, 0], [0, 1], [0, 1]];
const LABELS = Int32Array.of(0, 0, 0, 1);

Deno.test("fitShe() stores the mean feature of the correctly classified training images per class", () => {
  const state = fitShe(m(FEATURES), m(LOGITS), LABELS);
  assert.deepEqual(state.patterns, [[3, 0], [0, 3]]);
  assert.deepEqual(state.counts, [2, 1]);
  assert.deepEqual(state.fallback, []);
  assert.deepEqual(JSON.parse(JSON.stringify(state)), state, "plain JSON data");
});

Deno.test("she() compares a feature with its predicted class's pattern (hand-computed, three metrics)", () => {
  const state = fitShe(m(FEATURES), m(LOGITS), LABELS);
  // (1, 1) predicted 1: ⟨(1, 1), (0, 3)⟩ = 3.  (2, 1) predicted 0: ⟨(2, 1), (3, 0)⟩ = 6.
  // A logit tie (0.5, 0.5) picks class 0 (the first maximum): ⟨(0, 2), (3, 0)⟩ = 0.
  const f = m([[1, 1], [2, 1], [0, 2]]), l = m([[0, 1], [1, 0], [0.5, 0.5]]);
  assertClose(she(state, f, l), [3, 6, 0], 1e-6, "innerProduct");
  // −‖f − S_ŷ‖: −‖(1, −2)‖ = −√5, −‖(−1, 1)‖ = −√2, −‖(−3, 2)‖ = −√13.
  assertClose(she(state, f, l, "euclidean"), [-Math.sqrt(5), -Math.sqrt(2), -Math.sqrt(13)], 1e-6, "euclidean");
  // cos: 3/(√2·3) = 1/√2, 6/(√5·3) = 2/√5, 0.
  assertClose(she(state, f, l, "cosine"), [Math.SQRT1_2, 2 / Math.sqrt(5), 0], 1e-6, "cosine");
  // A zero feature: the norm floor ε keeps the cosine at 0 instead of 0/0.
  assertClose(she(state, m([[0, 0]]), m([[1, 0]]), "cosine"), [0], 0, "zero feature");
});

Deno.test("fitShe() falls back to the class mean when no training image of a class is classified correctly", () => {
  // Class 1's only image (0, 3) is predicted 0: S₁ = its mean over all its images = (0, 3), listed as a fallback;
  // class 0 is (2, 0) alone (a class with one sample).
  const state = fitShe(m([[2, 0], [0, 3]]), m([[1, 0], [1, 0]]), Int32Array.of(0, 1));
  assert.deepEqual(state.patterns, [[2, 0], [0, 3]]);
  assert.deepEqual(state.counts, [1, 0]);
  assert.deepEqual(state.fallback, [1]);
  assert.throws(() => fitShe(m([[2, 0]]), m([[1, 0]]), Int32Array.of(0)), /class 1 has no training samples/);
  assert.throws(() => fitShe(m([[2, 0]]), m([[1, 0]]), Int32Array.of(2)), /label 0 is 2, not in \[0, 2\)/);
  assert.throws(() => she(fitShe(m(FEATURES), m(LOGITS), LABELS), m([[1, 2, 3]]), m([[1, 0]])), /patterns are 2-d/);
});

Deno.test("she detector: an ID-like feature above an OOD-like one, fitted on training outputs, no tensor leak", async () => {
  assert.deepEqual(sheDetector.defaults, { metric: "innerProduct" });
  const out = (f: number[][], l: number[][], y: number[]): NetOutputs => ({
    n: f.length,
    features: m(f),
    logits: m(l),
    labels: Int32Array.from(y),
  });
  const ctx = {
    model: { numClasses: 2 },
    train: { ds: null, outputs: out(FEATURES, LOGITS, [...LABELS]) },
  } as unknown as DetectorContext;
  const before = tf.memory().numTensors;
  const state = await sheDetector.fit!(ctx, sheDetector.defaults);
  // ID: close to S₀; OOD: a small feature in another direction, still predicted 0.
  const s = await sheDetector.score(
    { ds: null!, outputs: out([[3, 0.2], [0.3, -0.5]], [[1, 0], [0.1, 0]], [0, -1]) },
    sheDetector.defaults,
    state,
    ctx,
  );
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  assertClose(s, [9, 0.9], 1e-6);
  assert.ok(s[0]! > s[1]!);
});
