/**
 * VMDLS's class-balanced training batch sampler (Dinari & Freifeld, UAI 2022): the reference's
 * `BalancedBatchSampler` (BGU-CS-VIL/vmdls `data/open_set_data_loader.py` l. 38–74, after adambielski's
 * siamese-triplet), seeded with our {@linkcode Rng} instead of numpy's global state.
 * @module
 */
import { Rng, type Seed } from "../../data/rng.ts";

/** Options of {@linkcode BalancedBatchSampler}. */
export interface BalancedSamplerOptions {
  /** B_c: classes per batch, drawn without replacement (`--batch_classes`; MNIST training: 10). */
  classesPerBatch: number;
  /** B_s: samples per class and batch (`--sample_count`; MNIST training: 16). */
  samplesPerClass: number;
  /** Seed of the sampler's own stream (or pass `rng`). */
  seed?: Seed;
  /** The stream to draw from (takes precedence over `seed`). */
  rng?: Rng;
  /**
   * Keep the class lists and read positions from one epoch to the next (the sampler object's own behaviour)
   * instead of starting every epoch afresh (the reference's training, where PyTorch Lightning rebuilds the
   * sampler each epoch). @default false
   */
  persist?: boolean;
}

/**
 * Batches of B_c classes × B_s indices, as the reference's sampler draws them:
 * - at construction each class's index list is shuffled once (l. 48–51); the read positions start at 0 (l. 52);
 * - an epoch ({@linkcode BalancedBatchSampler.epoch}) yields batches while count + B < N (B = B_c·B_s, N = the
 *   dataset size; l. 62, 74), so MNIST at 10 × 16 gives 374 batches;
 * - each batch draws B_c distinct classes uniformly (`np.random.choice(labels_set, B_c, replace=False)`, l. 63),
 *   then per class the next B_s indices of its list (l. 66–68), advancing its read position; when fewer than B_s
 *   remain after that, the list is reshuffled and read from the start again (l. 70–72), so the remainder is
 *   skipped;
 * - every epoch starts afresh: the reference trains with `reload_dataloaders_every_epoch=True` (`main.py` l. 74),
 *   so PyTorch Lightning 1.1.2 calls `train_dataloader()` at each epoch start (`trainer/training_loop.py`
 *   l. 235–236), which builds a new sampler: lists reshuffled, read positions 0. With `persist: true` they carry
 *   over instead (the sampler object alone, whose `__iter__` only restarts `count`, l. 61).
 * Classes are the sorted distinct labels (the reference's `list(set(labels))`, sorted for small integers).
 * Deviation: numpy's global stream is replaced by a seeded {@linkcode Rng}, so the draws differ, not the law.
 * @example Usage
 * ```ts
 * const s = new BalancedBatchSampler(Int32Array.of(0, 0, 1, 1, 2, 2), { classesPerBatch: 2, samplesPerClass: 1, seed: 0 });
 * s.epoch(); // two batches of one index from each of two distinct classes
 * ```
 */
export class BalancedBatchSampler {
  /** The distinct labels, ascending. */
  readonly classes: readonly number[];
  /** B = B_c·B_s. */
  readonly batchSize: number;
  readonly #rng: Rng;
  readonly #members: Int32Array[];
  #lists: Int32Array[] = [];
  #used: number[] = [];
  #epochs = 0;
  readonly #n: number;

  constructor(labels: ArrayLike<number>, readonly opts: BalancedSamplerOptions) {
    const { classesPerBatch: bc, samplesPerClass: bs } = opts;
    if (!Number.isInteger(bc) || bc < 1 || !Number.isInteger(bs) || bs < 1) {
      throw new Error(`BalancedBatchSampler: classesPerBatch and samplesPerClass must be positive integers`);
    }
    this.#rng = opts.rng ?? new Rng(opts.seed ?? 0);
    const byClass = new Map<number, number[]>();
    for (let i = 0; i < labels.length; i++) {
      const y = labels[i]!;
      if (!byClass.has(y)) byClass.set(y, []);
      byClass.get(y)!.push(i);
    }
    this.classes = [...byClass.keys()].sort((a, b) => a - b);
    if (bc > this.classes.length) {
      throw new Error(`BalancedBatchSampler: ${bc} classes per batch but only ${this.classes.length} classes`);
    }
    this.#members = this.classes.map((c) => Int32Array.from(byClass.get(c)!));
    this.#n = labels.length;
    this.batchSize = bc * bs;
    this.#reset();
  }

  /** A fresh sampler's state: each class's indices (ascending) shuffled, read positions 0 (l. 48–52). */
  #reset(): void {
    this.#lists = this.#members.map((m) => this.#rng.shuffle(Int32Array.from(m)));
    this.#used = this.classes.map(() => 0);
  }

  /** Batches per epoch: the number of multiples k·B with k·B + B < N. */
  get batchesPerEpoch(): number {
    return Math.max(0, Math.ceil((this.#n - this.batchSize) / this.batchSize));
  }

  /** One batch: B_c distinct classes (random order), B_s indices each, concatenated class by class. */
  nextBatch(): number[] {
    const { classesPerBatch: bc, samplesPerClass: bs } = this.opts;
    const picked = this.#rng.permutation(this.classes.length).subarray(0, bc);
    const out: number[] = [];
    for (const k of picked) {
      const list = this.#lists[k]!, at = this.#used[k]!;
      for (let i = at; i < Math.min(at + bs, list.length); i++) out.push(list[i]!);
      this.#used[k] = at + bs;
      if (this.#used[k]! + bs > list.length) {
        this.#rng.shuffle(list);
        this.#used[k] = 0;
      }
    }
    return out;
  }

  /** The batches of one epoch (the reference's `__iter__`; afresh from the second epoch on unless `persist`). */
  epoch(): number[][] {
    if (this.#epochs++ > 0 && !this.opts.persist) this.#reset();
    const batches: number[][] = [];
    for (let count = 0; count + this.batchSize < this.#n; count += this.batchSize) batches.push(this.nextBatch());
    return batches;
  }
}
