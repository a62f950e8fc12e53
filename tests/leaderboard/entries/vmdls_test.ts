import assert from "node:assert/strict";
import { initBackend } from "@lib/engine/mod.ts";
import { vmdlsEntry, vmdlsEntryConfig, vmdlsHeldOut } from "@lib/leaderboard/entries/vmdls.ts";
import { assertEntryResult, labels, TINY } from "./_helpers.ts";

await initBackend({ backend: "cpu", log: null });

Deno.test("vmdlsEntryConfig() maps the protocol onto one VMDLS setting with the class split", () => {
  const cfg = vmdlsEntryConfig({ ...TINY, epochs: 4 }, "fashion_mnist", 3);
  const s = cfg.settings[0]!;
  assert.equal(s.classNum, 5);
  assert.equal(s.backbone, "lenet");
  assert.equal(s.width, TINY.width);
  assert.equal(s.reconstruction, false); // the auto-encoder exists for MNIST only
  assert.equal(s.train!.classesPerBatch, 5);
  assert.deepEqual(cfg.methods, ["vmdls"]);
  assert.deepEqual(cfg.seeds, [3]);
  assert.equal(cfg.train.epochs, 4);
  assert.equal(cfg.autoencoder.epochs, 3);
  assert.deepEqual(cfg.oodDatasets, TINY.farOod);
  assert.equal(vmdlsEntryConfig(TINY, "mnist", 0).settings[0]!.reconstruction, true);
  assert.equal(vmdlsHeldOut(null), 1000);
  assert.equal(vmdlsHeldOut(600), 100);
});

Deno.test("vmdlsEntry.run() returns faithful and clean rows (near and far) with their score records", async () => {
  // 200 training images: VMDLS's sampler needs more than one 5 × 16 batch of the known classes.
  const p = { ...TINY, trainLimit: 200 };
  const r = await vmdlsEntry.run(p, "fashion_mnist", 0);
  assertEntryResult(vmdlsEntry, r, "fashion_mnist", 0);
  assert.deepEqual(labels(r), ["VMDLS (faithful)", "VMDLS (clean)"]);
  assert.ok(r.rows.every((x) => x.idDataset === "fashion_mnist:0-4" && x.score === "vmdls"));
  // Clean: one record for the (label, score); its ID scores serve every OOD set.
  assert.equal(r.scores.filter((s) => s.label === "VMDLS (clean)").length, 1);
  // epochs × the known-class training images (about half of trainLimit; no auto-encoder on Fashion-MNIST).
  assert.ok(r.imagesSeen > 50 && r.imagesSeen <= p.epochs * p.trainLimit);
});
