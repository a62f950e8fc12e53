/**
 * OOD scores, one file each, all "higher = more in-distribution" (conventions.md C1, C2, C4), and the detector
 * registry that the experiment layer scores with.
 *
 * | id | needs | fit | formula (higher = ID) | paper |
 * |---|---|---|---|---|
 * | `msp` | logits | – | max_c softmax(f/T)_c | Hendrycks & Gimpel 2017 |
 * | `maxLogit` | logits | – | max_c f_c | Hendrycks et al. 2022 |
 * | `energy` | logits | – | T·logsumexp(f/T) | Liu et al. 2020 |
 * | `odin` | model + input | – | max_c softmax(f(x − ε·sign(−∇ log S_ŷ)/σ)/T)_c | Liang et al. 2018 |
 * | `mahalanobis` | features | ✓ | max_c −(f − μ_c)ᵀΣ⁻¹(f − μ_c) | Lee et al. 2018 |
 * | `mahalanobisEnsemble` | featureList | ✓ | Σ_ℓ w_ℓ·max_c −D_ℓc | Lee et al. 2018 |
 * | `knn` | features | ✓ | −‖z − z_(K)‖², z = h/‖h‖ | Sun et al. 2022 (CIDER) |
 * | `entropy` | logits | – | Σ_c p_c·log p_c (negative entropy) | baseline (pytorch-ood's Entropy) |
 * | `gen` | logits | – | −Σ_{top-M} p_j^γ(1 − p_j)^γ, γ = 0.1, M = 100 | Liu et al. 2023 |
 * | `klMatching` | logits | ✓ | −min_k KL(p ‖ d_k), d_k = mean training softmax predicted k | Hendrycks et al. 2022 |
 * | `vim` | features + logits + last layer | ✓ | logsumexp(f) − α‖(h − u)R‖, u = −pinv(W)b | Wang et al. 2022 |
 * | `residual` | features + last layer | ✓ | −‖(h − u)R‖ | Wang et al. 2022 (baseline) |
 * | `she` | features + logits | ✓ | ⟨h, S_ŷ⟩, S_c = mean correct training feature of c | Zhang et al. 2023 |
 * | `relativeMahalanobis` | features | ✓ | max_c −(D_c − D₀), D₀ background Gaussian | Ren et al. 2021 |
 * | `react` | features + last layer | ✓ | logsumexp(min(h, c)ᵀW + b), c = 90th pct. of training activations | Sun et al. 2021 |
 * | `ashP` | features + last layer | – | logsumexp(ash_p(h)ᵀW + b), top 10% of h kept | Djurisic et al. 2023 |
 * | `ashB` | features + last layer | – | logsumexp(ash_b(h)ᵀW + b), top 10% of h set to Σh/k | Djurisic et al. 2023 |
 * | `ashS` | features + last layer | – | logsumexp(ash_s(h)ᵀW + b), top 10% of h scaled by exp(Σh/Σtop) | Djurisic et al. 2023 |
 * | `dice` | features + last layer | ✓ | logsumexp(hᵀ(W ⊙ M) + b), M: top 10% of h̄_k·W_kc | Sun & Li 2022 |
 * | `gradnorm` | features + last layer | – | ‖∂(−Σ_c log p_c)/∂W‖₁ = ‖h‖₁ · Σ_c \|C·p_c − 1\| | Huang et al. 2021 |
 * | `umMsp` | logits | – | max_c softmax(softmax(f))_c | Unleashing Mask's code (paper-specific) |
 * | `umMahalanobis` | model + input | ✓ | −σ(b + Σ_ℓ w_ℓ s_ℓ(x̃)), regression on ID vs FGSM images | Unleashing Mask's code (paper-specific) |
 * | `ciderMahalanobis` | features | ✓ | max_c −(ĥ − μ_c)ᵀ pinv(cov(ĥ))(ĥ − μ_c), ĥ = h/‖h‖, global cov | CIDER's `eval_ood.py` (paper-specific) |
 * | `vmdls` | featureList | ✓ | max_c (log N(f; ν_c, Σ_c + jitter) − M)·r/R on the feature ensemble | VMDLS's `models/vae.py` (paper-specific) |
 *
 * The tensor functions (`msp(logits, opts)`, `fitKnn(features, …)`, …) return a new `tf.Tensor1D` [N] (the
 * caller disposes it; `scoresToArray` reads and disposes). The detectors wrap them over extracted outputs.
 *
 * @example Iterating over every detector
 * ```ts ignore
 * for (const [id, d] of Object.entries(DETECTORS)) console.log(id, d.label, d.paper ?? "generic", d.needs);
 * ```
 * @module
 */
