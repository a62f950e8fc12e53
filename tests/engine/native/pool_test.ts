import { tf } from "@lib/tf.ts";
import { assertMatchesCpu, input } from "../_compare.ts";
import { nativeTest } from "./_native.ts";

const cases: [string, [number, number, number, number], number, number, "same" | "valid"][] = [
  ["2x2/2 valid", [3, 8, 8, 5], 2, 2, "valid"],
  ["3x3/2 same (overlapping, padded)", [2, 9, 9, 3], 3, 2, "same"],
  ["3x3/1 same", [2, 5, 6, 2], 3, 1, "same"],
  ["2x2/2 odd size", [2, 7, 7, 4], 2, 2, "valid"],
  ["3x3/3 valid", [1, 9, 9, 1], 3, 3, "valid"],
];

nativeTest("max-pool gradients match cpu, ties after ReLU included", async () => {
  for (const [label, shape, k, s, pad] of cases) {
    for (const relu of [false, true]) {
      const x = input(shape, 1, (v) => (relu ? Math.max(0, v) : v));
      const out = tf.maxPool(tf.zeros(shape) as tf.Tensor4D, k, s, pad);
      const g = input(out.shape, 2);
      out.dispose();
      await assertMatchesCpu(
        `max ${label} relu=${relu}`,
        "wasm",
        { x, g },
        (t) => tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, k, s, pad), t.g!)))(t.x!),
      );
    }
  }
});

nativeTest("average-pool gradients match cpu", async () => {
  for (const [label, shape, k, s, pad] of cases) {
    const out = tf.avgPool(tf.zeros(shape) as tf.Tensor4D, k, s, pad);
    const g = input(out.shape, 3);
    out.dispose();
    await assertMatchesCpu(
      `avg ${label}`,
      "wasm",
      { x: input(shape, 4), g },
      (t) => tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.avgPool(a as tf.Tensor4D, k, s, pad), t.g!)))(t.x!),
    );
  }
});
