/**
 * Parameter counts of the full-size networks against the reference PyTorch definitions
 * (testdata/param_counts.json, written by testdata/param_counts.py from the papers' model code).
 *
 * TF.js keeps BatchNorm's moving mean and variance as non-trainable weights where PyTorch keeps them as buffers,
 * so trainable weights are compared with PyTorch's parameters and non-trainable weights with its running
 * statistics; `model.countParams()` is their sum. Both must match exactly: the architectures are identical.
 */
import assert from "node:assert/strict";
import { initBackend } from "@lib/engine/mod.ts";
import { type BackboneOptions, createBackbone } from "@lib/backbones/mod.ts";
import type { tf } from "@lib/tf.ts";

await initBackend({ backend: "native", log: null });

interface Case {
  backbone: string;
  options: BackboneOptions & Record<string, unknown>;
  params: number;
  buffers: number;
  source: string;
}
const reference = JSON.parse(await Deno.readTextFile(new URL("./testdata/param_counts.json", import.meta.url))) as {
  cases: Record<string, Case>;
};

const size = (weights: tf.LayerVariable[]) =>
  weights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);

for (const [key, c] of Object.entries(reference.cases)) {
  Deno.test(`createBackbone("${c.backbone}") at full width has the parameter count of ${c.source} (${key})`, () => {
    const net = createBackbone(c.backbone, c.options);
    try {
      assert.equal(size(net.model.trainableWeights), c.params, "trainable weights vs PyTorch parameters");
      assert.equal(size(net.model.nonTrainableWeights), c.buffers, "non-trainable weights vs BN running statistics");
      assert.equal(net.model.countParams(), c.params + c.buffers);
    } finally {
      net.model.dispose();
    }
  });
}

Deno.test("the parameter-count reference covers the ballparks of the backbone issue", () => {
  const millions = (key: string) => +(reference.cases[key]!.params / 1e6).toFixed(2);
  assert.equal(millions("resnet18"), 11.17);
  assert.equal(millions("resnet34"), 21.28);
  assert.equal(millions("densenet_bc_100"), 0.77);
  assert.equal(millions("wrn_28_10"), 36.48);
  assert.equal(millions("wrn_40_2"), 2.24);
});
