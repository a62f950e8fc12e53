/**
 * GradNorm — Huang, Geng, Li, NeurIPS 2021: the L1 norm of the last layer's weight gradient of the cross-entropy
 * to the uniform distribution, in closed form.
 * @module
 */
import { tf } from "../tf.ts";
import { check2d, checkPositive } from "./_util.ts";
import { checkLayerInput, layerLogits } from "./_last_layer.ts";
import { type Detector, type LastLayer, needLastLayer, needOutput } from "./detector.ts";
import { scoreMatrix } from "./matrix.ts";

/** Options of {@linkcode gradNorm}. */
export interface GradNormOptions {
  /** Temperature T of the softmax; @default 1 (GradNorm's `--temperature_gradnorm` default) */
  temperature?: number;
}

/**
 * GradNorm score (Huang, Geng, Li, "On the Importance of Gradients for Detecting Distributional Shifts in the
 * Wild", NeurIPS 2021). Higher = more in-distribution (ID inputs get larger gradients).
 *
 * The reference code (GradNorm's `iterate_data_gradnorm`, batch size forced to 1; OpenOOD's
 * `GradNormPostprocessor.gradnorm`, one sample at a time) back-propagates L = Σ_c −log softmax(z/T)_c, z = Wᵀh + b,
 * and sums |∂L/∂W| over the weights (not the bias). That gradient has a closed form: ∂L/∂z_c = (C·p_c − 1)/T with
 * p = softmax(z/T), and ∂L/∂W_kc = h_k · ∂L/∂z_c, so
 *
 *   S(x) = (1/T) · (Σ_k |h_k|) · (Σ_c |C·p_c − 1|).
 *
 * The paper writes the loss as D_KL(u ‖ softmax) = −(1/C) Σ_c log p_c − log C, whose gradient is the code's
 * divided by C; the code's scale is kept (a constant factor, same ranking). Computed from the extracted features
 * without running autodiff (`gradnorm_test.ts` checks it against `tf.grad` of the code's loss).
 * @see {@link https://arxiv.org/abs/2110.00218 | Paper} · reference code deeplearning-wisc/gradnorm_ood
 * @param features test features [M, d] (the input of the last layer).
 * @param layer the classifier's last linear layer.
 * @returns [M] scores (≥ 0); the caller disposes the tensor.
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * const layer = { kernel: { data: Float32Array.of(1, 0, 0, 0), dim: 2 }, bias: new Float32Array(2) };
 * const s = gradNorm(tf.tensor2d([[0, 2]]), layer); // z = (0, 0), p = (½, ½): S = 2 · 0 = [0]
 * ```
 */
export function gradNorm(features: tf.Tensor2D, layer: LastLayer, opts: GradNormOptions = {}): tf.Tensor1D {
  const [, d] = check2d(features, "features", "gradNorm");
  const t = opts.temperature ?? 1;
  checkPositive(t, "temperature", "gradNorm");
  checkLayerInput(layer, d, "gradNorm");
  const c = layer.kernel.dim;
  return tf.tidy(() => {
    const logits = layerLogits(features, layer);
    const p = tf.softmax(t === 1 ? logits : tf.div(logits, t));
    const classPart = tf.sum(tf.abs(tf.sub(tf.mul(p, c), 1)), 1);
    const featurePart = tf.sum(tf.abs(features), 1);
    return tf.div(tf.mul(classPart, featurePart), t) as tf.Tensor1D;
  });
}

/**
 * Detector of {@linkcode gradNorm} (registry id `gradnorm`; T = 1, the paper's and OpenOOD's default —
 * OpenOOD's `gradnorm.yml` has no arguments).
 */
export const gradNormDetector: Detector<{ temperature: number }, null> = {
  label: "GradNorm",
  citation: "Huang, Geng & Li, NeurIPS 2021 (arXiv:2110.00218)",
  formula: "‖∂/∂W Σ_c −log softmax(Wᵀh + b)_c‖₁ = ‖h‖₁ · Σ_c |C·p_c − 1|",
  needs: ["features"],
  defaults: { temperature: 1 },
  score: (set, o, _state, ctx) => {
    const layer = needLastLayer(ctx.model, "GradNorm");
    return scoreMatrix(needOutput(set.outputs, "features", "GradNorm"), (f) => gradNorm(f, layer, o));
  },
};
