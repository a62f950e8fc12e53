/**
 * The losses of Unleashing Mask (Zhu et al., ICML 2023): the UM loss constraint on the batch cross-entropy and the
 * outlier-exposure term of its OE variant.
 * @module
 */
import { tf } from "../../tf.ts";

/** Options of {@linkcode umObjective} and {@linkcode umLoss}. */
export interface UmLossOptions {
  /** The estimated loss constraint UM (≥ 0). */
  um: number;
  /** β, the weight of the cross-entropy; default 1 (the repo's `--beta`). */
  beta?: number;
}

function checkUm(opts: UmLossOptions): { um: number; beta: number } {
  const beta = opts.beta ?? 1;
  if (!(opts.um >= 0) || !Number.isFinite(opts.um)) throw new Error(`UM must be a finite number ≥ 0, got ${opts.um}`);
  if (!(beta > 0) || !Number.isFinite(beta)) throw new Error(`beta must be a finite number > 0, got ${beta}`);
  return { um: opts.um, beta };
}

/**
 * The Unleashing Mask objective on a (batch-mean) loss value (Zhu et al., ICML 2023, Eq. for UM; the repo's
 * `CustomLoss`): L = |β·CE − UM| + UM. Its gradient is β·∂CE when β·CE > UM (descent) and −β·∂CE when
 * β·CE < UM (ascent), 0 at equality (the subgradient of |·| at 0, as PyTorch's `abs`): training is held at the
 * loss level UM, "forgetting" the atypical samples a well-trained model has memorised. Flooding-style, applied to
 * the batch mean, not per sample.
 * @see {@link https://arxiv.org/abs/2306.03715 | Paper} · adapted from ZFancy/Unleashing-Mask `utils/custom_loss.py`
 * @param ce a scalar loss (the batch-mean cross-entropy).
 * @returns a new scalar.
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * umObjective(tf.scalar(0.1), { um: 0.3 }); // |0.1 − 0.3| + 0.3 = 0.5
 * ```
 */
export function umObjective(ce: tf.Scalar, opts: UmLossOptions): tf.Scalar {
  const { um, beta } = checkUm(opts);
  return tf.tidy(() => {
    const d = tf.sub(tf.mul(ce, beta), um);
    // |d| written as d·sign(d): its gradient is sign(d), 0 at d = 0 like PyTorch's abs (TF.js's abs gives −1 there).
    return tf.add(tf.mul(d, tf.sign(d)), um) as tf.Scalar;
  });
}

/**
 * Mean softmax cross-entropy CE = −(1/N) Σ_i log softmax(f_i)_{y_i} (PyTorch `nn.CrossEntropyLoss()`).
 * @param logits [N, C].
 * @param labels [N] integer class ids.
 * @returns a new scalar.
 */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const onehot = tf.oneHot(tf.cast(labels, "int32"), logits.shape[1]);
    return tf.neg(tf.mean(tf.sum(tf.mul(tf.cast(onehot, "float32"), tf.logSoftmax(logits)), 1))) as tf.Scalar;
  });
}

/** The criterion of a fine-tuning run: plain cross-entropy (`CrossEntropyLoss`) or the UM constraint. */
export type UmCriterion = { kind: "ce" } | ({ kind: "um" } & UmLossOptions);

/**
 * The repo's criterion on a batch: `ce` → CE (what `get_criterion` builds when `--criterion` is
 * `CrossEntropyLoss`, the README command as written); `um` → |β·CE − UM| + UM ({@linkcode umObjective}).
 * @param logits [N, C].
 * @param labels [N] class ids.
 * @param criterion CE, or the UM constraint with its UM and β.
 * @returns a new scalar.
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * const logits = tf.tensor2d([[2, 0], [0, 2]]);
 * umLoss(logits, tf.tensor1d([0, 0], "int32"), { kind: "um", um: 0.5 });
 * ```
 */
export function umLoss(logits: tf.Tensor2D, labels: tf.Tensor1D, criterion: UmCriterion): tf.Scalar {
  return tf.tidy(() => {
    const ce = crossEntropy(logits, labels);
    return criterion.kind === "ce" ? ce : umObjective(ce, criterion);
  });
}

/**
 * The outlier-exposure term of UM's OE variant (`train_oe` with `oe_ood_method: oe`; Hendrycks et al., ICLR 2019):
 * mean over outliers of the cross-entropy to the uniform distribution, up to the constant log C:
 * L_OE = (1/M) Σ_j (logsumexp(f_j) − (1/C) Σ_c f_jc).
 * @see {@link https://arxiv.org/abs/1812.04606 | Outlier Exposure} · adapted from ZFancy/Unleashing-Mask
 *   `utils/neural_linear_opt.py`
 * @param logits [M, C] logits of auxiliary outliers.
 * @returns a new scalar.
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * oeUniformLoss(tf.tensor2d([[0, 0]])); // log 2
 * ```
 */
export function oeUniformLoss(logits: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.sub(tf.logSumExp(logits, 1), tf.mean(logits, 1))) as tf.Scalar);
}
