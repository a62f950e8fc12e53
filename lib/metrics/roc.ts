/**
 * The shared sorted threshold sweep behind every threshold metric, and the ROC curve built from it.
 *
 * Convention: scores are "higher = more in-distribution"; a sample is accepted as ID when its score is
 * ≥ the threshold. All arithmetic is float64.
 * @module
 */

import { sortFloat64 } from "./sort.ts";
import { toFloat64 } from "./validate.ts";

/**
 * Cumulative counts at every distinct score, scanned from the highest score down (scikit-learn's
 * `_binary_clf_curve` with ID as the positive class). `tp[k]` / `fp[k]` are the (weighted) numbers of ID / OOD
 * scores ≥ `thresholds[k]`; consecutive entries differ by the samples that share score `thresholds[k]`.
 */
export interface RocSweep {
  /** Distinct scores, strictly descending. */
  readonly thresholds: Float64Array;
  /** ID scores ≥ `thresholds[k]` (true positives with ID positive). Non-decreasing, ends at `nId`. */
  readonly tp: Float64Array;
  /** OOD scores ≥ `thresholds[k]` (false positives with ID positive). Non-decreasing, ends at `nOod`. */
  readonly fp: Float64Array;
  /** Total (weighted) number of ID samples. */
  readonly nId: number;
  /** Total (weighted) number of OOD samples. */
  readonly nOod: number;
}

/** Validated float64 copies of both score sets, each sorted ascending. */
export interface SortedScores {
  /** ID scores, ascending. */
  readonly id: Float64Array;
  /** OOD scores, ascending. */
  readonly ood: Float64Array;
}

/**
 * Validates (non-empty, no NaN), copies to float64 and sorts both score sets ascending: the one sort that all
 * threshold metrics share.
 *
 * @param id ID scores (higher = more in-distribution).
 * @param ood OOD scores, same convention.
 * @returns Sorted float64 copies.
 * @throws Error naming the input when it is empty or contains NaN (with the index).
 */
export function sortScores(id: ArrayLike<number>, ood: ArrayLike<number>): SortedScores {
  return { id: sortFloat64(toFloat64(id, "id")), ood: sortFloat64(toFloat64(ood, "ood")) };
}

/**
 * Merges two ascending score arrays into the descending sweep, in O(nId + nOod).
 *
 * @param sorted Both score sets, ascending (from {@link sortScores}).
 * @param weights Optional per-position weights (e.g. bootstrap multiplicities) aligned with `sorted`;
 *   scores whose total weight is 0 produce no threshold, as scikit-learn drops zero-weight samples.
 * @returns The sweep.
 */
export function sweepSorted(
  sorted: SortedScores,
  weights?: { readonly id: ArrayLike<number>; readonly ood: ArrayLike<number> },
): RocSweep {
  const a = sorted.id, b = sorted.ood;
  const wa = weights?.id, wb = weights?.ood;
  const cap = a.length + b.length;
  const thresholds = new Float64Array(cap), tp = new Float64Array(cap), fp = new Float64Array(cap);
  let i = a.length - 1, j = b.length - 1, m = 0, tpAcc = 0, fpAcc = 0;
  while (i >= 0 || j >= 0) {
    const v = j < 0 || (i >= 0 && a[i]! >= b[j]!) ? a[i]! : b[j]!;
    let dTp = 0, dFp = 0;
    if (wa === undefined) {
      while (i >= 0 && a[i] === v) dTp++, i--;
    } else {
      while (i >= 0 && a[i] === v) dTp += wa[i--]!;
    }
    if (wb === undefined) {
      while (j >= 0 && b[j] === v) dFp++, j--;
    } else {
      while (j >= 0 && b[j] === v) dFp += wb[j--]!;
    }
    if (dTp === 0 && dFp === 0) continue;
    tpAcc += dTp;
    fpAcc += dFp;
    thresholds[m] = v;
    tp[m] = tpAcc;
    fp[m] = fpAcc;
    m++;
  }
  return {
    thresholds: thresholds.subarray(0, m),
    tp: tp.subarray(0, m),
    fp: fp.subarray(0, m),
    nId: tpAcc,
    nOod: fpAcc,
  };
}

/**
 * Validates, sorts and sweeps in one call.
 *
 * @param id ID scores (higher = more in-distribution).
 * @param ood OOD scores.
 * @returns The sweep shared by all threshold metrics.
 * @throws Error when either input is empty or contains NaN.
 */
export function rocSweep(id: ArrayLike<number>, ood: ArrayLike<number>): RocSweep {
  return sweepSorted(sortScores(id, ood));
}

/** Which class is positive: `"id"` on the score (ODIN's reading), or `"ood"` on the negated score (OpenOOD v1.5). */
export type PositiveClass = "id" | "ood";

/**
 * A detection curve in the orientation of one positive class: `pos[j]` / `neg[j]` are the positives / negatives
 * flagged at the j-th distinct threshold, thresholds from strictest to loosest.
 */
