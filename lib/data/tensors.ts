/**
 * From uint8 datasets to normalized float32 NHWC tensors, one batch at a time (a float copy of a whole dataset
 * is never made). `x = (pixel / 255 − mean[c]) / std[c]`.
 * @module
 */
import { tf } from "../tf.ts";
import type { Tensor1D, Tensor4D } from "../tf.ts";
import { type NormalizationName, resolveNormalization } from "../datasets/normalization.ts";
import type { Dataset, Normalization } from "../datasets/types.ts";
import { type AugmentationName, AUGMENTATIONS, augmentBatch, type AugmentStep } from "./augment.ts";
import { indexBatches } from "./batches.ts";
import { type Rng, rngFrom, type Seed } from "./rng.ts";
import { concatBytes } from "../io/bytes.ts";

/**
 * Normalizes uint8 NHWC pixels into float32 (`out` is reused when given and large enough).
 * @param norm Per-channel mean/std (1 entry for gray, 3 for RGB), or a registered name.
 */
export function normalizeBatch(
  images: Uint8Array,
  channels: number,
  norm: Normalization | NormalizationName,
  out?: Float32Array,
): Float32Array {
  const { mean, std } = resolveNormalization(norm);
  if (mean.length !== channels || std.length !== channels) {
    throw new Error(`normalization has ${mean.length} means / ${std.length} stds for ${channels}-channel images`);
  }
  const dst = out && out.length >= images.length ? out.subarray(0, images.length) : new Float32Array(images.length);
  const scale = std.map((s) => 1 / (255 * s));
  const shift = mean.map((m, c) => m / std[c]!);
  for (let i = 0; i < images.length; i++) {
    const c = i % channels;
    dst[i] = images[i]! * scale[c]! - shift[c]!;
  }
  return dst;
}

/** Gathers `indices` of a dataset (uint8, no copy of anything else). */
export function gatherBatch(ds: Dataset, indices: ArrayLike<number>): { images: Uint8Array; labels: Int32Array } {
  const [n, h, w, c] = ds.shape;
  const per = h * w * c;
  const images = new Uint8Array(indices.length * per);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i]!;
    if (!(j >= 0 && j < n)) throw new Error(`index ${j} out of range 0..${n - 1} for ${ds.name}`);
    images.set(ds.images.subarray(j * per, (j + 1) * per), i * per);
    labels[i] = ds.labels[j]!;
  }
  return { images, labels };
}

/** A uint8 NHWC batch → normalized float32 `tf.Tensor4D` (the caller disposes it). */
export function batchToTensor(
  images: Uint8Array,
  shape: readonly [number, number, number, number],
  norm: Normalization | NormalizationName,
): Tensor4D {
  return tf.tensor4d(normalizeBatch(images, shape[3], norm), [shape[0], shape[1], shape[2], shape[3]], "float32");
}

/** Options of {@linkcode tensorBatches}. */
export interface TensorBatchOptions {
  /** Images per batch (before `views`). */
  batchSize: number;
  /** Per-channel mean/std, or a name from `NORMALIZATION`. */
  normalization: Normalization | NormalizationName;
  /** Shuffle the order (seeded). Default false. */
  shuffle?: boolean;
  /** Drop the last incomplete batch. Default false. */
  dropLast?: boolean;
  /** Augmentation applied per image (a preset name or steps). Default none. */
  augment?: AugmentationName | readonly AugmentStep[];
  /**
   * 2 = two independently augmented views per image (SupCon/CIDER): `x` holds `[views of batch; views of batch]`
   * (2B images, first all first views) and `y` the labels twice. Default 1.
   */
  views?: 1 | 2;
  /** Generator for shuffling and augmentation (wins over `seed`). */
  rng?: Rng;
  /** Seed of a new generator when no `rng` is given; default 0. */
  seed?: Seed;
}

/** One batch from {@linkcode tensorBatches}; dispose `x` and `y` when done. */
export interface TensorBatch {
  /** `[B·views, H, W, C]` float32, normalized. */
  x: Tensor4D;
  /** `[B·views]` int32 labels (-1 for OOD). */
  y: Tensor1D;
  /** Dataset indices of the batch (length B). */
  indices: Int32Array;
}

/**
 * One epoch of normalized (optionally augmented) tensor batches. Shuffling and augmentation draw from one
 * `Rng`, so the same seed yields identical batches.
 * @example Usage
 * ```ts ignore
 * import { loadDataset } from "@lib/datasets/registry.ts";
 * import { tensorBatches } from "@lib/data/tensors.ts";
 * const ds = await loadDataset("cifar10", { split: "train" });
 * for (const { x, y } of tensorBatches(ds, { batchSize: 128, normalization: "cifarOdin", shuffle: true, augment: "cropFlip", seed: 0 })) {
 *   // … train step …
 *   x.dispose(); y.dispose();
 * }
 * ```
 */
export function* tensorBatches(ds: Dataset, opts: TensorBatchOptions): Generator<TensorBatch> {
  const rng = rngFrom(opts);
  const steps: readonly AugmentStep[] = typeof opts.augment === "string"
    ? AUGMENTATIONS[opts.augment]
    : opts.augment ?? [];
  if (typeof opts.augment === "string" && !steps) {
    throw new Error(`Unknown augmentation "${opts.augment}". Valid: ${Object.keys(AUGMENTATIONS).join(", ")}.`);
  }
  const views = opts.views ?? 1;
  for (
    const idx of indexBatches(ds.shape[0], {
      batchSize: opts.batchSize,
      shuffle: opts.shuffle,
      dropLast: opts.dropLast,
      rng,
    })
  ) {
    const parts: { images: Uint8Array; shape: [number, number, number, number] }[] = [];
    for (let v = 0; v < views; v++) {
      parts.push(
        steps.length
          ? augmentBatch(ds.images, ds.shape, idx, steps, rng)
          : { images: gatherBatch(ds, idx).images, shape: [idx.length, ds.shape[1], ds.shape[2], ds.shape[3]] },
      );
    }
    const first = parts[0]!;
    const images = views === 1 ? first.images : concatBytes(parts.map((p) => p.images));
    const shape: [number, number, number, number] = [
      idx.length * views,
      first.shape[1],
      first.shape[2],
      first.shape[3],
    ];
    const labels = new Int32Array(idx.length * views);
    for (let v = 0; v < views; v++) {
      for (let i = 0; i < idx.length; i++) labels[v * idx.length + i] = ds.labels[idx[i]!]!;
    }
    yield { x: batchToTensor(images, shape, opts.normalization), y: tf.tensor1d(labels, "int32"), indices: idx };
  }
}
