/**
 * Area under the precision–recall curve, with ID positive (AUPR-In) or OOD positive (AUPR-Out).
 * @module
 */

import { orientCurve, type OrientedCurve, type PositiveClass, type RocSweep, rocSweep } from "./roc.ts";

/**
 * How the PR curve is integrated.
 * - `"ap"`: average precision, AP = Σ_n (R_n − R_{n−1})·P_n (scikit-learn `average_precision_score`; the single
 *   "AUPR" of CIDER and UM, ID positive).
 * - `"trapezoid"`: `auc(recall, precision)` on `precision_recall_curve`, which starts at (R, P) = (0, 1)
 *   (OpenOOD, pytorch-ood).
 */
export type AuprEstimator = "ap" | "trapezoid";

/** Options for the AUPR functions. */
export interface AuprOptions {
  /** Integrator; default `"ap"`. */
  estimator?: AuprEstimator;
}

/**
 * AUPR for one positive class from a sweep. At the j-th threshold (strictest first) recall R_j = pos_j/n_pos and
 * precision P_j = pos_j/(pos_j + neg_j), counts of flagged samples.
 *
 * @param sweep The shared sorted sweep.
 * @param positive `"id"` (AUPR-In, on the score) or `"ood"` (AUPR-Out, on the negated score).
 * @param opts.estimator `"ap"` (default) or `"trapezoid"`.
 * @returns AUPR in [0, 1].
 */
export function auprFromSweep(sweep: RocSweep, positive: PositiveClass, opts: AuprOptions = {}): number {
  return auprFromCurve(orientCurve(sweep, positive), opts);
}

/**
 * AUPR on an already oriented curve (see {@link auprFromSweep}).
 *
 * AP: Σ_j (R_j − R_{j−1})·P_j. Trapezoid: Σ_j (R_j − R_{j−1})·(P_j + P_{j−1})/2 with (R, P) = (0, 1) before the
 * first point.
 *
 * @param curve Counts in the positive class's orientation.
 * @param opts.estimator `"ap"` (default) or `"trapezoid"`.
 * @returns AUPR in [0, 1].
 */
export function auprFromCurve(curve: OrientedCurve, opts: AuprOptions = {}): number {
  const estimator = opts.estimator ?? "ap";
  if (estimator !== "ap" && estimator !== "trapezoid") {
    throw new Error(`metrics: unknown AUPR estimator "${estimator}" (valid: "ap", "trapezoid")`);
  }
  const trapezoid = estimator === "trapezoid";
  const { pos, neg, nPos } = curve;
  let sum = 0, prevPos = 0, prevPrecision = 1;
  for (let j = 0; j < pos.length; j++) {
    const p = pos[j]!;
    const precision = p / (p + neg[j]!);
    sum += (p - prevPos) * (trapezoid ? (precision + prevPrecision) / 2 : precision);
    prevPos = p;
    prevPrecision = precision;
  }
  return sum / nPos;
}

/**
 * AUPR-In: ID is the positive class, ranked by the score (higher = more in-distribution).
 * Default estimator AP = Σ_n (R_n − R_{n−1})·P_n, equal to scikit-learn `average_precision_score(isId, s)`;
 * `{ estimator: "trapezoid" }` gives `auc(recall, precision)` as in OpenOOD / pytorch-ood.
 *
 * @param id ID scores.
 * @param ood OOD scores.
 * @param opts.estimator `"ap"` (default) or `"trapezoid"`.
 * @returns AUPR-In in [0, 1].
 * @throws Error when either input is empty or contains NaN.
 */
export function auprIn(id: ArrayLike<number>, ood: ArrayLike<number>, opts: AuprOptions = {}): number {
  return auprFromSweep(rocSweep(id, ood), "id", opts);
}

/**
 * AUPR-Out: OOD is the positive class, ranked by the negated score. Default estimator AP, equal to scikit-learn
 * `average_precision_score(isOod, -s)`; `{ estimator: "trapezoid" }` for OpenOOD / pytorch-ood.
 *
 * @param id ID scores (higher = more in-distribution).
 * @param ood OOD scores.
 * @param opts.estimator `"ap"` (default) or `"trapezoid"`.
 * @returns AUPR-Out in [0, 1].
 * @throws Error when either input is empty or contains NaN.
 */
export function auprOut(id: ArrayLike<number>, ood: ArrayLike<number>, opts: AuprOptions = {}): number {
  return auprFromSweep(rocSweep(id, ood), "ood", opts);
}
