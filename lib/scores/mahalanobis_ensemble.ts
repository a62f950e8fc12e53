/**
 * Multi-layer Mahalanobis ensemble with optional input preprocessing (Lee, Lee, Lee, Shin, NeurIPS 2018).
 * @module
 */
import { tf } from "../tf.ts";
import { check2d, check4d, checkPositiveInt, mapBatches, signDivisor, signStep } from "./_util.ts";
import {
  checkMahalanobisState,
  classDistances,
  fitMahalanobis,
  type MahalanobisFitOptions,
  type MahalanobisState,
} from "./mahalanobis.ts";
import type { FeatureListModel, Labels, Normalization } from "./types.ts";
import { type Detector, needOutput, trainOutputs } from "./detector.ts";
import { fitMatrices, scoreMatrices } from "./matrix.ts";

/** Options of {@linkcode fitMahalanobisEnsemble}: the per-layer fit options plus the layer weights. */
export interface MahalanobisEnsembleFitOptions extends MahalanobisFitOptions {
  /**
   * Layer weights w_ℓ (one per layer, finite). Lee et al. fit them by logistic regression on validation
   * samples (in-distribution vs. adversarial or OOD); pass such coefficients here (a regression on Lee's −½·D
   * layer scores becomes w_ℓ / 2 on these −D scores; the intercept and the sigmoid do not change rankings).
   * @default 1/L for every layer (the unweighted mean; needs no OOD data)
   */
  weights?: readonly number[];
}

/** Fitted state: one {@linkcode MahalanobisState} per layer and the weights (plain JSON-serialisable data). */
export interface MahalanobisEnsembleState {
  /** Discriminates score states. */
  readonly kind: "mahalanobisEnsemble";
  /** One fitted state per layer, in `featureList` order. */
  readonly layers: MahalanobisState[];
  /** Layer weights w_ℓ (edit them to plug in regression coefficients; the length must stay L). */
  readonly weights: number[];
}

/**
 * Fits a tied-covariance Gaussian model per layer (see `fitMahalanobis`) for the feature ensemble of Lee et al.
 * 2018 (features of every block, spatially average-pooled, e.g. `Backbone.featureList`).
 * @see {@link https://arxiv.org/abs/1807.03888 | Paper}
 * @param featureList per-layer training features, each [N, d_ℓ], same rows in the same order.
 * @param labels N integer labels.
 * @returns the fitted {@linkcode MahalanobisEnsembleState}; no tensors are kept.
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * const layer0 = tf.tensor2d([[-1, 0], [1, 0], [4, -1], [4, 1]]);
 * const layer1 = tf.tensor2d([[-2, 0], [2, 0], [4, -1], [4, 1]]);
 * const state = fitMahalanobisEnsemble([layer0, layer1], [0, 0, 1, 1]); // weights [0.5, 0.5]
 * ```
 */
export function fitMahalanobisEnsemble(
  featureList: readonly tf.Tensor2D[],
  labels: Labels,
  opts: MahalanobisEnsembleFitOptions = {},
): MahalanobisEnsembleState {
  if (featureList.length === 0) throw new Error("fitMahalanobisEnsemble: featureList is empty");
  const n = featureList[0]!.shape[0];
  featureList.forEach((f, l) => {
    check2d(f, `featureList[${l}]`, "fitMahalanobisEnsemble");
    if (f.shape[0] !== n) {
      throw new Error(`fitMahalanobisEnsemble: featureList[${l}] has ${f.shape[0]} rows, layer 0 has ${n}`);
    }
  });
  const { weights, ...fitOpts } = opts;
  const w = checkWeights(weights ?? featureList.map(() => 1 / featureList.length), featureList.length);
  return {
    kind: "mahalanobisEnsemble",
    layers: featureList.map((f) => fitMahalanobis(f, labels, fitOpts)),
    weights: w,
  };
}

function checkWeights(w: readonly number[], layers: number): number[] {
  if (w.length !== layers) throw new Error(`mahalanobisEnsemble: ${w.length} weights for ${layers} layers`);
  if (!w.every(Number.isFinite)) throw new Error("mahalanobisEnsemble: weights must be finite numbers");
  return [...w];
}

function checkEnsemble(state: MahalanobisEnsembleState, where: string): void {
  if (state.kind !== "mahalanobisEnsemble") throw new Error(`${where}: not a Mahalanobis ensemble state`);
  checkWeights(state.weights, state.layers.length);
}

