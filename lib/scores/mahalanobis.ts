/**
 * Mahalanobis score with class means and a tied covariance (Lee, Lee, Lee, Shin, NeurIPS 2018), one layer.
 * The multi-layer ensemble with input preprocessing is in `mahalanobis_ensemble.ts`.
 * @module
 */
import { tf } from "../tf.ts";
import { check2d, readLabels } from "./_util.ts";
import { cholesky, classMeansAndScatter, inverseFromCholesky } from "./_linalg.ts";
import type { Labels } from "./types.ts";
import { type Detector, needOutput, trainOutputs } from "./detector.ts";
import { fitMatrix, normalizeRows, scoreMatrix } from "./matrix.ts";

/** Options of {@linkcode fitMahalanobis}. */
export interface MahalanobisFitOptions {
  /** Number of classes C; @default max(label) + 1. Every class must have at least one sample. */
  numClasses?: number;
  /**
   * Shrinkage α ∈ [0, 1] towards the isotropic covariance: Σ ← (1 − α)·Σ + α·(tr Σ / d)·I.
   * @default 0 (none, as Lee et al.)
   */
  shrinkage?: number;
  /** Absolute jitter λ added to the diagonal before inversion: Σ ← Σ + λ·I; @default 0 */
  jitter?: number;
  /**
   * When Σ (+ λ·I) is not numerically positive definite, retry with λ = (tr Σ / d) · 10^k · 1e-10 for
   * k = 0, 1, …, 10 and keep the first that factorises (recorded as `state.jitter`). `false` throws instead.
   * @default true
   */
  autoJitter?: boolean;
  /**
   * `tied` (Lee et al.): Σ = (1/N) Σ_i (f_i − μ_{y_i})(f_i − μ_{y_i})ᵀ, the within-class scatter. `global` (CIDER's
   * `eval_ood.py` `get_mean_prec`: `torch.cov(features.T)`): the covariance of all training features around their
   * global mean, Σ = (1/(N − 1)) Σ_i (f_i − f̄)(f_i − f̄)ᵀ, between-class spread included.
   * @default "tied"
   */
  covariance?: "tied" | "global";
  /**
   * `cholesky`: P = Σ⁻¹ by Cholesky (with `jitter`/`autoJitter` for a singular Σ). `pinv`: the Moore–Penrose
   * pseudo-inverse (CIDER's `torch.linalg.pinv`) by a symmetric eigendecomposition, eigenvalues with
   * |λ| ≤ d·ε·max|λ| dropped (torch's default `rtol`); no jitter is added.
   * @default "cholesky"
   */
  inverse?: "cholesky" | "pinv";
}

/**
 * Fitted state of the Mahalanobis score: plain JSON-serialisable numbers (`JSON.stringify` round-trips it).
 */
export interface MahalanobisState {
  /** Discriminates score states. */
  readonly kind: "mahalanobis";
  /** Feature dimension d. */
  readonly dim: number;
  /** Number of classes C. */
  readonly numClasses: number;
  /** Training samples per class. */
  readonly counts: number[];
  /** Class means μ_c, [C][d]. */
  readonly means: number[][];
  /** Σ⁻¹ (tied covariance after shrinkage and jitter), d·d row-major, symmetric. */
  readonly precision: number[];
  /** Shrinkage α that was applied. */
  readonly shrinkage: number;
  /** Diagonal jitter λ that was applied (the requested one, or the one `autoJitter` found). */
  readonly jitter: number;
  /** Covariance estimator and inverse used (absent in states from before these options: tied, Cholesky). */
  readonly covariance?: "tied" | "global";
  readonly inverse?: "cholesky" | "pinv";
}

