import assert from "node:assert/strict";
import { loadDataset } from "@lib/datasets/mod.ts";
import { dataSummary, loadBaselineData, oodSetsFor } from "@lib/methods/baselines/data.ts";

Deno.test("oodSetsFor() drops the ID dataset and duplicates and keeps the given order", () => {
  assert.deepEqual(oodSetsFor("mnist", ["mnist", "fashion_mnist", "gaussian", "fashion_mnist"]), [
    "fashion_mnist",
    "gaussian",
  ]);
  assert.deepEqual(oodSetsFor("fashion_mnist", ["mnist", "fashion_mnist", "inverted"]), ["mnist", "inverted"]);
});

Deno.test("loadBaselineData() loads seeded ID subsets and each OOD set like the ID dataset", async () => {
  const d = await loadBaselineData("mnist", {
    oodDatasets: ["mnist", "fashion_mnist", "gaussian", "rotated"],
    trainLimit: 50,
    nTest: 30,
    nOod: 20,
    dataSeed: 3,
  });
  assert.equal(d.id, "mnist");
  assert.deepEqual(d.train.shape, [50, 28, 28, 1]);
  assert.deepEqual(d.test.shape, [30, 28, 28, 1]);
  assert.equal(d.train.classes.length, 10);
  assert.deepEqual(Object.keys(d.ood), ["fashion_mnist", "gaussian", "rotated"]);
  for (const ds of Object.values(d.ood)) assert.deepEqual(ds.shape, [20, 28, 28, 1]);
  assert.equal(d.ood.gaussian!.name, "gaussian[like mnist]");
  assert.equal(d.ood.rotated!.name, "rotated[like mnist]");
  assert.ok(d.ood.gaussian!.labels.every((l) => l === -1), "noise is unlabeled");
  assert.equal(d.ood.fashion_mnist!.classes.length, 10, "the real OOD set keeps its labels");
  const train = await loadDataset("mnist", { split: "train", limit: 50, seed: 3 });
  assert.deepEqual(d.train.labels, train.labels);
  const summary = dataSummary([d]);
  assert.deepEqual(summary.map((r) => [r.role, r.images]), [
    ["mnist: ID train", 50],
    ["mnist: ID test", 30],
    ["mnist: OOD", 20],
    ["mnist: OOD", 20],
    ["mnist: OOD", 20],
  ]);
  assert.equal(summary[0]!.shape, "28×28×1");
});

Deno.test("loadBaselineData() builds the transformed sets exactly as loadDataset(kind, { like }) does", async () => {
  const d = await loadBaselineData("mnist", {
    oodDatasets: ["inverted", "rotated", "pixel_permuted"],
    trainLimit: 10,
    nTest: 10,
    nOod: 25,
    dataSeed: 4,
  });
  for (const kind of ["inverted", "rotated", "pixel_permuted"] as const) {
    const ref = await loadDataset(kind, { split: "test", like: "mnist", limit: 25, seed: 4 });
    const mine = d.ood[kind]!;
    assert.equal(mine.name, ref.name);
    assert.deepEqual(mine.shape, ref.shape);
    assert.deepEqual(mine.labels, ref.labels);
    assert.ok(mine.images.every((v, i) => v === ref.images[i]), `${kind} images`);
  }
  const test = await loadDataset("mnist", { split: "test", limit: 10, seed: 4 });
  assert.deepEqual(d.test.labels, test.labels, "the ID test subset is loadDataset's");
});
