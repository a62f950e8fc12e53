/**
 * Minimum detection error (ODIN, Liang et al., ICLR 2018), exact version.
 * @module
 */

import { type RocSweep, rocSweep } from "./roc.ts";

/**
 * Detection error from a sweep: min over thresholds τ ∈ {distinct scores} ∪ {±∞} of
 * ½·(1 − TPR(τ)) + ½·FPR(τ), with TPR = frac(ID ≥ τ), FPR = frac(OOD ≥ τ) (≥ used consistently, so ties are
 * neither favoured; ODIN's own tie-favouring variant is in `odin.ts`). τ = ±∞ give ½, the chance level.
 *
 * @param sweep The shared sorted sweep.
 * @returns Detection error in [0, ½].
 */
export function detectionErrorFromSweep(sweep: RocSweep): number {
  const { tp, fp, nId, nOod } = sweep;
  let best = 0.5;
  for (let k = 0; k < tp.length; k++) {
    const e = 0.5 * (1 - tp[k]! / nId) + 0.5 * (fp[k]! / nOod);
    if (e < best) best = e;
  }
  return best;
}

/**
 * Detection error = min_τ ½·(1 − TPR_ID(τ)) + ½·FPR_OOD(τ) (Liang et al., ODIN, ICLR 2018,
 * {@link https://arxiv.org/abs/1706.02690}), τ over all distinct scores and ±∞, accepting score ≥ τ as ID.
 *
 * @param id ID scores (higher = more in-distribution).
 * @param ood OOD scores.
 * @returns Detection error in [0, ½].
 * @throws Error when either input is empty or contains NaN.
 */
export function detectionError(id: ArrayLike<number>, ood: ArrayLike<number>): number {
  return detectionErrorFromSweep(rocSweep(id, ood));
}
