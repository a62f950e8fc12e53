import assert from "node:assert/strict";
import { initBackend } from "@lib/engine/mod.ts";
import { resnet18, resnet20, resnet34 } from "@lib/backbones/resnet.ts";
import { assertLastStageIsFeatures } from "./_helpers.ts";

await initBackend({ backend: "native", log: null });

Deno.test("resnet18() and resnet34() expose the stem and the four stages in featureList, the last equal to features", async () => {
  for (const make of [resnet18, resnet34]) {
    const net = make({ numClasses: 10, width: 0.125, inputShape: [16, 16, 3] });
    assert.deepEqual(net.featureListDims, [8, 8, 16, 32, 64]);
    assert.equal(net.featureDim, 64);
    await assertLastStageIsFeatures(net);
    net.model.dispose();
  }
});

Deno.test("resnet20() with padding shortcuts has no 1×1 shortcut convolutions", () => {
  const kernels = (shortcut: "projection" | "padding") => {
    const net = resnet20({ numClasses: 10, shortcut });
    const n = net.model.layers.filter((l) => l.getClassName() === "Conv2D").length;
    net.model.dispose();
    return n;
  };
  assert.equal(kernels("projection"), 21);
  assert.equal(kernels("padding"), 19);
});

Deno.test("resnet20() rejects an unknown shortcut, listing the valid ones", () => {
  assert.throws(
    () => resnet20({ numClasses: 10, shortcut: "identity" as "padding" }),
    /Unknown shortcut "identity". Valid: projection, padding/,
  );
});
