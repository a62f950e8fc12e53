/**
 * Displays of score values and of per-score summaries that any paper notebook can use: a score × OOD-set matrix
 * of one metric (one table per ID dataset), ROC curves of several scores against one OOD set, score histograms on
 * a readable scale, a 2-D projection sample, the data table of a run, and figures side by side or stacked. All
 * return `Symbol.for("Jupyter.display")` objects (conventions C14), so they work in the kernel and in tests.
 * @module
 */
import type pl from "nodejs-polars";
import { rocCurve } from "../metrics/roc.ts";
import { type Cell, type Column, escapeHtml, Table } from "./html_table.ts";
import { bundleOf, type Displayable, htmlView } from "./jupyter.ts";
import { type CurvePoints, type Figure, type HistogramOptions, scoreHistograms } from "./plot.ts";
import { AVERAGE, formatNumber, METRIC_INFO } from "./table.ts";
import type { MetricColumn } from "./results.ts";

/** One score's values on the ID set and on each OOD set (an experiment layer `ScoreSets` fits). */
export interface ScoreValues {
  id: ArrayLike<number>;
  ood: Readonly<Record<string, ArrayLike<number>>>;
}

/** Options of {@linkcode scoreMatrixTable}. */
export interface ScoreMatrixOptions {
  /** Show ×100 (default true). */
  percent?: boolean;
  /** Decimals (default 1). */
  digits?: number;
  /** Show `± std` when there is more than one seed (default true). */
  showStd?: boolean;
  /** Only this ID dataset's rows (its name goes into the caption and the ID column is left out). */
  idDataset?: string;
  caption?: string;
}

/**
 * One metric as a matrix: a row per (ID dataset, score), a column per OOD set plus the average, `mean ± std`
 * over seeds from a `summarize` result; the best score per ID dataset and column in bold. With several ID
 * datasets, the other real dataset's columns come first; `idDataset` narrows the table to one ID dataset
 * (narrower: only its own OOD sets get columns).
 * @param summary From `summarize(rows)` (columns `idDataset`, `score`, `oodDataset`, `<metric>_mean|_std`, `seeds`).
 * @param metric The metric shown.
 */
export function scoreMatrixTable(summary: pl.DataFrame, metric: MetricColumn, opts: ScoreMatrixOptions = {}): Table {
  if (!summary.columns.includes(`${metric}_mean`)) throw new Error(`scoreMatrixTable: no column ${metric}_mean`);
  const recs = (summary.toRecords() as Record<string, unknown>[]).filter((r) =>
    opts.idDataset === undefined || r.idDataset === opts.idDataset
  );
  if (recs.length === 0) throw new Error(`scoreMatrixTable: no rows for ID dataset "${opts.idDataset}"`);
  const scale = opts.percent ?? true ? 100 : 1, digits = opts.digits ?? 1;
  const ids = [...new Set(recs.map((r) => String(r.idDataset)))];
  // Columns: the ID datasets that are also OOD sets (the "other real dataset"), then the rest, Average last.
  const rank = (o: string) => o === AVERAGE ? 2 : ids.includes(o) ? 0 : 1;
  const oods = [...new Set(recs.map((r) => String(r.oodDataset)))].sort((a, b) => rank(a) - rank(b));
  const higher = METRIC_INFO[metric].better === "higher";
  const showStd = (opts.showStd ?? true) && recs.some((r) => Number(r.seeds) > 1);
  const rows: Record<string, Cell | string>[] = [];
  const groupStarts = new Set<number>();
  for (const id of ids) {
    const mine = recs.filter((r) => r.idDataset === id);
    const scores = [...new Set(mine.map((r) => String(r.score)))];
    const best = new Map<string, number>();
    for (const r of mine) {
      const v = r[`${metric}_mean`] as number | null;
      if (v == null || !Number.isFinite(v)) continue;
      const prev = best.get(String(r.oodDataset));
      if (prev === undefined || (higher ? v > prev : v < prev)) best.set(String(r.oodDataset), v);
    }
    if (rows.length) groupStarts.add(rows.length);
    for (const score of scores) {
      const row: Record<string, Cell | string> = { idDataset: id, score };
      for (const ood of oods) {
        const r = mine.find((x) => x.score === score && x.oodDataset === ood);
        const mean = (r?.[`${metric}_mean`] ?? null) as number | null,
          std = (r?.[`${metric}_std`] ?? null) as number | null;
        row[ood] = {
          text: formatNumber(mean, scale, digits) +
            (showStd && std != null ? ` ± ${formatNumber(std, scale, digits)}` : ""),
          best: mean != null && scores.length > 1 && best.get(ood) === mean,
          title: r ? `${r.seeds} seed(s)` : "not run",
        };
      }
      rows.push(row);
    }
  }
  const columns: Column[] = [
    ...(ids.length > 1 ? [{ key: "idDataset", label: "ID", kind: "key" } as const] : []),
    { key: "score", label: "Score", kind: "key" },
    ...oods.map((o): Column => ({ key: o, label: o })),
  ];
  const label = METRIC_INFO[metric].label + (scale === 100 ? " %" : "");
  return new Table(columns, rows, {
    caption: opts.caption ??
      `${ids.length === 1 ? `ID ${ids[0]}: ` : ""}${label} (${higher ? "higher" : "lower"} is better) per OOD set`,
    notes: [
      `${scale === 100 ? "×100; " : ""}${showStd ? "mean ± sample std over seeds" : "mean over seeds"}; ` +
      `bold: best score per ID dataset and column; ${AVERAGE} = mean over the OOD sets.`,
    ],
    groupStarts,
  });
}

