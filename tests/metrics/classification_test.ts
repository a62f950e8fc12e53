import assert from "node:assert/strict";
import {
  accuracy,
  bootstrapClassification,
  macroF1,
  openSetPredictions,
  perClassF1,
} from "../../lib/metrics/classification.ts";
import { assertClose, FIXTURE, SKLEARN_TOL } from "./_fixtures.ts";

Deno.test("macroF1() equals the hand-computed (1/2 + 4/5 + 2/3)/3 on a 3-class example", () => {
  // class 0: TP 1, FP 1, FN 1 → 1/2; class 1: TP 2, FP 1, FN 0 → 4/5; class 2: TP 1, FP 0, FN 1 → 2/3
  const yTrue = [0, 0, 1, 1, 2, 2], yPred = [0, 1, 1, 1, 2, 0];
  assert.deepEqual([...perClassF1(yTrue, yPred).f1], [1 / 2, 4 / 5, 2 / 3]);
  assertClose(macroF1(yTrue, yPred), 59 / 90, 1e-15, "macroF1");
  assertClose(macroF1(yTrue, yPred, { numClasses: 3 }), 59 / 90, 1e-15, "macroF1 K+1");
});

Deno.test("macroF1() over K+1 classes scores an absent class 0, the default averages present classes only", () => {
  const yTrue = [0, 0, 1], yPred = [0, 0, 1];
  assert.equal(macroF1(yTrue, yPred), 1);
  assertClose(macroF1(yTrue, yPred, { numClasses: 3 }), 2 / 3, 1e-15, "K+1");
});

Deno.test("accuracy() and macroF1() equal scikit-learn accuracy_score / f1_score(average='macro') on the fixture", () => {
  for (const c of FIXTURE.classification) {
    assertClose(accuracy(c.yTrue, c.yPred), c.accuracy, SKLEARN_TOL, `${c.name} acc`);
    assertClose(macroF1(c.yTrue, c.yPred), c.macroF1, SKLEARN_TOL, `${c.name} f1`);
    const all = macroF1(c.yTrue, c.yPred, { numClasses: c.numClasses });
    assertClose(all, c.macroF1AllClasses, SKLEARN_TOL, `${c.name} f1 all classes`);
  }
});

Deno.test("openSetPredictions() keeps the closed-set class when score ≥ τ and predicts unknown = K otherwise", () => {
  const pred = openSetPredictions([2, 0, 1, 1], Float32Array.of(0.9, 0.1, 0.5, 0.49), 0.5, 3);
  assert.deepEqual([...pred], [2, 3, 1, 3]);
  assert.throws(() => openSetPredictions([0], [NaN], 0, 1), /NaN at index 0/);
});

Deno.test("accuracy()/macroF1() reject empty input, length mismatch and invalid labels", () => {
  assert.throws(() => accuracy([], []), /empty/);
  assert.throws(() => accuracy([0, 1], [0]), /2 labels but yPred has 1/);
  assert.throws(() => macroF1([0, 1.5], [0, 1]), /yTrue\[1\] = 1.5/);
  assert.throws(() => macroF1([0, 3], [0, 1], { numClasses: 3 }), /integer in \[0, 3\)/);
});

Deno.test("bootstrapClassification() is reproducible with a seed and its intervals contain the estimates", () => {
  const c = FIXTURE.classification[0]!;
  const opts = { resamples: 200, seed: 11, numClasses: c.numClasses };
  const a = bootstrapClassification(c.yTrue, c.yPred, opts);
  assert.deepEqual(a, bootstrapClassification(c.yTrue, c.yPred, opts));
  assertClose(a.accuracy.estimate, c.accuracy, SKLEARN_TOL, "estimate");
  for (const iv of [a.accuracy, a.macroF1]) assert.ok(iv.lower <= iv.estimate && iv.estimate <= iv.upper);
});
