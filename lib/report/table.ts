/**
 * Result tables as nodejs-polars DataFrames, and their display (conventions C13, C14).
 *
 * - {@link summarize}: tidy rows → one row per (method, score, …, OOD set) plus an `Average` row over the OOD
 *   sets, with mean and sample std over seeds. Numbers stay fractions.
 * - {@link metricTable}: the display: ×100 (only here), `mean ± std`, the best value per OOD set marked.
 * - {@link comparePaper} / {@link paperTable}: the paper's published numbers (from a cited data file, see
 *   `paper_numbers.ts`) next to ours, with the delta.
 * @module
 */
import pl from "nodejs-polars";
import { type Cell, type Column, Table } from "./html_table.ts";
import type { PaperNumbers } from "./paper_numbers.ts";
import { KEY_COLUMNS, METRIC_COLUMNS, type MetricColumn, type ResultRow, resultsFrame } from "./results.ts";

/** How each metric is labelled and which direction is better. */
export const METRIC_INFO: Readonly<Record<MetricColumn, { label: string; better: "higher" | "lower" }>> = {
  auroc: { label: "AUROC", better: "higher" },
  auprIn: { label: "AUPR-In", better: "higher" },
  auprOut: { label: "AUPR-Out", better: "higher" },
  fpr95: { label: "FPR95", better: "lower" },
  fpr95OodPositive: { label: "FPR95 (OOD+)", better: "lower" },
  detectionError: { label: "Det. error", better: "lower" },
  idAccuracy: { label: "ID acc.", better: "higher" },
  macroF1: { label: "Open-set macro-F1", better: "higher" },
  openSetAccuracy: { label: "Open-set acc.", better: "higher" },
};

/** The pseudo OOD set that holds the average over the real ones. */
export const AVERAGE = "Average";

/** Options of {@link summarize}. */
export interface SummarizeOptions {
  /** Grouping columns besides `oodDataset`; default every key column except `oodDataset`. */
  by?: readonly string[];
  /** Metrics to aggregate; default all {@link METRIC_COLUMNS}. */
  metrics?: readonly MetricColumn[];
  /** Add an `Average` row per group: the mean over OOD sets within each seed, then over seeds. Default true. */
  average?: boolean;
}

/**
 * Mean and sample standard deviation over seeds, per group and OOD set, plus an `Average` over OOD sets.
 *
 * @param rows Tidy rows (a DataFrame from `readResults` / `resultsFrame`, or the row objects).
 * @returns Columns: the `by` columns, `oodDataset`, `<metric>_mean`, `<metric>_std` (null with one seed),
 *   `seeds`. Groups keep their first-appearance order, OOD sets too, `Average` last in each group.
 */
export function summarize(rows: pl.DataFrame | readonly ResultRow[], opts: SummarizeOptions = {}): pl.DataFrame {
  const df = Array.isArray(rows) ? resultsFrame(rows) : rows as pl.DataFrame;
  const by = [...(opts.by ?? KEY_COLUMNS.filter((k) => k !== "oodDataset"))];
  const metrics = [...(opts.metrics ?? METRIC_COLUMNS)];
  const base = df.withRowIndex("_i").select(
    ...by.map((c) => pl.col(c)),
    pl.col("oodDataset"),
    pl.col("seed"),
    ...metrics.map((m) => pl.col(m).cast(pl.Float64)),
    pl.col("_i").cast(pl.Float64),
  );
  let all = base;
  if (opts.average ?? true) {
    const avg = base.groupBy([...by, "seed"]).agg(
      ...metrics.map((m) => pl.col(m).mean().alias(m)),
      pl.col("_i").max().add(0.5).alias("_i"),
    ).withColumn(pl.lit(AVERAGE).alias("oodDataset"));
    all = pl.concat([base, avg.select(...base.columns)], { how: "vertical" });
  }
  const out = all.groupBy([...by, "oodDataset"]).agg(
    ...metrics.flatMap((m) => [pl.col(m).mean().alias(`${m}_mean`), pl.col(m).std().alias(`${m}_std`)]),
    pl.col("seed").nUnique().cast(pl.Int32).alias("seeds"),
    pl.col("_i").min().alias("_i"),
    pl.col("oodDataset").eq(pl.lit(AVERAGE)).first().alias("_avg"),
  );
  return out
    .withColumn(pl.col("_i").min().over(by[0] ?? pl.lit(0), ...by.slice(1)).alias("_g"))
    .sort(["_g", "_avg", "_i"])
    .drop(["_g", "_avg", "_i"]);
}

