/**
 * The ELOC-specific displays (conventions C14); the shared views of `lib/report` and `lib/experiment` show the
 * data, our metric tables, the claims and the deviations. Here: one line per run, the leave-out classifiers'
 * validation curves with the epochs each selection variant kept, the entropy margin the loss asks for, the ensemble
 * score histograms, the ε sweep, the ODIN/ELOC metric suite (`calMetric.py`'s rules) and the paper /
 * re-implementation / ours comparison. Numbers stay fractions until they are formatted here.
 * @module
 */
import * as Plot from "@observablehq/plot";
import { type Cell, type Column, Table } from "../../report/html_table.ts";
import type { PaperNumbers } from "../../report/paper_numbers.ts";
import { type Figure, figure, plotFigure } from "../../report/plot.ts";
import { type Displayable, escapeHtml, htmlView, markdownView } from "../../report/jupyter.ts";
import { scoreHistogramFigure, stacked } from "../../report/score_views.ts";
import { formatNumber, meanStdCell } from "../../report/table.ts";
import { auroc } from "../../metrics/auroc.ts";
import { fprAtTpr, type FprRule } from "../../metrics/fpr.ts";
import type { ElocMethod } from "./config.ts";
import { type ElocExperiment, type ElocRun, type ElocSuiteRow, SCORE_NAMES, settingSlug } from "./run.ts";

/** A selection variant of the notebook. */
export type ElocVariant = ElocSuiteRow["variant"];

/** Which run a display shows: a setting (index), a seed and a training; defaults in {@linkcode pickRun}. */
export interface RunChoice {
  /** Setting index (default: the first run's). */
  setting?: number;
  /** Seed (default: the first run's). */
  seed?: number;
  /** Training (default `eloc`). */
  method?: ElocMethod;
}

/** The (setting, seed, training) of every run, for error messages. */
function describeRuns(runs: readonly ElocRun[]): string {
  return runs.map((r) => `setting ${r.settingIndex} (${settingSlug(r.setting)}) · seed ${r.seed} · ${r.method}`)
    .join("; ");
}

/** The settings and seed a choice resolves to (defaults: the first run's). Throws on an empty list. */
function resolveCell(runs: readonly ElocRun[], choice: RunChoice, who: string): { setting: number; seed: number } {
  const first = runs[0];
  if (!first) throw new Error(`${who}: no runs`);
  return { setting: choice.setting ?? first.settingIndex, seed: choice.seed ?? first.seed };
}

/** The runs of one (setting, seed), in run order; throws, listing the runs there are, when it has none. */
function cellRuns(runs: readonly ElocRun[], choice: RunChoice, who: string): ElocRun[] {
  const { setting, seed } = resolveCell(runs, choice, who);
  const cell = runs.filter((r) => r.settingIndex === setting && r.seed === seed);
  if (cell.length === 0) {
    throw new Error(`${who}: no run of setting ${setting}, seed ${seed}. Runs: ${describeRuns(runs)}`);
  }
  return cell;
}

/**
 * The run of a (setting, seed, training): defaults the first run's setting and seed and the `eloc` training.
 * Throws on an empty list, and when no run matches (listing the runs there are).
 */
export function pickRun(runs: readonly ElocRun[], choice: RunChoice = {}): ElocRun {
  const { setting, seed } = resolveCell(runs, choice, "pickRun");
  const method = choice.method ?? "eloc";
  const run = runs.find((r) => r.settingIndex === setting && r.seed === seed && r.method === method);
  if (!run) {
    throw new Error(
      `pickRun: no run of setting ${setting}, seed ${seed}, training ${method}. Runs: ${describeRuns(runs)}`,
    );
  }
  return run;
}

/** The variants of some runs, in first-seen order (from their selections, accuracies and scores). */
function variantsOf(runs: readonly ElocRun[]): string[] {
  const seen = new Set<string>();
  for (const r of runs) {
    for (const f of r.result.folds) for (const v of Object.keys(f.selected)) seen.add(v);
    for (const v of Object.keys(r.result.idAccuracy)) seen.add(v);
  }
  return [...seen];
}

/** A fold's legend name: `fold k` for a leave-out classifier, `all classes` for CE's. */
function foldName(fold: number): string {
  return fold === 0 ? "all classes" : `fold ${fold}`;
}

