/**
 * The CMG-specific displays (conventions C14); the shared views of `lib/report` and `lib/experiment` show the
 * data, our metric tables, the claims and the deviations. Here: the paper's table (one column per Setting-1
 * partition and their mean) and its bar chart, Setting 2's table (one column per OOD set), one line per run, the stage-2 AUROC curves with the evaluation the
 * faithful variant keeps, the picture grids of the CVAE (real, reconstructed, conditional, class-mixed and unseen
 * images) and the ID vs unseen score histograms. Numbers stay fractions until they are formatted here.
 * @module
 */
import * as Plot from "@observablehq/plot";
import { encode } from "fast-png";
import { type Cell, type Column, Table } from "../../report/html_table.ts";
import { escapeHtml } from "../../report/jupyter.ts";
import { type Figure, figure, plotFigure } from "../../report/plot.ts";
import type { ResultRow, Variant } from "../../report/results.ts";
import { scoreHistogramFigure } from "../../report/score_views.ts";
import { finiteMeanStd, formatNumber, meanStdCell } from "../../report/table.ts";
import { type CmgGallery, type CmgRun, SCORE_NAMES, settingSlug } from "./run.ts";

/** The metric of {@linkcode partitionTable} and {@linkcode partitionBarChart}. */
export type PartitionMetric = "auroc" | "fpr95";

/** Options of {@linkcode partitionTable} and {@linkcode partitionBarChart}. */
export interface PartitionOptions {
  /** Metric (default `auroc`). */
  metric?: PartitionMetric;
  /** FPR@95 rule of the rows used (default: the first row's; the rows repeat per rule, AUROC is the same). */
  fprRule?: string;
  /** Decimals of the table (default 1). */
  digits?: number;
}

/** Headers of the metrics. */
const METRIC_LABELS: Readonly<Record<PartitionMetric, string>> = {
  auroc: "AUROC % ↑",
  fpr95: "FPR95 % ↓",
};

/** One line of the paper's table: an ID dataset, a row label and a score. */
interface PartitionLine {
  id: string;
  label: string;
  score: string;
  /** partition → seed → the metric (mean over the OOD sets of that seed). */
  values: Map<number, Map<number, number>>;
}

/** `<id>:p<k>` → its ID dataset and partition, or null. */
function parsePartition(idDataset: string): { id: string; partition: number } | null {
  const m = /^(.*):p(\d+)$/.exec(idDataset);
  return m ? { id: m[1]!, partition: Number(m[2]) } : null;
}

/**
 * The rows of the paper's table grouped per (ID dataset, label, score), in first-seen order, with their metric per
 * partition and seed (the mean over the OOD sets of a seed; CMG has one, the unseen classes), and the partitions.
 */
function partitionLines(
  rows: readonly ResultRow[],
  opts: PartitionOptions,
): { lines: PartitionLine[]; partitions: number[]; skipped: number } {
  const metric = opts.metric ?? "auroc";
  const rule = opts.fprRule ?? rows[0]?.fprRule;
  const sums = new Map<string, PartitionLine & { acc: Map<string, { sum: number; n: number }> }>();
  const partitions = new Set<number>();
  let skipped = 0;
  for (const r of rows) {
    if (r.fprRule !== rule) continue;
    const at = parsePartition(r.idDataset);
    if (!at) {
      skipped++;
      continue;
    }
    partitions.add(at.partition);
    const key = JSON.stringify([at.id, r.label, r.score]);
    const line = sums.get(key) ?? { id: at.id, label: r.label, score: r.score, values: new Map(), acc: new Map() };
    sums.set(key, line);
    const cell = `${at.partition}/${r.seed}`;
    const a = line.acc.get(cell) ?? { sum: 0, n: 0 };
    line.acc.set(cell, a);
    a.sum += r[metric] ?? NaN;
    a.n++;
  }
  const lines = [...sums.values()].map(({ id, label, score, acc }) => {
    const values = new Map<number, Map<number, number>>();
    for (const [cell, { sum, n }] of acc) {
      const [p, seed] = cell.split("/").map(Number) as [number, number];
      const bySeed = values.get(p) ?? new Map<number, number>();
      values.set(p, bySeed);
      bySeed.set(seed, sum / n);
    }
    return { id, label, score, values };
  });
  return { lines, partitions: [...partitions].sort((a, b) => a - b), skipped };
}

