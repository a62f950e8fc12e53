/**
 * The leaderboard's statistics (issue 16): per (ID dataset, method = (label, score), OOD group) the group average of
 * every metric with mean ± sample std over seeds, a seeded stratified bootstrap 95 % CI of that average, ranks per
 * column and the "best" mark (only where the best's CI does not overlap the runner-up's); per OOD set the mean
 * over seeds (for the heatmap and the per-method notes). Pure functions over result rows and scores, no training.
 *
 * Definitions (fractions throughout; ×100 only at display):
 * - Group average of a metric within a seed s: m̄_s = (1/|G|) Σ_{o∈G} m(ID_s, OOD_{s,o}) over the group's OOD sets G
 *   (near = rows with `oodGroup` "near", far = "far"). Over seeds: mean = (1/S) Σ_s m̄_s, std = the sample std
 *   √(Σ_s (m̄_s − mean)² / (S − 1)) (null with one seed). Values that are not finite (e.g. an FPR95 the ODIN rule
 *   cannot compute) are left out.
 * - Bootstrap CI (score metrics): replicate b draws, for every seed, n_ID ID scores with replacement (one draw per
 *   seed, shared by the group's OOD sets scored against the same ID scores; a set paired with its own ID scores
 *   — a variant that selects its model per OOD set — gets its own ID draw) and, for every OOD
 *   set, n_OOD scores with replacement (stratified); it computes m on each set's resample, averages over the sets
 *   and then over the seeds: θ*_b = (1/S) Σ_s (1/|G|) Σ_o m(ID*_s, OOD*_{s,o}). The CI is the percentile interval
 *   of θ*_1 … θ*_B at (1 ∓ confidence)/2 (`percentileInterval`). Resamples are multiplicities on the sorted scores
 *   (as `bootstrapScores` does), so a replicate costs O(n) per set, not a sort. One seeded stream per
 *   (ID dataset, label, score, group): the same seed and data give identical intervals.
 * - ID accuracy has no per-image scores here, so its CI is the Wald interval of the same ID resampling:
 *   mean ± z·√(Σ_s a_s(1 − a_s)/n_ID,s) / S, z = Φ⁻¹((1 + confidence)/2), clipped to [0, 1].
 * - Rank per column (competition ranking, "1224"): rank = 1 + the number of methods strictly better (by more than
 *   1e-9); ties share a rank. Higher is better for AUROC, AUPR-In/Out and ID accuracy, lower for both FPR95.
 * - Best mark: the sole rank-1 method of a column is marked when its CI and the runner-up's (the best of the others)
 *   do not overlap: lower_best > upper_runner-up (higher is better) or upper_best < lower_runner-up (lower is
 *   better). Not marked with a tie at rank 1, fewer than two methods, or a missing CI.
 * @module
 */
import { Rng } from "../data/rng.ts";
import type { AuprEstimator } from "../metrics/aupr.ts";
import { auprFromCurve } from "../metrics/aupr.ts";
import { aurocFromSweep } from "../metrics/auroc.ts";
import { percentileInterval, resampleCounts } from "../metrics/bootstrap.ts";
import { FPR_RULES, fprAtTprFromCurve, type FprRule } from "../metrics/fpr.ts";
import {
  oodCurveInto,
  orientCurve,
  type OrientedCurve,
  type RocSweep,
  type SortedScores,
  sortScores,
} from "../metrics/roc.ts";
import type { OodGroup, ResultRow } from "../report/results.ts";
import { finiteMeanStd } from "../report/table.ts";
import type { ScoreRecord } from "./types.ts";

/** The metrics the leaderboard shows, in column order. */
export const LEADERBOARD_METRICS = ["auroc", "fpr95", "fpr95OodPositive", "auprIn", "auprOut", "idAccuracy"] as const;

/** A leaderboard metric. */
export type LeaderboardMetric = typeof LEADERBOARD_METRICS[number];

