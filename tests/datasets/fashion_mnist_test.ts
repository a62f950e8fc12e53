import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { DatasetFormatError } from "@lib/datasets/errors.ts";
import { FASHION_MNIST_CLASSES, fashionMnistIndices, loadFashionMnist } from "@lib/datasets/fashion_mnist.ts";
import { fixture } from "./_fixtures.ts";

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const test = loadFashionMnist("test"); // the real embedded data, parsed once for this file

Deno.test("the Fashion-MNIST test split is pinned: its indices and its content hash never change", () => {
  const idx = fashionMnistIndices("test");
  assert.equal(sha(new Uint8Array(idx.buffer)), "18b251a5b2991d33131fabf18576511553c6fb860876304a8101adf372b1f239");
  const content = createHash("sha256").update(test.images).update(new Uint8Array(test.labels.buffer)).digest("hex");
  assert.equal(content, "52e540f65b7cdc5d36ce3ac88af27c28ff7822dd8603ea1d6f424130e4bc09a6");
});

Deno.test("loadFashionMnist('test') has 10 000 images, 1 000 per class, class-interleaved", () => {
  assert.deepEqual(test.shape, [10000, 28, 28, 1]);
  assert.deepEqual(test.classes, [...FASHION_MNIST_CLASSES]);
  assert.deepEqual([...test.labels.subarray(0, 12)], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
  const counts = new Array(10).fill(0);
  for (const y of test.labels) counts[y]++;
  assert.deepEqual(counts, new Array(10).fill(1000));
});

Deno.test("fashionMnistIndices() gives disjoint 60 000 / 10 000 splits covering all 70 000 images", () => {
  const train = fashionMnistIndices("train"), t = fashionMnistIndices("test");
  assert.equal(train.length, 60000);
  assert.equal(t.length, 10000);
  const all = new Set([...train, ...t]);
  assert.equal(all.size, 70000);
  assert.equal(Math.min(...all), 0);
  assert.equal(Math.max(...all), 69999);
  // test = the last 1 000 of each class in package order
  assert.deepEqual([...t.subarray(0, 3)], [6000, 13000, 20000]);
});

const BAD: [string, RegExp][] = [
  ["fashion/bad-json", /0\.json: not valid JSON/],
  ["fashion/bad-pixels", /0\.json: entry 0 has 3 pixels, expected 784/],
  ["fashion/bad-count", /0\.json: has 1 non-empty images, expected 7000/],
  ["fashion/bad-value", /0\.json: entry 0 pixel 783 is 256, expected an integer 0\.\.255/],
];
for (const [dir, why] of BAD) {
  Deno.test(`loadFashionMnist() rejects ${dir.split("/")[1]} class files, naming the file`, () => {
    assert.throws(
      () => loadFashionMnist("test", { dir: fixture(dir) }),
      (e: unknown) => e instanceof DatasetFormatError && why.test(e.message),
    );
  });
}
