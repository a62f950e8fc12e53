import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { createBackbone } from "@lib/backbones/mod.ts";
import { seedEverything, unseed } from "@lib/train/mod.ts";
import { vmdlsNet } from "@lib/methods/vmdls/network.ts";
import { trainVmdls, VMDLS_MNIST_TRAIN, vmdlsBatchSource, type VmdlsTrainOptions } from "@lib/methods/vmdls/train.ts";
import { toyDataset } from "../../experiment/_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

const train = toyDataset(96, 1, "toy-train");

function toyNet(seed: number) {
  seedEverything(seed);
  try {
    return vmdlsNet(createBackbone("mnist_conv", { numClasses: 2, width: 0.1, inputShape: [8, 8, 1] }), {
      latentDim: 4,
    });
  } finally {
    unseed();
  }
}

/** 2 × 8 batches (5 per epoch on 96 images), Adam 3e-3, a fixed distancing margin so losses are comparable. */
const toyOpts = (over: Partial<VmdlsTrainOptions> = {}): VmdlsTrainOptions => ({
  seed: 3,
  epochs: 4,
  lr: 3e-3,
  classesPerBatch: 2,
  samplesPerClass: 8,
  marginSchedule: { start: 0.5, jump: 0, fromEpoch: 1, max: 32 },
  augment: [{ op: "randomRotation", degrees: 10 }],
  ...over,
});

async function run(over: Partial<VmdlsTrainOptions> = {}, seed = 0) {
  const net = toyNet(seed);
  try {
    const before = tf.memory().numTensors;
    const out = await trainVmdls(net, train, toyOpts(over));
    assert.equal(tf.memory().numTensors, before, "trainVmdls leaked tensors");
    const weights = net.model.getWeights().map((w) => Array.from(w.dataSync()));
    return { ...out, weights, means: Array.from(net.classMeans.dataSync()) };
  } finally {
    net.dispose();
    net.model.dispose();
  }
}

Deno.test("trainVmdls: defaults are the reference's MNIST command", () => {
  assert.equal(VMDLS_MNIST_TRAIN.lr, 1e-4);
  assert.equal(VMDLS_MNIST_TRAIN.stepSize, 100);
  assert.equal(VMDLS_MNIST_TRAIN.classesPerBatch * VMDLS_MNIST_TRAIN.samplesPerClass, 160);
  assert.deepEqual({ ...VMDLS_MNIST_TRAIN.marginSchedule }, { start: 0.15, jump: 1, fromEpoch: 1, max: 32 });
  assert.equal(VMDLS_MNIST_TRAIN.generationEpoch, 0);
});

Deno.test("vmdlsBatchSource: balanced batches, ε of [B, D], a function of (seed, epoch)", () => {
  const opts = {
    seed: 1,
    classesPerBatch: 2,
    samplesPerClass: 8,
    augment: [],
    latentDim: 4,
    normalization: { mean: [0.5], std: [0.5] },
  };
  const read = (epoch: number, skip = 0) => {
    const src = vmdlsBatchSource(train, opts);
    return [...(src.epoch(epoch, skip) as Iterable<{ x: tf.Tensor; y: tf.Tensor; labels: Int32Array; eps: tf.Tensor }>)]
      .map((b) => {
        const r = { labels: Array.from(b.labels), eps: Array.from(b.eps.dataSync()), shape: b.eps.shape };
        tf.dispose([b.x, b.y, b.eps]);
        return r;
      });
  };
  const e0 = read(0);
  assert.equal(e0.length, 5); // count + 16 < 96
  for (const b of e0) {
    assert.deepEqual(b.shape, [16, 4]);
    assert.equal(b.labels.filter((y) => y === 0).length, 8);
  }
  assert.deepEqual(read(0), e0, "same seed and epoch, same batches");
  assert.notDeepEqual(read(1), e0, "another epoch, other batches");
  assert.deepEqual(read(0, 2), e0.slice(2), "skipping replays the streams");
});

