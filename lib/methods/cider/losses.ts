/**
 * The losses of the CIDER notebook: CIDER's dispersion and compactness losses (Ming, Sun, Dia, Li, ICLR 2023,
 * Eqs. 4–6) with the temperature factors of the reference code, their sum with the sequential-EMA prototypes,
 * and the SupCon loss of the SSD+/KNN+ baseline (Khosla et al., NeurIPS 2020). Every function returns one new
 * scalar from inside `tf.tidy` (conventions C12).
 *
 * Temperature factors (deeplearning-wisc/cider `utils/losses.py`, `train_cider.py`; papers.md §6a):
 * `DisLoss(temperature=τ)` keeps its default base temperature 0.1, `CompLoss(temperature=τ)` and
 * `SupConLoss(temperature=τ)` keep SupCon's default 0.07. With τ = 0.1 the compactness and SupCon losses are
 * therefore scaled by τ/0.07 ≈ 1.4286, the dispersion loss by 1.
 * @module
 */
import { tf } from "../../tf.ts";
import { l2Normalize } from "../../layers/l2_normalize.ts";
import { sequentialEma } from "./prototypes.ts";

/** τ and the base temperature τ_b of a loss; the loss is multiplied by τ/τ_b. */
export interface TemperatureOptions {
  /** τ (CIDER `--temp`, 0.1). */
  temperature: number;
  /** τ_b (0.1 for dispersion, 0.07 for compactness and SupCon in the reference code). */
  baseTemperature: number;
}

function checkTemperatures(o: TemperatureOptions, where: string): void {
  if (!(o.temperature > 0) || !(o.baseTemperature > 0)) {
    throw new Error(
      `${where}: temperature and baseTemperature must be > 0, got ${o.temperature}, ${o.baseTemperature}`,
    );
  }
}

function labelTensor(labels: ArrayLike<number> | tf.Tensor1D): tf.Tensor1D {
  return labels instanceof tf.Tensor ? tf.cast(labels, "int32") : tf.tensor1d(Int32Array.from(labels), "int32");
}

/**
 * CIDER's dispersion loss over the class prototypes (Ming et al. 2023, Eq. 5; reference `DisLoss`):
 *
 *   L_dis = (τ/τ_b) · (1/C) Σ_i log[ (1/(C−1)) Σ_{j≠i} exp(μ_iᵀμ_j / τ) ].
 *
 * Gradients flow into both μ_i and μ_j (the reference computes μ·μᵀ on the tracked prototype tensor).
 * @see {@link https://arxiv.org/abs/2203.04450 | Paper} · deeplearning-wisc/cider `utils/losses.py`
 * @param prototypes [C, d] unit prototypes, C ≥ 2.
 * @param opts τ and τ_b (reference: 0.1 and 0.1).
 * @returns Scalar loss.
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * dispersionLoss(tf.tensor2d([[1, 0], [0, 1]]), { temperature: 0.1, baseTemperature: 0.1 }); // log(exp(0)) = 0
 * ```
 */
export function dispersionLoss(prototypes: tf.Tensor2D, opts: TemperatureOptions): tf.Scalar {
  checkTemperatures(opts, "dispersionLoss");
  const c = prototypes.shape[0];
  if (c < 2) throw new Error(`dispersionLoss: needs at least 2 classes, got ${c}`);
  return tf.tidy(() => {
    const logits = tf.div(tf.matMul(prototypes, prototypes, false, true), opts.temperature);
    const offDiagonal = tf.sub(1, tf.eye(c));
    const meanExp = tf.div(tf.sum(tf.mul(offDiagonal, tf.exp(logits)), 1), c - 1);
    return tf.mul(tf.mean(tf.log(meanExp)), opts.temperature / opts.baseTemperature) as tf.Scalar;
  });
}

/**
 * CIDER's compactness loss, the vMF likelihood normalised over the prototypes (Ming et al. 2023, Eq. 6;
 * reference `CompLoss`):
 *
 *   L_comp = −(τ/τ_b) · (1/N) Σ_n log[ exp(z_nᵀμ_{y_n} / τ) / Σ_c exp(z_nᵀμ_c / τ) ].
 *
 * The prototypes are L2-normalised first (as the reference does) and treated as constants: pass the detached,
 * already-updated prototypes of the batch.
 * @see {@link https://arxiv.org/abs/2203.04450 | Paper} · deeplearning-wisc/cider `utils/losses.py`
 * @param z [N, d] L2-normalised embeddings.
 * @param prototypes [C, d] prototypes (constants).
 * @param labels N class indices.
 * @param opts τ and τ_b (reference: 0.1 and 0.07).
 * @returns Scalar loss.
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * compactnessLoss(tf.tensor2d([[1, 0]]), tf.tensor2d([[1, 0], [0, 1]]), [0], { temperature: 1, baseTemperature: 1 });
 * // −log(e / (e + 1)) = 0.3133
 * ```
 */
export function compactnessLoss(
  z: tf.Tensor2D,
  prototypes: tf.Tensor2D,
  labels: ArrayLike<number> | tf.Tensor1D,
  opts: TemperatureOptions,
): tf.Scalar {
  checkTemperatures(opts, "compactnessLoss");
  return tf.tidy(() => {
    const mu = l2Normalize(prototypes, -1);
    const logits = tf.div(tf.matMul(z, mu, false, true), opts.temperature);
    const logProb = tf.logSoftmax(logits, 1);
    const mask = tf.oneHot(labelTensor(labels), prototypes.shape[0]);
    const positive = tf.sum(tf.mul(mask, logProb), 1);
    return tf.mul(tf.mean(positive), -opts.temperature / opts.baseTemperature) as tf.Scalar;
  });
}

