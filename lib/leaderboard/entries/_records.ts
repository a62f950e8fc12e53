/**
 * Shared by the paper entries (VMDLS, ELOC, CMG): the `ScoreRecord`s behind a runner's rows, and the protocol's
 * split into a paper's per-OOD scores.
 * @module
 */
import type { ScoreSets } from "../../experiment/score.ts";
import type { ScoreRecord } from "../types.ts";

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
 * import { recordsOf } from "@lib/leaderboard/entries/_records.ts";
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