/**
 * One line per run: setting, seed, training, number of classifiers, optimizer steps (all classifiers), wall time of
 * training and evaluation, and per selection variant the epoch each classifier kept (1-based, fold order) and the
 * ID test accuracy (×100).
 */
export function runsTable(runs: readonly ElocRun[]): Table {
  const variants = variantsOf(runs);
  const rows = runs.map((run) => {
    const r = run.result;
    const row: Record<string, string> = {
      setting: settingSlug(run.setting),
      seed: String(run.seed),
      training: r.label,
      classifiers: String(r.folds.length),
      steps: String(r.folds.reduce((s, f) => s + f.steps, 0)),
      train: r.trainSeconds.toFixed(1),
      evals: r.evalSeconds.toFixed(1),
    };
    for (const v of variants) {
      const epochs = r.folds.map((f) => f.selected[v]);
      row[`selected_${v}`] = epochs.every((e) => e) ? epochs.map((e) => String(e!.epoch + 1)).join(", ") : "—";
      row[`accuracy_${v}`] = formatNumber(r.idAccuracy[v], 100, 1);
    }
    return row;
  });
  return new Table(
    [
      { key: "setting", label: "Setting", kind: "key" },
      { key: "seed", label: "Seed" },
      { key: "training", label: "Training", kind: "key" },
      { key: "classifiers", label: "Classifiers" },
      { key: "steps", label: "Steps" },
      { key: "train", label: "Train s" },
      { key: "evals", label: "Eval s" },
      ...variants.map((v): Column => ({ key: `selected_${v}`, label: `Selected epochs (${v})`, kind: "key" })),
      ...variants.map((v): Column => ({ key: `accuracy_${v}`, label: `ID acc. % (${v})` })),
    ],
    rows,
    {
      caption: "Runs",
      notes: [
        "Classifiers: the leave-out classifiers F_1 … F_5 (one for CE, on all classes); steps: optimizer steps of " +
        "all of them. Selected epochs: the epoch (1-based) each classifier keeps under the variant, in fold order " +
        "(the first with the best validation AUROC). ID acc.: the ensemble's argmax of Σ_k p_k (CE: of the logits) " +
        "on the ID test images the variant evaluates.",
      ],
    },
  );
}

/** Options of {@linkcode foldCurvesFigure}. */
export interface FoldCurvesOptions {
  /** Setting index (default: the first run's). */
  setting?: number;
  /** Seed (default: the first run's). */
  seed?: number;
  /** Width in px of one training's column (default 230). */
  facetWidth?: number;
}

/**
 * The per-epoch curves of every classifier of one (setting, seed) (default the first run's): one column per
 * training, one colour per fold; the rows are each selector's validation AUROC (the reference's MSP AUROC on its
 * validation ID + OOD images) and the training accuracy. A large dot marks the epoch each variant kept.
 */
