import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { type Backbone, createBackbone } from "@lib/backbones/mod.ts";
import { seedEverything, unseed } from "@lib/train/mod.ts";
import {
  ELOC_TRAIN,
  type ElocBatch,
  elocBatchSource,
  type ElocTrainOptions,
  selectionAuroc,
  trainLeaveOut,
} from "@lib/methods/eloc/train.ts";
import { blobDataset, noiseDataset, toyDataset } from "../../experiment/_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

const NORM = { mean: [0.5], std: [0.5] };

Deno.test("ELOC_TRAIN is the reference's recipe", () => {
  const { augment, milestones, ...rest } = ELOC_TRAIN;
  assert.deepEqual(rest, {
    epochs: 100,
    lr: 0.1,
    momentum: 0.9,
    weightDecay: 5e-4,
    gamma: 0.1,
    batchSize: 100,
    oodBatchSize: 100,
    beta: 0.2,
    margin: 0.4,
  });
  assert.deepEqual([...milestones], [50, 75]);
  assert.deepEqual(augment, [{ op: "randomCrop", size: 32, padding: 4 }, { op: "horizontalFlip" }]);
});

Deno.test("selectionAuroc() follows eloc_solver.py val() (hand-computed)", () => {
  // Thresholds 0, .3001, .6001, .7001, .9001, 1: (1−½)·1 at .3001, (½−0)·½ at .7001 → 0.75 (= pairwise AUROC).
  assert.ok(Math.abs(selectionAuroc([0.9, 0.6], [0.7, 0.3]) - 0.75) < 1e-12);
  // Unequal sizes: ½·1 at .1001 + ½·⅓ at .6001 = ⅔.
  assert.ok(Math.abs(selectionAuroc([0.9, 0.5, 0.2], [0.6, 0.1]) - 2 / 3) < 1e-12);
  assert.equal(selectionAuroc([0.9, 0.8], [0.2, 0.1]), 1);
  assert.equal(selectionAuroc([0.2, 0.1], [0.9, 0.8]), 0);
  // Ties count as misordered (s + 1e-4 excludes s): a tie gives 0, not ½; so do scores within 1e-4.
  assert.equal(selectionAuroc([0.5], [0.5]), 0);
  assert.equal(selectionAuroc([0.8], [0.79995]), 0);
  // Saturated MSP: ID (1, 1) vs OOD (1, ½): ½ at .5001, nothing at 1 or 1.0001 → ½ (the ½-tie AUROC is ¾).
  assert.equal(selectionAuroc([1, 1], [1, 0.5]), 0.5);
  assert.ok(Number.isNaN(selectionAuroc([], [0.5])));
});

function readEpoch(src: ReturnType<typeof elocBatchSource>, epoch: number, skip = 0) {
  const out = [];
  for (const b of src.epoch(epoch, skip) as Iterable<ElocBatch>) {
    out.push({
      indices: Array.from(b.indices),
      oodIndices: Array.from(b.oodIndices),
      labels: Array.from(b.y.dataSync()),
      x: Array.from(b.x.dataSync()),
      xOod: b.xOod ? Array.from(b.xOod.dataSync()) : null,
      shapes: [b.x.shape, b.xOod?.shape ?? null],
      state: src.getState!(),
    });
    tf.dispose([b.x, b.y, ...(b.xOod ? [b.xOod] : [])]);
  }
  return out;
}

