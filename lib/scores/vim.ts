/**
 * ViM, virtual-logit matching — Wang, Li, Feng & Zhang, CVPR 2022 — and the principal-subspace fit it shares with
 * its Residual baseline (`residual.ts`).
 * @module
 */
import { tf } from "../tf.ts";
import { check2d } from "./_util.ts";
import { classMeansAndScatter } from "./_linalg.ts";
import { pseudoInverseSymmetric, symmetricEigen } from "./mahalanobis.ts";
import { type Detector, type LastLayer, needLastLayer, needOutput, trainOutputs } from "./detector.ts";
import { fitMatrix, type Matrix, scoreMatrices } from "./matrix.ts";

/**
 * The principal dimension D that the ViM repository's `benchmark.py` picks from the feature width d:
 * 1000 for d ≥ 2048, 512 for d ≥ 768, else ⌊d/2⌋ (the repository evaluates a 2048-d BiT and a 768-d ViT;
 * OpenOOD's `vim.yml` uses 256, i.e. d/2 for its 512-d ResNet-18). Not tuned here.
 * @example Usage
 * ```ts
 * [vimPrincipalDim(2048), vimPrincipalDim(768), vimPrincipalDim(512), vimPrincipalDim(5)]; // [1000, 512, 256, 2]
 * ```
 */
export function vimPrincipalDim(d: number): number {
  return d >= 2048 ? 1000 : d >= 768 ? 512 : Math.floor(d / 2);
}

/**
 * The origin u = −pinv(W)·b of ViM (W = the PyTorch `fc.weight` [C, d] = `kernel`ᵀ): the point of feature space
 * whose logits are all 0 when W has full row rank (W·u = −b). Computed in float64 as pinv(W) = Wᵀ·(W·Wᵀ)⁺
 * (an identity of the pseudo-inverse), with (W·Wᵀ)⁺ from the symmetric eigendecomposition of the C×C Gram matrix
 * (eigenvalues ≤ C·ε·max dropped, i.e. singular values of W below √(C·ε)·σ_max; numpy's `pinv` keeps
 * σ > 1e-15·σ_max — the two differ only for a rank-deficient head).
 * @param layer the classifier's last layer (logits = f·kernel + bias).
 * @returns u, [d].
 * @example Usage
 * ```ts
 * // W = [[2, 0]] (one class, 2-d features), b = (4): u = −pinv(W)·b = −(0.5, 0)·4 = (−2, 0)
 * classifierOrigin({ kernel: { data: Float32Array.of(2, 0), dim: 1 }, bias: Float32Array.of(4) }); // [−2, 0]
 * ```
 */
export function classifierOrigin(layer: LastLayer): Float64Array {
  const { kernel: { data: k, dim: c }, bias } = layer;
  const d = k.length / c;
  const gram = new Float64Array(c * c); // W·Wᵀ = kernelᵀ·kernel
  for (let i = 0; i < d; i++) {
    for (let a = 0; a < c; a++) {
      const kia = k[i * c + a]!;
      if (kia === 0) continue;
      for (let b = 0; b < c; b++) gram[a * c + b]! += kia * k[i * c + b]!;
    }
  }
  const gp = pseudoInverseSymmetric(gram, c);
  const t = new Float64Array(c); // (W·Wᵀ)⁺·b
  for (let a = 0; a < c; a++) for (let b = 0; b < c; b++) t[a]! += gp[a * c + b]! * bias[b]!;
  const u = new Float64Array(d); // −Wᵀ·t = −kernel·t
  for (let i = 0; i < d; i++) {
    let s = 0;
    for (let a = 0; a < c; a++) s += k[i * c + a]! * t[a]!;
    u[i] = -s;
  }
  return u;
}

/** The residual space of a principal-subspace fit, plain data. */
export interface PrincipalSubspace {
  /** Feature width d. */
  readonly dim: number;
  /** Principal dimension D (0 ≤ D < d). */
  readonly principalDim: number;
  /** The origin u [d] the features are centred on. */
  readonly origin: Float32Array;
  /** R [d, d − D], row-major: the eigenvectors of the d − D smallest eigenvalues (an orthonormal basis). */
  readonly residualBasis: Float32Array;
  /** Every eigenvalue of the uncentred covariance around u, descending (diagnostics). */
  readonly eigenvalues: number[];
}

/**
 * Fits ViM's principal subspace (Wang et al. 2022; the ViM repository's `benchmark.py`, OpenOOD's
 * `vim_postprocessor.py`): the "covariance" of the training features around u without subtracting their mean,
 * Σ_u = (1/N) Σ_i (f_i − u)(f_i − u)ᵀ (scikit-learn's `EmpiricalCovariance(assume_centered=True)`), computed in
 * float64 as S/N + (f̄ − u)(f̄ − u)ᵀ from the scatter S around the mean; its eigenvectors by Jacobi rotations
 * (`symmetricEigen`: exact symmetry, where the reference's `np.linalg.eig` is the general solver). The
 * residual space is spanned by the eigenvectors of all but the D largest eigenvalues. Eigenvalues tied across the
 * cut make that space non-unique (any choice is a valid fit); ties are broken by index here.
 * @param features training features [N, d] (a matrix).
 * @param origin u [d].
 * @param principalDim D, 0 ≤ D < d.
 * @returns the {@linkcode PrincipalSubspace}.
 * @throws on no rows, a mis-sized origin, D out of range, or non-finite features.
 */
