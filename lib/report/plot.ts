/**
 * Figures for notebooks and reports, rendered headless to SVG and emitted as `text/html` (nbconvert's HTML
 * export strips the children of `image/svg+xml` outputs; deno-stack.md §0.2):
 *
 * - Observable Plot on a linkedom document (no browser, no permissions): {@link scoreHistograms},
 *   {@link rocPlot}, {@link projectionPlot}, and {@link plotFigure} for any other Plot chart.
 * - vega-lite compiled to vega and rendered with `toSVG()` (no DOM): {@link trainingCurves}, and
 *   {@link vegaLiteFigure} for any other spec.
 *
 * Every function is deterministic for a given input (no random ids), so the SVG can be snapshot-tested.
 * @module
 */
import * as Plot from "@observablehq/plot";
import { parseHTML } from "linkedom";
import * as vega from "vega";
import * as vl from "vega-lite";
import { rocCurve } from "../metrics/roc.ts";
import { DISPLAY, type Displayable, type MediaBundle } from "./jupyter.ts";

/** A rendered figure: its HTML (`<figure>` or `<svg>`), displayed as `text/html`. */
export interface Figure extends Displayable {
  /** The SVG / HTML markup. */
  readonly html: string;
}

/** Wraps SVG / HTML markup as a {@link Figure}. */
export function figure(html: string, alt = "[figure]"): Figure {
  return { html, [DISPLAY]: (): MediaBundle => ({ "text/html": html, "text/plain": alt }) };
}

// Never call this `document`: top-level names leak into every module in the kernel (deno-stack.md §0.3).
let plotDoc: Document | undefined;
function domDocument(): Document {
  plotDoc ??= parseHTML("<!DOCTYPE html><html><head></head><body></body></html>").document as unknown as Document;
  return plotDoc;
}

/**
 * Any Observable Plot chart, rendered on the shared linkedom document.
 *
 * Continuous colour legends need a canvas and fail headless; use `type: "quantize"` legends instead.
 * @example Usage
 * ```ts
 * plotFigure({ marks: [Plot.lineY([1, 3, 2])] })
 * ```
 */
export function plotFigure(options: Plot.PlotOptions, alt = "[plot]"): Figure {
  const el = Plot.plot({ ...options, document: domDocument() }) as unknown as { outerHTML: string };
  return figure(el.outerHTML, alt);
}

/** Colours: ID, then OOD (Tableau 10 blue / orange). */
const ID_COLOR = "#4e79a7", OOD_COLOR = "#f28e2b";

function finiteSorted(values: ArrayLike<number>): Float64Array {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) out.push(values[i]!);
  return Float64Array.from(out).sort();
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const p = (sorted.length - 1) * q, lo = Math.floor(p), hi = Math.ceil(p);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (p - lo);
}

/**
 * Fraction of `values` per bin on `[lo, hi]` (values outside are counted in the end bins; non-finite ones
 * are dropped).
 */
export function histogram(values: ArrayLike<number>, lo: number, hi: number, bins: number): Float64Array {
  const counts = new Float64Array(bins);
  let n = 0;
  const w = (hi - lo) / bins || 1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    counts[Math.min(bins - 1, Math.max(0, Math.floor((v - lo) / w)))]! += 1;
    n++;
  }
  if (n > 0) { for (let b = 0; b < bins; b++) counts[b]! /= n; }
  return counts;
}

/** Options of {@link scoreHistograms}. */
export interface HistogramOptions {
  /** Bins over the shared range (default 40). */
  bins?: number;
  /** Shared x range; default the 0.5 %–99.5 % quantiles of all scores (outliers go to the end bins). */
  domain?: readonly [number, number];
  /** Axis label of the score (default "score (higher = more in-distribution)"). */
  score?: string;
  /** Legend name of the ID set (default "ID"). */
  idLabel?: string;
  title?: string;
  /** Width in px (default 640) and height per OOD set (default 110). */
  width?: number;
  facetHeight?: number;
}

/**
 * Score histograms, one panel per OOD set, each overlaying the ID scores (blue) and that set's scores
 * (orange) as the fraction of each set per bin, on one shared range.
 *
 * @param id ID scores (higher = more in-distribution).
 * @param ood OOD set name → scores.
 */
