import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { assertMatchesCpu, input } from "../_compare.ts";
import { assertNoLeaks, tensorsOf } from "./_leaks.ts";

await initBackend({ backend: "wasm", log: null });

interface Case {
  x: number[];
  k: number | [number, number];
  s: number | [number, number];
  pad: "same" | "valid" | number;
}
const CASES: Case[] = [
  { x: [2, 8, 8, 3], k: 2, s: 2, pad: "valid" },
  { x: [2, 7, 7, 3], k: 2, s: 2, pad: "valid" },
  { x: [1, 7, 7, 1], k: 2, s: 2, pad: "same" }, // the stock wasm MaxPoolGrad drops a border window here
  { x: [2, 9, 9, 3], k: 3, s: 2, pad: "same" },
  { x: [2, 8, 8, 3], k: 3, s: 2, pad: "same" },
  { x: [1, 8, 8, 2], k: 3, s: 1, pad: "same" },
  { x: [2, 9, 9, 5], k: 3, s: 2, pad: "valid" },
  { x: [2, 7, 7, 3], k: 3, s: 3, pad: "same" },
  { x: [1, 11, 10, 3], k: 5, s: 3, pad: "same" },
  { x: [2, 7, 7, 3], k: 3, s: 2, pad: 1 },
  { x: [2, 8, 8, 3], k: 2, s: 1, pad: "valid" },
  { x: [2, 9, 10, 4], k: [2, 3], s: [2, 3], pad: "same" },
  { x: [1, 12, 12, 8], k: 2, s: 2, pad: "same" },
];
const name = (c: Case) => `x${JSON.stringify(c.x)} k${c.k} s${c.s} ${c.pad}`;
const outShape = (c: Case) =>
  tf.backend_util.computePool2DInfo(c.x as [number, number, number, number], c.k, c.s, 1, c.pad).outShape;

const pool = (kind: "max" | "avg", c: Case) => (x: tf.Tensor) =>
  kind === "max" ? tf.maxPool(x as tf.Tensor4D, c.k, c.s, c.pad) : tf.avgPool(x as tf.Tensor4D, c.k, c.s, c.pad);

for (const kind of ["max", "avg"] as const) {
  for (const [i, c] of CASES.entries()) {
    Deno.test(`tf.grad of ${kind}Pool matches cpu: ${name(c)}`, async () => {
      await assertMatchesCpu(
        name(c),
        "wasm",
        { x: input(c.x, i), r: input(outShape(c), 40 + i) },
        (t) => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(pool(kind, c)(x), t.r!)))(t.x!),
      );
    });
  }
}

Deno.test("MaxPoolGrad breaks ties like cpu: the first maximum in scan order wins", async () => {
  for (const c of [CASES[0]!, CASES[3]!, CASES[5]!]) {
    // ReLU'd data: many windows whose maximum, 0, occurs several times.
    const inputs = { x: input(c.x, 7, (v) => Math.max(0, v)), r: input(outShape(c), 8) };
    await assertMatchesCpu(
      `relu ${name(c)}`,
      "wasm",
      inputs,
      (t) => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(pool("max", c)(x), t.r!)))(t.x!),
    );
    await assertMatchesCpu(
      `zeros ${name(c)}`,
      "wasm",
      { x: input(c.x, 9, () => 0), r: inputs.r },
      (t) => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(pool("max", c)(x), t.r!)))(t.x!),
    );
  }
});

Deno.test("MaxPoolGrad and AvgPoolGrad free their intermediates (tensors and wasm heap)", async () => {
  const c = CASES[3]!;
  const t = tensorsOf({ x: input(c.x, 1), dy: input(outShape(c), 2) });
  const attrs = { filterSize: c.k, strides: c.s, pad: c.pad };
  const y = tf.maxPool(t.x as tf.Tensor4D, c.k, c.s, c.pad);
  await assertNoLeaks(
    "MaxPoolGrad",
    () => tf.engine().runKernel("MaxPoolGrad", { dy: t.dy!, input: t.x!, output: y }, attrs) as tf.Tensor,
  );
  await assertNoLeaks(
    "AvgPoolGrad",
    () => tf.engine().runKernel("AvgPoolGrad", { dy: t.dy!, input: t.x! }, attrs) as tf.Tensor,
  );
  tf.dispose([...Object.values(t), y]);
});
