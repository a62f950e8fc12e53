import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { assertMatchesCpu, input } from "../_compare.ts";
import { assertNoLeaks, tensorsOf } from "./_leaks.ts";

await initBackend({ backend: "wasm", log: null });

const CASES: { shape: number[]; reps: number[] }[] = [
  { shape: [1, 1, 1, 16], reps: [8, 5, 5, 1] }, // BatchNorm gradient: leading broadcast (GEMM)
  { shape: [1, 7], reps: [33, 1] },
  { shape: [1], reps: [9] },
  { shape: [1, 5, 1, 3], reps: [4, 1, 6, 1] }, // interleaved broadcast (Add)
  { shape: [3, 1], reps: [1, 4] },
  { shape: [2, 3], reps: [1, 1] },
  { shape: [2, 3], reps: [2, 2] }, // repeats non-unit axes: stock kernel
  { shape: [1, 2, 1], reps: [3, 2, 1] }, // stock kernel
];

for (const [i, c] of CASES.entries()) {
  const name = `${JSON.stringify(c.shape)} reps ${JSON.stringify(c.reps)}`;
  Deno.test(`Tile matches cpu: ${name}`, async () => {
    await assertMatchesCpu(name, "wasm", { x: input(c.shape, i) }, (t) => tf.tile(t.x!, c.reps));
  });
}

Deno.test("tf.grad through tile matches cpu", async () => {
  await assertMatchesCpu(
    "grad",
    "wasm",
    { x: input([1, 1, 1, 4], 1), r: input([3, 5, 5, 4], 2) },
    (t) => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.tile(x, [3, 5, 5, 1]), t.r!)))(t.x!),
  );
});

Deno.test("Tile of int32 stays int32 (stock kernel)", async () => {
  await tf.setBackend("wasm");
  const y = tf.tidy(() => tf.tile(tf.tensor([1, 2], [1, 2], "int32"), [3, 1]));
  assert.equal(y.dtype, "int32");
  assert.deepEqual(Array.from(await y.data()), [1, 2, 1, 2, 1, 2]);
  y.dispose();
});

Deno.test("Tile frees its intermediates (tensors and wasm heap)", async () => {
  const t = tensorsOf({ a: input([1, 1, 1, 8], 1), b: input([1, 5, 1, 3], 2) });
  await assertNoLeaks("leading broadcast", () => tf.tile(t.a!, [4, 3, 3, 1]));
  await assertNoLeaks("interleaved broadcast", () => tf.tile(t.b!, [4, 1, 6, 1]));
  tf.dispose(Object.values(t));
});
