import { tf } from "@lib/tf.ts";
import { assertMatchesCpu, input } from "../_compare.ts";
import { nativeTest } from "./_native.ts";

nativeTest("the fused ReLU gradient matches cpu, zeros and negative inputs included", async () => {
  const x = input([4, 5, 6, 3], 1, (v) => (Math.abs(v) < 0.1 ? 0 : v));
  await assertMatchesCpu(
    "relu grad",
    "wasm",
    { x, g: input([4, 5, 6, 3], 2) },
    (t) => tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.relu(a), t.g!)))(t.x!),
  );
});
