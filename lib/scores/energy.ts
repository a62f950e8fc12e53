/**
 * Energy score — Liu, Wang, Owens, Li, NeurIPS 2020.
 * @module
 */
import { tf } from "../tf.ts";
import { check2d, checkPositive } from "./_util.ts";
import { type Detector, needOutput } from "./detector.ts";
import { scoreMatrix } from "./matrix.ts";

/** Options of {@linkcode energy}. */
export interface EnergyOptions {
  /** Temperature T; @default 1 (the Energy paper and Unleashing Mask, papers.md §5a) */
  temperature?: number;
}

/**
 * Energy score (Liu, Wang, Owens, Li, "Energy-based Out-of-distribution Detection", NeurIPS 2020), i.e. the
 * **negated** free energy, so higher = more in-distribution (as in Unleashing Mask's `get_energy`,
 * papers.md §5a).
 *
 * S(x) = −E(x; T) = T · logsumexp(f(x) / T) = T · log Σ_c exp(f_c(x) / T).
 *
 * Numerically stable (TF.js `logSumExp` subtracts the row maximum).
 * @see {@link https://arxiv.org/abs/2010.03759 | Paper} · reference code wetliu/energy_ood
 * @param logits [N, C] pre-softmax outputs.
 * @param opts.temperature T, default 1.
 * @returns [N] scores; the caller disposes the tensor.
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * const s = energy(tf.tensor2d([[0, Math.log(3)]])); // [log 4 ≈ 1.3863]
 * ```
 */
export function energy(logits: tf.Tensor2D, opts: EnergyOptions = {}): tf.Tensor1D {
  const t = opts.temperature ?? 1;
  check2d(logits, "logits", "energy");
  checkPositive(t, "temperature", "energy");
  return tf.tidy(() => {
    if (t === 1) return tf.logSumExp(logits, 1) as tf.Tensor1D;
    return tf.mul(tf.logSumExp(tf.div(logits, t), 1), t) as tf.Tensor1D;
  });
}

/** Detector of {@linkcode energy} (registry id `energy`). */
export const energyDetector: Detector<{ temperature: number }, null> = {
  label: "Energy",
  citation: "Liu, Wang, Owens & Li, NeurIPS 2020 (arXiv:2010.03759)",
  formula: "T·logsumexp(f(x)/T), T = 1 (negated energy)",
  needs: ["logits"],
  defaults: { temperature: 1 },
  score: (set, o) => scoreMatrix(needOutput(set.outputs, "logits", "Energy"), (l) => energy(l, o)),
};