/** Options of {@link metricTable}. */
export interface MetricTableOptions {
  /** Metrics shown; default those with at least one value, in {@link METRIC_COLUMNS} order. */
  metrics?: readonly MetricColumn[];
  /** Show ×100 (default true). The numbers themselves stay fractions. */
  percent?: boolean;
  /** Decimals shown (default 2). */
  digits?: number;
  /** Columns whose rows compete for "best" (default method and score): best is chosen among rows that agree on
   * every other key column and the OOD set. */
  compare?: readonly string[];
  /** Show `± std` (default: when any row has more than one seed). */
  showStd?: boolean;
  /** Caption; default lists the columns that are constant over the table. */
  caption?: string;
}

/**
 * The display of a {@link summarize} result: one row per group and OOD set (×100 by default, `mean ± std`),
 * the best value of each metric per OOD set in bold. Key columns that are constant go into the caption.
 *
 * @example Usage
 * ```ts
 * metricTable(summarize(readResults()), { metrics: ["fpr95", "auroc"] }) // last expression of a cell
 * ```
 */
export function metricTable(summary: pl.DataFrame, opts: MetricTableOptions = {}): Table {
  const recs = summary.toRecords() as Record<string, unknown>[];
  const meanCols = new Set(summary.columns.filter((c) => c.endsWith("_mean")).map((c) => c.slice(0, -5)));
  const metrics =
    (opts.metrics ?? METRIC_COLUMNS.filter((m) => meanCols.has(m) && recs.some((r) => r[`${m}_mean`] != null)))
      .filter((m) => {
        if (!meanCols.has(m)) throw new Error(`metricTable: the summary has no column ${m}_mean.`);
        return true;
      });
  const keyCols = summary.columns.filter((c) => !c.endsWith("_mean") && !c.endsWith("_std") && c !== "seeds");
  // The display label names method and variant together: show it instead of those two.
  const shown = keyCols.includes("label") ? keyCols.filter((c) => c !== "method" && c !== "variant") : keyCols;
  const varying = shown.filter((c) => c === "oodDataset" || new Set(recs.map((r) => r[c])).size > 1);
  const constant = shown.filter((c) => !varying.includes(c));
  const compare = opts.compare ?? ["method", "variant", "label", "score"];
  const showStd = opts.showStd ?? recs.some((r) => Number(r.seeds) > 1);
  const scale = opts.percent ?? true ? 100 : 1, digits = opts.digits ?? 2;
  const groupKey = (r: Record<string, unknown>) =>
    JSON.stringify(keyCols.filter((c) => !compare.includes(c)).map((c) => r[c]));
  const best = new Map<string, number>();
  for (const m of metrics) {
    for (const r of recs) {
      const v = r[`${m}_mean`] as number | null;
      if (v == null || !Number.isFinite(v)) continue;
      const k = `${m}|${groupKey(r)}`, prev = best.get(k);
      const higher = METRIC_INFO[m].better === "higher";
      if (prev === undefined || (higher ? v > prev : v < prev)) best.set(k, v);
    }
  }
  // A value is marked only when it beats at least one other row of its group (all tied: nothing marked).
  const beaten = new Set<string>();
  for (const m of metrics) {
    for (const r of recs) {
      const v = r[`${m}_mean`] as number | null, k = `${m}|${groupKey(r)}`;
      if (v != null && Number.isFinite(v) && v !== best.get(k)) beaten.add(k);
    }
  }
  const columns: Column[] = [
    ...varying.map((c): Column => ({ key: c, label: KEY_LABELS[c] ?? c, kind: "key" })),
    ...metrics.map((m): Column => ({ key: m, label: METRIC_INFO[m].label + (scale === 100 ? " %" : "") })),
  ];
  const rows = recs.map((r) => {
    const row: Record<string, Cell | string> = {};
    for (const c of varying) row[c] = String(r[c] ?? "");
    for (const m of metrics) {
      const mean = r[`${m}_mean`] as number | null, std = r[`${m}_std`] as number | null;
      const k = `${m}|${groupKey(r)}`;
      const isBest = mean != null && beaten.has(k) && best.get(k) === mean;
      row[m] = {
        text: formatNumber(mean, scale, digits) +
          (showStd && std != null ? ` ± ${formatNumber(std, scale, digits)}` : ""),
        best: isBest,
        title: `${r.seeds} seed(s)`,
      };
    }
    return row;
  });
  const lead = varying[0];
  const groupStarts = new Set(
    recs.map((_, i) => i).filter((i) =>
      i > 0 && lead !== undefined &&
      varying.filter((c) => c !== "oodDataset").some((c) => recs[i]![c] !== recs[i - 1]![c])
    ),
  );
  const emphasis = new Set(recs.map((r, i) => r.oodDataset === AVERAGE ? i : -1).filter((i) => i >= 0));
  const caption = opts.caption ??
    (constant.length ? constant.map((c) => `${KEY_LABELS[c] ?? c}: ${recs[0]?.[c]}`).join(" · ") : undefined);
  const seeds = [...new Set(recs.map((r) => Number(r.seeds)))].sort((a, b) => a - b).join("/");
  const notes = [
    `${scale === 100 ? "×100; " : ""}${showStd ? "mean ± sample std" : "mean"} over ${seeds} seed(s); ` +
    `bold: best per OOD set (${
      metrics.map((m) => `${METRIC_INFO[m].label} ${METRIC_INFO[m].better === "higher" ? "↑" : "↓"}`).join(", ")
    }).`,
  ];
  return new Table(columns, rows, { caption, notes, groupStarts, emphasis });
}

