import assert from "node:assert/strict";
import { classBalancedBatches, indexBatches, pairedBatches } from "@lib/data/batches.ts";
import { Rng } from "@lib/data/rng.ts";

const sorted = (a: Iterable<number>) => [...a].sort((x, y) => x - y);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

Deno.test("indexBatches() visits every index once per epoch, in order unless shuffled", () => {
  const plain = [...indexBatches(10, { batchSize: 4 })].map((b) => [...b]);
  assert.deepEqual(plain, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
  const shuffled = [...indexBatches(103, { batchSize: 10, shuffle: true, seed: 1 })];
  assert.equal(shuffled.length, 11);
  assert.deepEqual(sorted(shuffled.flatMap((b) => [...b])), range(103));
  assert.notDeepEqual(shuffled.flatMap((b) => [...b]), range(103));
  assert.equal([...indexBatches(103, { batchSize: 10, dropLast: true })].length, 10);
  assert.throws(() => [...indexBatches(5, { batchSize: 0 })], /positive integer/);
});

Deno.test("indexBatches() with shuffle is deterministic for a seed and for a restored Rng state", () => {
  const a = [...indexBatches(50, { batchSize: 8, shuffle: true, seed: 3 })].map((b) => [...b]);
  const b = [...indexBatches(50, { batchSize: 8, shuffle: true, seed: 3 })].map((b) => [...b]);
  assert.deepEqual(a, b);
  const rng = new Rng(11);
  [...indexBatches(50, { batchSize: 8, shuffle: true, rng })]; // epoch 1
  const state = rng.getState();
  const epoch2 = [...indexBatches(50, { batchSize: 8, shuffle: true, rng })].map((b) => [...b]);
  const resumed = [...indexBatches(50, { batchSize: 8, shuffle: true, rng: Rng.fromState(state) })].map((b) => [...b]);
  assert.deepEqual(resumed, epoch2);
});

Deno.test("classBalancedBatches() yields B distinct classes × S samples of each, VMDLS's epoch length", () => {
  const labels = new Int32Array(600);
  for (let i = 0; i < 600; i++) labels[i] = i % 10; // 60 per class
  const batches = [...classBalancedBatches(labels, { classesPerBatch: 4, samplesPerClass: 5, seed: 2 })];
  assert.equal(batches.length, Math.ceil((600 - 20) / 20)); // while count + 20 < 600
  for (const b of batches) {
    assert.equal(b.length, 20);
    const classes = [...b].map((i) => labels[i]!);
    for (let k = 0; k < 4; k++) {
      const block = classes.slice(k * 5, k * 5 + 5);
      assert.ok(block.every((c) => c === block[0]), "each block of S indices is one class");
    }
    assert.equal(new Set(classes).size, 4);
    assert.equal(new Set(b).size, 20, "no index twice in a batch");
  }
  const again = [...classBalancedBatches(labels, { classesPerBatch: 4, samplesPerClass: 5, seed: 2 })];
  assert.deepEqual(again.map((b) => [...b]), batches.map((b) => [...b]));
  assert.equal(
    [...classBalancedBatches(labels, { classesPerBatch: 2, samplesPerClass: 3, batches: 7, seed: 0 })].length,
    7,
  );
});

Deno.test("classBalancedBatches() ignores label -1 and rejects impossible requests", () => {
  const labels = new Int32Array([0, 0, 1, 1, -1, -1, 2, 2]);
  for (const b of classBalancedBatches(labels, { classesPerBatch: 3, samplesPerClass: 2, batches: 5, seed: 1 })) {
    assert.ok([...b].every((i) => labels[i]! >= 0));
  }
  assert.throws(
    () => [...classBalancedBatches(labels, { classesPerBatch: 4, samplesPerClass: 1 })],
    /exceeds the 3 classes/,
  );
  assert.throws(
    () => [...classBalancedBatches(labels, { classesPerBatch: 1, samplesPerClass: 3 })],
    /fewer than samplesPerClass/,
  );
});

Deno.test("pairedBatches() covers the ID set once and cycles the OOD set with reshuffles (ELOC)", () => {
  const steps = [...pairedBatches(95, 40, { idBatchSize: 10, oodBatchSize: 15, seed: 4 })];
  assert.equal(steps.length, 10);
  assert.deepEqual(sorted(steps.flatMap((s) => [...s.id])), range(95));
  assert.equal(steps.at(-1)!.id.length, 5);
  // OOD: 40 items in batches of 15 → 15, 15, 10 (restart) 15, 15, 10, …
  assert.deepEqual(steps.map((s) => s.ood.length), [15, 15, 10, 15, 15, 10, 15, 15, 10, 15]);
  assert.deepEqual(sorted(steps.slice(0, 3).flatMap((s) => [...s.ood])), range(40));
  const again = [...pairedBatches(95, 40, { idBatchSize: 10, oodBatchSize: 15, seed: 4 })];
  assert.deepEqual(again.map((s) => [...s.ood]), steps.map((s) => [...s.ood]));
  assert.throws(() => [...pairedBatches(5, 0, { idBatchSize: 2 })], /at least one OOD/);
});
