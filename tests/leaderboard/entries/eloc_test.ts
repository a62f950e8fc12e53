import assert from "node:assert/strict";
import { initBackend } from "@lib/engine/mod.ts";
import { elocSplit } from "@lib/datasets/splits.ts";
import { checkElocConfig } from "@lib/methods/eloc/config.ts";
import {
  elocEntry,
  elocEntryConfig,
  elocImagesPerEpoch,
  elocValidationOod,
  elocValidationSize,
} from "@lib/leaderboard/entries/eloc.ts";
import { assertEntryResult, labels, TINY } from "./_helpers.ts";

await initBackend({ backend: "cpu", log: null });

Deno.test("elocSplit() partitions k known classes into 5 contiguous folds (k ∉ {10, 100})", () => {
  for (let f = 1; f <= 5; f++) {
    assert.deepEqual(elocSplit(f, 5), { seen: [0, 1, 2, 3, 4].filter((c) => c !== f - 1), unseen: [f - 1] });
  }
  const folds = [1, 2, 3, 4, 5].map((f) => elocSplit(f, 7).unseen);
  assert.deepEqual(folds, [[0, 1], [2, 3], [4], [5], [6]]);
  assert.deepEqual(elocSplit(3, 7).seen, [0, 1, 2, 3, 5, 6]);
  assert.throws(() => elocSplit(1, 4), /≥ 5 classes/);
  // The reference's permutation folds are unchanged.
  assert.deepEqual(elocSplit(1, 10), { seen: [1, 2, 9, 6, 7, 0, 3, 8], unseen: [5, 4] });
});

Deno.test("checkElocConfig() accepts knownClasses in 5..C−1 and names it otherwise", () => {
  const cfg = elocEntryConfig(TINY, "fashion_mnist", 0);
  assert.equal(cfg.settings[0]!.knownClasses, 5);
  checkElocConfig(cfg);
  const bad = (k: number) => ({ ...cfg, settings: [{ ...cfg.settings[0]!, knownClasses: k }] });
  assert.throws(() => checkElocConfig(bad(4)), /knownClasses/);
  assert.throws(() => checkElocConfig(bad(10)), /knownClasses/);
});

Deno.test("elocEntryConfig() follows the protocol's budget and keeps selection off the test OOD sets", () => {
  const cfg = elocEntryConfig({ ...TINY, epochs: 4, batchSize: 32 }, "fashion_mnist", 2);
  assert.deepEqual(cfg.methods, ["eloc"]);
  assert.deepEqual(cfg.perturbations, ["ce"]);
  assert.deepEqual(cfg.epsilonSweep, []);
  assert.equal(cfg.train.epochs, 4);
  assert.deepEqual(cfg.train.milestones, [2, 3]);
  assert.equal(cfg.train.batchSize, 32);
  assert.equal(cfg.train.oodBatchSize, 32);
  assert.equal(cfg.train.lr, 0.03); // LeNet: no BatchNorm
  assert.equal(elocValidationOod({ farOod: ["pixel_permuted", "mnist"] }, "fashion_mnist"), "noisy");
  assert.equal(elocValidationSize({ nTest: 1000, knownClasses: 5 }, "fashion_mnist"), 125);
  assert.equal(elocValidationSize({ nTest: null, knownClasses: 5 }, "fashion_mnist"), 1000);
});

Deno.test("elocImagesPerEpoch() counts the ID images and the paired left-out batches", () => {
  assert.equal(elocImagesPerEpoch(100, 30, 20, 20), 100 + 80); // left-out batches 20, 10, 20, 10, 20
  assert.equal(elocImagesPerEpoch(100, 1000, 50, 50), 200);
});

Deno.test("elocEntry.run() returns faithful and clean ensemble rows (near and far) with their score records", async () => {
  const r = await elocEntry.run(TINY, "fashion_mnist", 0);
  assertEntryResult(elocEntry, r, "fashion_mnist", 0);
  assert.deepEqual(labels(r), ["ELOC (faithful)", "ELOC (clean)"]);
  for (const v of ["faithful", "clean"]) {
    assert.equal(r.scores.filter((s) => s.label === `ELOC (${v})`).length, 1);
  }
  // Faithful drops its validation images from the evaluation; its record holds the same images.
  const nId = (v: string) => r.scores.find((s) => s.label === `ELOC (${v})`)!.sets.id.length;
  assert.ok(nId("faithful") < nId("clean"));
});
