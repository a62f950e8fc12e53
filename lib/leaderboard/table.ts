/**
 * The leaderboard tables (issue 16): per ID dataset and OOD group one table, rows = methods (label · score),
 * columns AUROC, FPR95 (ID+) and FPR95 (OOD+) side by side, AUPR-In, AUPR-Out, ID accuracy; each cell
 * "mean ± std [lower, upper] #rank" (×100), the best marked (bold, `*` in text) only where its CI does not overlap
 * the runner-up's. The numbers come from {@link summarizeLeaderboard}.
 * @module
 */
import { type Cell, type Column, Table } from "../report/html_table.ts";
import { formatNumber } from "../report/table.ts";
import type { OodGroup } from "../report/results.ts";
import {
  LEADERBOARD_METRICS,
  type LeaderboardMetric,
  type LeaderboardSummary,
  type MethodGroupSummary,
  type MetricStat,
} from "./stats.ts";

/** Column headers of the leaderboard metrics (with the better direction). */
export const LEADERBOARD_LABELS: Readonly<Record<LeaderboardMetric, string>> = {
  auroc: "AUROC ↑",
  fpr95: "FPR95 (ID+) ↓",
  fpr95OodPositive: "FPR95 (OOD+) ↓",
  auprIn: "AUPR-In ↑",
  auprOut: "AUPR-Out ↑",
  idAccuracy: "ID acc. ↑",
};

/** Options of {@link leaderboardTable}. */
export interface LeaderboardTableOptions {
  /** Decimals of the ×100 numbers (default 1). */
  digits?: number;
  /** Show the CI and rank in the cell text (default true); they are always in the tooltip. */
  compact?: boolean;
  /** Order the rows by this metric's rank (default `auroc`); null keeps the summary's order. */
  sortBy?: LeaderboardMetric | null;
  /** Metrics shown (default all {@link LEADERBOARD_METRICS}). */
  metrics?: readonly LeaderboardMetric[];
  /** Caption (default "<ID> — near-OOD (sets…)"). */
  caption?: string;
}

/** The rows of one (ID dataset, group) block, in the summary's order. */
export function groupBlock(summary: LeaderboardSummary, idDataset: string, group: OodGroup): MethodGroupSummary[] {
  return summary.groups.filter((g) => g.idDataset === idDataset && g.group === group);
}

/**
 * One cell: `mean ± std [lower, upper] #rank` (×100, `digits` decimals; "—" when missing), best-marked per the
 * summary; the tooltip spells the CI, the rank out of the column's ranked methods and the seeds used.
 */
export function metricCell(stat: MetricStat, ranked: number, opts: { digits?: number; compact?: boolean } = {}): Cell {
  const digits = opts.digits ?? 1, f = (v: number | null) => formatNumber(v, 100, digits);
  const main = f(stat.mean) + (stat.std === null ? "" : ` ± ${f(stat.std)}`);
  const ci = stat.ci && Number.isFinite(stat.ci.lower) && Number.isFinite(stat.ci.upper)
    ? `[${f(stat.ci.lower)}, ${f(stat.ci.upper)}]`
    : null;
  const rank = stat.rank === null ? null : `#${stat.rank}`;
  const text = stat.mean === null ? "—" : (opts.compact ?? true) ? [main, ci, rank].filter(Boolean).join(" ") : main;
  const title = [
    ci ? `95 % CI ${ci}` : "no CI",
    rank ? `rank ${stat.rank} of ${ranked}` : "unranked",
    `${stat.n} of ${stat.perSeed.length} seed(s)`,
  ].join("; ");
  return { text, title, best: stat.best };
}

/**
 * The leaderboard table of one ID dataset and OOD group.
 *
 * @param summary From {@link summarizeLeaderboard}.
 * @param idDataset The ID dataset.
 * @param group `near` or `far`.
 * @returns A {@link Table} (HTML in the kernel and reports, aligned text elsewhere), with notes on the definitions.
 * @throws Error when the summary has no method for that ID dataset and group.
 */
