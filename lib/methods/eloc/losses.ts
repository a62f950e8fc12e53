/**
 * ELOC's training loss (Vyas et al., "Out-of-Distribution Detection Using an Ensemble of Self Supervised Leave-out
 * Classifiers", ECCV 2018; re-implementation YU1ut/Ensemble-of-Leave-out-Classifiers@d80b29c, papers.md §3a): the
 * cross-entropy of the ID batch plus a hinge on the gap between the mean softmax entropies of the ID batch and of
 * the left-out ("OOD") batch.
 * @module
 */
import { tf } from "../../tf.ts";

/**
 * Batch mean of the softmax entropy (natural log):
 *
 * H̄(z) = (1/N) Σ_n −Σ_c p_nc log p_nc,  p_n = softmax(z_n),
 *
 * with log p from `logSoftmax` (finite for any finite logits, so a saturated p_c = 0 contributes 0·(−large) = 0,
 * never NaN). As the reference's `-torch.mean(torch.sum(F.log_softmax(out, 1) * F.softmax(out, 1), 1))`
 * (`eloc_solver.py`, `train`, the `E_id` / `E_ood` lines).
 * @param logits [N, C] pre-softmax outputs (N ≥ 1).
 * @returns A scalar in [0, log C]; the caller disposes it.
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * const h = meanEntropy(tf.tensor2d([[0, 0]])); // log 2 ≈ 0.6931
 * ```
 */
export function meanEntropy(logits: tf.Tensor2D): tf.Scalar {
  if (logits.rank !== 2 || logits.shape[0] < 1 || logits.shape[1] < 1) {
    throw new Error(`meanEntropy: logits must be [N ≥ 1, C ≥ 1], got [${logits.shape}]`);
  }
  return tf.tidy(() => {
    const logP = tf.logSoftmax(logits);
    return tf.neg(tf.mean(tf.sum(tf.mul(tf.exp(logP), logP), 1))) as tf.Scalar;
  });
}

/** Options of {@linkcode marginEntropyLoss}. */
export interface MarginEntropyOptions {
  /** Weight β of the hinge (`--beta`, default 0.2, `train.py`); 0 = plain cross-entropy. @default 0.2 */
  beta?: number;
  /** Margin m (hard-coded `0.4` in `eloc_solver.py`, `train`). @default 0.4 */
  margin?: number;
}

/** The terms of {@linkcode marginEntropyLoss}; the caller disposes all four scalars. */
export interface MarginEntropyLoss {
  /** L = CE + β·max(0, m + H̄_ID − H̄_OOD). */
  loss: tf.Scalar;
  /** Mean cross-entropy of the ID batch. */
  ce: tf.Scalar;
  /** H̄ of the ID batch. */
  entropyId: tf.Scalar;
  /** H̄ of the left-out batch. */
  entropyOod: tf.Scalar;
}

/**
 * ELOC's margin-entropy loss for one step of a leave-out classifier:
 *
 * L = CE_mean(z_ID, y) + β · max(0, m + H̄(z_ID) − H̄(z_OOD)),
 *
 * H̄ = {@linkcode meanEntropy}, CE_mean = `nn.CrossEntropyLoss()` (mean over the ID batch). The reference:
 * `loss = self.criterion_cel(output_id, target_id) + self.args.beta * torch.clamp(0.4 + E_id - E_ood, min=0)`
 * (`eloc_solver.py`, `train`), with β = 0.2 (`train.py` `--beta`) and m = 0.4. The hinge pushes the left-out
 * batch's mean entropy at least m above the ID batch's; it is inactive (no gradient) once the gap reaches m.
 * With β = 0, L = CE exactly (the ablation without the margin-entropy term). At a gap of exactly m the hinge's
 * gradient passes (`tf.maximum`'s ≥, as `torch.clamp`'s backward).
 * @param idLogits [N, C] logits of the ID batch.
 * @param labels [N] int32 ID labels in [0, C).
 * @param oodLogits [M, C] logits of the left-out batch (its labels are ignored).
 * @param opts β and m.
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * const { loss, ce, entropyId, entropyOod } = marginEntropyLoss(
 *   tf.tensor2d([[2, 0]]), tf.tensor1d([0], "int32"), tf.tensor2d([[0, 0]]), { beta: 0.2, margin: 0.4 },
 * );
 * tf.dispose([loss, ce, entropyId, entropyOod]);
 * ```
 */
export function marginEntropyLoss(
  idLogits: tf.Tensor2D,
  labels: tf.Tensor1D,
  oodLogits: tf.Tensor2D,
  opts: MarginEntropyOptions = {},
): MarginEntropyLoss {
  const beta = opts.beta ?? 0.2, margin = opts.margin ?? 0.4;
  if (!(Number.isFinite(beta) && beta >= 0)) throw new Error(`marginEntropyLoss: beta must be ≥ 0, got ${beta}`);
  if (!Number.isFinite(margin)) throw new Error(`marginEntropyLoss: margin must be finite, got ${margin}`);
  if (idLogits.rank !== 2 || oodLogits.rank !== 2) {
    throw new Error(`marginEntropyLoss: logits must be 2-D, got [${idLogits.shape}] and [${oodLogits.shape}]`);
  }
  const c = idLogits.shape[1];
  if (oodLogits.shape[1] !== c) {
    throw new Error(`marginEntropyLoss: ID logits have ${c} classes, left-out logits ${oodLogits.shape[1]}`);
  }
  if (labels.rank !== 1 || labels.shape[0] !== idLogits.shape[0]) {
    throw new Error(`marginEntropyLoss: labels [${labels.shape}] do not match ID logits [${idLogits.shape}]`);
  }
  const entropyId = meanEntropy(idLogits);
  const entropyOod = meanEntropy(oodLogits);
  const ce = tf.tidy(() =>
    tf.losses.softmaxCrossEntropy(tf.oneHot(tf.cast(labels, "int32"), c), idLogits) as tf.Scalar
  );
  const loss = tf.tidy(() =>
    tf.add(ce, tf.mul(beta, tf.maximum(tf.add(margin, tf.sub(entropyId, entropyOod)), 0))) as tf.Scalar
  );
  return { loss, ce, entropyId, entropyOod };
}
