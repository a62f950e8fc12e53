import assert from "node:assert/strict";
import type { ResultRow } from "@lib/report/results.ts";
import type { PaperNumbers } from "@lib/report/paper_numbers.ts";
import { bundleOf } from "@lib/report/jupyter.ts";
import {
  claimsCheck,
  claimsMarkdown,
  claimsTable,
  metricsTable,
  paperComparison,
  scheduleFigure,
} from "@lib/methods/cider/display.ts";
import { deviationsList } from "@lib/methods/cider/deviations.ts";
import { tinyConfig } from "./_fixtures.ts";

function row(
  method: string,
  score: string,
  oodDataset: string,
  seed: number,
  fpr95: number,
  rule = "hendrycks",
): ResultRow {
  return {
    paper: "cider",
    method,
    score,
    backbone: "resnet18",
    idDataset: "cifar10",
    oodDataset,
    profile: "smoke",
    selection: "last",
    seed,
    auroc: 1 - fpr95 / 2,
    auprIn: 0.9,
    auprOut: 0.8,
    fpr95,
    fpr95OodPositive: 0.5,
    detectionError: 0.1,
    idAccuracy: 0.9,
    nId: 10,
    nOod: 10,
    fprRule: rule,
    auprEstimator: "ap",
  };
}

/** FPR95 per (method, score) → [seed 0: svhn, lsun; seed 1: svhn, lsun]. */
const FPR: Record<string, [number, number, number, number]> = {
  "CE|msp": [0.6, 0.8, 0.6, 0.8],
  "CE|energy": [0.5, 0.7, 0.5, 0.7],
  "CE|knn": [0.5, 0.9, 0.5, 0.9],
  "SupCon|knn": [0.3, 0.5, 0.3, 0.3],
  "CIDER (clean)|knn": [0.1, 0.3, 0.3, 0.3],
  "CIDER (faithful)|knn": [0.4, 0.8, 0.6, 0.8],
};

function rows(rule = "hendrycks", shift = 0): ResultRow[] {
  return Object.entries(FPR).flatMap(([k, v]) => {
    const [method, score] = k.split("|") as [string, string];
    return [0, 1].flatMap((seed) =>
      ["svhn", "lsun_crop"].map((ood, j) => row(method, score, ood, seed, v[seed * 2 + j]! + shift, rule))
    );
  });
}

Deno.test("claimsCheck() compares CIDER + KNN with SupCon + KNN and the best CE score on average FPR95", () => {
  const v = claimsCheck(rows());
  assert.equal(v.length, 4);
  const clean = v.filter((x) => x.cider === "CIDER (clean) + KNN");
  // CIDER (clean): seeds average 0.2 and 0.3 → 0.25 (std 0.0707); SupCon: 0.4 and 0.3 → 0.35 (std 0.0707).
  assert.equal(clean[0]!.baseline, "SupCon + KNN");
  assert.ok(Math.abs(clean[0]!.ciderFpr - 0.25) < 1e-12 && Math.abs(clean[0]!.baselineFpr - 0.35) < 1e-12);
  assert.equal(clean[0]!.holds, true);
  assert.equal(clean[0]!.withinNoise, true, "0.1 < 2 × 0.0707");
  assert.deepEqual(clean[0]!.winsPerSet, [2, 2]);
  // Best CE score: Energy (0.6) beats MSP (0.7) and KNN (0.7).
  assert.equal(clean[1]!.baseline, "CE + ENERGY");
  assert.ok(Math.abs(clean[1]!.baselineFpr - 0.6) < 1e-12);
  assert.equal(clean[1]!.withinNoise, false, "0.35 apart, CE has no spread");
  const faithful = v.filter((x) => x.cider === "CIDER (faithful) + KNN");
  // Faithful: 0.6 and 0.7 → 0.65: worse than SupCon (0.35) and CE + Energy (0.6).
  assert.deepEqual(faithful.map((x) => x.holds), [false, false]);
  const text = String(bundleOf(claimsMarkdown(v))["text/markdown"]);
  assert.match(
    text,
    /CIDER \(clean\) \+ KNN beats SupCon \+ KNN\? Yes\*\* \(within seed noise\) — FPR95 25\.00 % vs 35\.00 %/,
  );
  assert.match(text, /CIDER \(faithful\) \+ KNN beats the best CE score\? No\*\*/);
  assert.match(claimsTable(v).toText(), /yes \(within seed noise\)\*/);
  const single = claimsCheck(rows().filter((r) => r.seed === 0));
  assert.equal(single[0]!.withinNoise, null, "one seed: no spread");
  assert.match(claimsTable(single).toText(), /\(single seed\)/);
});

