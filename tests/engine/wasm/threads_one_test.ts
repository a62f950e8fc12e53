import assert from "node:assert/strict";
import { tf, tfwasm } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";

const report = await initBackend({ backend: "wasm", threads: 1, log: null });

Deno.test("threads: 1 starts the stock single-threaded SIMD build", () => {
  assert.equal(tfwasm.getThreadsCount(), 1);
  assert.equal(report.threads, 1);
  assert.equal(tf.getBackend(), "wasm");
  assert.doesNotMatch(report.description, /threaded/);
});

Deno.test("the training kernels are registered on the single-threaded build too", async () => {
  const x = tf.ones([1, 4, 4, 1]) as tf.Tensor4D;
  const w = tf.ones([3, 3, 1, 1]);
  const dw = tf.grad((v: tf.Tensor) => tf.sum(tf.conv2d(x, v as tf.Tensor4D, 1, "valid")))(w);
  assert.deepEqual(Array.from(await dw.data()), new Array(9).fill(4));
  tf.dispose([x, w, dw]);
});