export function scoreHistograms(
  id: ArrayLike<number>,
  ood: Readonly<Record<string, ArrayLike<number>>>,
  opts: HistogramOptions = {},
): Figure {
  const names = Object.keys(ood);
  if (names.length === 0) throw new Error("scoreHistograms: no OOD sets given.");
  const bins = opts.bins ?? 40, idLabel = opts.idLabel ?? "ID";
  let [lo, hi] = opts.domain ?? [NaN, NaN];
  if (opts.domain === undefined) {
    const all = finiteSorted(Float64Array.from([...Array.from(id), ...names.flatMap((n) => Array.from(ood[n]!))]));
    [lo, hi] = [quantile(all, 0.005), quantile(all, 0.995)];
  }
  if (!(hi > lo)) [lo, hi] = [lo - 0.5, lo + 0.5];
  const w = (hi - lo) / bins;
  const idHist = histogram(id, lo, hi, bins);
  const rows: { set: string; facet: string; x1: number; x2: number; y0: number; y: number }[] = [];
  for (const name of names) {
    const h = histogram(ood[name]!, lo, hi, bins);
    for (let b = 0; b < bins; b++) {
      const x1 = lo + b * w, x2 = lo + (b + 1) * w;
      rows.push({ set: idLabel, facet: name, x1, x2, y0: 0, y: idHist[b]! }, {
        set: "OOD",
        facet: name,
        x1,
        x2,
        y0: 0,
        y: h[b]!,
      });
    }
  }
  return plotFigure({
    title: opts.title,
    width: opts.width ?? 640,
    height: (opts.facetHeight ?? 110) * names.length + 50,
    marginRight: 90,
    x: { label: opts.score ?? "score (higher = more in-distribution)", domain: [lo, hi] },
    y: { label: "fraction", grid: true },
    fy: { label: null, domain: names },
    color: { domain: [idLabel, "OOD"], range: [ID_COLOR, OOD_COLOR], legend: true },
    marks: [
      // Plot.rect, not rectY: rectY would stack ID on top of OOD; the two histograms are overlaid.
      Plot.rect(rows, { x1: "x1", x2: "x2", y1: "y0", y2: "y", fill: "set", fy: "facet", fillOpacity: 0.5, inset: 0 }),
      Plot.ruleY([0]),
    ],
  }, `[score histograms: ${names.join(", ")}]`);
}

/** A ROC curve as plotted: FPR and TPR per point. */
export interface CurvePoints {
  /** False positive rate (OOD accepted) per point. */
  readonly fpr: ArrayLike<number>;
  /** True positive rate (ID accepted) per point. */
  readonly tpr: ArrayLike<number>;
}

/**
 * ROC curves (ID positive, as `rocCurve` in lib/metrics) of the ID scores against each OOD set.
 *
 * @returns OOD set name → curve.
 */
export function rocCurves(
  id: ArrayLike<number>,
  ood: Readonly<Record<string, ArrayLike<number>>>,
): Record<string, CurvePoints> {
  return Object.fromEntries(Object.entries(ood).map(([name, s]) => [name, rocCurve(id, s)]));
}

/** Keeps the first and last points and every point at least `1/maxPoints` (L1) from the last kept one. */
export function thinCurve(c: CurvePoints, maxPoints = 300): { fpr: number[]; tpr: number[] } {
  const n = c.fpr.length, step = 1 / maxPoints;
  const fpr: number[] = [], tpr: number[] = [];
  for (let i = 0; i < n; i++) {
    const last = fpr.length - 1;
    if (i === 0 || i === n - 1 || Math.abs(c.fpr[i]! - fpr[last]!) + Math.abs(c.tpr[i]! - tpr[last]!) >= step) {
      fpr.push(c.fpr[i]!);
      tpr.push(c.tpr[i]!);
    }
  }
  return { fpr, tpr };
}

/** Options of {@link rocPlot}. */
export interface RocPlotOptions {
  title?: string;
  /** Plot size in px (default 420 × 360). */
  width?: number;
  height?: number;
  /** Points kept per curve (default 300). */
  maxPoints?: number;
  /** TPR level marked with a dashed rule (default 0.95; null for none). */
  tprLevel?: number | null;
}

/**
 * ROC curves (TPR of ID vs FPR of OOD), one line per curve, with the chance diagonal and the TPR 95 % level.
 *
 * @param curves Name → curve (e.g. from {@link rocCurves}).
 */
export function rocPlot(curves: Readonly<Record<string, CurvePoints>>, opts: RocPlotOptions = {}): Figure {
  const rows: { name: string; fpr: number; tpr: number }[] = [];
  for (const [name, c] of Object.entries(curves)) {
    const t = thinCurve(c, opts.maxPoints ?? 300);
    t.fpr.forEach((f, i) => rows.push({ name, fpr: f, tpr: t.tpr[i]! }));
  }
  const level = opts.tprLevel === undefined ? 0.95 : opts.tprLevel;
  return plotFigure({
    title: opts.title,
    width: opts.width ?? 420,
    height: opts.height ?? 360,
    x: { label: "FPR (OOD accepted)", domain: [0, 1] },
    y: { label: "TPR (ID accepted)", domain: [0, 1], grid: true },
    color: { legend: true, domain: Object.keys(curves) },
    marks: [
      Plot.line([[0, 0], [1, 1]], { stroke: "#bbb", strokeDasharray: "4,3" }),
      ...(level === null ? [] : [Plot.ruleY([level], { stroke: "#999", strokeDasharray: "2,3" })]),
      Plot.line(rows, { x: "fpr", y: "tpr", stroke: "name", z: "name", strokeWidth: 1.6 }),
    ],
  }, `[ROC curves: ${Object.keys(curves).join(", ")}]`);
}

