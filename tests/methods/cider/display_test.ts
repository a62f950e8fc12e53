import assert from "node:assert/strict";
import type { ResultRow, Variant } from "@lib/report/results.ts";
import { bundleOf } from "@lib/report/jupyter.ts";
import { claimsMarkdown, claimsTable, deviationsView, evaluateClaims } from "@lib/experiment/claims.ts";
import { scheduleFigure } from "@lib/methods/cider/display.ts";
import { CIDER_CLAIMS, ciderDeviations } from "@lib/methods/cider/deviations.ts";
import { tinyConfig } from "./_fixtures.ts";

function row(
  method: string,
  variant: Variant,
  label: string,
  score: string,
  oodDataset: string,
  seed: number,
  fpr95: number,
  fprRule = "hendrycks",
): ResultRow {
  return {
    paper: "cider",
    method,
    variant,
    label,
    score,
    backbone: "resnet18",
    width: 1,
    idDataset: "cifar10",
    oodDataset,
    oodGroup: "far",
    profile: "smoke",
    selection: "last",
    fprRule,
    seed,
    auroc: 1 - fpr95 / 2,
    auprIn: 0.9,
    auprOut: 0.8,
    fpr95,
    fpr95OodPositive: 0.5,
    detectionError: 0.1,
    idAccuracy: 0.9,
    macroF1: null,
    openSetAccuracy: null,
    nId: 10,
    nOod: 10,
    auprEstimator: "ap",
    trainSeconds: null,
    scoreSeconds: null,
  };
}

/** FPR95 per (method, variant, label, score) → [seed 0: svhn, lsun; seed 1: svhn, lsun]. */
const FPR: [string, Variant, string, string, [number, number, number, number]][] = [
  ["ce", "none", "CE", "msp", [0.6, 0.8, 0.6, 0.8]],
  ["ce", "none", "CE", "energy", [0.5, 0.7, 0.5, 0.7]],
  ["ce", "none", "CE", "knn", [0.5, 0.9, 0.5, 0.9]],
  ["supcon", "faithful", "SupCon (faithful)", "knn", [0.5, 0.7, 0.5, 0.7]],
  ["supcon", "clean", "SupCon (clean)", "knn", [0.3, 0.5, 0.3, 0.3]],
  ["cider", "faithful", "CIDER (faithful)", "knn", [0.4, 0.8, 0.6, 0.8]],
  ["cider", "clean", "CIDER (clean)", "knn", [0.1, 0.3, 0.3, 0.3]],
];

function rows(): ResultRow[] {
  return FPR.flatMap(([method, variant, label, score, v]) =>
    [0, 1].flatMap((seed) =>
      ["svhn", "lsun_crop"].flatMap((ood, j) => [
        row(method, variant, label, score, ood, seed, v[seed * 2 + j]!),
        row(method, variant, label, score, ood, seed, 1 - v[seed * 2 + j]!, "sklearn"),
      ])
    )
  );
}

Deno.test("CIDER_CLAIMS: CIDER + KNN vs SupCon + KNN of the same variant and vs the best CE score, CIDER's FPR rule", () => {
  const c = evaluateClaims(rows(), CIDER_CLAIMS);
  assert.deepEqual(c.map((x) => [x.id, x.after, x.before, x.holds]), [
    // Faithful: seeds average 0.6 and 0.7 → 0.65; SupCon (faithful) 0.6; the best CE score is Energy (0.6).
    ["supcon-faithful", "CIDER (faithful) + knn", "SupCon (faithful) + knn", false],
    ["ce-faithful", "CIDER (faithful) + knn", "CE + energy", false],
    // Clean: 0.2 and 0.3 → 0.25 (std 0.0707); SupCon (clean): 0.4 and 0.3 → 0.35 (std 0.0707).
    ["supcon-clean", "CIDER (clean) + knn", "SupCon (clean) + knn", true],
    ["ce-clean", "CIDER (clean) + knn", "CE + energy", true],
  ]);
  const clean = c[2]!;
  assert.ok(Math.abs(clean.afterMean - 0.25) < 1e-12 && Math.abs(clean.beforeMean - 0.35) < 1e-12);
  assert.equal(clean.withinNoise, true, "0.1 < 2 × 0.0707");
  assert.deepEqual([clean.seedsAgree, clean.seeds], [1, 2]);
  assert.equal(c[3]!.withinNoise, false, "0.35 apart, CE has no spread");
  const text = String(bundleOf(claimsMarkdown(c))["text/markdown"]);
  assert.match(text, /CIDER \+ KNN has a lower FPR95 than SupCon \+ KNN \(CIDER \(clean\) \+ knn vs SupCon \(clean\)/);
  assert.match(claimsTable(c).toText(), /yes \(within seed noise\)/);
});

Deno.test("ciderDeviations() states the run's sizes, the warm-up of SupCon and CIDER per variant, and both Mahalanobis estimators", async () => {
  const cfg = tinyConfig();
  const list = ciderDeviations(cfg, "smoke");
  const text = deviationsView(list).toText();
  assert.match(text, /16 training images/);
  assert.match(text, /K = 3/);
  assert.match(text, /none is comparable to this run/);
  const warm = list.filter((d) => d.id === "warm-up");
  assert.deepEqual(warm.map((d) => d.variant), ["faithful", "clean"]);
  assert.match(warm[0]!.paper, /--loss supcon/);
  assert.match(warm[0]!.ours, /SupCon and CIDER keep the formula.*≈ −0\.050 here against ≈ −0\.05/);
  const maha = list.filter((d) => d.id === "Mahalanobis");
  assert.match(maha[0]!.paper, /torch\.cov\(features\.T\.double\(\)\).*torch\.linalg\.pinv/);
  assert.doesNotMatch(text, /EmpiricalCovariance|sample_estimator/);
  assert.match(maha[1]!.ours, /tied covariance/);
  const off = ciderDeviations(
    { ...cfg, train: { ...cfg.train, warmup: { enabled: false, epochs: 1, from: 0.001 } } },
    "smoke",
  );
  assert.ok(off.some((d) => /faithful and clean runs train alike/.test(d.ours)));
  const fig = await scheduleFigure(cfg.train, 0.5, 4);
  assert.match(fig.html, /<svg/);
});
