import assert from "node:assert/strict";
import { openSetMetrics, toRows, tprThreshold } from "@lib/experiment/rows.ts";

const key = { paper: "baselines", method: "ce", label: "CE", backbone: "lenet", idDataset: "mnist", seed: 0 };

Deno.test("toRows() is one row per score, OOD set and FPR rule, with hand-computed metrics", () => {
  // ID 0.9, 0.8, 0.4 vs OOD 0.5, 0.1: 5 of 6 pairs ranked right → AUROC 5/6.
  // FPR95 (first threshold with ID TPR ≥ 0.95 = 0.4): OOD ≥ 0.4 is {0.5} → 1/2.
  const scores = {
    msp: { id: Float32Array.of(0.9, 0.8, 0.4), ood: { a: Float32Array.of(0.5, 0.1), b: Float32Array.of(0, 0.1) } },
    knn: { id: Float32Array.of(-1, -2, -3), ood: { a: Float32Array.of(-1, -2, -3) } },
  };
  const classification = {
    labels: [1, 2, 3],
    predictions: [1, 2, 0],
    numClasses: 4,
    oodPredictions: { a: [0, 1, 2], b: [3, 3] },
  };
  const rows = toRows(key, scores, { classification, oodGroups: { b: "near" }, scoreSeconds: { msp: 1.5 } });
  assert.deepEqual(rows.map((r) => [r.score, r.oodDataset, r.oodGroup]), [
    ["msp", "a", "far"],
    ["msp", "b", "near"],
    ["knn", "a", "far"],
  ]);
  const [a, b, c] = rows as [typeof rows[0], typeof rows[0], typeof rows[0]];
  assert.ok(Math.abs(a.auroc! - 5 / 6) < 1e-12);
  assert.equal(a.fpr95, 0.5);
  assert.equal(a.fprRule, "sklearn");
  assert.equal(b.auroc, 1);
  assert.equal(b.fpr95, 0);
  assert.equal(c.auroc, 0.5, "identical distributions");
  for (const r of rows) {
    assert.ok(Math.abs(r.idAccuracy! - 2 / 3) < 1e-12);
    assert.deepEqual([r.paper, r.method, r.variant, r.label, r.idDataset, r.seed], [
      "baselines",
      "ce",
      "none",
      "CE",
      "mnist",
      0,
    ]);
    assert.equal(r.nId, 3);
    assert.equal(r.selection, "last");
    assert.ok(r.macroF1 !== null && r.openSetAccuracy !== null, "open-set metrics with a classification");
  }
  assert.deepEqual(rows.map((r) => r.scoreSeconds), [1.5, 1.5, null]);
  assert.equal(a.nOod, 2);
  const two = toRows(key, { msp: scores.msp }, { fprRules: ["hendrycks", "sklearn"] });
  assert.deepEqual(two.map((r) => `${r.oodDataset}/${r.fprRule}`), [
    "a/hendrycks",
    "a/sklearn",
    "b/hendrycks",
    "b/sklearn",
  ]);
  assert.equal(two[0]!.idAccuracy, null, "no classification given");
  assert.equal(two[0]!.macroF1, null);
  assert.equal(two[0]!.openSetAccuracy, null);
});

Deno.test("tprThreshold() accepts ⌈0.95·n⌉ ID scores", () => {
  assert.equal(tprThreshold([3, 1, 2]), 1, "n < 20: the lowest score");
  assert.equal(tprThreshold(Array.from({ length: 20 }, (_, i) => i + 1)), 2, "n = 20: one rejected");
  assert.equal(tprThreshold([5, 4, 3, 2], 0.5), 4);
});

