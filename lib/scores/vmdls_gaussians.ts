/**
 * VMDLS's feature-ensemble Gaussians (Dinari & Freifeld, UAI 2022): one full-covariance Gaussian per class over
 * the concatenated ensemble f = [GAP(L1), GAP(L2), GAP(L3), g, μ], fitted on the training set, with the reference
 * code's jitter loop (BGU-CS-VIL/vmdls `models/vae.py` `calculate_gaussian`, l. 759–800; papers.md §2c), and the
 * per-class log-densities log N(f; ν_c, Σ_c). Float64 plain JS (`lib/scores/_linalg.ts`) for the fit; the
 * log-densities in float64 JS ({@linkcode classLogLikelihoods}) or in float32 TF.js for large sets
 * ({@linkcode classLogLikelihoodsTf}; the reference evaluates them in float32 torch).
 * @module
 */
import { tf } from "../tf.ts";
import { cholesky, classMeansAndScatter, lowerTriangularInverse } from "./_linalg.ts";
import type { Matrix } from "./matrix.ts";

/** Options of {@linkcode fitClassGaussians}. */
export interface ClassGaussianOptions {
  /** Number of classes K; @default max(label) + 1. Every class needs at least one sample. */
  numClasses?: number;
  /** Jitter added per step of the loop (the reference: 1e-6·I, l. 784, 791, 798). @default 1e-6 */
  jitterStep?: number;
  /** Steps added after the loop, for every class (the reference: `increases += 2`, l. 795). @default 2 */
  extraSteps?: number;
  /**
   * A Cholesky pivot p_j ≤ pivotTol · max_i Σ_ii counts as a failure, besides `_linalg`'s float64 test
   * (p_j ≤ 10·d·ε₆₄·max_i Σ_ii). The reference factorises in float32 (torch's `MultivariateNormal` constructor on
   * float32 tensors, l. 788), where a singular covariance fails until the jitter is large against float32
   * round-off; the default, float32's ε = 2⁻²³, is a proxy for that (0: the float64 test alone). @default 2⁻²³
   */
  pivotTol?: number;
  /** Upper bound of jitter steps per class before giving up. @default 1e9 */
  maxSteps?: number;
}

/** The fitted Gaussians (plain data; typed arrays, so not JSON-round-trippable). */
export interface ClassGaussians {
  readonly kind: "vmdlsGaussians";
  /** Feature dimension d. */
  readonly dim: number;
  /** K. */
  readonly numClasses: number;
  /** Training samples per class. */
  readonly counts: number[];
  /** ν_c, [K] of [d]. */
  readonly means: Float64Array[];
  /** Jitter steps of the loop, `extraSteps` included: every class got Σ_c + steps·jitterStep·I. */
  readonly steps: number;
  /** steps · jitterStep. */
  readonly jitter: number;
  /** L_c⁻¹ of Σ_c + jitter·I = L_c·L_cᵀ, row-major d×d lower triangular, per class. */
  readonly inverseCholesky: Float64Array[];
  /** log det(Σ_c + jitter·I) per class. */
  readonly logDet: number[];
}

/**
 * Per-class mean and biased covariance, symmetrised: ν_c = mean of {f_i : y_i = c},
 * Σ_c = E[ffᵀ] − ν_cν_cᵀ over the class (the reference's `early_temp_cov / count − mmᵀ` then `(Σ + Σᵀ)/2`,
 * l. 770–772; computed here as the centred scatter / n_c, equal in exact arithmetic and stabler).
 *
 * Deviation: the reference's statistics pass overwrites a class's sums with each batch that contains it while its
 * count accumulates (`early_temp_means[i,:] = …`, l. 308–309, against `class_counts[i] +=`, l. 307), which at the
 * MNIST test command's 1 × 4996 batches visits classes 0 and 1 twice (papers.md §2c); this uses every sample once.
 */
function classMoments(
  x: Float32Array,
  labels: Int32Array,
  d: number,
  k: number,
): { means: Float64Array[]; covs: Float64Array[]; counts: number[] } {
  const rows: number[][] = Array.from({ length: k }, () => []);
  labels.forEach((y, i) => rows[y]!.push(i));
  const means: Float64Array[] = [], covs: Float64Array[] = [];
  for (const idx of rows) {
    const sub = new Float32Array(idx.length * d);
    idx.forEach((i, r) => sub.set(x.subarray(i * d, (i + 1) * d), r * d));
    const { means: [m], scatter } = classMeansAndScatter(sub, new Int32Array(idx.length), idx.length, d, 1);
    means.push(m!);
    covs.push(scatter.map((v) => v / Math.max(1, idx.length)));
  }
  return { means, covs, counts: rows.map((r) => r.length) };
}

