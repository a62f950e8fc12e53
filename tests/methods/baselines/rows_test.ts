import assert from "node:assert/strict";
import { BASELINE_SUMMARY_KEYS, baselineRows, summarizeBaselines } from "@lib/methods/baselines/rows.ts";
import { METRIC_COLUMNS } from "@lib/report/results.ts";

const key = { paper: "baselines", method: "CE", backbone: "lenet", idDataset: "mnist", seed: 0 };

Deno.test("baselineRows() is one row per score and OOD set with hand-computed metrics", () => {
  // ID 0.9, 0.8, 0.4 vs OOD 0.5, 0.1: 5 of 6 pairs ranked right → AUROC 5/6.
  // FPR95 (first threshold with ID TPR ≥ 0.95 = 0.4): OOD ≥ 0.4 is {0.5} → 1/2.
  const scores = {
    msp: { id: Float32Array.of(0.9, 0.8, 0.4), ood: { a: Float32Array.of(0.5, 0.1), b: Float32Array.of(0, 0.1) } },
    knn: { id: Float32Array.of(-1, -2, -3), ood: { a: Float32Array.of(-1, -2, -3) } },
  };
  const rows = baselineRows(key, scores, { idClassification: { labels: [1, 2, 3], predictions: [1, 2, 0] } });
  assert.deepEqual(rows.map((r) => [r.score, r.oodDataset]), [["msp", "a"], ["msp", "b"], ["knn", "a"]]);
  const [a, b, c] = rows as [typeof rows[0], typeof rows[0], typeof rows[0]];
  assert.ok(Math.abs(a.auroc! - 5 / 6) < 1e-12);
  assert.equal(a.fpr95, 0.5);
  assert.equal(a.fprRule, "sklearn");
  assert.equal(b.auroc, 1);
  assert.equal(b.fpr95, 0);
  assert.equal(c.auroc, 0.5, "identical distributions");
  for (const r of rows) {
    assert.ok(Math.abs(r.idAccuracy! - 2 / 3) < 1e-12);
    assert.equal(r.idDataset, "mnist");
    assert.equal(r.seed, 0);
    assert.equal(r.nId, 3);
    assert.equal(r.selection, "last");
  }
  assert.equal(a.nOod, 2);
  const hendrycks = baselineRows(key, { msp: scores.msp }, { fprRule: "hendrycks" });
  assert.equal(hendrycks[0]!.fprRule, "hendrycks");
  assert.equal(hendrycks[0]!.idAccuracy, null, "no classification given");
});

Deno.test("summarizeBaselines() groups by ID dataset before score and averages over OOD sets and seeds", () => {
  const mk = (seed: number, idDataset: string, shift: number) =>
    baselineRows({ ...key, seed, idDataset }, {
      msp: { id: Float32Array.of(3, 2, 1), ood: { a: Float32Array.of(0 + shift), b: Float32Array.of(2.5) } },
    });
  const summary = summarizeBaselines([...mk(0, "mnist", 0), ...mk(1, "mnist", 5), ...mk(0, "fashion_mnist", 0)]);
  const cols = summary.columns;
  assert.ok(cols.indexOf("idDataset") < cols.indexOf("score"), cols.join());
  for (const k of BASELINE_SUMMARY_KEYS) assert.ok(cols.includes(k), k);
  for (const m of METRIC_COLUMNS) assert.ok(cols.includes(`${m}_mean`), m);
  const recs = summary.toRecords() as Record<string, unknown>[];
  assert.deepEqual(recs.map((r) => `${r.idDataset}/${r.oodDataset}`), [
    "mnist/a",
    "mnist/b",
    "mnist/Average",
    "fashion_mnist/a",
    "fashion_mnist/b",
    "fashion_mnist/Average",
  ]);
  // mnist/a: AUROC 1 (seed 0) and 0 (seed 1, OOD 5 above every ID score) → mean 0.5, 2 seeds.
  assert.equal(recs[0]!.auroc_mean, 0.5);
  assert.equal(recs[0]!.seeds, 2);
});