export function leaderboardTable(
  summary: LeaderboardSummary,
  idDataset: string,
  group: OodGroup,
  opts: LeaderboardTableOptions = {},
): Table {
  const block = groupBlock(summary, idDataset, group);
  if (block.length === 0) throw new Error(`leaderboardTable: no ${group}-OOD rows for ID dataset ${idDataset}.`);
  const metrics = opts.metrics ?? LEADERBOARD_METRICS;
  const sortBy = opts.sortBy === undefined ? "auroc" : opts.sortBy;
  const order = block.map((_, i) => i);
  if (sortBy !== null) {
    const r = (i: number) => block[i]!.metrics[sortBy].rank ?? Infinity;
    order.sort((a, b) => r(a) - r(b) || a - b);
  }
  const ranked = Object.fromEntries(
    metrics.map((m) => [m, block.filter((b) => b.metrics[m].rank !== null).length]),
  ) as Record<LeaderboardMetric, number>;
  const rows = order.map((i) => {
    const b = block[i]!;
    const row: Record<string, Cell | string> = { label: b.label, score: b.score };
    for (const m of metrics) row[m] = metricCell(b.metrics[m], ranked[m], opts);
    return row;
  });
  const columns: Column[] = [
    { key: "label", label: "Method", kind: "key" },
    { key: "score", label: "Score", kind: "key" },
    ...metrics.map((m): Column => ({ key: m, label: LEADERBOARD_LABELS[m] })),
  ];
  const sets = [...new Set(block.flatMap((b) => b.oodSets))];
  const seeds = [...new Set(block.map((b) => b.seeds.length))].sort((a, b) => a - b).join("/");
  const rules = [...new Set(block.map((b) => b.fprRule))].join(", ");
  const noCi = block.filter((b) => !b.bootstrapped).map((b) => `${b.label} · ${b.score}`);
  const notes = [
    `×100. Each cell: mean ± sample std over ${seeds} seed(s) of the ${group}-OOD average (the mean over the ` +
    `group's OOD sets within a seed), [95 % CI], #rank.`,
    `CI: seeded stratified percentile bootstrap of that average (${summary.resamples} replicates, seed ` +
    `${summary.seed}; each replicate resamples, per seed, the ID scores once and each OOD set's scores with ` +
    `replacement, computes the metric per set and averages over the sets and seeds). ID acc.: Wald interval ` +
    `mean ± z·√(Σ a(1−a)/n)/S over the ID test images.`,
    `Rank per column: 1 = best (↑ higher, ↓ lower is better), ties share a rank; bold (* in text): the best, ` +
    `marked only where its CI does not overlap the runner-up's.`,
    `FPR95 (ID+): OOD accepted at 95 % ID TPR (the papers' reading; rule ${rules}); FPR95 (OOD+): ID flagged as ` +
    `OOD at 95 % OOD recall (OpenOOD v1.5).`,
    ...(noCi.length ? [`No score-metric CI (scores missing for a seed): ${noCi.join(", ")}.`] : []),
  ];
  const caption = opts.caption ?? `${idDataset} — ${group}-OOD (${sets.join(", ")})`;
  return new Table(columns, rows, { caption, notes });
}

/**
 * Every leaderboard table: per ID dataset (first-seen order) near-OOD then far-OOD, skipping empty groups.
 *
 * @returns The tables with their ID dataset and group.
 */
export function leaderboardTables(
  summary: LeaderboardSummary,
  opts: LeaderboardTableOptions = {},
): { idDataset: string; group: OodGroup; table: Table }[] {
  const ids = [...new Set(summary.groups.map((g) => g.idDataset))];
  return ids.flatMap((idDataset) =>
    (["near", "far"] as const)
      .filter((group) => groupBlock(summary, idDataset, group).length > 0)
      .map((group) => ({ idDataset, group, table: leaderboardTable(summary, idDataset, group, opts) }))
  );
}
