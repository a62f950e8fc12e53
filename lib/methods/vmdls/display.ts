/**
 * The VMDLS-specific displays (conventions C14); the shared views of `lib/report` and `lib/experiment` show the
 * data, the metric tables, the paper comparison, the claims and the deviations. Here: one line per run, the
 * reference's own metrics (its grid and best-F1 oracle), the latent space of one run, the VMDLS score histograms,
 * the separation of the per-class Gaussians and the training curves. Numbers stay fractions until they are
 * formatted here.
 * @module
 */
import { Table } from "../../report/html_table.ts";
import { type Figure, figure, projectionPlot, vegaLiteFigure } from "../../report/plot.ts";
import type { ResultRow, Variant } from "../../report/results.ts";
import type { VmdlsReleasedOutcome } from "./released.ts";
import { scoreHistogramFigure } from "../../report/score_views.ts";
import { formatNumber, meanStdCell } from "../../report/table.ts";
import { SCORE_NAMES, settingSlug, type VmdlsRun } from "./run.ts";
import type { VmdlsEpochPoint } from "./train.ts";

/** Which run a figure shows: a setting (index), a seed and a training; defaults in {@linkcode pickRun}. */
export interface RunChoice {
  /** Setting index (default: the first run's). */
  setting?: number;
  /** Seed (default: the first run's). */
  seed?: number;
  /** Training (default `vmdls`). */
  method?: string;
}

/**
 * The run of a (setting, seed, training), the first run of that setting and seed when it has no such training, or
 * the first run. Throws on an empty list.
 */
export function pickRun(runs: readonly VmdlsRun[], choice: RunChoice = {}): VmdlsRun {
  const first = runs[0];
  if (!first) throw new Error("pickRun: no runs");
  const setting = choice.setting ?? first.settingIndex, seed = choice.seed ?? first.seed;
  const cell = runs.filter((r) => r.settingIndex === setting && r.seed === seed);
  return cell.find((r) => r.method === (choice.method ?? "vmdls")) ?? cell[0] ?? first;
}

/**
 * A figure's place when there is no run to draw (a released-weights run whose files or data are absent: the
 * comparison table says what to download).
 */
function noRunFigure(what: string): Figure {
  const text =
    `No run to show the ${what} of (released weights absent: see the table of the authors' released weights).`;
  return figure(`<p><em>${text}</em></p>`, `[${text}]`);
}

/** Whether an epoch of a curve is a VMDLS-family one (with the triplet and KL terms and M_t). */
function isVmdlsEpoch(p: VmdlsRun["result"]["curve"][number]): p is VmdlsEpochPoint {
  return "kl" in p;
}

/** The last epoch of a VMDLS-family training (null for CE or an empty curve). */
function lastVmdlsEpoch(run: VmdlsRun): VmdlsEpochPoint | null {
  const last = run.result.curve.at(-1);
  return run.method !== "ce" && last && isVmdlsEpoch(last) ? last : null;
}

/** A number with `digits` decimals, or "—" when absent. */
function fixed(v: number | null | undefined, digits: number): string {
  return v == null || Number.isNaN(v) ? "—" : v.toFixed(digits);
}

/**
 * The line under the sets table: which optional OOD sets were skipped as not installed, or, for a released-weights
 * run whose files or data are absent, that nothing was loaded (the comparison table further down says what to fetch).
 */
export function setsNote(exp: { skipped: readonly string[]; released?: VmdlsReleasedOutcome }): string {
  if (exp.released?.status === "missing") {
    return "Nothing was loaded or scored: released files or data are missing (the released-weights table below says what to fetch).";
  }
  return exp.skipped.length
    ? `Skipped (not installed): ${exp.skipped.join(", ")} — install with \`deno task data <name>\` to score it.`
    : "Every optional OOD set was installed and scored.";
}

/**
 * One line per run: setting, seed, training, optimizer steps, wall time of training and evaluation, the last epoch's
 * loss, for VMDLS trainings the last M_t and KL term, the ID accuracy of the network's own classes, and the jitter
 * steps and dimension of the main score's Gaussians ensemble.
 */
