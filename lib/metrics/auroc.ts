/**
 * Area under the ROC curve.
 * @module
 */

import { type RocSweep, rocSweep } from "./roc.ts";

/**
 * AUROC from a sweep: the Mann–Whitney statistic with ties counted ½,
 *
 *   AUROC = P(s_ID > s_OOD) + ½·P(s_ID = s_OOD) = Σ_k ΔID_k·(#OOD < t_k + ½·ΔOOD_k) / (n_ID·n_OOD),
 *
 * where ΔID_k, ΔOOD_k are the samples at distinct score t_k. Equals scikit-learn `roc_auc_score` (trapezoid on the
 * step ROC with tie diagonals), OpenOOD and the new pytorch-ood; orientation-free (ID or OOD positive give the same
 * value). The doubled numerator is summed in integers, exact while 2·n_ID·n_OOD < 2⁵³.
 *
 * @param sweep The shared sorted sweep.
 * @returns AUROC in [0, 1].
 */
export function aurocFromSweep(sweep: RocSweep): number {
  const { tp, fp, nId, nOod } = sweep;
  let twice = 0, prevTp = 0, prevFp = 0;
  for (let k = 0; k < tp.length; k++) {
    const dTp = tp[k]! - prevTp, dFp = fp[k]! - prevFp;
    twice += dTp * (2 * (nOod - fp[k]!) + dFp);
    prevTp = tp[k]!;
    prevFp = fp[k]!;
  }
  return twice / (2 * nId * nOod);
}

/**
 * AUROC = P(s_ID > s_OOD) + ½·P(s_ID = s_OOD) (Mann–Whitney U / (n_ID·n_OOD); scikit-learn `roc_auc_score`).
 * Scores: higher = more in-distribution.
 *
 * @param id ID scores.
 * @param ood OOD scores.
 * @returns AUROC in [0, 1].
 * @throws Error when either input is empty or contains NaN.
 * @example Usage
 * ```ts
 * import { auroc } from "./auroc.ts";
 * auroc([0.9, 0.8], [0.1, 0.8]); // 0.875
 * ```
 */
export function auroc(id: ArrayLike<number>, ood: ArrayLike<number>): number {
  return aurocFromSweep(rocSweep(id, ood));
}
