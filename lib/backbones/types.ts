/**
 * The shape every backbone has: a feature extractor and a classification head kept apart, so OOD scores can
 * work on penultimate features (Mahalanobis, KNN, CIDER) or on logits (MSP, Energy, ODIN).
 * @module
 */
import type { tf } from "../tf.ts";
import type { Normalization } from "../datasets/types.ts";

export type { Normalization };

/** Whether BatchNorm and Dropout run in training mode. */
export interface ForwardOptions {
  /** Training mode: batch statistics (and moving-average updates) in BatchNorm, active Dropout. @default false */
  training?: boolean;
}

/** A classifier split into `features` (penultimate, pooled) and `head` (logits). */
export interface Backbone {
  /** Registry name. */
  readonly name: string;
  /** The whole network, input → logits (what is saved in checkpoints). */
  readonly model: tf.LayersModel;
  /** Input size [height, width, channels]. */
  readonly inputShape: readonly [number, number, number];
  /** Number of logits. */
  readonly numClasses: number;
  /** Length of the penultimate feature vector. */
  readonly featureDim: number;
  /** The input normalization the network expects (applied by the data pipeline, not inside the model). */
  readonly normalization: Normalization;
  /** Penultimate pooled features [N, featureDim]; `training` switches BatchNorm/Dropout to training mode. */
  features(x: tf.Tensor4D, opts?: ForwardOptions): tf.Tensor2D;
  /** Logits [N, numClasses] from features. */
  head(f: tf.Tensor2D): tf.Tensor2D;
  /** head(features(x)). */
  logits(x: tf.Tensor4D, opts?: ForwardOptions): tf.Tensor2D;
  /**
   * Globally average-pooled outputs of each stage, shallow to deep ([N, featureListDims[i]] each), for
   * multi-layer Mahalanobis (Lee et al. 2018) and VMDLS's feature ensemble. Present when the network has stages.
   */
  featureList?(x: tf.Tensor4D, opts?: ForwardOptions): tf.Tensor2D[];
  /** Widths of the {@link Backbone.featureList} entries; present with it. */
  readonly featureListDims?: readonly number[];
  /**
   * The head's weights when it is one linear layer (logits = features · kernel + bias): a copy, read at call
   * time. Absent for an MLP head (`headHidden`), which has no single layer after the features.
   */
  lastLayer?(): LinearWeights;
}

/** A linear layer's weights as plain arrays: y = x · kernel + bias. */
export interface LinearWeights {
  /** Kernel [in, out], row-major, `dim` = out (TF.js Dense layout; PyTorch's `weight` transposed). */
  kernel: { data: Float32Array; dim: number };
  /** Bias [out]. */
  bias: Float32Array;
}

/** Options every backbone factory accepts. */
export interface BackboneOptions {
  /** Number of logits. */
  numClasses: number;
  /** [height, width, channels]; each backbone has a default. */
  inputShape?: readonly [number, number, number];
  /** Channel-width multiplier (1 = the paper's network); narrow variants make the CPU profile fast. @default 1 */
  width?: number;
  /** Input normalization; each backbone defaults to the one its paper uses. */
  normalization?: Normalization;
  /**
   * Hidden widths of an MLP head (dense-ReLU each) between the features and the logits, e.g. `[512]` for CMG's
   * classifier on a CIFAR ResNet-18. Not scaled by `width`. Default: none (a linear head), except `cmg_cnn`
   * ([512 × width]).
   */
  headHidden?: readonly number[];
}
