import assert from "node:assert/strict";
import { initBackend } from "@lib/engine/mod.ts";
import { loadEvalSets } from "@lib/experiment/eval_sets.ts";
import { ciderEntry, ciderEntryConfig, makeCiderEntry } from "@lib/leaderboard/entries/cider.ts";
import { checkCiderConfig, loadCiderSets } from "@lib/methods/cider/mod.ts";
import { assertEntryResult, labels, TINY } from "./_helpers.ts";

await initBackend({ backend: "cpu", log: null });

Deno.test("ciderEntry.run() returns SupCon and CIDER + KNN (faithful, clean) on near and far OOD, scores, costs, notes", async () => {
  const r = await ciderEntry.run(TINY, "fashion_mnist", 0);
  assertEntryResult(ciderEntry, r, "fashion_mnist", 0);
  assert.deepEqual(labels(r), [
    "SupCon (faithful) + KNN",
    "CIDER (faithful) + KNN",
    "SupCon (clean) + KNN",
    "CIDER (clean) + KNN",
  ]);
  assert.ok(r.rows.every((row) => row.score === "knn" && row.fprRule === "sklearn" && row.backbone === "lenet"));
  assert.ok(r.notes.some((n) => n.includes("lenet")), "the backbone change is noted");
  // Four networks (SupCon, CIDER × faithful, clean), 1 epoch each over the known-class images.
  assert.equal(r.imagesSeen % 4, 0);
  assert.equal(makeCiderEntry({ supcon: false }).paper, "cider");
  assert.deepEqual(ciderEntryConfig(TINY, "fashion_mnist", 0, { supcon: false }).methods, ["cider"]);
});

Deno.test("cider: configs without classSplit load the same sets as before; with it the ID labels are 0..k−1", async () => {
  const withSplit = ciderEntryConfig(TINY, "fashion_mnist", 0);
  const { classSplit: _, ...plain } = withSplit;
  const resnet = { ...plain, settings: plain.settings.map((s) => ({ ...s, backbone: "resnet18" as const })) };
  checkCiderConfig(resnet);
  checkCiderConfig({ ...resnet, classSplit: null });
  checkCiderConfig({ ...resnet, classSplit: withSplit.classSplit });
  assert.throws(() => checkCiderConfig({ ...resnet, classSplit: { protocol: "vmdls", fold: 1 } }), /fewer than 2/);
  const setting = plain.settings[0]!;
  const before = await loadEvalSets({
    id: "fashion_mnist",
    dataSeed: 0,
    trainLimit: plain.trainLimit,
    testLimit: plain.nTest,
    oodDatasets: plain.oodDatasets,
    oodLimit: plain.nOod,
  });
  const now = await loadCiderSets(plain, setting);
  assert.deepEqual(Object.keys(now.ood), Object.keys(before.ood));
  assert.deepEqual(now.train.labels, before.train.labels);
  assert.deepEqual(now.test.images, before.test.images);
  const split = await loadCiderSets(withSplit, setting);
  assert.equal(split.train.classes.length, TINY.knownClasses);
  assert.ok(split.train.labels.every((l) => l >= 0 && l < TINY.knownClasses));
  assert.equal(split.oodGroups["fashion_mnist:unseen"], "near");
});