export function runsTable(runs: readonly VmdlsRun[]): Table {
  const rows = runs.map((run) => {
    const r = run.result, last = lastVmdlsEpoch(run);
    return {
      setting: settingSlug(run.setting),
      seed: String(run.seed),
      training: r.label,
      steps: String(r.steps),
      train: r.trainSeconds.toFixed(1),
      evals: r.evalSeconds.toFixed(1),
      loss: fixed(r.curve.at(-1)?.loss, 3),
      margin: fixed(last?.distancingMargin, 3),
      kl: fixed(last?.kl, 3),
      accuracy: formatNumber(r.idAccuracy),
      jitter: r.gaussians ? String(r.gaussians.steps) : "—",
      dim: r.gaussians ? String(r.gaussians.dim) : "—",
    };
  });
  return new Table(
    [
      { key: "setting", label: "Setting", kind: "key" },
      { key: "seed", label: "Seed" },
      { key: "training", label: "Training", kind: "key" },
      { key: "steps", label: "Steps" },
      { key: "train", label: "Train s" },
      { key: "evals", label: "Eval s" },
      { key: "loss", label: "Last loss" },
      { key: "margin", label: "M_t" },
      { key: "kl", label: "KL" },
      { key: "accuracy", label: "ID acc. %" },
      { key: "jitter", label: "Jitter steps" },
      { key: "dim", label: "Ensemble dim." },
    ],
    rows,
    {
      caption: "Runs",
      notes: [
        "Last loss, M_t and KL: means over the last epoch (M_t and KL only for VMDLS trainings). ID acc.: the " +
        "network's own classes (argmax of the full-ensemble Gaussians, or of the logits for CE). Jitter steps: " +
        "diagonal jitter added before the Gaussians' covariances were positive definite; ensemble dim.: the " +
        "dimension of the main score's Gaussians ensemble.",
      ],
    },
  );
}

/** The reference metrics shown, with their headers. */
const REFERENCE_COLUMNS = [
  ["gridFpr95", "Grid FPR95 % ↓"],
  ["gridAuroc", "Grid AUROC % ↑"],
  ["cauroc", "CAUROC % ↑"],
  ["bestMacroF1", "Best macro-F1 % (oracle) ↑"],
] as const;

/**
 * The reference's own metrics of every faithful VMDLS-family score (`result.reference`): grid FPR95, grid AUROC,
 * CAUROC and the best macro-F1 over the test set, mean ± sample std over seeds per (setting, training, score, OOD
 * set). Undefined values (NaN: the grid needs negative scores) are left out of the means and shown as "—" when no
 * seed has one; the cell's tooltip counts the seeds used.
 */
export function referenceMetricsTable(runs: readonly VmdlsRun[]): Table {
  const groups = new Map<string, { key: Record<string, string>; values: Record<string, number[]> }>();
  for (const run of runs) {
    for (const m of run.result.reference) {
      const key = {
        setting: settingSlug(run.setting),
        training: run.result.label,
        score: SCORE_NAMES[m.score] ?? m.score,
        ood: m.oodDataset,
      };
      const id = JSON.stringify(key);
      const g = groups.get(id) ??
        { key, values: Object.fromEntries(REFERENCE_COLUMNS.map(([c]): [string, number[]] => [c, []])) };
      groups.set(id, g);
      for (const [c] of REFERENCE_COLUMNS) g.values[c]!.push(m[c]);
    }
  }
  const rows = [...groups.values()].map(({ key, values }) => ({
    ...key,
    ...Object.fromEntries(REFERENCE_COLUMNS.map(([c]) => {
      return [c, meanStdCell(values[c]!, 1)];
    })),
  }));
  return new Table(
    [
      { key: "setting", label: "Setting", kind: "key" },
      { key: "training", label: "Training", kind: "key" },
      { key: "score", label: "Score", kind: "key" },
      { key: "ood", label: "OOD set", kind: "key" },
      ...REFERENCE_COLUMNS.map(([key, label]) => ({ key, label })),
    ],
    rows,
    {
      caption: "The reference's own metrics (faithful scores)",
      notes: [
        "The reference's rules, not ours: FPR95, AUROC and CAUROC on its 100 000-point geometric threshold grid; " +
        "macro-F1 is the best over τ = −1 … −1000 chosen on the test set (an oracle). ×100, mean ± sample std over " +
        "seeds; NaN values (the grid needs every score negative) are left out, — when no seed has one.",
      ],
    },
  );
}