export function fitPrincipalSubspace(
  features: Matrix,
  origin: ArrayLike<number>,
  principalDim: number,
): PrincipalSubspace {
  const d = features.dim, n = d ? features.data.length / d : 0;
  if (n < 1) throw new Error("fitPrincipalSubspace: no training features");
  if (origin.length !== d) {
    throw new Error(`fitPrincipalSubspace: origin has ${origin.length} values for ${d}-d features`);
  }
  if (!Number.isInteger(principalDim) || principalDim < 0 || principalDim >= d) {
    throw new Error(
      `fitPrincipalSubspace: the principal dimension must be an integer in [0, ${d}), got ${principalDim}`,
    );
  }
  for (let i = 0; i < features.data.length; i++) {
    if (!Number.isFinite(features.data[i]!)) {
      throw new Error(`fitPrincipalSubspace: feature row ${Math.floor(i / d)} is not finite`);
    }
  }
  const { means: [mean], scatter } = classMeansAndScatter(features.data, new Int32Array(n), n, d, 1);
  const shift = Float64Array.from(mean!, (m, j) => m - origin[j]!);
  const cov = Float64Array.from(scatter, (s, idx) => s / n + shift[Math.floor(idx / d)]! * shift[idx % d]!);
  const { values, vectors } = symmetricEigen(cov, d);
  const order = Array.from({ length: d }, (_, i) => i).sort((a, b) => values[b]! - values[a]! || a - b);
  const r = d - principalDim, basis = new Float32Array(d * r);
  for (let k = 0; k < r; k++) {
    const col = order[principalDim + k]!;
    for (let i = 0; i < d; i++) basis[i * r + k] = vectors[i * d + col]!;
  }
  return {
    dim: d,
    principalDim,
    origin: Float32Array.from(origin),
    residualBasis: basis,
    eigenvalues: order.map((i) => values[i]!),
  };
}

/** Rows per matmul in {@linkcode residualNorm} (bounds the [rows, d − D] intermediate). */
const RESIDUAL_BATCH = 4096;

/**
 * ‖(f − u)·R‖₂ per row: the norm of the feature's component outside the principal subspace (ViM's x^{P⊥}).
 * @param space from {@linkcode fitPrincipalSubspace}.
 * @param features [M, d].
 * @returns [M] norms (≥ 0); the caller disposes the tensor.
 */
export function residualNorm(space: PrincipalSubspace, features: tf.Tensor2D): tf.Tensor1D {
  const [m, d] = check2d(features, "features", "residualNorm");
  if (d !== space.dim) throw new Error(`residualNorm: the subspace was fitted on ${space.dim}-d features, got ${d}-d`);
  const r = d - space.principalDim;
  if (space.residualBasis.length !== d * r || space.origin.length !== d) {
    throw new Error("residualNorm: malformed subspace (basis or origin has the wrong size)");
  }
  if (m === 0) return tf.tensor1d([]);
  return tf.tidy(() => {
    const u = tf.tensor1d(space.origin), basis = tf.tensor2d(space.residualBasis, [d, r]);
    const parts: tf.Tensor1D[] = [];
    for (let start = 0; start < m; start += RESIDUAL_BATCH) {
      const rows = m <= RESIDUAL_BATCH
        ? features
        : tf.slice(features, [start, 0], [Math.min(RESIDUAL_BATCH, m - start), d]);
      parts.push(tf.norm(tf.matMul(tf.sub(rows, u), basis), "euclidean", 1) as tf.Tensor1D);
    }
    return (parts.length === 1 ? parts[0]! : tf.concat(parts)) as tf.Tensor1D;
  });
}

/** Fitted ViM state: the principal subspace and the virtual-logit scale (plain data). */
export interface VimState extends PrincipalSubspace {
  /** Discriminates score states. */
  readonly kind: "vim";
  /** α = mean_i max_c f_c(x_i) / mean_i ‖(f_i − u)·R‖ over the training set. */
  readonly alpha: number;
}

/** Options of {@linkcode fitVim}. */
export interface VimFitOptions {
  /** Principal dimension D; @default {@linkcode vimPrincipalDim}(d) */
  principalDim?: number | null;
}

/**
 * Fits ViM on training outputs: u from the last layer ({@linkcode classifierOrigin}), the principal subspace
 * ({@linkcode fitPrincipalSubspace}) and the virtual-logit scale
 *
 *   α = mean_i max_c logit_c(x_i) / mean_i ‖(f_i − u)·R‖   (over the training set, as the ViM repository and
 *   OpenOOD, whose logits are f·Wᵀ + b: the network's own logits when its head is that layer).
 *
 * Keeps no tensors.
 * @param features training features [N, d].
 * @param logits training logits [N, C].
 * @param layer the classifier's last linear layer.
 * @returns the {@linkcode VimState}.
 * @throws when the training residuals are all 0 (every training feature lies in the principal subspace, so α
 *   would be infinite: choose a smaller D), and as {@linkcode fitPrincipalSubspace}.
 */
