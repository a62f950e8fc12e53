import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { odin } from "@lib/scores/odin.ts";
import type { LogitModel } from "@lib/scores/types.ts";
import { assertClose, noLeak } from "./_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** logits = the two input channels: f(x) = (x₀, x₁); normalisation std (0.5, 0.25). */
const identityModel: LogitModel = {
  logits: (x) => tf.reshape(x, [x.shape[0], 2]),
  normalization: { mean: [0, 0], std: [0.5, 0.25] },
};

Deno.test("odin() perturbs by ε·sign(−∇ log S_ŷ)/std and takes max softmax(f/T): hand-computed 2-class example", () => {
  const x = tf.tensor4d([1, 0, 0, 2], [2, 1, 1, 2]);
  // Row 0: x = (1, 0), ŷ = 0. ∂CE/∂x₀ = −(1 − p₀)/T < 0 → sign −1; ∂CE/∂x₁ = p₁/T > 0 → sign +1.
  //   divided by std (0.5, 0.25), ε = 0.1: x̃ = (1 + 0.2, 0 − 0.4) = (1.2, −0.4) → T=1: p₀ = σ(1.6) = 0.832018
  // Row 1: x = (0, 2), ŷ = 1: signs (+1, −1) → x̃ = (−0.2, 2.4) → p₁ = σ(2.6) = 0.930862
  const divided = noLeak(() => odin(identityModel, x, { temperature: 1, epsilon: 0.1 }));
  assertClose(divided, [sigmoid(1.6), sigmoid(2.6)], 1e-6, "divided, T=1");
  // Not divided: x̃ = (1.1, −0.1) → σ(1.2) = 0.768525; (−0.1, 2.1) → σ(2.2) = 0.900250
  const plain = noLeak(() => odin(identityModel, x, { temperature: 1, epsilon: 0.1, divideBySignStd: false }));
  assertClose(plain, [sigmoid(1.2), sigmoid(2.2)], 1e-6, "not divided");
  // T = 2, divided: same x̃ (the sign does not depend on T): softmax((1.2, −0.4)/2) → σ(0.8) = 0.689974; σ(1.3) = 0.785835
  const t2 = noLeak(() => odin(identityModel, x, { temperature: 2, epsilon: 0.1 }));
  assertClose(t2, [sigmoid(0.8), sigmoid(1.3)], 1e-6, "T=2");
  // ε = 0 is temperature-scaled MSP: σ(1/2) = 0.622459, σ(2/2) = 0.731059
  const noNoise = noLeak(() => odin(identityModel, x, { temperature: 2, epsilon: 0 }));
  assertClose(noNoise, [sigmoid(0.5), sigmoid(1)], 1e-6, "ε=0");
  x.dispose();
});

Deno.test("odin() gives the same scores batch by batch and leaves no tensors", () => {
  const x = tf.tensor4d([1, 0, 0, 2, 0.3, -0.2, -1, 4, 2, 2.5], [5, 1, 1, 2]);
  const whole = noLeak(() => odin(identityModel, x, { temperature: 1000 }));
  const batched = noLeak(() => odin(identityModel, x, { temperature: 1000, batchSize: 2 }));
  assertClose(batched, whole, 1e-7);
  assert.equal(whole.length, 5);
  x.dispose();
});

Deno.test("odin() throws a clear error when the std division needs a normalization that is missing", () => {
  const x = tf.tensor4d([1, 0], [1, 1, 1, 2]);
  const bare: LogitModel = { logits: identityModel.logits };
  assert.throws(() => odin(bare, x), /odin: divideBySignStd is true but the model has no normalization\.std/);
  assert.throws(
    () => odin({ ...identityModel, normalization: { mean: [0, 0, 0], std: [1, 1, 1] } }, x),
    /odin: normalization\.std has 3 values for 2-channel inputs/,
  );
  // Without the division no std is needed; an explicit normalization overrides the model's.
  assert.equal(noLeak(() => odin(bare, x, { divideBySignStd: false })).length, 1);
  const viaOpts = noLeak(() =>
    odin(bare, x, { temperature: 1, epsilon: 0.1, normalization: identityModel.normalization })
  );
  assertClose(viaOpts, [sigmoid(1.6)], 1e-6);
  assert.throws(() => odin(identityModel, x, { epsilon: -1 }), /odin: epsilon must be a finite number ≥ 0/);
  x.dispose();
});