/**
 * A 2-D PCA projection (`projectionPlot`: centred on all points shown) of the latent means μ (g for CE) kept for
 * the picture: the ID test images coloured by class, and each OOD set in its own colour. Default: the first seed's
 * `vmdls` run of the first setting ({@linkcode pickRun}).
 */
export function latentFigure(runs: readonly VmdlsRun[], opts: RunChoice = {}): Figure {
  if (runs.length === 0) return noRunFigure("latent space");
  const run = pickRun(runs, opts);
  const { dim, id, idLabels, ood } = run.result.embedding;
  const parts: [string[], Float32Array][] = [
    [Array.from(idLabels, (c) => `ID: class ${c}`), id],
    ...Object.entries(ood).map(([name, v]): [string[], Float32Array] => [
      Array.from({ length: v.length / dim }, () => `OOD: ${name}`),
      v,
    ]),
  ];
  const data = new Float32Array(parts.reduce((n, [, v]) => n + v.length, 0));
  parts.reduce((at, [, v]) => (data.set(v, at), at + v.length), 0);
  const what = run.method === "ce" ? "g" : "μ";
  return projectionPlot({ data, dim }, parts.flatMap(([g]) => g), {
    title: `PCA of ${what}: ${run.result.label}, ${settingSlug(run.setting)}, seed ${run.seed}`,
  });
}

/**
 * Histograms of the VMDLS score s(x) on the ID test set against each OOD set (`scoreHistogramFigure`), for one run
 * ({@linkcode pickRun}; default the first seed's `vmdls` run) and one scoring variant (default `clean`, else
 * `faithful`).
 */
export function scoreHistograms(runs: readonly VmdlsRun[], opts: RunChoice & { variant?: Variant } = {}): Figure {
  if (runs.length === 0) return noRunFigure("score histograms");
  const run = pickRun(runs, opts);
  const byVariant = run.result.scores.vmdls ?? {};
  const variant = opts.variant ?? (byVariant.clean ? "clean" : byVariant.faithful ? "faithful" : "none");
  const sets = byVariant[variant];
  if (!sets) throw new Error(`scoreHistograms: run ${run.result.label} has no vmdls/${variant} scores`);
  return scoreHistogramFigure("VMDLS s(x)", sets, {
    title: `${run.result.label}, ${settingSlug(run.setting)}, seed ${run.seed} (${variant})`,
  });
}

/** How far apart the classes of some labelled points are (Euclidean distances). */
export interface ClusterSeparation {
  /** Mean distance of a point to its class mean. */
  within: number;
  /** Mean distance between two class means (over the pairs of classes). */
  between: number;
  /** between / within (higher = better separated). */
  ratio: number;
}

/**
 * Within-class spread and between-class distance of labelled points.
 * @param rows Row-major [n, dim].
 * @param labels n class labels.
 */
export function clusterSeparation(rows: Float32Array, dim: number, labels: ArrayLike<number>): ClusterSeparation {
  const n = labels.length;
  if (n * dim !== rows.length) throw new Error(`clusterSeparation: ${rows.length} values for ${n} × ${dim}`);
  const sums = new Map<number, { sum: Float64Array; count: number }>();
  for (let i = 0; i < n; i++) {
    const c = sums.get(labels[i]!) ?? { sum: new Float64Array(dim), count: 0 };
    sums.set(labels[i]!, c);
    for (let j = 0; j < dim; j++) c.sum[j]! += rows[i * dim + j]!;
    c.count++;
  }
  const means = new Map([...sums].map(([k, c]) => [k, c.sum.map((v) => v / c.count)]));
  const dist = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    let s = 0;
    for (let j = 0; j < dim; j++) s += (a[j]! - b[j]!) ** 2;
    return Math.sqrt(s);
  };
  let within = 0;
  for (let i = 0; i < n; i++) within += dist(rows.subarray(i * dim, (i + 1) * dim), means.get(labels[i]!)!) / n;
  const centres = [...means.values()];
  const pairs = centres.flatMap((a, i) => centres.slice(i + 1).map((b) => dist(a, b)));
  const between = pairs.length ? pairs.reduce((s, v) => s + v, 0) / pairs.length : NaN;
  return { within, between, ratio: between / within };
}

