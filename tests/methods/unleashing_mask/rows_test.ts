import assert from "node:assert/strict";
import { claimsCheck, labelVariant, modelRows, UM_PAPER } from "@lib/methods/unleashing_mask/rows.ts";
import type { ResultRow } from "@lib/report/results.ts";

function row(method: string, score: string, seed: number, oodDataset: string, fpr95: number): ResultRow {
  return {
    paper: UM_PAPER,
    method,
    score,
    backbone: "lenet",
    idDataset: "fashion_mnist",
    oodDataset,
    profile: "smoke",
    selection: "last",
    seed,
    auroc: 0.5,
    auprIn: 0.5,
    auprOut: 0.5,
    fpr95,
    fpr95OodPositive: 0.5,
    detectionError: 0.5,
    idAccuracy: 0.9,
    nId: 10,
    nOod: 10,
    fprRule: "hendrycks",
    auprEstimator: "ap",
  };
}

Deno.test("claimsCheck() averages FPR95 over OOD sets per seed and compares UM with the same model without it", () => {
  const rows = [
    // CE: seed 0 → (0.6 + 0.4)/2 = 0.5, seed 1 → 0.7; UM: seed 0 → 0.3, seed 1 → 0.8
    row("CE", "energy", 0, "a", 0.6),
    row("CE", "energy", 0, "b", 0.4),
    row("CE", "energy", 1, "a", 0.7),
    row("CE", "energy", 1, "b", 0.7),
    row("UM", "energy", 0, "a", 0.2),
    row("UM", "energy", 0, "b", 0.4),
    row("UM", "energy", 1, "a", 0.8),
    row("UM", "energy", 1, "b", 0.8),
  ];
  const [c, ...rest] = claimsCheck(rows);
  assert.equal(rest.length, 0, "only the pairs present");
  assert.equal(c!.before, "CE");
  assert.equal(c!.after, "UM");
  assert.ok(Math.abs(c!.fprBefore - 0.6) < 1e-12 && Math.abs(c!.fprAfter - 0.55) < 1e-12);
  assert.ok(Math.abs(c!.delta + 0.05) < 1e-12);
  assert.equal(c!.improved, true);
  assert.equal(c!.seedsImproved, 1, "seed 0 improved, seed 1 did not");
  assert.equal(c!.seeds, 2);
  assert.ok(Math.abs(c!.fprBeforeStd! - Math.SQRT1_2 * 0.2) < 1e-12);
});

Deno.test("modelRows() writes one row per score and OOD set with the Hendrycks FPR95 and the ID accuracy", () => {
  const rows = modelRows(
    { method: "UM", backbone: "lenet", idDataset: "fashion_mnist", seed: 3 },
    {
      energy: { id: [0.9, 0.8, 0.7, 0.6], ood: { a: [0.1, 0.2], b: [0.65, 0.95] } },
      msp: { id: [0.9, 0.8, 0.7, 0.6], ood: { a: [0.5, 0.55] } },
    },
    { fprRule: "hendrycks", idClassification: { labels: [0, 1, 1, 0], predictions: [0, 1, 0, 0] } },
  );
  assert.deepEqual(rows.map((r) => `${r.score}/${r.oodDataset}`), ["energy/a", "energy/b", "msp/a"]);
  assert.ok(rows.every((r) => r.paper === UM_PAPER && r.fprRule === "hendrycks" && r.idAccuracy === 0.75));
  assert.equal(rows[0]!.auroc, 1);
  assert.equal(rows[1]!.fpr95, 1, "4 ID scores: the nearest recall to 0.95 is 1, so τ = 0.6 accepts both");
});

Deno.test("labelVariant() names the variant in the method and leaves everything else alone", () => {
  const row = modelRows(
    { method: "UM", backbone: "lenet", idDataset: "fashion_mnist", seed: 0 },
    { msp: { id: new Float32Array([0.9, 0.8]), ood: { mnist: new Float32Array([0.1, 0.85]) } } },
    { fprRule: "hendrycks", idClassification: { labels: [0, 1], predictions: [0, 1] } },
  );
  const [clean] = labelVariant(row, "clean");
  assert.equal(clean!.method, "UM (clean)");
  assert.deepEqual({ ...clean!, method: "UM" }, row[0]);
  assert.equal(row[0]!.method, "UM", "the input rows are not changed");
});
