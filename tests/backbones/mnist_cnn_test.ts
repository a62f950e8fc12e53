import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { cmgCnn, mnistConv } from "@lib/backbones/mnist_cnn.ts";
import { assertLastStageIsFeatures } from "./_helpers.ts";

await initBackend({ backend: "native", log: null });

Deno.test("mnistConv() has VMDLS's 500-d feature and four feature-ensemble members", async () => {
  const net = mnistConv({ numClasses: 10 });
  assert.equal(net.featureDim, 500);
  assert.deepEqual(net.featureListDims, [100, 100, 100, 500]);
  await assertLastStageIsFeatures(net);
  net.model.dispose();
});

Deno.test("cmgCnn() features are the flattened 128·4·4 map and its head is CMG's 512-unit MLP", () => {
  const net = cmgCnn({ numClasses: 11 });
  assert.equal(net.featureDim, 2048);
  assert.deepEqual(net.featureListDims, [128, 128, 128]);
  const hidden = net.model.getLayer("head_hidden_0") as unknown as { units: number };
  assert.equal(hidden.units, 512);
  assert.equal(net.model.layers.filter((l) => l.getClassName() === "LeakyReLU").length, 9);
  net.model.dispose();
});

Deno.test("cmgCnn() applies channel dropout (rate 0.2) to the input image and before each conv group", () => {
  const net = cmgCnn({ numClasses: 11, width: 0.125 });
  const drops = net.model.layers.filter((l) => l.getClassName() === "Dropout");
  assert.equal(drops.length, 3);
  for (const d of drops) assert.deepEqual(d.getConfig().noiseShape, [null, 1, 1, null]);
  assert.equal(drops[0]!.getConfig().rate, 0.2);
  assert.equal(net.model.layers[1], drops[0], "the first layer after the input");
  net.model.dispose();
  const plain = cmgCnn({ numClasses: 11, width: 0.125, dropRate: 0 });
  assert.equal(plain.model.layers.filter((l) => l.getClassName() === "Dropout").length, 0);
  plain.model.dispose();
});

Deno.test("cmgCnn()'s head(features(x)) applies the hidden layer then the output layer", async () => {
  const net = cmgCnn({ numClasses: 11, width: 0.125 });
  const x = tf.randomNormal([2, 28, 28, 1]) as tf.Tensor4D;
  const f = net.features(x);
  const manual = net.model.getLayer("head").apply(net.model.getLayer("head_hidden_0").apply(f)) as tf.Tensor;
  const viaHead = net.head(f);
  assert.deepEqual(await viaHead.data(), await manual.data());
  tf.dispose([x, f, manual, viaHead]);
  net.model.dispose();
});