/** Features as rows: `number[][]`, or a row-major buffer with its dimension. */
export type FeatureMatrix = readonly ArrayLike<number>[] | { readonly data: ArrayLike<number>; readonly dim: number };

function toRows(f: FeatureMatrix): { n: number; d: number; at: (i: number, j: number) => number } {
  if ("dim" in f && "data" in f) {
    const { data, dim } = f;
    return { n: Math.floor(data.length / dim), d: dim, at: (i, j) => data[i * dim + j]! };
  }
  const rows = f as readonly ArrayLike<number>[];
  return { n: rows.length, d: rows[0]?.length ?? 0, at: (i, j) => rows[i]![j]! };
}

/** The first two principal components of a feature matrix. */
export interface Pca2 {
  /** Coordinates of each row on PC1 and PC2. */
  x: Float64Array;
  y: Float64Array;
  /** Fraction of the total variance each component explains. */
  explained: [number, number];
}

/**
 * PCA to two components in float64 JS: centring, then block power iteration on XᵀX (never forming the d×d
 * covariance), deterministic start, components signed so that their largest loading is positive.
 *
 * @param features n × d rows (n ≥ 2).
 * @param opts.iterations Maximum power iterations (default 300).
 */
export function pca2(features: FeatureMatrix, opts: { iterations?: number } = {}): Pca2 {
  const { n, d, at } = toRows(features);
  if (n < 2 || d < 1) throw new Error(`pca2: need at least 2 rows and 1 column, got ${n} × ${d}.`);
  const X = new Float64Array(n * d), mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += at(i, j) / n;
  let total = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const v = at(i, j) - mean[j]!;
      X[i * d + j] = v;
      total += v * v;
    }
  }
  const k = Math.min(2, d);
  // Deterministic, non-degenerate start vectors.
  let V: Float64Array[] = Array.from(
    { length: k },
    (_, c) => Float64Array.from({ length: d }, (_, j) => 1 + ((j * (c + 3)) % 7) / 7 + c * (j % 2)),
  );
  const xv = new Float64Array(n);
  const multiply = (v: Float64Array): Float64Array => { // XᵀX v
    xv.fill(0);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += X[i * d + j]! * v[j]!;
      xv[i] = s;
    }
    const out = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      const s = xv[i]!;
      if (s !== 0) { for (let j = 0; j < d; j++) out[j]! += X[i * d + j]! * s; }
    }
    return out;
  };
  const orthonormalize = (vs: Float64Array[]): Float64Array[] => {
    vs.forEach((v, c) => {
      for (let p = 0; p < c; p++) {
        let dot = 0;
        for (let j = 0; j < d; j++) dot += v[j]! * vs[p]![j]!;
        for (let j = 0; j < d; j++) v[j]! -= dot * vs[p]![j]!;
      }
      let norm = 0;
      for (let j = 0; j < d; j++) norm += v[j]! * v[j]!;
      norm = Math.sqrt(norm) || 1;
      for (let j = 0; j < d; j++) v[j]! /= norm;
    });
    return vs;
  };
  V = orthonormalize(V);
  for (let it = 0; it < (opts.iterations ?? 300); it++) {
    const W = orthonormalize(V.map(multiply));
    let change = 0;
    W.forEach((w, c) => {
      let dot = 0;
      for (let j = 0; j < d; j++) dot += w[j]! * V[c]![j]!;
      change = Math.max(change, 1 - Math.abs(dot));
    });
    V = W;
    if (change < 1e-13) break;
  }
  for (const v of V) {
    let big = 0;
    for (let j = 0; j < d; j++) if (Math.abs(v[j]!) > Math.abs(big) + 1e-12) big = v[j]!;
    if (big < 0) { for (let j = 0; j < d; j++) v[j] = -v[j]!; }
  }
  const proj = V.map((v) => {
    const p = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += X[i * d + j]! * v[j]!;
      p[i] = s;
    }
    return p;
  });
  const variance = (p: Float64Array) => p.reduce((s, v) => s + v * v, 0);
  const explained = proj.map((p) => (total > 0 ? variance(p) / total : 0));
  return { x: proj[0]!, y: proj[1] ?? new Float64Array(n), explained: [explained[0]!, explained[1] ?? 0] };
}

/** Options of {@link projectionPlot}. */
export interface ProjectionOptions {
  title?: string;
  /** Plot size in px (default 480 × 400). */
  width?: number;
  height?: number;
  /** Rows used at most (default 2000; an even stride keeps every group's share). */
  maxPoints?: number;
}

