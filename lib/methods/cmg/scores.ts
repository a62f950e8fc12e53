/**
 * CMG's test-time scores (Wang, Shao, Lin, Hu, Liu, "CMG: A Class-Mixed Generation Approach to Out-of-Distribution
 * Detection", ECML-PKDD 2022; code `shaoyijia/CMG` @265cc2c, `models/utils/score.py` and `training/fine_tune.py`; papers.md §4a),
 * oriented as the project's scores are: **higher = more in-distribution**. The reference's are outlier scores
 * (higher = OOD, `roc_auc_score(y == -1, score)`, `score.py` lines 16 and 31), so each function here is the
 * negation of the reference's score and gives the same AUROC with ID as the positive class.
 *
 * Both scores see only the first K + 1 logits: the evaluation keeps `output[:, 0:7]` (K = 6, `fine_tune.py` lines
 * 157 and 164; `output[:, 0:11]` for K = 10 in Setting 2, lines 274 and 281) before calling `score.py`.
 * @module
 */
import { tf } from "../../tf.ts";
import { check2d, checkPositiveInt } from "../../scores/_util.ts";

/**
 * CMG-s score: minus the softmax probability of the "unseen" slot K, the softmax taken over logits 0..K only,
 *
 *   S(x) = −softmax(f_{0..K}(x))_K = −exp f_K / Σ_{c ≤ K} exp f_c.
 *
 * The reference scores `F.softmax(fx, dim=1)[:, -1]` on `fx = output[:, 0:K+1]` (`models/utils/score.py` line 15,
 * `training/fine_tune.py` lines 157, 164, 171), an outlier score; this is its negation (higher = more ID). Spare
 * logits K+1..n_out−1 are ignored.
 * @param logits [N, n_out] pre-softmax outputs, n_out ≥ K + 1.
 * @param K number of seen classes; column K is the unseen slot.
 * @returns [N] scores in [−1, 0]; the caller disposes the tensor.
 * @throws when `logits` is not 2-D or has fewer than K + 1 columns.
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * const s = cmgSScore(tf.tensor2d([[0, 0, Math.log(2), 9]]), 2); // [−0.5] (the spare logit 9 is ignored)
 * ```
 */
export function cmgSScore(logits: tf.Tensor2D, K: number): tf.Tensor1D {
  return tf.tidy(() => {
    const z = firstColumns(logits, K, K + 1, "cmgSScore");
    return tf.neg(tf.reshape(tf.slice(tf.softmax(z), [0, K], [-1, 1]), [-1])) as tf.Tensor1D;
  });
}

/**
 * CMG-e score: the negated test energy over the K seen-class logits,
 *
 *   S(x) = −E_test(x) = logsumexp_{c < K} f_c(x) = log Σ_{c < K} exp f_c(x).
 *
 * The reference scores `- torch.logsumexp(fx[:, :-1], dim=1)` on `fx = output[:, 0:K+1]`, i.e. the energy over
 * logits 0..K−1 (`models/utils/score.py` line 30; `training/fine_tune.py` lines 157, 164, 173), an outlier score
 * (higher energy = OOD); this is its negation. Unlike the training energy of `cmgELoss` (all n_out logits,
 * `fine_tune.py` lines 133–134) the unseen slot K and the spare slots are left out: the reference's train/test
 * mismatch, kept (papers.md §4a, §4f).
 * @param logits [N, n_out] pre-softmax outputs, n_out ≥ K.
 * @param K number of seen classes.
 * @returns [N] scores; the caller disposes the tensor.
 * @throws when `logits` is not 2-D or has fewer than K columns.
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * const s = cmgEScore(tf.tensor2d([[0, Math.log(3), 7]]), 2); // [log 4 ≈ 1.3863]
 * ```
 */
export function cmgEScore(logits: tf.Tensor2D, K: number): tf.Tensor1D {
  return tf.tidy(() => tf.logSumExp(firstColumns(logits, K, K, "cmgEScore"), 1) as tf.Tensor1D);
}

/** Checks K and the width; returns the first `keep` columns (a new tensor when slicing: call inside `tf.tidy`). */
function firstColumns(logits: tf.Tensor2D, K: number, keep: number, where: string): tf.Tensor2D {
  const [, c] = check2d(logits, "logits", where);
  checkPositiveInt(K, "K", where);
  if (keep > c) throw new Error(`${where}: needs ${keep} logits for K = ${K}, got ${c}`);
  return keep === c ? logits : tf.slice(logits, [0, 0], [-1, keep]);
}
