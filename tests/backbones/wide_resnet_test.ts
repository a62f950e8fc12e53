import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { wrn28x10, wrn40x2 } from "@lib/backbones/wide_resnet.ts";
import { assertLastStageIsFeatures } from "./_helpers.ts";

await initBackend({ backend: "native", log: null });

Deno.test("wrn28x10() has stage widths 16/160/320/640 (scaled by width) with the last stage equal to the features", async () => {
  const net = wrn28x10({ numClasses: 10, width: 0.1, inputShape: [8, 8, 3] });
  assert.deepEqual(net.featureListDims, [2, 16, 32, 64]);
  await assertLastStageIsFeatures(net);
  net.model.dispose();
});

Deno.test("wrn40x2() rejects a depth that is not 4 + 6·n", () => {
  assert.throws(() => wrn40x2({ numClasses: 10, depth: 30 }), /4 \+ 6·n/);
  assert.throws(() => wrn40x2({ numClasses: 10, widenFactor: 0 }), RangeError);
});

Deno.test("wrn40x2({ dropRate }) drops activations in training mode only", async () => {
  const net = wrn40x2({ numClasses: 10, depth: 10, width: 0.25, dropRate: 0.5, inputShape: [8, 8, 3] });
  const x = tf.randomNormal([2, 8, 8, 3]) as tf.Tensor4D;
  const outs = [net.logits(x), net.logits(x), net.logits(x, { training: true }), net.logits(x, { training: true })];
  const [a, b, c, d] = await Promise.all(outs.map((t) => t.data()));
  assert.deepEqual(a, b, "inference is deterministic");
  assert.notDeepEqual(c, d, "training mode draws new dropout masks");
  tf.dispose([x, ...outs]);
  net.model.dispose();
});
