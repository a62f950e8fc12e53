/**
 * Subnetwork copies of a backbone (edge-popup layers from `lib/layers/top_k_mask.ts`) for UMAP and for the
 * loss-constraint estimator, and copies of plain backbones for fine-tuning.
 * @module
 */
import { tf } from "../../tf.ts";
import { type Backbone, backboneFromModel } from "../../backbones/mod.ts";
import { SubnetConv2D, SubnetDense, toSubnetModel } from "../../layers/top_k_mask.ts";

/** Options of {@linkcode subnetBackbone}. */
export interface SubnetBackboneOptions {
  /** Fraction of each conv/dense layer's weights kept (UM's `prune_rate`: 0.8 for UMAP, 0.965 for the estimate). */
  keepRate: number;
  /** Freeze every weight so only the scores train (UMAP CIFAR-10: true; its CIFAR-100 config: false). */
  freezeWeights: boolean;
}

/**
 * A copy of `net` in which every Conv2D and Dense layer is an edge-popup subnet layer: forward with w ⊙ m,
 * m = per-layer top-k of |s| (k = `keepRate`), the scores s drawn from U(±1/√fan_in) through `Math.random` (seed
 * it first), a straight-through gradient to s. At initialisation the mask is a uniformly random subset of
 * ⌊(1 − k)·n⌋ weights per layer set to 0, exactly as UM's `SubnetConv` on a loaded dense checkpoint (whose
 * state dict has no scores). The copy shares no variables with `net`; dispose its `model` when done.
 */
export async function subnetBackbone(net: Backbone, opts: SubnetBackboneOptions): Promise<Backbone> {
  const model = await toSubnetModel(net.model, opts);
  return backboneFromModel(model, { normalization: net.normalization, name: net.name });
}

/** A copy of `net` with its own variables (same weights), to fine-tune without touching the original. */
export async function cloneBackbone(net: Backbone): Promise<Backbone> {
  const topology = net.model.toJSON(undefined, false) as unknown as tf.io.ModelJSON["modelTopology"];
  const model = await tf.models.modelFromJSON({ modelTopology: topology });
  const weights = net.model.getWeights();
  model.setWeights(weights);
  return backboneFromModel(model, { normalization: net.normalization, name: net.name });
}

/** Kept / total weights of each subnet layer of a model, in layer order. */
export function maskSummary(model: tf.LayersModel): { layer: string; kept: number; total: number }[] {
  return model.layers
    .filter((l): l is SubnetConv2D | SubnetDense => l instanceof SubnetConv2D || l instanceof SubnetDense)
    .map((l) => {
      const sum = tf.tidy(() => tf.sum(l.mask()));
      const kept = sum.dataSync()[0]!;
      sum.dispose();
      return { layer: l.name, kept, total: (l.scores!.shape as number[]).reduce((a, b) => a * b, 1) };
    });
}

interface LayerJson {
  class_name: string;
  config: Record<string, unknown>;
}