export function foldCurvesFigure(runs: readonly ElocRun[], opts: FoldCurvesOptions = {}): Figure {
  if (runs.length === 0) return messageFigure(NO_RUNS);
  const cell = cellRuns(runs, opts, "foldCurvesFigure");
  if (cell.every((r) => r.result.folds.every((f) => f.curve.length === 0))) {
    return messageFigure("No training curves: these networks were not trained here (the authors' released weights).");
  }
  const variants = variantsOf(cell);
  const panelOf = (v: string) => `validation AUROC (${v})`;
  const accuracyPanel = "training accuracy";
  const points: { training: string; panel: string; series: string; epoch: number; value: number }[] = [];
  const kept: typeof points = [];
  for (const run of cell) {
    for (const f of run.result.folds) {
      const base = { training: run.result.label, series: foldName(f.fold) };
      for (const p of f.curve) {
        const values: [string, number | undefined][] = [
          ...Object.entries(p.validation).map(([v, a]): [string, number] => [panelOf(v), a]),
          [accuracyPanel, p.accuracy],
        ];
        for (const [panel, value] of values) {
          if (Number.isFinite(value)) points.push({ ...base, panel, epoch: p.epoch + 1, value: value! });
        }
      }
      for (const [v, s] of Object.entries(f.selected)) {
        if (Number.isFinite(s.auroc)) kept.push({ ...base, panel: panelOf(v), epoch: s.epoch + 1, value: s.auroc });
      }
    }
  }
  const trainings = [...new Set(cell.map((r) => r.result.label))];
  const panels = [...variants.map(panelOf), accuracyPanel].filter((p) => points.some((q) => q.panel === p));
  const series = [...new Set(points.map((p) => p.series))];
  const first = cell[0]!;
  const title = `Classifiers per epoch: ${settingSlug(first.setting)}, seed ${first.seed} (dots: selected epochs)`;
  return plotFigure({
    title,
    width: (opts.facetWidth ?? 230) * trainings.length + 130,
    height: 150 * panels.length + 60,
    marginRight: 130,
    x: { label: "epoch" },
    y: { label: null, grid: true },
    fx: { label: null, domain: trainings },
    fy: { label: null, domain: panels },
    color: { legend: true, domain: series },
    marks: [
      Plot.line(points, { x: "epoch", y: "value", stroke: "series", z: "series", fx: "training", fy: "panel" }),
      Plot.dot(points, { x: "epoch", y: "value", fill: "series", fx: "training", fy: "panel", r: 1.5 }),
      Plot.dot(kept, {
        x: "epoch",
        y: "value",
        fill: "series",
        stroke: "black",
        fx: "training",
        fy: "panel",
        r: 4.5,
      }),
    ],
  }, `[${title}: ${trainings.join(", ")}]`);
}

/** Options of {@linkcode entropyMarginFigure}. */
export interface EntropyMarginOptions {
  /** Setting index (default: the first run's). */
  setting?: number;
  /** Seed (default: the first run's). */
  seed?: number;
  /** The loss's margin m, drawn as a dashed rule on the margin row (default 0.4, the reference's). */
  margin?: number;
  /** Width in px of one training's column (default 260). */
  facetWidth?: number;
}

/**
 * The entropies the margin-entropy loss compares, per epoch and fold, for the `eloc` and `elocCe` trainings of one
 * (setting, seed) (default the first run's): the mean softmax entropy of the ID batches H̄_ID, that of the left-out
 * batches H̄_OOD, and the margin H̄_OOD − H̄_ID with a dashed rule at m (the loss is zero above it). Epochs without
 * a left-out batch (NaN) are skipped; without either training the figure says so.
 */
export function entropyMarginFigure(runs: readonly ElocRun[], opts: EntropyMarginOptions = {}): Figure {
  if (runs.length === 0) return messageFigure(NO_RUNS);
  const cell = cellRuns(runs, opts, "entropyMarginFigure").filter((r) => r.method === "eloc" || r.method === "elocCe");
  const m = opts.margin ?? 0.4;
  if (cell.length === 0) {
    return messageFigure("No ELOC training (eloc or elocCe) in this setting and seed: no entropy margin to show.");
  }
  const rows = ["H̄_ID", "H̄_OOD (left-out)", "margin H̄_OOD − H̄_ID"] as const;
  const points = cell.flatMap((run) =>
    run.result.folds.flatMap((f) =>
      f.curve.flatMap((p) =>
        ([[rows[0], p.entropyId], [rows[1], p.entropyOod], [rows[2], p.entropyOod - p.entropyId]] as const)
          .filter(([, v]) => Number.isFinite(v))
          .map(([row, value]) => ({
            training: run.result.label,
            row,
            series: foldName(f.fold),
            epoch: p.epoch + 1,
            value,
          }))
      )
    )
  );
  const trainings = [...new Set(cell.map((r) => r.result.label))];
  const first = cell[0]!;
  const title = `Entropy margin per epoch: ${settingSlug(first.setting)}, seed ${first.seed} (dashed: m = ${m})`;
  return plotFigure({
    title,
    width: (opts.facetWidth ?? 260) * trainings.length + 150,
    height: 150 * rows.length + 60,
    marginRight: 150,
    x: { label: "epoch" },
    y: { label: "entropy (nats)", grid: true },
    fx: { label: null, domain: trainings },
    fy: { label: null, domain: [...rows] },
    color: { legend: true, domain: [...new Set(points.map((p) => p.series))] },
    marks: [
      Plot.line(points, { x: "epoch", y: "value", stroke: "series", z: "series", fx: "training", fy: "row" }),
      Plot.dot(points, { x: "epoch", y: "value", fill: "series", fx: "training", fy: "row", r: 1.5 }),
      Plot.ruleY(trainings.map((training) => ({ training, row: rows[2], y: m })), {
        y: "y",
        fx: "training",
        fy: "row",
        stroke: "#e15759",
        strokeDasharray: "6,3",
      }),
    ],
  }, `[${title}]`);
}