/**
 * Fits class means and the tied (shared) covariance on training features, in float64 JS (Lee et al. 2018):
 *
 *   μ_c = mean of {f_i : y_i = c},   Σ = (1/N) Σ_i (f_i − μ_{y_i})(f_i − μ_{y_i})ᵀ   (MLE, as sklearn
 *   `EmpiricalCovariance` in Lee's code), then Σ ← (1 − α)Σ + α·(tr Σ/d)·I + λ·I and precision P = Σ⁻¹ via
 *   Cholesky (Σ = L·Lᵀ, P = L⁻ᵀL⁻¹).
 *
 * Lee's code takes scikit-learn's `EmpiricalCovariance` precision (a pseudo-inverse); for a non-singular Σ they
 * agree, for a singular one this uses jitter (papers.md §9b). CIDER's `eval_ood.py` estimates differently: the
 * covariance of all training features around their global mean, pseudo-inverted (`covariance: "global"`,
 * `inverse: "pinv"`; papers.md §6a). No tensors are kept: the features are read once (`dataSync`) and the state
 * is plain data.
 * @see {@link https://arxiv.org/abs/1807.03888 | Paper} · reference code pokaxpoka/deep_Mahalanobis_detector
 * @param features training features [N, d] (e.g. penultimate, train set without augmentation).
 * @param labels N integer labels in [0, C).
 * @returns the fitted {@linkcode MahalanobisState}.
 * @throws on NaN/∞ features, bad labels, an empty class, or (with `autoJitter: false`) a singular covariance.
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * // μ₀ = (0, 0), μ₁ = (4, 0); tied Σ = 0.5·I, so P = 2·I
 * const state = fitMahalanobis(tf.tensor2d([[-1, 0], [1, 0], [4, -1], [4, 1]]), [0, 0, 1, 1]);
 * const s = mahalanobis(state, tf.tensor2d([[1, 0]])); // [−2]
 * ```
 */
export function fitMahalanobis(
  features: tf.Tensor2D,
  labels: Labels,
  opts: MahalanobisFitOptions = {},
): MahalanobisState {
  const [n, d] = check2d(features, "features", "fitMahalanobis");
  if (n < 1) throw new Error("fitMahalanobis: no training features");
  const y = readLabels(labels, n, "fitMahalanobis");
  const numClasses = opts.numClasses ?? y.reduce((m, v) => Math.max(m, v), 0) + 1;
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new Error(`fitMahalanobis: numClasses must be a positive integer, got ${numClasses}`);
  }
  const alpha = opts.shrinkage ?? 0;
  if (!(alpha >= 0 && alpha <= 1)) throw new Error(`fitMahalanobis: shrinkage must be in [0, 1], got ${alpha}`);
  const jitter0 = opts.jitter ?? 0;
  if (!(jitter0 >= 0) || !Number.isFinite(jitter0)) {
    throw new Error(`fitMahalanobis: jitter must be a finite number ≥ 0, got ${jitter0}`);
  }
  for (let i = 0; i < n; i++) {
    if (y[i]! >= numClasses) {
      throw new Error(`fitMahalanobis: label ${i} is ${y[i]}, not below numClasses = ${numClasses}`);
    }
  }
  const x = features.dataSync();
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]!)) throw new Error(`fitMahalanobis: feature row ${Math.floor(i / d)} is not finite`);
  }

  const { means, counts, scatter } = classMeansAndScatter(x, y, n, d, numClasses);
  const empty = counts.findIndex((k) => k === 0);
  if (empty >= 0) throw new Error(`fitMahalanobis: class ${empty} has no training samples`);

  const covariance = opts.covariance ?? "tied", inverse = opts.inverse ?? "cholesky";
  const cov = covariance === "tied"
    ? scatter.map((v) => v / n)
    : classMeansAndScatter(x, new Int32Array(n), n, d, 1).scatter.map((v) => v / Math.max(1, n - 1));
  let trace = 0;
  for (let j = 0; j < d; j++) trace += cov[j * d + j]!;
  const iso = trace / d;
  if (alpha > 0) {
    for (let i = 0; i < d * d; i++) cov[i]! *= 1 - alpha;
    for (let j = 0; j < d; j++) cov[j * d + j]! += alpha * iso;
  }
  const { precision, jitter } = inverse === "pinv"
    ? { precision: pseudoInverseSymmetric(cov, d), jitter: 0 }
    : invertWithJitter(cov, d, jitter0, opts.autoJitter ?? true, iso > 0 ? iso : 1);
  return {
    kind: "mahalanobis",
    dim: d,
    numClasses,
    counts,
    means: means.map((m) => Array.from(m)),
    precision: Array.from(precision),
    shrinkage: alpha,
    jitter,
    covariance,
    inverse,
  };
}

