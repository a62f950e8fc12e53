import assert from "node:assert/strict";
import { join } from "node:path";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { batchNormalization } from "@lib/layers/batch_norm.ts";
import {
  CheckpointError,
  latestCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
  type TrainingState,
} from "@lib/train/checkpoint.ts";
import { seedEverything } from "@lib/train/seed.ts";
import { Rng } from "@lib/data/rng.ts";

await initBackend({ backend: "cpu", log: null });

function smallNet(): tf.LayersModel {
  const inp = tf.input({ shape: [6, 6, 1] });
  let h = tf.layers.conv2d({ filters: 4, kernelSize: 3, useBias: false }).apply(inp) as tf.SymbolicTensor;
  h = batchNormalization({ momentum: 0.9 }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.flatten().apply(tf.layers.reLU().apply(h)) as tf.SymbolicTensor;
  return tf.model({ inputs: inp, outputs: tf.layers.dense({ units: 3 }).apply(h) as tf.SymbolicTensor });
}

const x = tf.randomNormal([4, 6, 6, 1], 0, 1, "float32", 3);
const y = tf.oneHot(tf.tensor1d([0, 1, 2, 1], "int32"), 3);
function step(model: tf.LayersModel, opt: tf.Optimizer): void {
  opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar);
}
const weightsOf = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));
const state = (stepNo: number): TrainingState => ({
  epoch: 1,
  step: stepNo,
  mathRandom: new Rng(5).getState(),
  streams: { shuffle: new Rng(9).getState() },
  config: { lr: 0.1, note: "test" },
  extra: { losses: [1.5, 1.2] },
});

async function trainedRun(dir: string) {
  seedEverything(11);
  const model = smallNet();
  const opt = tf.train.momentum(0.1, 0.9);
  step(model, opt);
  step(model, opt);
  const path = await saveCheckpoint(dir, { model, optimizer: opt, state: state(2) });
  return { model, opt, path };
}

Deno.test("a checkpoint restores weights, optimizer slots and state, and training continues identically", async () => {
  const dir = await Deno.makeTempDir();
  const { model, opt, path } = await trainedRun(dir);
  assert.equal(await latestCheckpoint(dir), path);
  const opt2 = tf.train.momentum(0.1, 0.9);
  const loaded = await loadCheckpoint(path, { optimizer: opt2 });
  assert.deepEqual(loaded.state, state(2));
  assert.deepEqual(weightsOf(loaded.model), weightsOf(model));
  step(model, opt);
  step(loaded.model, opt2);
  assert.deepEqual(weightsOf(loaded.model), weightsOf(model));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the saved model.json is the standard TF.js layers format that tf.loadLayersModel reads", async () => {
  const dir = await Deno.makeTempDir();
  const { model, path } = await trainedRun(dir);
  const plain = await tf.loadLayersModel(`file://${join(path, "model.json")}`);
  assert.deepEqual(weightsOf(plain), weightsOf(model));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a corrupt, truncated or incomplete checkpoint is refused with an error naming the file", async () => {
  const dir = await Deno.makeTempDir();
  const { path } = await trainedRun(dir);
  const weights = join(path, "weights.bin");
  const original = await Deno.readFile(weights);
  const flipped = original.slice();
  flipped[10] = flipped[10]! ^ 0xff;
  await Deno.writeFile(weights, flipped);
  await assert.rejects(
    loadCheckpoint(path),
    (e: unknown) => e instanceof CheckpointError && e.file === weights && /corrupt/.test(e.message),
  );
  await Deno.writeFile(weights, original.subarray(0, original.length - 4));
  await assert.rejects(loadCheckpoint(path), /weights\.bin: is \d+ bytes, manifest says \d+ \(truncated/);
  await Deno.writeFile(weights, original);
  await Deno.remove(join(path, "manifest.json"));
  await assert.rejects(loadCheckpoint(path), /manifest\.json: missing: the checkpoint is incomplete/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a failed save leaves the previous checkpoint in place and no partial files", async () => {
  const dir = await Deno.makeTempDir();
  const { model, opt, path } = await trainedRun(dir);
  const before = await Deno.readFile(join(path, "weights.bin"));
  const bad = { ...state(2), extra: { unserialisable: 1n } } as unknown as TrainingState;
  await assert.rejects(saveCheckpoint(dir, { model, optimizer: opt, state: bad }), /BigInt/);
  assert.equal(await latestCheckpoint(dir), path);
  assert.deepEqual(await Deno.readFile(join(path, "weights.bin")), before);
  const names = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  assert.deepEqual(names.sort(), ["LATEST", "step-000000002"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("saving keeps only the newest checkpoints and LATEST points at the newest", async () => {
  const dir = await Deno.makeTempDir();
  const model = smallNet();
  for (const s of [1, 2, 3, 4]) await saveCheckpoint(dir, { model, state: state(s) }, { keep: 2 });
  const names = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  assert.deepEqual(names.sort(), ["LATEST", "step-000000003", "step-000000004"]);
  assert.equal(await latestCheckpoint(dir), join(dir, "step-000000004"));
  await assert.rejects(
    loadCheckpoint(join(dir, "step-000000004"), { optimizer: tf.train.sgd(1) }),
    /no optimizer state/,
  );
  await Deno.remove(dir, { recursive: true });
});
