import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import {
  fitMahalanobisEnsemble,
  mahalanobisEnsemble,
  mahalanobisEnsembleFromInput,
  type MahalanobisEnsembleState,
} from "@lib/scores/mahalanobis_ensemble.ts";
import type { FeatureListModel } from "@lib/scores/types.ts";
import { assertClose, noLeak, noLeakFit } from "./_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

const LABELS = [0, 0, 1, 1];
/** Layer 0: P = 2·I, μ = (0,0), (4,0).  Layer 1: P = diag(0.5, 2), μ = (0,0), (4,0). (See mahalanobis_test.ts.) */
const LAYER0 = [[-1, 0], [1, 0], [4, -1], [4, 1]];
const LAYER1 = [[-2, 0], [2, 0], [4, -1], [4, 1]];

function fitLayers(layers: number[][][], weights?: number[]): MahalanobisEnsembleState {
  const fs = layers.map((rows) => tf.tensor2d(rows));
  try {
    return noLeakFit(() => fitMahalanobisEnsemble(fs, LABELS, weights ? { weights } : {}));
  } finally {
    tf.dispose(fs);
  }
}

Deno.test("mahalanobisEnsemble() is Σ_ℓ w_ℓ·max_c −D_ℓc, w = 1/L by default (hand-computed)", () => {
  const query = [tf.tensor2d([[1, 0]]), tf.tensor2d([[1, 1]])];
  // Layer 0 at (1, 0): −2 (D₀ = 2·1). Layer 1 at (1, 1): −2.5 (D₀ = 0.5 + 2). Mean: −2.25.
  const mean = fitLayers([LAYER0, LAYER1]);
  assert.deepEqual(mean.weights, [0.5, 0.5]);
  assertClose(noLeak(() => mahalanobisEnsemble(mean, query)), [-2.25], 1e-5, "mean");
  // Weights (1, 3): −2 − 7.5 = −9.5
  assertClose(noLeak(() => mahalanobisEnsemble(fitLayers([LAYER0, LAYER1], [1, 3]), query)), [-9.5], 1e-5, "weighted");
  assert.throws(() => mahalanobisEnsemble(mean, [query[0]!]), /1 feature layers for a 2-layer state/);
  const copy = JSON.parse(JSON.stringify(mean)) as MahalanobisEnsembleState;
  assertClose(noLeak(() => mahalanobisEnsemble(copy, query)), [-2.25], 1e-5, "JSON round trip");
  tf.dispose(query);
});

/** A one-layer model on inputs [N, 1, 1, 2]: featureList(x) = [x as [N, 2]]; std (0.5, 0.25). */
const model: FeatureListModel = {
  featureList: (x) => [tf.reshape(x, [x.shape[0], 2]) as tf.Tensor2D],
  normalization: { mean: [0, 0], std: [0.5, 0.25] },
};

Deno.test("mahalanobisEnsembleFromInput() steps x − ε·sign(∇D_ĉ)/std before scoring (hand-computed)", () => {
  const state = fitLayers([LAYER1]); // P = diag(0.5, 2), μ₀ = (0, 0), μ₁ = (4, 0)
  const x = tf.tensor4d([1, 1, 3, 0.5], [2, 1, 1, 2]);
  // Row 0: x = (1, 1), ĉ = 0 (D₀ = 2.5 < D₁ = 6.5); ∇D₀ = 2P(x − μ₀) = (1, 4) → signs (+, +).
  //   divided, ε = 0.1: x̃ = (1 − 0.2, 1 − 0.4) = (0.8, 0.6) → D₀ = 0.5·0.64 + 2·0.36 = 1.04 → −1.04
  // Row 1: x = (3, 0.5), ĉ = 1 (D₀ = 5, D₁ = 1); ∇D₁ = (x₀ − 4, 4x₁) = (−1, 2) → signs (−, +).
  //   x̃ = (3 + 0.2, 0.5 − 0.4) = (3.2, 0.1) → D₁ = 0.5·0.64 + 2·0.01 = 0.34 → −0.34
  const divided = noLeak(() => mahalanobisEnsembleFromInput(state, model, x, { noiseMagnitude: 0.1 }));
  assertClose(divided, [-1.04, -0.34], 1e-5, "divided");
  // Not divided: x̃ = (0.9, 0.9) → D₀ = 0.405 + 1.62 = 2.025; (3.1, 0.4) → D₁ = 0.405 + 0.32 = 0.725
  const plain = noLeak(() =>
    mahalanobisEnsembleFromInput(state, model, x, { noiseMagnitude: 0.1, divideBySignStd: false, batchSize: 1 })
  );
  assertClose(plain, [-2.025, -0.725], 1e-5, "not divided");
  // ε = 0: no preprocessing, equals the feature-list score: −2.5 and −1
  const none = noLeak(() => mahalanobisEnsembleFromInput(state, model, x));
  assertClose(none, [-2.5, -1], 1e-5, "ε=0");
  x.dispose();
});

Deno.test("mahalanobisEnsembleFromInput() needs featureList and, for the division, normalization.std", () => {
  const state = fitLayers([LAYER1]);
  const x = tf.tensor4d([1, 1], [1, 1, 1, 2]);
  const before = tf.memory().numTensors;
  assert.throws(() => mahalanobisEnsembleFromInput(state, {}, x), /the model has no featureList/);
  assert.throws(
    () => mahalanobisEnsembleFromInput(state, { featureList: model.featureList }, x, { noiseMagnitude: 0.1 }),
    /divideBySignStd is true but the model has no normalization\.std/,
  );
  assert.throws(
    () => mahalanobisEnsembleFromInput(fitLayers([LAYER0, LAYER1]), model, x),
    /featureList returned 1 layers, the state has 2/,
  );
  assert.equal(tf.memory().numTensors, before, "the failed calls leave no tensors");
  x.dispose();
});