/** Per seed, the mean of a line's metric over the partitions (NaN for a seed that lacks one of them). */
function meanOverPartitions(line: PartitionLine, partitions: readonly number[]): number[] {
  const seeds = [...new Set([...line.values.values()].flatMap((b) => [...b.keys()]))];
  return seeds.map((seed) =>
    partitions.reduce((s, p) => s + (line.values.get(p)?.get(seed) ?? NaN), 0) / partitions.length
  );
}

/**
 * The paper's table: one row per (label, score) of the result rows (e.g. "CMG-e (faithful)" with the CMG-e score,
 * "CE + Energy"), one column per Setting-1 partition (from `idDataset` "<id>:p<k>") and "Mean"; each cell the mean
 * ± sample std over seeds ×100 (`meanStdCell`, the tooltip counts the seeds). "Mean": the mean over the partitions
 * within a seed (NaN when the seed lacks one), then over seeds. With several ID datasets an "ID" column is added.
 * Rows whose `idDataset` has no partition are left out (a note counts them).
 */
export function partitionTable(rows: readonly ResultRow[], opts: PartitionOptions = {}): Table {
  const metric = opts.metric ?? "auroc", digits = opts.digits ?? 1;
  const { lines, partitions, skipped } = partitionLines(rows, opts);
  const multiId = new Set(lines.map((l) => l.id)).size > 1;
  const out = lines.map((line) => {
    const row: Record<string, Cell | string> = {
      ...(multiId ? { id: line.id } : {}),
      label: line.label,
      score: SCORE_NAMES[line.score] ?? line.score,
    };
    for (const p of partitions) row[`p${p}`] = meanStdCell([...(line.values.get(p)?.values() ?? [])], digits);
    row.mean = meanStdCell(meanOverPartitions(line, partitions), digits);
    return row;
  });
  const notes = [
    `${METRIC_LABELS[metric]} ×100, mean ± sample std over seeds (the tooltip counts the seeds); Mean: the mean ` +
    "over the partitions within a seed (— when a seed lacks one), then over seeds. Partition k: seen classes " +
    "{k−1 … k+4}, the other four classes unseen (the OOD set). AUROC with ID positive on scores oriented higher = " +
    "more ID equals the reference's OOD-positive AUROC of its outlier scores. The faithful CMG rows are the " +
    "maximum over the stage-2 evaluations on the test set (the reference's max_rocauc); clean = the last iterate.",
  ];
  if (skipped) notes.push(`${skipped} row(s) without a partition in idDataset ("<id>:p<k>") left out.`);
  return new Table(
    [
      ...(multiId ? [{ key: "id", label: "ID", kind: "key" } as Column] : []),
      { key: "label", label: "Method", kind: "key" },
      { key: "score", label: "Score", kind: "key" },
      ...partitions.map((p): Column => ({ key: `p${p}`, label: `Partition ${p}` })),
      { key: "mean", label: "Mean" },
    ],
    out,
    { caption: `The paper's table: ${METRIC_LABELS[metric]} per Setting-1 partition`, notes },
  );
}

/**
 * The paper's table as grouped bars: per partition (and their "Mean", as in {@linkcode partitionTable}) one bar per
 * (label, score), the mean over seeds ×100, with an error bar of ± one sample std over seeds (none with one seed).
 */
