/**
 * From score values to tidy result rows (conventions C13): one row per (score, OOD set) with every metric of
 * `evaluate` as a fraction, and the classifier's ID test accuracy in each row.
 * @module
 */
import { evaluate, type FprRule } from "../../metrics/mod.ts";
import { type ResultRow, resultRow } from "../../report/results.ts";
import { summarize } from "../../report/table.ts";
import type pl from "nodejs-polars";
import type { RunScores } from "./score.ts";

/** What the rows of one run are about (everything but the score and the OOD set). */
export interface RunKey {
  /** Notebook / paper id, e.g. `"baselines"`. */
  paper: string;
  /** Training method, e.g. `"CE"`. */
  method: string;
  /** Backbone name. */
  backbone: string;
  /** ID dataset. */
  idDataset: string;
  /** Training seed. */
  seed: number;
}

/** Options of {@linkcode baselineRows}. */
export interface BaselineRowOptions {
  /** FPR@95 rule of the `fpr95` column; default `"sklearn"` (first ROC point with ID TPR ≥ 0.95). */
  fprRule?: FprRule;
  /** ID test labels and predicted classes, for the `idAccuracy` column. */
  idClassification?: { labels: ArrayLike<number>; predictions: ArrayLike<number> };
}

/**
 * One result row per score and OOD set, in score order then OOD-set order.
 * @example Usage
 * ```ts
 * import { baselineRows } from "@lib/methods/baselines/rows.ts";
 * const rows = baselineRows(
 *   { paper: "baselines", method: "CE", backbone: "lenet", idDataset: "mnist", seed: 0 },
 *   { msp: { id: Float32Array.of(0.9, 0.8), ood: { gaussian: Float32Array.of(0.1, 0.85) } } },
 * );
 * rows[0]!.auroc; // 0.75
 * ```
 */
export function baselineRows(key: RunKey, scores: RunScores, opts: BaselineRowOptions = {}): ResultRow[] {
  const rows: ResultRow[] = [];
  for (const [score, sets] of Object.entries(scores)) {
    if (!sets) continue;
    for (const [oodDataset, ood] of Object.entries(sets.ood)) {
      const r = evaluate(sets.id, ood, {
        fprRule: opts.fprRule ?? "sklearn",
        ...(opts.idClassification ? { idClassification: opts.idClassification } : {}),
      });
      rows.push(resultRow({ ...key, score, oodDataset }, r));
    }
  }
  return rows;
}

/** The key columns the baselines' summary groups by, ID dataset before score (so tables read per ID dataset). */
export const BASELINE_SUMMARY_KEYS = [
  "paper",
  "method",
  "backbone",
  "idDataset",
  "score",
  "profile",
  "selection",
] as const;

/**
 * `summarize` (mean and sample std over seeds, plus an `Average` over OOD sets) grouped by
 * {@linkcode BASELINE_SUMMARY_KEYS}: one group per ID dataset and score, in first-appearance order.
 */
export function summarizeBaselines(rows: readonly ResultRow[] | pl.DataFrame): pl.DataFrame {
  return summarize(rows, { by: BASELINE_SUMMARY_KEYS });
}