/**
 * Multi-layer Mahalanobis ensemble without input preprocessing (Lee et al. 2018). Higher = more in-distribution.
 *
 *   s_ℓ(x) = max_c −(f_ℓ(x) − μ_ℓc)ᵀ Σ_ℓ⁻¹ (f_ℓ(x) − μ_ℓc),   S(x) = Σ_ℓ w_ℓ · s_ℓ(x)   (w_ℓ = 1/L by default).
 * @see {@link https://arxiv.org/abs/1807.03888 | Paper}
 * @param state from {@linkcode fitMahalanobisEnsemble}.
 * @param featureList per-layer test features, each [M, d_ℓ].
 * @returns [M] scores; the caller disposes the tensor.
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * const train = [tf.tensor2d([[-1, 0], [1, 0], [4, -1], [4, 1]]), tf.tensor2d([[-2, 0], [2, 0], [4, -1], [4, 1]])];
 * const state = fitMahalanobisEnsemble(train, [0, 0, 1, 1]);
 * const s = mahalanobisEnsemble(state, [tf.tensor2d([[1, 0]]), tf.tensor2d([[1, 1]])]); // [(−2 − 2.5)/2 = −2.25]
 * ```
 */
export function mahalanobisEnsemble(state: MahalanobisEnsembleState, featureList: readonly tf.Tensor2D[]): tf.Tensor1D {
  checkEnsemble(state, "mahalanobisEnsemble");
  if (featureList.length !== state.layers.length) {
    throw new Error(
      `mahalanobisEnsemble: ${featureList.length} feature layers for a ${state.layers.length}-layer state`,
    );
  }
  featureList.forEach((f, l) => {
    const [, d] = check2d(f, `featureList[${l}]`, "mahalanobisEnsemble");
    checkMahalanobisState(state.layers[l]!, d, `mahalanobisEnsemble (layer ${l})`);
  });
  return tf.tidy(() => weightedSum(state, (l) => layerScore(state.layers[l]!, featureList[l]!)));
}

function layerScore(layer: MahalanobisState, f: tf.Tensor2D): tf.Tensor1D {
  return tf.neg(tf.min(classDistances(layer, f), 1)) as tf.Tensor1D;
}

function weightedSum(state: MahalanobisEnsembleState, score: (l: number) => tf.Tensor1D): tf.Tensor1D {
  let total: tf.Tensor1D | null = null;
  for (let l = 0; l < state.layers.length; l++) {
    const term = tf.mul(score(l), state.weights[l]!) as tf.Tensor1D;
    total = total ? tf.add(total, term) as tf.Tensor1D : term;
  }
  return total!;
}

/** Options of {@linkcode mahalanobisEnsembleFromInput}. */
export interface MahalanobisInputOptions {
  /**
   * Input-preprocessing magnitude ε (Lee et al. tune it on validation data over
   * {0, 0.0005, 0.001, 0.0014, 0.002, 0.005, 0.01, 0.05, 0.1, 0.2}); 0 skips the gradient.
   * @default 0
   */
  noiseMagnitude?: number;
  /**
   * Divide the sign gradient by the per-channel normalisation std (Lee's code does, like ODIN's: a step of ε in
   * [0, 1]-pixel units on normalised inputs). See `OdinOptions.divideBySignStd`.
   * @default true
   */
  divideBySignStd?: boolean;
  /** Overrides `model.normalization` (only `std` is used). */
  normalization?: Normalization;
  /** Rows per pass; @default 64 */
  batchSize?: number;
}

/**
 * Multi-layer Mahalanobis ensemble **with input preprocessing** (Lee et al. 2018, Alg. 1). Higher = more
 * in-distribution. For each layer ℓ separately:
 *
 *   ĉ = argmin_c D_ℓc(x),  x̃_ℓ = x − ε · sign(∇ₓ D_ℓĉ(x)) / σ   (σ = per-channel std when `divideBySignStd`),
 *   s_ℓ(x) = max_c −D_ℓc(x̃_ℓ),   S(x) = Σ_ℓ w_ℓ · s_ℓ(x),
 *
 * with D_ℓc(x) = (f_ℓ(x) − μ_ℓc)ᵀ Σ_ℓ⁻¹ (f_ℓ(x) − μ_ℓc) and a zero gradient counted as +1. `x` is the
 * normalised input the model expects; `model.featureList(x)` must return the layers in the order they were
 * fitted. Costs one forward + backward pass per layer per batch (one forward pass in total when ε = 0).
 * @see {@link https://arxiv.org/abs/1807.03888 | Paper} · reference code pokaxpoka/deep_Mahalanobis_detector
 * @param state from {@linkcode fitMahalanobisEnsemble}.
 * @param model anything with `featureList(x)` (and `normalization.std` for the std division).
 * @param x normalised inputs [N, H, W, C].
 * @returns [N] scores; the caller disposes the tensor.
 * @throws when the model has no `featureList`, or `divideBySignStd` is on without `normalization.std`.
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * // A one-layer "network" on inputs [N, 1, 1, 2]: the features are the two input values.
 * const model = {
 *   featureList: (x: tf.Tensor4D) => [tf.reshape(x, [x.shape[0], 2]) as tf.Tensor2D],
 *   normalization: { mean: [0, 0], std: [0.5, 0.25] },
 * };
 * const state = fitMahalanobisEnsemble([tf.tensor2d([[-2, 0], [2, 0], [4, -1], [4, 1]])], [0, 0, 1, 1]);
 * const x = tf.tensor4d([1, 1], [1, 1, 1, 2]);
 * const s = mahalanobisEnsembleFromInput(state, model, x, { noiseMagnitude: 0.1 }); // [−1.04]
 * ```
 */