Deno.test("trainVmdls: the loss decreases, the curve has its terms, and a seed fixes the run", async () => {
  const a = await run();
  assert.equal(a.curve.length, 4);
  assert.equal(a.steps, 20);
  for (const p of a.curve) {
    assert.ok(Math.abs(p.loss - (p.triplet + p.kl)) < 1e-5, `loss = triplet + KL at epoch ${p.epoch}`);
    assert.ok(p.kl > 0, "KL on from epoch 0 (generation_epoch 0)");
    assert.equal(p.distancingMargin, 0.5);
    assert.equal(p.lr, 3e-3);
  }
  assert.ok(a.curve[3]!.loss < a.curve[0]!.loss, `loss ${a.curve.map((p) => p.loss.toFixed(4)).join(" → ")}`);
  assert.equal(a.classMeans.length, 2);
  assert.deepEqual(a.means, a.classMeans.flat().map(Math.fround), "the net's NCM means are the last epoch's");
  const b = await run();
  assert.deepEqual(b.curve.map((p) => [p.loss, p.triplet, p.kl]), a.curve.map((p) => [p.loss, p.triplet, p.kl]));
  assert.deepEqual(b.weights, a.weights, "same seed, same weights");
  const c = await run({ seed: 4 });
  assert.notDeepEqual(c.weights, a.weights, "another data seed, other weights");
});

Deno.test("trainVmdls: the ablation switches remove their terms; the margin schedule and generation epoch apply", async () => {
  const noKl = await run({ epochs: 2, ablate: { kl: false } });
  for (const p of noKl.curve) {
    assert.equal(p.kl, 0);
    assert.ok(Math.abs(p.loss - p.triplet) < 1e-6);
  }
  const noDist = await run({ epochs: 2, ablate: { distancing: false } });
  assert.deepEqual(noDist.curve.map((p) => p.distancingMargin), [0, 0]);
  const withDist = await run({ epochs: 1 });
  // Epoch 0 starts from the same weights and batches: the plain triplet loss is below triplet + distancing.
  assert.ok(noDist.curve[0]!.triplet < withDist.curve[0]!.triplet);
  const late = await run({ epochs: 3, generationEpoch: 2, marginSchedule: VMDLS_MNIST_TRAIN.marginSchedule });
  assert.deepEqual(late.curve.map((p) => p.kl > 0), [false, false, true]);
  assert.deepEqual(late.curve.map((p) => p.distancingMargin), [0.15, 1.15, 2.15]);
});

Deno.test("trainVmdls: a run stopped mid-epoch and resumed from its checkpoint ends with the same weights", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const straight = await run({ epochs: 2 });
    const first = await run({ epochs: 2, runDir: dir, maxSteps: 7 });
    assert.equal(first.steps, 7);
    const resumed = await run({ epochs: 2, runDir: dir }, 99); // other init: the checkpoint's weights win
    assert.ok(resumed.resumedFrom);
    assert.equal(resumed.steps, 10);
    assert.deepEqual(resumed.weights, straight.weights);
    assert.deepEqual(resumed.means, straight.means, "class-mean tracker resumed");
    assert.equal(resumed.curve.at(-1)!.loss, straight.curve.at(-1)!.loss);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("trainVmdls: the SGD recipe (`--opt sgd`: momentum 0.9, Nesterov, weight decay 1e-4) trains and differs from Adam", async () => {
  const adam = await run({ epochs: 2 });
  const sgd = await run({ epochs: 2, optimizer: "sgd", lr: 0.05 });
  assert.equal(sgd.config.optimizer, "sgd");
  assert.ok(sgd.curve.every((p) => Number.isFinite(p.loss)));
  assert.notDeepEqual(sgd.weights, adam.weights);
  const initial = toyNet(0);
  const before = initial.model.getWeights().map((w) => Array.from(w.dataSync()));
  initial.dispose();
  initial.model.dispose();
  assert.notDeepEqual(sgd.weights, before, "SGD moved the weights");
});
