/**
 * Shared types of the OOD scores (conventions.md C1, C2, C4).
 *
 * Every score is "higher = more in-distribution" and returns a new `tf.Tensor1D` of length N that the caller
 * owns (dispose it, or pass it to {@linkcode scoresToArray}, which reads and disposes it). Scores that need
 * training statistics are split into `fitX(features, labels, opts) → XState` (a plain data object, no tensors)
 * and `x(state, features) → tf.Tensor1D`.
 *
 * For generic code (the experiment layer, the registry test) every score is also a `Detector` (`detector.ts`)
 * registered in `DETECTORS` (`mod.ts`).
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

/**
 * Reads a score tensor into a `Float32Array` (what `lib/metrics` takes as `ArrayLike<number>`) and disposes it.
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
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