/**
 * The per-class Gaussians' separation of every VMDLS training (VMDLS and its ablations) of the first seed, on μ of
 * the ID test images kept for the picture ({@linkcode clusterSeparation}).
 */
export function gaussianSeparationTable(runs: readonly VmdlsRun[]): Table {
  const seed = runs[0]?.seed;
  const rows = runs.filter((r) => r.seed === seed && r.method !== "ce").map((run) => {
    const e = run.result.embedding;
    const s = clusterSeparation(e.id, e.dim, e.idLabels);
    return {
      setting: settingSlug(run.setting),
      training: run.result.label,
      images: String(e.idLabels.length),
      within: s.within.toFixed(3),
      between: s.between.toFixed(3),
      ratio: fixed(s.ratio, 2),
    };
  });
  return new Table(
    [
      { key: "setting", label: "Setting", kind: "key" },
      { key: "training", label: "Training", kind: "key" },
      { key: "images", label: "ID images" },
      { key: "within", label: "Within-class distance ↓" },
      { key: "between", label: "Between-class distance ↑" },
      { key: "ratio", label: "Between / within ↑" },
    ],
    rows,
    {
      caption: `The per-class Gaussians' separation (seed ${seed})`,
      notes: [
        "On μ of the ID test images kept for the picture: mean Euclidean distance of an image to its class mean, " +
        "mean distance between two class means, and their ratio.",
      ],
    },
  );
}

/**
 * The per-epoch training curves of every run of one seed (default the first run's), one line per training: the
 * loss, and for VMDLS trainings the triplet + distancing term, the KL term and M_t.
 */
export async function trainingCurvesFigure(runs: readonly VmdlsRun[], opts: { seed?: number } = {}): Promise<Figure> {
  const seed = opts.seed ?? runs[0]?.seed;
  const chosen = runs.filter((r) => r.seed === seed);
  const multiSetting = new Set(chosen.map((r) => r.settingIndex)).size > 1;
  const values = chosen.flatMap((run) => {
    const series = multiSetting ? `${run.result.label} · ${settingSlug(run.setting)}` : run.result.label;
    return run.result.curve.flatMap((p) => {
      const terms: [string, number][] = isVmdlsEpoch(p)
        ? [["loss", p.loss], ["triplet + distancing", p.triplet], ["KL", p.kl], ["M_t", p.distancingMargin]]
        : [["loss", p.loss]];
      return terms.filter(([, v]) => Number.isFinite(v)).map(([metric, value]) => ({
        epoch: p.epoch + 1,
        metric,
        series,
        value,
      }));
    });
  });
  const metrics = [...new Set(values.map((v) => v.metric))];
  const title = `Training curves (seed ${seed}; means per epoch)`;
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    data: { values },
    hconcat: metrics.map((m) => ({
      transform: [{ filter: { field: "metric", equal: m } }],
      width: 210,
      height: 150,
      title: m,
      mark: { type: "line", point: { size: 12 } },
      encoding: {
        x: { field: "epoch", type: "quantitative", title: "epoch" },
        y: { field: "value", type: "quantitative", title: null, scale: { zero: false } },
        color: { field: "series", type: "nominal", title: null },
      },
    })),
    resolve: { scale: { color: "shared" } },
    config: { font: "sans-serif", view: { stroke: "#ddd" } },
  };
  return await vegaLiteFigure(spec as Parameters<typeof vegaLiteFigure>[0], `[${title}: ${metrics.join(", ")}]`);
}