/**
 * Supervised contrastive loss (Khosla et al., NeurIPS 2020, Eq. 2, "L_out"), `contrast_mode="all"`, as in the
 * reference `SupConLoss` used by CIDER's repository for its SupCon baseline (SSD+ / KNN+ training):
 *
 *   L = −(τ/τ_b) · (1/2B) Σ_i (1/|P(i)|) Σ_{p∈P(i)} log[ exp(z_iᵀz_p/τ) / Σ_{a≠i} exp(z_iᵀz_a/τ) ],
 *
 * over the 2B embeddings of a two-view batch; P(i) = the other embeddings with the label of i.
 * @see {@link https://arxiv.org/abs/2004.11362 | Paper} · HobbitLong/SupContrast `losses.py`
 * @param z [2B, d] L2-normalised embeddings.
 * @param labels 2B labels (each anchor needs at least one positive, e.g. its other view).
 * @param opts τ and τ_b (CIDER's repo: 0.1 and 0.07).
 * @returns Scalar loss.
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * supConLoss(tf.tensor2d([[1, 0], [1, 0]]), [0, 0], { temperature: 1, baseTemperature: 1 }); // −log 1 = 0
 * ```
 */
export function supConLoss(
  z: tf.Tensor2D,
  labels: ArrayLike<number> | tf.Tensor1D,
  opts: TemperatureOptions,
): tf.Scalar {
  checkTemperatures(opts, "supConLoss");
  const n = z.shape[0];
  return tf.tidy(() => {
    const y = labelTensor(labels);
    const notSelf = tf.sub(1, tf.eye(n));
    const positives = tf.mul(tf.cast(tf.equal(tf.expandDims(y, 1), tf.expandDims(y, 0)), "float32"), notSelf);
    const logits = tf.div(tf.matMul(z, z, false, true), opts.temperature);
    // Stable log Σ_{a≠i} exp(logit_ia): the diagonal is pushed to −∞ before the logsumexp.
    const masked = tf.add(logits, tf.mul(tf.eye(n), -1e9));
    const logProb = tf.sub(logits, tf.logSumExp(masked, 1, true));
    const count = tf.sum(positives, 1);
    const meanLogProbPos = tf.div(tf.sum(tf.mul(positives, logProb), 1), count);
    return tf.mul(tf.mean(meanLogProbPos), -opts.temperature / opts.baseTemperature) as tf.Scalar;
  });
}

/** Options of {@linkcode ciderLoss}. */
export interface CiderLossOptions {
  /** Prototype momentum α. */
  momentum: number;
  /** Weight w of the compactness loss (CIFAR-10 2, CIFAR-100 1). */
  compactnessWeight: number;
  /** τ (0.1). */
  temperature: number;
  /** τ_b of the dispersion loss (reference 0.1). */
  dispersionBaseTemperature: number;
  /** τ_b of the compactness loss (reference 0.07, SupCon's default). */
  compactnessBaseTemperature: number;
}

/** The three scalars of one CIDER step and the prototypes after it. */
export interface CiderLossTerms {
  /** w·L_comp + L_dis. */
  loss: tf.Scalar;
  /** L_comp. */
  compactness: tf.Scalar;
  /** L_dis. */
  dispersion: tf.Scalar;
  /** The updated prototypes, C·d (plain data: the state for the next batch, detached). */
  prototypes: Float32Array;
}

/**
 * One CIDER training objective, in the reference order (`train_cider.py`): (i) update the prototypes with the
 * batch by the sequential EMA ({@linkcode sequentialEma}, gradient kept), (ii) dispersion loss on the updated
 * prototypes, (iii) compactness loss of the batch against the updated prototypes, detached, (iv)
 * L = w·L_comp + L_dis.
 * @see {@link https://arxiv.org/abs/2203.04450 | Paper}, Eq. 7 · deeplearning-wisc/cider `train_cider.py`
 * @param z [2B, d] L2-normalised embeddings (first views, then second views).
 * @param labels 2B class indices.
 * @param prototypes C·d prototypes entering the batch (row-major), with C and d.
 * @returns The loss terms and the new prototypes; the caller disposes the three scalars.
 */
export function ciderLoss(
  z: tf.Tensor2D,
  labels: ArrayLike<number>,
  prototypes: { values: Float32Array; numClasses: number; dim: number },
  opts: CiderLossOptions,
): CiderLossTerms {
  let updated = new Float32Array(0);
  const terms = tf.tidy(() => {
    const start = tf.tensor2d(prototypes.values, [prototypes.numClasses, prototypes.dim]);
    const mu = sequentialEma(start, z, labels, { momentum: opts.momentum });
    updated = Float32Array.from(mu.dataSync());
    const dispersion = dispersionLoss(mu, {
      temperature: opts.temperature,
      baseTemperature: opts.dispersionBaseTemperature,
    });
    // A fresh tensor from the values: the compactness loss sees the updated prototypes as constants (.detach()).
    const detached = tf.tensor2d(updated, [prototypes.numClasses, prototypes.dim]);
    const compactness = compactnessLoss(z, detached, labels, {
      temperature: opts.temperature,
      baseTemperature: opts.compactnessBaseTemperature,
    });
    const loss = tf.add(tf.mul(compactness, opts.compactnessWeight), dispersion) as tf.Scalar;
    return { loss, compactness, dispersion };
  });
  return { ...terms, prototypes: updated };
}