/** The metrics computed from scores (and bootstrapped). */
export const SCORE_METRICS = ["auroc", "fpr95", "fpr95OodPositive", "auprIn", "auprOut"] as const;

/** A metric computed from scores. */
export type ScoreMetric = typeof SCORE_METRICS[number];

/** Which direction is better, per metric. */
export const BETTER: Readonly<Record<LeaderboardMetric, "higher" | "lower">> = {
  auroc: "higher",
  fpr95: "lower",
  fpr95OodPositive: "lower",
  auprIn: "higher",
  auprOut: "higher",
  idAccuracy: "higher",
};

/** The OOD groups, in display order. */
export const OOD_GROUPS: readonly OodGroup[] = ["near", "far"];

/** Two values closer than this count as a tie when ranking. */
export const RANK_TOLERANCE = 1e-9;

/** How the score metrics are computed and bootstrapped. */
export interface BootstrapSettings {
  /** Bootstrap replicates B; default 1000; 0 = no bootstrap (every CI null). */
  resamples?: number;
  /** Two-sided level; default 0.95. */
  confidence?: number;
  /** Base seed of the replicate streams; default 0. */
  seed?: number;
  /** Rule of the ID-positive FPR95 (`fpr95`); default `"sklearn"`. The OOD-positive one always uses first-≥. */
  fprRule?: FprRule;
  /** TPR level of both FPR readings; default 0.95. */
  tprLevel?: number;
  /** AUPR integrator; default `"ap"`. */
  auprEstimator?: AuprEstimator;
}

/** A confidence interval. */
export interface Ci {
  readonly lower: number;
  readonly upper: number;
}

/** The bootstrap of one group average: the estimate on the full data and its percentile interval. */
export interface GroupInterval extends Ci {
  /** The group average on the full data (every seed, every set, no resampling). */
  readonly estimate: number;
}

/** One seed's scores for a group: the ID test scores and each of the group's OOD sets (higher = more ID). */
export interface SeedScores {
  readonly id: ArrayLike<number>;
  readonly ood: readonly ArrayLike<number>[];
  /**
   * Per OOD set, the ID scores it is paired with, where they differ by set (a faithful variant that selects its
   * model per OOD set, as CMG's maximum per `eval.py` run); default `id` for every set. Sets paired with the same
   * array share its resample.
   */
  readonly idPerSet?: readonly ArrayLike<number>[];
}

/**
 * The score metrics of one (weighted) sweep: AUROC, AUPR-In (ID positive), AUPR-Out (OOD positive), FPR95 with ID
 * positive under `fprRule` and FPR95 with OOD positive (first-≥, OpenOOD v1.5), exactly as `metricsFromSweep`.
 * `oodCurve` may be passed when already built (it must be `orientCurve(sweep, "ood")`).
 */
export function sweepMetrics(
  sweep: RocSweep,
  opts: BootstrapSettings = {},
  oodCurve: OrientedCurve = orientCurve(sweep, "ood"),
): Record<ScoreMetric, number> {
  const idCurve = orientCurve(sweep, "id");
  const tprLevel = opts.tprLevel ?? 0.95, estimator = opts.auprEstimator ?? "ap";
  return {
    auroc: aurocFromSweep(sweep),
    fpr95: fprAtTprFromCurve(idCurve, { tprLevel, rule: opts.fprRule ?? "sklearn" }),
    fpr95OodPositive: fprAtTprFromCurve(oodCurve, { tprLevel, rule: "sklearn" }),
    auprIn: auprFromCurve(idCurve, { estimator }),
    auprOut: auprFromCurve(oodCurve, { estimator }),
  };
}

/**
 * The merge of one sorted (ID, OOD) pair, computed once, so that each weighted sweep is one pass without
 * comparisons or allocations: `sweep` equals `sweepSorted(sorted, weights)` (zero-weight thresholds dropped as
 * there) and `oodCurve` equals `orientCurve(sweep, "ood")`. The returned arrays are reused by the next call.
 */
