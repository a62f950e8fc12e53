import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { assertMatchesCpu, input } from "../_compare.ts";
import { assertNoLeaks, tensorsOf } from "./_leaks.ts";

await initBackend({ backend: "wasm", log: null });

const CASES: { shape: number[]; axis: number | number[]; keepDims?: boolean }[] = [
  { shape: [4, 8, 8, 5], axis: [0, 1, 2] },
  { shape: [4, 8, 8, 5], axis: [0, 1, 2], keepDims: true },
  { shape: [3, 7, 9, 3], axis: [2, 0, 1] },
  { shape: [2, 9, 11, 1], axis: [-4, -3, -2] },
  { shape: [128, 3], axis: 0 },
  { shape: [65, 7], axis: [0], keepDims: true },
  { shape: [16, 12, 5, 7], axis: [0, 1] },
  { shape: [5, 7, 3], axis: [0] }, // too few positions: stock kernel
  { shape: [4, 6, 6, 3], axis: [1, 2] }, // not leading: stock kernel
  { shape: [4, 6, 6, 3], axis: [0, 1, 2, 3] }, // all axes: stock kernel
  { shape: [8, 8, 3], axis: -1 },
];
const name = (c: (typeof CASES)[number]) =>
  `${JSON.stringify(c.shape)} axis ${JSON.stringify(c.axis)}${c.keepDims ? " keepDims" : ""}`;

for (const op of ["sum", "mean"] as const) {
  for (const [i, c] of CASES.entries()) {
    Deno.test(`${op === "sum" ? "Sum" : "Mean"} matches cpu: ${name(c)}`, async () => {
      await assertMatchesCpu(
        name(c),
        "wasm",
        { x: input(c.shape, i, (v) => v * 3 + 0.5) },
        (t) => tf[op](t.x!, c.axis, c.keepDims),
      );
    });
  }
}

Deno.test("Sum of int32 stays int32 and exact (stock kernel)", async () => {
  await tf.setBackend("wasm");
  const y = tf.tidy(() => tf.sum(tf.ones([100, 3], "int32"), 0));
  assert.equal(y.dtype, "int32");
  assert.deepEqual(Array.from(await y.data()), [100, 100, 100]);
  y.dispose();
});

Deno.test("tf.moments over N, H, W and the gradients of sum and mean match cpu", async () => {
  const shape = [4, 6, 6, 5];
  await assertMatchesCpu("moments", "wasm", { x: input(shape, 1) }, (t) => {
    const { mean, variance } = tf.moments(t.x!, [0, 1, 2], true);
    return [mean, variance];
  });
  await assertMatchesCpu("grads", "wasm", { x: input(shape, 2), r: input([5], 3) }, (t) => [
    tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.sum(x, [0, 1, 2]), t.r!)))(t.x!),
    tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.mean(x, [0, 1, 2]), t.r!)))(t.x!),
  ]);
});

Deno.test("Sum and Mean over leading axes free their intermediates (tensors and wasm heap)", async () => {
  const t = tensorsOf({ x: input([4, 8, 8, 5], 1) });
  await assertNoLeaks("Sum", () => tf.sum(t.x!, [0, 1, 2]));
  await assertNoLeaks("Mean keepDims", () => tf.mean(t.x!, [0, 1, 2], true));
  tf.dispose(Object.values(t));
});