export function partitionBarChart(rows: readonly ResultRow[], opts: PartitionOptions = {}): Figure {
  const metric = opts.metric ?? "auroc";
  const { lines, partitions } = partitionLines(rows, opts);
  if (lines.length === 0) return messageFigure('No result row with a partition (idDataset "<id>:p<k>"): no chart.');
  const multiId = new Set(lines.map((l) => l.id)).size > 1;
  const labelCount = new Map<string, number>();
  for (const l of lines) labelCount.set(l.label, (labelCount.get(l.label) ?? 0) + 1);
  const seriesOf = (l: PartitionLine) =>
    [
      multiId ? `${l.id}: ` : "",
      l.label,
      (labelCount.get(l.label) ?? 0) > 1 ? ` · ${SCORE_NAMES[l.score] ?? l.score}` : "",
    ].join("");
  const groups = [...partitions.map((p) => `Partition ${p}`), "Mean"];
  const bars: { group: string; series: string; mean: number; lo: number; hi: number; hasStd: boolean }[] = [];
  for (const line of lines) {
    const series = seriesOf(line);
    const add = (group: string, values: number[]) => {
      const s = finiteMeanStd(values);
      if (s.mean === null) return;
      const sd = s.std ?? 0;
      bars.push({
        group,
        series,
        mean: 100 * s.mean,
        lo: 100 * (s.mean - sd),
        hi: 100 * (s.mean + sd),
        hasStd: s.std !== null,
      });
    };
    for (const p of partitions) add(`Partition ${p}`, [...(line.values.get(p)?.values() ?? [])]);
    add("Mean", meanOverPartitions(line, partitions));
  }
  const series = [...new Set(lines.map(seriesOf))];
  const title = `${METRIC_LABELS[metric]} per partition (mean over seeds; error bars ± 1 std)`;
  return plotFigure({
    title,
    width: Math.max(520, groups.length * (series.length * 18 + 30) + 240),
    height: 320,
    marginRight: 240,
    x: { axis: null, domain: series, paddingInner: 0.1 },
    fx: { label: null, domain: groups, padding: 0.15 },
    y: { label: METRIC_LABELS[metric], grid: true, domain: metric === "auroc" ? [0, 100] : undefined },
    color: { legend: true, domain: series },
    marks: [
      Plot.barY(bars, { x: "series", y: "mean", fill: "series", fx: "group" }),
      Plot.ruleX(bars.filter((b) => b.hasStd), { x: "series", y1: "lo", y2: "hi", fx: "group", stroke: "#333" }),
    ],
  }, `[${title}: ${series.join(", ")}]`);
}

/**
 * Setting 2's table: one row per (label, score) of the rows without a partition (CIFAR-10 against other datasets),
 * one column per OOD set and "Mean" (the mean over the sets within a seed, then over seeds); each cell the mean ±
 * sample std over seeds ×100. The faithful rows keep, per OOD set, the evaluation with that set's highest AUROC.
 * Says so in an empty table when there is no Setting-2 row (the `default` profile has none).
 */
export function setting2Table(rows: readonly ResultRow[], opts: PartitionOptions = {}): Table {
  const metric = opts.metric ?? "auroc", digits = opts.digits ?? 1;
  const rule = opts.fprRule ?? rows[0]?.fprRule;
  const mine = rows.filter((r) => r.fprRule === rule && !parsePartition(r.idDataset));
  const sets = [...new Set(mine.map((r) => r.oodDataset))];
  const lines = new Map<string, { label: string; score: string; bySet: Map<string, Map<number, number>> }>();
  for (const r of mine) {
    const key = JSON.stringify([r.label, r.score]);
    const line = lines.get(key) ?? { label: r.label, score: r.score, bySet: new Map() };
    lines.set(key, line);
    const bySeed = line.bySet.get(r.oodDataset) ?? new Map<number, number>();
    line.bySet.set(r.oodDataset, bySeed);
    bySeed.set(r.seed, r[metric] ?? NaN);
  }
  const out = [...lines.values()].map((line) => {
    const row: Record<string, Cell | string> = { label: line.label, score: SCORE_NAMES[line.score] ?? line.score };
    sets.forEach((o, i) => row[`o${i}`] = meanStdCell([...(line.bySet.get(o)?.values() ?? [])], digits));
    const seeds = [...new Set([...line.bySet.values()].flatMap((b) => [...b.keys()]))];
    row.mean = meanStdCell(
      seeds.map((seed) => sets.reduce((sum, o) => sum + (line.bySet.get(o)?.get(seed) ?? NaN), 0) / sets.length),
      digits,
    );
    return row;
  });
  const notes = mine.length
    ? [
      `${METRIC_LABELS[metric]} ×100, mean ± sample std over seeds; Mean: over the OOD sets within a seed (— when a ` +
      "seed lacks one), then over seeds. ID: all of CIFAR-10's test images. The faithful CMG rows keep, per OOD set, " +
      "the stage-2 evaluation with that set's highest AUROC (the reference's max_rocauc of one `eval.py` run per " +
      "set); clean = the last iterate.",
    ]
    : ["No Setting-2 row in this run (the `paper` profile runs Setting 2; it needs CIFAR-10 and the OOD sets)."];
  return new Table(
    [
      { key: "label", label: "Method", kind: "key" },
      { key: "score", label: "Score", kind: "key" },
      ...sets.map((o, i): Column => ({ key: `o${i}`, label: o })),
      ...(mine.length ? [{ key: "mean", label: "Mean" } as Column] : []),
    ],
    out,
    { caption: `Setting 2 (CIFAR-10 against other datasets): ${METRIC_LABELS[metric]} per OOD set`, notes },
  );
}

