/**
 * Unleashing Mask's tuned Mahalanobis score (`utils/mahalanobis_lib.py`, after Lee, Lee, Lee & Shin, NeurIPS 2018;
 * a paper-specific detector, registry id `umMahalanobis`): per-layer class-conditional Gaussians with a tied
 * covariance, per-layer input preprocessing, and a logistic regression over the layer scores fitted to separate ID
 * images from FGSM adversarial ones (no real OOD data), with the preprocessing magnitude chosen by the FPR95 of
 * that regression on a second half of the images.
 * @module
 */
import { tf } from "../tf.ts";
import type { Dataset } from "../datasets/types.ts";
import { headDataset, rangeDataset } from "../datasets/subset.ts";
import { tensorBatches } from "../data/tensors.ts";
import type { AugmentationName, AugmentStep } from "../data/augment.ts";
import { evaluate } from "../metrics/evaluate.ts";
import { fitMahalanobis, type MahalanobisState } from "./mahalanobis.ts";
import { mahalanobisEnsembleFromInput } from "./mahalanobis_ensemble.ts";
import { type LogisticModel, logisticRegressionCV, logit, sigmoid } from "./_logistic.ts";
import type { Detector, DetectorContext, DetectorModel } from "./detector.ts";
import { collectRows, scoreImages } from "./on_images.ts";
import { fitMatrix } from "./matrix.ts";

