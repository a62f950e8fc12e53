/**
 * Seeded percentile-bootstrap confidence intervals for any metric.
 *
 * Score metrics use a stratified bootstrap: each resample draws n_ID scores with replacement from the ID set and
 * n_OOD from the OOD set, so class sizes stay fixed. It is run on the already sorted scores as integer
 * multiplicities (weights), so a resample costs O(n), not a new sort.
 * @module
 */

import { Rng } from "../data/rng.ts";
import { type RocSweep, type SortedScores, sweepSorted } from "./roc.ts";
import { assertFraction } from "./validate.ts";

/** Bootstrap settings. */
export interface BootstrapOptions {
  /** Number of resamples B; default 1000. */
  resamples?: number;
  /** Two-sided confidence level; default 0.95 (the 2.5 % and 97.5 % percentiles). */
  confidence?: number;
  /** PRNG seed; default 0. Same seed and data → identical intervals. */
  seed?: number;
}

/** A point estimate with its percentile-bootstrap interval. */
export interface Interval {
  /** The metric on the full data. */
  readonly estimate: number;
  /** Lower percentile of the bootstrap distribution, (1 − confidence)/2. */
  readonly lower: number;
  /** Upper percentile, (1 + confidence)/2. */
  readonly upper: number;
  /** Standard deviation of the bootstrap draws (bootstrap standard error). */
  readonly stdErr: number;
}

/**
 * Percentiles of the non-NaN draws at (1 ∓ confidence)/2, linearly interpolated between order statistics
 * (numpy's default `percentile` method): q-quantile = x_(⌊h⌋) + (h − ⌊h⌋)·(x_(⌊h⌋+1) − x_(⌊h⌋)), h = (B − 1)·q.
 *
 * @param draws Bootstrap replicates (NaN entries are ignored).
 * @param confidence Two-sided level in [0, 1].
 * @returns The interval bounds; NaN when every draw is NaN.
 */
export function percentileInterval(draws: ArrayLike<number>, confidence: number): { lower: number; upper: number } {
  assertFraction(confidence, "confidence");
  const x = Float64Array.from(draws).filter((v) => v === v).sort();
  if (x.length === 0) return { lower: NaN, upper: NaN };
  const quantile = (q: number) => {
    const h = (x.length - 1) * q, lo = Math.floor(h), hi = Math.min(lo + 1, x.length - 1);
    return x[lo]! + (h - lo) * (x[hi]! - x[lo]!);
  };
  return { lower: quantile((1 - confidence) / 2), upper: quantile((1 + confidence) / 2) };
}

function standardDeviation(draws: Float64Array): number {
  let n = 0, mean = 0, m2 = 0;
  for (const v of draws) {
    if (v !== v) continue;
    n++;
    const d = v - mean;
    mean += d / n;
    m2 += d * (v - mean);
  }
  return n > 1 ? Math.sqrt(m2 / (n - 1)) : NaN;
}

function settings(opts: BootstrapOptions): { resamples: number; confidence: number; rng: Rng } {
  const resamples = opts.resamples ?? 1000, confidence = opts.confidence ?? 0.95;
  if (!Number.isInteger(resamples) || resamples < 1) {
    throw new Error(`metrics: resamples must be a positive integer, got ${resamples}`);
  }
  assertFraction(confidence, "confidence");
  return { resamples, confidence, rng: new Rng(opts.seed ?? 0) };
}

/** Runs the statistic B times and summarises each named metric. */
function collect<K extends string>(
  estimate: Record<K, number>,
  resamples: number,
  confidence: number,
  draw: () => Record<K, number>,
): Record<K, Interval> {
  const keys = Object.keys(estimate) as K[];
  const draws = keys.map(() => new Float64Array(resamples));
  for (let b = 0; b < resamples; b++) {
    const value = draw();
    keys.forEach((key, i) => (draws[i]![b] = value[key]));
  }
  const out = {} as Record<K, Interval>;
  keys.forEach((key, i) => {
    out[key] = {
      estimate: estimate[key],
      ...percentileInterval(draws[i]!, confidence),
      stdErr: standardDeviation(draws[i]!),
    };
  });
  return out;
}

/** Fills `counts` with multinomial multiplicities of n draws with replacement from n items. */
export function resampleCounts(rng: Rng, counts: Float64Array): void {
  counts.fill(0);
  const n = counts.length;
  for (let i = 0; i < n; i++) counts[rng.int(n)]!++;
}

/**
 * Stratified percentile bootstrap of score metrics: each resample draws n_ID ID scores and n_OOD OOD scores with
 * replacement (ID first, then OOD, from one seeded stream) and evaluates `statistic` on the weighted sweep.
 *
 * @param sorted Both score sets sorted ascending (from `sortScores`).
 * @param statistic Metrics of a sweep, e.g. `(s) => ({ auroc: aurocFromSweep(s) })`.
 * @param opts Resamples (1000), confidence (0.95), seed (0).
 * @returns One {@link Interval} per metric the statistic returns.
 */
export function bootstrapScores<K extends string>(
  sorted: SortedScores,
  statistic: (sweep: RocSweep) => Record<K, number>,
  opts: BootstrapOptions = {},
): Record<K, Interval> {
  const { resamples, confidence, rng } = settings(opts);
  const id = new Float64Array(sorted.id.length), ood = new Float64Array(sorted.ood.length);
  return collect(statistic(sweepSorted(sorted)), resamples, confidence, () => {
    resampleCounts(rng, id);
    resampleCounts(rng, ood);
    return statistic(sweepSorted(sorted, { id, ood }));
  });
}

/**
 * Percentile bootstrap of a one-sample statistic: each resample draws n indices with replacement.
 *
 * @param n Number of samples (≥ 1).
 * @param statistic Metrics of a resample given its indices (the identity 0 … n−1 gives the estimate).
 * @param opts Resamples (1000), confidence (0.95), seed (0).
 * @returns One {@link Interval} per metric the statistic returns.
 */
export function bootstrapSamples<K extends string>(
  n: number,
  statistic: (indices: Int32Array) => Record<K, number>,
  opts: BootstrapOptions = {},
): Record<K, Interval> {
  if (!Number.isInteger(n) || n < 1) throw new Error(`metrics: bootstrap needs at least one sample, got n = ${n}`);
  const { resamples, confidence, rng } = settings(opts);
  const indices = new Int32Array(n);
  return collect(statistic(Int32Array.from({ length: n }, (_, i) => i)), resamples, confidence, () => {
    for (let i = 0; i < n; i++) indices[i] = rng.int(n);
    return statistic(indices);
  });
}
