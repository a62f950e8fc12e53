import assert from "node:assert/strict";
import { initBackend, tf } from "@lib/tf.ts";
import { assertMatchesCpu, input } from "../_compare.ts";
import { assertNoLeaks, tensorsOf } from "./_leaks.ts";

await initBackend({ backend: "wasm", log: null });

const CASES: { shape: number[]; begin: number[]; size: number[] }[] = [
  { shape: [4, 10, 10, 3], begin: [0, 1, 1, 0], size: [4, 8, 8, 3] }, // gradient of explicit conv padding
  { shape: [2, 5, 7, 4], begin: [1, 0, 0, 0], size: [1, 5, 7, 4] }, // leading axis only: one run
  { shape: [2, 5, 7, 4], begin: [0, 0, 0, 1], size: [2, 5, 7, 2] }, // innermost axis in part
  { shape: [3, 6, 5, 2], begin: [1, 2, 0, 0], size: [2, 3, 5, 2] },
  { shape: [9, 4], begin: [2, 1], size: [5, -1] }, // -1: to the end
  { shape: [7], begin: [3], size: [2] },
  { shape: [2, 3], begin: [0, 0], size: [2, 3] }, // whole tensor
  { shape: [3, 4], begin: [1, 1], size: [0, 2] }, // empty
];

for (const [i, c] of CASES.entries()) {
  const name = `${JSON.stringify(c.shape)} begin ${JSON.stringify(c.begin)} size ${JSON.stringify(c.size)}`;
  Deno.test(`Slice matches cpu: ${name}`, async () => {
    await assertMatchesCpu(name, "wasm", { x: input(c.shape, i + 1) }, (t) => tf.slice(t.x!, c.begin, c.size), 0);
  });
}

Deno.test("tf.grad through an explicit zero padding (its gradient is a Slice) matches cpu", async () => {
  await assertMatchesCpu(
    "pad grad",
    "wasm",
    { x: input([2, 6, 6, 3], 3), r: input([2, 8, 8, 3], 4) },
    (t) => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]), t.r!)))(t.x!),
    0,
  );
});

Deno.test("Slice keeps int32 and bool values and dtypes", async () => {
  await tf.setBackend("wasm");
  const ints = tf.tensor2d([[1, 2, 3], [4, 5, 6]], [2, 3], "int32");
  const bools = tf.tensor2d([[true, false, true], [false, true, true]], [2, 3], "bool");
  const a = tf.slice(ints, [0, 1], [2, 2]), b = tf.slice(bools, [1, 0], [1, 3]);
  assert.equal(a.dtype, "int32");
  assert.deepEqual(Array.from(await a.data()), [2, 3, 5, 6]);
  assert.equal(b.dtype, "bool");
  assert.deepEqual(Array.from(await b.data()), [0, 1, 1]);
  tf.dispose([ints, bools, a, b]);
});

Deno.test("Slice leaves no tensor and no wasm heap memory behind", async () => {
  const t = tensorsOf({ x: input([4, 10, 10, 3], 5) });
  await assertNoLeaks("crop", () => tf.slice(t.x!, [0, 1, 1, 0], [4, 8, 8, 3]));
  tf.dispose(Object.values(t));
});
