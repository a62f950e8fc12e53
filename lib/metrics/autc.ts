/**
 * Area under the threshold curve (AUTC; Humblot-Renaux et al., 2023), as in the new pytorch-ood.
 * @module
 */

import { type RocSweep, rocSweep } from "./roc.ts";

/**
 * AUTC from a sweep. With the outlier score u = −s min-max normalised over the pooled samples to [0, 1],
 *
 *   AUTC = ½·[mean_ID u + mean_OOD (1 − u)] = ½·(∫ FPR dτ + ∫ FNR dτ)   (lower is better).
 *
 * All scores equal → ½. Infinite scores make the normalisation undefined → NaN.
 *
 * @param sweep The shared sorted sweep.
 * @returns AUTC in [0, 1] (NaN if a score is ±∞).
 */
export function autcFromSweep(sweep: RocSweep): number {
  const { thresholds, tp, fp, nId, nOod } = sweep;
  const max = thresholds[0]!, min = thresholds[thresholds.length - 1]!;
  if (!Number.isFinite(max) || !Number.isFinite(min)) return NaN;
  const range = max - min;
  if (range === 0) return 0.5;
  let sumId = 0, sumOod = 0, prevTp = 0, prevFp = 0;
  for (let k = 0; k < thresholds.length; k++) {
    const u = (max - thresholds[k]!) / range;
    sumId += (tp[k]! - prevTp) * u;
    sumOod += (fp[k]! - prevFp) * (1 - u);
    prevTp = tp[k]!;
    prevFp = fp[k]!;
  }
  return 0.5 * (sumId / nId + sumOod / nOod);
}

/**
 * AUTC = ½·[mean_ID u + mean_OOD (1 − u)], u = min-max normalised outlier score −s
 * (Humblot-Renaux et al., {@link https://arxiv.org/abs/2306.14658}; pytorch-ood `autc`). Lower is better.
 *
 * @param id ID scores (higher = more in-distribution).
 * @param ood OOD scores.
 * @returns AUTC in [0, 1] (½ when all scores are equal, NaN if a score is ±∞).
 * @throws Error when either input is empty or contains NaN.
 */
export function autc(id: ArrayLike<number>, ood: ArrayLike<number>): number {
  return autcFromSweep(rocSweep(id, ood));
}