/** {@linkcode scoreMatrixTable} of each ID dataset of `summary` (in order), as one display. */
export function scoreMatrixTables(
  summary: pl.DataFrame,
  metric: MetricColumn,
  opts: Omit<ScoreMatrixOptions, "idDataset" | "caption"> = {},
): Displayable {
  const ids = [...new Set(summary.getColumn("idDataset").toArray().map(String))];
  return stacked(ids.map((idDataset) => scoreMatrixTable(summary, metric, { ...opts, idDataset })));
}

/** The sets of a run (e.g. `evalSetsSummary(sets)` of `lib/experiment`): setting, role, name, images, shape. */
export function setsTable(
  lines: readonly { setting: string; role: string; dataset: string; images: number; shape: string }[],
): Table {
  return new Table(
    [
      { key: "setting", label: "Setting", kind: "key" },
      { key: "role", label: "Role", kind: "key" },
      { key: "dataset", label: "Dataset", kind: "key" },
      { key: "images", label: "Images" },
      { key: "shape", label: "Shape", kind: "key" },
    ],
    lines.map((r) => ({ ...r, images: String(r.images) })),
    { caption: "Data used" },
  );
}

/** ROC curves (ID positive) of every score in `scores` against the OOD set `ood`. */
export function rocByScore(scores: Readonly<Record<string, ScoreValues>>, ood: string): Record<string, CurvePoints> {
  const out: Record<string, CurvePoints> = {};
  for (const [name, sets] of Object.entries(scores)) {
    const o = sets.ood[ood];
    if (o) out[name] = rocCurve(sets.id, o);
  }
  if (Object.keys(out).length === 0) throw new Error(`rocByScore: no score has the OOD set "${ood}"`);
  return out;
}

/** How a score is drawn in a histogram: as is, or on a signed log scale for heavy-tailed distances. */
export interface HistogramScale {
  /** `"linear"`: S itself; `"log"`: −log10(−S), for scores that are negative distances. */
  kind: "linear" | "log";
  /** Maps a score to the drawn value (monotone increasing, so higher still means more in-distribution). */
  transform: (s: number) => number;
  /** Axis label. */
  label: string;
}

function quantileOf(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round((sorted.length - 1) * q)))]!;
}

/**
 * Picks the histogram scale of a score: when every value is ≤ 0 (a negative distance, e.g. Mahalanobis) and the
 * OOD values reach far beyond the ID ones (the 99.5 % quantile of |S| over all sets is more than `ratio` times
 * the median ID |S|), the ID scores would all fall into one bin of a linear axis, so −log10(−S) is drawn
 * instead (monotone, ranks unchanged). Otherwise S is drawn as is.
 */
