/**
 * The baselines notebook's own displays: the trained and scored runs as tables, its summary grouping, and its
 * figures (histograms, ROC curves, training curves, feature projections of the first seed of each ID dataset),
 * each one display built from `lib/report` (conventions C14).
 * @module
 */
import type pl from "nodejs-polars";
import { oodSetsFor } from "../../experiment/eval_sets.ts";
import { type Column, Table } from "../../report/html_table.ts";
import type { Displayable } from "../../report/jupyter.ts";
import { projectionPlot, rocPlot, trainingCurves } from "../../report/plot.ts";
import type { ResultRow } from "../../report/results.ts";
import { rocByScore, scoreHistogramFigure, sideBySide, stacked } from "../../report/score_views.ts";
import { formatNumber, summarize } from "../../report/table.ts";
import type { BaselinesConfig } from "./config.ts";
import type { BaselinesResult } from "./run.ts";

type Runs = BaselinesResult["runs"];

/** The key columns the baselines' summary groups by, ID dataset before score (so tables read per ID dataset). */
export const BASELINE_SUMMARY_KEYS = ["paper", "label", "backbone", "idDataset", "score", "profile", "selection"];

/** `summarize` grouped by {@linkcode BASELINE_SUMMARY_KEYS}: one group per ID dataset and score. */
export function summarizeBaselines(rows: readonly ResultRow[] | pl.DataFrame): pl.DataFrame {
  return summarize(rows, { by: BASELINE_SUMMARY_KEYS });
}

/** One row per run: ID dataset, seed, steps, training and final test accuracy, then the seconds of each stage. */
export function runsTable(runs: Runs): Table {
  const pct = (v: number | undefined) => formatNumber(v ?? null, 100, 2);
  const stages = [...new Set(runs.flatMap((r) => Object.keys(r.result.seconds)))];
  return new Table(
    [
      { key: "id", label: "ID", kind: "key" },
      { key: "seed", label: "Seed" },
      { key: "steps", label: "Steps" },
      { key: "train", label: "Train acc. % (last epoch)" },
      { key: "test", label: "Test acc. %" },
      { key: "trainS", label: "training (s)" },
      ...stages.map((s): Column => ({ key: s, label: `${s} (s)` })),
    ],
    runs.map(({ setting, seed, result: { training, seconds } }) => ({
      id: setting,
      seed: String(seed),
      steps: String(training.steps),
      train: pct(training.trainAccuracy),
      test: pct(training.history.findLast((p) => p.val_acc !== undefined)?.val_acc),
      trainS: training.seconds.toFixed(1),
      ...Object.fromEntries(stages.map((s) => [s, seconds[s]?.toFixed(1) ?? "—"])),
    })),
    { caption: "Runs: trained classifiers and scoring time" },
  );
}

/** The run of the first seed of each ID dataset (what the figures show). */
export function firstRuns(exp: BaselinesResult): Runs {
  return exp.runs.filter((r) => r.seed === exp.runs[0]!.seed);
}

/** Per ID dataset (first seed), the score histograms of `cfg.figures.histogramScores`, side by side. */
export function histogramFigures(exp: BaselinesResult, cfg: BaselinesConfig): Displayable {
  return stacked(
    firstRuns(exp).map(({ setting, seed, result }) =>
      sideBySide(
        cfg.figures.histogramScores.filter((s) => result.scores[s]).map((s) => ({
          title: `ID ${setting}: ${s}, seed ${seed}`,
          figure: scoreHistogramFigure(s, result.scores[s]!, { width: 440, facetHeight: 55 }),
        })),
      )
    ),
  );
}

/** ROC curves of every score against the first OOD set of each ID dataset (the other real dataset). */
export function rocFigures(exp: BaselinesResult, cfg: BaselinesConfig): Displayable {
  return sideBySide(
    firstRuns(exp).map(({ setting, seed, result }) => {
      const other = oodSetsFor(setting, cfg.oodDatasets)[0]!;
      return { title: `ID ${setting} vs ${other}, seed ${seed}`, figure: rocPlot(rocByScore(result.scores, other)) };
    }),
  );
}

/** Training curves of the first seed of each ID dataset. */
export async function curveFigures(exp: BaselinesResult): Promise<Displayable> {
  return sideBySide(
    await Promise.all(
      firstRuns(exp).map(async ({ setting, seed, result }) => ({
        title: `ID ${setting}, seed ${seed}`,
        figure: await trainingCurves(result.training.history, { width: 140, height: 120 }),
      })),
    ),
  );
}

/** 2-D PCA of the penultimate features of the first seed of each ID dataset. */
export function projectionFigures(exp: BaselinesResult): Displayable {
  return sideBySide(
    firstRuns(exp).map(({ setting, seed, result: { projection } }) => ({
      title: `ID ${setting}: penultimate features, seed ${seed}`,
      figure: projectionPlot(projection, projection.groups, { width: 440, height: 380 }),
    })),
    { cellWidth: 440 },
  );
}
