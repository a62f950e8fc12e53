/**
 * The leaderboard's figures (issue 16), Observable Plot rendered headless to SVG through `plotFigure`:
 *
 * - {@link paretoPlot}: AUROC (near- or far-OOD average) against training time per method, log x, the Pareto front
 *   (cheapest-to-best staircase) drawn as a step line, every point labelled.
 * - {@link aurocHeatmap}: a metric (AUROC by default) per method × OOD set, near sets first, values printed.
 * @module
 */
import * as Plot from "@observablehq/plot";
import { type Figure, plotFigure } from "../report/plot.ts";
import type { OodGroup } from "../report/results.ts";
import { type CostRecord, summarizeCosts } from "./cost.ts";
import { BETTER, type LeaderboardMetric, type LeaderboardSummary } from "./stats.ts";
import { LEADERBOARD_LABELS } from "./table.ts";

/**
 * Which points are on the Pareto front when x (cost) is minimised and y (quality) maximised: point i is on it
 * unless some j has x_j ≤ x_i and y_j ≥ y_i with at least one strict. Equal points are both on it; points with a
 * non-finite coordinate never are.
 *
 * @example Usage
 * ```ts
 * paretoFront([{ x: 1, y: 0.8 }, { x: 2, y: 0.7 }, { x: 3, y: 0.9 }]); // [true, false, true]
 * ```
 */
export function paretoFront(points: readonly { x: number; y: number }[]): boolean[] {
  const ok = (p: { x: number; y: number }) => Number.isFinite(p.x) && Number.isFinite(p.y);
  return points.map((p) => ok(p) && !points.some((q) => ok(q) && q.x <= p.x && q.y >= p.y && (q.x < p.x || q.y > p.y)));
}

/** One method in the Pareto plot. */
export interface ParetoPoint {
  idDataset: string;
  label: string;
  score: string;
  paper: string;
  /** `label · score`. */
  name: string;
  /** Training seconds (mean over seeds). */
  trainSeconds: number;
  /** The group average of the metric (mean over seeds). */
  value: number;
  /** On the Pareto front of its ID dataset. */
  front: boolean;
}

/** Options of {@link paretoPoints} and {@link paretoPlot}. */
export interface ParetoOptions {
  /** OOD group whose average is plotted (default `far`). */
  group?: OodGroup;
  /** Quality axis (default `auroc`); lower-is-better metrics are fronted accordingly. */
  metric?: LeaderboardMetric;
  /**
   * Training time of a method: `"rows"` (default) = the mean over seeds of its result rows' `trainSeconds`, falling
   * back to its paper's {@link CostRecord} mean when the rows have none; `"costs"` = always the paper's cost.
   */
  time?: "rows" | "costs";
  /** Only these ID datasets (default all, one facet each). */
  idDatasets?: readonly string[];
}

/**
 * The points of the Pareto plot: per method of a group, its training time and group-average metric, and whether
 * it is on its ID dataset's Pareto front (time minimised, the metric optimised). Methods without a positive
 * training time or a value are left out (a log axis cannot show 0 s).
 */
export function paretoPoints(
  summary: LeaderboardSummary,
  costs: readonly CostRecord[],
  opts: ParetoOptions = {},
): ParetoPoint[] {
  const group = opts.group ?? "far", metric = opts.metric ?? "auroc", time = opts.time ?? "rows";
  const paperCost = new Map(
    summarizeCosts(costs).map((c) => [JSON.stringify([c.paper, c.idDataset]), c.trainSeconds.mean]),
  );
  const points: ParetoPoint[] = [];
  for (const g of summary.groups) {
    if (g.group !== group || (opts.idDatasets && !opts.idDatasets.includes(g.idDataset))) continue;
    const fromCosts = paperCost.get(JSON.stringify([g.paper, g.idDataset])) ?? null;
    const t = time === "rows" ? g.trainSeconds ?? fromCosts : fromCosts;
    const value = g.metrics[metric].mean;
    if (t === null || !(t > 0) || value === null) continue;
    points.push({
      idDataset: g.idDataset,
      label: g.label,
      score: g.score,
      paper: g.paper,
      name: `${g.label} · ${g.score}`,
      trainSeconds: t,
      value,
      front: false,
    });
  }
  const sign = BETTER[metric] === "higher" ? 1 : -1;
  for (const id of new Set(points.map((p) => p.idDataset))) {
    const sub = points.filter((p) => p.idDataset === id);
    paretoFront(sub.map((p) => ({ x: p.trainSeconds, y: sign * p.value }))).forEach((f, i) => (sub[i]!.front = f));
  }
  return points;
}

