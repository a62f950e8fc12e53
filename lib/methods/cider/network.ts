/**
 * CIDER's network (deeplearning-wisc/cider `models/resnet.py` `SupCEHeadResNet`, papers.md §6a): a backbone
 * encoder giving the penultimate features h, and a projection head h → Linear(D, D) → ReLU → Linear(D, 128) →
 * L2-normalise, giving the embedding z on the unit hypersphere. The backbone's own linear classifier (`fc`) is
 * part of the model but is never trained by CIDER or SupCon (no gradient reaches it); ID accuracy comes from a
 * linear probe (`probe.ts`).
 * @module
 */
import { tf } from "../../tf.ts";
import type { Backbone } from "../../backbones/mod.ts";
import { L2Normalize } from "../../layers/l2_normalize.ts";

/** Projection head sizes. */
export interface ProjectionHeadOptions {
  /** Hidden width; default the penultimate dimension (512 → 512 in the paper). */
  hidden?: number;
  /** Output (embedding) dimension (`--feat_dim`, 128). */
  out: number;
}

/** A backbone with CIDER's projection head. */
export interface CiderNet {
  /** The encoder (and its untrained `fc`). */
  readonly backbone: Backbone;
  /** x → [logits, z]: every weight, for checkpoints (`trainLoop`'s `model`). */
  readonly model: tf.LayersModel;
  /** Embedding dimension. */
  readonly embeddingDim: number;
  /** z = normalize(head(h(x))) [N, out]; `training` switches BatchNorm to batch statistics. */
  embed(x: tf.Tensor4D, opts?: { training?: boolean }): tf.Tensor2D;
}

/** PyTorch `nn.Linear`'s default initialisation, U(±1/√fan_in) for kernel and bias. */
function linear(units: number, fanIn: number, name: string, activation?: "relu"): tf.layers.Layer {
  const bound = 1 / Math.sqrt(fanIn);
  const init = () => tf.initializers.randomUniform({ minval: -bound, maxval: bound });
  return tf.layers.dense({
    units,
    name,
    kernelInitializer: init(),
    biasInitializer: init(),
    ...(activation ? { activation } : {}),
  });
}

/**
 * Adds CIDER's MLP projection head to a backbone: z = normalize(W₂·ReLU(W₁·h + b₁) + b₂), layers
 * `proj_hidden`, `proj_out`, `proj_normalize` (an {@link L2Normalize}, ε = 1e-12 as `F.normalize`).
 * @see {@link https://arxiv.org/abs/2203.04450 | Paper} · deeplearning-wisc/cider `models/resnet.py`
 * @param backbone A backbone built by `createBackbone` (its `features` layer is found by name).
 * @param opts Head sizes.
 * @returns The network; it shares the backbone's layers and weights.
 * @example Usage
 * ```ts ignore
 * const net = ciderNet(createBackbone("resnet18", { numClasses: 10, width: 0.125 }), { out: 128 });
 * const z = net.embed(x, { training: true }); // [N, 128], unit rows
 * ```
 */
export function ciderNet(backbone: Backbone, opts: ProjectionHeadOptions): CiderNet {
  const features = backbone.model.layers.find((l) => l.name === "features");
  if (!features) throw new Error(`ciderNet: backbone ${backbone.name} has no "features" layer`);
  const d = backbone.featureDim, hidden = opts.hidden ?? d;
  const input = backbone.model.inputs[0]!;
  const h = features.output as tf.SymbolicTensor;
  const a = linear(hidden, d, "proj_hidden", "relu").apply(h) as tf.SymbolicTensor;
  const o = linear(opts.out, hidden, "proj_out").apply(a) as tf.SymbolicTensor;
  const z = new L2Normalize({ name: "proj_normalize" }).apply(o) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: [backbone.model.outputs[0]!, z], name: `${backbone.name}_cider` });
  const embedModel = tf.model({ inputs: input, outputs: z, name: `${backbone.name}_cider_embed` });
  return {
    backbone,
    model,
    embeddingDim: opts.out,
    embed: (x, o) => tf.tidy(() => embedModel.apply(x, { training: o?.training ?? false }) as tf.Tensor2D),
  };
}