export function mahalanobisEnsembleFromInput(
  state: MahalanobisEnsembleState,
  model: FeatureListModel,
  x: tf.Tensor4D,
  opts: MahalanobisInputOptions = {},
): tf.Tensor1D {
  checkEnsemble(state, "mahalanobisEnsembleFromInput");
  check4d(x, "mahalanobisEnsembleFromInput");
  const featureList = model.featureList?.bind(model);
  if (!featureList) throw new Error("mahalanobisEnsembleFromInput: the model has no featureList(x)");
  const eps = opts.noiseMagnitude ?? 0;
  if (!(eps >= 0) || !Number.isFinite(eps)) {
    throw new Error(`mahalanobisEnsembleFromInput: noiseMagnitude must be a finite number ≥ 0, got ${eps}`);
  }
  const batchSize = opts.batchSize ?? 64;
  checkPositiveInt(batchSize, "batchSize", "mahalanobisEnsembleFromInput");
  const divisor = eps > 0
    ? signDivisor(
      opts.normalization ?? model.normalization,
      opts.divideBySignStd ?? true,
      x.shape[3],
      "mahalanobisEnsembleFromInput",
    )
    : null;
  const layers = state.layers.length;
  const features = (xb: tf.Tensor4D): tf.Tensor2D[] => {
    const fs = featureList(xb);
    if (fs.length !== layers) {
      throw new Error(
        `mahalanobisEnsembleFromInput: featureList returned ${fs.length} layers, the state has ${layers}`,
      );
    }
    fs.forEach((f, l) =>
      checkMahalanobisState(state.layers[l]!, f.shape[1], `mahalanobisEnsembleFromInput (layer ${l})`)
    );
    return fs;
  };

  return mapBatches(x, batchSize, (xb) => {
    if (eps === 0) {
      const fs = features(xb);
      return weightedSum(state, (l) => layerScore(state.layers[l]!, fs[l]!));
    }
    return weightedSum(state, (l) => {
      const layer = state.layers[l]!;
      // Σ_i min_c D_ℓc(x_i): the gradient of a row's minimum flows to its closest class only.
      const loss = (xi: tf.Tensor) =>
        tf.sum(tf.min(classDistances(layer, features(xi as tf.Tensor4D)[l]!), 1)) as tf.Scalar;
      const xt = signStep(xb, tf.grad(loss)(xb) as tf.Tensor4D, eps, divisor);
      return layerScore(layer, features(xt)[l]!);
    });
  });
}

/** Detector of {@linkcode mahalanobisEnsemble} (registry id `mahalanobisEnsemble`; unweighted mean, no preprocessing). */
export const mahalanobisEnsembleDetector: Detector<{ shrinkage: number }, MahalanobisEnsembleState> = {
  label: "Mahalanobis (ensemble)",
  citation: "Lee, Lee, Lee & Shin, NeurIPS 2018 (arXiv:1807.03888)",
  formula: "Σ_ℓ w_ℓ · max_c −(f_ℓ − μ_ℓc)ᵀ Σ_ℓ⁻¹ (f_ℓ − μ_ℓc), w_ℓ = 1/L",
  needs: ["featureList"],
  defaults: { shrinkage: 0 },
  fit: (ctx, o) =>
    fitMatrices(
      needOutput(trainOutputs(ctx, "Mahalanobis (ensemble)"), "featureList", "Mahalanobis (ensemble)"),
      (ts) =>
        fitMahalanobisEnsemble(ts, trainOutputs(ctx, "Mahalanobis (ensemble)").labels, {
          numClasses: ctx.model.numClasses,
          ...o,
        }),
    ),
  score: (set, _o, state) =>
    scoreMatrices(
      needOutput(set.outputs, "featureList", "Mahalanobis (ensemble)"),
      (ts) => mahalanobisEnsemble(state, ts),
    ),
};
