import assert from "node:assert/strict";
import { evaluate } from "../../lib/metrics/evaluate.ts";
import { assertClose, FIXTURE, GOLDEN, GOLDEN_ID, GOLDEN_OOD, PRINTED, scoresOf, SKLEARN_TOL } from "./_fixtures.ts";

Deno.test("evaluate() reproduces every papers.md §1.6 golden value with the default (sklearn) rules", () => {
  const r = evaluate(GOLDEN_ID, GOLDEN_OOD);
  assert.equal(r.auroc, GOLDEN.auroc);
  assert.equal(r.fpr95, GOLDEN.fpr95Sklearn);
  assert.equal(r.fpr95OodPositive, GOLDEN.fpr95OodPositive);
  assertClose(r.auprIn, GOLDEN.auprInAp, PRINTED, "auprIn");
  assertClose(r.auprOut, GOLDEN.auprOutAp, PRINTED, "auprOut");
  assertClose(r.detectionError, GOLDEN.detectionError, PRINTED, "detectionError");
  assertClose(r.autc, GOLDEN.autc, PRINTED, "autc");
  assert.deepEqual([r.nId, r.nOod], [20, 25]);
  assert.deepEqual(r.settings, { fprRule: "sklearn", tprLevel: 0.95, dropIntermediate: false, auprEstimator: "ap" });
});

Deno.test("evaluate() applies the paper rules by option: hendrycks 0.80, odin 0.64, trapezoid AUPR", () => {
  assert.equal(evaluate(GOLDEN_ID, GOLDEN_OOD, { fprRule: "hendrycks" }).fpr95, GOLDEN.fpr95Hendrycks);
  assert.equal(evaluate(GOLDEN_ID, GOLDEN_OOD, { fprRule: "odin" }).fpr95, GOLDEN.fpr95Odin);
  const t = evaluate(GOLDEN_ID, GOLDEN_OOD, { auprEstimator: "trapezoid" });
  assertClose(t.auprIn, GOLDEN.auprInTrapezoid, PRINTED, "auprIn trapezoid");
  assertClose(t.auprOut, GOLDEN.auprOutTrapezoid, PRINTED, "auprOut trapezoid");
});

Deno.test("evaluate() matches scikit-learn on every fixture case (AUROC, AP both ways, both FPR95 readings)", () => {
  for (const c of FIXTURE.cases) {
    const { id, ood } = scoresOf(c);
    const r = evaluate(id, ood);
    assertClose(r.auroc, c.auroc, SKLEARN_TOL, `${c.name} auroc`);
    assertClose(r.auprIn, c.auprIn, SKLEARN_TOL, `${c.name} auprIn`);
    assertClose(r.auprOut, c.auprOut, SKLEARN_TOL, `${c.name} auprOut`);
    assertClose(r.fpr95, c.fpr["0.95"].sklearn, SKLEARN_TOL, `${c.name} fpr95`);
    assertClose(r.fpr95OodPositive, c.fprOodPositive["0.95"].sklearn, SKLEARN_TOL, `${c.name} fpr95OodPositive`);
    assertClose(r.detectionError, c.detectionError, SKLEARN_TOL, `${c.name} detectionError`);
    const d = evaluate(id, ood, { dropIntermediate: true });
    assertClose(d.fpr95, c.fpr["0.95"].sklearnDrop, SKLEARN_TOL, `${c.name} fpr95 drop`);
    assertClose(
      d.fpr95OodPositive,
      c.fprOodPositive["0.95"].sklearnDrop,
      SKLEARN_TOL,
      `${c.name} fpr95OodPositive drop`,
    );
  }
});

Deno.test("evaluate() passes tprLevel to both FPR readings", () => {
  for (const c of FIXTURE.cases.slice(0, 6)) {
    const r = evaluate(c.id, c.ood, { tprLevel: 0.8, fprRule: "hendrycks" });
    assertClose(r.fpr95, c.fpr["0.8"].hendrycks, SKLEARN_TOL, `${c.name} fpr@80 hendrycks`);
    assertClose(r.fpr95OodPositive, c.fprOodPositive["0.8"].sklearn, SKLEARN_TOL, `${c.name} fprOodPositive@80`);
    assert.equal(r.settings.tprLevel, 0.8);
  }
});