Deno.test("metricsTable() shows FPR95 with CIDER's rule and with ours side by side, per OOD set and averaged", () => {
  const t = metricsTable(rows(), rows("sklearn", 0.05));
  const labels = t.columns.map((c) => c.label);
  assert.deepEqual(labels.slice(0, 5), ["Method", "Score", "OOD", "FPR95 % (CIDER rule) ↓", "FPR95 % (ours) ↓"]);
  const i = t.rows.findIndex((r) => r.method === "CIDER (clean)" && r.ood === "svhn");
  assert.equal(t.cell(i, "m0").text, "20.00 ± 14.14");
  assert.equal(t.cell(i, "m1").text, "25.00 ± 14.14");
  assert.equal(t.cell(i, "m0").best, true, "lowest FPR95 on svhn");
  const avg = t.rows.findIndex((r) => r.method === "CIDER (clean)" && r.ood === "Average");
  assert.equal(t.cell(avg, "m0").text, "25.00 ± 7.07");
});

Deno.test("paperComparison() matches cited numbers to both CIDER variants only when the setting ran", () => {
  const paper: PaperNumbers = {
    paper: "cider",
    citation: "test",
    numbers: [
      {
        method: "CIDER",
        score: "knn",
        backbone: "resnet18",
        idDataset: "cifar10",
        oodDataset: "svhn",
        metric: "fpr95",
        value: 0.02,
        source: "T",
      },
      {
        method: "CIDER",
        score: "knn",
        backbone: "resnet34",
        idDataset: "cifar100",
        oodDataset: "svhn",
        metric: "fpr95",
        value: 0.2,
        source: "T",
      },
    ],
  };
  const matched = paperComparison(rows(), paper).toRecords();
  assert.deepEqual(matched.map((r) => [r.method, r.oodDataset, r.paper, r.ours]), [
    ["CIDER (faithful)", "svhn", 0.02, 0.5],
    ["CIDER (clean)", "svhn", 0.02, 0.2],
  ]);
  const unmatched = paperComparison(rows().map((r) => ({ ...r, idDataset: "fashion_mnist" })), paper).toRecords();
  assert.deepEqual(unmatched.map((r) => [r.method, r.idDataset, r.ours]), [["CIDER", "cifar10", null], [
    "CIDER",
    "cifar100",
    null,
  ]]);
});

Deno.test("deviationsList() states the run's sizes and the faithful warm-up's negative rate; scheduleFigure() draws both", async () => {
  const cfg = tinyConfig();
  const text = deviationsList(cfg, "smoke").join("\n");
  assert.match(text, /16 training images/);
  assert.match(text, /≈ −0\.050 here against ≈ −0\.05 at the paper's W = 10/);
  assert.match(text, /K = 3 \(paper 100\)/);
  assert.match(text, /none of them is comparable to this run/);
  const off = deviationsList(
    { ...cfg, train: { ...cfg.train, warmup: { enabled: false, epochs: 1, from: 0.001 } } },
    "smoke",
  );
  assert.ok(off.some((l) => /faithful and clean CIDER variants are the same run/.test(l)));
  const fig = await scheduleFigure(cfg.train, 0.5, 4);
  assert.match(fig.html, /<svg/);
});
