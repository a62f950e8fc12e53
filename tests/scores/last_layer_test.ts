/**
 * The last linear layer that ReAct, ASH, DICE, GradNorm, ViM and Residual read (`DetectorModel.lastLayer`,
 * `needLastLayer`): present on a backbone with a linear head, absent with an MLP head. Every registered backbone's
 * logits = features·W + b is checked in tests/backbones/registry_test.ts.
 */
import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { createBackbone } from "@lib/backbones/mod.ts";
import { needLastLayer } from "@lib/scores/detector.ts";
import { layerLogits } from "@lib/scores/_last_layer.ts";
import { assertClose } from "./_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

Deno.test("needLastLayer() reads a linear head as a copy that reproduces the logits, and rejects an MLP head", async () => {
  const net = createBackbone("lenet", { numClasses: 3, width: 0.25 });
  const mlp = createBackbone("lenet", { numClasses: 3, width: 0.25, headHidden: [8] });
  try {
    const layer = needLastLayer(net, "test");
    assert.equal(layer.kernel.dim, 3);
    assert.equal(layer.kernel.data.length, net.featureDim * 3);
    assert.equal(layer.bias.length, 3);
    const x = tf.randomNormal([2, ...net.inputShape], 0, 1, "float32", 3) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const [viaLayer, logits] = tf.tidy(() => {
      const f = net.features(x);
      return [layerLogits(f, layer), net.logits(x)];
    });
    assertClose(await viaLayer.data(), await logits.data(), 1e-5, "features·W + b vs logits");
    tf.dispose([viaLayer, logits]);
    assert.equal(tf.memory().numTensors, before);
    layer.kernel.data[0] = 1e6; // a copy: the network's weights are untouched
    assert.notEqual(needLastLayer(net, "test").kernel.data[0], 1e6);
    x.dispose();
    assert.equal(mlp.lastLayer, undefined);
    assert.throws(() => needLastLayer(mlp, "ReAct"), /ReAct needs the classifier's last linear layer .* MLP head/);
  } finally {
    net.model.dispose();
    mlp.model.dispose();
  }
});
