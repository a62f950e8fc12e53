/**
 * Class-split protocols, as data: which classes are "seen" (in-distribution, trained on) and which "unseen"
 * (held out as OOD) in each paper's open-set setting.
 *
 * - **CMG** (Setting 1, MNIST and CIFAR-10): 6 seen / 4 unseen, partitions 1–5 with seen classes
 *   {0..5}, {1..6}, {2..7}, {3..8}, {4..9} (papers.md §4d). Seen labels are the position in the seen list,
 *   as CMG's `class_idx.index(label)`.
 * - **ELOC** (CIFAR-10/100): classes permuted by `np.random.seed(3); np.random.permutation(C)`, cut into 5 folds
 *   of C/5; fold k leaves out `perm[(k−1)·C/5 : k·C/5]`; the remaining classes keep permutation order and are
 *   re-indexed by position in it (as ELOC's `In_classes.index(label)`). The permutations are stored below and
 *   checked against a port of NumPy's generator in the tests.
 * - **VMDLS** (`class_num`): known = classes `0..class_num−1`, unknown = the rest.
 *
 * Every split re-indexes labels: the seen dataset's labels are positions in `seen`, the unseen dataset's labels
 * positions in `unseen`; each dataset's `classes` lists the names in that order.
 * @module
 */
import { numpyLegacyPermutation } from "../data/mt19937.ts";
import { subsetDataset } from "./subset.ts";
import type { Dataset } from "./types.ts";

/** A partition of class ids into seen (ID) and unseen (OOD) lists; the list order defines the new labels. */
export interface ClassSplit {
  /** In-distribution classes; new label = position here. */
  seen: readonly number[];
  /** Held-out (OOD) classes; new label = position here. */
  unseen: readonly number[];
}

/** The result of applying a `ClassSplit` to a dataset. */
export interface SeenUnseen {
  /** Images of the seen classes, re-labelled. */
  seen: Dataset;
  /** Images of the unseen classes, re-labelled. */
  unseen: Dataset;
  /** The split that was applied. */
  split: ClassSplit;
}

/** CMG Setting 1 partitions: seen classes of partitions 1–5 (MNIST and CIFAR-10). */
export const CMG_PARTITIONS = {
  1: [0, 1, 2, 3, 4, 5],
  2: [1, 2, 3, 4, 5, 6],
  3: [2, 3, 4, 5, 6, 7],
  4: [3, 4, 5, 6, 7, 8],
  5: [4, 5, 6, 7, 8, 9],
} as const satisfies Record<number, readonly number[]>;

/** ELOC's class permutations, `np.random.seed(3); np.random.permutation(C)` for C = 10 and 100. */
export const ELOC_CLASS_PERMUTATIONS = {
  10: [5, 4, 1, 2, 9, 6, 7, 0, 3, 8],
  100: [
    93,
    67,
    6,
    64,
    96,
    83,
    98,
    42,
    25,
    15,
    77,
    9,
    71,
    97,
    34,
    75,
    82,
    23,
    59,
    45,
    73,
    12,
    8,
    4,
    79,
    86,
    17,
    65,
    47,
    50,
    30,
    5,
    13,
    31,
    88,
    11,
    58,
    85,
    32,
    40,
    16,
    27,
    35,
    36,
    92,
    90,
    78,
    76,
    68,
    46,
    53,
    70,
    80,
    61,
    18,
    91,
    57,
    95,
    54,
    55,
    28,
    52,
    84,
    89,
    49,
    87,
    37,
    48,
    33,
    43,
    7,
    62,
    99,
    29,
    69,
    51,
    1,
    60,
    63,
    2,
    66,
    22,
    81,
    26,
    14,
    39,
    44,
    20,
    38,
    94,
    10,
    41,
    74,
    19,
    21,
    0,
    72,
    56,
    3,
    24,
  ],
} as const satisfies Record<number, readonly number[]>;

/** ELOC's validation hold-out: the first 1 000 of `np.random.seed(3); permutation(n)` (ID test and iSUN). */
export const ELOC_HOLDOUT = { seed: 3, valCount: 1000 } as const;

/** A CMG partition (1–5) of 10 classes; unseen = the other classes, ascending. */
export function cmgSplit(partition: keyof typeof CMG_PARTITIONS): ClassSplit {
  const seen = CMG_PARTITIONS[partition];
  if (!seen) throw new Error(`CMG partition must be 1..5, got ${partition}`);
  return { seen, unseen: complement(seen, 10) };
}

/**
 * ELOC fold `fold` (1–5) for 10 or 100 classes (the reference's seed-3 permutation, C/5 classes per fold).
 *
 * Other class counts (`numClasses` ≥ 5, e.g. the leaderboard's k known classes; not in the reference, whose folds
 * exist for CIFAR-10/100 only): classes 0 … C−1 in their own order (no permutation) cut into 5 contiguous groups,
 * the first C mod 5 groups one class larger; C = 5 is leave-one-class-out.
 */
export function elocSplit(fold: number, numClasses: number): ClassSplit {
  if (!Number.isInteger(fold) || fold < 1 || fold > 5) throw new Error(`ELOC fold must be 1..5, got ${fold}`);
  const perm: readonly number[] | undefined =
    ELOC_CLASS_PERMUTATIONS[numClasses as keyof typeof ELOC_CLASS_PERMUTATIONS];
  if (perm) {
    const m = numClasses / 5;
    const unseen = perm.slice((fold - 1) * m, fold * m);
    return { seen: perm.filter((c) => !unseen.includes(c)), unseen };
  }
  if (!Number.isInteger(numClasses) || numClasses < 5) {
    throw new Error(`ELOC splits need ≥ 5 classes (5 leave-out folds), got ${numClasses}`);
  }
  const size = (g: number) => Math.floor(numClasses / 5) + (g < numClasses % 5 ? 1 : 0);
  let start = 0;
  for (let g = 0; g < fold - 1; g++) start += size(g);
  const all = Array.from({ length: numClasses }, (_, c) => c);
  const unseen = all.slice(start, start + size(fold - 1));
  return { seen: all.filter((c) => !unseen.includes(c)), unseen };
}

