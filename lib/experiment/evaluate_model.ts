/**
 * One trained model's evaluation in one call: the scoring pass over a list of detector specs, then its result
 * rows, with the setting's near/far groups, the seconds of each score, and the closed-set predictions of the ID
 * and OOD images (argmax of the logits unless the method classifies otherwise, e.g. with a linear probe).
 * @module
 */
import type { ResultRow } from "../report/results.ts";
import type { DetectorSpec } from "../scores/mod.ts";
import { argmaxRows } from "../scores/matrix.ts";
import type { NetOutputs } from "../scores/detector.ts";
import type { EvalSets } from "./eval_sets.ts";
import type { ExtractableModel } from "./outputs.ts";
import { type RunKey, toRows } from "./rows.ts";
import { scoreAll, type ScoreAllOptions, type ScoreTable } from "./score.ts";

/** Options of {@linkcode evaluateModel}: the scoring pass's, plus how rows are made. */
export interface EvaluateModelOptions extends ScoreAllOptions {
  /** FPR@95 rules, one row per rule (the paper's first). */
  fprRules: NonNullable<Parameters<typeof toRows>[2]>["fprRules"];
  /**
   * The method's closed-set classifier, built from the scoring pass (e.g. a linear probe fitted on the training
   * outputs): outputs of a set → predicted classes. Default: the argmax of the logits. It predicts the ID test set
   * (ID accuracy) and every OOD set (open-set macro-F1).
   */
  classifier?: (table: ScoreTable) => (outputs: NetOutputs) => Int32Array;
  /** τ of the open-set metrics per (score, OOD set) (`toRows`); default 95 % TPR on the ID test scores. */
  openSetThreshold?: NonNullable<Parameters<typeof toRows>[2]>["openSetThreshold"];
}

/**
 * Scores `model` on a setting's sets with `specs` and turns the scores into rows keyed by `key`.
 * @returns the scoring pass (scores, fitted states, outputs, seconds), the rows, and the ID predictions.
 * @example Usage
 * ```ts ignore
 * const { rows } = await evaluateModel(net, sets, [{ use: "msp" }], key, { batchSize: 500, seed, fprRules: ["sklearn"] });
 * ```
 */
export async function evaluateModel(
  model: ExtractableModel,
  sets: Pick<EvalSets, "train" | "test" | "ood" | "heldOut" | "oodGroups">,
  specs: readonly DetectorSpec[],
  key: RunKey,
  opts: EvaluateModelOptions,
): Promise<{ table: ScoreTable; rows: ResultRow[]; predictions: Int32Array }> {
  const { fprRules, classifier, openSetThreshold, ...pass } = opts;
  const table = await scoreAll(model, sets, specs, pass);
  const test = table.outputs.test;
  const classify = classifier ? classifier(table) : (o: NetOutputs) => argmaxRows(o.logits);
  const predictions = classify(test);
  const oodPredictions = Object.fromEntries(Object.entries(table.outputs.ood).map(([k, o]) => [k, classify(o)]));
  const rows = toRows(key, table.scores, {
    fprRules,
    classification: { labels: test.labels, predictions, numClasses: sets.test.classes.length, oodPredictions },
    oodGroups: sets.oodGroups,
    scoreSeconds: table.seconds,
    ...(openSetThreshold ? { openSetThreshold } : {}),
  });
  return { table, rows, predictions };
}