/**
 * Eigendecomposition A = V·diag(λ)·Vᵀ of a symmetric n×n matrix by cyclic Jacobi rotations in float64 (each
 * rotation sets A_pq to exactly 0; from the fifth sweep on, an A_pq negligible next to both A_pp and A_qq is set to
 * 0 without a rotation, as in Numerical Recipes' `jacobi`; sweeps until the off-diagonal mass is below ε² of the
 * total; quadratic convergence, ~6–10 sweeps). `vectors` holds the eigenvectors as columns (row-major n×n).
 */
export function symmetricEigen(a: ArrayLike<number>, n: number): { values: Float64Array; vectors: Float64Array } {
  const m = Float64Array.from(a), vt = new Float64Array(n * n); // vt: Vᵀ, one eigenvector per row
  for (let i = 0; i < n; i++) vt[i * n + i] = 1;
  let total = 0;
  for (let i = 0; i < n * n; i++) total += m[i]! * m[i]!;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += 2 * m[p * n + q]! ** 2;
    if (!(off > total * Number.EPSILON ** 2)) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q]!, app = m[p * n + p]!, aqq = m[q * n + q]!, tiny = 100 * Math.abs(apq);
        if (
          apq === 0 || (sweep > 3 && Math.abs(app) + tiny === Math.abs(app) && Math.abs(aqq) + tiny === Math.abs(aqq))
        ) {
          m[p * n + q] = m[q * n + p] = 0;
          continue;
        }
        // The rotation J (J_pp = J_qq = c, J_pq = s = −J_qp) with (JᵀAJ)_pq = 0 (Golub & Van Loan, Alg. 8.5.1):
        // rows and columns p, q change, the 2×2 block becomes diag(a_pp − t·a_pq, a_qq + t·a_pq).
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        const rp = p * n, rq = q * n;
        for (let k = 0; k < n; k++) {
          const apk = m[rp + k]!, aqk = m[rq + k]!;
          m[rp + k] = m[k * n + p] = c * apk - s * aqk;
          m[rq + k] = m[k * n + q] = s * apk + c * aqk;
          const vpk = vt[rp + k]!, vqk = vt[rq + k]!;
          vt[rp + k] = c * vpk - s * vqk;
          vt[rq + k] = s * vpk + c * vqk;
        }
        m[rp + p] = app - t * apq;
        m[rq + q] = aqq + t * apq;
        m[rp + q] = m[rq + p] = 0;
      }
    }
  }
  const vectors = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) vectors[k * n + i] = vt[i * n + k]!;
  return { values: Float64Array.from({ length: n }, (_, i) => m[i * n + i]!), vectors };
}

/**
 * Moore–Penrose pseudo-inverse of a symmetric n×n matrix, P = Σ_{|λ_k| > tol} v_k v_kᵀ / λ_k with
 * tol = rtol·max|λ| and rtol = n·ε by default (`torch.linalg.pinv`'s default for a square matrix, whose singular
 * values are the |λ_k|).
 * @example Usage
 * ```ts
 * pseudoInverseSymmetric([1, 1, 1, 1], 2); // [0.25, 0.25, 0.25, 0.25]: the rank-1 matrix 2·uuᵀ, u = (1, 1)/√2
 * ```
 */
