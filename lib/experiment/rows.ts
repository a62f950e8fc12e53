/**
 * From scores to result rows (conventions C13): one row per (score, OOD set, FPR rule) with every metric of
 * `evaluate` as a fraction, the ID accuracy and the open-set classification metrics when the method classifies.
 * @module
 */
import { evaluate, type FprRule } from "../metrics/mod.ts";
import { accuracy, macroF1, openSetPredictions } from "../metrics/classification.ts";
import { type OodGroup, type ResultKey, type ResultRow, resultRow } from "../report/results.ts";
import type { ScoreSets } from "./score.ts";

/** What the rows of one trained model are about (everything but the score, the OOD set and the rule). */
export type RunKey = Omit<ResultKey, "score" | "oodDataset" | "oodGroup" | "scoreSeconds">;

/** ID test labels and the method's predicted classes (argmax of the logits, or a probe's). */
export interface IdClassification {
  labels: ArrayLike<number>;
  predictions: ArrayLike<number>;
  /** Known classes K (the OOD class of the open-set metrics is K). */
  numClasses: number;
}

/** Options of {@linkcode toRows}. */
export interface ToRowsOptions {
  /** FPR@95 rules: one row per rule (the first is the paper's); default `["sklearn"]`. */
  fprRules?: readonly FprRule[];
  /** For `idAccuracy`, `macroF1` and `openSetAccuracy`; those are null without it. */
  classification?: IdClassification;
  /** OOD set → near / far; default far. */
  oodGroups?: Readonly<Record<string, OodGroup>>;
  /** Score key → seconds spent on it (the rows' `scoreSeconds`). */
  scoreSeconds?: Readonly<Record<string, number>>;
}

/**
 * The threshold that accepts 95 % of the ID scores as ID (the lowest score among the top 95 %, i.e. the
 * ⌈0.95·n⌉-th largest), used for the open-set metrics.
 */
export function tprThreshold(id: ArrayLike<number>, tpr = 0.95): number {
  const sorted = Float64Array.from(id).sort();
  const accepted = Math.ceil(tpr * sorted.length);
  return sorted[sorted.length - accepted] ?? Infinity;
}

/**
 * Open-set metrics of one (score, OOD set): ID images are predicted as their class when their score is at least
 * the 95 %-TPR threshold, else as class K; OOD images are correct when predicted K. Macro-F1 averages the K + 1
 * per-class F1 scores (VMDLS's and CMG's open-set protocol). Scores of input-space detectors may cover only the
 * first images of the ID set: the labels are cut to match.
 */
export function openSetMetrics(
  id: ArrayLike<number>,
  ood: ArrayLike<number>,
  c: IdClassification,
): { macroF1: number; openSetAccuracy: number } {
  const n = id.length, K = c.numClasses;
  const tau = tprThreshold(id);
  const idPred = openSetPredictions(Array.from(c.predictions).slice(0, n), id, tau, K);
  const oodPred = openSetPredictions(new Int32Array(ood.length), ood, tau, K);
  const yTrue = Int32Array.from([...Array.from(c.labels).slice(0, n), ...new Array<number>(ood.length).fill(K)]);
  const yPred = Int32Array.from([...idPred, ...oodPred]);
  return { macroF1: macroF1(yTrue, yPred, { numClasses: K + 1 }), openSetAccuracy: accuracy(yTrue, yPred) };
}

/**
 * One result row per score (in score order), OOD set and FPR rule.
 * @example Usage
 * ```ts ignore
 * const rows = toRows({ paper: "baselines", method: "ce", backbone: "lenet", idDataset: "mnist", seed: 0 },
 *   { msp: { id: Float32Array.of(0.9, 0.8), ood: { gaussian: Float32Array.of(0.1, 0.85) } } });
 * rows[0]!.auroc; // 0.75
 * ```
 */
export function toRows(
  key: RunKey,
  scores: Readonly<Record<string, ScoreSets>>,
  opts: ToRowsOptions = {},
): ResultRow[] {
  const rules = opts.fprRules ?? ["sklearn"];
  const c = opts.classification;
  const rows: ResultRow[] = [];
  for (const [score, sets] of Object.entries(scores)) {
    for (const [oodDataset, ood] of Object.entries(sets.ood)) {
      const openSet = c ? openSetMetrics(sets.id, ood, c) : undefined;
      for (const fprRule of rules) {
        const r = evaluate(sets.id, ood, { fprRule, ...(c ? { idClassification: c } : {}) });
        rows.push(resultRow(
          {
            ...key,
            score,
            oodDataset,
            oodGroup: opts.oodGroups?.[oodDataset] ?? "far",
            scoreSeconds: opts.scoreSeconds?.[score] ?? null,
          },
          r,
          openSet,
        ));
      }
    }
  }
  return rows;
}