/** VMDLS `class_num`: known = 0..classNum−1, unknown = classNum..numClasses−1. */
export function vmdlsSplit(classNum: number, numClasses: number): ClassSplit {
  if (!Number.isInteger(classNum) || classNum < 1 || classNum > numClasses) {
    throw new Error(`VMDLS class_num must be in 1..${numClasses}, got ${classNum}`);
  }
  const all = Array.from({ length: numClasses }, (_, i) => i);
  return { seen: all.slice(0, classNum), unseen: all.slice(classNum) };
}

function complement(seen: readonly number[], numClasses: number): number[] {
  return Array.from({ length: numClasses }, (_, i) => i).filter((c) => !seen.includes(c));
}

/**
 * Splits `ds` into seen and unseen datasets with re-indexed labels (original order of images kept).
 * Images whose class is in neither list are dropped.
 * @example Usage
 * ```ts
 * import { loadMnist } from "@lib/datasets/mnist.ts";
 * import { cmgSplit, splitByClasses } from "@lib/datasets/splits.ts";
 * const { seen, unseen } = splitByClasses(loadMnist("test"), cmgSplit(2)); // seen: digits 1..6 labelled 0..5
 * ```
 */
export function splitByClasses(ds: Dataset, split: ClassSplit): SeenUnseen {
  const all = [...split.seen, ...split.unseen];
  if (new Set(all).size !== all.length) throw new Error(`class split lists a class twice: ${all.join(", ")}`);
  const nc = ds.classes.length;
  for (const c of all) {
    if (!Number.isInteger(c) || c < 0 || c >= nc) {
      throw new Error(`class ${c} does not exist in ${ds.name} (0..${nc - 1})`);
    }
  }
  const part = (list: readonly number[], tag: string): Dataset => {
    const pos = new Map(list.map((c, i) => [c, i]));
    const idx: number[] = [];
    for (let i = 0; i < ds.labels.length; i++) if (pos.has(ds.labels[i]!)) idx.push(i);
    const sub = subsetDataset(ds, idx, `${ds.name}[${tag} ${list.join(",")}]`);
    for (let i = 0; i < sub.labels.length; i++) sub.labels[i] = pos.get(sub.labels[i]!)!;
    sub.classes = list.map((c) => ds.classes[c]!);
    return sub;
  };
  return { seen: part(split.seen, "seen"), unseen: part(split.unseen, "unseen"), split };
}

/** ELOC's hold-out as indices into a set of `n` images: `val` = first 1 000 of the seed-3 permutation, `test` = the rest. */
export function elocHoldout(n: number): { val: Int32Array; test: Int32Array } {
  const p = numpyLegacyPermutation(n, ELOC_HOLDOUT.seed);
  return { val: p.slice(0, ELOC_HOLDOUT.valCount), test: p.slice(ELOC_HOLDOUT.valCount) };
}

/** A class-split protocol: its folds and how each fold splits a dataset with `numClasses` classes. */
export interface ClassSplitProtocol {
  /** One line for humans. */
  description: string;
  /** Registry names it applies to. */
  datasets: readonly string[];
  /** Valid fold/partition/class_num values per number of classes. */
  folds: (numClasses: number) => readonly number[];
  /** The split for one fold / partition / class_num. */
  split: (fold: number, numClasses: number) => ClassSplit;
}

/** The three protocols, by name. */
export const CLASS_SPLITS = {
  cmg: {
    description: "CMG Setting 1: 6 seen / 4 unseen, partitions 1–5",
    datasets: ["mnist", "cifar10"],
    folds: (_numClasses) => [1, 2, 3, 4, 5],
    split: (fold, numClasses) => {
      if (numClasses !== 10) throw new Error(`CMG partitions are defined for 10 classes, got ${numClasses}`);
      return cmgSplit(fold as keyof typeof CMG_PARTITIONS);
    },
  },
  eloc: {
    description: "ELOC: 5 leave-out folds of a seed-3 NumPy class permutation",
    datasets: ["cifar10", "cifar100"],
    folds: (_numClasses) => [1, 2, 3, 4, 5],
    split: (fold, numClasses) => elocSplit(fold, numClasses),
  },
  vmdls: {
    description: "VMDLS class_num: the first class_num classes are known",
    datasets: ["mnist", "cifar10", "cifar100"],
    folds: (numClasses) => Array.from({ length: numClasses }, (_, i) => i + 1),
    split: (classNum, numClasses) => vmdlsSplit(classNum, numClasses),
  },
} as const satisfies Record<string, ClassSplitProtocol>;

/** A key of {@linkcode CLASS_SPLITS}. */
export type ClassSplitName = keyof typeof CLASS_SPLITS;

/** Applies protocol `name` with `fold` (CMG partition, ELOC fold, or VMDLS class_num) to `ds`. */
export function applyClassSplit(ds: Dataset, name: ClassSplitName, fold: number): SeenUnseen {
  const proto: ClassSplitProtocol = CLASS_SPLITS[name];
  if (!proto) throw new Error(`Unknown class split "${name}". Valid: ${Object.keys(CLASS_SPLITS).join(", ")}.`);
  return splitByClasses(ds, proto.split(fold, ds.classes.length));
}
