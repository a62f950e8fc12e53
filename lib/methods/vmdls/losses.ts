/**
 * The training losses of VMDLS (Dinari & Freifeld, "Variational- and Metric-based Deep Latent Space for
 * Out-of-Distribution Detection", UAI 2022), as the reference code BGU-CS-VIL/vmdls@5add9e2 computes them
 * (papers.md §2a): the triplet + distancing loss over every valid triplet of the batch, its margin schedule, and
 * the KL term to class-conditional isotropic Gaussian priors. Every tensor function returns one new scalar from
 * inside `tf.tidy` (conventions C12).
 *
 * The reference's total loss is L = triplet + KL (`models/vae.py` `step`, l. 273–276), the KL term only from
 * epoch `generation_epoch` on (l. 274–275).
 * @module
 */
import { tf } from "../../tf.ts";

/** Options of {@linkcode tripletDistancingLoss}. */
export interface TripletDistancingOptions {
  /** Ranking margin m (the reference: `TripletMarginLossModded(margin=0.1, …)`, `models/vae.py` l. 165). */
  margin: number;
  /** Distancing margin M_t of the current epoch ({@linkcode distancingMarginAt}). */
  distancingMargin: number;
}

/**
 * Pairwise Euclidean distances between the rows of `x` [B, D], with gradient 0 where a distance is 0 (torch's
 * `cdist` convention; a plain `sqrt` would give NaN gradients on the diagonal).
 */
function pairwiseDistances(x: tf.Tensor2D): tf.Tensor2D {
  const sq = tf.sum(tf.square(tf.sub(tf.expandDims(x, 1), tf.expandDims(x, 0))), 2);
  const pos = tf.step(sq); // 1 where sq > 0, else 0; zero gradient (a comparison op has none in TF.js)
  return tf.mul(tf.sqrt(tf.add(sq, tf.sub(1, pos))), pos) as tf.Tensor2D;
}

/** Rows scaled to unit L2 norm as `torch.nn.functional.normalize`: x / max(‖x‖₂, 1e-12). */
function normalizeRows(x: tf.Tensor2D): tf.Tensor2D {
  return tf.div(x, tf.maximum(tf.norm(x, 2, 1, true), 1e-12)) as tf.Tensor2D;
}

/**
 * The valid-triplet masks of a batch: pos[a·B + p] = 1 when y_a = y_p and a ≠ p, neg[a·B + n] = 1 when y_a ≠ y_n
 * (pytorch-metric-learning `lmu.get_all_triplets_indices`: every (a, p, n) with both).
 */
function tripletMasks(labels: ArrayLike<number>): { pos: Float32Array; neg: Float32Array } {
  const b = labels.length, pos = new Float32Array(b * b), neg = new Float32Array(b * b);
  for (let a = 0; a < b; a++) {
    for (let j = 0; j < b; j++) {
      if (labels[a] === labels[j]) pos[a * b + j] = a === j ? 0 : 1;
      else neg[a * b + j] = 1;
    }
  }
  return { pos, neg };
}

/**
 * VMDLS's triplet + distancing loss (the reference's `TripletMarginLossModded`, `losses/modded_triplets.py`,
 * on the sampled latents z, `models/vae.py` l. 273):
 *
 *   ℓ(a, p, n) = max(0, d(a, p) − d(a, n) + m) + max(0, M_t − d(a, n)),   d(u, v) = ‖u/‖u‖ − v/‖v‖‖₂,
 *
 *   L = Σ_{T: ℓ_T > 0} ℓ_T / |{T: ℓ_T > 0}|   (0 when no triplet has ℓ_T > 0),
 *
 * over every triplet T = (a, p, n) of the batch with y_a = y_p, a ≠ p, y_n ≠ y_a. Each detail, from the code:
 * - all triplets, no mining: `compute_loss` calls `lmu.convert_to_triplets(None, labels, t_per_anchor="all")`
 *   (`modded_triplets.py` l. 35–37), i.e. pytorch-metric-learning's `get_all_triplets_indices`;
 * - the distance is PML's default `LpDistance(p=2)` with `normalize_embeddings=True` (PML 0.9.99
 *   `module_with_records_and_reducer.py` `get_default_distance`, `distances/base_distance.py`): `F.normalize`
 *   then `torch.cdist`, so d ≤ 2;
 * - `current_margins = distance.margin(an, ap) = d_an − d_ap` and the ranking term is
 *   `relu(−current_margins + margin)` (l. 48, 53); `neg_margins = distance.margin(neg_margin, an) = M_t − d_an`
 *   and the distancing term is `relu(neg_margins)` (l. 49, 54); the two are summed per triplet;
 * - the reducer is `AvgNonZeroReducer` (l. 64–65), PML's `ThresholdReducer(low=0)`: the mean of the triplet
 *   losses that are > 0, and `sum(embeddings·0)` = 0 when none is (PML 0.9.99 `reducers/threshold_reducer.py`
 *   `element_reduction_helper`); a batch without valid triplets also gives 0 (`zero_losses`).
 *
 * Once M_t > 2 every valid triplet is active and the distancing part is M_t − mean d_an (papers.md §2a). The
 * count of active triplets carries no gradient, as in torch. Memory: one [B, B, B] float32 tensor (B = 160:
 * 16 MB).
 * @see {@link https://openreview.net/pdf?id=ScLeuUUi9gq | Paper} · BGU-CS-VIL/vmdls `losses/modded_triplets.py`
 * @param z [B, D] latents (the reference passes the reparameterised sample z, not μ).
 * @param labels B integer labels.
 * @param opts the margin m (0.1) and the distancing margin M_t.
 * @returns Scalar loss.
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * // Two points of class 0 at e₁, one of class 1 at e₂: d_ap = 0, d_an = √2; only the distancing term of M_t = 2
 * // is active: L = 2 − √2.
 * tripletDistancingLoss(tf.tensor2d([[1, 0], [2, 0], [0, 3]]), [0, 0, 1], { margin: 0.1, distancingMargin: 2 });
 * ```
 */