export function histogramScale(
  name: string,
  id: ArrayLike<number>,
  ood: Readonly<Record<string, ArrayLike<number>>>,
  ratio = 20,
): HistogramScale {
  const linear: HistogramScale = { kind: "linear", transform: (s) => s, label: `${name} (higher = more ID)` };
  const all: number[] = [], idAbs: number[] = [];
  for (const v of Array.from(id)) {
    if (!Number.isFinite(v)) continue;
    all.push(v);
    idAbs.push(Math.abs(v));
  }
  for (const set of Object.values(ood)) for (const v of Array.from(set)) if (Number.isFinite(v)) all.push(v);
  if (all.length === 0 || all.some((v) => v > 0)) return linear;
  const absAll = Float64Array.from(all, Math.abs).sort();
  const idMedian = quantileOf(Float64Array.from(idAbs).sort(), 0.5);
  if (!(quantileOf(absAll, 0.995) > ratio * Math.max(idMedian, 1e-12))) return linear;
  return {
    kind: "log",
    transform: (s) => -Math.log10(Math.max(-s, 1e-12)),
    label: `${name}: −log10(−S) (higher = more ID)`,
  };
}

/**
 * Score histograms of one score (ID vs each OOD set), on the scale {@linkcode histogramScale} picks.
 * @param name Score name (axis label).
 */
export function scoreHistogramFigure(
  name: string,
  sets: ScoreValues,
  opts: Omit<HistogramOptions, "score"> = {},
): Figure {
  const scale = histogramScale(name, sets.id, sets.ood);
  const map = (a: ArrayLike<number>) => Float64Array.from(Array.from(a), scale.transform);
  const ood = Object.fromEntries(Object.entries(sets.ood).map(([k, v]) => [k, map(v)]));
  return scoreHistograms(map(sets.id), ood, { ...opts, score: scale.label });
}

/** A 2-D projection's input: feature rows of a few images per set, with their group names. */
export interface ProjectionSample {
  data: Float32Array;
  dim: number;
  groups: string[];
}

/**
 * The first `perSet` feature rows of the ID set and of each OOD set, labelled `ID (<id>)` and by OOD set name
 * (for `projectionPlot`).
 */
export function projectionSample(
  idName: string,
  id: { features: { data: Float32Array; dim: number } },
  ood: Readonly<Record<string, { features: { data: Float32Array; dim: number } }>>,
  perSet: number,
): ProjectionSample {
  const dim = id.features.dim;
  const parts = [[`ID (${idName})`, id] as const, ...Object.entries(ood)];
  const groups: string[] = [];
  const chunks = parts.map(([name, out]) => {
    const k = Math.min(perSet, out.features.data.length / dim);
    for (let i = 0; i < k; i++) groups.push(name);
    return out.features.data.subarray(0, k * dim);
  });
  const data = new Float32Array(groups.length * dim);
  chunks.reduce((at, c) => (data.set(c, at), at + c.length), 0);
  return { data, dim, groups };
}

/** Options of {@linkcode sideBySide}. */
export interface SideBySideOptions {
  /** Width of each cell in px (wide legends wrap inside it); default: each figure's own width. */
  cellWidth?: number;
}

/** Figures next to each other (wrapping when the page is narrow), each under an optional heading. */
export function sideBySide(
  figures: readonly (Figure | { title: string; figure: Figure })[],
  opts: SideBySideOptions = {},
): Displayable {
  const width = opts.cellWidth === undefined ? "" : `;width:${opts.cellWidth}px`;
  const cells = figures.map((f) => {
    const [title, fig] = "figure" in f ? [f.title, f.figure] : [null, f];
    const head = title
      ? `<div style="font:600 13px system-ui,sans-serif;margin:0 0 4px">${escapeHtml(title)}</div>`
      : "";
    return `<div style="flex:0 0 auto${width}">${head}${fig.html}</div>`;
  });
  // <figure> has 40px side margins by default, which would push two figures onto separate lines.
  return htmlView(
    `<div class="ood-figures" style="display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start">` +
      `<style>.ood-figures figure{margin:0}</style>${cells.join("")}</div>`,
    `[${figures.length} figures]`,
  );
}

/** Displays one under the other, as one display (HTML, and their texts separated by blank lines). */
export function stacked(items: readonly Displayable[]): Displayable {
  const bundles = items.map(bundleOf);
  const text = (b: Record<string, unknown>) => String(b["text/plain"] ?? "");
  return htmlView(
    bundles.map((b) => `<div>${String(b["text/html"] ?? escapeHtml(text(b)))}</div>`).join(""),
    bundles.map(text).join("\n\n"),
  );
}
