/**
 * ReAct (Sun et al. 2021) and the numpy-compatible percentile it thresholds with. Expected values are by hand or
 * from numpy 2.4 (`np.percentile`, default linear method; `np.round`; `np.logaddexp`), quoted next to each.
 */
import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { fitReact, react, reactDetector } from "@lib/scores/react.ts";
import { percentile, roundHalfEven } from "@lib/scores/_last_layer.ts";
import type { DetectorContext, LastLayer, NetOutputs } from "@lib/scores/detector.ts";
import { assertClose, noLeak, noLeakFit } from "./_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

/** A 3-feature, 2-class last layer: z₀ = h₀ + h₂, z₁ = h₁ − h₂ + 0.5. */
const LAYER: LastLayer = {
  kernel: { data: Float32Array.of(1, 0, 0, 1, 1, -1), dim: 2 },
  bias: Float32Array.of(0, 0.5),
};

Deno.test("percentile() equals np.percentile (linear) on unsorted values with ties, at every p", () => {
  const x = [0.3, -1.2, 2.5, 2.5, 0.7, 4.1, -0.2, 2.5, 1.9, 3.3, 0.0];
  // np.percentile(x, p) for p = 0, 10, 33, 50, 75, 90, 99, 100:
  const expected: [number, number][] = [[0, -1.2], [10, -0.2], [33, 0.42], [50, 1.9], [75, 2.5], [90, 3.3], [
    99,
    4.02,
  ], [100, 4.1]];
  for (const [p, e] of expected) assertClose([percentile(x, p)], [e], 1e-12, `p = ${p}`);
  assert.equal(percentile([1, 2, 3, 4], 90), 3.7); // h = 2.7: 3 + 0.7·1
  assert.equal(percentile([7], 42), 7);
  // Ties at the percentile: 80% zeros, so every p ≤ 75 (h ≤ 3) lands on 0; p = 90 interpolates 0.6 of the way to 5.
  assert.equal(percentile([0, 5, 0, 0, 0], 75), 0);
  assertClose([percentile([0, 5, 0, 0, 0], 90)], [3], 1e-12);
  assert.throws(() => percentile([], 50), /no values/);
  assert.throws(() => percentile([1, NaN], 50), /value 1 is NaN/);
  assert.throws(() => percentile([1], 101), /percentile in \[0, 100\]/);
});

Deno.test("percentile() agrees with a sort on larger random inputs (quickselect check)", () => {
  let seed = 1;
  const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  for (const n of [2, 3, 10, 101, 1000]) {
    const x = Array.from({ length: n }, () => Math.round(rand() * 20) / 4); // many ties
    const sorted = [...x].sort((a, b) => a - b);
    for (const p of [0, 1, 25, 50, 90, 99.5, 100]) {
      const h = (n - 1) * p / 100, lo = Math.floor(h), hi = Math.min(lo + 1, n - 1);
      const ref = sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
      assertClose([percentile(x, p)], [ref], 1e-12, `n = ${n}, p = ${p}`);
    }
  }
});

Deno.test("roundHalfEven() rounds like np.round", () => {
  // np.round([0.5, 1.5, 2.5, -0.5, -1.5, 460.8, 6.5, 2.6]) = [0, 2, 2, -0, -2, 461, 6, 3]
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, 460.8, 6.5, 2.6].map(roundHalfEven), [0, 2, 2, -0, -2, 461, 6, 3]);
});

Deno.test("fitReact() takes the p-th percentile of all training activations, flattened", () => {
  const train = tf.tensor2d([[0, 1, 2], [3, 4, 5]]);
  // Flattened 0..5: h = 5·0.9 = 4.5 → 4.5 (a per-channel percentile would give 2.7, 3.7, 4.7 instead).
  const state = noLeakFit(() => fitReact(train));
  assert.deepEqual(state, { kind: "react", percentile: 90, threshold: 4.5 });
  assert.equal(fitReact(train, { percentile: 50 }).threshold, 2.5);
  assert.throws(() => fitReact(train, { percentile: -1 }), /percentile in \[0, 100\]/);
  train.dispose();
});

