/**
 * CIDER's Mahalanobis score as its evaluation code computes it (deeplearning-wisc/cider `eval_ood.py`
 * `get_mean_prec` and `get_Mahalanobis_score`, papers.md §6a), registry id `ciderMahalanobis`:
 *
 * - features: `intermediate_forward`, the L2-normalised penultimate h (`F.normalize`), for the training images
 *   (eval transform) and every test image;
 * - class means of the normalised training features, and ONE covariance of all of them around their global
 *   mean, `torch.cov(features.T.double())` (N − 1 divisor, between-class spread included — not Lee et al.'s
 *   within-class tied covariance), inverted with `torch.linalg.pinv`;
 * - score −½·min_c (ĥ − μ_c)ᵀ P (ĥ − μ_c), reported negated; the ½ changes no ranking, so this returns
 *   −min_c D_c (higher = more in-distribution, as the generic `mahalanobis`).
 *
 * The generic detector with those options (`covariance: "global"`, `inverse: "pinv"`, `normalize: true`).
 * @module
 */
import type { Detector } from "./detector.ts";
import { mahalanobisDetector, type MahalanobisDetectorOptions, type MahalanobisState } from "./mahalanobis.ts";

/** Detector of CIDER's Mahalanobis estimator (global covariance, pseudo-inverse, normalised features). */
export const ciderMahalanobisDetector: Detector<MahalanobisDetectorOptions, MahalanobisState> = {
  ...mahalanobisDetector,
  label: "Mahalanobis (CIDER's eval_ood.py)",
  citation: "Ming, Sun, Dia & Li, ICLR 2023 (arXiv:2203.04450), code deeplearning-wisc/cider eval_ood.py",
  formula: "max_c −(ĥ − μ_c)ᵀ pinv(cov(ĥ)) (ĥ − μ_c), ĥ = h/‖h‖, one covariance around the global mean",
  paper: "cider",
  defaults: { shrinkage: 0, normalize: true, covariance: "global", inverse: "pinv" },
};
