import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { createBackbone } from "@lib/backbones/mod.ts";
import type { Dataset } from "@lib/datasets/types.ts";
import { Rng } from "@lib/data/rng.ts";
import { seedEverything } from "@lib/train/seed.ts";
import { CMG_CLASSIFIER, cmgClassifierLoss, trainCmgClassifier } from "@lib/methods/cmg/classifier.ts";
import { assertClose, assertNoLeak } from "../../experiment/_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

/** n 28×28 images of K classes: class c has a bright horizontal band at rows 4c..4c+5, plus noise. */
function digits(n: number, K: number, seed: number): Dataset {
  const rng = new Rng(`cmg-digits/${seed}`);
  const images = new Uint8Array(n * 784), labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % K;
    labels[i] = c;
    for (let p = 0; p < 784; p++) {
      const row = Math.floor(p / 28);
      images[i * 784 + p] = (row >= 4 * c && row < 4 * c + 6 ? 200 : 20) + rng.int(40);
    }
  }
  return { name: "digits", images, labels, shape: [n, 28, 28, 1], classes: [...Array(K).keys()].map(String) };
}

const tiny = (numClasses: number) => createBackbone("cmg_cnn", { numClasses, width: 0.0625 });

Deno.test("CMG_CLASSIFIER is the reference's stage-1 recipe", () => {
  assert.deepEqual({ ...CMG_CLASSIFIER }, { epochs: 100, batchSize: 512, lr: 1e-3 });
});

Deno.test("cmgClassifierLoss() is the mean CE over all n_out logits, and every spare logit gets gradient", async () => {
  const z = [[1, 2, 0.5, -1, 3], [0, -2, 1, 4, 0.25]];
  const y = [1, 0];
  // Hand computation: −mean_n [z_{n,y_n} − log Σ_c exp z_{n,c}] over all 5 columns.
  const expected = z.reduce((s, row, n) => s - (row[y[n]!]! - Math.log(row.reduce((t, v) => t + Math.exp(v), 0))), 0) /
    2;
  const logits = tf.tensor2d(z), labels = tf.tensor1d(y, "int32");
  await assertNoLeak(async () => {
    const l = cmgClassifierLoss(logits, labels);
    assertClose(await l.data(), [expected], 1e-5, "loss");
    l.dispose();
  });
  // d L / d z = (softmax(z) − onehot(y)) / N: non-zero in the spare columns 2..4 (K = 2 seen classes here).
  const g = tf.grad((t: tf.Tensor) => cmgClassifierLoss(t as tf.Tensor2D, labels))(logits);
  const gv = await g.array() as number[][];
  z.forEach((row, n) => {
    const s = row.reduce((t, v) => t + Math.exp(v), 0);
    row.forEach((v, c) => {
      const want = (Math.exp(v) / s - (c === y[n] ? 1 : 0)) / 2;
      assert.ok(Math.abs(gv[n]![c]! - want) < 1e-6, `grad[${n}][${c}]`);
      if (c >= 2) assert.ok(Math.abs(gv[n]![c]!) > 1e-3, "spare slot gets gradient");
    });
  });
  tf.dispose([logits, labels, g]);
});

Deno.test("trainCmgClassifier(): Adam on every variable, spare head slots move, seeded, no leak", async () => {
  const ds = digits(8, 2, 0); // K = 2 seen classes, n_out = 4: slots 2 (unseen) and 3 (spare)
  const run = async () => {
    seedEverything(7);
    const net = tiny(4);
    const before = net.model.getWeights().map((w) => w.dataSync().slice());
    const headBias0 = net.model.getLayer("head").getWeights()[1]!.dataSync().slice();
    const h = await assertNoLeak(() => trainCmgClassifier(net, ds, { epochs: 2, batchSize: 8, seed: 3 }));
    const after = net.model.getWeights().map((w) => w.dataSync().slice());
    const headBias = net.model.getLayer("head").getWeights()[1]!.dataSync().slice();
    net.model.dispose();
    return { h, before, after, headBias0, headBias };
  };
  const a = await run();
  assert.equal(a.h.steps, 2); // ⌈8/8⌉ × 2 (a backward pass through the CNN costs ~0.5 s on the cpu backend)
  assert.equal(a.h.curve.length, 2);
  assert.deepEqual(a.h.curve.map((p) => p.epoch), [0, 1]);
  for (const p of a.h.curve) assert.ok(Number.isFinite(p.loss) && p.accuracy >= 0 && p.accuracy <= 1);
  // Every spare/unseen logit's bias moved: the CE softmax runs over all 4 logits (Adam moves any non-zero gradient).
  for (const c of [2, 3]) assert.ok(Math.abs(a.headBias[c]! - a.headBias0[c]!) > 1e-4, `bias ${c} moved`);
  // Both convs and head are trained (BN moving statistics also change in training mode).
  assert.ok(a.before.some((w, i) => w.some((v, j) => v !== a.after[i]![j])));
  // Same seeds (Math.random for weights and Dropout2d masks; batch order) → bit-identical run.
  const b = await run();
  assert.deepEqual(b.after, a.after);
  assert.deepEqual(b.h.curve.map((p) => p.loss), a.h.curve.map((p) => p.loss));
});

Deno.test("trainCmgClassifier() rejects labels outside [0, n_out)", async () => {
  seedEverything(0);
  const net = tiny(3);
  const ds = digits(4, 2, 1);
  ds.labels[0] = 3;
  await assert.rejects(() => trainCmgClassifier(net, ds, { epochs: 1, seed: 0 }), RangeError);
  net.model.dispose();
});
