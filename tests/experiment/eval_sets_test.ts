import assert from "node:assert/strict";
import { join } from "node:path";
import { limitDataset, loadDataset } from "@lib/datasets/mod.ts";
import { availableDatasets, evalSetsSummary, loadEvalSets, oodSetsFor } from "@lib/experiment/eval_sets.ts";

Deno.test("oodSetsFor() drops the ID dataset and duplicates and keeps the given order", () => {
  assert.deepEqual(oodSetsFor("mnist", ["mnist", "fashion_mnist", "gaussian", "fashion_mnist"]), [
    "fashion_mnist",
    "gaussian",
  ]);
  assert.deepEqual(oodSetsFor("fashion_mnist", ["mnist", "fashion_mnist", "inverted"]), ["mnist", "inverted"]);
});

Deno.test("loadEvalSets() loads seeded ID subsets and each OOD set like the ID dataset, as loadDataset() does", async () => {
  const spec = { id: "mnist", dataSeed: 3, trainLimit: 50, testLimit: 30, oodLimit: 20 } as const;
  const s = await loadEvalSets({ ...spec, oodDatasets: ["mnist", "fashion_mnist", "gaussian", "rotated"] });
  assert.equal(s.id, "mnist");
  assert.deepEqual(s.train.shape, [50, 28, 28, 1]);
  assert.deepEqual(s.test.shape, [30, 28, 28, 1]);
  assert.deepEqual(s.heldOut.shape, [0, 28, 28, 1], "no held-out images unless asked");
  assert.equal(s.train.classes.length, 10);
  assert.deepEqual(Object.keys(s.ood), ["fashion_mnist", "gaussian", "rotated"]);
  assert.deepEqual(s.oodGroups, { fashion_mnist: "far", gaussian: "far", rotated: "far" });
  assert.deepEqual(s.extra, {});
  for (const ds of Object.values(s.ood)) assert.deepEqual(ds.shape, [20, 28, 28, 1]);
  assert.equal(s.ood.gaussian!.name, "gaussian[like mnist]");
  assert.equal(s.ood.rotated!.name, "rotated[like mnist]");
  assert.ok(s.ood.gaussian!.labels.every((l) => l === -1), "noise is unlabeled");
  assert.equal(s.ood.fashion_mnist!.classes.length, 10, "the real OOD set keeps its labels");
  // The sets the baselines' own loader gave before the experiment layer (same calls, same seeds).
  const same = (a: { images: Uint8Array; labels: Int32Array }, b: typeof a, what: string) => {
    assert.deepEqual(a.labels, b.labels, `${what} labels`);
    assert.ok(a.images.length === b.images.length && a.images.every((v, i) => v === b.images[i]), `${what} images`);
  };
  same(s.train, await loadDataset("mnist", { split: "train", limit: 50, seed: 3 }), "train");
  same(s.test, limitDataset(await loadDataset("mnist", { split: "test" }), 30, 3), "test");
  same(s.ood.fashion_mnist!, await loadDataset("fashion_mnist", { split: "test", limit: 20, seed: 3 }), "fashion");
  same(s.ood.gaussian!, await loadDataset("gaussian", { split: "test", limit: 20, seed: 3, like: "mnist" }), "gauss");
  const summary = evalSetsSummary([s]);
  assert.deepEqual(summary.map((r) => [r.setting, r.role, r.images]), [
    ["mnist", "ID train", 50],
    ["mnist", "ID test", 30],
    ["mnist", "OOD (far)", 20],
    ["mnist", "OOD (far)", 20],
    ["mnist", "OOD (far)", 20],
  ]);
  assert.equal(summary[0]!.shape, "28×28×1");
});

Deno.test("loadEvalSets() builds the transformed sets exactly as loadDataset(kind, { like }) does", async () => {
  const kinds = ["inverted", "rotated", "pixel_permuted"] as const;
  const s = await loadEvalSets({
    id: "mnist",
    dataSeed: 4,
    trainLimit: 10,
    testLimit: 10,
    oodDatasets: kinds,
    oodLimit: 25,
  });
  for (const kind of kinds) {
    const ref = await loadDataset(kind, { split: "test", like: "mnist", limit: 25, seed: 4 });
    const mine = s.ood[kind]!;
    assert.equal(mine.name, ref.name);
    assert.deepEqual(mine.shape, ref.shape);
    assert.deepEqual(mine.labels, ref.labels);
    assert.ok(mine.images.every((v, i) => v === ref.images[i]), `${kind} images`);
  }
  const test = await loadDataset("mnist", { split: "test", limit: 10, seed: 4 });
  assert.deepEqual(s.test.labels, test.labels, "the ID test subset is loadDataset's");
});

