/**
 * CIDER's class prototypes (Ming, Sun, Dia, Li, ICLR 2023, §3.2 "Prototype estimation and update"): unit
 * vectors μ_c, initialised from the training set and updated by an exponential moving average **sequentially,
 * one embedding at a time in batch order**, with the dispersion loss back-propagating through the update.
 *
 * What the reference code does (deeplearning-wisc/cider `utils/losses.py`, `DisLoss.forward`; papers.md §6a):
 *
 *   for j = 0 … N−1 (the 2B embeddings of a two-view batch, first views then second views):
 *     μ_{y_j} ← normalize(α·μ_{y_j} + (1 − α)·z_j)                                    (1)
 *
 * written as an in-place row assignment on a tensor that autograd tracks. Hence, within one batch, the
 * gradient of anything computed from the final μ reaches every z_j of the class through the whole chain of
 * updates (1): the (1 − α)·z_j term of its own update and, through α·μ, every later update of the same class.
 * The prototypes entering the batch are constants (`self.prototypes = prototypes.detach()` after each batch),
 * so nothing flows into earlier batches. A vectorised "mean of the batch, then one EMA step" is a different
 * algorithm (duplicates of a class compound here) and is not used.
 *
 * Here (1) runs in float64 JavaScript inside `tf.customGrad`; its backward is the exact reverse-mode derivative
 * of the chain, with normalize(v) = v / max(‖v‖, 1e-12) (PyTorch `F.normalize`) and
 * ∂normalize(v)/∂v = (I − u·uᵀ)/‖v‖, u = v/‖v‖. `tests/methods/cider/prototypes_test.ts` checks it against a
 * hand-computed two-sample example and against TF.js autograd of a literal, op-by-op port of (1).
 * @module
 */
import { tf } from "../../tf.ts";

/** PyTorch `F.normalize`'s ε. */
const NORM_EPS = 1e-12;

/** The state the update reads and writes: C prototypes of dimension d, row-major. */
export interface PrototypeSet {
  /** Number of classes C. */
  readonly numClasses: number;
  /** Embedding dimension d. */
  readonly dim: number;
  /** C·d values, row-major; each row a unit vector. */
  readonly values: Float32Array;
}

/** What the forward pass of {@linkcode sequentialEma} records for its backward pass. */
interface EmaTrace {
  /** ‖v_j‖ of each update (after the ε clamp). */
  norms: Float64Array;
  /** u_j = normalize(v_j), N·d. */
  units: Float64Array;
}

/**
 * Runs the sequential update (1) in float64 on plain arrays.
 *
 * @param prototypes C·d starting prototypes (row-major).
 * @param z N·d embeddings, in batch order.
 * @param labels N class indices in [0, C).
 * @param dim d.
 * @param alpha Prototype momentum α ∈ [0, 1].
 * @returns The C·d updated prototypes and the trace for the backward pass.
 */
export function sequentialEmaForward(
  prototypes: ArrayLike<number>,
  z: ArrayLike<number>,
  labels: ArrayLike<number>,
  dim: number,
  alpha: number,
): { values: Float64Array; trace: EmaTrace } {
  const n = labels.length;
  const numClasses = prototypes.length / dim;
  const mu = Float64Array.from(prototypes);
  const norms = new Float64Array(n), units = new Float64Array(n * dim);
  for (let j = 0; j < n; j++) {
    const c = labels[j]!;
    if (!(Number.isInteger(c) && c >= 0 && c < numClasses)) {
      throw new Error(`sequentialEma: label ${c} at position ${j} is not a class index in [0, ${numClasses})`);
    }
    let sq = 0;
    for (let k = 0; k < dim; k++) {
      const v = alpha * mu[c * dim + k]! + (1 - alpha) * z[j * dim + k]!;
      units[j * dim + k] = v;
      sq += v * v;
    }
    const norm = Math.max(Math.sqrt(sq), NORM_EPS);
    norms[j] = norm;
    for (let k = 0; k < dim; k++) {
      const u = units[j * dim + k]! / norm;
      units[j * dim + k] = u;
      mu[c * dim + k] = u;
    }
  }
  return { values: mu, trace: { norms, units } };
}

/**
 * Reverse-mode derivative of the sequential update: ∂L/∂z from ∂L/∂μ_final (the starting prototypes are
 * constants). For each class, walking its updates backwards with g = ∂L/∂μ after update j:
 *   g_v = (g − u_j·(u_jᵀg)) / ‖v_j‖,   ∂L/∂z_j += (1 − α)·g_v,   g ← α·g_v   (the μ the update read).
 * (With the ε clamp active, ‖v‖ < 1e-12, PyTorch's gradient is g/ε; that never happens for unit-length inputs
 * with α < 1 and is not reproduced.)
 */