export function tripletDistancingLoss(
  z: tf.Tensor2D,
  labels: ArrayLike<number>,
  opts: TripletDistancingOptions,
): tf.Scalar {
  const b = z.shape[0];
  if (labels.length !== b) throw new Error(`tripletDistancingLoss: ${labels.length} labels for ${b} rows`);
  if (!(opts.margin >= 0) || !Number.isFinite(opts.distancingMargin)) {
    throw new Error(`tripletDistancingLoss: bad margins ${opts.margin}, ${opts.distancingMargin}`);
  }
  const { pos, neg } = tripletMasks(labels);
  return tf.tidy(() => {
    const d = pairwiseDistances(normalizeRows(z));
    const valid = tf.mul(tf.tensor3d(pos, [b, b, 1]), tf.tensor3d(neg, [b, 1, b])); // [a, p, n]
    const ranking = tf.relu(tf.add(tf.sub(tf.expandDims(d, 2), tf.expandDims(d, 1)), opts.margin));
    const distancing = tf.expandDims(tf.relu(tf.sub(opts.distancingMargin, d)), 1); // [a, 1, n]
    const per = tf.mul(tf.add(ranking, distancing), valid);
    const active = tf.sum(tf.step(per)); // triplets with ℓ > 0 (step(0) = 0), no gradient
    return tf.div(tf.sum(per), tf.maximum(active, 1)) as tf.Scalar;
  });
}

/** Options of {@linkcode distancingMarginAt} (the reference's `UpdateMargin` callback and its arguments). */
export interface MarginScheduleOptions {
  /** M_0 (the reference: `neg_margin=0.15`, `models/vae.py` l. 165). */
  start: number;
  /** Jump per epoch (`--margin_jump`, 1.0 in every README command). */
  jump: number;
  /** First epoch that jumps (`--margins_epoch`; MNIST training: 1). */
  fromEpoch: number;
  /** M_d (`--margin_max_distance`; MNIST: 32): a jump happens only while M_t ≤ M_d. */
  max: number;
}

/**
 * The distancing margin M_t in force during epoch `epoch` (0-based), as the reference's `UpdateMargin` callback
 * sets it (`models/vae.py` l. 44–52): at the start of every epoch e ≥ `margins_epoch`, if M ≤ M_d then
 * M ← M + jump. The final value is the first above M_d (M_d = 32, jump 1, start 0.15: 32.15). Summed in float64
 * in the same order as Python.
 * @example Usage
 * ```ts
 * const mnist = { start: 0.15, jump: 1, fromEpoch: 1, max: 32 };
 * distancingMarginAt(0, mnist); // 0.15
 * distancingMarginAt(2, mnist); // 2.15
 * ```
 */
export function distancingMarginAt(epoch: number, opts: MarginScheduleOptions): number {
  if (!Number.isInteger(epoch) || epoch < 0) throw new Error(`distancingMarginAt: bad epoch ${epoch}`);
  let m = opts.start;
  for (let e = Math.max(0, opts.fromEpoch); e <= epoch; e++) {
    if (m <= opts.max) m += opts.jump;
    else break;
  }
  return m;
}