export interface OrientedCurve {
  /** Positives flagged at threshold j (non-decreasing, ends at `nPos`). */
  readonly pos: Float64Array;
  /** Negatives flagged at threshold j (non-decreasing, ends at `nNeg`). */
  readonly neg: Float64Array;
  /** Total positives. */
  readonly nPos: number;
  /** Total negatives. */
  readonly nNeg: number;
}

/**
 * Orients a sweep. ID positive: the sweep itself (no copy). OOD positive on the negated score: thresholds run over
 * the scores ascending, a sample is flagged OOD when score ≤ t, so pos[j] = #OOD ≤ t, neg[j] = #ID ≤ t.
 *
 * @param sweep The shared sweep.
 * @param positive The positive class.
 * @returns The curve in that orientation.
 */
export function orientCurve(sweep: RocSweep, positive: PositiveClass): OrientedCurve {
  if (positive === "id") {
    return { pos: sweep.tp, neg: sweep.fp, nPos: sweep.nId, nNeg: sweep.nOod };
  }
  const m = sweep.tp.length;
  return oodCurveInto(sweep, new Float64Array(m), new Float64Array(m));
}

/**
 * `orientCurve(sweep, "ood")` written into `pos` and `neg` (at least as long as the sweep; the returned curve views
 * their first m entries), for callers that sweep many times and reuse their buffers (the bootstrap).
 */
export function oodCurveInto(sweep: RocSweep, pos: Float64Array, neg: Float64Array): OrientedCurve {
  const { tp, fp, nId, nOod } = sweep, m = tp.length;
  // point j ↔ sweep index k = m − 1 − j (ascending scores); samples ≤ t_k = total − samples ≥ t_{k−1}
  pos[0] = nOod - (m > 1 ? fp[m - 2]! : 0);
  neg[0] = nId - (m > 1 ? tp[m - 2]! : 0);
  for (let j = 1; j < m; j++) {
    const k = m - 1 - j;
    pos[j] = k > 0 ? nOod - fp[k - 1]! : nOod;
    neg[j] = k > 0 ? nId - tp[k - 1]! : nId;
  }
  return { pos: pos.subarray(0, m), neg: neg.subarray(0, m), nPos: nOod, nNeg: nId };
}

/**
 * Indices kept by scikit-learn's `roc_curve(drop_intermediate=True)`: the first and last points and every interior
 * point where the second difference of `pos` or of `neg` is non-zero (collinear points are dropped).
 *
 * @param curve The oriented curve (without the (0, 0) origin).
 * @param j The point index.
 * @returns Whether point j survives.
 */
export function keptByDropIntermediate(curve: OrientedCurve, j: number): boolean {
  const m = curve.pos.length;
  if (m <= 2 || j === 0 || j === m - 1) return true;
  const { pos, neg } = curve;
  return pos[j + 1]! - 2 * pos[j]! + pos[j - 1]! !== 0 || neg[j + 1]! - 2 * neg[j]! + neg[j - 1]! !== 0;
}

/** A ROC curve as arrays, starting at (0, 0). */
export interface RocCurve {
  /** False positive rate per point. */
  readonly fpr: Float64Array;
  /** True positive rate per point. */
  readonly tpr: Float64Array;
  /** Threshold per point on the positive-oriented score; the first is +Infinity. */
  readonly thresholds: Float64Array;
}

/**
 * The ROC curve as scikit-learn's `roc_curve(isPositive, orientedScore)` returns it: a (0, 0) point at threshold
 * +∞, then one point per distinct score, TPR = pos/nPos, FPR = neg/nNeg.
 *
 * @param id ID scores (higher = more in-distribution).
 * @param ood OOD scores.
 * @param opts.positive Positive class, default `"id"`.
 * @param opts.dropIntermediate Drop collinear points as scikit-learn's default does, default `false`.
 * @returns The curve (for plots; the metrics do not materialise it).
 */
export function rocCurve(
  id: ArrayLike<number>,
  ood: ArrayLike<number>,
  opts: { positive?: PositiveClass; dropIntermediate?: boolean } = {},
): RocCurve {
  const sweep = rocSweep(id, ood), positive = opts.positive ?? "id";
  const curve = orientCurve(sweep, positive), m = curve.pos.length;
  const fpr = [0], tpr = [0], thresholds = [Infinity];
  for (let j = 0; j < m; j++) {
    if (opts.dropIntermediate && !keptByDropIntermediate(curve, j)) continue;
    fpr.push(curve.neg[j]! / curve.nNeg);
    tpr.push(curve.pos[j]! / curve.nPos);
    thresholds.push(positive === "id" ? sweep.thresholds[j]! : -sweep.thresholds[m - 1 - j]!);
  }
  return { fpr: Float64Array.from(fpr), tpr: Float64Array.from(tpr), thresholds: Float64Array.from(thresholds) };
}
