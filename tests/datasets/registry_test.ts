import assert from "node:assert/strict";
import { DatasetMissingError } from "@lib/datasets/errors.ts";
import { MANIFEST } from "@lib/datasets/manifest.ts";
import { type DatasetEntry, type DatasetName, DATASETS, isAvailable, loadDataset } from "@lib/datasets/registry.ts";
import { listImageFiles } from "@lib/datasets/image_folder.ts";
import { decodeImage } from "@lib/datasets/image_decode.ts";
import { fitImage } from "@lib/data/resize.ts";
import { join } from "node:path";
import { tempDataRoot } from "./_fixtures.ts";

const root = tempDataRoot(); // every downloadable set, in miniature
globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));

const entries = Object.entries(DATASETS) as [DatasetName, DatasetEntry][];

for (const [name, entry] of entries) {
  Deno.test(`loadDataset("${name}") returns uint8 NHWC images of the registered shape and valid labels`, async () => {
    const like = entry.kind === "synthetic" ? "cifar10" : undefined;
    const ds = await loadDataset(name, { split: "test", root, limit: 3, like });
    const shape = entry.shape === "like" ? DATASETS.cifar10.shape : entry.shape;
    assert.ok(ds.images instanceof Uint8Array && ds.labels instanceof Int32Array);
    assert.equal(ds.shape[0], Math.min(3, ds.labels.length));
    assert.deepEqual(ds.shape.slice(1), [...shape]);
    assert.equal(ds.images.length, ds.shape.reduce((a, b) => a * b, 1));
    assert.equal(ds.labels.length, ds.shape[0]);
    for (const y of ds.labels) assert.ok(entry.numClasses === 0 ? y === -1 : y >= 0 && y < entry.numClasses);
    if (entry.numClasses > 0) assert.equal(ds.classes.length, entry.numClasses);
  });
}

Deno.test("every downloadable registry entry has a manifest entry and vice versa", () => {
  const downloadable = entries.filter(([, e]) => e.kind === "download").map(([n]) => n).sort();
  assert.deepEqual(downloadable, Object.keys(MANIFEST).sort());
});

Deno.test("loadDataset() of a dataset that is not installed names the command that fetches it", async () => {
  const empty = Deno.makeTempDirSync();
  try {
    for (const name of Object.keys(MANIFEST) as DatasetName[]) {
      await assert.rejects(
        loadDataset(name, { split: "test", root: empty }),
        (e: unknown) => e instanceof DatasetMissingError && e.message.includes(`deno task data ${name}`),
      );
      assert.equal(isAvailable(name, empty), false);
    }
    assert.equal(isAvailable("mnist", empty), true);
  } finally {
    Deno.removeSync(empty, { recursive: true });
  }
});

Deno.test("loadDataset() rejects unknown names, missing splits and a synthetic `like`", async () => {
  await assert.rejects(
    loadDataset("cifar11" as DatasetName, { split: "test" }),
    /Unknown dataset "cifar11"\. Valid names: mnist, fashion_mnist/,
  );
  await assert.rejects(loadDataset("lsun_crop", { split: "train", root }), /has no train split \(it has: test\)/);
  await assert.rejects(loadDataset("mnist", { split: "val" as never }), /split must be "train" or "test"/);
  await assert.rejects(
    loadDataset("gaussian", { split: "test", like: "uniform" }),
    /needs like = a non-synthetic dataset/,
  );
});

Deno.test("loadDataset() with limit and seed returns a seeded random subset; synthetic sets default to like mnist", async () => {
  const a = await loadDataset("mnist", { split: "test", limit: 20, seed: 1 });
  const b = await loadDataset("mnist", { split: "test", limit: 20, seed: 1 });
  const first = await loadDataset("mnist", { split: "test", limit: 20 });
  assert.deepEqual(a.labels, b.labels);
  assert.notDeepEqual(a.labels, first.labels);
  assert.deepEqual([...first.labels.subarray(0, 3)], [7, 2, 1]);
  const u = await loadDataset("uniform", { split: "test" });
  assert.deepEqual(u.shape, [10000, 28, 28, 1]);
  assert.equal(u.name, "uniform[like mnist]");
  const inv = await loadDataset("inverted", { split: "test", limit: 2 });
  assert.equal(inv.images[0], 255 - first.images[0]!);
});

Deno.test("loadDataset() fits image-folder sets as the entry does, or as `fit` asks (UM: resize, CIDER: resize + crop)", async () => {
  const dir = join(root, "sun");
  const file = join(dir, listImageFiles(dir)[0]!);
  const img = decodeImage(Deno.readFileSync(file), file, 3); // 48×64: the two fits differ
  const crop = await loadDataset("sun", { split: "test", root });
  const squash = await loadDataset("sun", { split: "test", root, fit: "resize" });
  assert.deepEqual(squash.shape, crop.shape);
  assert.deepEqual(crop.images.subarray(0, 32 * 32 * 3), fitImage(img, 32, "resize_center_crop").data);
  assert.deepEqual(squash.images.subarray(0, 32 * 32 * 3), fitImage(img, 32, "resize").data);
  assert.notDeepEqual(squash.images, crop.images);
  // 32×32 images are unchanged by either fit; non-folder sets ignore it
  const lsun = await loadDataset("lsun_crop", { split: "test", root });
  assert.deepEqual((await loadDataset("lsun_crop", { split: "test", root, fit: "resize" })).images, lsun.images);
  const svhn = await loadDataset("svhn", { split: "test", root });
  assert.deepEqual((await loadDataset("svhn", { split: "test", root, fit: "resize" })).images, svhn.images);
});
