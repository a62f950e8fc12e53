/** Shared test data: papers.md §1.6 golden vectors and the scikit-learn fixture. */

import assert from "node:assert/strict";

/** papers.md §1.6: ID confidences, n₊ = 20. */
export const GOLDEN_ID = [
  0.95,
  0.91,
  0.90,
  0.88,
  0.85,
  0.85,
  0.80,
  0.78,
  0.75,
  0.72,
  0.70,
  0.66,
  0.64,
  0.60,
  0.55,
  0.50,
  0.45,
  0.40,
  0.35,
  0.20,
];

/** papers.md §1.6: OOD confidences, n₋ = 25. */
export const GOLDEN_OOD = [
  0.85,
  0.80,
  0.70,
  0.65,
  0.60,
  0.60,
  0.55,
  0.50,
  0.48,
  0.45,
  0.42,
  0.40,
  0.38,
  0.35,
  0.33,
  0.30,
  0.30,
  0.28,
  0.25,
  0.22,
  0.20,
  0.18,
  0.15,
  0.10,
  0.05,
];

/** papers.md §1.6 table, as printed (6 decimals). */
export const GOLDEN = {
  auroc: 0.816,
  fpr95Sklearn: 0.56,
  fpr95Hendrycks: 0.8,
  fpr95Odin: 0.64,
  fpr95OodPositive: 0.7,
  auprInAp: 0.781784,
  auprInTrapezoid: 0.792983,
  auprOutAp: 0.835746,
  auprOutTrapezoid: 0.841195,
  detectionError: 0.255,
  autc: 0.350889,
  odin: { auroc: 0.828, auprIn: 0.832583, auprOut: 0.818477, detectionError: 0.23 },
} as const;

/** Half a unit in the 6th decimal: "equal as printed". */
export const PRINTED = 5e-7;

/** Tolerance against scikit-learn (float64 summation-order differences only). */
export const SKLEARN_TOL = 1e-12;

type Nullable = number | null;
interface RuleValues {
  sklearn: number;
  sklearnDrop: number;
  hendrycks: number;
  odin?: Nullable;
}

/** One score case of `testdata/sklearn_golden.json` (see `make_sklearn_golden.py`). */
export interface ScoreCase {
  name: string;
  dtype: "float64" | "float32";
  id: number[];
  ood: number[];
  auroc: number;
  auprIn: number;
  auprOut: number;
  auprInTrapezoid: number;
  auprOutTrapezoid: number;
  detectionError: number;
  autc: number;
  fpr: Record<"0.95" | "0.8", RuleValues>;
  fprOodPositive: Record<"0.95" | "0.8", RuleValues>;
  odinSuite: { auroc: number; auprIn: number; auprOut: Nullable; detectionError: number; fpr95: Nullable };
}

/** One classification case of the fixture. */
export interface ClassificationCase {
  name: string;
  yTrue: number[];
  yPred: number[];
  numClasses: number;
  accuracy: number;
  macroF1: number;
  macroF1AllClasses: number;
}

/** The parsed fixture. */
export const FIXTURE: { sklearn: string; cases: ScoreCase[]; classification: ClassificationCase[] } = JSON.parse(
  Deno.readTextFileSync(new URL("./testdata/sklearn_golden.json", import.meta.url)),
);

/** The case's scores in the dtype the fixture was made with (Float32Array for float32 cases). */
export function scoresOf(c: ScoreCase): { id: ArrayLike<number>; ood: ArrayLike<number> } {
  return c.dtype === "float32"
    ? { id: Float32Array.from(c.id), ood: Float32Array.from(c.ood) }
    : { id: c.id, ood: c.ood };
}

/** Asserts |actual − expected| ≤ tol; `null` / NaN expected means NaN. */
export function assertClose(actual: number, expected: Nullable, tol: number, what: string): void {
  if (expected === null || Number.isNaN(expected)) {
    assert.ok(Number.isNaN(actual), `${what}: expected NaN, got ${actual}`);
    return;
  }
  assert.ok(
    Math.abs(actual - expected) <= tol,
    `${what}: ${actual} vs ${expected} (|Δ| = ${Math.abs(actual - expected)})`,
  );
}