import type { AnyDetector, Detector, OptionsOf } from "./detector.ts";
import { energyDetector } from "./energy.ts";
import { knnDetector } from "./knn.ts";
import { entropyDetector } from "./entropy.ts";
import { genDetector } from "./gen.ts";
import { klMatchingDetector } from "./kl_matching.ts";
import { vimDetector } from "./vim.ts";
import { residualDetector } from "./residual.ts";
import { sheDetector } from "./she.ts";
import { relativeMahalanobisDetector } from "./relative_mahalanobis.ts";
import { reactDetector } from "./react.ts";
import { ashBDetector, ashPDetector, ashSDetector } from "./ash.ts";
import { diceDetector } from "./dice.ts";
import { gradNormDetector } from "./gradnorm.ts";
import { mahalanobisDetector } from "./mahalanobis.ts";
import { mahalanobisEnsembleDetector } from "./mahalanobis_ensemble.ts";
import { maxLogitDetector } from "./max_logit.ts";
import { mspDetector } from "./msp.ts";
import { odinDetector } from "./odin.ts";
import { umMspDetector } from "./um_msp.ts";
import { umMahalanobisDetector } from "./um_mahalanobis.ts";
import { ciderMahalanobisDetector } from "./cider_mahalanobis.ts";
import { vmdlsDetector } from "./vmdls.ts";

export { energy, energyDetector } from "./energy.ts";
export type { EnergyOptions } from "./energy.ts";
export { fitKnn, knn, KNN_NORM_EPS, knnDetector, knnWorkingSetBytes } from "./knn.ts";
export type { KnnDetectorOptions, KnnFitOptions, KnnOptions, KnnState } from "./knn.ts";
export { entropyDetector, negativeEntropy } from "./entropy.ts";
export { gen, genDetector } from "./gen.ts";
export type { GenDetectorOptions, GenOptions } from "./gen.ts";
export { fitKlMatching, klMatching, klMatchingDetector } from "./kl_matching.ts";
export type { KlMatchingDetectorOptions, KlMatchingState } from "./kl_matching.ts";
export {
  classifierOrigin,
  fitPrincipalSubspace,
  fitVim,
  residualNorm,
  vim,
  vimDetector,
  vimPrincipalDim,
} from "./vim.ts";
export type { PrincipalSubspace, VimDetectorOptions, VimFitOptions, VimState } from "./vim.ts";
export { fitResidual, residual, residualDetector } from "./residual.ts";
export type { ResidualDetectorOptions, ResidualState } from "./residual.ts";
export { fitShe, she, sheDetector } from "./she.ts";
export type { SheDetectorOptions, SheMetric, SheState } from "./she.ts";
export { fitRelativeMahalanobis, relativeMahalanobis, relativeMahalanobisDetector } from "./relative_mahalanobis.ts";
export type {
  RelativeMahalanobisDetectorOptions,
  RelativeMahalanobisFitOptions,
  RelativeMahalanobisState,
} from "./relative_mahalanobis.ts";
export { fitReact, react, reactDetector } from "./react.ts";
export type { ReactDetectorOptions, ReactFitOptions, ReactState } from "./react.ts";
export { ash, ashBDetector, ashKeep, ashPDetector, ashSDetector, ashShape } from "./ash.ts";
export type { AshDetectorOptions, AshOptions, AshVariant } from "./ash.ts";
export { dice, diceDetector, fitDice } from "./dice.ts";
export type { DiceDetectorOptions, DiceFitOptions, DiceState } from "./dice.ts";
export { gradNorm, gradNormDetector } from "./gradnorm.ts";
export type { GradNormOptions } from "./gradnorm.ts";
export {
  classDistances,
  fitMahalanobis,
  mahalanobis,
  mahalanobisDetector,
  pseudoInverseSymmetric,
  symmetricEigen,
} from "./mahalanobis.ts";
export type { MahalanobisDetectorOptions, MahalanobisFitOptions, MahalanobisState } from "./mahalanobis.ts";
export {
  fitMahalanobisEnsemble,
  mahalanobisEnsemble,
  mahalanobisEnsembleDetector,
  mahalanobisEnsembleFromInput,
} from "./mahalanobis_ensemble.ts";
export type {
  MahalanobisEnsembleFitOptions,
  MahalanobisEnsembleState,
  MahalanobisInputOptions,
} from "./mahalanobis_ensemble.ts";
export { maxLogit, maxLogitDetector } from "./max_logit.ts";
export { msp, mspDetector } from "./msp.ts";
export type { MspOptions } from "./msp.ts";
export { odin, odinDetector } from "./odin.ts";
export type { OdinDetectorOptions, OdinOptions } from "./odin.ts";
export { mspUmCode, umMspDetector } from "./um_msp.ts";
export { umMahalanobisDetector } from "./um_mahalanobis.ts";
export { ciderMahalanobisDetector } from "./cider_mahalanobis.ts";
export { vmdlsClasses, vmdlsDetector, vmdlsNormalizers, vmdlsReferenceScores, vmdlsScores } from "./vmdls.ts";
export type { VmdlsNormalizers, VmdlsOptions, VmdlsReconstruction, VmdlsState } from "./vmdls.ts";
export type { UmMahalanobisOptions, UmMahalanobisState } from "./um_mahalanobis.ts";
export { scoresToArray } from "./types.ts";
export type { FeatureListModel, Labels, LogitModel } from "./types.ts";
export * from "./detector.ts";
export * from "./matrix.ts";
export { scoreImages } from "./on_images.ts";

