/**
 * The detector interface: every OOD score, generic or paper-specific, as one registry entry that carries its
 * defaults and options (as a pytorch-ood `Detector` carries its constructor arguments; conventions C1, C4).
 *
 * A detector reads what the experiment layer extracted once per model and set ({@linkcode NetOutputs}: logits,
 * penultimate features, per-stage feature lists) or, for input-space scores (ODIN, UM's tuned Mahalanobis), the
 * set's images and the model. `fit` (optional) turns the training outputs into a plain-data state; `score` maps
 * one set to `Float32Array` values, **higher = more in-distribution** (conventions C2).
 *
 * A method names what it is scored with as {@linkcode DetectorSpec}s (`{ use: "knn", opts: { k: 100 } }`);
 * `lib/experiment/score.ts` resolves them against the registry (`DETECTORS` in `mod.ts`).
 * @module
 */
import type { tf } from "../tf.ts";
import type { Dataset, Normalization } from "../datasets/types.ts";
import type { Matrix } from "./matrix.ts";

/** What a detector consumes: logits [N, C], penultimate features [N, d], per-stage features, or model + images. */
export type DetectorNeeds = "logits" | "features" | "featureList" | "input";

/** A network's outputs on one set, one row per image in dataset order (extracted once, no tensors kept). */
export interface NetOutputs {
  /** Number of images. */
  n: number;
  /** Logits [n, numClasses]. */
  logits: Matrix;
  /** Penultimate features [n, featureDim]. */
  features: Matrix;
  /** Per-stage pooled features (shallow to deep), when some detector needs them. */
  featureList?: Matrix[];
  /** The dataset's labels (−1 for unlabeled OOD images). */
  labels: Int32Array;
}

/** One evaluation set as a detector sees it: the extracted outputs and the images they came from. */
export interface ScoredSet {
  /** The set's images (input-space detectors run the network on them). */
  ds: Dataset;
  /** The network's outputs on `ds`. */
  outputs: NetOutputs;
}

/**
 * The classifier's last linear layer, logits = features · kernel + bias, as a plain-data copy (what ReAct, ASH,
 * DICE, GradNorm, ViM and Residual recompute the logits with).
 */
export interface LastLayer {
  /** Weights [d, C], row-major (`dim` = C; the TF.js Dense kernel layout [in, out], PyTorch's `fc.weight`ᵀ). */
  kernel: Matrix;
  /** Bias [C] (zeros for a layer without one). */
  bias: Float32Array;
}

/** What a scored network offers (every `Backbone` satisfies it). */
export interface DetectorModel {
  /** Logits [N, C] of normalised inputs, inference mode. */
  logits(x: tf.Tensor4D): tf.Tensor2D;
  /** Penultimate features [N, d] of normalised inputs, inference mode. */
  features(x: tf.Tensor4D): tf.Tensor2D;
  /** Per-stage pooled features, when the network has them. */
  featureList?(x: tf.Tensor4D): tf.Tensor2D[];
  /**
   * The linear layer that maps `features` to `logits`, read now (a copy); absent when there is no single one
   * (an MLP head, a nearest-class-mean head). Read it with {@linkcode needLastLayer}.
   */
  lastLayer?(): LastLayer;
  /** Per-channel normalisation the inputs go through. */
  readonly normalization: Normalization;
  /** Output classes C. */
  readonly numClasses: number;
}

/** What `fit` and `score` may use besides their options. */
export interface DetectorContext {
  /** The network being scored. */
  model: DetectorModel;
  /**
   * The training images the detector is fitted on, and the network's outputs on them (extracted without
   * augmentation; `null` when no detector of the pass fits on outputs — read them with {@linkcode trainOutputs}).
   */
  train: { ds: Dataset; outputs: NetOutputs | null };
  /** The ID test set. */
  test: ScoredSet;
  /** Training-split images held out of training (for detectors tuned on ID data), when the protocol has them. */
  heldOut?: Dataset;
  /** Images per forward (+ backward) pass. */
  batchSize: number;
  /** Seed of any randomness a detector uses (e.g. augmented fitting passes). */
  seed: number;
}

/**
 * One registry entry. `O` is its options object (every field has a default in `defaults`), `S` its fitted state
 * (plain data; `null` for detectors without `fit`).
 */
export interface Detector<O extends object = Record<string, unknown>, S = unknown> {
  /** Display name, e.g. "Energy". */
  readonly label: string;
  /** Paper citation (authors, venue, year, arXiv id). */
  readonly citation: string;
  /** The formula in one line, oriented "higher = more in-distribution". */
  readonly formula: string;
  /** The paper that defines this variant (a notebook id), for paper-specific detectors; absent for generic ones. */
  readonly paper?: string;
  /** What the detector reads. */
  readonly needs: readonly DetectorNeeds[];
  /** Every option with its default. */
  readonly defaults: Readonly<O>;
  /** Fits the state on the training set (absent: no fitting). */
  fit?(ctx: DetectorContext, opts: O): S | Promise<S>;
  /** [n] scores of one set, higher = more in-distribution (`state` is `fit`'s result, or null). */
  score(set: ScoredSet, opts: O, state: S, ctx: DetectorContext): Promise<Float32Array>;
}

/** Any detector, whatever its option and state types (what the registry is checked against). */
// deno-lint-ignore no-explicit-any
export type AnyDetector = Detector<any, any>;

/** The options type of a detector. */
export type OptionsOf<D> = D extends Detector<infer O, infer _S> ? O : never;

/** Reads a required output of a set, naming the detector and what is missing. */
export function needOutput<K extends "logits" | "features" | "featureList">(
  outputs: NetOutputs,
  what: K,
  detector: string,
): NonNullable<NetOutputs[K]> {
  const v = outputs[what];
  if (v === undefined) throw new Error(`${detector} needs ${what}, which were not extracted`);
  return v as NonNullable<NetOutputs[K]>;
}

/** The training outputs of a context, naming the detector when they were not extracted. */
export function trainOutputs(ctx: DetectorContext, detector: string): NetOutputs {
  if (!ctx.train.outputs) throw new Error(`${detector} is fitted on training outputs, which were not extracted`);
  return ctx.train.outputs;
}

/**
 * The model's last linear layer, checked against its class count; throws naming the detector when the network
 * has no single linear layer after its penultimate features (e.g. a backbone built with `headHidden`).
 */
export function needLastLayer(model: DetectorModel, detector: string): LastLayer {
  if (!model.lastLayer) {
    throw new Error(
      `${detector} needs the classifier's last linear layer (logits = features·W + b), and this network has none ` +
        `(an MLP head — built with headHidden — or another non-linear head)`,
    );
  }
  const layer = model.lastLayer();
  const { kernel: { data, dim }, bias } = layer;
  if (dim !== model.numClasses || bias.length !== dim || dim === 0 || data.length % dim !== 0) {
    throw new Error(
      `${detector}: malformed last layer (kernel ${data.length / (dim || 1)}×${dim}, bias ${bias.length}, ` +
        `${model.numClasses} classes)`,
    );
  }
  return layer;
}
