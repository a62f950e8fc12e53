import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { assertMatchesCpu, input } from "../_compare.ts";
import { assertNoLeaks, heapBuffers } from "./_leaks.ts";

await initBackend({ backend: "wasm", log: null });

Deno.test("Cast float32 → float32 matches cpu and shares the buffer", async () => {
  await assertMatchesCpu("same dtype", "wasm", { x: input([6, 5], 1) }, (t) => tf.cast(t.x!, "float32"));
  await tf.setBackend("wasm");
  const x = tf.tensor(input([6, 5], 1).data, [6, 5]);
  const buffers = heapBuffers();
  const y = tf.cast(x, "float32");
  assert.equal(heapBuffers(), buffers, "no new heap buffer");
  x.dispose();
  assert.deepEqual(Array.from(await y.data()), Array.from(input([6, 5], 1).data), "outlives its input");
  y.dispose();
});

Deno.test("Cast between dtypes converts like cpu (stock kernel)", async () => {
  await assertMatchesCpu(
    "float32 → int32 → float32",
    "wasm",
    { x: input([4, 6], 2, (v) => v * 50) },
    (t) => tf.cast(tf.cast(t.x!, "int32"), "float32"),
  );
  await assertMatchesCpu(
    "float32 → bool → float32",
    "wasm",
    { x: input([4, 6], 3, (v) => Math.round(v)) },
    (t) => tf.cast(tf.cast(t.x!, "bool"), "float32"),
  );
  await tf.setBackend("wasm");
  const y = tf.tidy(() => tf.cast(tf.tensor([1, 2, 3], [3], "int32"), "float32"));
  assert.equal(y.dtype, "float32");
  assert.deepEqual(Array.from(await y.data()), [1, 2, 3]);
  y.dispose();
});

Deno.test("Cast to bool is x ≠ 0 for float32 and int32 (the stock wasm kernel gave 2 and 255)", async () => {
  await tf.setBackend("wasm");
  const f = tf.tensor([0, 2, -1, 0.5, NaN, -0, 1e-30]), i = tf.tensor([0, 2, -1, 7], [4], "int32");
  const [bf, bi] = [tf.cast(f, "bool"), tf.cast(i, "bool")];
  assert.equal(bf.dtype, "bool");
  assert.deepEqual(Array.from(await bf.data()), [0, 1, 1, 1, 1, 0, 1]);
  assert.deepEqual(Array.from(await bi.data()), [0, 1, 1, 1]);
  tf.dispose([f, i, bf, bi]);
});

Deno.test("the ReLU gradient (which casts its float32 mask) matches cpu", async () => {
  await assertMatchesCpu(
    "relu grad",
    "wasm",
    { x: input([5, 7], 4), r: input([5, 7], 5) },
    (t) => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.relu(x), t.r!)))(t.x!),
  );
});

Deno.test("Cast leaks neither tensors nor wasm heap buffers", async () => {
  const x = tf.tensor(input([3, 4], 6).data, [3, 4]);
  await assertNoLeaks("same dtype", () => tf.cast(x, "float32"));
  await assertNoLeaks("to int32", () => tf.cast(x, "int32"));
  await assertNoLeaks("to bool", () => tf.cast(x, "bool"));
  x.dispose();
});
