/** Shared check: the same seed gives bit-identical losses on the active engine, a different seed does not. */
import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { batchNormalization } from "@lib/layers/batch_norm.ts";
import { seedEverything } from "@lib/train/seed.ts";

/** Seeds, builds a small conv net with BatchNorm and dropout, trains `steps` SGD steps; returns the losses. */
export function lossesForSeed(seed: number, steps = 3): number[] {
  seedEverything(seed);
  const inp = tf.input({ shape: [8, 8, 2] });
  let h = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: "same", useBias: false }).apply(
    inp,
  ) as tf.SymbolicTensor;
  h = batchNormalization().apply(h) as tf.SymbolicTensor;
  h = tf.layers.dropout({ rate: 0.5 }).apply(tf.layers.reLU().apply(h)) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3 }).apply(tf.layers.flatten().apply(h)) as tf.SymbolicTensor;
  const model = tf.model({ inputs: inp, outputs: out });
  const x = tf.randomNormal([6, 8, 8, 2]);
  const y = tf.oneHot(tf.randomUniform([6], 0, 3, "int32") as tf.Tensor1D, 3);
  const opt = tf.train.momentum(0.05, 0.9);
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const loss = opt.minimize(
      () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
      true,
    )!;
    losses.push(loss.dataSync()[0]!);
    loss.dispose();
  }
  tf.dispose([x, y]);
  model.dispose();
  opt.dispose();
  return losses;
}

/** Asserts determinism for the engine that is running. */
export function assertSeedDeterminism(): void {
  const a = lossesForSeed(1), b = lossesForSeed(1), c = lossesForSeed(2);
  assert.deepEqual(b, a, `same seed, different losses on ${tf.getBackend()}`);
  assert.notDeepEqual(c, a, "a different seed gave the same losses");
  assert.ok(a.every(Number.isFinite));
}
