/**
 * Batch sources the training loop can resume in the middle of an epoch.
 *
 * A {@link BatchSource} produces the batches of epoch `e` starting at batch `skip`. To resume bit-identically,
 * (1) the order of an epoch is a function of (seed, epoch) only — each epoch's shuffle draws from its own
 * generator seeded with `deriveSeed(seed, "shuffle/<e>")` — so the loop can skip the batches it already trained
 * on without producing them; and (2) the augmentation stream's state after the last consumed batch is saved in
 * the checkpoint (`getState`) and handed back (`setState`) before the epoch is restarted.
 * @module
 */
import { tf } from "../tf.ts";
import type { Dataset, Normalization } from "../datasets/types.ts";
import type { NormalizationName } from "../datasets/normalization.ts";
import { type AugmentationName, AUGMENTATIONS, augmentBatch, type AugmentStep } from "../data/augment.ts";
import { batchToTensor, gatherBatch, type TensorBatch } from "../data/tensors.ts";
import { Rng, type RngState, type Seed } from "../data/rng.ts";
import { concatBytes } from "../io/bytes.ts";
import { deriveSeed } from "./seed.ts";

/** Where the loop gets its batches from, one epoch at a time. */
export interface BatchSource<B> {
  /** Batches (micro-batches when accumulating) in epoch `epoch`, if known: progress, ETA and per-step schedules use it. */
  length?(epoch: number): number;
  /**
   * The batches of `epoch` (0-based), from batch index `skip` on. Must be the same sequence every time it is
   * called with the same epoch (after `setState` with the states saved at that point, when resuming).
   */
  epoch(epoch: number, skip: number): Iterable<B> | AsyncIterable<B>;
  /** Random-stream states to store in a checkpoint, taken after the last batch the loop consumed. */
  getState?(): Record<string, RngState>;
  /** Restores states from `getState` before `epoch(e, skip)` is called to resume. */
  setState?(streams: Record<string, RngState>): void;
}

/** A function giving the batches of one epoch; the loop skips already-trained batches by drawing and dropping them. */
export type EpochBatches<B> = (epoch: number) => Iterable<B> | AsyncIterable<B>;

/** Wraps an epoch function as a {@link BatchSource} that skips by consuming (and disposing) the first batches. */
export function epochSource<B>(
  batches: EpochBatches<B>,
  opts: { length?: (epoch: number) => number; dispose?: (b: B) => void } = {},
): BatchSource<B> {
  const dispose = opts.dispose ?? disposeBatch;
  return {
    length: opts.length,
    async *epoch(epoch: number, skip: number) {
      let i = 0;
      for await (const b of batches(epoch)) {
        if (i++ < skip) dispose(b);
        else yield b;
      }
    },
  };
}

/** Disposes the tensors among a batch's own properties (or the batch itself, or an array of tensors). */
export function disposeBatch(b: unknown): void {
  if (b instanceof tf.Tensor) b.dispose();
  else if (Array.isArray(b)) b.forEach(disposeBatch);
  else if (b && typeof b === "object" && !ArrayBuffer.isView(b)) {
    for (const v of Object.values(b)) if (v instanceof tf.Tensor || Array.isArray(v)) disposeBatch(v);
  }
}

/** Options of {@link datasetSource}. */
export interface DatasetSourceOptions {
  /** Images per batch (before `views`). */
  batchSize: number;
  /** Per-channel mean/std or a registered name. */
  normalization: Normalization | NormalizationName;
  /** Seed of the run's data streams (shuffle and augmentation streams are derived from it per epoch). */
  seed: Seed;
  /** Reshuffle every epoch; default true. */
  shuffle?: boolean;
  /** Drop the last incomplete batch; default false. */
  dropLast?: boolean;
  /** Augmentation preset or steps; default none. */
  augment?: AugmentationName | readonly AugmentStep[];
  /** 2 = two augmented views per image (SupCon/CIDER), as in `tensorBatches`. Default 1. */
  views?: 1 | 2;
}

/** A {@link BatchSource} of tensor batches whose epochs are synchronous generators and whose length is known. */
export interface DatasetSource extends BatchSource<TensorBatch> {
  length(epoch: number): number;
  epoch(epoch: number, skip: number): Generator<TensorBatch>;
  getState(): Record<string, RngState>;
  setState(streams: Record<string, RngState>): void;
}

/**
 * Normalized (optionally augmented, optionally two-view) tensor batches of a uint8 dataset, resumable mid-epoch.
 * Epoch e is shuffled with `Rng(deriveSeed(seed, "shuffle/e"))` and augmented from `Rng(deriveSeed(seed, "augment/e"))`;
 * the augmentation stream's state is what {@link BatchSource.getState} reports (`{ augment }`).
 * Batches are `{ x, y, indices }` like `tensorBatches`; the loop disposes them.
 */
export function datasetSource(ds: Dataset, opts: DatasetSourceOptions): DatasetSource {
  const steps: readonly AugmentStep[] | undefined = typeof opts.augment === "string"
    ? AUGMENTATIONS[opts.augment]
    : opts.augment ?? [];
  if (!steps) {
    throw new Error(`Unknown augmentation "${opts.augment}". Valid: ${Object.keys(AUGMENTATIONS).join(", ")}.`);
  }
  if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) {
    throw new Error(`batchSize must be a positive integer, got ${opts.batchSize}`);
  }
  const n = ds.shape[0];
  const B = opts.batchSize;
  const views = opts.views ?? 1;
  const count = opts.dropLast ? Math.floor(n / B) : Math.ceil(n / B);
  let augment = new Rng(0);
  let restored: RngState | null = null;

  const order = (epoch: number): Int32Array => {
    if (opts.shuffle === false) return Int32Array.from({ length: n }, (_, i) => i);
    return new Rng(deriveSeed(opts.seed, `shuffle/${epoch}`)).permutation(n);
  };
  const pixels = (idx: Int32Array, rng: Rng) =>
    steps.length
      ? augmentBatch(ds.images, ds.shape, idx, steps, rng)
      : { images: gatherBatch(ds, idx).images, shape: [idx.length, ds.shape[1], ds.shape[2], ds.shape[3]] as const };

  return {
    length: () => count,
    *epoch(epoch: number, skip: number) {
      const perm = order(epoch);
      const fresh = new Rng(deriveSeed(opts.seed, `augment/${epoch}`));
      if (skip > 0 && restored) augment = Rng.fromState(restored);
      else {
        augment = fresh;
        // No saved stream: replay the skipped batches' augmentation draws (correct, only slower).
        if (steps.length) {
          for (let b = 0; b < skip; b++) {
            for (let v = 0; v < views; v++) pixels(perm.slice(b * B, (b + 1) * B), augment);
          }
        }
      }
      restored = null;
      for (let b = skip; b < count; b++) {
        const idx = perm.slice(b * B, Math.min(n, (b + 1) * B));
        const parts = Array.from({ length: views }, () => pixels(idx, augment));
        const first = parts[0]!;
        const images = views === 1 ? first.images : concatBytes(parts.map((p) => p.images));
        const labels = new Int32Array(idx.length * views);
        for (let v = 0; v < views; v++) {
          for (let i = 0; i < idx.length; i++) labels[v * idx.length + i] = ds.labels[idx[i]!]!;
        }
        const shape = [idx.length * views, first.shape[1], first.shape[2], first.shape[3]] as const;
        yield { x: batchToTensor(images, shape, opts.normalization), y: tf.tensor1d(labels, "int32"), indices: idx };
      }
    },
    getState: () => ({ augment: augment.getState() }),
    setState: (streams) => {
      restored = streams.augment ?? null;
    },
  };
}
