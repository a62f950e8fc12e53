import { tf } from "@lib/tf.ts";
import { batchNormTrain } from "@lib/ops/batch_norm.ts";
import { assertMatchesCpu, input } from "../_compare.ts";
import { nativeTest } from "./_native.ts";

nativeTest("training batch norm (forward, statistics, gradients) matches the cpu kernel", async () => {
  for (const shape of [[4, 5, 3, 7], [64, 10], [1, 1, 1, 3], [2, 16, 16, 32]]) {
    const c = shape[shape.length - 1]!;
    const inputs = {
      x: input(shape, 1, (v) => 2 * v + 5),
      s: input([c], 2, (v) => v + 1.5),
      o: input([c], 3),
      g: input(shape, 4),
    };
    await assertMatchesCpu(`bn ${shape}`, "wasm", inputs, (t) => {
      const r = batchNormTrain(t.x!, t.s as tf.Tensor1D, t.o as tf.Tensor1D, { epsilon: 1e-3 });
      const f = (x: tf.Tensor, s: tf.Tensor, o: tf.Tensor) =>
        tf.sum(tf.mul(batchNormTrain(x, s as tf.Tensor1D, o as tf.Tensor1D, { epsilon: 1e-3 }).y, t.g!));
      return [r.y, r.mean, r.variance, ...tf.grads(f)([t.x!, t.s!, t.o!])];
    }, 2e-5);
  }
});

nativeTest("inference batch norm matches cpu with and without scale/offset and with broadcast statistics", async () => {
  const x = input([3, 4, 4, 6], 5), m = input([6], 6), v = input([6], 7, (q) => q * q + 0.5);
  const s = input([6], 8), o = input([6], 9);
  await assertMatchesCpu(
    "full",
    "wasm",
    { x, m, v, s, o },
    (t) => tf.batchNorm(t.x!, t.m as tf.Tensor1D, t.v as tf.Tensor1D, t.o as tf.Tensor1D, t.s as tf.Tensor1D, 1e-3),
  );
  await assertMatchesCpu(
    "no scale/offset",
    "wasm",
    { x, m, v },
    (t) => tf.batchNorm(t.x!, t.m as tf.Tensor1D, t.v as tf.Tensor1D, undefined, undefined, 1e-3),
  );
  await assertMatchesCpu(
    "scalar stats",
    "wasm",
    { x, m: input([1], 10), v: input([1], 11, (q) => q * q + 1) },
    (t) => tf.batchNorm(t.x!, t.m as tf.Tensor1D, t.v as tf.Tensor1D, undefined, undefined, 1e-3),
  );
});