Deno.test("evaluate() gives identical results for number[], Float32Array and Float64Array inputs", () => {
  const c = FIXTURE.cases.find((x) => x.dtype === "float32")!;
  const a = evaluate(c.id, c.ood), b = evaluate(Float32Array.from(c.id), Float64Array.from(c.ood));
  assert.deepEqual(a, b);
});

Deno.test("evaluate() on perfect and reversed separation and on all ties", () => {
  const perfect = evaluate([2, 3, 4], [0, 1]);
  assert.deepEqual(
    [perfect.auroc, perfect.auprIn, perfect.auprOut, perfect.fpr95, perfect.fpr95OodPositive, perfect.detectionError],
    [1, 1, 1, 0, 0, 0],
  );
  const reversed = evaluate([0, 1], [2, 3, 4]);
  assert.deepEqual([reversed.auroc, reversed.fpr95, reversed.fpr95OodPositive, reversed.detectionError], [
    0,
    1,
    1,
    0.5,
  ]);
  const ties = evaluate([5, 5, 5], [5, 5]);
  assert.deepEqual([ties.auroc, ties.auprIn, ties.auprOut, ties.fpr95, ties.detectionError, ties.autc], [
    0.5,
    0.6,
    0.4,
    1,
    0.5,
    0.5,
  ]);
});

Deno.test("evaluate() works with a single ID and a single OOD sample", () => {
  const r = evaluate([0.7], [0.3]);
  assert.deepEqual([r.auroc, r.fpr95, r.fpr95OodPositive, r.detectionError, r.nId, r.nOod], [1, 0, 0, 0, 1, 1]);
  const tie = evaluate([0.5], [0.5]);
  assert.deepEqual([tie.auroc, tie.fpr95, tie.detectionError], [0.5, 1, 0.5]);
});

Deno.test("evaluate() throws naming the input and index on NaN, and on empty ID or OOD", () => {
  assert.throws(() => evaluate([0.1, 0.2, NaN], [0.3]), /id scores contain NaN at index 2/);
  assert.throws(() => evaluate([0.1], Float32Array.of(0.3, NaN)), /ood scores contain NaN at index 1/);
  assert.throws(() => evaluate([], [0.3]), /id scores are empty/);
  assert.throws(() => evaluate([0.3], []), /ood scores are empty/);
});

Deno.test("evaluate() reports idAccuracy and bootstrap intervals for every metric, reproducibly", () => {
  const c = FIXTURE.cases.find((x) => x.name === "gaussian_balanced")!;
  const labels = c.id.map((_, i) => i % 10), predictions = labels.map((y, i) => (i % 7 === 0 ? (y + 1) % 10 : y));
  const opts = { idClassification: { labels, predictions }, bootstrap: { resamples: 100, seed: 9 } };
  const r = evaluate(c.id, c.ood, opts);
  assertClose(r.idAccuracy!, 1 - Math.ceil(c.id.length / 7) / c.id.length, 1e-15, "idAccuracy");
  const names = ["auroc", "auprIn", "auprOut", "fpr95", "fpr95OodPositive", "detectionError", "autc", "idAccuracy"];
  assert.deepEqual(Object.keys(r.ci!).sort(), names.sort());
  for (const [name, iv] of Object.entries(r.ci!)) {
    assert.equal(iv.estimate, (r as unknown as Record<string, number>)[name], name);
    assert.ok(iv.lower <= iv.estimate && iv.estimate <= iv.upper, `${name}: ${JSON.stringify(iv)}`);
  }
  assert.deepEqual(evaluate(c.id, c.ood, opts).ci, r.ci);
  assert.equal(evaluate(c.id, c.ood).ci, undefined);
});
