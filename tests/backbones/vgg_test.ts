import assert from "node:assert/strict";
import { initBackend } from "@lib/engine/mod.ts";
import { vgg16Bn, VGG_CONFIGS, vmdlsVgg } from "@lib/backbones/vgg.ts";
import { assertLastStageIsFeatures } from "./_helpers.ts";

await initBackend({ backend: "native", log: null });

Deno.test("VGG_CONFIGS have Simonyan & Zisserman's 8/10/13/16 convolutions and 5 pools", () => {
  const convs = Object.values(VGG_CONFIGS).map((c) => c.filter((v) => v !== "M").length);
  const pools = Object.values(VGG_CONFIGS).map((c) => c.filter((v) => v === "M").length);
  assert.deepEqual(convs, [8, 10, 13, 16]);
  assert.deepEqual(pools, [5, 5, 5, 5]);
});

Deno.test("vgg16Bn() exposes every max-pool's output in featureList, the last equal to the features", async () => {
  const net = vgg16Bn({ numClasses: 10, width: 0.125 });
  assert.deepEqual(net.featureListDims, [8, 16, 32, 64, 64]);
  await assertLastStageIsFeatures(net);
  net.model.dispose();
});

Deno.test("vmdlsVgg() has VMDLS's 1024-d feature and feature-ensemble widths 128/256/256/1024", async () => {
  const net = vmdlsVgg({ numClasses: 10 });
  assert.equal(net.featureDim, 1024);
  assert.deepEqual(net.featureListDims, [128, 256, 256, 1024]);
  await assertLastStageIsFeatures(net);
  net.model.dispose();
});
