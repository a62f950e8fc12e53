import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { NonAffineBatchNormalization, nonAffineBatchNormalization } from "@lib/layers/non_affine_batch_norm.ts";
import { seedEverything } from "@lib/train/seed.ts";

await initBackend({ backend: "native", log: null });
seedEverything(2);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

Deno.test("nonAffineBatchNormalization() normalises with batch statistics in training mode and updates the moving ones", async () => {
  const x = tf.add(tf.mul(tf.randomNormal([4, 5, 5, 3]), 3), 2);
  const layer = nonAffineBatchNormalization({ momentum: 0.9, epsilon: 1e-5 });
  const y = layer.apply(x, { training: true }) as tf.Tensor;
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  const expected = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5)));
  assert.ok(maxAbsDiff(await y.data(), await expected.data()) < 1e-4);
  const [movingMean, movingVariance] = layer.getWeights();
  // From the initial 0 and 1: m ← m − (m − batch)·(1 − momentum).
  assert.ok(maxAbsDiff(await movingMean!.data(), await tf.mul(mean, 0.1).data()) < 1e-5);
  assert.ok(maxAbsDiff(await movingVariance!.data(), await tf.add(tf.mul(variance, 0.1), 0.9).data()) < 1e-4);
  tf.dispose([x, y, mean, variance, expected]);
});

Deno.test("nonAffineBatchNormalization() has no trainable weights and uses the moving statistics in inference", async () => {
  const layer = nonAffineBatchNormalization({ epsilon: 1e-3 });
  const x = tf.randomNormal([2, 3, 3, 4]);
  layer.apply(x);
  assert.equal(layer.trainableWeights.length, 0);
  assert.equal(layer.nonTrainableWeights.length, 2);
  layer.setWeights([tf.fill([4], 1), tf.fill([4], 4)]);
  const y = layer.apply(x) as tf.Tensor;
  const expected = tf.div(tf.sub(x, 1), Math.sqrt(4 + 1e-3));
  assert.ok(maxAbsDiff(await y.data(), await expected.data()) < 1e-5);
  tf.dispose([x, y, expected]);
});

Deno.test("nonAffineBatchNormalization() passes gradients to its input so a model containing it trains", async () => {
  const input = tf.input({ shape: [4, 4, 2] });
  let h = tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: "same" }).apply(input) as tf.SymbolicTensor;
  h = nonAffineBatchNormalization().apply(h) as tf.SymbolicTensor;
  h = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 2 }).apply(h) as tf.SymbolicTensor });
  const x = tf.randomNormal([3, 4, 4, 2]), target = tf.randomNormal([3, 2]);
  const kernel = await model.layers[1]!.getWeights()[0]!.data();
  const loss = tf.train.sgd(0.1).minimize(
    () => tf.losses.meanSquaredError(target, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
    true,
  )!;
  assert.ok(Number.isFinite((await loss.data())[0]!));
  assert.ok(maxAbsDiff(kernel, await model.layers[1]!.getWeights()[0]!.data()) > 0, "the conv before it was updated");
  tf.dispose([x, target, loss]);
  model.dispose();
});

Deno.test("nonAffineBatchNormalization() serialises under its own class name and reloads to that class", async () => {
  const input = tf.input({ shape: [3, 3, 2] });
  const model = tf.model({
    inputs: input,
    outputs: nonAffineBatchNormalization({ momentum: 0.8 }).apply(input) as tf.SymbolicTensor,
  });
  const topology = model.toJSON(null, false) as tf.io.ModelJSON["modelTopology"];
  assert.match(JSON.stringify(topology), /"class_name":"NonAffineBatchNormalization"/);
  const restored = await tf.models.modelFromJSON({ modelTopology: topology });
  const layer = restored.layers[1]!;
  assert.ok(layer instanceof NonAffineBatchNormalization);
  assert.equal(layer.trainableWeights.length, 0);
  assert.equal((layer.getConfig() as { momentum: number }).momentum, 0.8);
  restored.dispose();
  model.dispose();
});

Deno.test("an inference-mode network with the layer can be differentiated with respect to its input", () => {
  const inp = tf.input({ shape: [4, 4, 3] });
  const model = tf.model({
    inputs: inp,
    outputs: nonAffineBatchNormalization({ epsilon: 1e-3 }).apply(inp) as tf.SymbolicTensor,
  });
  const x = tf.randomNormal([2, 4, 4, 3]);
  // Moving statistics start at mean 0, variance 1: y = x / √(1 + ε), so ∂Σy/∂x = 1/√(1 + ε) everywhere.
  const g = tf.grad((a: tf.Tensor) => tf.sum(model.apply(a, { training: false }) as tf.Tensor))(x);
  const expected = 1 / Math.sqrt(1 + 1e-3);
  for (const v of g.dataSync()) assert.ok(Math.abs(v - expected) < 1e-6);
  tf.dispose([x, g]);
  model.dispose();
});
