/**
 * Relative Mahalanobis distance — Ren et al. 2021: the class-conditional Mahalanobis distance minus that of a
 * background Gaussian fitted to all training features.
 * @module
 */
import { tf } from "../tf.ts";
import type { Labels } from "./types.ts";
import { check2d } from "./_util.ts";
import { type Detector, needOutput, trainOutputs } from "./detector.ts";
import { fitMatrix, scoreMatrix } from "./matrix.ts";
import {
  checkMahalanobisState,
  classDistances,
  fitMahalanobis,
  type MahalanobisFitOptions,
  type MahalanobisState,
} from "./mahalanobis.ts";

/** Fitted state: two Mahalanobis states, plain JSON data. */
export interface RelativeMahalanobisState {
  /** Discriminates score states. */
  readonly kind: "relativeMahalanobis";
  /** Class means μ_c and the tied covariance Σ (Lee et al.'s fit). */
  readonly classes: MahalanobisState;
  /** The background Gaussian: one "class", μ₀ = the mean of all features, Σ₀ their covariance. */
  readonly background: MahalanobisState;
}

/** Options of {@linkcode fitRelativeMahalanobis}: those of {@linkcode fitMahalanobis} that apply to both fits. */
export type RelativeMahalanobisFitOptions = Pick<
  MahalanobisFitOptions,
  "numClasses" | "shrinkage" | "jitter" | "autoJitter" | "inverse"
>;

/**
 * Fits both Gaussians with {@linkcode fitMahalanobis} (float64; maximum-likelihood covariances, divided by N):
 *
 *   μ_c, Σ = (1/N) Σ_i (f_i − μ_{y_i})(f_i − μ_{y_i})ᵀ  (the class fit, `covariance: "tied"`);
 *   μ₀ = (1/N) Σ_i f_i,  Σ₀ = (1/N) Σ_i (f_i − μ₀)(f_i − μ₀)ᵀ  (every label 0, one class).
 *
 * As OpenOOD's `rmds_postprocessor.py` (scikit-learn's `EmpiricalCovariance`, the MLE, for both; its precision
 * is a pseudo-inverse: `inverse: "pinv"`). pytorch-ood's `rmd.py` differs: it divides the class scatter
 * by N − 1 and inverts the background **scatter** (not divided by N, + 1e-6·I), which shrinks the background term
 * by a factor N. A class with one sample has μ_c = that sample and adds nothing to Σ.
 * @see {@link https://arxiv.org/abs/2106.09022 | Paper}
 * @param features training features [N, d].
 * @param labels N labels in [0, C).
 * @param opts shrinkage / jitter / inverse, applied to both covariances (default: none, Cholesky with auto-jitter).
 * @returns the {@linkcode RelativeMahalanobisState}.
 * @throws as {@linkcode fitMahalanobis} (bad labels, an empty class, non-finite features, …).
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * // Σ = 0.5·I (P = 2·I); background μ₀ = (2, 0), Σ₀ = diag(4.5, 0.5) (P₀ = diag(2/9, 2))
 * const state = fitRelativeMahalanobis(tf.tensor2d([[-1, 0], [1, 0], [4, -1], [4, 1]]), [0, 0, 1, 1]);
 * const s = relativeMahalanobis(state, tf.tensor2d([[1, 0]])); // [−2 + 2/9 ≈ −1.7778]
 * ```
 */
export function fitRelativeMahalanobis(
  features: tf.Tensor2D,
  labels: Labels,
  opts: RelativeMahalanobisFitOptions = {},
): RelativeMahalanobisState {
  const [n] = check2d(features, "features", "fitRelativeMahalanobis");
  const classes = fitMahalanobis(features, labels, { ...opts, covariance: "tied" });
  // One class: the "tied" within-class scatter is then the scatter around the global mean, divided by N.
  const background = fitMahalanobis(features, new Int32Array(n), { ...opts, numClasses: 1, covariance: "tied" });
  return { kind: "relativeMahalanobis", classes, background };
}

