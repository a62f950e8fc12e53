/**
 * False positive rate at a fixed true positive rate (FPR@95%TPR by default), with the threshold-selection rules
 * the papers use. Scores: higher = more in-distribution.
 *
 * Two readings (papers.md §1.2), chosen with `positive`:
 * - `"id"` (default; ODIN, ELOC, CIDER, UM, OpenOOD ≤ v1.0): threshold on the score so that ≥ level of ID is
 *   accepted (score ≥ t); FPR = fraction of OOD accepted.
 * - `"ood"` (OpenOOD v1.5, pytorch-ood): OOD positive on the negated score; threshold so that ≥ level of OOD is
 *   flagged (score ≤ t); FPR = fraction of ID flagged as OOD.
 *
 * Rules (papers.md §1.3), all on the curve of distinct thresholds, strictest first, TPR_j = pos_j / n_pos:
 * - `"sklearn"` (first-≥): FPR at the first ROC point with TPR ≥ level, i.e. the highest threshold reaching the
 *   level — `fpr[argmax(tpr >= level)]` on `roc_curve(drop_intermediate=False)`; with `dropIntermediate: true`,
 *   on scikit-learn's default curve without collinear points (bit-matches OpenOOD's call).
 * - `"hendrycks"` (CIDER, UM, Outlier Exposure, energy_ood `fpr_and_fdr_at_recall`): keep the points up to the
 *   first with recall 1, reverse them (recall descending), take the first index of min |TPR − level|: the lowest
 *   threshold of the level plateau (largest FPR on it), or a point below the level if that is closer.
 * - `"odin"` (ODIN, ELOC `calMetric.tpr95`): mean over all distinct pooled scores δ with
 *   TPR(δ) = frac(positive ≥ δ) ∈ [0.9495, 0.9505] of frac(negative > δ) — negatives tied with δ are not counted.
 *   NaN when no δ falls in the window (small sets: TPR takes only multiples of 1/n_pos).
 * @module
 */

import {
  keptByDropIntermediate,
  orientCurve,
  type OrientedCurve,
  type PositiveClass,
  type RocSweep,
  rocSweep,
} from "./roc.ts";
import { assertFraction } from "./validate.ts";

/** Threshold-selection rule for FPR at a TPR level; see the module documentation for exact definitions. */
export type FprRule = "sklearn" | "hendrycks" | "odin";

/** The valid {@link FprRule} values. */
export const FPR_RULES: readonly FprRule[] = ["sklearn", "hendrycks", "odin"];

/** Options for {@link fprAtTpr}. */
export interface FprOptions {
  /** TPR level of the positive class; default 0.95. */
  tprLevel?: number;
  /** Threshold-selection rule; default `"sklearn"` (first-≥). */
  rule?: FprRule;
  /** Positive class; default `"id"` (FPR = OOD accepted as ID). */
  positive?: PositiveClass;
  /** `"sklearn"` rule only: drop collinear ROC points as scikit-learn's default `roc_curve` does; default false. */
  dropIntermediate?: boolean;
  /** `"odin"` rule only: inclusive TPR window; default [0.9495, 0.9505] at level 0.95, else level ± 0.0005. */
  odinWindow?: readonly [number, number];
}

/**
 * FPR at a TPR level on an oriented curve (see the module documentation for the rules).
 *
 * @param curve Counts in the positive class's orientation.
 * @param opts Level, rule, collinear-point dropping, ODIN window.
 * @returns FPR in [0, 1] (NaN only for the `"odin"` rule with an empty window).
 */
export function fprAtTprFromCurve(curve: OrientedCurve, opts: FprOptions = {}): number {
  const level = opts.tprLevel ?? 0.95;
  assertFraction(level, "tprLevel");
  const rule = opts.rule ?? "sklearn";
  switch (rule) {
    case "sklearn":
      return firstAtLeast(curve, level, opts.dropIntermediate ?? false);
    case "hendrycks":
      return hendrycksNearest(curve, level);
    case "odin":
      return odinWindowMean(
        curve,
        opts.odinWindow ?? (level === 0.95 ? [0.9495, 0.9505] : [level - 5e-4, level + 5e-4]),
      );
    default:
      throw new Error(`metrics: unknown FPR rule "${rule}" (valid: ${FPR_RULES.map((r) => `"${r}"`).join(", ")})`);
  }
}

