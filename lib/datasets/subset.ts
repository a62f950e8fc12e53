/**
 * Taking parts of datasets without copying more than needed: index selection for `limit`/`seed`, gathering
 * images by index, concatenation.
 * @module
 */
import { Rng, type Seed } from "../data/rng.ts";
import type { Dataset } from "./types.ts";

/**
 * Which of `n` items `limit`/`seed` keep: all, in order, without `limit` (`seed` is then ignored); the first
 * `limit` without `seed`; else the first `limit` of a seeded permutation (a random subset in random order).
 */
export function selectIndices(n: number, limit?: number, seed?: Seed): Int32Array {
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
    throw new Error(`limit must be a non-negative integer, got ${limit}`);
  }
  const k = limit === undefined ? n : Math.min(n, limit);
  if (seed === undefined || limit === undefined) {
    const out = new Int32Array(k);
    for (let i = 0; i < k; i++) out[i] = i;
    return out;
  }
  return new Rng(seed).permutation(n).slice(0, k);
}

/** Images `start` (inclusive) to `end` (exclusive), clamped to the set, as views into `ds` without copying. */
export function rangeDataset(ds: Dataset, start: number, end: number): Dataset {
  const n = ds.shape[0];
  const a = Math.max(0, Math.min(start, n)), b = Math.max(a, Math.min(end, n));
  if (a === 0 && b === n) return ds;
  const size = ds.shape[1] * ds.shape[2] * ds.shape[3];
  return {
    ...ds,
    images: ds.images.subarray(a * size, b * size),
    labels: ds.labels.subarray(a, b),
    shape: [b - a, ds.shape[1], ds.shape[2], ds.shape[3]],
  };
}

/** The first `n` images (all when `n` is undefined or larger), as views into `ds` without copying. */
export function headDataset(ds: Dataset, n: number | undefined): Dataset {
  return rangeDataset(ds, 0, n ?? ds.shape[0]);
}

/** Images and labels at `indices`, in that order (a new dataset; `name` defaults to the source's). */
export function subsetDataset(ds: Dataset, indices: ArrayLike<number>, name = ds.name): Dataset {
  const [n, h, w, c] = ds.shape;
  const size = h * w * c;
  const images = new Uint8Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i]!;
    if (!(j >= 0 && j < n)) throw new Error(`index ${j} out of range 0..${n - 1} for dataset ${ds.name}`);
    images.set(ds.images.subarray(j * size, (j + 1) * size), i * size);
    labels[i] = ds.labels[j]!;
  }
  return { name, images, labels, shape: [indices.length, h, w, c], classes: [...ds.classes] };
}

/** Applies `limit`/`seed` (see {@linkcode selectIndices}); returns `ds` itself when nothing is dropped or reordered. */
export function limitDataset(ds: Dataset, limit?: number, seed?: Seed): Dataset {
  if (limit === undefined || (limit >= ds.shape[0] && seed === undefined)) return ds;
  return subsetDataset(ds, selectIndices(ds.shape[0], limit, seed));
}

/** Datasets of equal image shape one after the other; labels are kept as they are. */
export function concatDatasets(parts: readonly Dataset[], name: string, classes: string[]): Dataset {
  if (parts.length === 0) throw new Error("concatDatasets needs at least one dataset");
  const [, h, w, c] = parts[0]!.shape;
  for (const p of parts) {
    if (p.shape[1] !== h || p.shape[2] !== w || p.shape[3] !== c) {
      throw new Error(`cannot concatenate ${p.name} (${p.shape.slice(1).join("×")}) with ${h}×${w}×${c} images`);
    }
  }
  const n = parts.reduce((s, p) => s + p.shape[0], 0);
  const images = new Uint8Array(n * h * w * c);
  const labels = new Int32Array(n);
  let o = 0;
  for (const p of parts) {
    images.set(p.images, o * h * w * c);
    labels.set(p.labels, o);
    o += p.shape[0];
  }
  return { name, images, labels, shape: [n, h, w, c], classes };
}
