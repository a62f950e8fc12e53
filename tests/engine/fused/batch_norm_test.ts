import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { batchNormTrain } from "@lib/ops/batch_norm.ts";
import { input, relativeError } from "../_compare.ts";

await initBackend({ backend: "cpu", log: null });

/** Reference: the composition TF.js itself uses (moments + batchNorm) and its autograd. */
function composite(x: tf.Tensor, scale: tf.Tensor1D, offset: tf.Tensor1D, epsilon: number) {
  const axes = [...Array(x.rank - 1).keys()];
  const { mean, variance } = tf.moments(x, axes);
  return { y: tf.batchNorm(x, mean, variance, offset, scale, epsilon), mean, variance };
}

function compareWithComposite(shape: number[], epsilon: number, shiftBy = 0) {
  const c = shape[shape.length - 1]!;
  const x = tf.tensor(input(shape, 1, (v) => v * 3 + shiftBy).data, shape);
  const scale = tf.tensor1d(input([c], 2, (v) => v + 1.5).data);
  const offset = tf.tensor1d(input([c], 3).data);
  const dy = tf.tensor(input(shape, 4).data, shape);
  const loss = (impl: typeof composite) => (a: tf.Tensor, s: tf.Tensor, o: tf.Tensor) =>
    tf.sum(tf.mul(impl(a, s as tf.Tensor1D, o as tf.Tensor1D, epsilon).y, dy));
  const fused = (a: tf.Tensor, s: tf.Tensor1D, o: tf.Tensor1D, e: number) => batchNormTrain(a, s, o, { epsilon: e });
  const refF = composite(x, scale, offset, epsilon), gotF = fused(x, scale, offset, epsilon);
  const refG = tf.grads(loss(composite))([x, scale, offset]);
  const gotG = tf.grads(loss(fused))([x, scale, offset]);
  const pairs: [string, tf.Tensor, tf.Tensor][] = [
    ["y", refF.y, gotF.y],
    ["mean", refF.mean, gotF.mean],
    ["variance", refF.variance, gotF.variance],
    ["dx", refG[0]!, gotG[0]!],
    ["dScale", refG[1]!, gotG[1]!],
    ["dOffset", refG[2]!, gotG[2]!],
  ];
  for (const [name, ref, got] of pairs) {
    assert.deepEqual(got.shape, ref.shape, name);
    const err = relativeError(ref.dataSync() as Float32Array, got.dataSync() as Float32Array);
    assert.ok(err < 2e-5, `${name} of ${JSON.stringify(shape)}: relative error ${err.toExponential(2)}`);
  }
  tf.dispose([x, scale, offset, dy, refF, gotF, refG, gotG]);
}

Deno.test("batchNormTrain matches moments+batchNorm and its gradients on NHWC input", () => {
  compareWithComposite([4, 5, 3, 7], 1e-3);
  compareWithComposite([1, 2, 2, 1], 1e-5);
});

Deno.test("batchNormTrain matches the composite on dense [N, C] input", () => {
  compareWithComposite([16, 10], 1e-3);
});

Deno.test("batchNormTrain stays accurate when the mean is large relative to the spread", () => {
  compareWithComposite([8, 4, 4, 3], 1e-3, 1000);
});

Deno.test("batchNormTrain releases every intermediate tensor", () => {
  const x = tf.randomNormal([2, 3, 3, 4]), s = tf.ones([4]) as tf.Tensor1D, o = tf.zeros([4]) as tf.Tensor1D;
  const before = tf.memory().numTensors;
  const g = tf.grads((a: tf.Tensor) => tf.sum(batchNormTrain(a, s, o, { epsilon: 1e-3 }).y))([x]);
  tf.dispose(g);
  const r = batchNormTrain(x, s, o, { epsilon: 1e-3 });
  tf.dispose([r.y, r.mean, r.variance]);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, s, o]);
});

Deno.test("the fused kernel rejects per-channel inputs of the wrong length with a clear error", () => {
  const x = tf.zeros([2, 3]), s = tf.ones([4]) as tf.Tensor1D, o = tf.zeros([4]) as tf.Tensor1D;
  assert.throws(
    () => batchNormTrain(x, s, o, { epsilon: 1e-3 }),
    /OodBatchNormTrain: per-channel inputs must have shape \[3\]/,
  );
  tf.dispose([x, s, o]);
});
