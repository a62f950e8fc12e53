/**
 * GEN, the generalised-entropy score — Liu, Lochman & Zach, CVPR 2023.
 * @module
 */
import { tf } from "../tf.ts";
import { check2d, checkPositive, checkPositiveInt } from "./_util.ts";
import { type Detector, needOutput } from "./detector.ts";
import { scoreMatrix } from "./matrix.ts";

/** Options of {@linkcode gen}. */
export interface GenOptions {
  /** Exponent γ > 0; @default 0.1 (see {@linkcode gen}) */
  gamma?: number;
  /** Number M of largest probabilities summed (capped at C); @default 100 */
  topM?: number;
}

/**
 * GEN (Liu, Lochman & Zach, "GEN: Pushing the Limits of Softmax-Based Out-of-Distribution Detection", CVPR 2023),
 * the negated generalised entropy of the M largest softmax probabilities. Higher = more in-distribution:
 *
 *   S(x) = −Σ_{j ∈ top-M(p)} p_j^γ · (1 − p_j)^γ,  p = softmax(f(x)).
 *
 * As the GEN repository's `benchmark.py::generalized_entropy` and OpenOOD's `gen_postprocessor.py` (same code):
 * the sum runs over the M largest probabilities, all of them when M ≥ C (numpy's `sort(p)[:, -M:]` keeps every
 * column then), and the probabilities are not renormalised over the top M. Which of several tied probabilities
 * is "in" the top M changes nothing, since only their values enter the sum.
 *
 * **Defaults.** γ = 0.1, M = 100: the repository's `--gamma`/`--M` defaults and OpenOOD's `gen.yml`
 * `postprocessor_args`. OpenOOD's APS mode tunes γ ∈ {0.01, …, 10} and M ∈ {10, …, 1000} (`postprocessor_sweep`)
 * on ID and OOD validation sets; this entry does not tune. With C ≤ 100 classes, M = 100 means "all classes".
 * @see {@link https://openaccess.thecvf.com/content/CVPR2023/papers/Liu_GEN_Pushing_the_Limits_of_Softmax-Based_Out-of-Distribution_Detection_CVPR_2023_paper.pdf | Paper}
 *   · reference code XixiLiu95/GEN
 * @param logits [N, C] pre-softmax outputs.
 * @param opts.gamma γ, default 0.1; opts.topM M, default 100.
 * @returns [N] scores in [−min(M, C)·2^(−2γ), 0]; the caller disposes the tensor.
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * // p = (¼, ¾): −2·(¼·¾)^0.5 = −√3/2 ≈ −0.8660 with γ = 0.5
 * const s = gen(tf.tensor2d([[0, Math.log(3)]]), { gamma: 0.5 });
 * ```
 */
export function gen(logits: tf.Tensor2D, opts: GenOptions = {}): tf.Tensor1D {
  const [, c] = check2d(logits, "logits", "gen");
  const gamma = opts.gamma ?? 0.1, m = opts.topM ?? 100;
  checkPositive(gamma, "gamma", "gen");
  checkPositiveInt(m, "topM", "gen");
  return tf.tidy(() => {
    const p = tf.softmax(logits);
    const top = m >= c ? p : tf.topk(p, m, false).values;
    // p^γ·(1 − p)^γ as one power of the product: 0 at p = 0 and p = 1 (tf.pow(0, γ) = 0 for γ > 0).
    return tf.neg(tf.sum(tf.pow(tf.mul(top, tf.sub(1, top)), gamma), 1)) as tf.Tensor1D;
  });
}

/** Options of the GEN detector (see {@linkcode GenOptions}). */
export interface GenDetectorOptions {
  /** γ. */
  gamma: number;
  /** M. */
  topM: number;
}

/** Detector of {@linkcode gen} (registry id `gen`; γ = 0.1, M = 100 as the paper's code). */
export const genDetector: Detector<GenDetectorOptions, null> = {
  label: "GEN",
  citation: "Liu, Lochman & Zach, CVPR 2023 (CVF open access; code XixiLiu95/GEN)",
  formula: "−Σ_{j ∈ top-M} p_j^γ·(1 − p_j)^γ, p = softmax(f), γ = 0.1, M = 100",
  needs: ["logits"],
  defaults: { gamma: 0.1, topM: 100 },
  score: (set, o) => scoreMatrix(needOutput(set.outputs, "logits", "GEN"), (l) => gen(l, o)),
};