/**
 * Relative Mahalanobis score (Ren, Fort, Liu, Roy, Padhy, Lakshminarayanan, "A Simple Fix to Mahalanobis Distance
 * for Improving Near-OOD Detection", arXiv 2021). With D_c = (f − μ_c)ᵀΣ⁻¹(f − μ_c) and D₀ = (f − μ₀)ᵀΣ₀⁻¹(f − μ₀),
 * higher = more in-distribution:
 *
 *   S(f) = −min_c (D_c(f) − D₀(f)) = max_c −(D_c − D₀) = D₀(f) − min_c D_c(f).
 *
 * As OpenOOD's `rmds_postprocessor.py` (`max_c` of `class_scores − background_scores`). Computed in float32 tensors
 * from the float64 states (`classDistances` of `mahalanobis.ts`).
 * @see {@link https://arxiv.org/abs/2106.09022 | Paper}
 * @param state from {@linkcode fitRelativeMahalanobis}.
 * @param features [M, d] features of the scored set.
 * @returns [M] scores; the caller disposes the tensor.
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * const state = fitRelativeMahalanobis(tf.tensor2d([[-1, 0], [1, 0], [4, -1], [4, 1]]), [0, 0, 1, 1]);
 * const s = relativeMahalanobis(state, tf.tensor2d([[2, 0]])); // [−8 + 0 = −8]: on μ₀, halfway between classes
 * ```
 */
export function relativeMahalanobis(state: RelativeMahalanobisState, features: tf.Tensor2D): tf.Tensor1D {
  const [, d] = check2d(features, "features", "relativeMahalanobis");
  if (state.kind !== "relativeMahalanobis") {
    throw new Error(`relativeMahalanobis: not a relative Mahalanobis state (kind ${state.kind})`);
  }
  checkMahalanobisState(state.classes, d, "relativeMahalanobis");
  checkMahalanobisState(state.background, d, "relativeMahalanobis");
  return tf.tidy(() =>
    tf.sub(
      tf.squeeze(classDistances(state.background, features), [1]),
      tf.min(classDistances(state.classes, features), 1),
    ) as tf.Tensor1D
  );
}

/** Options of the relative Mahalanobis detector (applied to both covariances; see {@linkcode fitMahalanobis}). */
export interface RelativeMahalanobisDetectorOptions {
  /** Shrinkage α towards the isotropic covariance; default 0. */
  shrinkage: number;
  /** Inverse of the covariances; default `cholesky` (with auto-jitter), as the `mahalanobis` entry. */
  inverse: "cholesky" | "pinv";
}

/** Detector of {@linkcode relativeMahalanobis} (registry id `relativeMahalanobis`). */
export const relativeMahalanobisDetector: Detector<RelativeMahalanobisDetectorOptions, RelativeMahalanobisState> = {
  label: "Relative Mahalanobis",
  citation: "Ren, Fort, Liu, Roy, Padhy & Lakshminarayanan, 2021 (arXiv:2106.09022)",
  formula: "max_c −(D_c(f) − D₀(f)), D_c: tied-Σ class Mahalanobis, D₀: background Gaussian of all features",
  needs: ["features"],
  defaults: { shrinkage: 0, inverse: "cholesky" },
  fit: (ctx, o) => {
    const train = trainOutputs(ctx, "Relative Mahalanobis");
    return fitMatrix(
      needOutput(train, "features", "Relative Mahalanobis"),
      (t) =>
        fitRelativeMahalanobis(t, train.labels, {
          numClasses: ctx.model.numClasses,
          shrinkage: o.shrinkage,
          inverse: o.inverse,
        }),
    );
  },
  score: (set, _o, state) =>
    scoreMatrix(needOutput(set.outputs, "features", "Relative Mahalanobis"), (t) => relativeMahalanobis(state, t)),
};