Deno.test("openSetMetrics() on a hand-computed example: ID below the 95 %-TPR threshold and OOD above it are errors", () => {
  // 20 ID images scored 1..20, labels 0 (first 10) and 1; the last one misclassified as 0. τ = 2 rejects image 0.
  const id = Array.from({ length: 20 }, (_, i) => i + 1);
  const labels = id.map((_, i) => (i < 10 ? 0 : 1));
  const predictions = labels.map((l, i) => (i === 19 ? 0 : l));
  // OOD 3 and 25 are accepted (predicted class 0), 0.5 and 1.5 rejected (class K = 2).
  const c = { labels, predictions, numClasses: 2 };
  const m = openSetMetrics(id, [0.5, 3, 1.5, 25], c, [0, 0, 0, 0]);
  // Correct: ID 1..9 and 10..18 (18), OOD 0.5 and 1.5 (2) → 20 / 24.
  assert.ok(Math.abs(m.openSetAccuracy - 20 / 24) < 1e-12, `${m.openSetAccuracy}`);
  // F1: class 0 = 2·9/(12 + 10), class 1 = 2·9/(9 + 10), class K = 2·2/(3 + 4).
  const f1 = (9 / 11 + 18 / 19 + 4 / 7) / 3;
  assert.ok(Math.abs(m.macroF1! - f1) < 1e-12, `${m.macroF1} vs ${f1}`);
  // The accepted OOD images predicted as class 1 instead: class 0 = 2·9/(10 + 10), class 1 = 2·9/(11 + 10).
  const asOne = openSetMetrics(id, [0.5, 3, 1.5, 25], c, [1, 1, 1, 1]);
  assert.ok(Math.abs(asOne.macroF1! - (0.9 + 6 / 7 + 4 / 7) / 3) < 1e-12, `${asOne.macroF1}`);
  assert.equal(asOne.openSetAccuracy, m.openSetAccuracy, "which known class an accepted OOD image gets is irrelevant");
  // Without the OOD images' classes there is no macro-F1 (accuracy does not need them).
  const noClasses = openSetMetrics(id, [0.5, 3, 1.5, 25], c);
  assert.equal(noClasses.macroF1, null);
  assert.equal(noClasses.openSetAccuracy, m.openSetAccuracy);
  // Input-space scores may cover only the first images: the labels are cut to match.
  const cut = openSetMetrics(id.slice(0, 5), [0], c, [1, 1, 1]);
  assert.equal(cut.openSetAccuracy, 1);
});

Deno.test("toRows(): openSetThreshold fixes τ per (score, OOD set); the default is 95 % TPR on the ID test scores", () => {
  // ID scores 0.9 / 0.8 / 0.4 with labels 0 / 1 / 1, predicted 0 / 1 / 0; OOD 0.5 / 0.1, predicted 1 / 0; K = 2.
  const scores = {
    s: { id: Float32Array.of(0.9, 0.8, 0.4), ood: { a: Float32Array.of(0.5, 0.1) }, heldOut: Float32Array.of(0.85) },
  };
  const classification = { labels: [0, 1, 1], predictions: [0, 1, 0], numClasses: 2, oodPredictions: { a: [1, 0] } };
  const seen: string[] = [];
  const [fixed] = toRows(key, scores, {
    classification,
    openSetThreshold: ({ score, oodDataset, sets }) => {
      seen.push(`${score}/${oodDataset}`);
      return sets.heldOut![0]!; // τ = 0.85: only the first ID image is accepted
    },
  });
  assert.deepEqual(seen, ["s/a"]);
  // τ = 0.85 → predictions [0, 2, 2 | 2, 2] against truth [0, 1, 1 | 2, 2]: accuracy 3/5;
  // F1: class 0 = 1, class 1 = 0, class 2 = 2·2/(4 + 2) = 2/3 → macro-F1 5/9.
  assert.ok(Math.abs(fixed!.openSetAccuracy! - 3 / 5) < 1e-12);
  assert.ok(Math.abs(fixed!.macroF1! - 5 / 9) < 1e-12);
  const [dflt] = toRows(key, scores, { classification });
  // τ = 95 % TPR on ID = 0.4: all ID accepted → [0, 1, 0 | 1·(0.5 ≥ 0.4), 2]; the OOD 0.5 is accepted as class 1.
  assert.ok(Math.abs(dflt!.openSetAccuracy! - 3 / 5) < 1e-12);
  const viaMetrics = openSetMetrics(scores.s.id, scores.s.ood.a, classification, classification.oodPredictions.a, 0.85);
  assert.equal(viaMetrics.macroF1, fixed!.macroF1);
});
