/**
 * Unleashing Mask's Mahalanobis score (`utils/mahalanobis_lib.py`, after Lee, Lee, Lee & Shin, NeurIPS 2018):
 * per-layer class-conditional Gaussians with a tied covariance, per-layer input preprocessing, and a logistic
 * regression over the layer scores fitted to separate ID images from FGSM adversarial ones (no real OOD data),
 * with the preprocessing magnitude chosen by the FPR95 of that regression on a second half of the images.
 * @module
 */
import { tf } from "../../tf.ts";
import type { Backbone } from "../../backbones/mod.ts";
import type { Dataset } from "../../datasets/mod.ts";
import { tensorBatches } from "../../data/tensors.ts";
import type { AugmentationName, AugmentStep } from "../../data/augment.ts";
import { evaluate } from "../../metrics/mod.ts";
import { fitMahalanobis, mahalanobisEnsembleFromInput, type MahalanobisState } from "../../scores/mod.ts";
import { crossEntropy } from "./loss.ts";
import { headDataset, rangeDataset } from "../../datasets/subset.ts";
import { mahalanobisLayers, mapRows, matrixTensor } from "./outputs.ts";
import { type LogisticModel, logisticRegressionCV, logit, sigmoid } from "./logistic.ts";
import { concatTyped } from "../../io/bytes.ts";

/** Options of {@linkcode fitUmMahalanobis}. */
export interface UmMahalanobisOptions {
  /** Magnitudes searched, in order (the first with the lowest validation FPR95 wins). */
  magnitudes: readonly number[];
  /** m: images for the regression and m for its validation (repo: 500 each, the first 2m of the tuning set). */
  tuneSamples: number;
  /** FGSM step, [0, 1]-pixel units (repo: 0.05). */
  advNoise: number;
  /** Images per pass. */
  batchSize: number;
  /** `probability`: −P(OOD) as the repo (`-predict_proba[:, 1]`, ties where σ saturates); `logit`: −z. */
  output: "probability" | "logit";
}

/** Where the class statistics come from. */
export interface MahalanobisFitSet {
  ds: Dataset;
  /** First `limit` images; default all. */
  limit?: number;
  /** Training augmentation (the repo estimates from its train loader, augmented). */
  augment?: AugmentationName | readonly AugmentStep[];
  seed?: number;
}

/** The fitted score: per-layer Gaussians, the regression, the chosen magnitude and the search. */
export interface UmMahalanobisState {
  layers: MahalanobisState[];
  regression: LogisticModel;
  magnitude: number;
  /** Validation FPR95 (Hendrycks rule, ID vs FGSM images) per magnitude tried. */
  search: { magnitude: number; fpr95: number }[];
  output: "probability" | "logit";
}

/**
 * FGSM (Goodfellow et al. 2015) as UM's tuning builds its pseudo-outliers:
 * x_adv = clip(x + η · sign(∇ₓ CE(f(x), y)), 0, 1) in [0, 1]-pixel space (zero gradient counts as +1), returned
 * normalised again. `x` is normalised with `net.normalization`.
 * @returns a new tensor [N, H, W, C].
 */
export function fgsm(net: Backbone, x: tf.Tensor4D, y: tf.Tensor1D, noise: number): tf.Tensor4D {
  return tf.tidy(() => {
    const { mean, std } = net.normalization;
    const g = tf.grad((xi: tf.Tensor) => crossEntropy(net.logits(xi as tf.Tensor4D), y))(x);
    const sign = tf.where(tf.greaterEqual(g, 0), tf.onesLike(g), tf.onesLike(g).neg());
    const mu = tf.tensor1d([...mean]), sigma = tf.tensor1d([...std]);
    const pixels = tf.add(tf.mul(x, sigma), mu);
    const adv = tf.clipByValue(tf.add(pixels, tf.mul(sign, noise)), 0, 1);
    return tf.div(tf.sub(adv, mu), sigma) as tf.Tensor4D;
  });
}

/**
 * Lee's per-layer scores of normalised images after input preprocessing at `magnitude`:
 * s_ℓ(x) = max_c −½ (f_ℓ(x̃_ℓ) − μ_ℓc)ᵀ Σ_ℓ⁻¹ (f_ℓ(x̃_ℓ) − μ_ℓc), x̃_ℓ = x − ε·sign(∇ₓ D_ℓĉ(x)) in pixel units
 * (`get_Mahalanobis_score`; the step divided by the std on normalised inputs = UM's step on [0, 1] inputs).
 * @returns rows [N][L].
 */
export function layerScores(
  net: Backbone,
  layers: readonly MahalanobisState[],
  x: tf.Tensor4D,
  magnitude: number,
  batchSize: number,
): number[][] {
  const all = mahalanobisLayers(net);
  const cols = layers.map((layer, l) => {
    const state = { kind: "mahalanobisEnsemble" as const, layers: [layer], weights: [0.5] };
    const model = { featureList: (xi: tf.Tensor4D) => [all(xi)[l]!], normalization: net.normalization };
    const s = mahalanobisEnsembleFromInput(state, model, x, { noiseMagnitude: magnitude, batchSize });
    const v = s.dataSync();
    s.dispose();
    return v;
  });
  return Array.from({ length: x.shape[0] }, (_, i) => cols.map((c) => c[i]!));
}