const KEY_LABELS: Record<string, string> = {
  paper: "Paper",
  method: "Method",
  label: "Method",
  variant: "Variant",
  oodGroup: "OOD group",
  fprRule: "FPR rule",
  score: "Score",
  backbone: "Backbone",
  idDataset: "ID",
  oodDataset: "OOD",
  profile: "Profile",
  selection: "Selection",
  metric: "Metric",
};

/** A fraction shown with `scale` (100 for percent) and `digits` decimals; null/NaN → "—". */
export function formatNumber(v: number | null | undefined, scale = 100, digits = 2): string {
  return v == null || Number.isNaN(v) ? "—" : (v * scale).toFixed(digits);
}

/**
 * Mean and sample standard deviation (null with fewer than two values) of the finite values, and their count.
 * @example Usage
 * ```ts
 * finiteMeanStd([0.2, NaN, 0.4]); // { mean: 0.3, std: 0.1414…, n: 2 }
 * ```
 */
export function finiteMeanStd(values: readonly number[]): { mean: number | null; std: number | null; n: number } {
  const v = values.filter(Number.isFinite), n = v.length;
  if (n === 0) return { mean: null, std: null, n };
  const mean = v.reduce((s, x) => s + x, 0) / n;
  const std = n > 1 ? Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1)) : null;
  return { mean, std, n };
}

/**
 * A table cell "mean ± std" (×100, `digits` decimals) of the finite values over seeds, its tooltip counting the
 * seeds used ("2 of 3 seed(s)": non-finite values, e.g. an FPR95 the ODIN rule cannot compute, are left out).
 */
export function meanStdCell(values: readonly number[], digits = 1): Cell {
  const s = finiteMeanStd(values);
  const text = formatNumber(s.mean, 100, digits) + (s.std === null ? "" : ` ± ${formatNumber(s.std, 100, digits)}`);
  return { text, title: `${s.n} of ${values.length} seed(s)` };
}

/** Options of {@link comparePaper}. */
export interface ComparePaperOptions {
  /** Also list our rows (for the paper's metrics) that no paper number matches. Default false. */
  includeUnmatched?: boolean;
}

/**
 * Joins a paper's published numbers with a {@link summarize} result. A paper number matches a summary row when
 * every field it names (method, and score / backbone / idDataset if given; oodDataset) equals the row's
 * (case-insensitive). A paper number with no match gets an empty `ours`; a null paper value stays null.
 *
 * @returns Columns `method, score, backbone, idDataset, oodDataset, label (the row's display label, e.g.
 *   "UM (clean)"), metric, paper, ours, oursStd, delta, seeds, source, note`; `paper`, `ours`, `oursStd`, `delta = ours − paper` are fractions (or null).
 */
