import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { limitDataset } from "@lib/datasets/subset.ts";
import { extractOutputs } from "@lib/experiment/outputs.ts";
import { scoreAll } from "@lib/experiment/score.ts";
import type { Detector } from "@lib/scores/detector.ts";
import { DETECTORS } from "@lib/scores/mod.ts";
import { clusterSets, extractableStub } from "../scores/_fixtures.ts";
import { assertClose, assertNoLeak } from "./_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

Deno.test("scoreAll() extracts once, fits on the seeded fit subset, and keys scores in spec order", async () => {
  const net = extractableStub();
  const sets = clusterSets();
  const seen: string[] = [];
  const before = tf.memory().numTensors;
  const table = await scoreAll(
    net,
    sets,
    [{ use: "knn", opts: { k: 3 } }, { use: "msp" }, { use: "knn", opts: { k: 9 }, as: "knn9" }, {
      use: "odin",
      opts: { limit: 7 },
    }],
    { batchSize: 16, seed: 0, fitLimit: 50, fitSeed: 5, onDetector: (key) => void seen.push(key) },
  );
  assert.equal(tf.memory().numTensors, before, "no tensor kept");
  assert.deepEqual(Object.keys(table.scores), ["knn", "msp", "knn9", "odin"]);
  assert.deepEqual(seen, ["knn", "msp", "knn9", "odin"]);
  assert.deepEqual(Object.keys(table.seconds), seen);
  assert.ok(table.extractSeconds >= 0);
  assert.equal(table.states.msp, null);
  assert.equal((table.states.knn as { k: number; size: number }).k, 3);
  assert.equal((table.states.knn as { size: number }).size, 50, "fitted on fitLimit images");
  assert.equal((table.states.knn9 as { k: number }).k, 9);
  const fit = await extractOutputs(net, limitDataset(sets.train, 50, 5));
  assert.deepEqual(table.outputs.train!.labels, fit.labels, "the fit subset is limitDataset(train, fitLimit, fitSeed)");
  assertClose(table.outputs.train!.features.data, fit.features.data, 0, "fit features");
  assert.equal(table.outputs.test.featureList, undefined, "featureList only when a detector needs it");
  assert.deepEqual(Object.keys(table.outputs.ood), ["unseen"]);
  assert.equal(table.scores.odin!.id.length, 7, "ODIN scores the first `limit` images");
  assert.equal(table.scores.odin!.ood.unseen!.length, 7);
  assert.equal(table.scores.msp!.id.length, sets.test.shape[0]);
  net.dispose();
});

Deno.test("scoreAll() extracts featureList only for detectors that need it, and training outputs only to fit them", async () => {
  const net = extractableStub();
  const sets = clusterSets();
  const a = await scoreAll(net, sets, [{ use: "mahalanobisEnsemble" }], { batchSize: 64, seed: 0 });
  assert.equal(a.outputs.test.featureList?.length, 2);
  assert.equal(a.outputs.train!.n, sets.train.shape[0], "all training images by default");
  const b = await scoreAll(net, sets, [{ use: "energy" }, { use: "odin", opts: { limit: 3 } }], {
    batchSize: 64,
    seed: 0,
  });
  assert.equal(b.outputs.train, null, "no detector fits on outputs");
  net.dispose();
});

Deno.test("scoreAll() hands detectors the model, the held-out images and the seed, and rejects a repeated key", async () => {
  const net = extractableStub();
  const sets = clusterSets();
  const seenCtx: unknown[] = [];
  const probe: Detector<Record<never, never>, number> = {
    label: "probe",
    citation: "-",
    formula: "-",
    needs: ["logits"],
    defaults: {},
    fit: (ctx) => {
      seenCtx.push(ctx.heldOut?.name, ctx.seed, ctx.batchSize, ctx.model === net, ctx.test.outputs.n);
      return 42;
    },
    score: (set, _o, state) => Promise.resolve(new Float32Array(set.outputs.n).fill(state)),
  };
  const registry = DETECTORS as unknown as Record<string, unknown>;
  registry.probe = probe;
  try {
    const t = await scoreAll(net, sets, [{ use: "probe" as "msp" }], { batchSize: 8, seed: 11 });
    assert.deepEqual(seenCtx, ["held-out", 11, 8, true, sets.test.shape[0]]);
    assert.ok(t.scores.probe!.id.every((v) => v === 42));
  } finally {
    delete registry.probe;
  }
  await assert.rejects(
    () => scoreAll(net, sets, [{ use: "msp" }, { use: "msp", opts: { temperature: 2 } }], { batchSize: 8, seed: 0 }),
    /score key "msp" is used twice \(give one spec an "as" name\)/,
  );
  net.dispose();
});

Deno.test("scoreAll() scores the held-out images only with scoreHeldOut, with the fitted state of each detector", async () => {
  const net = extractableStub();
  const sets = clusterSets();
  const specs = [{ use: "msp" }, { use: "knn", opts: { k: 3 } }] as const;
  const plain = await scoreAll(net, sets, specs, { batchSize: 16, seed: 0 });
  assert.equal(plain.scores.msp!.heldOut, undefined, "not scored unless asked");
  assert.equal(plain.outputs.heldOut, undefined);
  const table = await assertNoLeak(() => scoreAll(net, sets, specs, { batchSize: 16, seed: 0, scoreHeldOut: true }));
  const n = sets.heldOut.shape[0];
  assert.equal(table.outputs.heldOut!.n, n);
  for (const key of ["msp", "knn"]) {
    assert.equal(table.scores[key]!.heldOut!.length, n, `${key}: one score per held-out image`);
    assertClose(table.scores[key]!.id, plain.scores[key]!.id, 0, `${key}: test scores unchanged`);
  }
  // The held-out images are scored like a test set: the same images as the ID test set give the same scores.
  const same = await scoreAll(net, { ...sets, heldOut: sets.test }, specs, {
    batchSize: 16,
    seed: 0,
    scoreHeldOut: true,
  });
  assertClose(same.scores.knn!.heldOut!, same.scores.knn!.id, 0, "knn on held-out = test");
  const none = await scoreAll(net, { ...sets, heldOut: limitDataset(sets.heldOut, 0) }, specs, {
    batchSize: 16,
    seed: 0,
    scoreHeldOut: true,
  });
  assert.equal(none.scores.msp!.heldOut, undefined, "an empty held-out set is not scored");
  net.dispose();
});