/** A number with `digits` decimals, or "—" when absent. */
function fixed(v: number | null | undefined, digits: number): string {
  return v == null || Number.isNaN(v) ? "—" : v.toFixed(digits);
}

/**
 * One line per run: setting, seed, run, wall time; for the stage-1 classifier (`ce`) run the stage-1 time, the
 * classifier's last-epoch training accuracy and the CVAE's last-epoch loss; for the CMG runs the number of
 * stage-2 evaluations, the evaluation the faithful variant keeps (step, AUROC) and the last one's AUROC, and CMG-e's
 * margins m_in, m_out.
 */
export function runsTable(runs: readonly CmgRun[]): Table {
  const rows = runs.map((run) => {
    const r = run.result, s1 = r.stage1;
    return {
      setting: settingSlug(run.setting),
      seed: String(run.seed),
      run: r.label,
      seconds: run.seconds.toFixed(1),
      stage1: s1 ? s1.seconds.toFixed(1) : "—",
      accuracy: s1 ? formatNumber(s1.classifierCurve.at(-1)?.accuracy, 100, 2) : "—",
      cvae: s1 ? fixed(s1.cvaeCurve.at(-1)?.loss, 3) : "—",
      evals: run.method === "ce" ? "—" : String(r.curve.length),
      bestStep: r.best ? String(r.best.step) : "—",
      best: r.best ? formatNumber(r.best.auroc, 100, 2) : "—",
      last: formatNumber(r.curve.at(-1)?.auroc, 100, 2),
      mIn: fixed(r.margins?.mIn, 3),
      mOut: fixed(r.margins?.mOut, 3),
    };
  });
  return new Table(
    [
      { key: "setting", label: "Setting", kind: "key" },
      { key: "seed", label: "Seed" },
      { key: "run", label: "Run", kind: "key" },
      { key: "seconds", label: "Run s" },
      { key: "stage1", label: "Stage-1 s" },
      { key: "accuracy", label: "Classifier train acc. %" },
      { key: "cvae", label: "CVAE loss" },
      { key: "evals", label: "Evaluations" },
      { key: "bestStep", label: "Best step" },
      { key: "best", label: "Best AUROC %" },
      { key: "last", label: "Last AUROC %" },
      { key: "mIn", label: "m_in" },
      { key: "mOut", label: "m_out" },
    ],
    rows,
    {
      caption: "Runs",
      notes: [
        "Stage 1 (the classifier and the CVAE, shared by every run of a setting and seed) is shown on the stage-1 " +
        "classifier's row: its wall time, the classifier's training accuracy and the CVAE's loss in the last epoch. " +
        "CMG rows: stage-2 evaluations (AUROC, ID positive, on the test set), the first with the highest AUROC " +
        "(the faithful variant) and the last (the clean variant); m_in, m_out: CMG-e's energy margins from the " +
        "stage-1 model.",
      ],
    },
  );
}

/** Which runs a display shows: a setting (index) and a seed (defaults: the first run's). */
export interface CellChoice {
  /** Setting index (default: the first run's). */
  setting?: number;
  /** Seed (default: the first run's). */
  seed?: number;
}

/** The runs of one (setting, seed), in run order; throws on an empty list or when the cell has none. */
function cellRuns(runs: readonly CmgRun[], choice: CellChoice, who: string): CmgRun[] {
  const first = runs[0];
  if (!first) throw new Error(`${who}: no runs`);
  const setting = choice.setting ?? first.settingIndex, seed = choice.seed ?? first.seed;
  const cell = runs.filter((r) => r.settingIndex === setting && r.seed === seed);
  if (cell.length === 0) {
    const all = [...new Set(runs.map((r) => `setting ${r.settingIndex} (${settingSlug(r.setting)}) · seed ${r.seed}`))];
    throw new Error(`${who}: no run of setting ${setting}, seed ${seed}. Runs: ${all.join("; ")}`);
  }
  return cell;
}