/** The fields of a released-weights experiment the comparison needs (`released.ts`; absent when trained here). */
export interface ReleasedComparisonInput {
  runs: readonly VmdlsRun[];
  rows: readonly ResultRow[];
  released?: VmdlsReleasedOutcome;
}

/**
 * The released-weights run side by side with its sources, every number labelled with where it comes from: the
 * paper's numbers (not transcribed: papers.md §2e, so none is shown), the authors' repository's sample results
 * (none: its README reports no number; its test runs log to Neptune, README l. 156), and ours — the authors'
 * weights scored by our code (AUROC, FPR95 and macro-F1 of the `vmdls` rows, per variant and OOD set) and, for the
 * faithful rows, the reference's own grid metrics. When the files or data are absent the table says what to
 * download; after a training run it says how to ask for the released run.
 */
export function releasedComparisonTable(exp: ReleasedComparisonInput): Table {
  const note = (source: string, text: string) => ({
    source,
    network: "—",
    variant: "—",
    ood: "—",
    auroc: "—",
    fpr95: "—",
    macroF1: "—",
    note: text,
  });
  const rows = [
    note(
      "Paper (Dinari & Freifeld, UAI 2022)",
      "not transcribed: no copy of the paper's tables is reachable offline (papers.md §2e); no paper number is claimed",
    ),
    note(
      "Authors' repository (BGU-CS-VIL/vmdls@5add9e2)",
      "no sample results: the README reports no number (test runs log to Neptune, README l. 156)",
    ),
  ];
  const r = exp.released;
  if (!r) {
    rows.push(
      note(
        "Ours",
        "this run trained its own networks (weights: train); OOD_WEIGHTS=released evaluates the authors' files",
      ),
    );
  } else if (r.status === "missing") {
    rows.push(note("Ours: not run", "files or data absent: what to download is listed below the table"));
  } else {
    for (const run of exp.runs) {
      for (const row of run.rows.filter((x) => x.score === "vmdls")) {
        const ref = run.result.reference.find((m) => m.score === "vmdls" && m.oodDataset === row.oodDataset);
        const ours = row.variant === "faithful"
          ? `reference's rules: grid AUROC ${fixed(100 * (ref?.gridAuroc ?? NaN), 1)}, grid FPR95 ` +
            `${fixed(100 * (ref?.gridFpr95 ?? NaN), 1)}, CAUROC ${fixed(100 * (ref?.cauroc ?? NaN), 1)}, ` +
            `best macro-F1 (test-set oracle) ${fixed(100 * (ref?.bestMacroF1 ?? NaN), 1)}`
          : "τ at 95 % TPR on held-out training images";
        rows.push({
          source: "Ours: authors' weights, our scoring and metrics",
          network: run.result.label,
          variant: row.variant,
          ood: row.oodDataset,
          auroc: formatNumber(row.auroc ?? NaN),
          fpr95: formatNumber(row.fpr95 ?? NaN),
          macroF1: formatNumber(row.macroF1 ?? NaN),
          note: ours,
        });
      }
    }
  }
  return new Table(
    [
      { key: "source", label: "Source", kind: "key" },
      { key: "network", label: "Network", kind: "key" },
      { key: "variant", label: "Variant" },
      { key: "ood", label: "OOD set", kind: "key" },
      { key: "auroc", label: "AUROC % ↑" },
      { key: "fpr95", label: "FPR95 % ↓" },
      { key: "macroF1", label: "Macro-F1 % ↑" },
      { key: "note", label: "Note" },
    ],
    rows,
    {
      caption: "The authors' released weights: paper, authors' repository and ours",
      notes: [
        ...(r?.status === "missing" ? [`Not run. ${r.message ?? ""}`] : []),
        "Ours: the released checkpoint read by lib/io/torch and mapped by name onto our network " +
        "(lib/checkpoints/released/vmdls.ts), no training; the Gaussians fitted on the run's training images, the " +
        "released auto-encoder for the reconstruction weighting, our metrics (FPR95 our rule; macro-F1 at the " +
        "variant's τ).",
      ],
    },
  );
}