/**
 * AUROC (or another metric) of each method against its training time, log x, one facet per ID dataset: the
 * Pareto front as a step line through the front's points (cheapest first), front points filled, every point
 * labelled `label · score`. ×100 on the y axis.
 *
 * @param summary From `summarizeLeaderboard`.
 * @param costs Per (paper, ID dataset, seed) costs (the time fallback, or the only time with `time: "costs"`).
 * @param opts Group (far), metric (auroc), time source, ID datasets, size and title.
 */
export function paretoPlot(
  summary: LeaderboardSummary,
  costs: readonly CostRecord[],
  opts: ParetoOptions & { width?: number; height?: number; title?: string } = {},
): Figure {
  const group = opts.group ?? "far", metric = opts.metric ?? "auroc";
  const points = paretoPoints(summary, costs, opts).map((p) => ({ ...p, y: p.value * 100 }));
  if (points.length === 0) throw new Error("paretoPlot: no method has both a training time and a value.");
  const ids = [...new Set(points.map((p) => p.idDataset))];
  const front = points.filter((p) => p.front).sort((a, b) =>
    a.idDataset.localeCompare(b.idDataset) || a.trainSeconds - b.trainSeconds
  );
  const left =
    summary.groups.filter((g) => g.group === group && (!opts.idDatasets || opts.idDatasets.includes(g.idDataset)))
      .length - points.length;
  const fx = ids.length > 1 ? "idDataset" : undefined;
  // Room for the labels (right of each point): the log axis runs 5 % of its span left of the cheapest method and
  // 45 % (at least ×2) right of the dearest.
  const xs = points.map((p) => p.trainSeconds), lo = Math.min(...xs), hi = Math.max(...xs);
  const span = Math.max(hi / lo, 1.5);
  const label = LEADERBOARD_LABELS[metric].replace(/ [↑↓]$/, "");
  return plotFigure({
    title: opts.title ?? `${label} (${group}-OOD average) against training time`,
    caption: `Red points and step line: the Pareto front (no other method is both faster to train and better). ` +
      `Training time: mean over seeds, log scale.${
        left > 0 ? ` ${left} method(s) without a training time left out.` : ""
      }`,
    width: opts.width ?? Math.max(640, 420 * ids.length),
    height: opts.height ?? 420,
    marginRight: 40,
    x: {
      type: "log",
      label: "training time (s, log)",
      grid: true,
      domain: [lo / span ** 0.05, hi * Math.max(2, span ** 0.45)],
    },
    y: { label: `${label} % (${group}-OOD average) ${BETTER[metric] === "higher" ? "↑" : "↓"}`, grid: true },
    fx: fx ? { label: null, domain: ids } : undefined,
    color: { domain: [true, false], range: ["#e15759", "#4e79a7"] },
    marks: [
      Plot.line(front, { x: "trainSeconds", y: "y", fx, z: "idDataset", curve: "step-after", stroke: "#e15759" }),
      Plot.dot(points, { x: "trainSeconds", y: "y", fx, fill: "front", stroke: "white", r: 4 }),
      Plot.text(points, {
        x: "trainSeconds",
        y: "y",
        fx,
        text: "name",
        textAnchor: "start",
        dx: 7,
        fontSize: 9,
        fill: "#333",
      }),
    ],
  }, `[Pareto plot: ${label} vs training time, ${points.length} methods, ${front.length} on the front]`);
}

