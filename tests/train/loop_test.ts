import assert from "node:assert/strict";
import { join } from "node:path";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { batchNormalization } from "@lib/layers/batch_norm.ts";
import type { Dataset } from "@lib/datasets/types.ts";
import { Rng } from "@lib/data/rng.ts";
import { seedEverything } from "@lib/train/seed.ts";
import { SGD, trainableVariables } from "@lib/train/optimizers.ts";
import { cosineLr } from "@lib/train/schedules.ts";
import { datasetSource } from "@lib/train/source.ts";
import { type EpochInfo, evaluateAccuracy, NonFiniteLossError, type StepInfo, trainLoop } from "@lib/train/loop.ts";
import { CheckpointError, latestCheckpoint } from "@lib/train/checkpoint.ts";

await initBackend({ backend: "cpu", log: null });

/** 46 8×8 gray images of 3 classes (a bright row, column or diagonal on noise). */
function tinyDataset(): Dataset {
  const n = 46, rng = new Rng(3);
  const images = new Uint8Array(n * 64), labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    labels[i] = c;
    for (let p = 0; p < 64; p++) {
      const r = p >> 3, col = p & 7;
      const on = c === 0 ? r === 3 : c === 1 ? col === 4 : r === col;
      images[i * 64 + p] = Math.min(255, rng.int(60) + (on ? 180 : 0));
    }
  }
  return { name: "tiny", images, labels, shape: [n, 8, 8, 1], classes: ["row", "col", "diag"] };
}

/** conv → BatchNorm → ReLU → Dropout → dense: exercises BN moving statistics and Math.random-seeded dropout. */
function tinyNet(): tf.LayersModel {
  const inp = tf.input({ shape: [8, 8, 1] });
  let h = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: "same", useBias: false }).apply(
    inp,
  ) as tf.SymbolicTensor;
  h = batchNormalization({ momentum: 0.9 }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.reLU().apply(h) as tf.SymbolicTensor;
  h = tf.layers.dropout({ rate: 0.25 }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: inp, outputs: tf.layers.dense({ units: 3 }).apply(h) as tf.SymbolicTensor });
}

const DS = tinyDataset();
const EPOCHS = 3;
const NORM = { mean: [0.3], std: [0.3] };

type Batch = { x: tf.Tensor4D; y: tf.Tensor1D };
const ce = (model: tf.LayersModel) => ({ x, y }: Batch, { training }: { training: true }) => {
  const logits = model.apply(x, { training }) as tf.Tensor2D;
  return { loss: tf.losses.softmaxCrossEntropy(tf.oneHot(y, 3), logits) as tf.Scalar, logits, labels: y };
};