export function pseudoInverseSymmetric(a: ArrayLike<number>, n: number, rtol = n * Number.EPSILON): Float64Array {
  const { values, vectors: v } = symmetricEigen(a, n);
  const tol = rtol * values.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  const p = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const lambda = values[k]!;
    if (!(Math.abs(lambda) > tol)) continue;
    for (let i = 0; i < n; i++) {
      const vik = v[i * n + k]! / lambda;
      if (vik === 0) continue;
      for (let j = 0; j < n; j++) p[i * n + j]! += vik * v[j * n + k]!;
    }
  }
  return p;
}

function invertWithJitter(
  cov: Float64Array,
  d: number,
  jitter0: number,
  auto: boolean,
  scale: number,
): { precision: Float64Array; jitter: number } {
  const tries = [jitter0];
  if (auto) { for (let k = 0; k <= 10; k++) tries.push(Math.max(jitter0, scale * 1e-10 * 10 ** k)); }
  for (const lambda of tries) {
    const a = Float64Array.from(cov);
    for (let j = 0; j < d; j++) a[j * d + j]! += lambda;
    const l = cholesky(a, d);
    if (l) return { precision: inverseFromCholesky(l, d), jitter: lambda };
  }
  throw new Error(
    `fitMahalanobis: the tied covariance (d = ${d}) is singular` +
      (auto ? ` even with jitter ${tries[tries.length - 1]}` : ` with jitter ${jitter0}`) +
      `; pass a larger jitter or shrinkage${auto ? "" : ", or autoJitter: true"}`,
  );
}

/** Throws unless `state` fits features of width `d`. */
export function checkMahalanobisState(state: MahalanobisState, d: number, where: string): void {
  if (state.kind !== "mahalanobis") throw new Error(`${where}: not a Mahalanobis state (kind ${state.kind})`);
  if (state.dim !== d) throw new Error(`${where}: state was fitted on ${state.dim}-d features, got ${d}-d`);
  if (state.precision.length !== d * d || state.means.length !== state.numClasses) {
    throw new Error(`${where}: malformed state (precision or means have the wrong size)`);
  }
}

/**
 * Squared Mahalanobis distances to every class, D_ic = (f_i − μ_c)ᵀ P (f_i − μ_c), as an [N, C] tensor.
 * Differentiable in `features` (used by the input preprocessing). Features and means are first centred on the
 * mean of the class means (distances unchanged, smaller float32 magnitudes); with X = F − μ̄, Y = X·P and
 * m_c = μ_c − μ̄: D_·c = rowsum((Y − m_c·P) ⊙ (X − m_c)). Call inside `tf.tidy`.
 */
export function classDistances(state: MahalanobisState, features: tf.Tensor2D): tf.Tensor2D {
  const { dim: d, numClasses: c } = state;
  const center = new Float64Array(d);
  for (const m of state.means) for (let j = 0; j < d; j++) center[j]! += m[j]! / c;
  const centred = new Float64Array(c * d), projected = new Float32Array(c * d);
  for (let k = 0; k < c; k++) {
    const m = state.means[k]!;
    for (let j = 0; j < d; j++) centred[k * d + j] = m[j]! - center[j]!;
  }
  // m_c·P in float64 before rounding to float32.
  const p = state.precision;
  for (let k = 0; k < c; k++) {
    const off = k * d;
    for (let j = 0; j < d; j++) {
      let t = 0;
      for (let i = 0; i < d; i++) t += centred[off + i]! * p[i * d + j]!;
      projected[off + j] = t;
    }
  }
  const x = tf.sub(features, tf.tensor1d(Float32Array.from(center)));
  const y = tf.matMul(x, tf.tensor2d(p, [d, d], "float32"));
  const m = tf.tensor2d(Float32Array.from(centred), [c, d]), mp = tf.tensor2d(projected, [c, d]);
  const cols: tf.Tensor1D[] = [];
  for (let k = 0; k < c; k++) {
    const mk = tf.slice(m, [k, 0], [1, d]), mpk = tf.slice(mp, [k, 0], [1, d]);
    cols.push(tf.sum(tf.mul(tf.sub(y, mpk), tf.sub(x, mk)), 1) as tf.Tensor1D);
  }
  return tf.stack(cols, 1) as tf.Tensor2D;
}

