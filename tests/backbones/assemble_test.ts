import assert from "node:assert/strict";
import { join } from "node:path";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { assembleBackbone, backboneFromModel, createBackbone } from "@lib/backbones/mod.ts";
import { NORMALIZATION } from "@lib/datasets/normalization.ts";
import { loadCheckpoint, saveCheckpoint } from "@lib/train/checkpoint.ts";

await initBackend({ backend: "native", log: null });

function tiny() {
  const input = tf.input({ shape: [6, 6, 1] });
  const h = tf.layers.conv2d({ filters: 2, kernelSize: 3 }).apply(input) as tf.SymbolicTensor;
  const features = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
  return assembleBackbone({ name: "tiny", input, features, numClasses: 3, normalization: NORMALIZATION.mnistHalf });
}

Deno.test("assembleBackbone() records the name and normalization in the model's metadata", () => {
  const net = tiny();
  assert.deepEqual(net.model.getUserDefinedMetadata(), { backbone: "tiny", normalization: NORMALIZATION.mnistHalf });
  assert.equal(net.featureList, undefined, "no stage markers, no featureList");
  net.model.dispose();
});

Deno.test("assembleBackbone()'s model.predict() equals logits() (the marker layers are new tensors)", async () => {
  const net = createBackbone("resnet20", { numClasses: 3, width: 0.25, inputShape: [8, 8, 3] });
  const x = tf.randomNormal([2, 8, 8, 3]) as tf.Tensor4D;
  const [a, b] = [net.model.predict(x) as tf.Tensor, net.logits(x)];
  assert.deepEqual(await a.data(), await b.data());
  tf.dispose([x, a, b]);
  net.model.dispose();
});

Deno.test("backboneFromModel() throws when the normalization is neither in the metadata nor given", () => {
  const net = tiny();
  net.model.setUserDefinedMetadata({});
  assert.throws(() => backboneFromModel(net.model), /no normalization metadata.*normalization/);
  const back = backboneFromModel(net.model, { normalization: NORMALIZATION.unitRange, name: "renamed" });
  assert.deepEqual([back.name, back.normalization], ["renamed", NORMALIZATION.unitRange]);
  net.model.dispose();
});

Deno.test("backboneFromModel() names the missing layer of a model that assembleBackbone did not build", () => {
  const input = tf.input({ shape: [4] });
  const model = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 2 }).apply(input) as tf.SymbolicTensor });
  assert.throws(() => backboneFromModel(model, { normalization: NORMALIZATION.unitRange }), /no "features" layer/);
  model.dispose();
});

Deno.test("backboneFromModel() rebuilds a backbone saved with saveCheckpoint() and reloaded with loadCheckpoint()", async () => {
  const dir = await Deno.makeTempDir();
  const net = createBackbone("cmg_cnn", { numClasses: 4, width: 0.125, inputShape: [12, 12, 1] });
  const x = tf.randomNormal([2, 12, 12, 1]) as tf.Tensor4D;
  try {
    const state = { epoch: 0, step: 1, mathRandom: null, streams: {}, config: {} };
    const path = await saveCheckpoint(join(dir, "run"), { model: net.model, state });
    const loaded = await loadCheckpoint(path);
    const back = backboneFromModel(loaded.model, { normalization: net.normalization });
    assert.equal(back.name, "cmg_cnn");
    assert.deepEqual(back.featureListDims, net.featureListDims);
    const outs = [net.logits(x), back.logits(x), net.head(net.features(x)), back.head(back.features(x))];
    const [a, b, c, d] = await Promise.all(outs.map((t) => t.data()));
    assert.deepEqual(b, a);
    assert.deepEqual(d, c);
    tf.dispose(outs);
    loaded.model.dispose();
  } finally {
    x.dispose();
    net.model.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});
