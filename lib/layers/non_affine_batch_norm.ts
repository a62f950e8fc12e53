/**
 * Batch normalisation without learned scale and shift — PyTorch's `BatchNorm2d(affine=False)`, which
 * Unleashing Mask (Zhu et al., ICML 2023) calls `NonAffineBatchNorm` and uses in its DenseNet-BC-100.
 *
 * TF.js's stock `BatchNormalization` accepts `center: false, scale: false` but its training mode reads γ and β
 * unconditionally and fails. This subclass of the fused {@link BatchNormalization} runs the same fused training
 * kernel with constant γ = 1, β = 0 and the same moving-average update, m ← m − (m − batch)·(1 − momentum) with
 * the biased batch variance; inference is the stock code (which handles absent γ/β). It has no trainable
 * weights, only the moving mean and variance. It is registered under its own class name,
 * `NonAffineBatchNormalization`, so models that contain it reload here (import this module first).
 * @module
 */
import { tf } from "../tf.ts";
import { batchNormTrain } from "../ops/batch_norm.ts";
import { BatchNormalization } from "./batch_norm.ts";

type BatchNormArgs = NonNullable<Parameters<typeof tf.layers.batchNormalization>[0]>;
type LayerVariable = ReturnType<tf.layers.Layer["addWeight"]>;

/** The stock layer's private fields this subclass reads. */
interface Internals {
  axis: number;
  momentum: number;
  epsilon: number;
  movingMean: LayerVariable;
  movingVariance: LayerVariable;
}

/** Arguments of {@link nonAffineBatchNormalization}: those of `tf.layers.batchNormalization` without γ/β. */
export type NonAffineBatchNormArgs = Omit<
  BatchNormArgs,
  | "center"
  | "scale"
  | "gammaInitializer"
  | "betaInitializer"
  | "gammaRegularizer"
  | "betaRegularizer"
  | "gammaConstraint"
  | "betaConstraint"
>;

/** Batch normalisation with no γ and β (normalise only), trainable in TF.js. */
export class NonAffineBatchNormalization extends BatchNormalization {
  static override className = "NonAffineBatchNormalization";

  constructor(args: NonAffineBatchNormArgs = {}) {
    super({ ...args, center: false, scale: false });
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    const p = this as unknown as Internals;
    const axis = p.axis >= 0 ? p.axis : p.axis + x.rank;
    if (axis !== x.rank - 1) throw new Error("NonAffineBatchNormalization supports only the last (channel) axis");
    if (kwargs.training !== true) {
      // Explicit β = 0, γ = 1: TF.js's batchNorm gradient crashes when offset/scale are absent, and ODIN and
      // Mahalanobis differentiate inference-mode networks with respect to their input.
      return tf.tidy(() => {
        const channels = x.shape[axis]!;
        return tf.batchNorm(
          x,
          p.movingMean.read(),
          p.movingVariance.read(),
          tf.zeros([channels]),
          tf.ones([channels]),
          p.epsilon,
        );
      });
    }
    return tf.tidy(() => {
      const channels = x.shape[axis]!;
      const { y, mean, variance } = batchNormTrain(x, tf.ones([channels]), tf.zeros([channels]), {
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

  /** The config without `center`/`scale` (the constructor fixes them). */
  override getConfig(): tf.serialization.ConfigDict {
    const { center: _center, scale: _scale, ...config } = super.getConfig();
    return config;
  }
}
tf.serialization.registerClass(NonAffineBatchNormalization);

/**
 * Creates a {@link NonAffineBatchNormalization} layer.
 * @param args `tf.layers.batchNormalization` arguments except those of γ and β (momentum, epsilon, axis…).
 * @returns The layer.
 * @example PyTorch's BatchNorm2d(c, affine=False) defaults
 * ```ts
 * const bn = nonAffineBatchNormalization({ momentum: 0.9, epsilon: 1e-5 });
 * ```
 */
export function nonAffineBatchNormalization(args: NonAffineBatchNormArgs = {}): NonAffineBatchNormalization {
  return new NonAffineBatchNormalization(args);
}
