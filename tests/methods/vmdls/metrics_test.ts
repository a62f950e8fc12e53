import assert from "node:assert/strict";
import { auroc, fprAtTpr, macroF1 } from "@lib/metrics/mod.ts";
import { openSetMetrics } from "@lib/experiment/rows.ts";
import {
  VMDLS_F1_THRESHOLDS,
  vmdlsBestMacroF1,
  vmdlsCleanMacroF1,
  type VmdlsEvalSet,
  vmdlsMacroF1At,
  vmdlsRocMetrics,
  vmdlsThresholdGrid,
} from "@lib/methods/vmdls/metrics.ts";
import { assertClose } from "../../scores/_fixtures.ts";
import { GOLDEN, GOLDEN_ID, GOLDEN_OOD } from "../../metrics/_fixtures.ts";

/** An evaluation set whose ID images are all classified correctly as class 0 (one known class). */
function allCorrect(id: number[], ood: number[]): VmdlsEvalSet {
  const zeros = (n: number) => new Int32Array(n);
  return {
    id: { scores: id, predictions: zeros(id.length), labels: zeros(id.length) },
    ood: { scores: ood, predictions: zeros(ood.length) },
    numClasses: 1,
  };
}

Deno.test("vmdlsThresholdGrid: np.flip(np.geomspace(max, min, num)), ascending, exact endpoints", () => {
  assert.deepEqual([...vmdlsThresholdGrid(-1000, -1, 4)], [-1000, -100, -10, -1]);
  assertClose(vmdlsThresholdGrid(0.05, 0.95, 3), [0.05, Math.sqrt(0.05 * 0.95), 0.95], 1e-15, "positive");
  const g = vmdlsThresholdGrid(-812.5, -0.37);
  assert.equal(g.length, 100_000);
  assert.equal(g[0], -812.5);
  assert.equal(g[99_999], -0.37);
  assert.ok(g.every((v, i) => i === 0 || v > g[i - 1]!), "strictly ascending");
  // Constant ratio: |g[i]| / |g[i+1]| = (812.5 / 0.37)^(1/99999).
  const ratio = (812.5 / 0.37) ** (1 / 99_999);
  assert.ok(Math.abs(g[500]! / g[501]! - ratio) < 1e-12);
  assert.throws(() => vmdlsThresholdGrid(-1, 1), /one sign/);
  assert.throws(() => vmdlsThresholdGrid(-1, 0), /one sign/);
  assert.throws(() => vmdlsThresholdGrid(-1, -2), /min ≤ max/);
  assert.throws(() => vmdlsThresholdGrid(-2, -1, 1), /num/);
});

