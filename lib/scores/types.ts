/**
 * Shared types of the OOD scores (conventions.md C1, C2, C4).
 *
 * Every score is "higher = more in-distribution" and returns a new `tf.Tensor1D` of length N that the caller
 * owns (dispose it, or pass it to {@linkcode scoresToArray}, which reads and disposes it). Scores that need
 * training statistics are split into `fitX(features, labels, opts) → XState` (a plain data object, no tensors)
 * and `x(state, features) → tf.Tensor1D`.
 *
 * A {@linkcode ScoreEntry} describes a score for generic code (notebooks, the registry test): its display
 * label, citation and formula, what it needs (`logits`, `features`, `featureList` or `input` = model + images),
 * and whether it must be fitted first. Narrow on `needs` to call it, or use `fitScore` / `runScore` from
 * `mod.ts`, which do the dispatch.
 * @module
 */
import type { tf } from "../tf.ts";
import type { Normalization } from "../datasets/types.ts";

export type { Normalization };

/**
 * Class labels for fitting: an integer array (`number[]`, `Int32Array`, …) or an int/float `tf.Tensor1D`
 * (read synchronously, not disposed). Values must be integers in [0, numClasses).
 */
export type Labels = ArrayLike<number> | tf.Tensor1D;

/**
 * What input-space scores (ODIN) need from a network: logits of **normalised** NHWC inputs (the
 * `Backbone.logits` contract) and, for the std-scaled perturbation, the normalisation constants.
 * Every `Backbone` (lib/backbones/types.ts) satisfies it.
 */
export interface LogitModel {
  /** Logits [N, C] of normalised inputs [N, H, W, C_in], in inference mode. */
  logits(x: tf.Tensor4D): tf.Tensor2D;
  /** Per-channel normalisation the inputs went through; `std` is needed when the sign gradient is divided by it. */
  readonly normalization?: Normalization;
}

/**
 * What the multi-layer Mahalanobis ensemble with input preprocessing needs: pooled features of several layers
 * (each [N, d_ℓ]) of normalised inputs, in a fixed order. `featureList` is optional in the type so a `Backbone`
 * without it can be passed; the score throws a clear error when it is missing.
 */
export interface FeatureListModel {
  /** Pooled features of every layer used, each [N, d_ℓ], of normalised inputs, in inference mode. */
  featureList?(x: tf.Tensor4D): tf.Tensor2D[];
  /** Per-channel normalisation the inputs went through (its `std` divides the sign gradient). */
  readonly normalization?: Normalization;
}

/** What a score consumes: logits [N, C], penultimate features [N, d], a list of per-layer features, or model + input. */
export type ScoreNeeds = "logits" | "features" | "featureList" | "input";

/** Metadata every registered score carries. */
export interface ScoreEntryBase {
  /** Display name, e.g. "Energy". */
  readonly label: string;
  /** Paper citation (authors, venue, year) and link. */
  readonly citation: string;
  /** The formula in one line; always oriented "higher = more in-distribution". */
  readonly formula: string;
  /** What the score consumes (narrow on it to call `fit` / `score`). */
  readonly needs: ScoreNeeds;
  /** Whether `fit` must run on training data first (then `score` takes its state). */
  readonly fittable: boolean;
}

/** A post-hoc score on logits (MSP, MaxLogit, Energy). */
export interface LogitScoreEntry extends ScoreEntryBase {
  /** Discriminant. */
  readonly needs: "logits";
  /** Discriminant. */
  readonly fittable: false;
  /** [N, C] logits → [N] scores (default options). */
  score(logits: tf.Tensor2D, opts?: never): tf.Tensor1D;
}

/** An input-space score that runs the network itself (ODIN). */
export interface InputScoreEntry extends ScoreEntryBase {
  /** Discriminant. */
  readonly needs: "input";
  /** Discriminant. */
  readonly fittable: false;
  /** Normalised inputs [N, H, W, C] → [N] scores (default options). */
  score(model: LogitModel, x: tf.Tensor4D, opts?: never): tf.Tensor1D;
}

/** A score fitted on training features (Mahalanobis, KNN). `S` is its plain-data state. */
export interface FeatureScoreEntry<S = unknown> extends ScoreEntryBase {
  /** Discriminant. */
  readonly needs: "features";
  /** Discriminant. */
  readonly fittable: true;
  /** Training features [N, d] and labels → state (plain data; no tensors are kept). */
  fit(features: tf.Tensor2D, labels: Labels, opts?: never): S;
  /** State + test features [M, d] → [M] scores. */
  score(state: S, features: tf.Tensor2D): tf.Tensor1D;
}

/** A score fitted on several layers' features (multi-layer Mahalanobis ensemble). */
export interface FeatureListScoreEntry<S = unknown> extends ScoreEntryBase {
  /** Discriminant. */
  readonly needs: "featureList";
  /** Discriminant. */
  readonly fittable: true;
  /** Per-layer training features (each [N, d_ℓ]) and labels → state. */
  fit(featureList: readonly tf.Tensor2D[], labels: Labels, opts?: never): S;
  /** State + per-layer test features (each [M, d_ℓ]) → [M] scores. */
  score(state: S, featureList: readonly tf.Tensor2D[]): tf.Tensor1D;
}

/** Any registered score; narrow on `needs`. */
export type ScoreEntry = LogitScoreEntry | InputScoreEntry | FeatureScoreEntry | FeatureListScoreEntry;

/**
 * Reads a score tensor into a `Float32Array` (what `lib/metrics` takes as `ArrayLike<number>`) and disposes it.
 * @example Usage
 * ```ts
 * import { initBackend, tf } from "@lib/tf.ts";
 * await initBackend({ backend: "cpu", log: null });
 * const values = await scoresToArray(tf.tensor1d([0.9, 0.1])); // Float32Array [0.9, 0.1]; tensor disposed
 * ```
 */
export async function scoresToArray(scores: tf.Tensor1D): Promise<Float32Array> {
  try {
    return (await scores.data()) as Float32Array;
  } finally {
    scores.dispose();
  }
}
