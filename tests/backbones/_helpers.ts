/** Shared helpers of the backbone tests. */
import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import type { Backbone } from "@lib/backbones/mod.ts";

/** Asserts that the last featureList entry equals the features (to float rounding), and disposes everything. */
export async function assertLastStageIsFeatures(net: Backbone): Promise<void> {
  const x = tf.randomNormal([2, ...net.inputShape]) as tf.Tensor4D;
  const list = net.featureList!(x), features = net.features(x);
  const [a, b] = [await list.at(-1)!.data(), await features.data()];
  assert.equal(a.length, b.length);
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) <= 1e-5 * Math.max(1, Math.abs(b[i]!)), `entry ${i}`));
  tf.dispose([x, features, ...list]);
}
