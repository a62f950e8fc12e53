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
  /**
   * The method's predicted class of every image of each OOD set (in set order): an OOD image accepted as ID counts
   * as a false positive of the class it is predicted as. Without them `macroF1` is null.
   */
  oodPredictions?: Readonly<Record<string, ArrayLike<number>>>;
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
  /**
   * The threshold τ of the open-set metrics of one (score, OOD set); default {@linkcode tprThreshold} of the ID
   * test scores (95 % TPR on the test set). E.g. τ fixed on held-out images (`ScoreSets.heldOut`), or a paper's
   * own rule.
   */
  openSetThreshold?: (at: OpenSetThresholdContext) => number;
}

/** What {@linkcode ToRowsOptions.openSetThreshold} sees. */
export interface OpenSetThresholdContext {
  /** Score key. */
  score: string;
  oodDataset: string;
  /** The score's values (ID test, every OOD set, held-out when scored). */
  sets: ScoreSets;
  classification: IdClassification;
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
 * True and open-set predicted labels at threshold τ, ID images first, then OOD images (true class K): an image is
 * predicted as its closed-set class when its score is at least τ, else as K.
 */
export function openSetLabels(
  id: { scores: ArrayLike<number>; labels: ArrayLike<number>; predictions: ArrayLike<number> },
  ood: { scores: ArrayLike<number>; predictions: ArrayLike<number> },
  tau: number,
  numClasses: number,
): { yTrue: Int32Array; yPred: Int32Array } {
  const nId = id.scores.length, K = numClasses;
  const yTrue = new Int32Array(nId + ood.scores.length).fill(K), yPred = new Int32Array(yTrue.length);
  yTrue.set(id.labels);
  yPred.set(openSetPredictions(id.predictions, id.scores, tau, K));
  yPred.set(openSetPredictions(ood.predictions, ood.scores, tau, K), nId);
  return { yTrue, yPred };
}

/**
 * Open-set metrics of one (score, OOD set): every image is predicted as its closed-set class when its score is at
 * least τ (default the 95 %-TPR threshold of the ID scores), else as class K; ID images are correct when predicted as their label, OOD images
 * when predicted K. Macro-F1 averages the K + 1 per-class F1 scores (VMDLS's and CMG's open-set protocol; an
 * accepted OOD image is a false positive of its predicted class, as in VMDLS's `models/vae.py`); it needs the OOD
 * images' predicted classes (`oodPredictions`, else null). Scores of input-space detectors may cover only the
 * first images of a set: labels and predictions are cut to match.
 */
export function openSetMetrics(
  id: ArrayLike<number>,
  ood: ArrayLike<number>,
  c: IdClassification,
  oodPredictions?: ArrayLike<number>,
  tau: number = tprThreshold(id),
): { macroF1: number | null; openSetAccuracy: number } {
  const n = id.length, m = ood.length, K = c.numClasses;
  const { yTrue, yPred } = openSetLabels(
    { scores: id, labels: Array.from(c.labels).slice(0, n), predictions: Array.from(c.predictions).slice(0, n) },
    // Which known class an accepted OOD image gets does not change accuracy (it is wrong either way).
    { scores: ood, predictions: oodPredictions ? Array.from(oodPredictions).slice(0, m) : new Int32Array(m) },
    tau,
    K,
  );
  return {
    macroF1: oodPredictions ? macroF1(yTrue, yPred, { numClasses: K + 1 }) : null,
    openSetAccuracy: accuracy(yTrue, yPred),
  };
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
      const tau = c && opts.openSetThreshold
        ? opts.openSetThreshold({ score, oodDataset, sets, classification: c })
        : undefined;
      const openSet = c ? openSetMetrics(sets.id, ood, c, c.oodPredictions?.[oodDataset], tau) : undefined;
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