/** One run of the reference training: 3 epochs of 8 batches (6 images, the last 4), augmentation, schedule. */
async function run(
  seed: number,
  runDir: string,
  extra: { onStep?: (i: StepInfo) => void; maxSteps?: number; log?: (line: string) => void } = {},
) {
  seedEverything(seed);
  const model = tinyNet();
  const optimizer = new SGD(trainableVariables(model), { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
  const source = datasetSource(DS, {
    batchSize: 6,
    normalization: NORM,
    seed: 7,
    augment: [{ op: "randomCrop", size: 8, padding: 1 }, { op: "horizontalFlip" }],
  });
  const epochs: EpochInfo[] = [];
  try {
    const result = await trainLoop(model, ce(model), source, {
      epochs: EPOCHS,
      optimizer,
      schedule: cosineLr({ lr: 0.1, tMax: 24, unit: "step", etaMin: 0.01 }),
      runDir,
      checkpointEvery: 3,
      progress: false,
      log: extra.log ?? null,
      onStep: extra.onStep,
      maxSteps: extra.maxSteps,
      onEpochEnd: (e) => void epochs.push(e),
    });
    return { model, result, epochs, weights: model.getWeights().map((w) => w.dataSync().slice()) };
  } finally {
    optimizer.dispose();
  }
}

Deno.test("trainLoop() killed mid-epoch and resumed in a fresh model ends with bit-identical weights", async () => {
  const dirA = await Deno.makeTempDir(), dirB = await Deno.makeTempDir();
  try {
    const a = await run(1, dirA);
    assert.equal(a.result.step, 24);
    assert.equal(a.result.stopped, "completed");
    assert.equal(a.epochs.length, 3);
    assert.ok(a.epochs[2]!.loss < a.epochs[0]!.loss, "the tiny task is learned");

    // Killed: the process dies at step 11 (epoch 1, batch 3); the newest checkpoint is from step 9.
    const crash = new Error("simulated kill");
    await assert.rejects(
      run(1, dirB, {
        onStep: (i) => {
          if (i.step === 11) throw crash;
        },
      }),
      (e) => e === crash,
    );
    assert.match((await latestCheckpoint(dirB))!, /step-000000009$/);

    // Resumed in a new process state: another seed, a differently initialised model, a new optimizer.
    const b = await run(99, dirB);
    assert.match(b.result.resumedFrom!, /step-000000009$/);
    assert.equal(b.result.step, 24);
    assert.deepEqual(b.epochs.map((e) => e.epoch), [1, 2], "the interrupted epoch is finished, then the last one");
    assert.equal(b.weights.length, a.weights.length);
    b.weights.forEach((w, i) => assert.deepEqual(w, a.weights[i], `weight ${i} differs after resume`));
    // The resumed epoch reports the same means as the uninterrupted one (running sums are checkpointed).
    assert.equal(b.epochs[0]!.loss, a.epochs[1]!.loss);
    assert.equal(b.epochs[0]!.accuracy, a.epochs[1]!.accuracy);
    [a.model, b.model].forEach((m) => m.dispose());
  } finally {
    await Deno.remove(dirA, { recursive: true });
    await Deno.remove(dirB, { recursive: true });
  }
});

Deno.test("trainLoop() with maxSteps stops mid-epoch with a checkpoint and continues identically", async () => {
  const dirA = await Deno.makeTempDir(), dirB = await Deno.makeTempDir();
  try {
    const a = await run(2, dirA);
    const first = await run(2, dirB, { maxSteps: 13 });
    assert.equal(first.result.stopped, "maxSteps");
    assert.equal(first.result.step, 13);
    assert.match((await latestCheckpoint(dirB))!, /step-000000013$/);
    const idle = await run(4, dirB, { maxSteps: 13 }); // already there: nothing to do
    assert.deepEqual([idle.result.stopped, idle.result.step, idle.epochs.length], ["maxSteps", 13, 0]);
    const b = await run(5, dirB);
    b.weights.forEach((w, i) => assert.deepEqual(w, a.weights[i], `weight ${i} differs`));
    // A finished run resumes to nothing and keeps its weights.
    const c = await run(6, dirB);
    assert.equal(c.result.epochs.length, 0);
    c.weights.forEach((w, i) => assert.deepEqual(w, a.weights[i]));
    [a.model, first.model, idle.model, b.model, c.model].forEach((m) => m.dispose());
  } finally {
    await Deno.remove(dirA, { recursive: true });
    await Deno.remove(dirB, { recursive: true });
  }
});

Deno.test("trainLoop() resumed mid-epoch reports the images trained in this process apart from the epoch's total", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // 8 batches per epoch (7 of 6 images, one of 4); stopped at step 11 = epoch 1 after 3 batches (18 images).
    const first = await run(3, dir, { maxSteps: 11 });
    assert.deepEqual(first.epochs.map((e) => [e.images, e.sessionImages]), [[46, 46]]);
    const resumed = await run(3, dir);
    assert.deepEqual(
      resumed.epochs.map((e) => [e.epoch, e.images, e.sessionImages]),
      [[1, 46, 28], [2, 46, 46]],
      "the resumed epoch's total counts the 18 images trained before the stop; this process trained 28 of them",
    );
    [first.model, resumed.model].forEach((m) => m.dispose());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("trainLoop() resumes from the previous valid checkpoint when the newest is damaged, and says so", async () => {
  const dirA = await Deno.makeTempDir(), dirB = await Deno.makeTempDir();
  try {
    const a = await run(2, dirA);
    const first = await run(2, dirB, { maxSteps: 13 }); // keeps step 12 and step 13
    const newest = (await latestCheckpoint(dirB))!;
    assert.match(newest, /step-000000013$/);
    await Deno.truncate(join(newest, "weights.bin"), 1000);
    const lines: string[] = [];
    const b = await run(5, dirB, { log: (l) => lines.push(l) });
    assert.match(b.result.resumedFrom!, /step-000000012$/);
    assert.match(
      lines.join("\n"),
      /checkpoint .*step-000000013 is damaged \(.*weights\.bin: is 1000 bytes, manifest says \d+/,
    );
    assert.match(lines.join("\n"), /resumed from the previous valid checkpoint, .*step-000000012/);
    b.weights.forEach((w, i) => assert.deepEqual(w, a.weights[i], `weight ${i} differs after the fallback`));
    [a.model, first.model, b.model].forEach((m) => m.dispose());
  } finally {
    await Deno.remove(dirA, { recursive: true });
    await Deno.remove(dirB, { recursive: true });
  }
});

Deno.test("trainLoop() with every checkpoint damaged fails with a CheckpointError that names the directories to remove", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = await run(2, dir, { maxSteps: 13 });
    first.model.dispose();
    for (const step of ["000000012", "000000013"]) await Deno.truncate(join(dir, `step-${step}`, "weights.bin"), 10);
    await assert.rejects(run(2, dir), (e) => {
      assert.ok(e instanceof CheckpointError);
      assert.match(e.message, /step-000000013\/weights\.bin: is 10 bytes/);
      assert.match(
        e.hint!,
        /^No valid checkpoint is left in .*\. Remove the damaged checkpoints \(.*step-000000013, .*step-000000012\), or all of /,
      );
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("trainLoop() stops at a NaN loss with the step, epoch and last finite loss", async () => {
  seedEverything(0);
  const w = tf.variable(tf.scalar(1));
  const opt = new SGD([w], { lr: 0.1 });
  const batches = (epoch: number) => [0, 1, 2].map((i) => ({ i: epoch * 3 + i }));
  await assert.rejects(
    trainLoop([w], ({ i }: { i: number }) => (i === 4 ? tf.div(tf.mul(w, 0), 0) as tf.Scalar : tf.square(w)), batches, {
      epochs: 3,
      optimizer: opt,
      progress: false,
    }),
    (e) => {
      assert.ok(e instanceof NonFiniteLossError);
      assert.equal(e.epoch, 1);
      assert.equal(e.batchInEpoch, 1);
      assert.equal(e.step, 4);
      assert.equal(e.lastFinite?.step, 3);
      assert.match(
        e.message,
        /Loss is NaN at epoch 1 \(0-based\), batch 1 of the epoch, optimizer step 4; last finite loss [\d.]+ at step 3/,
      );
      return true;
    },
  );
  // The NaN batch's gradient was not applied: w is 1·0.8⁴ after four plain steps (w ← w − 0.1·2w).
  assert.ok(Math.abs(w.dataSync()[0]! - 0.8 ** 4) < 1e-6);
  opt.dispose();
  w.dispose();
});

Deno.test("trainLoop() accumulating 2 micro-batches equals one step on the whole batch", async () => {
  const x = tf.tensor2d([[1, 2], [0, 1], [3, -1], [2, 2]]);
  const t = tf.tensor2d([[1], [0], [2], [1]]);
  const fit = async (chunks: number[][], accumulate: number) => {
    const w = tf.variable(tf.tensor2d([[0.5], [-0.25]]));
    const opt = new SGD([w], { lr: 0.05, momentum: 0.9 });
    const mse = (rows: number[]) =>
      tf.tidy(() => tf.mean(tf.square(tf.sub(tf.matMul(tf.gather(x, rows), w), tf.gather(t, rows)))) as tf.Scalar);
    const seen: number[] = [];
    await trainLoop([w], (rows: number[]) => mse(rows), () => chunks, {
      epochs: 2,
      optimizer: opt,
      accumulate,
      progress: false,
      batchSize: (rows) => rows.length,
      onStep: (s) => void seen.push(s.images),
    });
    const out = Array.from(w.dataSync());
    opt.dispose();
    w.dispose();
    return { out, seen };
  };
  const whole = await fit([[0, 1, 2, 3]], 1);
  const halves = await fit([[0, 1], [2, 3]], 2);
  assert.deepEqual(halves.seen, [4, 4], "one optimizer step per epoch, over 4 images");
  halves.out.forEach((v, i) => assert.ok(Math.abs(v - whole.out[i]!) < 1e-6, `${v} vs ${whole.out[i]}`));
  tf.dispose([x, t]);
});

Deno.test("trainLoop() passes training: true, reports steps and epochs, sets the scheduled rate, leaks no tensors", async () => {
  seedEverything(4);
  const model = tinyNet();
  const opt = new SGD(trainableVariables(model), { lr: 1 });
  const source = datasetSource(DS, { batchSize: 16, normalization: NORM, seed: 1 });
  const steps: StepInfo[] = [], epochs: EpochInfo[] = [];
  const modes: boolean[] = [];
  const bn = model.layers.find((l) => l.getClassName() === "BatchNormalization")!;
  const meanBefore = bn.getWeights()[2]!.dataSync().slice();
  const before = tf.memory().numTensors;
  await trainLoop(
    model,
    (b: Batch, ctx) => {
      modes.push(ctx.training);
      return ce(model)(b, ctx);
    },
    source,
    {
      epochs: 2,
      optimizer: opt,
      schedule: (p) => 0.01 * (p.epoch + 1) + 0.001 * p.stepInEpoch,
      progress: false,
      onStep: (s) => void steps.push(s),
      onEpochEnd: (e) => void epochs.push(e),
    },
  );
  assert.ok(modes.every((m) => m === true));
  assert.notDeepEqual(bn.getWeights()[2]!.dataSync(), meanBefore, "BatchNorm moving mean was updated");
  assert.deepEqual(steps.map((s) => s.step), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(steps.map((s) => s.stepInEpoch), [1, 2, 3, 1, 2, 3]);
  assert.deepEqual(steps.map((s) => s.images), [16, 16, 14, 16, 16, 14]);
  assert.deepEqual(steps.map((s) => Math.round(s.lr * 1000)), [10, 11, 12, 20, 21, 22]);
  assert.equal(epochs.length, 2);
  assert.equal(epochs[0]!.images, 46);
  assert.ok(epochs[1]!.accuracy! >= 0 && epochs[1]!.accuracy! <= 1);
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  const acc = await evaluateAccuracy(
    (x) => model.apply(x) as tf.Tensor,
    datasetSource(DS, { batchSize: 20, normalization: NORM, seed: 0, shuffle: false }).epoch(0, 0),
  );
  assert.equal(acc.count, 46);
  opt.dispose();
  model.dispose();
});

Deno.test("datasetSource() skips batches without drawing them and resumes augmentation from a saved state", () => {
  const aug = [{ op: "randomCrop", size: 8, padding: 2 }, { op: "horizontalFlip" }] as const;
  const src = datasetSource(DS, { batchSize: 5, normalization: NORM, seed: 3, augment: aug });
  const all = [...src.epoch(1, 0)];
  assert.equal(all.length, 10);
  assert.equal(src.length(1), 10);
  // Take 4 batches, save the stream, then restart the epoch at batch 4 from that state.
  const head = src.epoch(1, 0);
  for (let i = 0; i < 4; i++) {
    const { x, y } = head.next().value!;
    tf.dispose([x, y]);
  }
  const saved = src.getState();
  head.return(undefined);
  src.setState(saved);
  const rest = [...src.epoch(1, 4)];
  // Without a saved state the skipped augmentation draws are replayed.
  const replay = [...src.epoch(1, 4)];
  for (const [i, b] of rest.entries()) {
    assert.deepEqual(b.indices, all[i + 4]!.indices);
    assert.deepEqual(b.x.dataSync(), all[i + 4]!.x.dataSync());
    assert.deepEqual(replay[i]!.x.dataSync(), all[i + 4]!.x.dataSync());
  }
  // Epochs are shuffled differently; the same epoch twice is the same.
  const other = [...src.epoch(2, 0)];
  assert.notDeepEqual(other[0]!.indices, all[0]!.indices);
  tf.dispose([...all, ...rest, ...replay, ...other].flatMap((b) => [b.x, b.y]));
});

Deno.test("trainLoop() saves caller state with each checkpoint and hands it back on resume", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const w = tf.variable(tf.scalar(2));
    seedEverything(0);
    const inp = tf.input({ shape: [1] });
    const model = tf.model({ inputs: inp, outputs: tf.layers.dense({ units: 1 }).apply(inp) as tf.SymbolicTensor });
    const opt = new SGD(trainableVariables(model), { lr: 0.01 });
    let counter = 0;
    const loss = () => {
      counter++;
      return tf.mean(tf.square(model.apply(tf.ones([2, 1])) as tf.Tensor)) as tf.Scalar;
    };
    const state = {
      save: () => ({ counter }),
      load: (s: Record<string, unknown>) => void (counter = s.counter as number),
    };
    await trainLoop(model, loss, () => [1, 2, 3], {
      epochs: 1,
      optimizer: opt,
      runDir: dir,
      state,
      progress: false,
      log: null,
    });
    counter = 0;
    const again = await trainLoop(model, loss, () => [1, 2, 3], {
      epochs: 2,
      optimizer: opt,
      runDir: dir,
      state,
      progress: false,
      log: null,
    });
    assert.match(again.resumedFrom!, /step-000000003$/);
    assert.equal(counter, 6, "restored to 3, then 3 more batches");
    assert.ok(await Deno.stat(join(dir, "step-000000006", "state.json")));
    w.dispose();
    model.dispose();
    opt.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("trainLoop() drives a stock tf.train optimizer and sets its rate through setLearningRate", async () => {
  const w = tf.variable(tf.scalar(1));
  const opt = tf.train.sgd(0.5);
  const rates: number[] = [];
  await trainLoop([w], () => tf.square(w), () => [0, 1], {
    epochs: 1,
    optimizer: opt,
    schedule: (p) => 0.1 * (p.stepInEpoch + 1),
    progress: false,
    onStep: (s) => void rates.push(s.lr),
  });
  // w ← w − η·2w: 1·(1 − 0.2)·(1 − 0.4) = 0.48
  assert.ok(Math.abs(w.dataSync()[0]! - 0.48) < 1e-6);
  assert.deepEqual(rates.map((r) => Math.round(r * 10)), [1, 2]);
  opt.dispose();
  w.dispose();
});

Deno.test("trainLoop() shows one in-place progress output per epoch in the kernel", async () => {
  const w = tf.variable(tf.scalar(1));
  const opt = new SGD([w], { lr: 0.1 });
  const calls: { id: string; update: boolean; text: string }[] = [];
  await trainLoop([w], () => tf.square(w), {
    length: () => 3,
    epoch: (_e: number, skip: number) => [0, 1, 2].slice(skip),
  }, {
    epochs: 2,
    optimizer: opt,
    progress: {
      mode: "kernel",
      minIntervalMs: 0,
      display: (b, o) => void calls.push({ id: o.display_id, update: o.update, text: b["text/plain"] as string }),
    },
  });
  assert.equal(calls.length, 6);
  assert.equal(new Set(calls.map((c) => c.id)).size, 2, "one display_id per epoch");
  assert.deepEqual(calls.map((c) => c.update), [false, true, true, false, true, true]);
  assert.match(calls[2]!.text, /^epoch 1\/2 \[#{20}\] 3\/3 100% \| loss [\d.]+ \| lr 0\.1000 \| /);
  opt.dispose();
  w.dispose();
});
