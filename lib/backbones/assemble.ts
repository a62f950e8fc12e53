/**
 * Builds a {@link Backbone} from a functional TF.js graph (input → pooled features → head), and rebuilds one
 * from a saved model: the feature vector, the stage outputs and the head layers are found by layer name
 * (`features`, `stage_<i>`, `head_hidden_<i>`, `head`), and the registry name and normalization travel in the
 * model's user-defined metadata.
 * @module
 */
import { tf } from "../tf.ts";
import { dense, FEATURES_LAYER, gap, HEAD_HIDDEN_PREFIX, HEAD_LAYER, mark, STAGE_PREFIX, type Sym } from "./_blocks.ts";
import type { Backbone, ForwardOptions, LinearWeights, Normalization } from "./types.ts";

/** What {@link assembleBackbone} needs. */
export interface BackboneParts {
  /** Registry name (stored in the model's metadata and used as the model's name). */
  name: string;
  input: Sym;
  /** The penultimate feature vector, [N, D]. Stage outputs must already be marked in the graph (`stage_<i>`). */
  features: Sym;
  numClasses: number;
  normalization: Normalization;
  /** Hidden widths of an MLP head (ReLU after each), e.g. CMG's [512]; default none (a linear head). */
  headHidden?: readonly number[];
  /** Initialise the head's bias with zeros (DenseNet, WRN) instead of PyTorch's U(±1/√fan_in). @default false */
  zeroBiasHead?: boolean;
}

/** The metadata {@link assembleBackbone} stores in `model.getUserDefinedMetadata()`. */
export interface BackboneMetadata {
  backbone: string;
  normalization: Normalization;
}

/**
 * Wraps `input → features` plus a head into a Backbone whose `model` is the whole network.
 * @param parts The graph and its description.
 * @returns The backbone; its model's metadata records the name and normalization.
 */
export function assembleBackbone(parts: BackboneParts): Backbone {
  const { name, input, numClasses, normalization } = parts;
  let h = mark(parts.features, FEATURES_LAYER);
  (parts.headHidden ?? []).forEach((units, i) => {
    h = dense(h, units, { name: `${HEAD_HIDDEN_PREFIX}${i}`, activation: "relu" });
  });
  const logits = dense(h, numClasses, { name: HEAD_LAYER, zeroBias: parts.zeroBiasHead ?? false });
  const model = tf.model({ inputs: input, outputs: logits, name });
  const metadata: BackboneMetadata = { backbone: name, normalization };
  model.setUserDefinedMetadata(metadata);
  return backboneFromModel(model);
}

/** A Dense layer's kernel [in, out] and bias, copied (a CPU backend's `dataSync` returns its own buffer). */
function denseWeights(layer: tf.layers.Layer): LinearWeights {
  const [kernel, bias] = layer.getWeights();
  const [, out] = kernel!.shape as [number, number];
  return {
    kernel: { data: Float32Array.from(kernel!.dataSync()), dim: out },
    bias: bias ? Float32Array.from(bias.dataSync()) : new Float32Array(out),
  };
}

function isMetadata(m: unknown): m is BackboneMetadata {
  const o = m as Partial<BackboneMetadata> | undefined;
  return typeof o?.backbone === "string" && Array.isArray(o.normalization?.mean) && Array.isArray(o.normalization?.std);
}

const indexOf = (layer: tf.layers.Layer, prefix: string) => Number(layer.name.slice(prefix.length));

/**
 * Rebuilds a {@link Backbone} around a model made by {@link assembleBackbone}, e.g. one reloaded from a
 * checkpoint with `tf.loadLayersModel`.
 * @param model A model with a `features` layer and a `head` layer.
 * @param opts.normalization Overrides (or, when the metadata was lost, supplies) the input normalization.
 * @param opts.name Overrides the registry name.
 * @returns The backbone; it shares the model's layers and weights.
 * @throws Error when the model has no `features`/`head` layers, or when no normalization is known.
 * @example Reload a saved backbone
 * ```ts
 * const model = await tf.loadLayersModel("file://checkpoints/run/model.json");
 * const net = backboneFromModel(model);
 * ```
 */
export function backboneFromModel(
  model: tf.LayersModel,
  opts: { normalization?: Normalization; name?: string } = {},
): Backbone {
  const meta = model.getUserDefinedMetadata();
  const known = isMetadata(meta) ? meta : undefined;
  const normalization = opts.normalization ?? known?.normalization;
  if (!normalization) {
    throw new Error(
      `Model "${model.name}" carries no normalization metadata; pass backboneFromModel(model, { normalization }).`,
    );
  }
  const find = (layerName: string) => {
    const layer = model.layers.find((l) => l.name === layerName);
    if (!layer) {
      throw new Error(`Model "${model.name}" has no "${layerName}" layer; it was not built by assembleBackbone.`);
    }
    return layer;
  };
  const input = model.inputs[0]!;
  const features = find(FEATURES_LAYER).output as Sym;
  const headLayers = [
    ...model.layers.filter((l) => l.name.startsWith(HEAD_HIDDEN_PREFIX))
      .sort((a, b) => indexOf(a, HEAD_HIDDEN_PREFIX) - indexOf(b, HEAD_HIDDEN_PREFIX)),
    find(HEAD_LAYER),
  ];
  const stages = model.layers.filter((l) => new RegExp(`^${STAGE_PREFIX}\\d+$`).test(l.name))
    .sort((a, b) => indexOf(a, STAGE_PREFIX) - indexOf(b, STAGE_PREFIX))
    .map((l) => {
      const out = l.output as Sym;
      return out.rank === 4 ? gap(out) : out;
    });
  const featureModel = tf.model({ inputs: input, outputs: features, name: `${model.name}_features` });
  const stageModel = stages.length ? tf.model({ inputs: input, outputs: stages, name: `${model.name}_stages` }) : null;
  const training = (o?: ForwardOptions) => ({ training: o?.training ?? false });
  const head = (f: tf.Tensor2D) =>
    tf.tidy(() => headLayers.reduce((h, layer) => layer.apply(h) as tf.Tensor, f as tf.Tensor) as tf.Tensor2D);
  const backbone: Backbone = {
    name: opts.name ?? known?.backbone ?? model.name,
    model,
    inputShape: input.shape.slice(1) as [number, number, number],
    numClasses: model.outputs[0]!.shape[1] as number,
    featureDim: features.shape[1] as number,
    normalization,
    features: (x, o) => tf.tidy(() => featureModel.apply(x, training(o)) as tf.Tensor2D),
    head,
    logits: (x, o) => tf.tidy(() => model.apply(x, training(o)) as tf.Tensor2D),
    // Only a linear head has one layer whose input is `features`; with hidden layers there is none to offer.
    ...(headLayers.length === 1 ? { lastLayer: () => denseWeights(headLayers[0]!) } : {}),
  };
  if (!stageModel) return backbone;
  return {
    ...backbone,
    featureList: (x, o) =>
      tf.tidy(() => {
        const out = stageModel.apply(x, training(o)) as tf.Tensor2D | tf.Tensor2D[];
        return Array.isArray(out) ? out : [out];
      }),
    featureListDims: stages.map((s) => s.shape[1] as number),
  };
}
