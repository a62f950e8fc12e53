import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { DatasetFormatError } from "@lib/datasets/errors.ts";
import { loadIdxPair, loadMnist, MNIST_CLASSES } from "@lib/datasets/mnist.ts";
import { fixture } from "./_fixtures.ts";

const test = loadMnist("test"); // the real embedded data, loaded once for this file

Deno.test("loadMnist('test') returns the 10 000 official test images with the official labels", () => {
  assert.deepEqual(test.shape, [10000, 28, 28, 1]);
  assert.equal(test.images.length, 10000 * 784);
  assert.deepEqual([...test.labels.subarray(0, 10)], [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
  const counts = new Array(10).fill(0);
  for (const y of test.labels) counts[y]++;
  assert.deepEqual(counts, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  assert.deepEqual(test.classes, [...MNIST_CLASSES]);
  const h = createHash("sha256").update(test.images).update(new Uint8Array(test.labels.buffer)).digest("hex");
  assert.equal(h, "45a60edfded3b2bb860a7fd195c83431011e7f04318268b4f2de30030af9444e");
});

Deno.test("loadMnist('train') returns the 60 000 official training images", () => {
  const train = loadMnist("train");
  assert.deepEqual(train.shape, [60000, 28, 28, 1]);
  assert.deepEqual([...train.labels.subarray(0, 10)], [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
  const counts = new Array(10).fill(0);
  for (const y of train.labels) counts[y]++;
  assert.deepEqual(counts, [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
});

Deno.test("loadMnist({ dir }) reads IDX files from another folder", () => {
  const ds = loadMnist("test", { dir: fixture("idx") });
  assert.deepEqual(ds.shape, [3, 28, 28, 1]);
  assert.deepEqual([...ds.labels], [7, 2, 1]);
});

Deno.test("loadIdxPair() rejects a label file whose count differs from the images", () => {
  assert.throws(
    () =>
      loadIdxPair(fixture("idx/t10k-images-idx3-ubyte"), fixture("idx/bad/short-labels-idx1-ubyte"), {
        name: "m",
        classes: MNIST_CLASSES,
      }),
    (e: unknown) =>
      e instanceof DatasetFormatError && /short-labels-idx1-ubyte: has 2 labels but .* has 3 images/.test(e.message),
  );
});

Deno.test("loadIdxPair() rejects a label outside the class range, naming file and index", () => {
  assert.throws(
    () =>
      loadIdxPair(fixture("idx/t10k-images-idx3-ubyte"), fixture("idx/bad/big-labels-idx1-ubyte"), {
        name: "m",
        classes: MNIST_CLASSES,
      }),
    /big-labels-idx1-ubyte: label 12 at index 1 is out of range 0\.\.9/,
  );
});
