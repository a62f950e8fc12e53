import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { chooseConstraint, estimateLossConstraint } from "@lib/methods/unleashing_mask/estimate.ts";
import { evaluateClassifier } from "@lib/train/classifier.ts";
import { seedEverything } from "@lib/train/seed.ts";
import { tinyDataset, tinyNet } from "./_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

Deno.test("estimateLossConstraint() is the mean training CE under random masks: keep 1 = the unmasked model", async () => {
  seedEverything(0);
  const net = tinyNet(), ds = tinyDataset(40, 7);
  const plain = await evaluateClassifier(net, ds, { batchSize: 16 });
  const all = await estimateLossConstraint(net, ds, { keepRate: 1, draws: 2, batchSize: 16, seed: 1 });
  for (const d of [...all.draws, all.unmasked]) assert.ok(Math.abs(d - plain.loss) < 1e-5, `${d} vs ${plain.loss}`);
  assert.ok(Math.abs(all.std) < 1e-6);
  assert.equal(all.images, 40);
});

Deno.test("estimateLossConstraint() draws a different mask per draw, reproducibly, and reports mean and sample std", async () => {
  seedEverything(0);
  const net = tinyNet(), ds = tinyDataset(40, 7);
  const before = tf.memory().numTensors;
  const a = await estimateLossConstraint(net, ds, { keepRate: 0.5, draws: 3, batchSize: 16, seed: 4 });
  assert.equal(tf.memory().numTensors, before, "no tensors kept");
  const b = await estimateLossConstraint(net, ds, { keepRate: 0.5, draws: 3, batchSize: 16, seed: 4 });
  assert.deepEqual(a.draws, b.draws, "same seed, same masks");
  assert.ok(new Set(a.draws).size === 3, `three different masks: ${a.draws}`);
  assert.ok(a.draws.every((d) => Math.abs(d - a.unmasked) > 1e-7), "masking changes the loss");
  const mean = a.draws.reduce((s, v) => s + v, 0) / 3;
  const std = Math.sqrt(a.draws.reduce((s, v) => s + (v - mean) ** 2, 0) / 2);
  assert.ok(Math.abs(a.mean - mean) < 1e-12 && Math.abs(a.std - std) < 1e-12);
  assert.equal(a.accuracies.length, 3);
});

Deno.test("chooseConstraint(): manual wins; faithful takes the first draw, clean the mean", () => {
  const est = {
    keepRate: 0.965,
    draws: [0.3, 0.5],
    accuracies: [1, 1],
    mean: 0.4,
    std: 0.14,
    unmasked: 0.2,
    images: 9,
  };
  assert.deepEqual(chooseConstraint(est, "clean", 0.15).value, 0.15);
  assert.equal(chooseConstraint(est, "clean", 0.15).source, "manual");
  assert.equal(chooseConstraint(est, "faithful", null).value, 0.3);
  assert.equal(chooseConstraint(est, "clean", null).value, 0.4);
  assert.match(chooseConstraint(est, "clean", null).how, /mean over 2 seeded random masks/);
});