/** Options of {@linkcode klToClassPriors}. */
export interface ClassPriorKlOptions {
  /** Std of every prior N(m_c, s²I) (the reference: 0.1, `models/vae.py` l. 256). */
  priorStd: number;
  /** Weight of the term (`--kl_coeff`, 0.1 in every README command). */
  weight: number;
}

/**
 * VMDLS's KL term to class-conditional isotropic Gaussian priors, the reference's single-sample estimate
 * (`models/vae.py` `step`, l. 246–261):
 *
 *   KL = w · (1/|C_B|) Σ_{c ∈ C_B} (1/(n_c·D)) Σ_{i: y_i = c} Σ_j [log q(z_ij | x_i) − log N(z_ij; m_cj, s²)],
 *
 * with q(·|x_i) = N(μ_i, diag σ_i²), σ = exp(½ log σ²), evaluated at the same sample z that feeds the triplet loss
 * (`log_qz = q.log_prob(z)`, l. 247; `torch.distributions.Normal` log-densities, l. 256–258), averaged over the
 * class's samples *and* the D dimensions (`kl_class.mean()`, l. 259), times w (l. 260), then averaged over the
 * classes C_B present in the batch (l. 261). m_c are the previous epoch's class means of the detached sampled z
 * ({@linkcode ClassMeanTracker} in `priors.ts`; zeros in epoch 0). The caller applies it only from epoch
 * `generation_epoch` on (l. 274–275). Gradients flow through z, μ and log σ² (z = μ + σ·ε carries them).
 * @see {@link https://openreview.net/pdf?id=ScLeuUUi9gq | Paper} · BGU-CS-VIL/vmdls `models/vae.py`
 * @param z [B, D] reparameterised sample.
 * @param mu [B, D] posterior means μ(x).
 * @param logVar [B, D] posterior log-variances log σ²(x).
 * @param labels B integer labels in [0, K).
 * @param priorMeans [K, D] prior means m_c.
 * @param opts prior std s (0.1) and weight w (0.1).
 * @returns Scalar loss.
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * // z = μ = m, σ = s: log q = log p everywhere, so KL = 0.
 * const z = tf.tensor2d([[0.5, 0]]);
 * klToClassPriors(z, z, tf.fill([1, 2], 2 * Math.log(0.1)) as tf.Tensor2D, [0], tf.tensor2d([[0.5, 0]]), {
 *   priorStd: 0.1,
 *   weight: 0.1,
 * });
 * ```
 */
export function klToClassPriors(
  z: tf.Tensor2D,
  mu: tf.Tensor2D,
  logVar: tf.Tensor2D,
  labels: ArrayLike<number>,
  priorMeans: tf.Tensor2D,
  opts: ClassPriorKlOptions,
): tf.Scalar {
  const [b] = z.shape, k = priorMeans.shape[0];
  if (labels.length !== b) throw new Error(`klToClassPriors: ${labels.length} labels for ${b} rows`);
  if (!(opts.priorStd > 0)) throw new Error(`klToClassPriors: priorStd must be > 0, got ${opts.priorStd}`);
  const counts = new Array<number>(k).fill(0);
  for (let i = 0; i < b; i++) {
    const y = labels[i]!;
    if (!Number.isInteger(y) || y < 0 || y >= k) throw new Error(`klToClassPriors: label ${y} not in [0, ${k})`);
    counts[y]!++;
  }
  const present = counts.filter((n) => n > 0).length;
  // Per class: w / (|C_B| · n_c) multiplies the per-sample mean over D of the integrand.
  const classWeight = Float32Array.from(counts, (n) => (n > 0 ? opts.weight / (present * n) : 0));
  const half = 0.5 * Math.log(2 * Math.PI);
  return tf.tidy(() => {
    const y = tf.tensor1d(Int32Array.from(labels), "int32");
    const logStd = tf.mul(logVar, 0.5);
    const logQ = tf.sub(tf.sub(tf.neg(tf.div(tf.square(tf.sub(z, mu)), tf.mul(tf.exp(logVar), 2))), logStd), half);
    const m = tf.gather(priorMeans, y);
    const s2 = opts.priorStd * opts.priorStd;
    const logP = tf.sub(tf.neg(tf.div(tf.square(tf.sub(z, m)), 2 * s2)), Math.log(opts.priorStd) + half);
    const perSample = tf.mean(tf.sub(logQ, logP), 1);
    return tf.sum(tf.mul(perSample, tf.gather(tf.tensor1d(classWeight), y))) as tf.Scalar;
  });
}
