import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { batchToTensor, gatherBatch, normalizeBatch, tensorBatches } from "@lib/data/tensors.ts";
import type { Dataset } from "@lib/datasets/types.ts";

await initBackend({ backend: "cpu", log: null });

function toy(n = 10): Dataset {
  const images = new Uint8Array(n * 32 * 32 * 3);
  for (let i = 0; i < images.length; i++) images[i] = (i * 7) % 256;
  return {
    name: "toy",
    images,
    labels: Int32Array.from({ length: n }, (_, i) => i % 3),
    shape: [n, 32, 32, 3],
    classes: ["a", "b", "c"],
  };
}

Deno.test("normalizeBatch() computes (x/255 - mean)/std per channel, by name or explicit", () => {
  const out = normalizeBatch(new Uint8Array([0, 255, 51, 255, 0, 102]), 3, { mean: [0, 0.5, 0.2], std: [1, 0.5, 0.1] });
  const want = [0, 1, 0, 1, -1, 2];
  out.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-6, `${i}: ${v} vs ${want[i]}`));
  const half = normalizeBatch(new Uint8Array([0, 255]), 1, "mnistHalf");
  assert.deepEqual([...half].map((v) => Math.round(v * 1e6) / 1e6), [-1, 1]);
  assert.throws(() => normalizeBatch(new Uint8Array(3), 3, "mnistHalf"), /1 means/);
  assert.throws(() => normalizeBatch(new Uint8Array(3), 3, "cifar" as never), /Unknown normalization "cifar"/);
});

Deno.test("batchToTensor() returns a float32 NHWC tensor with normalized values", () => {
  const ds = toy(2);
  const t = batchToTensor(ds.images, ds.shape, "cifarOdin");
  assert.deepEqual(t.shape, [2, 32, 32, 3]);
  assert.equal(t.dtype, "float32");
  const v = t.dataSync();
  assert.ok(Math.abs(v[1]! - (7 / 255 - 123.0 / 255) / (62.1 / 255)) < 1e-5);
  t.dispose();
});

Deno.test("tensorBatches() covers the dataset, is deterministic, and leaks no tensors once batches are disposed", () => {
  const ds = toy(10);
  const before = tf.memory().numTensors;
  const run = () => {
    const seen: number[] = [];
    const xs: number[][] = [];
    for (
      const { x, y, indices } of tensorBatches(ds, {
        batchSize: 4,
        normalization: "cifarSupcon",
        shuffle: true,
        augment: "cropFlip",
        seed: 9,
      })
    ) {
      assert.equal(x.shape[0], indices.length);
      assert.deepEqual([...y.dataSync()], [...indices].map((i) => ds.labels[i]!));
      seen.push(...indices);
      xs.push([...x.dataSync()]);
      x.dispose();
      y.dispose();
    }
    return { seen, xs };
  };
  const a = run(), b = run();
  assert.deepEqual([...a.seen].sort((p, q) => p - q), [...Array(10).keys()]);
  assert.deepEqual(a.xs, b.xs);
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("tensorBatches() with views: 2 stacks two augmented views and repeats the labels", () => {
  const ds = toy(6);
  const [first] = tensorBatches(ds, {
    batchSize: 3,
    normalization: "cifarSupcon",
    augment: "supcon",
    views: 2,
    seed: 1,
  });
  assert.deepEqual(first!.x.shape, [6, 32, 32, 3]);
  assert.deepEqual([...first!.y.dataSync()], [0, 1, 2, 0, 1, 2]);
  const x = first!.x.arraySync();
  assert.notDeepEqual(x[0], x[3]);
  first!.x.dispose();
  first!.y.dispose();
  const g = gatherBatch(ds, [5, 1]);
  assert.deepEqual([...g.labels], [2, 1]);
  assert.throws(() => gatherBatch(ds, [6]), /out of range/);
});
