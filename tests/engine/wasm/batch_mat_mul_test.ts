import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { assertMatchesCpu, input } from "../_compare.ts";
import { assertNoLeaks, tensorsOf } from "./_leaks.ts";

await initBackend({ backend: "wasm", log: null });

interface Case {
  a: number[];
  b: number[];
  transposeA: boolean;
  transposeB: boolean;
}
const CASES: Case[] = [
  { a: [30, 7], b: [30, 5], transposeA: true, transposeB: false },
  { a: [6, 9], b: [4, 9], transposeA: false, transposeB: true },
  { a: [9, 6], b: [5, 9], transposeA: true, transposeB: true },
  { a: [1, 13, 3], b: [1, 13, 11], transposeA: true, transposeB: false },
  { a: [1, 1, 17], b: [1, 1, 17], transposeA: true, transposeB: false },
  { a: [1, 5, 1], b: [1, 3, 1], transposeA: false, transposeB: true },
  { a: [64, 33], b: [10, 33], transposeA: false, transposeB: true },
  { a: [3, 4, 5], b: [3, 6, 5], transposeA: false, transposeB: true }, // batched: stock kernel
  { a: [2, 5, 4], b: [1, 5, 3], transposeA: true, transposeB: false }, // broadcast batch: stock kernel
  { a: [8, 6], b: [6, 4], transposeA: false, transposeB: false }, // untransposed: stock kernel
];
const name = (c: Case) =>
  `a${JSON.stringify(c.a)}${c.transposeA ? "ᵀ" : ""} b${JSON.stringify(c.b)}${c.transposeB ? "ᵀ" : ""}`;

for (const [i, c] of CASES.entries()) {
  Deno.test(`BatchMatMul matches cpu: ${name(c)}`, async () => {
    await assertMatchesCpu(
      name(c),
      "wasm",
      { a: input(c.a, i), b: input(c.b, 20 + i) },
      (t) => tf.matMul(t.a!, t.b!, c.transposeA, c.transposeB),
    );
  });
}

Deno.test("tf.grads of matMul (the transposed products of a dense layer) match cpu", async () => {
  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    const a = ta ? [7, 12] : [12, 7], b = tb ? [5, 7] : [7, 5];
    await assertMatchesCpu(
      `tA=${ta} tB=${tb}`,
      "wasm",
      { a: input(a, 1), b: input(b, 2), r: input([12, 5], 3) },
      (t) => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, ta, tb), t.r!)))([t.a!, t.b!]),
    );
  }
});

Deno.test("fused matMul with bias and relu, transposed, and its gradients match cpu", async () => {
  const inputs = { a: input([16, 32], 4), b: input([8, 32], 5), bias: input([8], 6), r: input([16, 8], 7) };
  await assertMatchesCpu("fused", "wasm", inputs, (t) => {
    const f = (a: tf.Tensor, b: tf.Tensor, bias: tf.Tensor) =>
      tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, transposeB: true, bias, activation: "relu" });
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, bias: tf.Tensor) => tf.sum(tf.mul(f(a, b, bias), t.r!)))(
      [t.a!, t.b!, t.bias!],
    );
    return [f(t.a!, t.b!, t.bias!), ...grads];
  });
});

Deno.test("_FusedMatMul kernel with transposeA matches cpu", async () => {
  const inputs = { a: input([1, 9, 4], 8), b: input([1, 9, 3], 9), bias: input([3], 10) };
  await assertMatchesCpu(
    "_FusedMatMul tA",
    "wasm",
    inputs,
    (t) =>
      tf.engine().runKernel("_FusedMatMul", { a: t.a!, b: t.b!, bias: t.bias! }, {
        transposeA: true,
        transposeB: false,
        activation: "linear",
      }) as tf.Tensor,
  );
});

Deno.test("BatchMatMul and _FusedMatMul free their intermediates (tensors and wasm heap)", async () => {
  const t = tensorsOf({ a: input([1, 9, 6], 1), b: input([1, 5, 9], 2), bias: input([5], 3) });
  await assertNoLeaks("BatchMatMul tA tB", () => tf.matMul(t.a!, t.b!, true, true));
  await assertNoLeaks(
    "_FusedMatMul tA tB",
    () =>
      tf.engine().runKernel("_FusedMatMul", { a: t.a!, b: t.b!, bias: t.bias! }, {
        transposeA: true,
        transposeB: true,
        activation: "relu",
      }) as tf.Tensor,
  );
  tf.dispose(Object.values(t));
});

Deno.test("BatchMatMul keeps the output rank of rank-2 operands", async () => {
  await tf.setBackend("wasm");
  const y = tf.tidy(() => tf.matMul(tf.ones([4, 3]), tf.ones([5, 3]), false, true));
  assert.deepEqual(y.shape, [4, 5]);
  assert.deepEqual(Array.from(await y.data()), new Array(20).fill(3));
  y.dispose();
});