export function fitVim(features: Matrix, logits: Matrix, layer: LastLayer, opts: VimFitOptions = {}): VimState {
  const d = features.dim, n = d ? features.data.length / d : 0;
  if (logits.data.length !== n * logits.dim) {
    throw new Error(`fitVim: ${logits.data.length / logits.dim} logit rows for ${n} features`);
  }
  if (layer.kernel.data.length !== d * layer.kernel.dim) {
    throw new Error(`fitVim: the last layer takes ${layer.kernel.data.length / layer.kernel.dim}-d inputs, not ${d}`);
  }
  const space = fitPrincipalSubspace(features, classifierOrigin(layer), opts.principalDim ?? vimPrincipalDim(d));
  const norms = fitMatrix(features, (t) => {
    const r = residualNorm(space, t);
    try {
      return r.dataSync();
    } finally {
      r.dispose();
    }
  });
  let maxLogits = 0, residuals = 0;
  for (let i = 0; i < n; i++) {
    let best = -Infinity;
    for (let j = 0; j < logits.dim; j++) best = Math.max(best, logits.data[i * logits.dim + j]!);
    maxLogits += best;
    residuals += norms[i]!;
  }
  if (!(residuals > 0)) {
    throw new Error(
      `fitVim: every training feature lies in the ${space.principalDim}-d principal subspace (zero residual), ` +
        `so α is undefined; choose a smaller principalDim`,
    );
  }
  return { kind: "vim", ...space, alpha: maxLogits / residuals };
}

/**
 * ViM score (Wang, Li, Feng & Zhang, "ViM: Out-Of-Distribution with Virtual-logit Matching", CVPR 2022): the
 * energy of the logits extended by a virtual logit α·‖x^{P⊥}‖, reduced to the form the paper's code evaluates.
 * Higher = more in-distribution:
 *
 *   S(x) = logsumexp_c f_c(x) − α·‖(h(x) − u)·R‖,  u = −pinv(W)·b,  R = residual basis of the training features.
 *
 * As the ViM repository's `benchmark.py` (`-vlogit + energy`) and OpenOOD's `vim_postprocessor.py`; pytorch-ood's
 * `vim.py` clips the logits to [−100, 100] before the logsumexp, which is not done here (TF.js's `logSumExp`
 * subtracts the maximum). The paper writes the score as the softmax probability of the virtual logit
 * v = α·‖x^{P⊥}‖, e^v / (e^v + Σ_c e^{f_c}) = σ(v − logsumexp f) (higher = OOD): a decreasing function of S, so
 * the ranking is the same; the code's difference is what is returned.
 * @see {@link https://arxiv.org/abs/2203.10807 | Paper} · reference code haoqiwang/vim
 * @param state from {@linkcode fitVim}.
 * @param features [M, d] penultimate features.
 * @param logits [M, C] logits of the same inputs.
 * @returns [M] scores; the caller disposes the tensor.
 */
export function vim(state: VimState, features: tf.Tensor2D, logits: tf.Tensor2D): tf.Tensor1D {
  const [m] = check2d(logits, "logits", "vim");
  if (state.kind !== "vim") throw new Error(`vim: not a ViM state (kind ${state.kind})`);
  if (features.shape[0] !== m) throw new Error(`vim: ${features.shape[0]} feature rows for ${m} logit rows`);
  return tf.tidy(() =>
    tf.sub(tf.logSumExp(logits, 1), tf.mul(residualNorm(state, features), state.alpha)) as tf.Tensor1D
  );
}

/** Options of the ViM detector. */
export interface VimDetectorOptions {
  /** Principal dimension D; `null` = the ViM repository's rule by feature width ({@linkcode vimPrincipalDim}). */
  principalDim: number | null;
}

/** Detector of {@linkcode vim} (registry id `vim`; needs the classifier's last linear layer). */
export const vimDetector: Detector<VimDetectorOptions, VimState> = {
  label: "ViM",
  citation: "Wang, Li, Feng & Zhang, CVPR 2022 (arXiv:2203.10807)",
  formula: "logsumexp(f) − α·‖(h − u)·R‖, u = −pinv(W)b, R ⟂ top-D training subspace, α from training data",
  needs: ["features", "logits"],
  defaults: { principalDim: null },
  fit: (ctx, o) => {
    const train = trainOutputs(ctx, "ViM");
    return fitVim(
      needOutput(train, "features", "ViM"),
      needOutput(train, "logits", "ViM"),
      needLastLayer(ctx.model, "ViM"),
      { principalDim: o.principalDim },
    );
  },
  score: (set, _o, state) =>
    scoreMatrices(
      [needOutput(set.outputs, "features", "ViM"), needOutput(set.outputs, "logits", "ViM")],
      ([f, l]) => vim(state, f!, l!),
    ),
};