/** A figure that only says something (e.g. that there is nothing to draw). */
/** What the figures say when the experiment has no run (a released-weights run with its files absent). */
const NO_RUNS = "Nothing was run: the files this run needs are not on disk (see the released-weights section).";

function messageFigure(text: string): Figure {
  return figure(`<p style="font:13px system-ui,sans-serif;color:#555">${escapeHtml(text)}</p>`, text);
}

/** Options of {@linkcode scoreHistograms}. */
export interface ScoreHistogramOptions extends RunChoice {
  /** Selection variant (default the first the run scored). */
  variant?: ElocVariant;
  /** Score key (default `eloc`, else the run's first score). */
  score?: string;
}

/**
 * Histograms of one score on the ID test set against each OOD set (`scoreHistogramFigure`, one panel per OOD set),
 * for one run ({@linkcode pickRun}; default the first seed's `eloc` run), variant (default the first scored) and
 * score (default the ensemble score `eloc`).
 */
export function scoreHistograms(runs: readonly ElocRun[], opts: ScoreHistogramOptions = {}): Figure {
  if (runs.length === 0) return messageFigure(NO_RUNS);
  const run = pickRun(runs, opts);
  const variant = opts.variant ?? Object.keys(run.result.scores)[0];
  const byScore = variant === undefined ? undefined : run.result.scores[variant];
  if (!byScore) throw new Error(`scoreHistograms: run ${run.result.label} has no scores of variant ${variant}`);
  const score = opts.score ?? (byScore.eloc ? "eloc" : Object.keys(byScore)[0]);
  const sets = score === undefined ? undefined : byScore[score];
  if (!sets) {
    throw new Error(
      `scoreHistograms: run ${run.result.label} has no score ${score} (${variant}); it has ${
        Object.keys(byScore).join(", ")
      }`,
    );
  }
  return scoreHistogramFigure(SCORE_NAMES[score!] ?? score!, sets, {
    title: `${run.result.label}, ${settingSlug(run.setting)}, seed ${run.seed} (${variant})`,
  });
}

/** Options of {@linkcode epsilonSweepFigure}. */
export interface EpsilonSweepOptions extends RunChoice {
  /** Rule of the FPR at 95 % TPR (default `sklearn`, first-≥, as our metric rows; `odin` is NaN on small sets). */
  fprRule?: FprRule;
}

/**
 * AUROC (`auroc`: Mann–Whitney, as our metric rows) and FPR at 95 % TPR of the ensemble score against the input
 * perturbation ε (`result.sweep` of the picked run, {@linkcode pickRun}: default the first seed's `eloc` run, which
 * is the one the sweep runs on), one line per OOD set plus their mean. Says so when no sweep was run.
 */
