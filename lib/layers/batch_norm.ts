/**
 * A drop-in `BatchNormalization` layer whose training mode runs the fused {@link batchNormTrain} op.
 *
 * It subclasses the stock TF.js layer and registers itself under the same class name, so saved models stay
 * in the standard TF.js layers format (any TF.js can load them) and models loaded here get the fast path.
 * Inference, non-last-axis normalisation and layers without γ or β use the stock code.
 * Moving statistics follow TF.js: m ← m − (m − batch)·(1 − momentum), with the biased batch variance.
 * @module
 */
import { tf } from "../tf.ts";
import { batchNormTrain } from "../ops/batch_norm.ts";

type BatchNormArgs = Parameters<typeof tf.layers.batchNormalization>[0];
type StockBatchNorm = ReturnType<typeof tf.layers.batchNormalization>;
type LayerVariable = ReturnType<tf.layers.Layer["addWeight"]>;

/** The stock layer's private fields this subclass reads. */
interface BatchNormInternals {
  axis: number;
  momentum: number;
  epsilon: number;
  gamma?: LayerVariable;
  beta?: LayerVariable;
  movingMean: LayerVariable;
  movingVariance: LayerVariable;
}

const StockBatchNormalization = tf.layers.batchNormalization().constructor as
  & (new (args?: BatchNormArgs) => StockBatchNorm)
  & Pick<typeof tf.layers.Layer, "fromConfig">;

/** BatchNormalization with a fused training-mode kernel; serialises as the stock `BatchNormalization`. */
export class BatchNormalization extends StockBatchNormalization {
  static className = "BatchNormalization";

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    const p = this as unknown as BatchNormInternals;
    const axis = p.axis >= 0 ? p.axis : p.axis + x.rank;
    if (kwargs.training !== true || axis !== x.rank - 1 || !p.gamma || !p.beta) return super.call(inputs, kwargs);
    return tf.tidy(() => {
      const { y, mean, variance } = batchNormTrain(x, p.gamma!.read() as tf.Tensor1D, p.beta!.read() as tf.Tensor1D, {
        epsilon: p.epsilon,
      });
      const decay = 1 - p.momentum;
      for (const [variable, value] of [[p.movingMean, mean], [p.movingVariance, variance]] as const) {
        const old = variable.read();
        variable.write(tf.sub(old, tf.mul(tf.sub(old, value), decay)));
      }
      return y;
    });
  }
}
tf.serialization.registerClass(BatchNormalization);

/** Creates a {@link BatchNormalization} layer (same arguments as `tf.layers.batchNormalization`). */
export function batchNormalization(args?: BatchNormArgs): BatchNormalization {
  return new BatchNormalization(args);
}
