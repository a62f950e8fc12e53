import assert from "node:assert/strict";
import { BalancedBatchSampler } from "@lib/methods/vmdls/sampler.ts";

/** Labels 0..k−1, `per` of each, interleaved. */
const labelsOf = (k: number, per: number) => Int32Array.from({ length: k * per }, (_, i) => i % k);

Deno.test("BalancedBatchSampler: B_c distinct classes × B_s samples per batch, 374 batches for MNIST 10 × 16", () => {
  const labels = labelsOf(10, 6000);
  const s = new BalancedBatchSampler(labels, { classesPerBatch: 10, samplesPerClass: 16, seed: 1 });
  const epoch = s.epoch();
  assert.equal(epoch.length, 374);
  assert.equal(s.batchesPerEpoch, 374);
  for (const batch of epoch.slice(0, 50)) {
    assert.equal(batch.length, 160);
    for (let c = 0; c < 10; c++) {
      const block = batch.slice(c * 16, (c + 1) * 16).map((i) => labels[i]!);
      assert.ok(block.every((y) => y === block[0]), "one class per block of B_s");
    }
    assert.equal(new Set(batch.map((i) => labels[i]!)).size, 10);
    assert.equal(new Set(batch).size, 160, "no index twice in a batch");
  }
  const few = new BalancedBatchSampler(labels.subarray(0, 100), { classesPerBatch: 3, samplesPerClass: 2, seed: 2 });
  for (const batch of few.epoch()) assert.equal(new Set(batch.map((i) => labels[i]!)).size, 3, "3 distinct classes");
  // count + B < N: N = 100, B = 6 → counts 0, 6, …, 90 (90 + 6 < 100; 96 + 6 ≥ 100): 16 batches.
  assert.equal(few.epoch().length, 16);
  assert.equal(few.batchesPerEpoch, 16);
});

Deno.test("BalancedBatchSampler: the read position advances, and the list is reshuffled when < B_s remain", () => {
  // One class of 5, B_s = 2: reads [0:2], [2:4]; then 4 + 2 > 5 → reshuffle, position 0 (index list[4] skipped).
  // With `persist`, epoch 2 continues from the reshuffled list at position 0 — again 4 distinct of 5.
  for (const persist of [false, true]) {
    const s = new BalancedBatchSampler(new Int32Array(5), { classesPerBatch: 1, samplesPerClass: 2, seed: 3, persist });
    const [b1, b2, ...rest] = s.epoch(); // N = 5, B = 2: counts 0 and 2 → two batches
    assert.equal(rest.length, 0);
    assert.equal(new Set([...b1!, ...b2!]).size, 4, "four distinct indices before the reshuffle");
    for (let e = 0; e < 20; e++) {
      const [c1, c2] = s.epoch();
      assert.equal(new Set([...c1!, ...c2!]).size, 4, `epoch ${e}: each pass reads 4 of the 5 without repeats`);
    }
  }
  // Within one epoch the read position advances: 3 batches of one class of 7 with B_s = 2 read [0:2], [2:4], [4:6].
  const one = new BalancedBatchSampler(new Int32Array(7), { classesPerBatch: 1, samplesPerClass: 2, seed: 4 });
  const e1 = one.epoch().flat();
  assert.equal(e1.length, 6);
  assert.equal(new Set(e1).size, 6, "six distinct indices: no reshuffle before 6 + 2 > 7");
  // A class whose list is shorter than B_s gives what it has.
  const short = new BalancedBatchSampler(Int32Array.of(0, 0, 0, 1), {
    classesPerBatch: 2,
    samplesPerClass: 2,
    seed: 0,
  });
  assert.equal(short.nextBatch().length, 3);
});

Deno.test("BalancedBatchSampler: seeded, state carries across epochs, option checks", () => {
  const labels = labelsOf(4, 30);
  const a = new BalancedBatchSampler(labels, { classesPerBatch: 2, samplesPerClass: 3, seed: 9 });
  const b = new BalancedBatchSampler(labels, { classesPerBatch: 2, samplesPerClass: 3, seed: 9 });
  const c = new BalancedBatchSampler(labels, { classesPerBatch: 2, samplesPerClass: 3, seed: 10 });
  const ea = a.epoch();
  assert.deepEqual(ea, b.epoch());
  assert.notDeepEqual(ea, c.epoch());
  assert.notDeepEqual(a.epoch(), ea, "the second epoch draws afresh");
  // Afresh vs persisted: the same first epoch, then different second epochs.
  const p = new BalancedBatchSampler(labels, { classesPerBatch: 2, samplesPerClass: 3, seed: 9, persist: true });
  assert.deepEqual(p.epoch(), ea);
  const fresh = new BalancedBatchSampler(labels, { classesPerBatch: 2, samplesPerClass: 3, seed: 9 });
  fresh.epoch();
  assert.notDeepEqual(p.epoch(), fresh.epoch());
  assert.deepEqual(a.classes, [0, 1, 2, 3]);
  assert.throws(() => new BalancedBatchSampler(labels, { classesPerBatch: 5, samplesPerClass: 1 }), /only 4 classes/);
  assert.throws(
    () => new BalancedBatchSampler(labels, { classesPerBatch: 0, samplesPerClass: 1 }),
    /positive integers/,
  );
});