export function sequentialEmaBackward(
  dPrototypes: ArrayLike<number>,
  trace: EmaTrace,
  labels: ArrayLike<number>,
  dim: number,
  alpha: number,
): Float64Array {
  const n = labels.length;
  const g = Float64Array.from(dPrototypes); // running ∂L/∂μ_c, per class
  const dz = new Float64Array(n * dim);
  for (let j = n - 1; j >= 0; j--) {
    const c = labels[j]!;
    const norm = trace.norms[j]!;
    let dot = 0;
    for (let k = 0; k < dim; k++) dot += trace.units[j * dim + k]! * g[c * dim + k]!;
    for (let k = 0; k < dim; k++) {
      const gv = (g[c * dim + k]! - trace.units[j * dim + k]! * dot) / norm;
      dz[j * dim + k] = (1 - alpha) * gv;
      g[c * dim + k] = alpha * gv;
    }
  }
  return dz;
}

/**
 * The sequential EMA update (1) as a differentiable TF.js op: returns the updated prototypes [C, d], whose
 * gradient flows into `z` through the whole within-batch update chain, exactly as autograd does on CIDER's
 * in-place PyTorch loop. No gradient flows into `prototypes` (detached state, as in the reference).
 *
 * @see {@link https://arxiv.org/abs/2203.04450 | CIDER paper} · deeplearning-wisc/cider `utils/losses.py` `DisLoss`
 * @param prototypes The prototypes entering the batch, [C, d] (treated as constants).
 * @param z L2-normalised embeddings of the batch, [N, d], in batch order.
 * @param labels N class indices.
 * @param opts.momentum α (CIDER `--proto_m`: 0.95 CIFAR-10 script, 0.5 CIFAR-100).
 * @returns [C, d] updated prototypes (one new tensor).
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * const mu = sequentialEma(tf.tensor2d([[1, 0], [0, 1]]), tf.tensor2d([[0, 1]]), [0], { momentum: 0.5 });
 * // row 0 becomes normalize(0.5·(1, 0) + 0.5·(0, 1)) = (0.7071, 0.7071)
 * ```
 */
export function sequentialEma(
  prototypes: tf.Tensor2D,
  z: tf.Tensor2D,
  labels: ArrayLike<number>,
  opts: { momentum: number },
): tf.Tensor2D {
  const alpha = opts.momentum;
  if (!(alpha >= 0 && alpha <= 1)) throw new Error(`sequentialEma: momentum must be in [0, 1], got ${alpha}`);
  const [numClasses, dim] = prototypes.shape;
  if (z.shape[1] !== dim) throw new Error(`sequentialEma: z has dimension ${z.shape[1]}, prototypes ${dim}`);
  if (z.shape[0] !== labels.length) throw new Error(`sequentialEma: ${z.shape[0]} embeddings, ${labels.length} labels`);
  const labelCopy = Int32Array.from(labels);
  // Typed loosely: TF.js types the function's arguments as a union of tensors and the save callback.
  const op = tf.customGrad(
    ((zIn: tf.Tensor, pIn: tf.Tensor) => {
      const { values, trace } = sequentialEmaForward(pIn.dataSync(), zIn.dataSync(), labelCopy, dim, alpha);
      return {
        value: tf.tensor2d(Float32Array.from(values), [numClasses, dim]),
        gradFunc: (dy: tf.Tensor) => {
          const dz = sequentialEmaBackward(dy.dataSync(), trace, labelCopy, dim, alpha);
          return [tf.tensor2d(Float32Array.from(dz), zIn.shape as [number, number]), tf.zerosLike(pIn)];
        },
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0],
  );
  return op(z, prototypes) as tf.Tensor2D;
}

/**
 * Initial prototypes as CIDER's `init_class_prototypes` computes them: the mean of the (already L2-normalised)
 * embeddings of each class over the training set, then L2-normalised (papers.md §6a; the reference runs the
 * network in eval mode with the eval transform, over the **training** set since its Apr-28 update, issue #9).
 *
 * @param z Embeddings, N·d row-major (one row per training image).
 * @param labels N class indices.
 * @param numClasses C.
 * @returns The C·d prototypes.
 * @throws Error when a class has no sample (the reference would divide by zero).
 */
export function meanPrototypes(z: ArrayLike<number>, labels: ArrayLike<number>, numClasses: number): PrototypeSet {
  const n = labels.length;
  const dim = z.length / n;
  if (!Number.isInteger(dim) || dim < 1) throw new Error(`meanPrototypes: ${z.length} values for ${n} labels`);
  const sums = new Float64Array(numClasses * dim), counts = new Float64Array(numClasses);
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    if (!(Number.isInteger(c) && c >= 0 && c < numClasses)) throw new Error(`meanPrototypes: bad label ${c}`);
    counts[c]!++;
    for (let k = 0; k < dim; k++) sums[c * dim + k]! += z[i * dim + k]!;
  }
  const values = new Float32Array(numClasses * dim);
  for (let c = 0; c < numClasses; c++) {
    if (counts[c] === 0) throw new Error(`meanPrototypes: class ${c} has no training sample`);
    let sq = 0;
    for (let k = 0; k < dim; k++) sq += (sums[c * dim + k]! / counts[c]!) ** 2;
    const norm = Math.max(Math.sqrt(sq), NORM_EPS);
    for (let k = 0; k < dim; k++) values[c * dim + k] = sums[c * dim + k]! / counts[c]! / norm;
  }
  return { numClasses, dim, values };
}
