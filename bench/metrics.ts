/**
 * Benchmark of the metric suite: `evaluate` on 10⁶ ID + 10⁶ OOD random scores (median of several runs).
 *
 * Part of `deno task bench` (suite `metrics`); also runs standalone with `deno run bench/metrics.ts`.
 * @module
 */

import { evaluate } from "../lib/metrics/evaluate.ts";
import { Rng } from "../lib/data/rng.ts";
import { sortScores, sweepSorted } from "../lib/metrics/roc.ts";

/** One benchmark measurement. */
export interface MetricsBenchRow {
  /** What was timed. */
  name: string;
  /** Median wall time in milliseconds. */
  ms: number;
  /** Number of scores processed per run. */
  n: number;
}

/** Gaussian scores N(mean, 1) from a seeded generator (Box–Muller), in the requested array type. */
function gaussianScores<T extends Float32Array | Float64Array>(
  make: new (n: number) => T,
  n: number,
  mean: number,
  seed: number,
): T {
  const rng = new Rng(seed), out = new make(n);
  for (let i = 0; i < n; i++) {
    const u = 1 - rng.float(), v = rng.float();
    out[i] = mean + Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  return out;
}

function medianMs(runs: number, fn: () => unknown): number {
  fn(); // warm-up (JIT)
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/**
 * Times `evaluate` (all default metrics) on 10⁶ + 10⁶ scores given as Float32Array and as Float64Array, the
 * sort and sweep alone, and `evaluate` with 1000 bootstrap resamples on 10⁴ + 10⁴ scores (3 runs).
 *
 * @param opts.size Scores per set, default 10⁶.
 * @param opts.runs Timed runs per measurement (after one warm-up), default 7.
 * @returns One row per measurement with the median milliseconds.
 */
export async function benchMetrics(opts: { size?: number; runs?: number } = {}): Promise<MetricsBenchRow[]> {
  const size = opts.size ?? 1_000_000, runs = opts.runs ?? 7;
  const id32 = gaussianScores(Float32Array, size, 1, 1), ood32 = gaussianScores(Float32Array, size, 0, 2);
  const id64 = gaussianScores(Float64Array, size, 1, 3), ood64 = gaussianScores(Float64Array, size, 0, 4);
  const sorted = sortScores(id64, ood64);
  const rows: MetricsBenchRow[] = [
    { name: "metrics.evaluate (Float32Array)", ms: medianMs(runs, () => evaluate(id32, ood32)), n: 2 * size },
    { name: "metrics.evaluate (Float64Array)", ms: medianMs(runs, () => evaluate(id64, ood64)), n: 2 * size },
    {
      name: "metrics.evaluate hendrycks+trapezoid",
      ms: medianMs(runs, () => evaluate(id64, ood64, { fprRule: "hendrycks", auprEstimator: "trapezoid" })),
      n: 2 * size,
    },
    { name: "metrics.sortScores (Float64Array)", ms: medianMs(runs, () => sortScores(id64, ood64)), n: 2 * size },
    { name: "metrics.sweepSorted", ms: medianMs(runs, () => sweepSorted(sorted)), n: 2 * size },
    {
      name: "metrics.evaluate 1000 bootstrap resamples",
      ms: medianMs(3, () => evaluate(id64.subarray(0, 10_000), ood64.subarray(0, 10_000), { bootstrap: true })),
      n: 20_000,
    },
  ];
  return await Promise.resolve(rows);
}

if (import.meta.main) {
  const rows = await benchMetrics();
  for (const r of rows) console.log(`${r.name.padEnd(40)} n=${r.n}  ${r.ms.toFixed(1)} ms (median)`);
}