Deno.test("react() clips activations above c only, then takes the Energy through the last layer", () => {
  const state = { kind: "react" as const, percentile: 90, threshold: 4.5 };
  const h = tf.tensor2d([[6, 1, 2], [1, -3, 0], [4.5, 4.5, 9]]);
  // Row 0: (4.5, 1, 2) → z = (6.5, −0.5): np.logaddexp(6.5, −0.5) = 6.500911466
  // Row 1: below c, negative activation unchanged → z = (1, −2.5): np.logaddexp(1, −2.5) = 1.029750264
  // Row 2: (4.5, 4.5, 4.5), a tie at c stays → z = (9, 0.5): np.logaddexp(9, 0.5) = 9.000203468
  const s = noLeak(() => react(state, h, LAYER));
  assertClose(s, [6.500911466, 1.029750264, 9.000203468], 1e-5);
  h.dispose();
});

Deno.test("react() with c = 0 (more than p% of training activations are 0) scores every input logsumexp(b)", () => {
  // Sparse post-ReLU features: 5 of 6 training activations are 0. p = 75: h = 5·0.75 = 3.75 falls between the
  // 4th and 5th zero, so c = 0 and every activation is clipped to ≤ 0; logits = b → log(1 + e^0.5).
  const train = tf.tensor2d([[0, 0, 0], [0, 0, 7]]);
  const state = fitReact(train, { percentile: 75 });
  assert.equal(state.threshold, 0);
  const h = tf.tensor2d([[3, 2, 1], [0, 0, 9]]);
  assertClose(noLeak(() => react(state, h, LAYER)), [Math.log(1 + Math.exp(0.5)), Math.log(1 + Math.exp(0.5))], 1e-6);
  tf.dispose([train, h]);
});

Deno.test("react() orders an ID input above an OOD input whose one huge activation fools plain Energy", () => {
  // Unit 2 feeds both classes; the OOD input spikes it. Training activations are at most 3.
  const layer: LastLayer = { kernel: { data: Float32Array.of(2, 0, 0, 2, 1, 1), dim: 2 }, bias: new Float32Array(2) };
  const train = tf.tensor2d([[3, 0, 0.5], [0, 3, 0.5], [2.5, 0.5, 0], [0.5, 2.5, 0]]);
  const state = fitReact(train); // 12 values, h = 9.9 → 2.5 + 0.9·(3 − 2.5) = 2.95
  assertClose([state.threshold], [2.95], 1e-12);
  const x = tf.tensor2d([[3, 0, 0], [0, 0, 50]]); // ID, OOD
  const [id, ood] = noLeak(() => react(state, x, layer));
  assert.ok(id! > ood!, `ReAct: ID ${id} > OOD ${ood}`);
  const noClip = noLeak(() => react({ ...state, threshold: 1e9 }, x, layer)); // = Energy
  assert.ok(noClip[1]! > noClip[0]!, "without clipping the spike wins");
  tf.dispose([train, x]);
});

Deno.test("reactDetector: fits on training outputs, scores through the model's last layer, errors without one", async () => {
  const outputs = (rows: number[][]): NetOutputs => ({
    n: rows.length,
    logits: { data: new Float32Array(rows.length * 2), dim: 2 },
    features: { data: Float32Array.from(rows.flat()), dim: 3 },
    labels: new Int32Array(rows.length),
  });
  const model = { numClasses: 2, lastLayer: () => LAYER } as unknown as DetectorContext["model"];
  const ctx = { model, train: { outputs: outputs([[0, 1, 2], [3, 4, 5]]) } } as unknown as DetectorContext;
  const state = await reactDetector.fit!(ctx, reactDetector.defaults);
  assert.equal(state.threshold, 4.5);
  const set = { outputs: outputs([[6, 1, 2]]) } as Parameters<typeof reactDetector.score>[0];
  assertClose(await reactDetector.score(set, reactDetector.defaults, state, ctx), [6.500911466], 1e-5);
  const noLayer = { ...ctx, model: { numClasses: 2 } } as unknown as DetectorContext;
  assert.throws(
    () => reactDetector.fit!(noLayer, reactDetector.defaults),
    /ReAct needs the classifier's last linear layer/,
  );
});