Deno.test("vmdlsRocMetrics: FPR95, grid ROC-AUC and CAUROC hand-computed on a 4-point grid", () => {
  // Grid −1000, −100, −10, −1. ID −1, −10, −1000 (the last misclassified); OOD −100, −1000.
  // τ:          −1000   −100   −10    −1
  // TPR          1      2/3    2/3    1/3
  // FPR          1      1/2     0      0
  // TPRc (of 2)  1       1      1     1/2
  const set: VmdlsEvalSet = {
    id: { scores: [-1, -10, -1000], predictions: [0, 1, 0], labels: [0, 1, 1] },
    ood: { scores: [-100, -1000], predictions: [0, 0] },
    numClasses: 2,
  };
  const m = vmdlsRocMetrics(set, { num: 4 });
  assert.deepEqual([...m.curve.thresholds], [-1000, -100, -10, -1]);
  assertClose(m.curve.tpr, [1, 2 / 3, 2 / 3, 1 / 3], 1e-15, "tpr");
  assertClose(m.curve.fpr, [1, 0.5, 0, 0], 0, "fpr");
  assertClose(m.curve.tprCorrect, [1, 1, 1, 0.5], 0, "tprc");
  assert.deepEqual([m.fpr95, m.tprAt95, m.threshold95], [1, 1, -1000]);
  const at60 = vmdlsRocMetrics(set, { num: 4, tprLevel: 0.6 });
  assert.deepEqual([at60.fpr95, at60.threshold95], [0, -10], "largest τ with TPR ≥ 0.6");
  // Trapezoid: (1 − 1/2)(1 + 2/3)/2 + (1/2 − 0)(2/3 + 2/3)/2 + 0 = 5/12 + 1/3 = 3/4 (= Mann–Whitney here).
  assert.ok(Math.abs(m.auroc - 0.75) < 1e-15);
  assert.ok(Math.abs(auroc(set.id.scores, set.ood.scores) - 0.75) < 1e-15);
  // CAUROC: (1 − 1)·1 + (1 − 1/2)·1 + (1/2 − 0)·1 + (0 − 0)·1/2 + 0·1/2 = 1.
  assert.equal(m.cauroc, 1);

  // An ID/OOD tie at the top score: no (0, 0) point (ROC-AUC 0.5, sklearn's 0.625) and CAUROC's last term
  // FPR_last·TPRc_last = 1/2·1/2.  τ: −1000 (1, 1, 1), −100 (1, 1/2, 1), −10 (1/2, 1/2, 1/2), −1 (1/2, 1/2, 1/2).
  const tie = vmdlsRocMetrics(allCorrect([-1, -100], [-1, -1000]), { num: 4 });
  assert.equal(tie.auroc, 0.5);
  assert.equal(auroc([-1, -100], [-1, -1000]), 0.625);
  assert.equal(tie.cauroc, 0.75);
  assert.equal(tie.fpr95, 0.5);

  const none = vmdlsRocMetrics({ ...set, id: { ...set.id, predictions: [1, 0, 0] } }, { num: 4 });
  assert.ok(Number.isNaN(none.cauroc), "no correctly classified ID image");
  assert.throws(() => vmdlsRocMetrics({ ...set, id: { ...set.id, labels: [0] } }), /3 ID scores/);
  assert.throws(() => vmdlsRocMetrics(allCorrect([-1, 2], [-3])), /one sign/);
});

Deno.test("vmdlsRocMetrics: on the 100 000-point grid, agrees with lib/metrics where the definitions coincide", () => {
  const m = vmdlsRocMetrics(allCorrect(GOLDEN_ID, GOLDEN_OOD));
  assert.equal(m.curve.thresholds.length, 100_000);
  // The grid separates every pair of distinct scores and the top score is ID-only: the grid's FPR95 is the
  // first-≥ rule's, its trapezoid is the Mann–Whitney AUROC (ties ½), and CAUROC with every ID image correct is
  // P(s_ID > s_OOD) — ties count 0.
  // papers.md §1.6 golden vectors.
  assert.equal(fprAtTpr(GOLDEN_ID, GOLDEN_OOD, { rule: "sklearn" }), GOLDEN.fpr95Sklearn);
  assert.equal(m.fpr95, GOLDEN.fpr95Sklearn);
  assert.equal(m.tprAt95, 0.95);
  assert.ok(m.threshold95 <= 0.35 && m.threshold95 > 0.33);
  assert.ok(Math.abs(m.auroc - GOLDEN.auroc) < 1e-12, `${m.auroc}`);
  assert.ok(Math.abs(auroc(GOLDEN_ID, GOLDEN_OOD) - GOLDEN.auroc) < 1e-12);
  let greater = 0;
  for (const a of GOLDEN_ID) for (const b of GOLDEN_OOD) greater += a > b ? 1 : 0;
  assert.ok(Math.abs(m.cauroc - greater / (GOLDEN_ID.length * GOLDEN_OOD.length)) < 1e-12, `${m.cauroc}`);
  // The same scores shifted below 0 (VMDLS's range) give the same metrics on their own grid.
  const neg = vmdlsRocMetrics(allCorrect(GOLDEN_ID.map((s) => s - 2), GOLDEN_OOD.map((s) => s - 2)));
  assert.equal(neg.fpr95, GOLDEN.fpr95Sklearn);
  assert.ok(Math.abs(neg.auroc - GOLDEN.auroc) < 1e-12);
});

