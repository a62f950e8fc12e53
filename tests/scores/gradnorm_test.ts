/**
 * GradNorm (Huang et al. 2021): the closed form against hand-computed values and against `tf.grad` of the loss the
 * reference code back-propagates (Σ_c −log softmax(z/T)_c, one sample at a time, |∂L/∂W| summed).
 */
import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { gradNorm, gradNormDetector } from "@lib/scores/gradnorm.ts";
import type { DetectorContext, LastLayer } from "@lib/scores/detector.ts";
import { assertClose, noLeak } from "./_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

const IDENTITY: LastLayer = { kernel: { data: Float32Array.of(1, 0, 0, 1), dim: 2 }, bias: new Float32Array(2) };

Deno.test("gradNorm() = (1/T)·‖h‖₁·Σ_c |C·p_c − 1| on hand-computed 2-class examples", () => {
  const h = tf.tensor2d([[Math.log(3), 0], [0, 0], [1, 1], [-2, 0]]);
  // Row 0: z = (ln 3, 0), p = (¾, ¼): Σ|2p − 1| = ½ + ½ = 1, ‖h‖₁ = ln 3 → 1.098612289.
  // Row 1: zero feature → 0 (the gradient h_k·∂L/∂z_c vanishes).
  // Row 2: z = (1, 1), uniform p → Σ|2p − 1| = 0 → 0.
  // Row 3: z = (−2, 0), p = (1/(1 + e²), e²/(1 + e²)): Σ|2p − 1| = 2·tanh(1) = 1.523188312, ‖h‖₁ = 2 → 3.046376623.
  assertClose(noLeak(() => gradNorm(h, IDENTITY)), [Math.log(3), 0, 0, 4 * Math.tanh(1)], 1e-5);
  // T = 2 on (2 ln 3, 0): z/T = (ln 3, 0) again, ‖h‖₁ = 2 ln 3, times 1/T → ln 3.
  const h2 = tf.tensor2d([[2 * Math.log(3), 0]]);
  assertClose(noLeak(() => gradNorm(h2, IDENTITY, { temperature: 2 })), [Math.log(3)], 1e-5);
  assert.throws(() => gradNorm(h2, IDENTITY, { temperature: 0 }), /temperature must be a positive/);
  tf.dispose([h, h2]);
});

Deno.test("gradNorm() equals the L1 norm of tf.grad of the reference code's loss w.r.t. W (3 classes, bias, T = 1 and 2)", () => {
  const kernel = Float32Array.of(0.5, -1, 0.2, 1.5, 0.3, -0.7, -0.4, 0.8, 1.1, 0.0, -0.2, 0.6); // [4, 3]
  const layer: LastLayer = { kernel: { data: kernel, dim: 3 }, bias: Float32Array.of(0.1, -0.3, 0.25) };
  const rows = [[1, 0, 2, 0.5], [0.3, -1.2, 0.7, 2], [3, 3, 0, -1], [0, 0, 0, 0.01]];
  const h = tf.tensor2d(rows);
  for (const t of [1, 2]) {
    const expected = rows.map((row) =>
      tf.tidy(() => {
        const x = tf.tensor2d([row]), b = tf.tensor1d(layer.bias);
        // L(W) = Σ_c −log softmax((xW + b)/T)_c (targets all ones), as `iterate_data_gradnorm` with batch size 1.
        const loss = (w: tf.Tensor) =>
          tf.neg(tf.sum(tf.logSoftmax(tf.div(tf.add(tf.matMul(x, w as tf.Tensor2D), b), t))));
        const g = tf.grad(loss)(tf.tensor2d(kernel, [4, 3]));
        return tf.sum(tf.abs(g)).dataSync()[0]!;
      })
    );
    assertClose(noLeak(() => gradNorm(h, layer, { temperature: t })), expected, 1e-4, `T = ${t}`);
  }
  h.dispose();
});

Deno.test("gradNorm() orders a confident ID input above a diffuse OOD input", () => {
  const layer: LastLayer = {
    kernel: { data: Float32Array.of(2, 0, 0, 0, 2, 0, 0, 0, 2), dim: 3 },
    bias: new Float32Array(3),
  };
  const x = tf.tensor2d([[4, 0.2, 0.1], [1.5, 1.4, 1.6]]); // ID: one class dominates; OOD: near-uniform softmax
  const [id, ood] = noLeak(() => gradNorm(x, layer));
  assert.ok(id! > ood!, `ID ${id} > OOD ${ood}`);
  x.dispose();
});

Deno.test("gradNormDetector: T = 1, no fit, scores through the model's last layer, errors without one", async () => {
  const set = {
    outputs: { features: { data: Float32Array.of(Math.log(3), 0), dim: 2 } },
  } as unknown as Parameters<typeof gradNormDetector.score>[0];
  const ctx = { model: { numClasses: 2, lastLayer: () => IDENTITY } } as unknown as DetectorContext;
  assert.deepEqual(gradNormDetector.defaults, { temperature: 1 });
  assert.equal(gradNormDetector.fit, undefined);
  assertClose(await gradNormDetector.score(set, gradNormDetector.defaults, null, ctx), [Math.log(3)], 1e-5);
  const wrongClasses = { model: { numClasses: 3, lastLayer: () => IDENTITY } } as unknown as DetectorContext;
  assert.throws(
    () => gradNormDetector.score(set, gradNormDetector.defaults, null, wrongClasses),
    /malformed last layer/,
  );
  const noLayer = { model: { numClasses: 2 } } as unknown as DetectorContext;
  assert.throws(() => gradNormDetector.score(set, gradNormDetector.defaults, null, noLayer), /GradNorm needs the/);
});