Deno.test("elocBatchSource(): one ID pass per epoch, last batch partial; left-out batches cycle and reshuffle", () => {
  const id = toyDataset(10, 1), leftOut = noiseDataset(7, 2);
  const opts = { seed: 5, batchSize: 4, oodBatchSize: 3, augment: [], normalization: NORM };
  const src = elocBatchSource(id, leftOut, opts);
  assert.equal(src.length!(0), 3); // ⌈10/4⌉, drop_last=False
  const e0 = readEpoch(src, 0);
  assert.deepEqual(e0.map((b) => b.indices.length), [4, 4, 2]);
  assert.deepEqual(e0.flatMap((b) => b.indices).sort((a, b) => a - b), [...Array(10).keys()]);
  for (const b of e0) assert.deepEqual(b.labels, b.indices.map((i) => id.labels[i]!));
  // Left-out: ⌈7/3⌉ = 3 batches per pass (3, 3, 1), the pass covering all 7 images.
  assert.deepEqual(e0.map((b) => b.oodIndices.length), [3, 3, 1]);
  assert.deepEqual(e0.flatMap((b) => b.oodIndices).sort((a, b) => a - b), [...Array(7).keys()]);
  // x holds the normalised pixels of exactly those images (no augmentation here).
  const first = e0[0]!;
  assert.ok(Math.abs(first.xOod![0]! - (leftOut.images[first.oodIndices[0]! * 64]! / 255 - 0.5) / 0.5) < 1e-6);
  assert.deepEqual(first.shapes, [[4, 8, 8, 1], [3, 8, 8, 1]]);

  // 20 ID images → 5 steps: passes (3, 3, 1) then a fresh shuffle (3, 3).
  const long = readEpoch(elocBatchSource(toyDataset(20, 1), leftOut, opts), 0);
  assert.deepEqual(long.map((b) => b.oodIndices.length), [3, 3, 1, 3, 3]);
  const pass1 = long.slice(0, 3).flatMap((b) => b.oodIndices), pass2 = long.slice(3).flatMap((b) => b.oodIndices);
  assert.deepEqual([...pass1].sort(), [...Array(7).keys()].sort());
  assert.equal(new Set(pass2).size, 6);

  // Seeded: same (seed, epoch) → same batches; another epoch or seed → another order.
  assert.deepEqual(
    readEpoch(elocBatchSource(id, leftOut, opts), 0).map((b) => [b.indices, b.oodIndices]),
    e0.map((b) => [b.indices, b.oodIndices]),
  );
  const e1 = readEpoch(src, 1);
  assert.notDeepEqual(e1.map((b) => b.indices), e0.map((b) => b.indices));
  const other = readEpoch(elocBatchSource(id, leftOut, { ...opts, seed: 6 }), 0);
  assert.notDeepEqual(other.map((b) => b.oodIndices), e0.map((b) => b.oodIndices));
});

Deno.test("elocBatchSource(): augmented batches resume bit-identically (saved streams or replay)", () => {
  const id = toyDataset(12, 1), leftOut = noiseDataset(5, 2);
  const opts = {
    seed: 9,
    batchSize: 4,
    oodBatchSize: 2,
    augment: [{ op: "randomCrop", size: 8, padding: 2 }, { op: "horizontalFlip" }] as const,
    normalization: NORM,
  };
  const full = readEpoch(elocBatchSource(id, leftOut, opts), 2);
  const plain = readEpoch(elocBatchSource(id, leftOut, { ...opts, augment: [] }), 2);
  assert.notDeepEqual(full[0]!.x, plain[0]!.x, "augmentation changes the pixels");
  assert.notDeepEqual(full[0]!.xOod, plain[0]!.xOod, "the left-out batch is augmented too");
  const restored = elocBatchSource(id, leftOut, opts);
  restored.setState!(full[0]!.state);
  const tail = readEpoch(restored, 2, 1);
  assert.deepEqual(tail.map((b) => [b.x, b.xOod]), full.slice(1).map((b) => [b.x, b.xOod]));
  const replayed = readEpoch(elocBatchSource(id, leftOut, opts), 2, 1);
  assert.deepEqual(replayed.map((b) => [b.x, b.xOod]), full.slice(1).map((b) => [b.x, b.xOod]));
});

