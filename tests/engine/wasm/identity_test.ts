import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { assertMatchesCpu, input } from "../_compare.ts";
import { assertNoLeaks, heapBuffers } from "./_leaks.ts";

await initBackend({ backend: "wasm", log: null });

Deno.test("Identity (tf.clone) matches cpu", async () => {
  await assertMatchesCpu("clone", "wasm", { x: input([10, 7], 1) }, (t) => tf.clone(tf.relu(t.x!)));
});

Deno.test("Identity shares the input buffer instead of copying it", async () => {
  await tf.setBackend("wasm");
  const x = tf.tensor(input([4, 5], 2).data, [4, 5]);
  const buffers = heapBuffers();
  const y = tf.clone(x);
  assert.equal(heapBuffers(), buffers, "no new heap buffer");
  x.dispose();
  assert.deepEqual(Array.from(await y.data()), Array.from(input([4, 5], 2).data), "outlives its input");
  y.dispose();
  assert.equal(heapBuffers(), buffers - 1, "freed with the last holder");
});

Deno.test("Identity of int32 and bool tensors keeps dtype and values", async () => {
  await tf.setBackend("wasm");
  const i = tf.tensor([1, -2, 3], [3], "int32"), b = tf.tensor([true, false], [2], "bool");
  const [ci, cb] = [tf.clone(i), tf.clone(b)];
  assert.equal(ci.dtype, "int32");
  assert.deepEqual(Array.from(await ci.data()), [1, -2, 3]);
  assert.equal(cb.dtype, "bool");
  assert.deepEqual(Array.from(await cb.data()), [1, 0]);
  tf.dispose([i, b, ci, cb]);
});

Deno.test("Identity of a string tensor goes to the stock kernel", async () => {
  await tf.setBackend("wasm");
  const s = tf.tensor(["a", "bc"]);
  const c = tf.clone(s);
  assert.deepEqual(await c.array(), ["a", "bc"]);
  tf.dispose([s, c]);
});

Deno.test("Identity leaks neither tensors nor wasm heap buffers", async () => {
  const x = tf.tensor(input([3, 3], 3).data, [3, 3]);
  await assertNoLeaks("clone", () => tf.clone(x));
  await assertNoLeaks("gradient through identity", () => tf.grad((a: tf.Tensor) => tf.sum(tf.clone(a)))(x));
  x.dispose();
});
