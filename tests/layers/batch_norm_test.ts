import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { BatchNormalization, batchNormalization } from "@lib/layers/batch_norm.ts";
import { input, relativeError } from "../engine/_compare.ts";

await initBackend({ backend: "cpu", log: null });

function net(bn: (args: { momentum: number; epsilon: number }) => tf.layers.Layer): tf.LayersModel {
  const inp = tf.input({ shape: [6, 6, 2] });
  const conv = tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: "same", useBias: false }).apply(inp);
  const norm = bn({ momentum: 0.9, epsilon: 1e-3 }).apply(conv) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 2 }).apply(tf.layers.flatten().apply(norm));
  return tf.model({ inputs: inp, outputs: out as tf.SymbolicTensor });
}

Deno.test("a training step with the fused layer equals one with the stock layer, moving statistics included", () => {
  const x = tf.tensor(input([3, 6, 6, 2], 7).data, [3, 6, 6, 2]);
  // Same initial weights for both models: the conv kernel is random, so seed it.
  const kernel = tf.tensor(input([3, 3, 2, 3], 8).data, [3, 3, 2, 3]);
  const dense = [tf.tensor(input([108, 2], 9).data, [108, 2]), tf.tensor(input([2], 10).data, [2])];
  const results = [tf.layers.batchNormalization, batchNormalization].map((make) => {
    const model = net(make as (args: { momentum: number; epsilon: number }) => tf.layers.Layer);
    model.layers[1]!.setWeights([kernel]);
    model.layers[4]!.setWeights(dense);
    const opt = tf.train.sgd(0.1);
    opt.minimize(() => tf.mean(tf.square(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar);
    return model.getWeights().map((w) => w.dataSync() as Float32Array);
  });
  const [stock, fused] = results as [Float32Array[], Float32Array[]];
  assert.equal(fused.length, stock.length);
  stock.forEach((w, i) => assert.ok(relativeError(w, fused[i]!) < 1e-5, `weight ${i}`));
  tf.dispose([x, kernel, ...dense]);
});

Deno.test("the fused layer serialises as the stock BatchNormalization and deserialises to the fused class", async () => {
  const model = net(batchNormalization);
  const topology = model.toJSON(null, false) as tf.io.ModelJSON["modelTopology"];
  assert.match(JSON.stringify(topology), /"class_name":"BatchNormalization"/);
  const restored = await tf.models.modelFromJSON({ modelTopology: topology });
  const layer = restored.layers.find((l) => l.getClassName() === "BatchNormalization");
  assert.ok(layer instanceof BatchNormalization);
  restored.dispose();
  model.dispose();
});
