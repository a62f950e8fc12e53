import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { assertMatchesCpu, input } from "../_compare.ts";
import { assertNoLeaks, tensorsOf } from "./_leaks.ts";

await initBackend({ backend: "wasm", log: null });

const CASES: { shape: number[]; begin: number[]; size: number[] }[] = [
  { shape: [4, 10, 10, 3], begin: [0, 1, 1, 0], size: [4, 8, 8, 3] }, // gradient of explicit conv padding
  { shape: [2, 5, 7, 4], begin: [1, 0, 0, 0], size: [1, 5, 7, 4] }, // leading axis only: one run
  { shape: [2, 5, 7, 4], begin: [0, 0, 0, 1], size: [2, 5, 7, 2] }, // innermost axis in part
  { shape: [3, 6, 5, 2], begin: [1, 2, 0, 0], size: [2, 3, 5, 2] },
  { shape: [3, 5, 6, 4], begin: [1, 1, 2, 1], size: [2, 3, 3, 2] }, // every axis cut
  { shape: [2, 3, 4, 5, 6], begin: [1, 0, 1, 2, 0], size: [1, 3, 2, 3, 6] }, // rank 5
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

const CONCATS: { shapes: number[][]; axis: number }[] = [
  { shapes: [[2, 4, 4, 3], [2, 4, 4, 5], [2, 4, 4, 1]], axis: 3 }, // DenseNet's channel concat
  { shapes: [[2, 4, 4, 40], [2, 4, 4, 36]], axis: -1 }, // long runs
  { shapes: [[2, 3, 5], [2, 1, 5]], axis: 1 },
  { shapes: [[1, 3], [4, 3], [2, 3]], axis: 0 },
  { shapes: [[2, 3], [2, 0], [2, 2]], axis: 1 }, // an empty input
];

for (const [i, c] of CONCATS.entries()) {
  const name = `${JSON.stringify(c.shapes)} axis ${c.axis}`;
  Deno.test(`Concat and its gradient SplitV match cpu: ${name}`, async () => {
    const inputs = Object.fromEntries(c.shapes.map((shape, k) => [`x${k}`, input(shape, 10 * i + k + 1)]));
    const r = input(
      c.shapes.reduce((a, b) => a.map((d, j) => j === (c.axis + a.length) % a.length ? d + b[j]! : d)),
      99,
    );
    const xs = (t: Record<string, tf.Tensor>) => c.shapes.map((_, k) => t[`x${k}`]!);
    await assertMatchesCpu(`concat ${name}`, "wasm", inputs, (t) => tf.concat(xs(t), c.axis), 0);
    await assertMatchesCpu(
      `split ${name}`,
      "wasm",
      { ...inputs, r },
      (t) => tf.grads((...parts: tf.Tensor[]) => tf.sum(tf.mul(tf.concat(parts, c.axis), t.r!)))(xs(t)),
      0,
    );
  });
}

Deno.test("SplitV with a -1 size and an even split match cpu", async () => {
  const x = { x: input([3, 4, 10], 7) };
  await assertMatchesCpu("sizes", "wasm", x, (t) => tf.split(t.x!, [2, -1, 5], 2), 0);
  await assertMatchesCpu("even", "wasm", x, (t) => tf.split(t.x!, 2, 1), 0);
});

Deno.test("Slice, Concat and SplitV keep int32 and bool values and dtypes", async () => {
  await tf.setBackend("wasm");
  const ints = tf.tensor2d([[1, 2, 3], [4, 5, 6]], [2, 3], "int32");
  const bools = tf.tensor2d([[true, false, true], [false, true, true]], [2, 3], "bool");
  const a = tf.slice(ints, [0, 1], [2, 2]), b = tf.slice(bools, [1, 0], [1, 3]);
  assert.equal(a.dtype, "int32");
  assert.deepEqual(Array.from(await a.data()), [2, 3, 5, 6]);
  assert.equal(b.dtype, "bool");
  assert.deepEqual(Array.from(await b.data()), [0, 1, 1]);
  const c = tf.concat([ints, tf.tensor2d([[7], [8]], [2, 1], "int32")], 1);
  assert.equal(c.dtype, "int32");
  assert.deepEqual(Array.from(await c.data()), [1, 2, 3, 7, 4, 5, 6, 8]);
  const [p, q] = tf.split(bools, [1, 2], 1);
  assert.equal(q!.dtype, "bool");
  assert.deepEqual(Array.from(await q!.data()), [0, 1, 1, 1]);
  tf.dispose([ints, bools, a, b, c, p!, q!]);
});

Deno.test("Slice, Concat and SplitV leave no tensor and no wasm heap memory behind", async () => {
  const t = tensorsOf({ x: input([4, 10, 10, 3], 5) });
  await assertNoLeaks("crop", () => tf.slice(t.x!, [0, 1, 1, 0], [4, 8, 8, 3]));
  await assertNoLeaks("concat", () => tf.concat([t.x!, t.x!], 3));
  await assertNoLeaks("split", () => tf.split(t.x!, [1, 2], 3));
  tf.dispose(Object.values(t));
});
