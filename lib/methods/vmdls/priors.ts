/**
 * The running class means of the latent samples that become the next epoch's KL priors in VMDLS (Dinari &
 * Freifeld, UAI 2022; BGU-CS-VIL/vmdls `models/vae.py`).
 * @module
 */

/** The JSON state of a {@linkcode ClassMeanTracker} (checkpoints). */
export interface ClassMeanTrackerState {
  means: number[][];
  sums: number[][];
  counts: number[];
}

/**
 * Accumulates, over one epoch's training steps, the per-class sums of the detached sampled z (the reference's
 * `class_temp_means` and `class_counts`, `models/vae.py` l. 252, 254), and turns them into the class means m_c
 * that the KL term uses during the next epoch (`training_epoch_end`, l. 338; reset for the next epoch, l. 352–353).
 * The means start at zero (epoch 0; `configure_optimizers`, l. 709). Sums are float64.
 *
 * Deviation: a class that no step of the epoch saw keeps its previous mean (the reference divides 0 by 0 and
 * gets NaN; its balanced sampler visits every class each epoch, so this does not arise there).
 * @example Usage
 * ```ts
 * const t = new ClassMeanTracker(2, 2);
 * t.add(Float32Array.of(1, 0, 3, 0, 0, 5), Int32Array.of(0, 0, 1));
 * t.endEpoch(); // [[2, 0], [0, 5]]
 * ```
 */
export class ClassMeanTracker {
  /** The current prior means m_c, [K][D] (zeros until the first {@linkcode ClassMeanTracker.endEpoch}). */
  means: Float64Array[];
  #sums: Float64Array[];
  #counts: number[];

  constructor(readonly numClasses: number, readonly dim: number) {
    if (!Number.isInteger(numClasses) || numClasses < 1 || !Number.isInteger(dim) || dim < 1) {
      throw new Error(`ClassMeanTracker: bad sizes ${numClasses} × ${dim}`);
    }
    this.means = Array.from({ length: numClasses }, () => new Float64Array(dim));
    this.#sums = Array.from({ length: numClasses }, () => new Float64Array(dim));
    this.#counts = new Array<number>(numClasses).fill(0);
  }

  /** Adds one batch: `z` row-major [n, D] (the detached sample), `labels` n classes in [0, K). */
  add(z: ArrayLike<number>, labels: ArrayLike<number>): void {
    const d = this.dim;
    if (z.length !== labels.length * d) {
      throw new Error(`ClassMeanTracker.add: ${z.length} values for ${labels.length} rows`);
    }
    for (let i = 0; i < labels.length; i++) {
      const y = labels[i]!;
      if (!Number.isInteger(y) || y < 0 || y >= this.numClasses) throw new Error(`ClassMeanTracker.add: label ${y}`);
      const s = this.#sums[y]!;
      for (let j = 0; j < d; j++) s[j]! += z[i * d + j]!;
      this.#counts[y]!++;
    }
  }

  /** Ends the epoch: the means become sums / counts (unseen classes keep theirs), and the sums restart. */
  endEpoch(): number[][] {
    for (let c = 0; c < this.numClasses; c++) {
      const n = this.#counts[c]!;
      if (n > 0) this.means[c] = this.#sums[c]!.map((v) => v / n);
      this.#sums[c]!.fill(0);
      this.#counts[c] = 0;
    }
    return this.means.map((m) => Array.from(m));
  }

  /** The whole state (means, the running epoch's sums and counts) as JSON, e.g. for a training checkpoint. */
  getState(): ClassMeanTrackerState {
    return {
      means: this.means.map((m) => Array.from(m)),
      sums: this.#sums.map((s) => Array.from(s)),
      counts: this.#counts.slice(),
    };
  }

  /** Restores a state from {@linkcode ClassMeanTracker.getState} (same K and D). */
  setState(state: ClassMeanTrackerState): void {
    const k = this.numClasses, d = this.dim;
    const ok = (rows: unknown) =>
      Array.isArray(rows) && rows.length === k && rows.every((r) => Array.isArray(r) && r.length === d);
    if (!ok(state.means) || !ok(state.sums) || state.counts?.length !== k) {
      throw new Error(`ClassMeanTracker.setState: not a state of ${k} classes × ${d} dimensions`);
    }
    this.means = state.means.map((m) => Float64Array.from(m));
    this.#sums = state.sums.map((s) => Float64Array.from(s));
    this.#counts = state.counts.slice();
  }

  /** The current means as one row-major float32 [K·D] array (e.g. for `tf.tensor2d(…, [K, D])`). */
  meansFlat(): Float32Array {
    const out = new Float32Array(this.numClasses * this.dim);
    this.means.forEach((m, c) => out.set(m, c * this.dim));
    return out;
  }
}