export function epsilonSweepFigure(runs: readonly ElocRun[], opts: EpsilonSweepOptions = {}): Figure {
  if (runs.length === 0) return messageFigure(NO_RUNS);
  const run = pickRun(runs, opts);
  const sweep = run.result.sweep;
  if (sweep.length === 0) {
    return messageFigure(
      `No ε sweep in ${run.result.label}, ${settingSlug(run.setting)}, seed ${run.seed} ` +
        "(epsilonSweep is empty in the config, or the sweep ran on another run).",
    );
  }
  const rule = opts.fprRule ?? "sklearn";
  const metrics = ["AUROC", `FPR95 (${rule})`] as const;
  const points: { epsilon: number; metric: string; set: string; value: number }[] = [];
  for (const { epsilon, sets } of sweep) {
    const per = Object.entries(sets.ood).map(([set, ood]) => ({
      set,
      values: [auroc(sets.id, ood), fprAtTpr(sets.id, ood, { rule })],
    }));
    for (const [i, metric] of metrics.entries()) {
      for (const p of per) points.push({ epsilon, metric, set: p.set, value: p.values[i]! });
      const finite = per.map((p) => p.values[i]!).filter(Number.isFinite);
      if (finite.length) {
        points.push({
          epsilon,
          metric,
          set: "mean",
          value: finite.reduce((s, v) => s + v, 0) / finite.length,
        });
      }
    }
  }
  const shown = points.filter((p) => Number.isFinite(p.value));
  const sets = [...new Set(shown.map((p) => p.set).filter((s) => s !== "mean")), "mean"];
  const title = `ε sweep: ${run.result.label}, ${settingSlug(run.setting)}, seed ${run.seed}`;
  return plotFigure({
    title,
    width: 640,
    height: 300,
    marginRight: 40,
    x: { label: "ε", type: "linear" },
    y: { label: null, grid: true, domain: [0, 1] },
    fx: { label: null, domain: [...metrics] },
    color: { legend: true, domain: sets },
    marks: [
      Plot.line(shown, {
        x: "epsilon",
        y: "value",
        stroke: "set",
        z: "set",
        fx: "metric",
        strokeWidth: (d: { set: string }) => d.set === "mean" ? 2.5 : 1.4,
      }),
      Plot.dot(shown, { x: "epsilon", y: "value", fill: "set", fx: "metric", r: 2.5 }),
    ],
  }, `[${title}]`);
}

/** The metrics of the ODIN/ELOC suite, in the paper's column order, with their headers. */
const SUITE_COLUMNS = [
  ["fpr95", "FPR95 % ↓"],
  ["detectionError", "Det. error % ↓"],
  ["auroc", "AUROC % ↑"],
  ["auprIn", "AUPR-In % ↑"],
  ["auprOut", "AUPR-Out % ↑"],
] as const;

/** A metric of the suite. */
type SuiteMetric = typeof SUITE_COLUMNS[number][0];

/** Options of {@linkcode odinSuiteTable}. */
export interface OdinSuiteOptions {
  /** Selection variant (default `faithful` when any run has it, else the first in the suites). */
  variant?: ElocVariant;
  /** Decimals (default 2). */
  digits?: number;
}

/**
 * The ODIN/ELOC metric suite (`calMetric.py`'s rules, `result.suite`) of one variant: FPR95, detection error,
 * AUROC, AUPR-In and AUPR-Out, ×100, mean ± sample std over seeds per (setting, training, score, OOD set), plus an
 * `Average` row per (setting, training, score): the mean over the OOD sets within a seed (NaN when one of them is),
 * then over seeds. NaN values (FPR95 when no threshold has TPR in the window) are left out of the means; each
 * cell's tooltip counts the seeds used.
 */
