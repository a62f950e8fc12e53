import assert from "node:assert/strict";
import { join } from "node:path";
import { DatasetFormatError, DatasetMissingError } from "@lib/datasets/errors.ts";
import { listImageFiles, loadImageFolder } from "@lib/datasets/image_folder.ts";
import { fixture, tempDataRoot } from "./_fixtures.ts";

const RGB32 = { size: 32, channels: 3, fit: "resize_center_crop" } as const;

Deno.test("listImageFiles() lists PNG/JPEG files recursively, sorted, skipping hidden files and other extensions", () => {
  assert.deepEqual(listImageFiles(fixture("root/textures")), [
    "dtd/images/banded/banded_0001.jpg",
    "dtd/images/banded/banded_0002.jpg",
    "dtd/images/zigzagged/zigzagged_0001.jpg",
  ]);
});

Deno.test("loadImageFolder() resizes and centre-crops images of various sizes to 32×32 with label -1", () => {
  const root = tempDataRoot();
  try {
    const ds = loadImageFolder(join(root, "textures"), RGB32, { name: "textures" });
    assert.deepEqual(ds.shape, [3, 32, 32, 3]);
    assert.ok(ds.labels.every((y) => y === -1));
    assert.deepEqual(ds.classes, []);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("loadImageFolder() writes a decoded cache on a full load and reads it back identically", () => {
  const root = tempDataRoot();
  try {
    const dir = join(root, "lsun_crop");
    const first = loadImageFolder(dir, RGB32, { name: "lsun_crop" });
    const cacheFiles = [...Deno.readDirSync(join(dir, ".ood-cache"))];
    assert.equal(cacheFiles.length, 1);
    const second = loadImageFolder(dir, RGB32, { name: "lsun_crop" });
    assert.deepEqual(second.images, first.images);
    const part = loadImageFolder(dir, RGB32, { name: "lsun_crop", limit: 2, seed: 1 });
    const uncached = loadImageFolder(dir, RGB32, { name: "lsun_crop", limit: 2, seed: 1, cache: false });
    assert.deepEqual(part.images, uncached.images);
    assert.equal(part.shape[0], 2);
    // a changed file list invalidates the cache: a different key is used
    Deno.removeSync(join(dir, "LSUN/test/0003.jpg"));
    assert.equal(loadImageFolder(dir, RGB32, { name: "lsun_crop" }).shape[0], 3);
    assert.equal([...Deno.readDirSync(join(dir, ".ood-cache"))].length, 2);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("loadImageFolder() inverts and stretches Omniglot-style 1-bit PNGs to 28×28 gray", () => {
  const ds = loadImageFolder(fixture("root/omniglot"), { size: 28, channels: 1, fit: "resize", invert: true }, {
    name: "omniglot",
    cache: false,
    firstN: 3,
  });
  assert.deepEqual(ds.shape, [3, 28, 28, 1]);
  // background (white, 255) becomes 0 after inversion; the corners are background
  assert.equal(ds.images[0], 0);
  assert.ok(ds.images.some((v) => v > 128), "strokes become bright");
});

Deno.test("loadImageFolder() reports a missing folder, an empty folder, and an undecodable image by name", () => {
  assert.throws(
    () => loadImageFolder(fixture("root/nope"), RGB32, { name: "isun" }),
    (e: unknown) => e instanceof DatasetMissingError && /deno task data isun/.test(e.message),
  );
  assert.throws(
    () => loadImageFolder(fixture("root/empty_set"), RGB32, { name: "x", cache: false }),
    (e: unknown) =>
      e instanceof DatasetFormatError && /empty_set: the image folder contains no PNG or JPEG files/.test(e.message),
  );
  assert.throws(
    () => loadImageFolder(fixture("images"), RGB32, { name: "x", cache: false }),
    (e: unknown) => e instanceof DatasetFormatError && /images\/bad\/corrupt\.jpg: undecodable JPEG/.test(e.message),
  );
});