export class PairSweeper {
  readonly #idPos: Int32Array; // merged position (descending order) of sorted ID element k
  readonly #oodPos: Int32Array; // merged position of sorted OOD element k
  readonly #isId: Float64Array; // 1 where the merged element is ID, else 0
  readonly #start: Int32Array; // elements of distinct threshold g: [start[g], start[g + 1])
  readonly #values: Float64Array;
  readonly #w: Float64Array; // weights in merged order
  readonly #thr: Float64Array;
  readonly #tp: Float64Array;
  readonly #fp: Float64Array;
  readonly #pos: Float64Array;
  readonly #neg: Float64Array;

  constructor(sorted: SortedScores) {
    const a = sorted.id, b = sorted.ood, n = a.length + b.length;
    const idPos = new Int32Array(a.length), oodPos = new Int32Array(b.length), isId = new Float64Array(n);
    const start: number[] = [], values: number[] = [];
    let i = a.length - 1, j = b.length - 1, p = 0;
    while (i >= 0 || j >= 0) {
      const v = j < 0 || (i >= 0 && a[i]! >= b[j]!) ? a[i]! : b[j]!;
      start.push(p);
      values.push(v);
      while (i >= 0 && a[i] === v) isId[p] = 1, idPos[i--] = p++;
      while (j >= 0 && b[j] === v) oodPos[j--] = p++;
    }
    start.push(p);
    const m = values.length;
    this.#idPos = idPos;
    this.#oodPos = oodPos;
    this.#isId = isId;
    this.#start = Int32Array.from(start);
    this.#values = Float64Array.from(values);
    this.#w = new Float64Array(n);
    this.#thr = new Float64Array(m);
    this.#tp = new Float64Array(m);
    this.#fp = new Float64Array(m);
    this.#pos = new Float64Array(m);
    this.#neg = new Float64Array(m);
  }

  /** The sweep under per-position weights aligned with the sorted ID and OOD arrays (all ones when omitted). */
  sweep(idW?: Float64Array, oodW?: Float64Array): RocSweep {
    const w = this.#w, isId = this.#isId, start = this.#start, values = this.#values;
    if (idW === undefined || oodW === undefined) w.fill(1);
    else {
      const idPos = this.#idPos, oodPos = this.#oodPos;
      for (let k = 0; k < idPos.length; k++) w[idPos[k]!] = idW[k]!;
      for (let k = 0; k < oodPos.length; k++) w[oodPos[k]!] = oodW[k]!;
    }
    const thr = this.#thr, tp = this.#tp, fp = this.#fp, groups = values.length;
    let m = 0, tpAcc = 0, fpAcc = 0;
    for (let g = 0; g < groups; g++) {
      let dTp = 0, dAll = 0;
      const end = start[g + 1]!;
      for (let q = start[g]!; q < end; q++) {
        const x = w[q]!;
        dTp += x * isId[q]!;
        dAll += x;
      }
      if (dAll === 0) continue;
      tpAcc += dTp;
      fpAcc += dAll - dTp;
      thr[m] = values[g]!;
      tp[m] = tpAcc;
      fp[m] = fpAcc;
      m++;
    }
    return { thresholds: thr.subarray(0, m), tp: tp.subarray(0, m), fp: fp.subarray(0, m), nId: tpAcc, nOod: fpAcc };
  }

