import assert from "node:assert/strict";
import {
  concatDatasets,
  headDataset,
  limitDataset,
  rangeDataset,
  selectIndices,
  subsetDataset,
} from "@lib/datasets/subset.ts";
import type { Dataset } from "@lib/datasets/types.ts";

const ds = (n: number, base = 0): Dataset => ({
  name: "d",
  images: Uint8Array.from({ length: n * 2 }, (_, i) => base + i),
  labels: Int32Array.from({ length: n }, (_, i) => i),
  shape: [n, 1, 2, 1],
  classes: [],
});

Deno.test("selectIndices() keeps all, the first `limit`, or a seeded random subset", () => {
  assert.deepEqual([...selectIndices(4)], [0, 1, 2, 3]);
  assert.deepEqual([...selectIndices(4, undefined, 7)], [0, 1, 2, 3], "seed alone does not reorder");
  assert.deepEqual([...selectIndices(5, 2)], [0, 1]);
  const r = selectIndices(100, 10, 3);
  assert.equal(new Set(r).size, 10);
  assert.deepEqual([...selectIndices(100, 10, 3)], [...r]);
  assert.notDeepEqual([...selectIndices(100, 10, 4)], [...r]);
  assert.throws(() => selectIndices(5, -1), /non-negative integer/);
});

Deno.test("subsetDataset()/limitDataset()/concatDatasets() copy the right images and labels", () => {
  const s = subsetDataset(ds(4), [3, 1]);
  assert.deepEqual([...s.images], [6, 7, 2, 3]);
  assert.deepEqual([...s.labels], [3, 1]);
  assert.deepEqual(s.shape, [2, 1, 2, 1]);
  const full = ds(4);
  assert.equal(limitDataset(full, 10), full);
  assert.equal(limitDataset(full, 2).shape[0], 2);
  const c = concatDatasets([ds(1), ds(2, 100)], "c", ["x"]);
  assert.deepEqual([...c.images], [0, 1, 100, 101, 102, 103]);
  assert.deepEqual([...c.labels], [0, 0, 1]);
  assert.throws(() => subsetDataset(ds(2), [2]), /out of range/);
});

Deno.test("headDataset() views the first n images without copying and returns the set itself when n covers it", () => {
  const d = ds(4);
  const head = headDataset(d, 2);
  assert.deepEqual(head.shape, [2, ...d.shape.slice(1)]);
  assert.deepEqual([...head.labels], [...d.labels.subarray(0, 2)]);
  assert.equal(head.images.buffer, d.images.buffer, "a view, not a copy");
  assert.equal(head.images.length, 2 * d.shape[1] * d.shape[2] * d.shape[3]);
  assert.equal(headDataset(d, undefined), d);
  assert.equal(headDataset(d, d.shape[0] + 5), d);
  assert.equal(headDataset(d, -1).shape[0], 0);
});

Deno.test("rangeDataset() views images [start, end), clamped to the set", () => {
  const d = ds(5);
  const mid = rangeDataset(d, 1, 3);
  assert.deepEqual(mid.shape, [2, 1, 2, 1]);
  assert.deepEqual([...mid.labels], [1, 2]);
  assert.deepEqual([...mid.images], [2, 3, 4, 5]);
  assert.equal(mid.images.buffer, d.images.buffer, "a view, not a copy");
  assert.equal(rangeDataset(d, 3, 99).shape[0], 2);
  assert.equal(rangeDataset(d, 4, 2).shape[0], 0);
  assert.equal(rangeDataset(d, 0, 5), d);
});