/** A labelled dataset's first `n` images as one normalised tensor and its labels. */
function asTensors(net: Backbone, ds: Dataset): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const it = tensorBatches(ds, { batchSize: Math.max(1, ds.shape[0]), normalization: net.normalization });
  const b = it.next();
  if (b.done) throw new Error(`fitUmMahalanobis: empty tuning set ${ds.name}`);
  return { x: b.value.x, y: b.value.y };
}

/** Applies the regression: −P(OOD) (`probability`) or −z (`logit`); higher = more in-distribution. */
export function combineLayers(
  state: Pick<UmMahalanobisState, "regression" | "output">,
  rows: number[][],
): Float64Array {
  return Float64Array.from(rows, (r) => {
    const z = logit(state.regression, r);
    return state.output === "probability" ? -sigmoid(z) : -z;
  });
}

/**
 * Fits UM's Mahalanobis (`tune_mahalanobis_hyperparams`): class means and the tied covariance per layer from
 * `fit` (`sample_estimator`); the first m tuning images and their FGSM versions train a
 * `LogisticRegressionCV` on the layer scores (ID = 0, adversarial = 1), the next m and theirs validate it; for each
 * magnitude in order the one with the lowest validation FPR95 (strictly lower than the best so far) is kept.
 * The layers are the backbone's `featureList` (UM's `feature_list`) or, without it, the penultimate features.
 * @see {@link https://arxiv.org/abs/1807.03888 | Lee et al.} · adapted from ZFancy/Unleashing-Mask
 *   `utils/mahalanobis_lib.py`
 */
export async function fitUmMahalanobis(
  net: Backbone,
  fit: MahalanobisFitSet,
  tune: Dataset,
  opts: UmMahalanobisOptions,
): Promise<UmMahalanobisState> {
  const { outputs, labels } = await mapRows(fit.ds, net.normalization, mahalanobisLayers(net), {
    batchSize: opts.batchSize,
    limit: fit.limit,
    augment: fit.augment,
    seed: fit.seed,
  });
  const layers = outputs.map((m) => {
    const t = matrixTensor(m);
    try {
      return fitMahalanobis(t, labels, { numClasses: net.numClasses });
    } finally {
      t.dispose();
    }
  });
  const m = Math.min(opts.tuneSamples, Math.floor(tune.shape[0] / 2));
  if (m < 2) throw new Error(`fitUmMahalanobis: the tuning set has ${tune.shape[0]} images; need at least 4`);
  const halves = [rangeDataset(tune, 0, m), rangeDataset(tune, m, 2 * m)];
  const sets = halves.map((ds) => {
    const { x, y } = asTensors(net, ds);
    const adv = fgsm(net, x, y, opts.advNoise);
    y.dispose();
    return { x, adv };
  });
  try {
    let best: UmMahalanobisState | null = null, bestFpr = Infinity;
    const search: { magnitude: number; fpr95: number }[] = [];
    for (const magnitude of opts.magnitudes) {
      const rows = (t: tf.Tensor4D) => layerScores(net, layers, t, magnitude, opts.batchSize);
      const trainX = [...rows(sets[0]!.x), ...rows(sets[0]!.adv)];
      const trainY = [...Array(m).fill(0), ...Array(m).fill(1)];
      const regression = logisticRegressionCV(trainX, trainY);
      const candidate = { layers, regression, magnitude, search, output: opts.output };
      const fpr95 = evaluate(
        combineLayers(candidate, rows(sets[1]!.x)),
        combineLayers(candidate, rows(sets[1]!.adv)),
        { fprRule: "hendrycks" },
      ).fpr95;
      search.push({ magnitude, fpr95 });
      if (!best || fpr95 < bestFpr) [best, bestFpr] = [candidate, fpr95];
    }
    return best!;
  } finally {
    for (const s of sets) tf.dispose([s.x, s.adv]);
  }
}

/**
 * UM's Mahalanobis score of a dataset's first `limit` images (higher = more in-distribution):
 * S(x) = −σ(b + Σ_ℓ w_ℓ s_ℓ(x)) (`probability`) or −(b + Σ_ℓ w_ℓ s_ℓ(x)) (`logit`), s_ℓ from {@linkcode layerScores}
 * at the fitted magnitude.
 */
export function umMahalanobisScores(
  state: UmMahalanobisState,
  net: Backbone,
  ds: Dataset,
  opts: { batchSize: number; limit?: number },
): Float64Array {
  const parts: Float64Array[] = [];
  for (
    const b of tensorBatches(headDataset(ds, opts.limit), {
      batchSize: opts.batchSize,
      normalization: net.normalization,
    })
  ) {
    try {
      parts.push(combineLayers(state, layerScores(net, state.layers, b.x, state.magnitude, opts.batchSize)));
    } finally {
      tf.dispose([b.x, b.y]);
    }
  }
  return concatTyped(parts, (n) => new Float64Array(n));
}