/** Cholesky of Σ + λI with the extra relative pivot test, or null. */
function choleskyWithJitter(cov: Float64Array, d: number, lambda: number, pivotTol: number): Float64Array | null {
  const a = Float64Array.from(cov);
  let maxDiag = 0;
  for (let j = 0; j < d; j++) {
    a[j * d + j]! += lambda;
    maxDiag = Math.max(maxDiag, Math.abs(a[j * d + j]!));
  }
  const l = cholesky(a, d);
  if (!l) return null;
  for (let j = 0; j < d; j++) if (!(l[j * d + j]! ** 2 > pivotTol * maxDiag)) return null;
  return l;
}

/**
 * The reference's jitter loop for one class, started at `from` steps: the smallest k ≥ `from` such that
 * Σ + k·step·I factorises. The reference adds one step at a time (l. 785–792); success is monotone in k (adding
 * jitter only raises every eigenvalue), so doubling then bisection finds the same k with O(log k) factorisations.
 */
function stepsNeeded(
  cov: Float64Array,
  d: number,
  from: number,
  o: Required<Omit<ClassGaussianOptions, "numClasses">>,
) {
  const ok = (k: number) => choleskyWithJitter(cov, d, k * o.jitterStep, o.pivotTol) !== null;
  if (ok(from)) return from;
  let lo = from, hi = Math.max(from + 1, 1); // ok(lo) false
  while (!ok(hi)) {
    lo = hi;
    hi = from + 2 * (hi - from);
    if (hi > o.maxSteps) throw new Error(`fitClassGaussians: no Cholesky within ${o.maxSteps} jitter steps`);
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (ok(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/**
 * Fits one full-covariance Gaussian per class on a feature matrix (rows = training images), with the reference's
 * jitter loop (`models/vae.py` l. 780–800):
 *
 *   s ← 0;  for c = 1…K: k ← s; while Σ_c + k·ε·I has no Cholesky: k ← k + 1;  s ← max(s, k);
 *   s ← s + 2;  Σ̃_c = Σ_c + s·ε·I for every class (ε = 1e-6).
 *
 * Each class's loop starts from the running count s, and every class ends with the same jitter, two steps beyond
 * the largest needed. Σ_c is always singular for the VMDLS ensemble (μ is affine in g), so s ≥ 1 there.
 * @see {@link https://openreview.net/pdf?id=ScLeuUUi9gq | Paper} · BGU-CS-VIL/vmdls `models/vae.py` `calculate_gaussian`
 * @param features [N, d] training features (e.g. the concatenated ensemble, no augmentation).
 * @param labels N labels in [0, K).
 * @returns the fitted {@linkcode ClassGaussians}.
 * @throws on a bad label, an empty class, non-finite features, or no factorisation within `maxSteps`.
 * @example Usage
 * ```ts
 * const g = fitClassGaussians({ data: Float32Array.of(-1, 1, 3, 5), dim: 1 }, Int32Array.of(0, 0, 1, 1));
 * g.means; // [[0], [4]]; Σ_c = 1, no loop step needed, so jitter = 2e-6
 * ```
 */
export function fitClassGaussians(
  features: Matrix,
  labels: Int32Array,
  opts: ClassGaussianOptions = {},
): ClassGaussians {
  const d = features.dim, n = labels.length;
  if (!(d > 0) || features.data.length !== n * d) {
    throw new Error(`fitClassGaussians: ${features.data.length} values for ${n} rows of width ${d}`);
  }
  const k = opts.numClasses ?? labels.reduce((m, v) => Math.max(m, v), -1) + 1;
  for (let i = 0; i < n; i++) {
    if (!(labels[i]! >= 0 && labels[i]! < k)) throw new Error(`fitClassGaussians: label ${labels[i]} not in [0, ${k})`);
  }
  for (let i = 0; i < features.data.length; i++) {
    if (!Number.isFinite(features.data[i]!)) throw new Error(`fitClassGaussians: row ${Math.floor(i / d)} not finite`);
  }
  const o = {
    jitterStep: opts.jitterStep ?? 1e-6,
    extraSteps: opts.extraSteps ?? 2,
    pivotTol: opts.pivotTol ?? 2 ** -23,
    maxSteps: opts.maxSteps ?? 1e9,
  };
  const { means, covs, counts } = classMoments(features.data, labels, d, k);
  const empty = counts.findIndex((c) => c === 0);
  if (empty >= 0) throw new Error(`fitClassGaussians: class ${empty} has no samples`);
  let steps = 0;
  for (const cov of covs) steps = Math.max(steps, stepsNeeded(cov, d, steps, o));
  steps += o.extraSteps;
  const jitter = steps * o.jitterStep;
  const inverseCholesky: Float64Array[] = [], logDet: number[] = [];
  for (const cov of covs) {
    // The final jitter is ≥ every class's working one; the float64 factorisation must succeed.
    const l = choleskyWithJitter(cov, d, jitter, 0);
    if (!l) throw new Error(`fitClassGaussians: Σ + ${jitter}·I has no Cholesky`);
    let ld = 0;
    for (let j = 0; j < d; j++) ld += 2 * Math.log(l[j * d + j]!);
    logDet.push(ld);
    inverseCholesky.push(lowerTriangularInverse(l, d));
  }
  return { kind: "vmdlsGaussians", dim: d, numClasses: k, counts, means, steps, jitter, inverseCholesky, logDet };
}

/**
 * log N(f_i; ν_c, Σ̃_c) = −½(‖L_c⁻¹(f_i − ν_c)‖² + log det Σ̃_c + d·log 2π) for every row and class, float64 JS
 * (O(N·K·d²/2); the reference: `MultivariateNormal.log_prob`, l. 392, 396).
 * @returns [N·K] row-major (row i, class c at i·K + c).
 * @example Usage
 * ```ts
 * const g = fitClassGaussians({ data: Float32Array.of(-1, 1, 3, 5), dim: 1 }, Int32Array.of(0, 0, 1, 1), { extraSteps: 0 });
 * classLogLikelihoods(g, { data: Float32Array.of(0), dim: 1 }); // [−½ log 2π, −½(16 + log 2π)]
 * ```
 */
export function classLogLikelihoods(g: ClassGaussians, features: Matrix): Float64Array {
  const d = g.dim, k = g.numClasses;
  if (features.dim !== d) throw new Error(`classLogLikelihoods: features of width ${features.dim}, Gaussians of ${d}`);
  const n = features.data.length / d, out = new Float64Array(n * k), v = new Float64Array(d);
  const c0 = d * Math.log(2 * Math.PI);
  for (let c = 0; c < k; c++) {
    const m = g.means[c]!, w = g.inverseCholesky[c]!, ld = g.logDet[c]!;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) v[j] = features.data[i * d + j]! - m[j]!;
      let q = 0;
      for (let r = 0; r < d; r++) {
        let t = 0;
        for (let j = 0; j <= r; j++) t += w[r * d + j]! * v[j]!;
        q += t * t;
      }
      out[i * k + c] = -0.5 * (q + ld + c0);
    }
  }
  return out;
}

/**
 * {@linkcode classLogLikelihoods} in float32 TF.js (one [N, d]·[d, d] product per class; for large sets on a
 * fast engine), inside `tf.tidy`. The centring f − ν_c is done in float32 as well, as the reference's float32
 * `log_prob`.
 * @returns a new [N, K] tensor (the caller disposes it).
 */
export function classLogLikelihoodsTf(g: ClassGaussians, features: tf.Tensor2D): tf.Tensor2D {
  const d = g.dim;
  if (features.shape[1] !== d) {
    throw new Error(`classLogLikelihoodsTf: features of width ${features.shape[1]}, Gaussians of ${d}`);
  }
  const c0 = d * Math.log(2 * Math.PI);
  return tf.tidy(() => {
    const cols = g.means.map((m, c) => {
      const wT = tf.transpose(tf.tensor2d(Float32Array.from(g.inverseCholesky[c]!), [d, d]));
      const y = tf.matMul(tf.sub(features, tf.tensor1d(Float32Array.from(m))), wT);
      return tf.mul(tf.add(tf.sum(tf.square(y), 1), g.logDet[c]! + c0), -0.5);
    });
    return tf.stack(cols, 1) as tf.Tensor2D;
  });
}

/** Row-wise concatenation of feature matrices with equal row counts (the ensemble [f₁ | f₂ | …]). */
export function concatFeatures(parts: readonly Matrix[]): Matrix {
  if (parts.length === 0) throw new Error("concatFeatures: no parts");
  const n = parts[0]!.dim ? parts[0]!.data.length / parts[0]!.dim : 0;
  const dim = parts.reduce((s, p) => s + p.dim, 0), data = new Float32Array(n * dim);
  let off = 0;
  for (const p of parts) {
    if (p.data.length !== n * p.dim) throw new Error(`concatFeatures: parts have different row counts`);
    for (let i = 0; i < n; i++) data.set(p.data.subarray(i * p.dim, (i + 1) * p.dim), i * dim + off);
    off += p.dim;
  }
  return { data, dim };
}