/** A figure that only says something (e.g. that there is nothing to draw). */
function messageFigure(text: string): Figure {
  return figure(`<p style="font:13px system-ui,sans-serif;color:#555">${escapeHtml(text)}</p>`, text);
}

/**
 * The stage-2 AUROC (ID positive, test set) at each evaluation step of every CMG run of one (setting, seed)
 * (default the first run's), one line per run, with a large dot at the evaluation the faithful variant keeps
 * (`best`). Says so when the cell has no CMG run with evaluations.
 */
export function stage2CurvesFigure(runs: readonly CmgRun[], opts: CellChoice = {}): Figure {
  const all = cellRuns(runs, opts, "stage2CurvesFigure");
  const cell = all.filter((r) => r.method !== "ce" && r.result.curve.length > 0);
  const where = `${settingSlug(all[0]!.setting)}, seed ${all[0]!.seed}`;
  if (cell.length === 0) return messageFigure(`No stage-2 evaluations of a CMG run in ${where}.`);
  const points = cell.flatMap((r) =>
    r.result.curve.map((p) => ({ run: r.result.label, step: p.step, auroc: p.auroc }))
  );
  const best = cell.flatMap((r) =>
    r.result.best ? [{ run: r.result.label, step: r.result.best.step, auroc: r.result.best.auroc }] : []
  );
  const labels = [...new Set(cell.map((r) => r.result.label))];
  const title = `Stage 2: AUROC per evaluation, ${where} (dots: the faithful variant's evaluation)`;
  return plotFigure({
    title,
    width: 720,
    height: 320,
    marginRight: 200,
    x: { label: "step" },
    y: { label: "AUROC (ID positive)", grid: true },
    color: { legend: true, domain: labels },
    marks: [
      Plot.line(points, { x: "step", y: "auroc", stroke: "run", z: "run" }),
      Plot.dot(best, { x: "step", y: "auroc", fill: "run", stroke: "black", r: 4.5 }),
    ],
  }, `[${title}: ${labels.join(", ")}]`);
}

/** Base64 of some bytes. */
function base64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/**
 * One [0, 1] image, row-major [height, width, channels] with 1 (grayscale) or 3 (RGB) channels, as a PNG data URL
 * (values clamped, rounded to 8 bits).
 */
export function pngDataUrl(pixels: ArrayLike<number>, shape: readonly [number, number, number]): string {
  const [height, width, channels] = shape;
  if (channels !== 1 && channels !== 3) throw new Error(`pngDataUrl: 1 or 3 channels, got ${channels}`);
  const data = new Uint8Array(height * width * channels);
  for (let i = 0; i < data.length; i++) data[i] = Math.round(255 * Math.min(1, Math.max(0, pixels[i] ?? 0)));
  return `data:image/png;base64,${base64(encode({ width, height, data, channels, depth: 8 }))}`;
}

/** The six rows of a gallery, with their labels. */
function galleryRows(g: CmgGallery): [string, Float32Array][] {
  const ood = g.unseenName.endsWith(":unseen") ? "Real unseen-class test images" : `Real OOD images (${g.unseenName})`;
  return [
    ["Real ID test images", g.real],
    ["CVAE reconstructions", g.reconstructed],
    ["Class-conditional samples (σ = 1)", g.conditional],
    ["Class-mixed samples (σ = 1)", g.mixedSigma1],
    [`Class-mixed samples (σ = ${g.sigma})`, g.mixed],
    [ood, g.unseen],
  ];
}

/**
 * The picture grids of the first run that has a gallery (the first setting and seed's stage-1 classifier run): six
 * labelled rows of `n` images each, as PNGs: real ID test images, the CVAE's reconstructions of them,
 * class-conditional samples (σ = 1), class-mixed samples at σ = 1 and at the setting's σ, and real OOD test images
 * (the unseen classes in Setting 1). Says so when no run has a gallery.
 */