/**
 * Every detector, by registry id (conventions C4): generic scores first, then paper-specific ones (their
 * `paper` field names the notebook). Entries keep their precise option types (`satisfies`).
 */
export const DETECTORS = {
  msp: mspDetector,
  maxLogit: maxLogitDetector,
  energy: energyDetector,
  odin: odinDetector,
  mahalanobis: mahalanobisDetector,
  mahalanobisEnsemble: mahalanobisEnsembleDetector,
  knn: knnDetector,
  entropy: entropyDetector,
  gen: genDetector,
  klMatching: klMatchingDetector,
  vim: vimDetector,
  residual: residualDetector,
  she: sheDetector,
  relativeMahalanobis: relativeMahalanobisDetector,
  react: reactDetector,
  ashP: ashPDetector,
  ashB: ashBDetector,
  ashS: ashSDetector,
  dice: diceDetector,
  gradnorm: gradNormDetector,
  umMsp: umMspDetector,
  umMahalanobis: umMahalanobisDetector,
  ciderMahalanobis: ciderMahalanobisDetector,
  vmdls: vmdlsDetector,
} as const satisfies Record<string, AnyDetector>;

/** A registered detector id. */
export type DetectorName = keyof typeof DETECTORS;

/** Registered ids in registry order. */
export const DETECTOR_NAMES: readonly DetectorName[] = Object.keys(DETECTORS) as DetectorName[];

/** The options of the detector `N`. */
export type DetectorOptions<N extends DetectorName> = OptionsOf<(typeof DETECTORS)[N]>;

/**
 * What a method is scored with: a registry id, options overriding the detector's defaults, and the name of the
 * result rows' `score` column (default: the id; set it when one detector runs twice with different options).
 */
export type DetectorSpec = {
  [N in DetectorName]: { use: N; opts?: Partial<DetectorOptions<N>>; as?: string };
}[DetectorName];

/** A detector by id, widened for generic code; throws listing the valid ids. */
export function detector(name: string): Detector<Record<string, unknown>, unknown> {
  const d = (DETECTORS as Record<string, unknown>)[name];
  if (!d) throw new Error(`Unknown detector "${name}". Valid ids: ${DETECTOR_NAMES.join(", ")}.`);
  return d as Detector<Record<string, unknown>, unknown>;
}

/**
 * A spec's detector and its full options (defaults overridden by `spec.opts`); throws on an unknown id or an
 * option the detector does not have (a typo would otherwise be ignored).
 */
export function resolveSpec(spec: DetectorSpec): {
  key: string;
  detector: Detector<Record<string, unknown>, unknown>;
  opts: Record<string, unknown>;
} {
  const d = detector(spec.use);
  const given = (spec.opts ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(given)) {
    if (!Object.hasOwn(d.defaults, k)) {
      throw new Error(
        `Detector "${spec.use}" has no option "${k}". Its options: ${Object.keys(d.defaults).join(", ") || "none"}.`,
      );
    }
  }
  return { key: spec.as ?? spec.use, detector: d, opts: { ...d.defaults, ...given } };
}
