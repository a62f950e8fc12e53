/**
 * DICE (Sun & Li 2022): the contribution mask fitted on training features and the Energy through the sparsified
 * layer. Expected values by hand; percentiles and logsumexps from numpy 2.4 (`np.percentile`, `np.logaddexp`).
 */
import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { dice, diceDetector, fitDice } from "@lib/scores/dice.ts";
import type { DetectorContext, LastLayer, NetOutputs } from "@lib/scores/detector.ts";
import { assertClose, noLeak, noLeakFit } from "./_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

/** d = 3, C = 2: W = [[1, −1], [2, 0.5], [4, 4]], b = (0, 1). */
const LAYER: LastLayer = {
  kernel: { data: Float32Array.of(1, -1, 2, 0.5, 4, 4), dim: 2 },
  bias: Float32Array.of(0, 1),
};
/** Mean feature h̄ = (2, 1, 0) → contributions h̄_k·W_kc = [[2, −2], [2, 0.5], [0, 0]]. */
const TRAIN = [[1, 2, 0], [3, 0, 0]];

Deno.test("fitDice() keeps the weights whose contribution h̄_k·W_kc exceeds its p-th percentile", () => {
  const train = tf.tensor2d(TRAIN);
  // np.percentile([2, −2, 2, 0.5, 0, 0], 50) = 0.25 → kept: 2, 2, 0.5 (W₀₀, W₁₀, W₁₁).
  const state = noLeakFit(() => fitDice(train, LAYER, { p: 50 }));
  assert.equal(state.threshold, 0.25);
  assert.equal(state.kept, 3);
  assert.deepEqual([...state.meanFeature], [2, 1, 0]);
  assert.deepEqual([...state.kernel], [1, 0, 2, 0.5, 0, 0]);
  assert.deepEqual([...state.bias], [0, 1]);
  assert.deepEqual([state.dim, state.numClasses, state.p], [3, 2, 50]);
  // p = 0: threshold = min = −2, everything above it kept (5 weights).
  assert.equal(fitDice(train, LAYER, { p: 0 }).kept, 5);
  train.dispose();
});

Deno.test("fitDice() drops contributions equal to the threshold (ties at the percentile can keep none)", () => {
  const train = tf.tensor2d(TRAIN);
  // np.percentile([2, −2, 2, 0.5, 0, 0], 90) = 2.0: both 2s tie with it and `contrib > thresh` drops them.
  const state = fitDice(train, LAYER, { p: 90 });
  assert.equal(state.threshold, 2);
  assert.equal(state.kept, 0);
  assert.deepEqual([...state.kernel], [0, 0, 0, 0, 0, 0]);
  // Every input then scores logsumexp(b) = np.logaddexp(0, 1) = 1.313261688.
  const x = tf.tensor2d([[1, 1, 1], [9, -3, 2]]);
  assertClose(noLeak(() => dice(state, x)), [1.313261688, 1.313261688], 1e-6);
  tf.dispose([train, x]);
});

Deno.test("dice() is the Energy through the masked layer (hand-computed)", () => {
  const train = tf.tensor2d(TRAIN);
  const state = fitDice(train, LAYER, { p: 50 });
  const x = tf.tensor2d([[1, 1, 1], [0, 0, 5]]);
  // Row 0: z = (1 + 2, 0.5) + b = (3, 1.5): np.logaddexp(3, 1.5) = 3.201413278 (the full layer would give (7, 4.5)).
  // Row 1: unit 2 is masked out entirely → z = b: 1.313261688.
  assertClose(noLeak(() => dice(state, x)), [3.201413278, 1.313261688], 1e-5);
  const narrow = tf.tensor2d([[1, 1]]);
  assert.throws(() => dice(state, narrow), /fitted on 3-d features, got 2-d/);
  tf.dispose([train, x, narrow]);
});

Deno.test("fitDice() on a single training sample uses it as the mean; bad inputs throw", () => {
  const one = tf.tensor2d([[2, 1, 0]]);
  assert.deepEqual([...fitDice(one, LAYER, { p: 50 }).kernel], [1, 0, 2, 0.5, 0, 0]);
  const narrow = tf.tensor2d([[1, 2]]), nan = tf.tensor2d([[1, NaN, 0]]);
  assert.throws(() => fitDice(narrow, LAYER), /takes 3-d features, got 2-d/);
  assert.throws(() => fitDice(nan, LAYER), /row 0 is not finite/);
  assert.throws(() => fitDice(one, LAYER, { p: 120 }), /percentile in \[0, 100\]/);
  tf.dispose([one, narrow, nan]);
});

Deno.test("dice() orders an ID input above an OOD input that fires a unit rarely active in training", () => {
  // Unit 2 carries big weights to both classes but is almost silent on training data, so DICE masks it.
  const layer: LastLayer = { kernel: { data: Float32Array.of(2, 0, 0, 2, 3, 3), dim: 2 }, bias: new Float32Array(2) };
  const train = tf.tensor2d([[3, 0, 0], [0, 3, 0], [3, 0, 0.1], [0, 3, 0.1]]);
  const state = fitDice(train, layer, { p: 50 }); // contributions [[3, 0], [0, 3], [0.15, 0.15]], threshold 0.15
  assert.deepEqual([...state.kernel], [2, 0, 0, 2, 0, 0]);
  const x = tf.tensor2d([[3, 0, 0], [0.5, 0.5, 4]]); // ID, OOD
  const [id, ood] = noLeak(() => dice(state, x));
  assertClose([id!, ood!], [6.002475685, 1.693147181], 1e-5); // z = (6, 0) and (1, 1)
  // Plain Energy through the full layer ranks them the other way: z_OOD = (13, 13) → 13.693.
  tf.dispose([train, x]);
});

Deno.test("diceDetector: p = 90, fits on training features with the model's last layer, errors without one", async () => {
  const outputs = (rows: number[][]): NetOutputs => ({
    n: rows.length,
    logits: { data: new Float32Array(rows.length * 2), dim: 2 },
    features: { data: Float32Array.from(rows.flat()), dim: 3 },
    labels: new Int32Array(rows.length),
  });
  const ctx = {
    model: { numClasses: 2, lastLayer: () => LAYER },
    train: { outputs: outputs(TRAIN) },
  } as unknown as DetectorContext;
  assert.deepEqual(diceDetector.defaults, { p: 90 });
  const state = await diceDetector.fit!(ctx, { p: 50 });
  assert.deepEqual([...state.kernel], [1, 0, 2, 0.5, 0, 0]);
  const set = { outputs: outputs([[1, 1, 1]]) } as Parameters<typeof diceDetector.score>[0];
  assertClose(await diceDetector.score(set, { p: 50 }, state, ctx), [3.201413278], 1e-5);
  const noLayer = { ...ctx, model: { numClasses: 2 } } as unknown as DetectorContext;
  assert.throws(
    () => diceDetector.fit!(noLayer, diceDetector.defaults),
    /DICE needs the classifier's last linear layer/,
  );
});
