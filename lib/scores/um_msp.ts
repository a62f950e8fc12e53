/**
 * Unleashing Mask's MSP as its code computes it (a paper-specific detector).
 * @module
 */
import { tf } from "../tf.ts";
import { check2d } from "./_util.ts";
import { type Detector, needOutput } from "./detector.ts";
import { scoreMatrix } from "./matrix.ts";

/**
 * MSP as Unleashing Mask's `ood_measure.get_scores` computes it for `--msp`: the softmax is applied twice,
 * S(x) = max_c softmax(softmax(f(x)))_c (its `logsoftmax` is an `nn.Softmax`, applied to the already-softmaxed
 * output; papers.md §5a). Monotone in max_c softmax(f)_c only for two classes: in general a different ranking
 * from MSP. Higher = more in-distribution.
 * @returns a new [N] tensor.
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * mspUmCode(tf.tensor2d([[0, 0]])); // [0.5]
 * ```
 */
export function mspUmCode(logits: tf.Tensor2D): tf.Tensor1D {
  check2d(logits, "logits", "mspUmCode");
  return tf.tidy(() => tf.max(tf.softmax(tf.softmax(logits)), 1) as tf.Tensor1D);
}

/** Detector of {@linkcode mspUmCode} (registry id `umMsp`, Unleashing Mask's faithful MSP). */
export const umMspDetector: Detector<Record<never, never>, null> = {
  label: "MSP (UM code: softmax twice)",
  citation: "Zhu et al., ICML 2023 (arXiv:2306.03715), `ood_measure.get_scores`",
  formula: "max_c softmax(softmax(f(x)))_c",
  paper: "unleashing_mask",
  needs: ["logits"],
  defaults: {},
  score: (set) => scoreMatrix(needOutput(set.outputs, "logits", "umMsp"), (l) => mspUmCode(l)),
};