Deno.test("elocBatchSource(): no left-out set gives ID batches only", () => {
  const b = readEpoch(
    elocBatchSource(toyDataset(6, 1), null, {
      seed: 0,
      batchSize: 4,
      oodBatchSize: 3,
      augment: [],
      normalization: NORM,
    }),
    0,
  );
  assert.deepEqual(b.map((x) => [x.indices.length, x.xOod, x.oodIndices.length]), [[4, null, 0], [2, null, 0]]);
});

// ---- trainLeaveOut on the toy data: 2 ID classes (8×8), noise as the left-out set ----

const idTrain = toyDataset(32, 1, "toy-train");
const leftOutTrain = noiseDataset(16, 2, "noise-train");
const valId = toyDataset(16, 3, "toy-val");
const valOod = blobDataset(12, "blob-val");
const flat = blobDataset(4, "flat"); // identical images: every score ties, AUROC 0 at every epoch

function toyNet(seed: number): Backbone {
  seedEverything(seed);
  try {
    return createBackbone("lenet", { numClasses: 2, width: 0.25, inputShape: [8, 8, 1], normalization: NORM });
  } finally {
    unseed();
  }
}

const toyOpts = (over: Partial<ElocTrainOptions> = {}): ElocTrainOptions => ({
  seed: 4,
  epochs: 4,
  lr: 0.05,
  batchSize: 8,
  oodBatchSize: 8,
  augment: [],
  milestones: [3],
  ...over,
});

const weightsOf = (b: Backbone) => b.model.getWeights().map((w) => Array.from(w.dataSync()));

Deno.test("trainLeaveOut(): loss falls, selectors keep their best epoch, useSelection restores it, no leak", async () => {
  const net = toyNet(0);
  try {
    const before = tf.memory().numTensors;
    const atEpoch: number[][][] = [];
    const r = await trainLeaveOut(net, idTrain, leftOutTrain, {
      ...toyOpts(),
      selectors: [{ name: "blob", id: valId, ood: valOod }, { name: "flat", id: flat, ood: flat }],
      evalBatchSize: 7,
      onEpoch: () => {
        atEpoch.push(weightsOf(net));
      },
    });
    const last = weightsOf(net);
    assert.equal(r.curve.length, 4);
    assert.equal(r.steps, 4 * 4);
    assert.ok(r.curve[3]!.loss < r.curve[0]!.loss, `loss ${r.curve.map((p) => p.loss)}`);
    assert.deepEqual(r.curve.map((p) => p.lr), [0.05, 0.05, 0.05, 0.05 * 0.1]); // milestone 3, γ 0.1
    for (const p of r.curve) {
      assert.ok(p.loss >= p.ce - 1e-6, "L ≥ CE");
      assert.ok(p.entropyId >= 0 && p.entropyOod >= 0 && p.entropyOod <= Math.log(2) + 1e-6);
      assert.equal(p.validation.flat, 0);
    }
    // The flat selector never improves on epoch 0; the blob one keeps its first best epoch.
    assert.deepEqual(r.selected.flat, { epoch: 0, auroc: 0 });
    const aurocs = r.curve.map((p) => p.validation.blob!);
    const best = Math.max(...aurocs);
    assert.deepEqual(r.selected.blob, { epoch: aurocs.indexOf(best), auroc: best });
    // Here AUROC 0.5 at epoch 0, then 1, 1, 1: the later ties do not replace epoch 1's snapshot (strictly better).
    assert.ok(r.selected.blob!.epoch > 0 && aurocs.lastIndexOf(best) > r.selected.blob!.epoch, `${aurocs}`);
    assert.deepEqual(last, atEpoch[3], "the last weights stay until useSelection");
    r.useSelection("flat");
    assert.deepEqual(weightsOf(net), atEpoch[0]);
    r.useSelection("blob");
    assert.deepEqual(weightsOf(net), atEpoch[r.selected.blob!.epoch]);
    assert.throws(() => r.useSelection("nope"), /no snapshot for "nope"/);
    r.dispose();
    assert.equal(tf.memory().numTensors, before, "trainLeaveOut + dispose leaked tensors");
    assert.deepEqual(weightsOf(net), atEpoch[r.selected.blob!.epoch], "weights survive dispose");
  } finally {
    net.model.dispose();
  }
});

