/**
 * What the leaderboard entries share: the protocol's class split, sub-budgets scaled with the protocol's epochs,
 * the FPR rule of the rows, and the score records behind a paper runner's rows (per run for the post-hoc
 * baselines, CIDER and Unleashing Mask; per OOD set, merged where the ID scores agree, for VMDLS, ELOC and CMG).
 * @module
 */
import type { ClassSplitOption } from "../../experiment/class_split_option.ts";
import type { ScoreSets } from "../../experiment/score.ts";
import type { ResultRow } from "../../report/results.ts";
import type { FprRule } from "../../metrics/mod.ts";
import { DETECTORS } from "../../scores/mod.ts";
import type { LeaderboardProtocol, ScoreRecord } from "../types.ts";

/**
 * The FPR@95 rule (ID positive) of every row these entries return: one rule for every method, so the `fpr95`
 * column compares like with like (`fpr95OodPositive` is in every row too).
 */
export const LEADERBOARD_FPR_RULE: FprRule = "sklearn";

/** The protocol's near-OOD split: the first `knownClasses` classes are known (`loadEvalSets`' `vmdls` split). */
export function protocolClassSplit(protocol: Pick<LeaderboardProtocol, "knownClasses">): ClassSplitOption {
  return { protocol: "vmdls", fold: protocol.knownClasses };
}

/**
 * A sub-budget tied to the main one: `paperSub` epochs when the paper's recipe trains `paperMain`, scaled to
 * `epochs` and rounded, at least 1.
 * @example Usage
 * ```ts
 * import { scaledEpochs } from "@lib/leaderboard/entries/entry_utils.ts";
 * scaledEpochs(3, 2, 8); // 1
 * ```
 */
export function scaledEpochs(epochs: number, paperSub: number, paperMain: number): number {
  return Math.max(1, Math.round((epochs * paperSub) / paperMain));
}

/**
 * Display names that differ from the detector registry's labels (others: the registry's label, else the key as
 * it is): the leaderboard writes the ensemble without the registry's parentheses.
 */
export const SCORE_NAMES: Readonly<Record<string, string>> = {
  mahalanobisEnsemble: "Mahalanobis ensemble",
};

/** A leaderboard row label: the run's label and the score, e.g. `"CIDER (faithful) + KNN"`, `"CE + Energy"`. */
export function entryLabel(runLabel: string, score: string): string {
  const registered = (DETECTORS as Readonly<Record<string, { label: string } | undefined>>)[score]?.label;
  return `${runLabel} + ${SCORE_NAMES[score] ?? registered ?? score}`;
}

/** One run of a paper's grid, as far as the entries need it. */
export interface RunWithScores {
  seed: number;
  rows: readonly ResultRow[];
  result: { scores: Readonly<Record<string, ScoreSets>> };
}

/**
 * A run's rows relabelled per score ({@linkcode entryLabel}: the label is then distinct per method, variant and
 * score) and the score records behind them, one per score key of the run.
 */
export function entryRowsAndScores(
  runs: readonly RunWithScores[],
  idDataset: string,
): { rows: ResultRow[]; scores: ScoreRecord[] } {
  const rows: ResultRow[] = [], scores: ScoreRecord[] = [];
  for (const run of runs) {
    for (const row of run.rows) rows.push({ ...row, label: entryLabel(row.label, row.score) });
    const runLabel = run.rows[0]?.label;
    if (runLabel === undefined) continue;
    for (const [score, sets] of Object.entries(run.result.scores)) {
      scores.push({ label: entryLabel(runLabel, score), score, idDataset, seed: run.seed, sets });
    }
  }
  return { rows, scores };
}

/** Whether two score arrays hold the same values (same array, or equal element by element). */
function sameScores(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
  return true;
}

/**
 * The records of one (label, score) from its per-OOD-set scores (OOD set → `{ id, ood: { [set]: … } }`, each the
 * scores its row was computed on): one record when every OOD set's row used the same ID scores; otherwise — a
 * paper's faithful rule that re-normalises or re-selects per OOD set (VMDLS's test-set normalisation with the
 * reconstruction weighting, CMG's best-AUROC evaluation per OOD set) — one record per OOD set, each holding that
 * set's own ID scores, so that every record reproduces its row exactly.
 * @example Usage
 * ```ts
 * import { recordsOf } from "@lib/leaderboard/entries/entry_utils.ts";
 * const id = Float32Array.of(1, 2);
 * recordsOf({ label: "X", score: "x", idDataset: "mnist", seed: 0 }, {
 *   a: { id, ood: { a: Float32Array.of(0) } },
 *   b: { id, ood: { b: Float32Array.of(3) } },
 * }).length; // 1
 * ```
 */
export function recordsOf(
  key: Omit<ScoreRecord, "sets">,
  perOod: Readonly<Record<string, ScoreSets>>,
): ScoreRecord[] {
  const entries = Object.entries(perOod);
  if (entries.length === 0) return [];
  const id = entries[0]![1].id;
  if (entries.every(([, s]) => sameScores(s.id, id))) {
    const ood: ScoreSets["ood"] = {};
    for (const [name, s] of entries) ood[name] = s.ood[name]!;
    return [{ ...key, sets: { id, ood } }];
  }
  return entries.map(([name, s]) => ({ ...key, sets: { id: s.id, ood: { [name]: s.ood[name]! } } }));
}

/** Per-OOD-set view of one `ScoreSets` whose ID scores serve every OOD set. */
export function splitByOod(sets: ScoreSets): Record<string, ScoreSets> {
  return Object.fromEntries(
    Object.entries(sets.ood).map(([name, ood]) => [name, { id: sets.id, ood: { [name]: ood } }]),
  );
}