export function galleryFigure(runs: readonly CmgRun[], opts: { scale?: number } = {}): Figure {
  const run = runs.find((r) => r.result.gallery);
  if (!run) {
    return messageFigure(
      "No gallery: no run kept pictures (galleryImages is 0 in the config, or the first setting and seed's " +
        "stage-1 classifier run (ce) was not run).",
    );
  }
  const g = run.result.gallery!;
  const [h, w, c] = g.shape, per = h * w * c, scale = opts.scale ?? 2;
  const img = (data: Float32Array, i: number, what: string) =>
    `<img src="${pngDataUrl(data.subarray(i * per, (i + 1) * per), g.shape)}" width="${w * scale}" ` +
    `height="${h * scale}" alt="${escapeHtml(what)} ${i + 1}" style="image-rendering:pixelated;margin:1px">`;
  const rows = galleryRows(g).map(([label, data]) => {
    const count = Math.min(g.n, Math.floor(data.length / per));
    const imgs = Array.from({ length: count }, (_, i) => img(data, i, label)).join("");
    return `<div style="margin:0 0 6px"><div style="font:600 12px system-ui,sans-serif;margin:0 0 2px">` +
      `${escapeHtml(label)}</div><div style="display:flex;flex-wrap:wrap;line-height:0">${imgs}</div></div>`;
  });
  const title = `CVAE pictures: ${settingSlug(run.setting)}, seed ${run.seed}`;
  return figure(
    `<figure class="cmg-gallery" style="margin:0"><figcaption style="font:600 13px system-ui,sans-serif;` +
      `margin:0 0 6px">${escapeHtml(title)}</figcaption>${rows.join("")}</figure>`,
    `[${title}: 6 rows of ${g.n} images]`,
  );
}

/** Options of {@linkcode scoreHistograms}. */
export interface ScoreHistogramOptions extends CellChoice {
  /** Variant of the CMG runs (default `faithful`); the stage-1 classifier's scores are always under `none`. */
  variant?: Exclude<Variant, "none">;
}

/**
 * Histograms of every score of every run of one (setting, seed) (default the first run's) on the ID (seen-class)
 * test images against the unseen-class ones (`scoreHistogramFigure`): the CMG runs under one variant (default
 * `faithful`), the stage-1 classifier's MSP and Energy under `none`; one panel per (run, score), side by side.
 * Runs without that variant are named in a note; says so when nothing is left.
 */
export function scoreHistograms(runs: readonly CmgRun[], opts: ScoreHistogramOptions = {}): Figure {
  const cell = cellRuns(runs, opts, "scoreHistograms");
  const variant = opts.variant ?? "faithful";
  const panels: string[] = [], missing: string[] = [];
  for (const run of cell) {
    const v = run.method === "ce" ? "none" : variant;
    const byScore = run.result.scores[v];
    if (!byScore || Object.keys(byScore).length === 0) {
      missing.push(`${run.result.label} (${v})`);
      continue;
    }
    for (const [score, sets] of Object.entries(byScore)) {
      const name = SCORE_NAMES[score] ?? score;
      const f = scoreHistogramFigure(name, sets, { title: `${run.result.label}: ${name} (${v})`, width: 460 });
      panels.push(`<div style="flex:0 0 auto">${f.html}</div>`);
    }
  }
  const where = `${settingSlug(cell[0]!.setting)}, seed ${cell[0]!.seed}`;
  const note = missing.length ? `No scores of ${missing.join(", ")}.` : "";
  if (panels.length === 0) return messageFigure(`Score histograms, ${where}: nothing to show. ${note}`.trim());
  const title = `Scores on the seen (ID) vs unseen test images: ${where} (CMG runs: ${variant})`;
  return figure(
    `<div class="ood-figures"><div style="font:600 13px system-ui,sans-serif;margin:0 0 4px">${escapeHtml(title)}` +
      `</div><div style="display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start">` +
      `<style>.ood-figures figure{margin:0}</style>${panels.join("")}</div>` +
      (note ? `<p style="font:12px system-ui,sans-serif;color:#555">${escapeHtml(note)}</p>` : "") + `</div>`,
    `[${title}: ${panels.length} panels]`,
  );
}