export function odinSuiteTable(runs: readonly ElocRun[], opts: OdinSuiteOptions = {}): Table {
  const all = runs.flatMap((r) => r.result.suite.map((s) => s.variant));
  const variant = opts.variant ?? (all.includes("faithful") ? "faithful" : all[0] ?? "faithful");
  const digits = opts.digits ?? 2;
  type Group = { key: Record<string, string>; oods: Map<string, Map<number, ElocSuiteRow>> };
  const groups = new Map<string, Group>();
  for (const run of runs) {
    for (const s of run.result.suite.filter((x) => x.variant === variant)) {
      const key = {
        setting: settingSlug(run.setting),
        training: run.result.label,
        score: SCORE_NAMES[s.score] ?? s.score,
      };
      const id = JSON.stringify(key);
      const g = groups.get(id) ?? { key, oods: new Map() };
      groups.set(id, g);
      const bySeed = g.oods.get(s.oodDataset) ?? new Map<number, ElocSuiteRow>();
      g.oods.set(s.oodDataset, bySeed);
      bySeed.set(run.seed, s);
    }
  }
  const rows: Record<string, Cell | string>[] = [];
  const groupStarts = new Set<number>(), emphasis = new Set<number>();
  const cells = (values: (metric: SuiteMetric) => number[]) =>
    Object.fromEntries(SUITE_COLUMNS.map(([c]) => [c, meanStdCell(values(c), digits)]));
  for (const { key, oods } of groups.values()) {
    groupStarts.add(rows.length);
    for (const [ood, bySeed] of oods) {
      rows.push({ ...key, ood, ...cells((c) => [...bySeed.values()].map((s) => s[c])) });
    }
    const seeds = [...new Set([...oods.values()].flatMap((b) => [...b.keys()]))];
    const average = (c: SuiteMetric) =>
      seeds.map((seed) => {
        const v = [...oods.values()].map((b) => b.get(seed)?.[c] ?? NaN);
        return v.reduce((s, x) => s + x, 0) / v.length;
      });
    emphasis.add(rows.length);
    rows.push({ ...key, ood: "Average", ...cells(average) });
  }
  return new Table(
    [
      { key: "setting", label: "Setting", kind: "key" },
      { key: "training", label: "Training", kind: "key" },
      { key: "score", label: "Score", kind: "key" },
      { key: "ood", label: "OOD set", kind: "key" },
      ...SUITE_COLUMNS.map(([key, label]) => ({ key, label })),
    ],
    rows,
    {
      caption: `The ODIN/ELOC metric suite (${variant} variant)`,
      notes: [
        "calMetric.py's rules, ID positive: FPR95 = mean FPR over the thresholds with TPR ∈ [0.9495, 0.9505] (NaN " +
        "when none), detection error = min over thresholds of ½(1 − TPR + FPR), rectangle-sum AUROC, rate-based " +
        "AUPR-In / AUPR-Out. ×100, mean ± sample std over seeds; NaN values are left out (the tooltip counts the " +
        "seeds used), — when no seed has one. Average: the mean over the OOD sets within a seed (NaN if one of them " +
        "is), then over seeds.",
      ],
      groupStarts,
      emphasis,
    },
  );
}

/** Whether a paper number comes from the paper (else the re-implementation's README). */
function fromPaper(source: string): boolean {
  return source.toLowerCase().startsWith("paper");
}

/**
 * The paper's numbers, the re-implementation's and ours side by side (ODIN/ELOC suite, ×100): one row per
 * (backbone, ID, OOD set) of `paper` (`loadPaperNumbers("eloc")`, the ensemble score `eloc`), one cell
 * "paper / re-impl. / ours" per metric, "—" where absent. Ours: mean ± sample std over seeds of the faithful
 * `eloc` score of the `eloc` training in the settings with that backbone and ID dataset ("not run here" when no run
 * has such a setting).
 */
export function paperVsOursTable(
  runs: readonly ElocRun[],
  paper: PaperNumbers,
  opts: { digits?: number; ours?: string } = {},
): Table {
  const digits = opts.digits ?? 2;
  const same = (a: string | undefined, b: string) => (a ?? "").toLowerCase() === b.toLowerCase();
  const numbers = paper.numbers.filter((n) => same(n.method, "eloc") && same(n.score ?? "eloc", "eloc"));
  type Line = { backbone: string; idDataset: string; oodDataset: string };
  const lines = new Map<string, Line>();
  for (const n of numbers) {
    const line = { backbone: n.backbone ?? "", idDataset: n.idDataset ?? "", oodDataset: n.oodDataset };
    lines.set(JSON.stringify(line), line);
  }
  const ours = runs.filter((r) => r.method === "eloc");
  const notRun = new Set<string>();
  const rows = [...lines.values()].map((line) => {
    const mine = ours.filter((r) =>
      same(r.setting.backbone, line.backbone) && same(r.setting.idDataset, line.idDataset)
    );
    if (mine.length === 0) notRun.add(`${line.idDataset} / ${line.backbone}`);
    const row: Record<string, Cell | string> = { ...line };
    for (const [metric] of SUITE_COLUMNS) {
      const of = numbers.filter((n) =>
        n.metric === metric && same(n.backbone, line.backbone) && same(n.idDataset, line.idDataset) &&
        same(n.oodDataset, line.oodDataset)
      );
      const p = of.find((n) => fromPaper(n.source)), re = of.find((n) => !fromPaper(n.source));
      const values = mine.flatMap((r) =>
        r.result.suite.filter((s) =>
          s.variant === "faithful" && s.score === "eloc" && same(s.oodDataset, line.oodDataset)
        )
          .map((s) => s[metric])
      );
      const o = meanStdCell(values, digits);
      const oursText = mine.length === 0 ? "not run here" : values.length === 0 ? "—" : o.text;
      const oursTitle = mine.length === 0 ? "no run of this backbone and ID dataset" : o.title!;
      row[metric] = {
        text: [formatNumber(p?.value, 100, digits), formatNumber(re?.value, 100, digits), oursText].join(" / "),
        title: [`paper: ${p?.source ?? "—"}`, `re-impl.: ${re?.source ?? "—"}`, `ours: ${oursTitle}`].join("; "),
      };
    }
    return row;
  });
  const notes = [
    "Each cell: paper / re-implementation (YU1ut/Ensemble-of-Leave-out-Classifiers, its README) / ours, ×100, in " +
    "the ODIN/ELOC suite (calMetric.py's rules). " +
    (opts.ours ??
      "Ours: the ensemble score (CE perturbation) of the ELOC training, faithful variant, mean ± sample std over " +
        "seeds (NaN left out; the tooltip counts the seeds); — where absent."),
  ];
  if (notRun.size) notes.push(`Not run here: ${[...notRun].join(", ")} (no setting of this backbone and ID dataset).`);
  return new Table(
    [
      { key: "backbone", label: "Backbone", kind: "key" },
      { key: "idDataset", label: "ID", kind: "key" },
      { key: "oodDataset", label: "OOD", kind: "key" },
      ...SUITE_COLUMNS.map(([key, label]) => ({ key, label: `${label} (paper / re-impl. / ours)` })),
    ],
    rows,
    { caption: `Paper vs ours: ${paper.citation}`, notes },
  );
}

