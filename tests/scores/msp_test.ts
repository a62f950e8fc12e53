import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { msp } from "@lib/scores/msp.ts";
import { assertClose, noLeak } from "./_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

Deno.test("msp() equals max_c softmax(f/T)_c on a hand-computed 3×2 example", () => {
  const logits = tf.tensor2d([[0, Math.log(3)], [1, 1], [Math.log(4), 0]]);
  // softmax([0, ln 3]) = [1/4, 3/4] → 0.75; equal logits → 1/2; softmax([ln 4, 0]) = [4/5, 1/5] → 0.8
  assertClose(noLeak(() => msp(logits)), [0.75, 0.5, 0.8], 1e-6, "T=1");
  // T = 2: softmax([0, ln 3 / 2]) = [1/(1+√3), √3/(1+√3)] → 0.633975; softmax([ln 4 / 2, 0]) = [2/3, 1/3] → 0.666667
  assertClose(
    noLeak(() => msp(logits, { temperature: 2 })),
    [Math.sqrt(3) / (1 + Math.sqrt(3)), 0.5, 2 / 3],
    1e-6,
    "T=2",
  );
  logits.dispose();
});

Deno.test("msp() is stable for large logits and leaves no tensors", () => {
  const logits = tf.tensor2d([[1000, 1000, -1000]]);
  assertClose(noLeak(() => msp(logits)), [0.5], 1e-6);
  logits.dispose();
});

Deno.test("msp() rejects a non-2-D input and a bad temperature", () => {
  const v = tf.tensor1d([1, 2]);
  const l = tf.tensor2d([[1, 2]]);
  assert.throws(() => msp(v as unknown as tf.Tensor2D), /msp: logits must be a 2-D tensor/);
  assert.throws(() => msp(l, { temperature: 0 }), /msp: temperature must be a positive finite number/);
  tf.dispose([v, l]);
});
