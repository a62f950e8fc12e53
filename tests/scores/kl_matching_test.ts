import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { fitKlMatching, klMatching, klMatchingDetector } from "@lib/scores/kl_matching.ts";
import type { Matrix } from "@lib/scores/matrix.ts";
import { scoreAll } from "@lib/experiment/score.ts";
import { assertClose, clusterSets, extractableStub } from "./_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

/** Logits whose softmax is exactly the given probability rows (ln p; softmax(ln p) = p when Σ p = 1). */
const logitsOf = (rows: number[][]): Matrix => ({
  data: Float32Array.from(rows.flat(), Math.log),
  dim: rows[0]!.length,
});

/**
 * Three fitting rows, C = 3: (0.5, 0.25, 0.25) and (0.7, 0.2, 0.1) are predicted 0, (0.2, 0.6, 0.2) is predicted 1,
 * none is predicted 2. Templates: d₀ = their mean (0.6, 0.225, 0.175); d₁ = the one row (a class with one sample);
 * d₂ = e₂ (no row: OpenOOD's one-hot).
 */
const FIT = [[0.5, 0.25, 0.25], [0.7, 0.2, 0.1], [0.2, 0.6, 0.2]];

Deno.test("fitKlMatching() averages the softmax by predicted class, one-hot for a class nobody is predicted as", () => {
  const state = fitKlMatching(logitsOf(FIT));
  assert.deepEqual(state.counts, [2, 1, 0]);
  assertClose(state.templates[0]!, [0.6, 0.225, 0.175], 1e-7, "d₀");
  assertClose(state.templates[1]!, [0.2, 0.6, 0.2], 1e-7, "d₁ (one sample)");
  assert.deepEqual(state.templates[2], [0, 0, 1]);
  assert.deepEqual(JSON.parse(JSON.stringify(state)), state, "plain JSON data");
});

Deno.test("klMatching() is −min_k KL(p ‖ d_k), hand-computed", () => {
  const state = fitKlMatching(logitsOf(FIT));
  // p = (0.5, 0.25, 0.25):
  //   KL(p‖d₀) = 0.5 ln(0.5/0.6) + 0.25 ln(0.25/0.225) + 0.25 ln(0.25/0.175) = −0.091161 + 0.026340 + 0.089169 = 0.024348
  //   KL(p‖d₁) = 0.5 ln 2.5 + 0.25 ln(0.25/0.6) + 0.25 ln 1.25 = 0.458145 − 0.218867 + 0.055786 = 0.295064
  //   KL(p‖e₂) = ∞ (p₀ > 0 where e₂ is 0)  → S = −0.024348 (numpy/scipy: 0.0243480865)
  // p = d₁ → 0 (its own template).  p = (0, 0, 1) exactly (logits −1000, −1000, 0 underflow in float64): KL(p‖e₂) = 0
  //   (the p = 0 terms add 0), while KL(p‖d₀) = ln(1/0.175) = 1.742969 → S = 0.
  const s = klMatching(state, {
    data: Float32Array.of(...[0.5, 0.25, 0.25].map(Math.log), ...[0.2, 0.6, 0.2].map(Math.log), -1000, -1000, 0),
    dim: 3,
  });
  assertClose(s, [-0.0243480865, 0, 0], 1e-6);
});

Deno.test("klMatching() is −∞ when every template is 0 where p is not (scipy's rel_entr), never NaN", () => {
  // Fitting rows (1, 0) exactly → d₀ = (1, 0); nobody predicted 1 → d₁ = (0, 1). p = (½, ½) matches neither.
  const state = fitKlMatching({ data: Float32Array.of(0, -1000), dim: 2 });
  assert.deepEqual(state.templates, [[1, 0], [0, 1]]);
  const s = klMatching(state, { data: Float32Array.of(0, 0, 0, -1000), dim: 2 });
  assert.deepEqual([...s], [-Infinity, 0]);
});

Deno.test("klMatching() orders a typical (ID-like) posterior above a flat (OOD-like) one; sizes are checked", () => {
  const state = fitKlMatching(logitsOf(FIT));
  const s = klMatching(state, logitsOf([[0.65, 0.2, 0.15], [1 / 3, 1 / 3, 1 / 3]]));
  assert.ok(s[0]! > s[1]!, `ID ${s[0]} vs OOD ${s[1]}`);
  assert.throws(() => klMatching(state, { data: new Float32Array(4), dim: 2 }), /state has 3 classes, the logits 2/);
  assert.throws(() => fitKlMatching({ data: new Float32Array(0), dim: 3 }), /no fitting logits/);
  assert.throws(() => fitKlMatching({ data: Float32Array.of(0, NaN), dim: 2 }), /logit row 0 is not finite/);
});

Deno.test("klMatching detector: templates from the training outputs or the held-out images, no tensor leak", async () => {
  assert.deepEqual(klMatchingDetector.defaults, { fitOn: "train" });
  const net = extractableStub();
  const sets = clusterSets();
  const before = tf.memory().numTensors;
  const train = await scoreAll(net, sets, [{ use: "klMatching" }], { batchSize: 32, seed: 0 });
  const held = await scoreAll(net, sets, [{ use: "klMatching", opts: { fitOn: "heldOut" } }], {
    batchSize: 32,
    seed: 0,
  });
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  const count = (st: unknown) => (st as { counts: number[] }).counts.reduce((a, b) => a + b, 0);
  assert.equal(count(train.states.klMatching), sets.train.shape[0]);
  assert.equal(count(held.states.klMatching), sets.heldOut.shape[0]);
  // The held-out templates are fitKlMatching of the network's logits on those images.
  const heldLogits = await scoreAll(net, { ...sets, test: sets.heldOut }, [{ use: "entropy" }], {
    batchSize: 32,
    seed: 0,
  });
  assert.deepEqual(held.states.klMatching, fitKlMatching(heldLogits.outputs.test.logits));
  await assert.rejects(
    () => klMatchingDetector.fit!({ ...train.context, heldOut: undefined }, { fitOn: "heldOut" }) as Promise<unknown>,
    /no held-out images/,
  );
  net.dispose();
});