Deno.test("loadEvalSets() holds out training images disjoint from the training ones", async () => {
  const spec = { id: "mnist", dataSeed: 1, trainLimit: 40, heldOut: 15, testLimit: 10 } as const;
  const s = await loadEvalSets(spec);
  assert.deepEqual([s.train.shape[0], s.heldOut.shape[0]], [40, 15]);
  const row = (ds: { images: Uint8Array }, i: number) => ds.images.subarray(i * 784, (i + 1) * 784).join();
  const train = new Set(Array.from({ length: 40 }, (_, i) => row(s.train, i)));
  for (let i = 0; i < 15; i++) assert.ok(!train.has(row(s.heldOut, i)), `held-out image ${i} is a training image`);
  const again = await loadEvalSets(spec);
  assert.deepEqual(again.heldOut.labels, s.heldOut.labels, "seeded");
  await assert.rejects(() => loadEvalSets({ ...spec, heldOut: 60000 }), /heldOut = 60000 leaves no training images/);
});

Deno.test("loadEvalSets() turns a class split's unseen test classes into a near-OOD set", async () => {
  const s = await loadEvalSets({
    id: "mnist",
    dataSeed: 1,
    trainLimit: 40,
    heldOut: 15,
    testLimit: 60,
    oodDatasets: ["uniform"],
    oodLimit: 5,
    classSplit: { protocol: "vmdls", fold: 6 },
  });
  for (const ds of [s.train, s.heldOut, s.test]) {
    assert.ok(ds.labels.every((l) => l >= 0 && l < 6), `${ds.name}: seen classes 0..5 only`);
    assert.equal(ds.classes.length, 6);
  }
  assert.deepEqual(Object.keys(s.ood), ["uniform", "mnist:unseen"]);
  assert.deepEqual(s.oodGroups, { uniform: "far", "mnist:unseen": "near" });
  assert.ok(s.ood["mnist:unseen"]!.shape[0] > 0);
  assert.equal(s.ood["mnist:unseen"]!.shape[0] + s.test.shape[0], 60, "test images split into seen and unseen");
  assert.deepEqual(evalSetsSummary([s]).map((r) => r.role), [
    "ID train",
    "ID held-out (training split)",
    "ID test",
    "OOD (far)",
    "OOD (near)",
  ]);
});

Deno.test("loadEvalSets() rejects an OOD set whose image shape differs from the ID dataset's, naming both", async () => {
  // Three CIFAR-10 records (label byte + 32·32·3 pixels) in a temporary data root.
  const root = await Deno.makeTempDir();
  await Deno.mkdir(join(root, "cifar10", "cifar-10-batches-bin"), { recursive: true });
  const rec = 1 + 32 * 32 * 3;
  const bytes = Uint8Array.from({ length: 3 * rec }, (_, i) => (i % rec === 0 ? (i / rec) % 10 : i % 251));
  await Deno.writeFile(join(root, "cifar10", "cifar-10-batches-bin", "test_batch.bin"), bytes);
  const env = Deno.env.get("OOD_DATA_DIR");
  Deno.env.set("OOD_DATA_DIR", root);
  try {
    await assert.rejects(
      () =>
        loadEvalSets({ id: "mnist", dataSeed: 0, trainLimit: 5, testLimit: 5, oodDatasets: ["cifar10"], oodLimit: 2 }),
      /loadEvalSets: cifar10.* has 32×32×3 images, mnist has 28×28×1/,
    );
  } finally {
    if (env === undefined) Deno.env.delete("OOD_DATA_DIR");
    else Deno.env.set("OOD_DATA_DIR", env);
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("availableDatasets() keeps embedded and synthetic sets and reports a downloadable set that is not installed", async () => {
  const root = await Deno.makeTempDir();
  const prev = Deno.env.get("OOD_DATA_DIR");
  Deno.env.set("OOD_DATA_DIR", root);
  try {
    const { available, missing } = await availableDatasets(["omniglot", "uniform", "fashion_mnist"]);
    assert.deepEqual(available, ["uniform", "fashion_mnist"]);
    assert.deepEqual(missing, ["omniglot"]);
  } finally {
    if (prev === undefined) Deno.env.delete("OOD_DATA_DIR");
    else Deno.env.set("OOD_DATA_DIR", prev);
  }
});