/** Options of {@link aurocHeatmap}. */
export interface HeatmapOptions {
  /** The ID dataset (default the first in the summary). */
  idDataset?: string;
  /** Metric shown (default `auroc`). */
  metric?: LeaderboardMetric;
  /** Decimals of the printed ×100 values (default 1). */
  digits?: number;
  /** Width in px (default from the number of sets); title. */
  width?: number;
  title?: string;
}

/**
 * A heatmap of a metric (AUROC by default, ×100, mean over seeds) per method (rows, `label · score`, summary
 * order) × OOD set (columns, near sets first), each cell's value printed; darker = better.
 *
 * @param summary From `summarizeLeaderboard` (its `perSet`).
 * @throws Error when the ID dataset has no per-set values.
 */
export function aurocHeatmap(summary: LeaderboardSummary, opts: HeatmapOptions = {}): Figure {
  const idDataset = opts.idDataset ?? summary.perSet[0]?.idDataset;
  const metric = opts.metric ?? "auroc", digits = opts.digits ?? 1;
  const sets = summary.perSet.filter((s) => s.idDataset === idDataset);
  const cells = sets.flatMap((s) => {
    const v = s.metrics[metric];
    return v === null ? [] : [{ method: `${s.label} · ${s.score}`, ood: s.oodDataset, near: s.oodGroup, v: v * 100 }];
  });
  if (cells.length === 0) throw new Error(`aurocHeatmap: no ${metric} values for ID dataset ${idDataset}.`);
  const oods = [
    ...new Set([...sets.filter((s) => s.oodGroup === "near"), ...sets.filter((s) => s.oodGroup !== "near")]
      .map((s) => s.oodDataset)),
  ];
  const methods = [...new Set(cells.map((c) => c.method))];
  const values = cells.map((c) => c.v);
  const lo = Math.min(...values), hi = Math.max(...values);
  const higher = BETTER[metric] === "higher";
  // Darker = better; the printed value is white on the darker half.
  const good = (v: number) => (hi > lo ? (higher ? v - lo : hi - v) / (hi - lo) : 0.5);
  const label = LEADERBOARD_LABELS[metric].replace(/ [↑↓]$/, "");
  const nearSets = new Set(sets.filter((s) => s.oodGroup === "near").map((s) => s.oodDataset));
  const nearCount = nearSets.size;
  const longest = Math.max(...methods.map((m) => m.length));
  return plotFigure({
    title: opts.title ?? `${label} % per method and OOD set — ${idDataset}`,
    caption: `Mean over seeds${
      nearCount ? `; the first ${nearCount} column(s), marked (near), are near-OOD, the others far-OOD` : ""
    }; darker = better.`,
    width: opts.width ?? Math.min(1400, Math.max(480, 6.5 * longest + 80 * oods.length + 40)),
    height: 22 * methods.length + 90,
    marginLeft: Math.min(360, 6.5 * longest + 10),
    marginBottom: 60,
    padding: 0.04,
    x: { domain: oods, label: null, tickRotate: -25, tickFormat: (d: string) => (nearSets.has(d) ? `${d} (near)` : d) },
    y: { domain: methods, label: null },
    color: { type: "linear", scheme: "blues", domain: higher ? [lo, hi] : [hi, lo], legend: false },
    marks: [
      Plot.cell(cells, { x: "ood", y: "method", fill: "v", inset: 0.5 }),
      Plot.text(cells, {
        x: "ood",
        y: "method",
        text: (d: { v: number }) => d.v.toFixed(digits),
        fill: (d: { v: number }) => (good(d.v) > 0.55 ? "white" : "black"),
        fontSize: 10,
      }),
    ],
  }, `[heatmap: ${label} of ${methods.length} methods × ${oods.length} OOD sets, ${idDataset}]`);
}
