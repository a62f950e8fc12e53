/**
 * Maximum logit — Hendrycks et al., ICML 2022.
 * @module
 */
import { tf } from "../tf.ts";
import { check2d } from "./_util.ts";
import { type Detector, needOutput } from "./detector.ts";
import { scoreMatrix } from "./matrix.ts";

/**
 * Maximum logit (Hendrycks, Basart, Mazeika, Zou, Kwon, Mostajabi, Steinhardt, Song, "Scaling Out-of-Distribution
 * Detection for Real-World Settings", ICML 2022; OpenOOD "MLS"). Higher = more in-distribution.
 *
 * S(x) = max_c f_c(x).
 * @see {@link https://arxiv.org/abs/1911.11132 | Paper}
 * @param logits [N, C] pre-softmax outputs.
 * @returns [N] scores; the caller disposes the tensor.
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * const s = maxLogit(tf.tensor2d([[1, 5, -2]])); // [5]
 * ```
 */
export function maxLogit(logits: tf.Tensor2D): tf.Tensor1D {
  check2d(logits, "logits", "maxLogit");
  return tf.tidy(() => tf.max(logits, 1) as tf.Tensor1D);
}

/** Detector of {@linkcode maxLogit} (registry id `maxLogit`). */
export const maxLogitDetector: Detector<Record<never, never>, null> = {
  label: "MaxLogit",
  citation: "Hendrycks et al., ICML 2022 (arXiv:1911.11132)",
  formula: "max_c f_c(x)",
  needs: ["logits"],
  defaults: {},
  score: (set) => scoreMatrix(needOutput(set.outputs, "logits", "MaxLogit"), (l) => maxLogit(l)),
};