/** Options of the `umMahalanobis` detector (defaults: the repo's `tune_mahalanobis_hyperparams`). */
export interface UmMahalanobisOptions {
  /** Magnitudes searched, in order (the first with the lowest validation FPR95 wins). */
  magnitudes: readonly number[];
  /** m: images for the regression and m for its validation (repo: 500 each, the first 2m of the tuning set). */
  tuneSamples: number;
  /** FGSM step, [0, 1]-pixel units (repo: 0.05). */
  advNoise: number;
  /** The first `fitLimit` training images give the class means and covariance; `null` = all. */
  fitLimit: number | null;
  /** Tune on the first 2m ID test images (the repo: they stay in the evaluation) or on held-out training images. */
  tuneOn: "test" | "heldOut";
  /** Training augmentation of the statistics pass (the repo estimates from its augmented train loader), or null. */
  augment: AugmentationName | readonly AugmentStep[] | null;
  /** `probability`: −P(OOD) as the repo (`-predict_proba[:, 1]`, ties where σ saturates); `logit`: −z. */
  output: "probability" | "logit";
  /** Only the first `limit` images of each scored set (a forward and backward pass per layer); `null` = all. */
  limit: number | null;
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
 * The layers UM's Mahalanobis uses: `featureList` (Lee et al.'s per-stage pooled features, UM's `feature_list`)
 * when the network has it, else the penultimate features alone.
 */
export function umMahalanobisLayers(net: DetectorModel): (x: tf.Tensor4D) => tf.Tensor2D[] {
  const list = net.featureList?.bind(net);
  return list ? (x) => list(x) : (x) => [net.features(x)];
}

/**
 * FGSM (Goodfellow et al. 2015) as UM's tuning builds its pseudo-outliers:
 * x_adv = clip(x + η · sign(∇ₓ CE(f(x), y)), 0, 1) in [0, 1]-pixel space (zero gradient counts as +1), returned
 * normalised again. `x` is normalised with `net.normalization`.
 * @returns a new tensor [N, H, W, C].
 */
export function fgsm(net: DetectorModel, x: tf.Tensor4D, y: tf.Tensor1D, noise: number): tf.Tensor4D {
  return tf.tidy(() => {
    const { mean, std } = net.normalization;
    const ce = (xi: tf.Tensor) => {
      const logits = net.logits(xi as tf.Tensor4D);
      const onehot = tf.cast(tf.oneHot(tf.cast(y, "int32"), logits.shape[1]), "float32");
      return tf.neg(tf.mean(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)), 1))) as tf.Scalar;
    };
    const g = tf.grad(ce)(x);
    const sign = tf.where(tf.greaterEqual(g, 0), tf.onesLike(g), tf.onesLike(g).neg());
    const mu = tf.tensor1d([...mean]), sigma = tf.tensor1d([...std]);
    const adv = tf.clipByValue(tf.add(tf.add(tf.mul(x, sigma), mu), tf.mul(sign, noise)), 0, 1);
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
  net: DetectorModel,
  layers: readonly MahalanobisState[],
  x: tf.Tensor4D,
  magnitude: number,
  batchSize: number,
): number[][] {
  const all = umMahalanobisLayers(net);
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

/** Applies the regression: −P(OOD) (`probability`) or −z (`logit`), in float64; higher = more in-distribution. */
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
 * The Float32Array the detector returns, from the regression's logits z: `logit` → −z; `probability` → −logit(P)
 * with P = σ(z) rounded in float64 (as sklearn's `predict_proba`), i.e. exactly the order and the ties of the
 * repo's −P (P = 1 and P = 0 become ∓3·10³⁸). −P itself in float32 would merge every P within 6·10⁻⁸ of 1 and every
 * P below 10⁻⁴⁵ into ties the reference does not have.
 */
export function toFloat32Scores(state: Pick<UmMahalanobisState, "output">, z: Float64Array): Float32Array {
  if (state.output === "logit") return Float32Array.from(z, (v) => -v);
  return Float32Array.from(z, (v) => {
    const p = sigmoid(v);
    return -Math.max(-3e38, Math.min(3e38, Math.log(p) - Math.log1p(-p)));
  });
}

/** Per-layer class statistics of `ds` (inference mode, optionally augmented as a train loader, dataset order). */
async function layerStatistics(
  net: DetectorModel,
  ds: Dataset,
  o: { batchSize: number; augment: UmMahalanobisOptions["augment"]; seed: number },
): Promise<MahalanobisState[]> {
  const layers = await collectRows(
    ds,
    { batchSize: o.batchSize, normalization: net.normalization, augment: o.augment ?? undefined, seed: o.seed },
    umMahalanobisLayers(net),
  );
  return layers.map((m) => fitMatrix(m, (t) => fitMahalanobis(t, ds.labels, { numClasses: net.numClasses })));
}

/**
 * Fits UM's Mahalanobis (`tune_mahalanobis_hyperparams`): class means and the tied covariance per layer from the
 * first `fitLimit` training images (`sample_estimator`); the first m tuning images and their FGSM versions train a
 * `LogisticRegressionCV` on the layer scores (ID = 0, adversarial = 1), the next m and theirs validate it; for each
 * magnitude in order the one with the lowest validation FPR95 (strictly lower than the best so far) is kept.
 * @see {@link https://arxiv.org/abs/1807.03888 | Lee et al.} · adapted from ZFancy/Unleashing-Mask
 *   `utils/mahalanobis_lib.py`
 */
export async function fitUmMahalanobis(ctx: DetectorContext, o: UmMahalanobisOptions): Promise<UmMahalanobisState> {
  const net = ctx.model, batchSize = ctx.batchSize;
  const fitDs = headDataset(ctx.train.ds, o.fitLimit ?? undefined);
  const layers = await layerStatistics(net, fitDs, { batchSize, augment: o.augment, seed: ctx.seed });
  const tune = o.tuneOn === "test" ? ctx.test.ds : ctx.heldOut;
  if (!tune) throw new Error('umMahalanobis: tuneOn is "heldOut" but the pass has no held-out images');
  const m = Math.min(o.tuneSamples, Math.floor(tune.shape[0] / 2));
  if (m < 2) throw new Error(`umMahalanobis: the tuning set has ${tune.shape[0]} images; need at least 4`);
  const sets = [rangeDataset(tune, 0, m), rangeDataset(tune, m, 2 * m)].map((ds) => {
    const b = tensorBatches(ds, { batchSize: ds.shape[0], normalization: net.normalization }).next().value!;
    const adv = fgsm(net, b.x, b.y, o.advNoise);
    b.y.dispose();
    return { x: b.x, adv };
  });
  try {
    let best: UmMahalanobisState | null = null, bestFpr = Infinity;
    const search: { magnitude: number; fpr95: number }[] = [];
    for (const magnitude of o.magnitudes) {
      const rows = (t: tf.Tensor4D) => layerScores(net, layers, t, magnitude, batchSize);
      const trainX = [...rows(sets[0]!.x), ...rows(sets[0]!.adv)];
      const regression = logisticRegressionCV(trainX, [...Array(m).fill(0), ...Array(m).fill(1)]);
      const candidate = { layers, regression, magnitude, search, output: o.output };
      const { fpr95 } = evaluate(
        combineLayers(candidate, rows(sets[1]!.x)),
        combineLayers(candidate, rows(sets[1]!.adv)),
        { fprRule: "hendrycks" },
      );
      search.push({ magnitude, fpr95 });
      if (!best || fpr95 < bestFpr) [best, bestFpr] = [candidate, fpr95];
    }
    return best!;
  } finally {
    for (const s of sets) tf.dispose([s.x, s.adv]);
  }
}

/**
 * Detector of UM's tuned Mahalanobis (registry id `umMahalanobis`):
 * S(x) = −σ(b + Σ_ℓ w_ℓ s_ℓ(x)) (`probability`, returned through {@linkcode toFloat32Scores}) or
 * −(b + Σ_ℓ w_ℓ s_ℓ(x)) (`logit`), s_ℓ from {@linkcode layerScores} at the fitted magnitude, on the first `limit`
 * images of each set.
 */
export const umMahalanobisDetector: Detector<UmMahalanobisOptions, UmMahalanobisState> = {
  label: "Mahalanobis (UM: tuned on FGSM images)",
  citation: "Lee et al., NeurIPS 2018 (arXiv:1807.03888), as Zhu et al., ICML 2023 `utils/mahalanobis_lib.py`",
  formula: "−σ(b + Σ_ℓ w_ℓ · max_c −½ D_ℓc(x̃_ℓ)), (w, b) from ID vs FGSM images",
  paper: "unleashing_mask",
  needs: ["input"],
  defaults: {
    magnitudes: [0, 0.01, 0.005, 0.002, 0.0014, 0.001, 0.0005],
    tuneSamples: 500,
    advNoise: 0.05,
    fitLimit: null,
    tuneOn: "test",
    augment: null,
    output: "probability",
    limit: null,
  },
  fit: fitUmMahalanobis,
  score: (set, o, state, ctx) =>
    scoreImages(
      set.ds,
      { normalization: ctx.model.normalization, batchSize: ctx.batchSize, limit: o.limit },
      (x) =>
        tf.tensor1d(
          toFloat32Scores(
            state,
            Float64Array.from(
              layerScores(ctx.model, state.layers, x, state.magnitude, ctx.batchSize),
              (r) => logit(state.regression, r),
            ),
          ),
        ),
    ),
};