export function comparePaper(summary: pl.DataFrame, paper: PaperNumbers, opts: ComparePaperOptions = {}): pl.DataFrame {
  const recs = summary.toRecords() as Record<string, unknown>[];
  const same = (a: unknown, b: unknown) => String(a ?? "").toLowerCase() === String(b ?? "").toLowerCase();
  const out: Record<string, unknown>[] = [];
  const used = new Set<string>();
  const keys = ["method", "score", "backbone", "idDataset", "oodDataset"] as const;
  // A paper number names a method; every variant of it that ran gets a line, named by the row's display label.
  const labelOf = (r: Record<string, unknown>) => String(r.label ?? r.method ?? "");
  for (const n of paper.numbers) {
    const matches = recs.filter((r) =>
      keys.every((k) => n[k] === undefined || same(n[k], r[k])) && r[`${n.metric}_mean`] !== undefined
    );
    const base = { metric: n.metric, paper: n.value, source: n.source, note: n.note ?? "" };
    if (matches.length === 0) {
      out.push({
        ...Object.fromEntries(keys.map((k) => [k, n[k] ?? ""])),
        label: n.method ?? "",
        ...base,
        ours: null,
        oursStd: null,
        seeds: 0,
      });
    }
    for (const r of matches) {
      used.add(`${recs.indexOf(r)}|${n.metric}`);
      const ours = r[`${n.metric}_mean`] as number | null;
      out.push({
        ...Object.fromEntries(keys.map((k) => [k, String(r[k] ?? "")])),
        label: labelOf(r),
        ...base,
        ours,
        oursStd: r[`${n.metric}_std`] as number | null,
        seeds: Number(r.seeds ?? 0),
      });
    }
  }
  if (opts.includeUnmatched) {
    const metrics = [...new Set(paper.numbers.map((n) => n.metric))];
    recs.forEach((r, i) => {
      for (const m of metrics) {
        if (used.has(`${i}|${m}`) || r[`${m}_mean`] == null) continue;
        out.push({
          ...Object.fromEntries(keys.map((k) => [k, String(r[k] ?? "")])),
          label: labelOf(r),
          metric: m,
          paper: null,
          source: "",
          note: "",
          ours: r[`${m}_mean`],
          oursStd: r[`${m}_std`] ?? null,
          seeds: Number(r.seeds ?? 0),
        });
      }
    });
  }
  const col = (k: string, t: pl.DataType) => pl.Series(k, out.map((o) => o[k] ?? (t === pl.Utf8 ? "" : null)), t);
  return pl.DataFrame([
    ...keys.map((k) => col(k, pl.Utf8)),
    col("label", pl.Utf8),
    col("metric", pl.Utf8),
    col("paper", pl.Float64),
    col("ours", pl.Float64),
    col("oursStd", pl.Float64),
    pl.Series(
      "delta",
      out.map((o) => o.ours != null && o.paper != null ? (o.ours as number) - (o.paper as number) : null),
      pl.Float64,
    ),
    col("seeds", pl.Int32),
    col("source", pl.Utf8),
    col("note", pl.Utf8),
  ]);
}

/** Options of {@link paperTable}. */
export interface PaperTableOptions {
  /** Show ×100 (default true). */
  percent?: boolean;
  /** Decimals (default 2). */
  digits?: number;
  /** Caption; default "Paper vs ours: <citation>". */
  caption?: string;
}

/**
 * The display of {@link comparePaper}: key columns that vary, the metric, paper, ours (± std), Δ = ours − paper
 * (signed, in points when ×100), and the source of each paper number. Empty cells show "—".
 */
export function paperTable(
  comparison: pl.DataFrame,
  paper?: Pick<PaperNumbers, "citation">,
  opts: PaperTableOptions = {},
): Table {
  const recs = comparison.toRecords() as Record<string, unknown>[];
  const scale = opts.percent ?? true ? 100 : 1, digits = opts.digits ?? 2;
  const keyCols = ["label", "score", "backbone", "idDataset", "oodDataset"].filter((c) =>
    new Set(recs.map((r) => r[c])).size > 1 || c === "label" || c === "oodDataset"
  );
  const columns: Column[] = [
    ...keyCols.map((c): Column => ({ key: c, label: KEY_LABELS[c] ?? c, kind: "key" })),
    { key: "metric", label: "Metric", kind: "key" },
    { key: "paper", label: "Paper" },
    { key: "ours", label: "Ours" },
    { key: "delta", label: scale === 100 ? "Δ (pp)" : "Δ" },
    { key: "source", label: "Source", kind: "key" },
  ];
  const rows = recs.map((r) => {
    const m = r.metric as MetricColumn;
    const delta = r.delta as number | null;
    const row: Record<string, Cell | string> = {
      metric: METRIC_INFO[m]?.label ?? String(m),
      paper: formatNumber(r.paper as number | null, scale, digits),
      ours: formatNumber(r.ours as number | null, scale, digits) +
        (r.oursStd != null && Number(r.seeds) > 1 ? ` ± ${formatNumber(r.oursStd as number, scale, digits)}` : ""),
      delta: delta == null ? "—" : `${delta >= 0 ? "+" : "−"}${formatNumber(Math.abs(delta), scale, digits)}`,
      source: { text: String(r.source ?? ""), title: String(r.note ?? "") },
    };
    for (const c of keyCols) row[c] = String(r[c] ?? "");
    return row;
  });
  const caption = opts.caption ?? (paper ? `Paper vs ours — ${paper.citation}` : "Paper vs ours");
  const notes = [
    `${scale === 100 ? "×100; " : ""}Δ = ours − paper; "—": not reported or not run. ` +
    `Higher is better for ${
      METRIC_COLUMNS.filter((m) => METRIC_INFO[m].better === "higher").map((m) => METRIC_INFO[m].label).join(", ")
    }; lower for the others.`,
  ];
  return new Table(columns, rows, { caption, notes });
}
