/**
 * The ODIN / ELOC metric suite (`calMetric.py` of ODIN, Liang et al. 2018, and of the ELOC re-implementation
 * YU1ut/Ensemble-of-Leave-out-Classifiers), restated from its definitions so ELOC can be scored with its own rules.
 *
 * All quantities are rates over the pooled distinct scores δ (ascending), with TPR(δ) = frac(ID ≥ δ) and
 * FPR(δ) = frac(OOD > δ): ties between ID and OOD favour ID, so AUROC and detection error are optimistic when
 * scores tie (papers.md §1.1, §1.4, §7.3).
 * @module
 */

import { type RocSweep, rocSweep } from "./roc.ts";

/** The five ODIN/ELOC numbers, fractions. */
export interface OdinMetrics {
  /** Rectangle sum Σ_δ (FPR(δ⁻) − FPR(δ))·TPR(δ), FPR(δ⁻) starting at 1. */
  readonly auroc: number;
  /** Rate-based AUPR, ID positive: precision = TPR/(TPR + frac(OOD ≥ δ)), recall = TPR. */
  readonly auprIn: number;
  /** Rate-based AUPR, OOD positive: precision = frac(OOD < δ)/(frac(OOD < δ) + frac(ID < δ)), δ descending. */
  readonly auprOut: number;
  /** min_δ ½·(frac(ID < δ) + frac(OOD > δ)), starting from 1. */
  readonly detectionError: number;
  /** Mean FPR(δ) over δ with TPR(δ) ∈ [0.9495, 0.9505] (NaN if none), = `fprAtTpr` with rule `"odin"`. */
  readonly fpr95: number;
}

/**
 * ODIN/ELOC metrics from a sweep. Index k runs over distinct scores descending, so δ ascending is k = m−1 … 0,
 * #ID ≥ δ_k = tp[k], #OOD ≥ δ_k = fp[k], #OOD > δ_k = fp[k−1].
 *
 * AUPR sums: Σ (R_prev − R)·P over the scan with R_prev starting at 1, plus R_last·P_last (the code's closing
 * term); when no δ has a positive denominator (a single distinct score) AUPR-Out is NaN, where the original
 * raises.
 *
 * @param sweep The shared sorted sweep.
 * @returns The five numbers.
 */
export function odinMetricsFromSweep(sweep: RocSweep): OdinMetrics {
  const { tp, fp, nId, nOod } = sweep;
  const m = tp.length;
  const oodAbove = (k: number) => (k > 0 ? fp[k - 1]! : 0);

  let auroc = 0, fprPrev = 1, tpr = 0, fpr = 0;
  let auprIn = 0, recallPrev = 1, recall = 0, precision = 0;
  let detectionError = 1, fprSum = 0, fprCount = 0;
  for (let k = m - 1; k >= 0; k--) {
    tpr = tp[k]! / nId;
    fpr = oodAbove(k) / nOod;
    auroc += (fprPrev - fpr) * tpr;
    fprPrev = fpr;

    const fpAtLeast = fp[k]! / nOod;
    if (tpr + fpAtLeast !== 0) {
      precision = tpr / (tpr + fpAtLeast);
      recall = tpr;
      auprIn += (recallPrev - recall) * precision;
      recallPrev = recall;
    }

    detectionError = Math.min(detectionError, ((nId - tp[k]!) / nId + fpr) / 2);
    if (tpr <= 0.9505 && tpr >= 0.9495) {
      fprSum += fpr;
      fprCount++;
    }
  }
  auroc += fpr * tpr;
  auprIn += recall * precision;

  let auprOut = 0, found = false;
  recallPrev = 1;
  for (let k = 0; k < m; k++) {
    const fpRate = (nId - tp[k]!) / nId, tpRate = (nOod - fp[k]!) / nOod; // frac(ID < δ), frac(OOD < δ)
    if (tpRate + fpRate === 0) continue;
    precision = tpRate / (tpRate + fpRate);
    recall = tpRate;
    auprOut += (recallPrev - recall) * precision;
    recallPrev = recall;
    found = true;
  }
  auprOut = found ? auprOut + recall * precision : NaN;

  return { auroc, auprIn, auprOut, detectionError, fpr95: fprCount > 0 ? fprSum / fprCount : NaN };
}

/**
 * The ODIN/ELOC `calMetric` suite (Liang et al., {@link https://arxiv.org/abs/1706.02690}; Vyas et al., ECCV 2018):
 * AUROC, AUPR-In, AUPR-Out, detection error and FPR@95%TPR with ODIN's tie handling and rate-based precision.
 * Prefer `evaluate` for new results; use this to compare with numbers produced by that code.
 *
 * @param id ID scores (higher = more in-distribution).
 * @param ood OOD scores.
 * @returns The five numbers (see {@link OdinMetrics}).
 * @throws Error when either input is empty or contains NaN.
 */
export function odinMetrics(id: ArrayLike<number>, ood: ArrayLike<number>): OdinMetrics {
  return odinMetricsFromSweep(rocSweep(id, ood));
}
