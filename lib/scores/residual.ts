/**
 * Residual — the baseline of the ViM paper (Wang, Li, Feng & Zhang, CVPR 2022): the norm of a feature's component
 * outside the principal subspace of the training features.
 * @module
 */
import { tf } from "../tf.ts";
import { type Detector, type LastLayer, needLastLayer, needOutput, trainOutputs } from "./detector.ts";
import { type Matrix, scoreMatrix } from "./matrix.ts";
import {
  classifierOrigin,
  fitPrincipalSubspace,
  type PrincipalSubspace,
  residualNorm,
  vimPrincipalDim,
} from "./vim.ts";

/** Fitted Residual state: ViM's principal subspace without α (plain data). */
export interface ResidualState extends PrincipalSubspace {
  /** Discriminates score states. */
  readonly kind: "residual";
}

/**
 * Fits the Residual score: u = −pinv(W)·b from the last layer and the residual space of the training features
 * around u, exactly as ViM ({@linkcode fitPrincipalSubspace}, D = {@linkcode vimPrincipalDim}(d) by default).
 * Keeps no tensors.
 * @param features training features [N, d].
 * @param layer the classifier's last linear layer (for the origin u).
 * @param principalDim D; default by feature width.
 * @returns the {@linkcode ResidualState}.
 * @throws as {@linkcode fitPrincipalSubspace}.
 */
export function fitResidual(features: Matrix, layer: LastLayer, principalDim?: number | null): ResidualState {
  const d = features.dim;
  if (layer.kernel.data.length !== d * layer.kernel.dim) {
    throw new Error(
      `fitResidual: the last layer takes ${layer.kernel.data.length / layer.kernel.dim}-d inputs, not ${d}`,
    );
  }
  return {
    kind: "residual",
    ...fitPrincipalSubspace(features, classifierOrigin(layer), principalDim ?? vimPrincipalDim(d)),
  };
}

/**
 * Residual score (the baseline of Wang, Li, Feng & Zhang, "ViM: Out-Of-Distribution with Virtual-logit Matching",
 * CVPR 2022). Higher = more in-distribution:
 *
 *   S(x) = −‖(h(x) − u)·R‖,  u = −pinv(W)·b,  R = basis of the residual space (all but the top-D eigenvectors of
 *   the training features' uncentred covariance around u).
 *
 * As the ViM repository's `benchmark.py` ("Residual": fitted on the training features). OpenOOD's
 * `residual_postprocessor.py` fits the subspace on its `val` loader instead, and its `residual.yml` sets
 * `dim: 512`, which for its 512-d ResNet-18 leaves an empty residual space (every score 0); this entry keeps
 * ViM's rule by width (D = ⌊d/2⌋ below 768 features). A feature in the principal subspace scores 0, the maximum.
 * @see {@link https://arxiv.org/abs/2203.10807 | Paper} · reference code haoqiwang/vim
 * @param state from {@linkcode fitResidual}.
 * @param features [M, d] penultimate features.
 * @returns [M] scores (≤ 0); the caller disposes the tensor.
 */
export function residual(state: ResidualState, features: tf.Tensor2D): tf.Tensor1D {
  if (state.kind !== "residual") throw new Error(`residual: not a Residual state (kind ${state.kind})`);
  return tf.tidy(() => tf.neg(residualNorm(state, features)) as tf.Tensor1D);
}

/** Options of the Residual detector. */
export interface ResidualDetectorOptions {
  /** Principal dimension D; `null` = ViM's rule by feature width ({@linkcode vimPrincipalDim}). */
  principalDim: number | null;
}

/** Detector of {@linkcode residual} (registry id `residual`; needs the classifier's last linear layer for u). */
export const residualDetector: Detector<ResidualDetectorOptions, ResidualState> = {
  label: "Residual",
  citation: "Wang, Li, Feng & Zhang, CVPR 2022 (arXiv:2203.10807), its Residual baseline",
  formula: "−‖(h − u)·R‖, u = −pinv(W)b, R ⟂ top-D principal subspace of the training features",
  needs: ["features"],
  defaults: { principalDim: null },
  fit: (ctx, o) =>
    fitResidual(
      needOutput(trainOutputs(ctx, "Residual"), "features", "Residual"),
      needLastLayer(ctx.model, "Residual"),
      o.principalDim,
    ),
  score: (set, _o, state) => scoreMatrix(needOutput(set.outputs, "features", "Residual"), (t) => residual(state, t)),
};