Deno.test("trainLeaveOut(): seeded runs are identical; marginEntropy false is CE only", async () => {
  const run = async (over: Partial<ElocTrainOptions>) => {
    const net = toyNet(1);
    try {
      const r = await trainLeaveOut(net, idTrain, leftOutTrain, { ...toyOpts({ epochs: 2 }), ...over });
      r.dispose();
      return { curve: r.curve.map(({ seconds: _, validationSeconds: __, ...p }) => p), weights: weightsOf(net), r };
    } finally {
      net.model.dispose();
    }
  };
  const a = await run({}), b = await run({});
  assert.deepEqual(a.curve, b.curve);
  assert.deepEqual(a.weights, b.weights);
  const ce = await run({ marginEntropy: false });
  assert.equal(ce.r.config.beta, 0);
  for (const p of ce.curve) assert.ok(Math.abs(p.loss - p.ce) < 1e-6, `β = 0: loss ${p.loss} vs ce ${p.ce}`);
  assert.notDeepEqual(ce.weights, a.weights);
  assert.deepEqual(a.r.selected, {}, "no selectors: nothing selected");
});

Deno.test("trainLeaveOut(): ID and left-out batches go through the model in two training-mode passes", async () => {
  const net = toyNet(2);
  const calls: [number, boolean][] = [];
  const spy: Backbone = {
    ...net,
    logits: (x, o) => {
      calls.push([x.shape[0], o?.training ?? false]);
      return net.logits(x, o);
    },
  };
  try {
    const r = await trainLeaveOut(spy, toyDataset(10, 1), noiseDataset(7, 2), {
      ...toyOpts({ epochs: 1, batchSize: 4, oodBatchSize: 3 }),
      selectors: [{ name: "v", id: valId, ood: valOod }],
      evalBatchSize: 100,
    });
    r.dispose();
    assert.deepEqual(calls, [[4, true], [3, true], [4, true], [3, true], [2, true], [1, true], [16, false], [
      12,
      false,
    ]]);
    calls.length = 0;
    const noLeftOut = await trainLeaveOut(spy, toyDataset(10, 1), null, toyOpts({ epochs: 1, batchSize: 4 }));
    noLeftOut.dispose();
    assert.deepEqual(calls, [[4, true], [4, true], [2, true]]);
    assert.ok(Number.isNaN(noLeftOut.curve[0]!.entropyOod));
  } finally {
    net.model.dispose();
  }
});

Deno.test("trainLeaveOut(): a run stopped and resumed from runDir ends with the same weights and selections", async () => {
  const dir = await Deno.makeTempDir();
  const selectors = [{ name: "blob", id: valId, ood: valOod }];
  try {
    const whole = toyNet(3);
    const full = await trainLeaveOut(whole, idTrain, leftOutTrain, { ...toyOpts({ epochs: 3 }), selectors });
    full.useSelection("blob");
    const wanted = weightsOf(whole);
    full.dispose();
    whole.model.dispose();

    const first = toyNet(3);
    const part = await trainLeaveOut(first, idTrain, leftOutTrain, {
      ...toyOpts({ epochs: 3 }),
      selectors,
      runDir: dir,
      maxSteps: 6, // stops in epoch 1
    });
    part.dispose();
    first.model.dispose();
    const second = toyNet(99); // other initial weights: the checkpoint replaces them
    const rest = await trainLeaveOut(second, idTrain, leftOutTrain, {
      ...toyOpts({ epochs: 3 }),
      selectors,
      runDir: dir,
    });
    assert.ok(rest.resumedFrom);
    assert.deepEqual(rest.selected, full.selected);
    rest.useSelection("blob");
    assert.deepEqual(weightsOf(second), wanted);
    rest.dispose();
    second.model.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
