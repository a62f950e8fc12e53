/**
 * Batch normalisation in training mode (batch statistics), as one differentiable op.
 * @module
 */
import { tf } from "../tf.ts";
import { BATCH_NORM_TRAIN } from "../engine/fused/mod.ts";

/** Output of {@link batchNormTrain}: the normalised tensor and the batch statistics it used. */
export interface BatchNormTrainResult {
  y: tf.Tensor;
  /** Per-channel batch mean (no gradient flows through it). */
  mean: tf.Tensor1D;
  /** Per-channel biased batch variance (no gradient flows through it). */
  variance: tf.Tensor1D;
}

/**
 * y = γ (x − μ_B) / √(σ²_B + ε) + β over all axes but the last (Ioffe & Szegedy, ICML 2015).
 * Runs the fused `OodBatchNormTrain` kernel when the active backend has it (one pass for the statistics,
 * one for the output, and a two-pass gradient); elsewhere it composes `tf.moments` and `tf.batchNorm`.
 */
export function batchNormTrain(
  x: tf.Tensor,
  scale: tf.Tensor1D,
  offset: tf.Tensor1D,
  opts: { epsilon: number },
): BatchNormTrainResult {
  if (tf.getKernel(BATCH_NORM_TRAIN, tf.getBackend())) {
    const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM_TRAIN, { x, scale, offset }, {
      epsilon: opts.epsilon,
    }) as tf.Tensor[];
    return { y: y!, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
  }
  return tf.tidy(() => {
    const axes = [...Array(x.rank - 1).keys()];
    const { mean, variance } = tf.moments(x, axes);
    const y = tf.batchNorm(x, mean, variance, offset, scale, opts.epsilon);
    return { y, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
  });
}
