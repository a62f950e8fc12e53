/**
 * Shared types of the dataset layer: the in-memory `Dataset`, load options, normalization constants.
 * @module
 */
import type { Seed } from "../data/rng.ts";

/** Which part of a dataset to load. OOD-only sets (noise, ODIN folders, Textures…) have only a test part. */
export type Split = "train" | "test";

/**
 * A dataset in memory: uint8 pixels in NHWC order (`images.length === n*h*w*c`), one int32 label per image
 * (`-1` for unlabeled OOD images), and the class names the labels index.
 */
export interface Dataset {
  /** Registry name plus any qualifier, e.g. `"mnist"`, `"cifar10[seen 0-5]"`, `"gaussian[like mnist]"`. */
  name: string;
  /** Pixels, row-major NHWC, 0..255. */
  images: Uint8Array;
  /** Class index per image, or -1 for unlabeled (OOD) images. */
  labels: Int32Array;
  /** `[n, height, width, channels]`. */
  shape: [number, number, number, number];
  /** Class names; `labels[i]` indexes this list. Empty for unlabeled sets. */
  classes: string[];
}

/** Options of `loadDataset`. */
export interface LoadOptions {
  /** `"train"` or `"test"`. OOD-only sets accept only `"test"`. */
  split: Split;
  /** Folder that holds downloaded datasets (`<root>/<name>/`); default `OOD_DATA_DIR` or `<repo>/data`. */
  root?: string;
  /**
   * Keep at most this many images. Without `seed` the first `limit` in the dataset's canonical order are kept;
   * with `seed` a seeded random subset (in random order). For synthetic sets it is the number generated.
   */
  limit?: number;
  /** Seed for subset selection (real sets) or generation (synthetic sets; default 0). */
  seed?: Seed;
  /**
   * Synthetic and transformed OOD sets only: the registered dataset whose test split they imitate
   * (its shape and size; for `inverted`/`rotated`/`pixel_permuted` also its images). Default `"mnist"`.
   */
  like?: string;
}

/** Per-channel normalization: `x_float = (x_uint8 / 255 - mean[c]) / std[c]`. */
export interface Normalization {
  /** Per-channel mean of x/255. */
  readonly mean: readonly number[];
  /** Per-channel standard deviation of x/255. */
  readonly std: readonly number[];
}
