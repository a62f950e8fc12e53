/**
 * The optional class split of a paper config (the leaderboard's near-OOD protocol, issue 16): train and test keep
 * the split's seen classes (re-labelled 0..k−1), the unseen classes' test images become the near-OOD set
 * `<id>:unseen` (`loadEvalSets`' `classSplit`). Paper notebooks leave it unset, so their sets do not change.
 * @module
 */
import { CLASS_SPLITS, type ClassSplitName } from "../datasets/splits.ts";
import { type DatasetName, DATASETS } from "../datasets/registry.ts";

/** A config's class split: a protocol of `CLASS_SPLITS` and its fold (VMDLS: the number of known classes). */
export interface ClassSplitOption {
  protocol: ClassSplitName;
  fold: number;
}

/**
 * Why `split` cannot be applied to every dataset of `idDatasets` (an unknown protocol, a fold the protocol does
 * not define, fewer than two seen or no unseen classes), or null when it can (or when there is no split).
 * @example Usage
 * ```ts
 * import { classSplitProblem } from "@lib/experiment/class_split_option.ts";
 * classSplitProblem({ protocol: "vmdls", fold: 5 }, ["mnist"]); // null
 * classSplitProblem({ protocol: "vmdls", fold: 10 }, ["mnist"]); // "classSplit leaves no unseen class of mnist …"
 * ```
 */
export function classSplitProblem(
  split: ClassSplitOption | null | undefined,
  idDatasets: readonly DatasetName[],
): string | null {
  if (!split) return null;
  const names = Object.keys(CLASS_SPLITS);
  if (!names.includes(split.protocol)) {
    return `classSplit.protocol "${split.protocol}" is unknown. Valid: ${names.join(", ")}.`;
  }
  for (const id of idDatasets) {
    const n = DATASETS[id].numClasses;
    const folds = CLASS_SPLITS[split.protocol].folds(n);
    if (!folds.includes(split.fold)) {
      return `classSplit.fold ${split.fold} is not a "${split.protocol}" fold of ${id} (${n} classes). ` +
        `Valid: ${folds.join(", ")}.`;
    }
    let parts;
    try {
      parts = CLASS_SPLITS[split.protocol].split(split.fold, n);
    } catch (e) {
      return `classSplit does not apply to ${id}: ${(e as Error).message}`;
    }
    if (parts.seen.length < 2) return `classSplit leaves fewer than 2 seen classes of ${id}`;
    if (parts.unseen.length === 0) return `classSplit leaves no unseen class of ${id} (no near-OOD set)`;
  }
  return null;
}
