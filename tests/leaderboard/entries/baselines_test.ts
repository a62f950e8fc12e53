import assert from "node:assert/strict";
import { initBackend } from "@lib/engine/mod.ts";
import { loadEvalSets } from "@lib/experiment/eval_sets.ts";
import { BASELINE_ENTRY_SCORES, baselinesEntry, baselinesEntryConfig } from "@lib/leaderboard/entries/baselines.ts";
import { entryLabel } from "@lib/leaderboard/entries/entry_utils.ts";
import { checkBaselinesConfig, loadBaselineSets } from "@lib/methods/baselines/mod.ts";
import { assertEntryResult, labels, TINY } from "./_helpers.ts";

await initBackend({ backend: "cpu", log: null });

Deno.test("baselinesEntry.run() returns every detector's rows on near and far OOD, their scores, costs and notes", async () => {
  const r = await baselinesEntry.run(TINY, "fashion_mnist", 0);
  assertEntryResult(baselinesEntry, r, "fashion_mnist", 0);
  assert.deepEqual(labels(r), BASELINE_ENTRY_SCORES.map((id) => entryLabel("CE", id)));
  assert.ok(labels(r).includes("CE + ReAct") && labels(r).includes("CE + ViM"), "the post-hoc rows include issue 19's");
  assert.ok(r.rows.every((row) => row.fprRule === "sklearn" && row.idAccuracy !== null));
  const known = r.rows[0]!.nId;
  assert.ok(known > 0 && known < TINY.nTest!, "the ID test set keeps the known classes only");
  // One network, 1 epoch over the known-class training images (about half of the 100).
  assert.ok(r.imagesSeen > 20 && r.imagesSeen < 100, `imagesSeen ${r.imagesSeen}`);
});

Deno.test("baselines: configs without classSplit load the same sets as before; with it the ID labels are 0..k−1", async () => {
  const withSplit = baselinesEntryConfig(TINY, "fashion_mnist", 0);
  const { classSplit: _, ...plain } = withSplit;
  checkBaselinesConfig(plain);
  checkBaselinesConfig({ ...plain, classSplit: null });
  assert.throws(() => checkBaselinesConfig({ ...plain, classSplit: { protocol: "vmdls", fold: 10 } }), /no unseen/);
  assert.throws(() => checkBaselinesConfig({ ...plain, classSplit: { protocol: "vmdls", fold: 0 } }), /Valid: 1, 2/);
  const before = await loadEvalSets({
    id: "fashion_mnist",
    dataSeed: 0,
    trainLimit: plain.train.trainLimit,
    testLimit: plain.nTest,
    oodDatasets: plain.oodDatasets,
    oodLimit: plain.nOod,
  });
  const now = await loadBaselineSets(plain, "fashion_mnist");
  assert.deepEqual(Object.keys(now.ood), Object.keys(before.ood));
  assert.deepEqual(now.train.labels, before.train.labels);
  assert.deepEqual(now.test.images, before.test.images);
  const split = await loadBaselineSets(withSplit, "fashion_mnist");
  assert.equal(split.train.classes.length, TINY.knownClasses);
  assert.ok(split.train.labels.every((l) => l >= 0 && l < TINY.knownClasses));
  assert.ok(split.test.labels.every((l) => l >= 0 && l < TINY.knownClasses));
  assert.equal(split.oodGroups["fashion_mnist:unseen"], "near");
  assert.ok(split.ood["fashion_mnist:unseen"]!.shape[0] > 0);
});
