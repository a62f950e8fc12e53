import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { createBackbone } from "@lib/backbones/mod.ts";
import { seedEverything, unseed } from "@lib/train/mod.ts";
import { trainCeBaseline } from "@lib/methods/vmdls/ce_baseline.ts";
import { vmdlsBatchSource } from "@lib/methods/vmdls/train.ts";
import { toyDataset } from "../../experiment/_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

const train = toyDataset(96, 1, "toy-train");
const recipe = {
  epochs: 6,
  lr: 3e-3,
  classesPerBatch: 2,
  samplesPerClass: 8,
  augment: [{ op: "randomRotation", degrees: 10 }],
} as const;

function toyBackbone(seed: number) {
  seedEverything(seed);
  try {
    return createBackbone("mnist_conv", { numClasses: 2, width: 0.1, inputShape: [8, 8, 1] });
  } finally {
    unseed();
  }
}

Deno.test("trainCeBaseline(): cross-entropy on VMDLS's balanced batches falls, is seeded, and leaks nothing", async () => {
  const run = async () => {
    const net = toyBackbone(0);
    const before = tf.memory().numTensors;
    const out = await trainCeBaseline(net, train, { seed: 1, ...recipe });
    assert.equal(tf.memory().numTensors, before, "no tensor kept");
    const weights = net.model.getWeights().map((w) => Array.from(w.dataSync()));
    net.model.dispose();
    return { out, weights };
  };
  const a = await run(), b = await run();
  const batches = vmdlsBatchSource(train, {
    seed: 1,
    ...recipe,
    latentDim: 1,
    normalization: { mean: [0.5], std: [0.5] },
  });
  assert.equal(a.out.steps, recipe.epochs * batches.length!(0), "VMDLS's batches per epoch");
  assert.equal(a.out.losses.length, recipe.epochs);
  assert.ok(a.out.losses.at(-1)! < a.out.losses[0]!, `loss ${a.out.losses[0]} → ${a.out.losses.at(-1)}`);
  assert.deepEqual(a.weights, b.weights, "same seeds, same weights");
  assert.equal(a.out.config.optimizer, "adam", "the MNIST command's optimiser by default");
});

Deno.test("trainCeBaseline(): the SGD recipe (ResNet / DenseNet commands) trains too", async () => {
  const net = toyBackbone(0);
  const out = await trainCeBaseline(net, train, { seed: 1, ...recipe, optimizer: "sgd", lr: 0.05, epochs: 3 });
  assert.ok(out.losses.every(Number.isFinite));
  assert.ok(out.losses.at(-1)! < out.losses[0]!);
  net.model.dispose();
});
