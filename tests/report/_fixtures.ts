import type { ResultRow } from "@lib/report/results.ts";

/** A hand-made result row with the given key fields and metrics (fractions). */
export function row(
  key: Partial<ResultRow> & { score: string; oodDataset: string; seed: number },
  metrics: Partial<ResultRow> = {},
): ResultRow {
  return {
    paper: "t",
    method: "ce",
    variant: "none",
    label: "CE",
    backbone: "lenet",
    width: 1,
    idDataset: "mnist",
    oodGroup: "far",
    profile: "smoke",
    selection: "last",
    auroc: null,
    auprIn: null,
    auprOut: null,
    fpr95: null,
    fpr95OodPositive: null,
    detectionError: null,
    idAccuracy: null,
    macroF1: null,
    openSetAccuracy: null,
    nId: 10,
    nOod: 10,
    fprRule: "sklearn",
    auprEstimator: "ap",
    trainSeconds: null,
    scoreSeconds: null,
    ...key,
    ...metrics,
  };
}

/** Two scores × two OOD sets × two seeds, with round numbers. */
export function twoScoresTwoSets(): ResultRow[] {
  const v: Record<string, [number, number, number, number]> = {
    // score/ood: auroc seed0, auroc seed1, fpr95 seed0, fpr95 seed1
    "msp/fashion": [0.90, 0.92, 0.40, 0.30],
    "msp/noise": [0.80, 0.84, 0.60, 0.50],
    "energy/fashion": [0.94, 0.96, 0.20, 0.30],
    "energy/noise": [0.80, 0.84, 0.70, 0.50],
  };
  return Object.entries(v).flatMap(([k, [a0, a1, f0, f1]]) => {
    const [score, oodDataset] = k.split("/") as [string, string];
    return [
      row({ score, oodDataset, seed: 0 }, { auroc: a0, fpr95: f0, idAccuracy: 0.99 }),
      row({ score, oodDataset, seed: 1 }, { auroc: a1, fpr95: f1, idAccuracy: 0.99 }),
    ];
  });
}
