/**
 * Batch index streams: seeded shuffling and batching, VMDLS's class-balanced sampler, and ELOC's paired
 * ID + OOD stream. They yield `Int32Array`s of indices only; pixels are gathered per batch by the caller
 * (`gatherBatch`, `tensorBatches`), so no float copy of a whole dataset is ever made.
 *
 * Determinism: everything draws from the `Rng` it is given (or `new Rng(seed)`), in a fixed order, so the
 * same seed gives the same batches, and saving `rng.getState()` between epochs allows exact resumption.
 * @module
 */
import { type Rng, rngFrom, type Seed } from "./rng.ts";

/** Options of {@linkcode indexBatches}. */
export interface IndexBatchOptions {
  /** Indices per batch. */
  batchSize: number;
  /** Shuffle each epoch. Default false (dataset order). */
  shuffle?: boolean;
  /** Drop the last incomplete batch. Default false. */
  dropLast?: boolean;
  /** Generator to draw from (wins over `seed`). */
  rng?: Rng;
  /** Seed of a new generator when no `rng` is given; default 0. */
  seed?: Seed;
}

function checkBatchSize(b: number, what = "batchSize"): void {
  if (!Number.isInteger(b) || b < 1) throw new Error(`${what} must be a positive integer, got ${b}`);
}

/**
 * One epoch of index batches over `n` items.
 * @example Usage
 * ```ts
 * import { indexBatches } from "@lib/data/batches.ts";
 * let seen = 0;
 * for (const idx of indexBatches(50000, { batchSize: 128, shuffle: true, seed: 0 })) seen += idx.length;
 * console.log(seen); // 50000, in 391 batches (the last has 80)
 * ```
 */
export function* indexBatches(n: number, opts: IndexBatchOptions): Generator<Int32Array> {
  checkBatchSize(opts.batchSize);
  let order: Int32Array;
  if (opts.shuffle) order = rngFrom(opts).permutation(n);
  else {
    order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
  }
  for (let s = 0; s < n; s += opts.batchSize) {
    const e = Math.min(n, s + opts.batchSize);
    if (e - s < opts.batchSize && opts.dropLast) return;
    yield order.slice(s, e);
  }
}

/** Options of {@linkcode classBalancedBatches}. */
export interface ClassBalancedOptions {
  /** Classes per batch (VMDLS `batch_classes`). */
  classesPerBatch: number;
  /** Samples per class per batch (VMDLS `sample_count`). */
  samplesPerClass: number;
  /** Batches to yield; default one "epoch" = VMDLS's count: while `yielded·B + B < n`. */
  batches?: number;
  /** Generator to draw from (wins over `seed`). */
  rng?: Rng;
  /** Seed of a new generator when no `rng` is given; default 0. */
  seed?: Seed;
}

/**
 * VMDLS's balanced sampler: each batch draws `classesPerBatch` distinct classes at random and takes the next
 * `samplesPerClass` indices of each from a per-class shuffled list; a class list is reshuffled and restarted
 * when its next take would run past its end. Labels < 0 are ignored.
 */
export function* classBalancedBatches(labels: Int32Array, opts: ClassBalancedOptions): Generator<Int32Array> {
  checkBatchSize(opts.classesPerBatch, "classesPerBatch");
  checkBatchSize(opts.samplesPerClass, "samplesPerClass");
  const rng = rngFrom(opts);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    if (y < 0) continue;
    let l = byClass.get(y);
    if (!l) byClass.set(y, l = []);
    l.push(i);
  }
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  const { classesPerBatch: B, samplesPerClass: S } = opts;
  if (B > classes.length) throw new Error(`classesPerBatch ${B} exceeds the ${classes.length} classes present`);
  for (const c of classes) {
    const l = byClass.get(c)!;
    if (l.length < S) throw new Error(`class ${c} has ${l.length} samples, fewer than samplesPerClass ${S}`);
    rng.shuffle(l);
  }
  const used = new Map(classes.map((c) => [c, 0]));
  const batchSize = B * S;
  const n = byClass.size ? [...byClass.values()].reduce((s, l) => s + l.length, 0) : 0;
  const total = opts.batches ?? Math.max(0, Math.ceil((n - batchSize) / batchSize));
  for (let b = 0; b < total; b++) {
    const pick = rng.shuffle(classes.slice()).slice(0, B);
    const out = new Int32Array(batchSize);
    let o = 0;
    for (const c of pick) {
      const l = byClass.get(c)!;
      const u = used.get(c)!;
      for (let k = 0; k < S; k++) out[o++] = l[u + k]!;
      let next = u + S;
      if (next + S > l.length) {
        rng.shuffle(l);
        next = 0;
      }
      used.set(c, next);
    }
    yield out;
  }
}

/** One step of {@linkcode pairedBatches}: indices into the ID and into the OOD dataset. */
export interface PairedBatch {
  /** Indices into the ID dataset. */
  id: Int32Array;
  /** Indices into the OOD dataset. */
  ood: Int32Array;
}

/** Options of {@linkcode pairedBatches}. */
export interface PairedBatchOptions {
  /** ID indices per step. */
  idBatchSize: number;
  /** Default `idBatchSize`. */
  oodBatchSize?: number;
  /** Generator to draw from (wins over `seed`). */
  rng?: Rng;
  /** Seed of a new generator when no `rng` is given; default 0. */
  seed?: Seed;
}

/**
 * ELOC's training stream: one shuffled epoch over the ID set (last batch may be short); with every ID batch,
 * the next OOD batch from a shuffled OOD order that is reshuffled and restarted when it runs out (so, like a
 * restarted PyTorch `DataLoader`, the batch before a restart may be short).
 */
export function* pairedBatches(idCount: number, oodCount: number, opts: PairedBatchOptions): Generator<PairedBatch> {
  checkBatchSize(opts.idBatchSize, "idBatchSize");
  const ob = opts.oodBatchSize ?? opts.idBatchSize;
  checkBatchSize(ob, "oodBatchSize");
  if (oodCount < 1) throw new Error("pairedBatches needs at least one OOD item");
  const rng = rngFrom(opts);
  const idOrder = rng.permutation(idCount);
  let oodOrder = rng.permutation(oodCount);
  let pos = 0;
  for (let s = 0; s < idCount; s += opts.idBatchSize) {
    if (pos >= oodCount) {
      oodOrder = rng.permutation(oodCount);
      pos = 0;
    }
    const ood = oodOrder.slice(pos, Math.min(oodCount, pos + ob));
    pos += ood.length;
    yield { id: idOrder.slice(s, Math.min(idCount, s + opts.idBatchSize)), ood };
  }
}