  /** `orientCurve(sweep, "ood")` of the last {@link sweep}, into reused buffers (OOD positive on −s). */
  oodCurve(sweep: RocSweep): OrientedCurve {
    return oodCurveInto(sweep, this.#pos, this.#neg);
  }
}

/**
 * Seeded stratified bootstrap of a group average over OOD sets and seeds (see the module documentation):
 * θ*_b = (1/S) Σ_s (1/|G_s|) Σ_o m(ID*_s, OOD*_{s,o}), with one ID resample per seed shared by its OOD sets.
 *
 * @param seeds Per seed, the ID scores and the group's OOD sets' scores.
 * @param opts Replicates (1000), confidence (0.95), seed (0), FPR rule, TPR level, AUPR estimator.
 * @returns Per score metric the full-data estimate and the percentile interval (NaN bounds when every replicate
 *   is NaN, e.g. the ODIN rule on small sets).
 * @throws Error when no seed has an OOD set, or a score set is empty or contains NaN.
 */
export function bootstrapGroupAverage(
  seeds: readonly SeedScores[],
  opts: BootstrapSettings = {},
): Record<ScoreMetric, GroupInterval> {
  const used = seeds.filter((s) => s.ood.length > 0);
  if (used.length === 0) throw new Error("leaderboard: bootstrapGroupAverage needs at least one OOD set.");
  const resamples = opts.resamples ?? 1000, confidence = opts.confidence ?? 0.95;
  if (!Number.isInteger(resamples) || resamples < 1) {
    throw new Error(`leaderboard: resamples must be a positive integer, got ${resamples}`);
  }
  // Per seed, its distinct ID arrays (one, unless the sets are paired with their own) and each set's index into them.
  const idArrays = used.map((s) => [...new Set(s.ood.map((_, o) => s.idPerSet?.[o] ?? s.id))]);
  const idOf = used.map((s, k) => s.ood.map((_, o) => idArrays[k]!.indexOf(s.idPerSet?.[o] ?? s.id)));
  const sorted: SortedScores[][] = used.map((s, k) => s.ood.map((o, j) => sortScores(idArrays[k]![idOf[k]![j]!]!, o)));
  const sweepers = sorted.map((sets) => sets.map((p) => new PairSweeper(p)));
  const idW = idArrays.map((arrays) => arrays.map((a) => new Float64Array(a.length)));
  const oodW = sorted.map((sets) => sets.map((p) => new Float64Array(p.ood.length)));
  const total = new Float64Array(SCORE_METRICS.length);
  const average = (weighted: boolean): Float64Array => {
    total.fill(0);
    for (let s = 0; s < sweepers.length; s++) {
      const sets = sweepers[s]!, scale = 1 / (sets.length * sweepers.length);
      for (let o = 0; o < sets.length; o++) {
        const p = sets[o]!;
        const sweep = weighted ? p.sweep(idW[s]![idOf[s]![o]!]!, oodW[s]![o]!) : p.sweep();
        const m = sweepMetrics(sweep, opts, p.oodCurve(sweep));
        total[0]! += m.auroc * scale;
        total[1]! += m.fpr95 * scale;
        total[2]! += m.fpr95OodPositive * scale;
        total[3]! += m.auprIn * scale;
        total[4]! += m.auprOut * scale;
      }
    }
    return total;
  };
  const estimate = Float64Array.from(average(false));
  const draws = SCORE_METRICS.map(() => new Float64Array(resamples));
  const rng = new Rng(opts.seed ?? 0);
  for (let b = 0; b < resamples; b++) {
    for (let s = 0; s < sorted.length; s++) {
      for (const w of idW[s]!) resampleCounts(rng, w);
      for (let o = 0; o < sorted[s]!.length; o++) resampleCounts(rng, oodW[s]![o]!);
    }
    const m = average(true);
    for (let i = 0; i < SCORE_METRICS.length; i++) draws[i]![b] = m[i]!;
  }
  const out = {} as Record<ScoreMetric, GroupInterval>;
  SCORE_METRICS.forEach((k, i) => (out[k] = { estimate: estimate[i]!, ...percentileInterval(draws[i]!, confidence) }));
  return out;
}

/**
 * Φ⁻¹(p), the standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9).
 * @example Usage
 * ```ts
 * normalQuantile(0.975); // 1.959963…
 * ```
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`leaderboard: normalQuantile needs p in (0, 1), got ${p}`);
  const a = [
    -39.69683028665376,
    220.9460984245205,
    -275.9285104469687,
    138.357751867269,
    -30.66479806614716,
    2.506628277459239,
  ];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [
    -0.007784894002430293,
    -0.3223964580411365,
    -2.400758277161838,
    -2.549732539343734,
    4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) =>
    (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
    ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5, r = q * q;
  return (((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/**
 * Wald interval of a mean of accuracies over seeds: mean ± z·√(Σ_s a_s(1 − a_s)/n_s) / S, clipped to [0, 1].
 *
 * @param perSeed Accuracy a_s and ID test images n_s per seed.
 * @param confidence Two-sided level (default 0.95).
 * @returns The interval, or null when there are no values.
 */
export function accuracyInterval(
  perSeed: readonly { accuracy: number; n: number }[],
  confidence = 0.95,
): Ci | null {
  const v = perSeed.filter((p) => Number.isFinite(p.accuracy) && p.n > 0);
  if (v.length === 0) return null;
  const S = v.length, mean = v.reduce((s, p) => s + p.accuracy, 0) / S;
  const se = Math.sqrt(v.reduce((s, p) => s + p.accuracy * (1 - p.accuracy) / p.n, 0)) / S;
  const z = normalQuantile((1 + confidence) / 2);
  return { lower: Math.max(0, mean - z * se), upper: Math.min(1, mean + z * se) };
}

/**
 * Competition ranks ("1224"): rank_i = 1 + #{j : v_j better than v_i by more than `tolerance`}; ties share a rank.
 *
 * @param values One value per method (null / NaN: no rank).
 * @param better `"higher"` or `"lower"` is better.
 * @returns One rank per value (null where the value is missing).
 * @example Usage
 * ```ts
 * rankValues([0.9, 0.8, 0.9, null, 0.7], "higher"); // [1, 3, 1, null, 4]
 * ```
 */
export function rankValues(
  values: readonly (number | null)[],
  better: "higher" | "lower",
  tolerance = RANK_TOLERANCE,
): (number | null)[] {
  const sign = better === "higher" ? 1 : -1;
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  return values.map((v) =>
    v === null || !Number.isFinite(v) ? null : 1 + finite.filter((w) => sign * (w - v) > tolerance).length
  );
}

/**
 * The index of the method marked best in a column, or −1: the sole rank-1 value whose CI does not overlap the
 * runner-up's (lower_best > upper_runner-up when higher is better; upper_best < lower_runner-up when lower is).
 *
 * @param entries Per method, its value and CI (null: missing).
 * @param better Direction of the metric.
 * @returns The marked index, or −1 (tie at rank 1, fewer than two values, missing or overlapping CIs).
 * @example Usage
 * ```ts
 * markBest([{ value: 0.9, ci: { lower: 0.88, upper: 0.92 } }, { value: 0.8, ci: { lower: 0.78, upper: 0.83 } }], "higher"); // 0
 * ```
 */
export function markBest(
  entries: readonly { value: number | null; ci: Ci | null }[],
  better: "higher" | "lower",
  tolerance = RANK_TOLERANCE,
): number {
  const ranks = rankValues(entries.map((e) => e.value), better, tolerance);
  const first = ranks.flatMap((r, i) => (r === 1 ? [i] : []));
  if (first.length !== 1) return -1;
  const b = first[0]!;
  const others = entries.map((_, i) => i).filter((i) => i !== b && ranks[i] !== null);
  if (others.length === 0) return -1;
  const runnerUp = others.reduce((x, y) => (ranks[y]! < ranks[x]! ? y : x));
  const cb = entries[b]!.ci, cr = entries[runnerUp]!.ci;
  if (!cb || !cr || ![cb.lower, cb.upper, cr.lower, cr.upper].every(Number.isFinite)) return -1;
  const separated = better === "higher" ? cb.lower > cr.upper : cb.upper < cr.lower;
  return separated ? b : -1;
}

/** One metric of one method and group: over seeds, with its CI and rank. */
export interface MetricStat {
  /** Mean over seeds of the group average (null when no seed has a finite value). */
  mean: number | null;
  /** Sample std over seeds (null with fewer than two). */
  std: number | null;
  /** The group average per seed, in `seeds` order (NaN where missing). */
  perSeed: number[];
  /** Seeds with a finite value. */
  n: number;
  /** 95 % CI (bootstrap for the score metrics, Wald for ID accuracy); null when not computed. */
  ci: Ci | null;
  /** Rank in its column (1 = best; ties share), null when the mean is missing. */
  rank: number | null;
  /** Marked best: rank 1 alone and its CI separated from the runner-up's. */
  best: boolean;
}

/** One method (label · score) of one ID dataset on one OOD group. */
export interface MethodGroupSummary {
  idDataset: string;
  group: OodGroup;
  label: string;
  score: string;
  paper: string;
  method: string;
  variant: string;
  backbone: string;
  /** Rule of `fpr95` used. */
  fprRule: string;
  /** The group's OOD sets. */
  oodSets: string[];
  /** Seeds with rows. */
  seeds: number[];
  /** Whether the CIs came from scores (false: no `ScoreRecord` for a seed, CIs null except ID accuracy). */
  bootstrapped: boolean;
  metrics: Record<LeaderboardMetric, MetricStat>;
  /** Mean over seeds of the rows' `trainSeconds` / `scoreSeconds` (null when none). */
  trainSeconds: number | null;
  scoreSeconds: number | null;
}

/** One method on one OOD set: the mean over seeds of each metric. */
export interface SetSummary {
  idDataset: string;
  label: string;
  score: string;
  oodDataset: string;
  oodGroup: OodGroup;
  seeds: number;
  metrics: Record<LeaderboardMetric, number | null>;
}

/** What {@link summarizeLeaderboard} returns. */
export interface LeaderboardSummary {
  /** Per (ID dataset, group, method), grouped by ID dataset then group (near first), ranked per column. */
  groups: MethodGroupSummary[];
  /** Per (ID dataset, method, OOD set), near sets first. */
  perSet: SetSummary[];
  /** The settings used. */
  resamples: number;
  confidence: number;
  seed: number;
  /** Distinct seeds over all rows. */
  seeds: number[];
}

/** Options of {@link summarizeLeaderboard}. */
export interface LeaderboardOptions extends Omit<BootstrapSettings, "fprRule" | "auprEstimator"> {
  /** Rule of the rows used for `fpr95` (rows repeat per rule); default per method `"sklearn"` if it has such rows,
   * else its first rule. The bootstrap uses the same rule. */
  fprRule?: string;
}

const keyOf = (...parts: (string | number)[]) => JSON.stringify(parts);

const mean = (values: readonly number[]): number => values.reduce((s, x) => s + x, 0) / values.length;

/** Stable per-stream seed from the base seed and a key (FNV-1a of the key, xored with the base). */
function streamSeed(base: number, key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return (h ^ (base >>> 0)) >>> 0;
}

/**
 * The leaderboard summary: per (ID dataset, OOD group, method = (label, score)) every metric's group average
 * (mean over the group's OOD sets within a seed, then mean ± sample std over seeds), its 95 % CI (seeded
 * stratified bootstrap from `scores`; Wald for ID accuracy), its rank per column and the best mark; and per
 * OOD set the mean over seeds. See the module documentation for the formulas.
 *
 * @param rows Result rows (one per label, score, idDataset, oodDataset, seed, fprRule).
 * @param scores The scores behind them (a method without scores for every seed gets null score-metric CIs).
 * @param opts Replicates (1000; 0 = none), confidence (0.95), seed (0), FPR rule, TPR level (0.95).
 * @returns Groups (ID datasets in first-seen order, near before far, methods in first-seen order) and per-set means.
 */
export function summarizeLeaderboard(
  rows: readonly ResultRow[],
  scores: readonly ScoreRecord[],
  opts: LeaderboardOptions = {},
): LeaderboardSummary {
  const resamples = opts.resamples ?? 1000, confidence = opts.confidence ?? 0.95, baseSeed = opts.seed ?? 0;
  // The rule per method: the asked one, else sklearn when present, else the first seen.
  const rules = new Map<string, string[]>();
  for (const r of rows) {
    const k = keyOf(r.idDataset, r.label, r.score), list = rules.get(k) ?? [];
    if (!list.includes(r.fprRule)) list.push(r.fprRule);
    rules.set(k, list);
  }
  const ruleOf = (k: string) => {
    const list = rules.get(k)!;
    if (opts.fprRule !== undefined) return opts.fprRule;
    return list.includes("sklearn") ? "sklearn" : list[0]!;
  };
  const used = rows.filter((r) => r.fprRule === ruleOf(keyOf(r.idDataset, r.label, r.score)));
  const scoreIndex = new Map<string, ScoreRecord[]>();
  for (const s of scores) {
    const k = keyOf(s.idDataset, s.label, s.score, s.seed);
    scoreIndex.set(k, [...(scoreIndex.get(k) ?? []), s]);
  }

  // Method order and per-(method, group) rows.
  const ids: string[] = [];
  const methods = new Map<string, ResultRow[]>();
  for (const r of used) {
    if (!ids.includes(r.idDataset)) ids.push(r.idDataset);
    const k = keyOf(r.idDataset, r.label, r.score);
    methods.set(k, [...(methods.get(k) ?? []), r]);
  }
  const groups: MethodGroupSummary[] = [];
  const perSet: SetSummary[] = [];
  const allSeeds = [...new Set(used.map((r) => r.seed))].sort((a, b) => a - b);
  for (const idDataset of ids) {
    for (const group of OOD_GROUPS) {
      const block: MethodGroupSummary[] = [];
      for (const [k, mRows] of methods) {
        const first = mRows[0]!;
        if (first.idDataset !== idDataset) continue;
        const gRows = mRows.filter((r) => r.oodGroup === group);
        if (gRows.length === 0) continue;
        block.push(summarizeMethodGroup(gRows, mRows, group, scoreIndex, {
          resamples,
          confidence,
          seed: streamSeed(baseSeed, keyOf(k, group)),
          tprLevel: opts.tprLevel,
        }));
      }
      rankBlock(block);
      groups.push(...block);
    }
    for (const [, mRows] of methods) {
      if (mRows[0]!.idDataset !== idDataset) continue;
      const sets = [...new Set(mRows.map((r) => r.oodDataset))];
      const ordered = [
        ...sets.filter((o) => mRows.find((r) => r.oodDataset === o)!.oodGroup === "near"),
        ...sets.filter((o) => mRows.find((r) => r.oodDataset === o)!.oodGroup !== "near"),
      ];
      for (const o of ordered) {
        const sRows = mRows.filter((r) => r.oodDataset === o);
        const metrics = {} as Record<LeaderboardMetric, number | null>;
        for (const m of LEADERBOARD_METRICS) metrics[m] = finiteMeanStd(sRows.map((r) => r[m] ?? NaN)).mean;
        perSet.push({
          idDataset,
          label: sRows[0]!.label,
          score: sRows[0]!.score,
          oodDataset: o,
          oodGroup: sRows[0]!.oodGroup,
          seeds: new Set(sRows.map((r) => r.seed)).size,
          metrics,
        });
      }
    }
  }
  return { groups, perSet, resamples, confidence, seed: baseSeed, seeds: allSeeds };
}

function summarizeMethodGroup(
  gRows: readonly ResultRow[],
  mRows: readonly ResultRow[],
  group: OodGroup,
  scoreIndex: ReadonlyMap<string, readonly ScoreRecord[]>,
  boot: BootstrapSettings,
): MethodGroupSummary {
  const first = gRows[0]!;
  const seeds = [...new Set(gRows.map((r) => r.seed))].sort((a, b) => a - b);
  const oodSets = [...new Set(gRows.map((r) => r.oodDataset))];
  const bySeed = seeds.map((s) => gRows.filter((r) => r.seed === s));
  const metrics = {} as Record<LeaderboardMetric, MetricStat>;
  for (const m of LEADERBOARD_METRICS) {
    const perSeed = bySeed.map((rs) => {
      const v = rs.map((r) => r[m] ?? NaN);
      return v.every(Number.isFinite) ? mean(v) : NaN;
    });
    const s = finiteMeanStd(perSeed);
    metrics[m] = { mean: s.mean, std: s.std, n: s.n, perSeed, ci: null, rank: null, best: false };
  }
  // ID accuracy: Wald CI over the ID test images of each seed (rows of any group carry it).
  metrics.idAccuracy.ci = accuracyInterval(
    seeds.map((s) => {
      const r = mRows.find((x) => x.seed === s && x.idAccuracy !== null);
      return { accuracy: r?.idAccuracy ?? NaN, n: r?.nId ?? 0 };
    }),
    boot.confidence,
  );
  // Each row's scores: the record of its (label, score, seed) that holds its OOD set (a faithful variant selected
  // per OOD set has one record per set, each with its own ID scores).
  const recordOf = (r: ResultRow) =>
    (scoreIndex.get(keyOf(first.idDataset, first.label, first.score, r.seed)) ?? [])
      .find((rec) => rec.sets.ood[r.oodDataset] !== undefined);
  const bootstrapped = (boot.resamples ?? 0) > 0 && bySeed.every((rs) => rs.every((r) => recordOf(r) !== undefined));
  if (bootstrapped) {
    const rule = FPR_RULES.includes(first.fprRule as FprRule) ? first.fprRule as FprRule : "sklearn";
    const ci = bootstrapGroupAverage(
      bySeed.map((rs) => ({
        id: recordOf(rs[0]!)!.sets.id,
        ood: rs.map((r) => recordOf(r)!.sets.ood[r.oodDataset]!),
        idPerSet: rs.map((r) => recordOf(r)!.sets.id),
      })),
      { ...boot, fprRule: rule, auprEstimator: first.auprEstimator === "trapezoid" ? "trapezoid" : "ap" },
    );
    for (const m of SCORE_METRICS) metrics[m].ci = { lower: ci[m].lower, upper: ci[m].upper };
  }
  const secs = (f: "trainSeconds" | "scoreSeconds") =>
    finiteMeanStd(bySeed.map((rs) => finiteMeanStd(rs.map((r) => r[f] ?? NaN)).mean ?? NaN)).mean;
  return {
    idDataset: first.idDataset,
    group,
    label: first.label,
    score: first.score,
    paper: first.paper,
    method: first.method,
    variant: first.variant,
    backbone: first.backbone,
    fprRule: first.fprRule,
    oodSets,
    seeds,
    bootstrapped,
    metrics,
    trainSeconds: secs("trainSeconds"),
    scoreSeconds: secs("scoreSeconds"),
  };
}

/** Ranks every column of one (ID dataset, group) block and marks the best. */
function rankBlock(block: MethodGroupSummary[]): void {
  for (const m of LEADERBOARD_METRICS) {
    const ranks = rankValues(block.map((b) => b.metrics[m].mean), BETTER[m]);
    block.forEach((b, i) => (b.metrics[m].rank = ranks[i]!));
    const best = markBest(block.map((b) => ({ value: b.metrics[m].mean, ci: b.metrics[m].ci })), BETTER[m]);
    if (best >= 0) block[best]!.metrics[m].best = true;
  }
}