/**
 * A 2-D PCA projection of features, one colour per group (e.g. "ID: 3", "OOD: noise").
 *
 * @param features n × d feature rows.
 * @param groups n group names.
 */
export function projectionPlot(
  features: FeatureMatrix,
  groups: readonly string[],
  opts: ProjectionOptions = {},
): Figure {
  const { n, d, at } = toRows(features);
  if (groups.length !== n) throw new Error(`projectionPlot: ${n} feature rows but ${groups.length} group names.`);
  const stride = Math.max(1, Math.ceil(n / (opts.maxPoints ?? 2000)));
  const keep = Array.from({ length: Math.ceil(n / stride) }, (_, i) => i * stride);
  const sub = keep.map((i) => Float64Array.from({ length: d }, (_, j) => at(i, j)));
  const p = pca2(sub);
  const rows = keep.map((i, r) => ({ x: p.x[r]!, y: p.y[r]!, group: groups[i]! }));
  const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
  return plotFigure({
    title: opts.title,
    width: opts.width ?? 480,
    height: opts.height ?? 400,
    x: { label: `PC1 (${pct(p.explained[0])})` },
    y: { label: `PC2 (${pct(p.explained[1])})` },
    color: { legend: true, domain: [...new Set(groups)] },
    marks: [Plot.dot(rows, { x: "x", y: "y", fill: "group", r: 2, fillOpacity: 0.6 })],
  }, `[PCA projection of ${rows.length} rows]`);
}

/**
 * Any vega-lite spec rendered to SVG through vega (headless, no DOM; text widths are estimated).
 *
 * @example Usage
 * ```ts
 * await vegaLiteFigure({ data: { values: rows }, mark: "bar", encoding: { x: { field: "a" }, y: { field: "b" } } })
 * ```
 */
export async function vegaLiteFigure(spec: vl.TopLevelSpec, alt = "[vega-lite chart]"): Promise<Figure> {
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: "none" });
  try {
    return figure(await view.toSVG(), alt);
  } finally {
    view.finalize();
  }
}

/** Options of {@link trainingCurves}. */
export interface TrainingCurveOptions {
  /** The x field of each record (default "epoch"; the record index + 1 when absent). */
  x?: string;
  /** Metrics shown (default every key except x), by base name (`loss` covers `loss` and `val_loss`). */
  metrics?: readonly string[];
  /** Panel size in px (default 260 × 160). */
  width?: number;
  height?: number;
  /** Metrics drawn on a log y scale (e.g. ["loss"]). */
  logScale?: readonly string[];
  title?: string;
}

/**
 * Training curves with vega-lite: one panel per metric (independent y), one line per split. Keys follow the
 * Keras / TF.js `History` convention: `loss`, `acc` are training, `val_loss`, `val_acc` validation.
 *
 * @param history One record per epoch (or step), e.g. `[{ epoch: 1, loss: 0.9, val_loss: 1.0 }, …]`.
 */
export async function trainingCurves(
  history: readonly Record<string, number>[],
  opts: TrainingCurveOptions = {},
): Promise<Figure> {
  const x = opts.x ?? "epoch";
  const values: { x: number; metric: string; split: string; value: number }[] = [];
  history.forEach((rec, i) => {
    for (const [k, v] of Object.entries(rec)) {
      if (k === x || !Number.isFinite(v)) continue;
      const metric = k.replace(/^val_/, ""), split = k.startsWith("val_") ? "validation" : "train";
      if (opts.metrics && !opts.metrics.includes(metric)) continue;
      values.push({ x: rec[x] ?? i + 1, metric, split, value: v });
    }
  });
  const metrics = [...new Set(values.map((v) => v.metric))];
  const panel = (metric: string) => ({
    transform: [{ filter: { field: "metric", equal: metric } }],
    width: opts.width ?? 260,
    height: opts.height ?? 160,
    title: metric,
    mark: { type: "line", point: { size: 18 } },
    encoding: {
      x: { field: "x", type: "quantitative", title: x },
      y: {
        field: "value",
        type: "quantitative",
        title: null,
        scale: opts.logScale?.includes(metric) ? { type: "log" } : { zero: false },
      },
      color: {
        field: "split",
        type: "nominal",
        title: null,
        scale: { domain: ["train", "validation"], range: [ID_COLOR, OOD_COLOR] },
      },
    },
  });
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    ...(opts.title ? { title: opts.title } : {}),
    data: { values },
    hconcat: metrics.map(panel),
    config: { font: "sans-serif", view: { stroke: "#ddd" } },
  } as vl.TopLevelSpec;
  return await vegaLiteFigure(spec, `[training curves: ${metrics.join(", ")}]`);
}
