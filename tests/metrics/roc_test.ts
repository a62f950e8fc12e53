import assert from "node:assert/strict";
import { orientCurve, rocCurve, rocSweep, sortScores, sweepSorted } from "../../lib/metrics/roc.ts";
import { GOLDEN_ID, GOLDEN_OOD } from "./_fixtures.ts";

Deno.test("rocSweep() groups tied scores across ID and OOD into one descending threshold", () => {
  const s = rocSweep([3, 2, 2, 1], [2, 0]);
  assert.deepEqual([...s.thresholds], [3, 2, 1, 0]);
  assert.deepEqual([...s.tp], [1, 3, 4, 4]);
  assert.deepEqual([...s.fp], [0, 1, 1, 2]);
  assert.equal(s.nId, 4);
  assert.equal(s.nOod, 2);
});

Deno.test("rocSweep() treats -0 and +0 as one score", () => {
  const s = rocSweep([0, 1], [-0]);
  assert.deepEqual([...s.thresholds], [1, 0]);
  assert.deepEqual([...s.fp], [0, 1]);
});

Deno.test("rocSweep() accepts number[], Float32Array and Float64Array alike", () => {
  const a = rocSweep([0.5, 0.25], [0.75]);
  const b = rocSweep(Float32Array.of(0.5, 0.25), Float64Array.of(0.75));
  assert.deepEqual(a, b);
});

Deno.test("rocSweep() orders ±Infinity like any other score", () => {
  const s = rocSweep([Infinity, 1], [-Infinity]);
  assert.deepEqual([...s.thresholds], [Infinity, 1, -Infinity]);
});

Deno.test("rocSweep() throws naming the input and index of a NaN", () => {
  assert.throws(() => rocSweep([1, NaN], [0]), /id scores contain NaN at index 1/);
  assert.throws(() => rocSweep([1], Float32Array.of(0, 0, NaN)), /ood scores contain NaN at index 2/);
});

Deno.test("rocSweep() throws on an empty ID or OOD set", () => {
  assert.throws(() => rocSweep([], [1]), /id scores are empty/);
  assert.throws(() => rocSweep([1], new Float64Array()), /ood scores are empty/);
});

Deno.test("sweepSorted() with weights counts multiplicities and drops zero-weight scores", () => {
  const sorted = sortScores([1, 2, 3], [1.5, 2.5]);
  const s = sweepSorted(sorted, { id: [2, 0, 1], ood: [0, 3] }); // ID 1 twice, 3 once; OOD 2.5 three times
  assert.deepEqual([...s.thresholds], [3, 2.5, 1]);
  assert.deepEqual([...s.tp], [1, 1, 3]);
  assert.deepEqual([...s.fp], [0, 3, 3]);
  assert.equal(s.nId, 3);
  assert.equal(s.nOod, 3);
});

Deno.test("orientCurve() with OOD positive counts samples with score ≤ t, ascending", () => {
  const c = orientCurve(rocSweep([3, 2, 2, 1], [2, 0]), "ood");
  assert.deepEqual([...c.pos], [1, 1, 2, 2]); // OOD ≤ 0, 1, 2, 3
  assert.deepEqual([...c.neg], [0, 1, 3, 4]); // ID ≤ 0, 1, 2, 3
  assert.equal(c.nPos, 2);
  assert.equal(c.nNeg, 4);
});

Deno.test("rocCurve() starts at (0, 0) and ends at (1, 1) with one point per distinct score", () => {
  const c = rocCurve(GOLDEN_ID, GOLDEN_OOD);
  const distinct = new Set([...GOLDEN_ID, ...GOLDEN_OOD]).size;
  assert.equal(c.fpr.length, distinct + 1);
  assert.equal(c.thresholds[0], Infinity);
  assert.deepEqual([c.fpr[0], c.tpr[0], c.fpr.at(-1), c.tpr.at(-1)], [0, 0, 1, 1]);
});

Deno.test("rocCurve() with OOD positive thresholds the negated score, ascending scores first", () => {
  const c = rocCurve([3, 2, 2, 1], [2, 0], { positive: "ood" });
  assert.deepEqual([...c.thresholds], [Infinity, -0, -1, -2, -3]);
  assert.deepEqual([...c.tpr], [0, 0.5, 0.5, 1, 1]);
  assert.deepEqual([...c.fpr], [0, 0, 0.25, 0.75, 1]);
});

Deno.test("rocCurve() with dropIntermediate removes collinear points", () => {
  const x = Array.from({ length: 10 }, (_, i) => i);
  const c = rocCurve(x, x, { dropIntermediate: true });
  assert.deepEqual([...c.tpr], [0, 0.1, 1]);
  assert.deepEqual([...c.fpr], [0, 0.1, 1]);
});
