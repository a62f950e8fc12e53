/**
 * Edge-popup subnetworks for UMAP (Zhu et al., "Unleashing Mask: Explore the Intrinsic Out-of-Distribution Detection
 * Capability", ICML 2023; built on Ramanujan et al., "What's Hidden in a Randomly Weighted Neural Network?", CVPR 2020).
 *
 * Every convolution and dense layer gets a real-valued score per weight. The forward pass uses w ⊙ m with the
 * binary mask m = topKMask(|s|, k): per layer, sort |s| ascending, set the lowest j = ⌊(1 − k) · n⌋ entries to 0
 * and the rest to 1 (UM `utils/conv_type.py` `GetSubnet`, k = `prune_rate` = fraction **kept**: 0.8 for UMAP, 0.965
 * for the UM loss estimate). The backward pass is straight-through: ∂L/∂|s| = ∂L/∂m, so ∂L/∂s = (∂L/∂w_eff ⊙ w) ⊙
 * sign(s). Scores start as PyTorch's `kaiming_uniform_(a=√5)`, i.e. U(−1/√fan_in, 1/√fan_in).
 *
 * j is computed in float64 and truncated exactly like Python's `int((1 - k) * n)` (e.g. k = 0.8, n = 10 gives
 * j = 1, because 1 − 0.8 = 0.19999…). Ties in |s| are broken by position (PyTorch's sort leaves them unspecified).
 * @module
 */
import { tf } from "../tf.ts";

/** Number of entries set to 0 by {@link topKMask}: Python's `int((1 - keepRate) * n)`. */
export function maskedCount(n: number, keepRate: number): number {
  if (!(keepRate >= 0 && keepRate <= 1)) throw new Error(`keepRate must be in [0, 1], got ${keepRate}`);
  return Math.trunc((1 - keepRate) * n);
}

function maskValue(scores: tf.Tensor, keepRate: number): tf.Tensor {
  const n = scores.size;
  const keep = n - maskedCount(n, keepRate);
  return tf.tidy(() => {
    if (keep === n) return tf.onesLike(scores);
    if (keep === 0) return tf.zerosLike(scores);
    const { indices } = tf.topk(tf.reshape(scores, [n]), keep, true);
    const mask = tf.scatterND(tf.reshape(indices, [keep, 1]), tf.ones([keep], "float32"), [n]);
    return tf.reshape(mask, scores.shape);
  });
}

/**
 * The binary top-k mask of `scores` (same shape; float32 0/1), with a straight-through gradient: the incoming
 * gradient passes to `scores` unchanged. Pass |s| to reproduce edge-popup's `clamped_scores`.
 * @param keepRate Fraction of entries kept (1s), k ∈ [0, 1].
 */
export function topKMask(scores: tf.Tensor, keepRate: number): tf.Tensor {
  maskedCount(scores.size, keepRate); // validates keepRate
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: maskValue(args[0] as tf.Tensor, keepRate),
    gradFunc: (dy: tf.Tensor) => dy,
  }));
  return op(scores);
}

/** Options every subnet layer adds to its stock layer's arguments. */
export interface SubnetArgs {
  /** Fraction of weights kept per layer (UM's `prune_rate`); default 0.8 (UMAP). */
  keepRate?: number;
  /** Weights and bias not trainable, only the scores (hidden-networks `freeze_weights`); default true. */
  freezeWeights?: boolean;
}

type LayerVariable = ReturnType<tf.layers.Layer["addWeight"]>;
type ConvArgs = Parameters<typeof tf.layers.conv2d>[0];
type DenseArgs = Parameters<typeof tf.layers.dense>[0];
type StockConv2D = ReturnType<typeof tf.layers.conv2d>;
type StockDense = ReturnType<typeof tf.layers.dense>;

/** Fields of the stock layers that the subclasses use. */
interface KernelInternals {
  kernel: LayerVariable | { read(): tf.Tensor } | null;
  bias: LayerVariable | null;
}

const StockConv2DClass = tf.layers.conv2d({ filters: 1, kernelSize: 1 }).constructor as
  & (new (args: ConvArgs) => StockConv2D)
  & Pick<typeof tf.layers.Layer, "fromConfig">;
const StockDenseClass = tf.layers.dense({ units: 1 }).constructor as
  & (new (args: DenseArgs) => StockDense)
  & Pick<typeof tf.layers.Layer, "fromConfig">;

/** U(−1/√fan_in, 1/√fan_in): PyTorch `kaiming_uniform_(a=√5)` (gain² = 2/(1+a²) = 1/3, bound = √(3·gain²/fan_in)). */
const scoreInitializer = () =>
  tf.initializers.varianceScaling({ scale: 1 / 3, mode: "fanIn", distribution: "uniform" });

function checkKeepRate(k: number): number {
  maskedCount(1, k);
  return k;
}

/** Freezes kernel and bias (the stock build adds them as trainable). */
function freezeKernel(layer: KernelInternals): void {
  (layer.kernel as LayerVariable).trainable = false;
  if (layer.bias) layer.bias.trainable = false;
}

