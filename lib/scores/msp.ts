/**
 * Maximum softmax probability (MSP) — Hendrycks & Gimpel, ICLR 2017.
 * @module
 */
import { tf } from "../tf.ts";
import { check2d, checkPositive } from "./_util.ts";
import { type Detector, needOutput } from "./detector.ts";
import { scoreMatrix } from "./matrix.ts";

/** Options of {@linkcode msp}. */
export interface MspOptions {
  /** Softmax temperature T (temperature-scaling baseline); @default 1 */
  temperature?: number;
}

/**
 * Maximum softmax probability (Hendrycks & Gimpel, "A Baseline for Detecting Misclassified and
 * Out-of-Distribution Examples in Neural Networks", ICLR 2017). Higher = more in-distribution.
 *
 * S(x) = max_c softmax(f(x) / T)_c = 1 / Σ_j exp((f_j − f_max) / T).
 *
 * Computed in float32 as the papers' code does: very confident samples saturate at exactly 1, which makes ties
 * (the metrics count ties ½).
 * @see {@link https://arxiv.org/abs/1610.02136 | Paper}
 * @param logits [N, C] pre-softmax outputs.
 * @param opts.temperature T, default 1.
 * @returns [N] scores in (0, 1]; the caller disposes the tensor.
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * const s = msp(tf.tensor2d([[0, Math.log(3)]])); // [0.75]
 * ```
 */
export function msp(logits: tf.Tensor2D, opts: MspOptions = {}): tf.Tensor1D {
  const t = opts.temperature ?? 1;
  check2d(logits, "logits", "msp");
  checkPositive(t, "temperature", "msp");
  return tf.tidy(() => tf.max(tf.softmax(t === 1 ? logits : tf.div(logits, t)), 1) as tf.Tensor1D);
}

/** Detector of {@linkcode msp} (registry id `msp`). */
export const mspDetector: Detector<{ temperature: number }, null> = {
  label: "MSP",
  citation: "Hendrycks & Gimpel, ICLR 2017 (arXiv:1610.02136)",
  formula: "max_c softmax(f(x)/T)_c, T = 1",
  needs: ["logits"],
  defaults: { temperature: 1 },
  score: (set, o) => scoreMatrix(needOutput(set.outputs, "logits", "MSP"), (l) => msp(l, o)),
};
