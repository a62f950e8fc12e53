import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { createBackbone } from "@lib/backbones/mod.ts";
import { tensorBatches } from "@lib/data/tensors.ts";
import { evaluateAccuracy, seedEverything } from "@lib/train/mod.ts";
import { evaluateClassifier, trainClassifier } from "@lib/train/classifier.ts";
import { SIZE, toyDataset } from "../experiment/_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

const recipe = { epochs: 3, batchSize: 16, lr: 0.05, momentum: 0.9, weightDecay: 5e-4, logEvery: 2 };

function freshNet(seed: number) {
  seedEverything(seed);
  return createBackbone("lenet", { numClasses: 2, inputShape: [SIZE, SIZE, 1], width: 0.25 });
}

Deno.test("trainClassifier() learns a separable toy task and records the training curve", async () => {
  const train = toyDataset(96, 1), test = toyDataset(40, 2);
  const net = freshNet(0);
  const before = await evaluateClassifier(net, test, { batchSize: 16 });
  const tensors = tf.memory().numTensors;
  const out = await trainClassifier(net, train, recipe, { seed: 0, validation: test, evalBatchSize: 16 });
  assert.equal(tf.memory().numTensors, tensors, "no tensor outlives training (optimizer slots disposed)");
  assert.equal(out.steps, 3 * 6);
  // 6 steps per epoch, a point every 2 steps (3 per epoch), plus one validation point per epoch.
  const trainPts = out.history.filter((p) => p.loss !== undefined);
  const valPts = out.history.filter((p) => p.val_acc !== undefined);
  assert.equal(trainPts.length, 9);
  assert.deepEqual(valPts.map((p) => p.epoch), [1, 2, 3]);
  assert.deepEqual(trainPts.slice(0, 3).map((p) => p.epoch), [2 / 6, 4 / 6, 1]);
  for (const p of trainPts) assert.ok(p.acc! >= 0 && p.acc! <= 1 && Number.isFinite(p.loss!));
  const after = await evaluateClassifier(net, test, { batchSize: 16 });
  assert.ok(after.accuracy >= 0.95, `test accuracy ${after.accuracy}`);
  assert.ok(after.loss < before.loss, `loss ${before.loss} → ${after.loss}`);
  assert.equal(valPts.at(-1)!.val_acc, after.accuracy, "the last validation point is the final test accuracy");
  assert.ok(out.trainAccuracy > 0.8 && out.seconds > 0);
  net.model.dispose();
});

Deno.test("trainClassifier() is deterministic on the cpu backend given the seeds", async () => {
  const train = toyDataset(48, 1);
  const run = async () => {
    const net = freshNet(7);
    const out = await trainClassifier(net, train, { ...recipe, epochs: 1 }, { seed: 7 });
    const w = net.model.getWeights().map((t) => Array.from(t.dataSync()));
    net.model.dispose();
    return { history: out.history, w };
  };
  const a = await run(), b = await run();
  assert.deepEqual(a.history, b.history);
  assert.deepEqual(a.w, b.w);
});

Deno.test("evaluateClassifier() agrees with evaluateAccuracy() and with a hand-computed cross-entropy", async () => {
  const net = freshNet(3);
  const ds = toyDataset(21, 5);
  const mine = await evaluateClassifier(net, ds, { batchSize: 8 });
  const ref = await evaluateAccuracy(
    (x) => net.logits(x),
    tensorBatches(ds, { batchSize: 8, normalization: net.normalization }),
  );
  assert.equal(mine.accuracy, ref.accuracy);
  const x = tensorBatches(ds, { batchSize: 21, normalization: net.normalization }).next().value!;
  const logits = net.logits(x.x).arraySync() as number[][];
  let ce = 0;
  logits.forEach((l, i) => {
    const lse = Math.log(l.reduce((s, v) => s + Math.exp(v), 0));
    ce += lse - l[ds.labels[i]!]!;
  });
  assert.ok(Math.abs(mine.loss - ce / 21) < 1e-5, `${mine.loss} vs ${ce / 21}`);
  tf.dispose([x.x, x.y]);
  net.model.dispose();
});