/** Runs the stock `call` with the kernel replaced by w ⊙ topKMask(|s|, k). */
function callMasked(
  layer: KernelInternals,
  scores: LayerVariable,
  keepRate: number,
  stockCall: () => tf.Tensor | tf.Tensor[],
): tf.Tensor | tf.Tensor[] {
  return tf.tidy(() => {
    const real = layer.kernel as LayerVariable;
    const w = tf.mul(real.read(), topKMask(tf.abs(scores.read()), keepRate));
    layer.kernel = { read: () => w };
    try {
      return stockCall();
    } finally {
      layer.kernel = real;
    }
  });
}

/** The stock layer class with `kernel` scores and the top-k mask added: the edge-popup `SubnetConv`/`SubnetLinear`. */
function subnetClass<A extends object>(
  Stock: (new (args: A) => tf.layers.Layer) & Pick<typeof tf.layers.Layer, "fromConfig">,
  className: string,
) {
  return class Subnet extends Stock {
    static className = className;
    readonly keepRate: number;
    readonly freezeWeights: boolean;
    scores: LayerVariable | null = null;

    constructor(args: A & SubnetArgs) {
      const { keepRate, freezeWeights, ...rest } = args;
      super(rest as A);
      this.keepRate = checkKeepRate(keepRate ?? 0.8);
      this.freezeWeights = freezeWeights ?? true;
    }

    override build(inputShape: tf.Shape | tf.Shape[]): void {
      super.build(inputShape);
      const kernel = (this as unknown as KernelInternals).kernel as LayerVariable;
      this.scores = this.addWeight("scores", kernel.shape, "float32", scoreInitializer(), undefined, true);
      if (this.freezeWeights) freezeKernel(this as unknown as KernelInternals);
    }

    override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
      return callMasked(
        this as unknown as KernelInternals,
        this.scores!,
        this.keepRate,
        () => super.call(inputs, kwargs),
      );
    }

    /** The binary mask in use now (a new tensor). */
    mask(): tf.Tensor {
      return tf.tidy(() => topKMask(tf.abs(this.scores!.read()), this.keepRate));
    }

    override getConfig(): tf.serialization.ConfigDict {
      return { ...super.getConfig(), keepRate: this.keepRate, freezeWeights: this.freezeWeights };
    }
  };
}

/** A `Conv2D` whose kernel is masked by its top-k scores (edge-popup `SubnetConv`); serialises as "SubnetConv2D". */
export const SubnetConv2D = subnetClass<ConvArgs>(StockConv2DClass, "SubnetConv2D");
/** An instance of {@link SubnetConv2D}. */
export type SubnetConv2D = InstanceType<typeof SubnetConv2D>;
tf.serialization.registerClass(SubnetConv2D);

/** A `Dense` whose kernel is masked by its top-k scores (edge-popup `SubnetLinear`); serialises as "SubnetDense". */
export const SubnetDense = subnetClass<DenseArgs>(StockDenseClass, "SubnetDense");
/** An instance of {@link SubnetDense}. */
export type SubnetDense = InstanceType<typeof SubnetDense>;
tf.serialization.registerClass(SubnetDense);

const SUBNET_OF: Record<string, string> = { Conv2D: SubnetConv2D.className, Dense: SubnetDense.className };

interface LayerJson {
  class_name: string;
  config: Record<string, unknown>;
}

/**
 * UMAP's model surgery: a copy of `model` in which every `Conv2D` and `Dense` is a subnet layer (fresh scores,
 * the original weights), as hidden-networks builds its networks with `SubnetConv`/`SubnetLinear`. With
 * `freezeWeights` (default true) every other layer's weights are frozen too, like hidden-networks'
 * `freeze_model_weights` (which stops gradients to every module's `weight` and `bias`, BatchNorm included), so only
 * the scores train. Scores are drawn through `Math.random` (seed first).
 */
export async function toSubnetModel(model: tf.LayersModel, opts: SubnetArgs = {}): Promise<tf.LayersModel> {
  const keepRate = checkKeepRate(opts.keepRate ?? 0.8);
  const freeze = opts.freezeWeights ?? true;
  const topology = model.toJSON(undefined, false) as unknown as { config: { layers: LayerJson[] } };
  for (const layer of topology.config.layers) {
    const subnet = SUBNET_OF[layer.class_name];
    if (!subnet) continue;
    layer.class_name = subnet;
    layer.config.keep_rate = keepRate;
    layer.config.freeze_weights = freeze;
  }
  const copy = await tf.models.modelFromJSON({
    modelTopology: topology as unknown as tf.io.ModelJSON["modelTopology"],
  });
  for (const layer of model.layers) {
    const target = copy.getLayer(layer.name);
    const byName = new Map(target.weights.map((w) => [w.originalName.split("/").pop()!, w]));
    for (const w of layer.weights) {
      const dst = byName.get(w.originalName.split("/").pop()!);
      if (!dst) throw new Error(`toSubnetModel: ${layer.name} has no weight matching ${w.originalName}`);
      const value = w.read().clone();
      dst.write(value); // the variable takes its own reference to the buffer
      value.dispose();
    }
    if (freeze && !(target instanceof SubnetConv2D || target instanceof SubnetDense) && target.weights.length) {
      target.trainable = false;
    }
  }
  return copy;
}
