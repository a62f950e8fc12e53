import assert from "node:assert/strict";
import { initBackend } from "@lib/engine/mod.ts";
import { denseLayersPerBlock, densenetBc } from "@lib/backbones/densenet.ts";
import { NonAffineBatchNormalization } from "@lib/layers/non_affine_batch_norm.ts";
import { assertLastStageIsFeatures } from "./_helpers.ts";

await initBackend({ backend: "native", log: null });

Deno.test("denseLayersPerBlock() gives 16 for DenseNet-BC-100 and rejects other depths, listing valid ones", () => {
  assert.equal(denseLayersPerBlock(100, true), 16);
  assert.equal(denseLayersPerBlock(40, false), 12);
  assert.throws(() => denseLayersPerBlock(101, true), /4 \+ 6·n .*\(e\.g\. 10, 16, 40, 100\), got 101/);
  assert.throws(() => densenetBc({ numClasses: 10, depth: 50 }), RangeError);
  assert.throws(() => densenetBc({ numClasses: 10, compression: 0 }), RangeError);
});

Deno.test("densenetBc() has ODIN's feature_list widths 24/108/150/342 and 342-d features", async () => {
  const net = densenetBc({ numClasses: 10, inputShape: [8, 8, 3] });
  assert.deepEqual(net.featureListDims, [24, 108, 150, 342]);
  assert.equal(net.featureDim, 342);
  await assertLastStageIsFeatures(net);
  net.model.dispose();
});

Deno.test("densenetBc({ affineBatchNorm: false }) normalises with NonAffineBatchNormalization only", () => {
  const net = densenetBc({ numClasses: 10, depth: 16, width: 0.25, affineBatchNorm: false });
  const norms = net.model.layers.filter((l) => /BatchNormalization/.test(l.getClassName()));
  assert.ok(norms.length > 0 && norms.every((l) => l instanceof NonAffineBatchNormalization));
  assert.ok(norms.every((l) => l.trainableWeights.length === 0));
  net.model.dispose();
});

Deno.test("densenetBc({ dropRate }) puts a dropout after every convolution but the stem", () => {
  const net = densenetBc({ numClasses: 10, depth: 16, width: 0.25, dropRate: 0.3 });
  const count = (cls: string) => net.model.layers.filter((l) => l.getClassName() === cls).length;
  assert.equal(count("Dropout"), count("Conv2D") - 1);
  net.model.dispose();
});
