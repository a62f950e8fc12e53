/**
 * Negative predictive entropy — the entropy baseline of the OOD literature (as in pytorch-ood's `Entropy` and the
 * GEN repository's `shannon_entropy`).
 * @module
 */
import { tf } from "../tf.ts";
import { check2d } from "./_util.ts";
import { type Detector, needOutput } from "./detector.ts";
import { scoreMatrix } from "./matrix.ts";

/**
 * Negative Shannon entropy of the softmax, the uncertainty baseline that has no paper of its own (pytorch-ood's
 * `Entropy` cites none; the GEN repository's `benchmark.py` runs it as "Shannon entropy" next to GEN).
 * Higher = more in-distribution:
 *
 *   S(x) = −H(p) = Σ_c p_c · log p_c,  p = softmax(f(x)),  in [−log C, 0].
 *
 * pytorch-ood's `detector/entropy.py` returns +H (its outlier-score convention); the GEN repository's
 * `benchmark.py::shannon_entropy` returns Σ p·log p as here. Both take `p.log()` of the softmax, which is −∞ where
 * a probability underflows to 0 in float32 (0 · −∞ = NaN); this takes log p from `logSoftmax` (finite) and
 * p = exp(log p), so an underflowed class adds exactly 0, its limit.
 * @see pytorch-ood `detector/entropy.py` · XixiLiu95/GEN `benchmark.py`
 * @param logits [N, C] pre-softmax outputs.
 * @returns [N] scores in [−log C, 0]; the caller disposes the tensor.
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * const s = negativeEntropy(tf.tensor2d([[0, 0], [0, Math.log(3)]])); // [−ln 2, ¼·ln ¼ + ¾·ln ¾ ≈ −0.5623]
 * ```
 */
export function negativeEntropy(logits: tf.Tensor2D): tf.Tensor1D {
  check2d(logits, "logits", "negativeEntropy");
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits);
    return tf.sum(tf.mul(tf.exp(logp), logp), 1) as tf.Tensor1D;
  });
}

/** Detector of {@linkcode negativeEntropy} (registry id `entropy`). */
export const entropyDetector: Detector<Record<never, never>, null> = {
  label: "Entropy",
  citation: "Shannon entropy of the softmax (a baseline without its own paper; pytorch-ood's Entropy, GEN's code)",
  formula: "−H(softmax(f)) = Σ_c p_c·log p_c",
  needs: ["logits"],
  defaults: {},
  score: (set) => scoreMatrix(needOutput(set.outputs, "logits", "Entropy"), (l) => negativeEntropy(l)),
};
