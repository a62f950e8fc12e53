/**
 * The one output extraction: a network's logits, penultimate features and (on request) per-stage feature lists
 * over a dataset, in inference mode, as plain row-major `Float32Array`s. Every detector is then fitted and run on
 * these without running the network again (pytorch-ood's `fit_features` / `predict_features` split; C1).
 * @module
 */
import type { tf } from "../tf.ts";
import type { Dataset } from "../datasets/types.ts";
import { headDataset } from "../datasets/subset.ts";
import { collectRows } from "../scores/on_images.ts";
import type { DetectorModel, NetOutputs } from "../scores/detector.ts";

/** What extraction needs of a network (every `Backbone` satisfies it). */
export interface ExtractableModel extends DetectorModel {
  /** The head applied to penultimate features (so the network runs once per image). */
  head(features: tf.Tensor2D): tf.Tensor2D;
  /** Penultimate feature dimension. */
  readonly featureDim: number;
  /** Widths of `featureList`'s outputs, when the network has it. */
  readonly featureListDims?: readonly number[];
  /** Display name (for errors). */
  readonly name?: string;
}

/** Options of {@linkcode extractOutputs}. */
export interface ExtractOptions {
  /** Images per forward pass; default 500. */
  batchSize?: number;
  /** Also extract `featureList` (throws when the network has none). Default false. */
  featureList?: boolean;
  /** Only the first `limit` images; default all. */
  limit?: number;
}

/**
 * Runs `model` in inference mode over `ds` (normalised with `model.normalization`) and collects its features,
 * logits (= `head(features)`) and optionally its `featureList`. Keeps no tensors.
 * @example Usage
 * ```ts ignore
 * const out = await extractOutputs(net, test, { batchSize: 500 });
 * const predictions = argmaxRows(out.logits);
 * ```
 */
export async function extractOutputs(
  model: ExtractableModel,
  ds: Dataset,
  opts: ExtractOptions = {},
): Promise<NetOutputs> {
  const withList = opts.featureList ?? false;
  const fl = model.featureList?.bind(model);
  if (withList && !fl) throw new Error(`extractOutputs: ${model.name ?? "the model"} has no featureList`);
  const src = headDataset(ds, opts.limit);
  const dims = [model.featureDim, model.numClasses, ...(withList ? model.featureListDims ?? [] : [])];
  const [features, logits, ...featureList] = await collectRows(
    src,
    { batchSize: opts.batchSize ?? 500, normalization: model.normalization, dims },
    (x) => {
      const f = model.features(x);
      return [f, model.head(f), ...(withList ? fl!(x) : [])];
    },
  );
  return {
    n: src.shape[0],
    logits: logits!,
    features: features!,
    ...(withList ? { featureList } : {}),
    labels: src.labels.slice(),
  };
}
