import assert from "node:assert/strict";
import { initBackend } from "@lib/engine/mod.ts";
import { loadEvalSets } from "@lib/experiment/eval_sets.ts";
import { umEntryConfig, unleashingMaskEntry } from "@lib/leaderboard/entries/unleashing_mask.ts";
import { checkUnleashingMaskConfig } from "@lib/methods/unleashing_mask/config.ts";
import { loadUmSets, pretrainCacheDir } from "@lib/methods/unleashing_mask/mod.ts";
import { assertEntryResult, labels, TINY } from "./_helpers.ts";

await initBackend({ backend: "cpu", log: null });

Deno.test("unleashingMaskEntry.run() returns UM and UMAP (faithful, clean) × scores on near and far OOD, costs, notes", async () => {
  const r = await unleashingMaskEntry.run(TINY, "fashion_mnist", 0);
  assertEntryResult(unleashingMaskEntry, r, "fashion_mnist", 0);
  const methods = ["UM (faithful)", "UMAP (faithful)", "UM (clean)", "UMAP (clean)"];
  assert.deepEqual(labels(r), methods.flatMap((m) => ["MSP", "Energy", "ODIN"].map((s) => `${m} + ${s}`)));
  assert.deepEqual(new Set(r.rows.map((row) => row.method)), new Set(["um", "umap"]));
  // One pretraining (the second variant loads it) and four 1-epoch fine-tunings: 5 epochs of the known classes.
  assert.equal(r.imagesSeen % 5, 0);
});

Deno.test("unleashing_mask: configs without classSplit load the same sets as before; with it the ID labels are 0..k−1", async () => {
  const withSplit = umEntryConfig(TINY, "fashion_mnist", 0);
  const { classSplit: _, ...plain } = withSplit;
  checkUnleashingMaskConfig(plain);
  checkUnleashingMaskConfig({ ...plain, classSplit: null });
  assert.throws(
    () => checkUnleashingMaskConfig({ ...plain, classSplit: { protocol: "vmdls", fold: 11 } }),
    /Valid: 1,/,
  );
  const before = await loadEvalSets({
    id: "fashion_mnist",
    ...plain.data,
    oodDatasets: plain.oodDatasets,
    oodFit: "resize",
    extra: { aux: { ...plain.aux, seed: plain.data.dataSeed + 1 } },
  });
  const now = await loadUmSets(plain);
  assert.deepEqual(Object.keys(now.ood), Object.keys(before.ood));
  assert.deepEqual(now.train.labels, before.train.labels);
  assert.deepEqual(now.test.images, before.test.images);
  const split = await loadUmSets(withSplit);
  assert.equal(split.train.classes.length, TINY.knownClasses);
  assert.ok(split.train.labels.every((l) => l >= 0 && l < TINY.knownClasses));
  assert.ok(split.test.labels.every((l) => l >= 0 && l < TINY.knownClasses));
  assert.equal(split.oodGroups["fashion_mnist:unseen"], "near");
  // The pretraining cache key is unchanged without a split, and differs with one.
  const root = "/tmp/cache";
  assert.equal(
    pretrainCacheDir(root, { ...plain, classSplit: null }, now.train, 0),
    pretrainCacheDir(root, plain, now.train, 0),
  );
  assert.notEqual(pretrainCacheDir(root, withSplit, now.train, 0), pretrainCacheDir(root, plain, now.train, 0));
});