Deno.test("vmdlsBestMacroF1: the best macro-F1 over τ = −1 … −1000 on the test set, first best wins", () => {
  assert.equal(VMDLS_F1_THRESHOLDS.length, 1000);
  assert.deepEqual([VMDLS_F1_THRESHOLDS[0], VMDLS_F1_THRESHOLDS[1], VMDLS_F1_THRESHOLDS[999]], [-1, -2, -1000]);
  const set: VmdlsEvalSet = {
    id: { scores: [-1.5, -1.8], predictions: [0, 1], labels: [0, 1] },
    ood: { scores: [-2.2], predictions: [0] },
    numClasses: 2,
  };
  // τ = −1: all rejected, truth [0, 1, 2], predicted [2, 2, 2]: F1 = (0 + 0 + 2/4)/3.
  // τ = −2: [0, 1, 2]: 1.  τ = −3: [0, 1, 0]: class 0 2/3, class 1 1, class 2 0 → 5/9.
  const best = vmdlsBestMacroF1(set, [-1, -2, -3]);
  assertClose(best.curve, [1 / 6, 1, 5 / 9], 1e-15, "curve");
  assert.deepEqual([best.macroF1, best.threshold], [1, -2]);
  // The reference grid: −2 is its second point; every τ ≤ −3 gives 5/9.
  const onGrid = vmdlsBestMacroF1(set);
  assert.deepEqual([onGrid.macroF1, onGrid.threshold], [1, -2]);
  assert.ok(Math.abs(onGrid.curve[999]! - 5 / 9) < 1e-15);
  // Ties: the first best in grid order.
  assert.equal(vmdlsBestMacroF1(set, [-3, -4, -5]).threshold, -3);
  // Labels present (scikit-learn's default) vs all K + 1: with K = 3, class 2 never appears.
  const wide = { ...set, numClasses: 3 };
  assertClose([vmdlsMacroF1At(wide, -2, "present"), vmdlsMacroF1At(wide, -2, "all")], [1, 3 / 4], 1e-15, "labels");
  // Agreement with lib/metrics' macroF1 on the open-set labels built by hand.
  assert.equal(vmdlsMacroF1At(set, -3, "present"), macroF1([0, 1, 2], [0, 1, 0]));
  assert.throws(() => vmdlsBestMacroF1(set, []), /empty/);
});

Deno.test("vmdlsCleanMacroF1: τ at 95 % TPR on held-out scores, macro-F1 over K + 1 classes at that τ", () => {
  // Held-out −1 … −20: ⌈0.95·20⌉ = 19 kept → τ = −19.
  const heldOut = Array.from({ length: 20 }, (_, i) => -(i + 1));
  const set: VmdlsEvalSet = {
    id: { scores: [-5, -25], predictions: [0, 1], labels: [0, 1] },
    ood: { scores: [-10, -30], predictions: [1, 0] },
    numClasses: 2,
  };
  // Truth [0, 1, 2, 2], predicted [0, 2, 1, 2]: class 0 F1 1, class 1 0 (one FP, one FN), class 2 2/4.
  const clean = vmdlsCleanMacroF1(set, heldOut);
  assert.equal(clean.threshold, -19);
  assert.ok(Math.abs(clean.macroF1 - 0.5) < 1e-15);
  // Agreement with the result rows' open-set macro-F1 (τ from the ID test scores; an accepted OOD image is a false
  // positive of its predicted class, as here) when the held-out scores are the test scores.
  const rng = (i: number) => -1 - ((i * 7919) % 97) / 7;
  const id = Array.from({ length: 40 }, (_, i) => rng(i)), ood = Array.from({ length: 30 }, (_, i) => rng(i + 40) - 3);
  const labels = id.map((_, i) => i % 3), predictions = id.map((_, i) => (i % 5 === 0 ? (i + 1) % 3 : i % 3));
  const oodPredictions = ood.map((_, i) => (i * 2) % 3);
  const rows = openSetMetrics(id, ood, { labels, predictions, numClasses: 3 }, oodPredictions);
  const ours = vmdlsCleanMacroF1({
    id: { scores: id, predictions, labels },
    ood: { scores: ood, predictions: oodPredictions },
    numClasses: 3,
  }, id);
  assert.equal(ours.macroF1, rows.macroF1);
  assert.throws(() => vmdlsCleanMacroF1(set, []), /held-out/);
});
