import { tf } from "@lib/tf.ts";
import { assertMatchesCpu, input } from "../_compare.ts";
import { nativeTest } from "./_native.ts";

nativeTest("matMul matches cpu with every transpose combination, and its gradients", async () => {
  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    const a = input(ta ? [37, 21] : [21, 37], 1), b = input(tb ? [13, 37] : [37, 13], 2);
    await assertMatchesCpu(`tA=${ta} tB=${tb}`, "wasm", { a, b }, (t) => {
      const f = (p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.square(tf.matMul(p, q, ta, tb)));
      return [tf.matMul(t.a!, t.b!, ta, tb), ...tf.grads(f)([t.a!, t.b!])];
    });
  }
});

nativeTest("batched matMul matches cpu, including a broadcast batch of one", async () => {
  await assertMatchesCpu(
    "batched",
    "wasm",
    { a: input([3, 4, 5], 3), b: input([3, 6, 5], 4) },
    (t) => tf.matMul(t.a!, t.b!, false, true),
  );
  await assertMatchesCpu(
    "broadcast",
    "wasm",
    { a: input([2, 3, 4, 5], 5), b: input([1, 5, 6], 6) },
    (t) => tf.matMul(t.a!, t.b!),
  );
  await assertMatchesCpu(
    "vector-like",
    "wasm",
    { a: input([1, 1, 9], 7), b: input([9, 1], 8) },
    (t) => tf.matMul(t.a!.reshape([1, 9]), t.b!),
  );
});

nativeTest("fused matMul with bias and activations matches cpu", async () => {
  for (const activation of ["linear", "relu", "relu6", "elu", "sigmoid", "leakyrelu"] as const) {
    const inputs = { a: input([16, 32], 9, (v) => 3 * v), b: input([8, 32], 10), bias: input([8], 11) };
    await assertMatchesCpu(
      `fused ${activation}`,
      "wasm",
      inputs,
      (t) => tf.fused.matMul({ a: t.a!, b: t.b!, transposeB: true, bias: t.bias, activation, leakyreluAlpha: 0.3 }),
    );
  }
});