/** First ROC point (after the (0, 0) origin at threshold +∞) with TPR ≥ level. */
function firstAtLeast(curve: OrientedCurve, level: number, dropIntermediate: boolean): number {
  const { pos, neg, nPos, nNeg } = curve;
  if (level <= 0) return 0; // the origin already satisfies TPR ≥ level
  for (let j = 0; j < pos.length; j++) {
    if (dropIntermediate && !keptByDropIntermediate(curve, j)) continue;
    if (pos[j]! / nPos >= level) return neg[j]! / nNeg;
  }
  return neg[pos.length - 1]! / nNeg; // unreachable: the last point has TPR 1
}

/** Hendrycks et al.'s `fpr_and_fdr_at_recall`: first argmin of |recall − level| over reversed points. */
function hendrycksNearest(curve: OrientedCurve, level: number): number {
  const { pos, neg, nPos, nNeg } = curve;
  let last = 0;
  while (pos[last]! !== nPos) last++;
  let cut = last, best = Infinity;
  for (let j = last; j >= 0; j--) {
    const d = Math.abs(pos[j]! / nPos - level);
    if (d < best) {
      best = d;
      cut = j;
    }
  }
  return neg[cut]! / nNeg;
}

/** ODIN's `tpr95`: mean of frac(negative > δ) over distinct δ (ascending) with frac(positive ≥ δ) in the window. */
function odinWindowMean(curve: OrientedCurve, window: readonly [number, number]): number {
  const { pos, neg, nPos, nNeg } = curve;
  let sum = 0, count = 0;
  for (let j = pos.length - 1; j >= 0; j--) {
    const tpr = pos[j]! / nPos;
    if (tpr <= window[1] && tpr >= window[0]) {
      sum += (j > 0 ? neg[j - 1]! : 0) / nNeg;
      count++;
    }
  }
  return count > 0 ? sum / count : NaN;
}

/**
 * FPR at a TPR level from a sweep (orients it by `opts.positive`).
 *
 * @param sweep The shared sorted sweep.
 * @param opts See {@link FprOptions}.
 * @returns FPR in [0, 1] (NaN only for the `"odin"` rule with an empty window).
 */
export function fprAtTprFromSweep(sweep: RocSweep, opts: FprOptions = {}): number {
  return fprAtTprFromCurve(orientCurve(sweep, opts.positive ?? "id"), opts);
}

/**
 * FPR at `tprLevel` TPR (default FPR@95%TPR): with the defaults, the fraction of OOD scores ≥ the highest
 * threshold that keeps ≥ 95 % of ID scores (ID positive, first-≥ as scikit-learn's `roc_curve`).
 * See the module documentation for `positive: "ood"` and the `"hendrycks"` / `"odin"` rules.
 *
 * @param id ID scores (higher = more in-distribution).
 * @param ood OOD scores.
 * @param opts See {@link FprOptions}.
 * @returns FPR in [0, 1] (NaN only for the `"odin"` rule with an empty window).
 * @throws Error when either input is empty or contains NaN, or an option is invalid.
 * @example Usage
 * ```ts
 * import { fprAtTpr } from "./fpr.ts";
 * const id = [0.9, 0.8, 0.7], ood = [0.75, 0.2];
 * fprAtTpr(id, ood); // 0.5: keeping all ID needs t = 0.7, which accepts 0.75
 * fprAtTpr(id, ood, { rule: "hendrycks", positive: "ood" });
 * ```
 */
export function fprAtTpr(id: ArrayLike<number>, ood: ArrayLike<number>, opts: FprOptions = {}): number {
  return fprAtTprFromSweep(rocSweep(id, ood), opts);
}