/**
 * The released-weights section of the notebook: with trained networks (`weights: "train"`) one line saying how to
 * evaluate the authors' files instead; with `released`, what to download for anything absent (the exact messages
 * of `missingReleasedMessage` and `DatasetMissingError`), one line per archive (status, OOD sets scored, ensemble
 * ID accuracy ×100, images) and the paper / re-implementation (README, its released weights) / ours comparison,
 * where ours is the released weights scored by this project's ELOC score and metrics.
 */
export function releasedView(exp: ElocExperiment, paper: PaperNumbers): Displayable {
  const report = exp.released;
  if (!report) {
    return markdownView(
      "This run trained its own networks (`OOD_WEIGHTS=train`). To evaluate the re-implementation's released " +
        "ensembles instead, run with `OOD_WEIGHTS=released` (the archives: `deno task data checkpoints eloc`).",
    );
  }
  const parts: Displayable[] = [];
  if (report.message) {
    parts.push(
      htmlView(
        `<p><b>Not on disk — download, then run again:</b></p><pre style="white-space:pre-wrap">${
          escapeHtml(report.message)
        }</pre>`,
        report.message,
      ),
    );
  }
  const status = new Table(
    [
      { key: "file", label: "Released file", kind: "key" },
      { key: "status", label: "Status" },
      { key: "ood", label: "OOD sets scored" },
      { key: "accuracy", label: "ID accuracy (ensemble)" },
      { key: "images", label: "ID / OOD images" },
    ],
    report.files.map((f) => {
      const run = f.runIndex === undefined ? undefined : exp.runs[f.runIndex];
      const sets = run ? exp.sets[run.settingIndex] : undefined;
      return {
        file: f.id,
        status: f.status === "evaluated" ? "evaluated" : "not run (files absent)",
        ood: f.oodEvaluated.join(", ") || "—",
        accuracy: run ? formatNumber(run.result.idAccuracy.faithful, 100, 2) : "—",
        images: sets ? `${sets.test.shape[0]} / ${Object.values(sets.ood).map((d) => d.shape[0]).join(", ")}` : "—",
      };
    }),
    {
      caption: 'The authors\' released weights (YU1ut/Ensemble-of-Leave-out-Classifiers, README "Pre-trained Models")',
    },
  );
  parts.push(status);
  parts.push(paperVsOursTable(exp.runs, paper, {
    ours: "Ours: the re-implementation's released weights, scored here with this project's ELOC score (CE " +
      "perturbation, T = 1000, the README's ε) and calMetric.py's rules, on the CIFAR test set and OOD sets minus " +
      "the validation positions (faithful) — at the run's profile possibly a subset (see the image counts above).",
  }));
  return stacked(parts);
}