/**
 * Mahalanobis score (Lee, Lee, Lee, Shin, "A Simple Unified Framework for Detecting Out-of-Distribution Samples
 * and Adversarial Attacks", NeurIPS 2018), one layer, no input preprocessing. Higher = more in-distribution.
 *
 *   S(f) = max_c −(f − μ_c)ᵀ Σ⁻¹ (f − μ_c) = −min_c D_c(f).
 *
 * Lee's code uses the Gaussian log-density up to a constant, −½·D; the factor ½ changes no ranking (and for an
 * ensemble only rescales the weights). Computed in float32 tensors from the float64 state.
 * @see {@link https://arxiv.org/abs/1807.03888 | Paper}
 * @param state from {@linkcode fitMahalanobis}.
 * @param features test features [M, d] (same layer as the fit).
 * @returns [M] scores (≤ 0); the caller disposes the tensor.
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * const state = fitMahalanobis(tf.tensor2d([[-1, 0], [1, 0], [4, -1], [4, 1]]), [0, 0, 1, 1]);
 * const s = mahalanobis(state, tf.tensor2d([[1, 0], [2, 1]])); // [−2, −10]
 * ```
 */
export function mahalanobis(state: MahalanobisState, features: tf.Tensor2D): tf.Tensor1D {
  const [, d] = check2d(features, "features", "mahalanobis");
  checkMahalanobisState(state, d, "mahalanobis");
  return tf.tidy(() => tf.neg(tf.min(classDistances(state, features), 1)) as tf.Tensor1D);
}

/** Options of the Mahalanobis detector. */
export interface MahalanobisDetectorOptions {
  /** Shrinkage α of the covariance towards the isotropic one (see {@linkcode MahalanobisFitOptions}). */
  shrinkage: number;
  /**
   * L2-normalise the features (fit and test) first, h/(‖h‖ + 1e-10), as CIDER's `eval_ood.py` does (its
   * `intermediate_forward` returns `F.normalize(h)`, h/max(‖h‖, 1e-12): the same up to ~1e-10 relative).
   */
  normalize: boolean;
  /** Covariance estimator (see {@linkcode MahalanobisFitOptions}); default `tied`. */
  covariance: "tied" | "global";
  /** Inverse of the covariance; default `cholesky`. */
  inverse: "cholesky" | "pinv";
}

/** Detector of {@linkcode mahalanobis} on penultimate features (registry id `mahalanobis`; tied Σ by default). */
export const mahalanobisDetector: Detector<MahalanobisDetectorOptions, MahalanobisState> = {
  label: "Mahalanobis",
  citation: "Lee, Lee, Lee & Shin, NeurIPS 2018 (arXiv:1807.03888)",
  formula: "max_c −(f − μ_c)ᵀ Σ⁻¹ (f − μ_c), tied Σ",
  needs: ["features"],
  defaults: { shrinkage: 0, normalize: false, covariance: "tied", inverse: "cholesky" },
  fit: (ctx, o) => {
    const train = trainOutputs(ctx, "Mahalanobis");
    const f = needOutput(train, "features", "Mahalanobis");
    return fitMatrix(o.normalize ? normalizeRows(f) : f, (t) =>
      fitMahalanobis(t, train.labels, {
        numClasses: ctx.model.numClasses,
        shrinkage: o.shrinkage,
        covariance: o.covariance,
        inverse: o.inverse,
      }));
  },
  score: (set, o, state) => {
    const f = needOutput(set.outputs, "features", "Mahalanobis");
    return scoreMatrix(o.normalize ? normalizeRows(f) : f, (t) => mahalanobis(state, t));
  },
};
