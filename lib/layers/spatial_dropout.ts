/**
 * Spatial (channel-wise) dropout for NHWC feature maps, PyTorch's `nn.Dropout2d` (Tompson et al., CVPR 2015):
 * in training mode each (sample, channel) map is zeroed with probability `rate` as a whole and the kept ones are
 * scaled by 1 / (1 − rate); in inference mode it is the identity.
 *
 * TF.js has no `SpatialDropout2D`, but its stock `Dropout` takes a `noiseShape` whose `null` entries follow the
 * input: `[null, 1, 1, null]` draws one keep/drop decision per sample and channel and broadcasts it over height
 * and width. Using the stock class keeps saved models loadable by any TF.js, with no class to register.
 * @module
 */
import { tf } from "../tf.ts";

/** Options of {@link spatialDropout2d}. */
export interface SpatialDropout2dOptions {
  /** Probability of zeroing a channel, in [0, 1). */
  rate: number;
  /** Layer name. */
  name?: string;
  /** Seed of the dropout mask (TF.js draws one from `Math.random` when absent). */
  seed?: number;
}

/**
 * Creates a channel-wise dropout layer for rank-4 NHWC inputs (the equivalent of `nn.Dropout2d(rate)`).
 * @param opts The drop probability, and optionally a layer name and seed.
 * @returns A stock TF.js `Dropout` layer with noise shape [batch, 1, 1, channels].
 * @throws RangeError when `rate` is outside [0, 1).
 * @example Usage
 * ```ts
 * const y = spatialDropout2d({ rate: 0.2 }).apply(x, { training: true });
 * ```
 */
export function spatialDropout2d(opts: SpatialDropout2dOptions): tf.layers.Layer {
  if (!(opts.rate >= 0 && opts.rate < 1)) throw new RangeError(`rate must be in [0, 1), got ${opts.rate}`);
  return tf.layers.dropout({
    rate: opts.rate,
    // null = "the input's size on this axis"; the typings say number[], the layer and its JSON accept null.
    noiseShape: [null, 1, 1, null] as unknown as number[],
    ...(opts.name ? { name: opts.name } : {}),
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
  });
}
