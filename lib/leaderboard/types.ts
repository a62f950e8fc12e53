/**
 * The leaderboard's shared types (issue 16): one protocol every method runs under, what a method's run hands back
 * (result rows, the scores behind them for the bootstrap, and its cost), and the registry shape of the entries.
 *
 * The protocol fixes the ID data, the class split that makes the near-OOD set, the far-OOD sets, the backbone
 * family and width, the training budget and the seeds; each entry maps it onto its paper's own config (its own
 * hyperparameters as its paper sets them) and calls that paper's runner, so the numbers come from the same code as
 * the paper notebooks.
 * @module
 */
import type { BackboneName } from "../backbones/mod.ts";
import type { DatasetName } from "../datasets/registry.ts";
import type { ScoreSets } from "../experiment/score.ts";
import type { ResultRow } from "../report/results.ts";

/** The protocol every leaderboard entry runs under. */
export interface LeaderboardProtocol {
  /** ID datasets; each is one setting. */
  idDatasets: readonly DatasetName[];
  /**
   * Near-OOD: the first `knownClasses` classes of the ID dataset are trained on (labels kept), the others' test
   * images are the near-OOD set `<id>:unseen` (`loadEvalSets`' class split `{ protocol: "vmdls", fold:
   * knownClasses }`: "the first class_num classes are known").
   */
  knownClasses: number;
  /** Far-OOD sets (other datasets, noise, transformed images), by registry name; the ID dataset itself is skipped. */
  farOod: readonly DatasetName[];
  /**
   * Other datasets that count as near-OOD besides the held-out classes (e.g. CIFAR-100 against CIFAR-10, as OpenOOD
   * groups it); entries load them with the far-OOD sets and the leaderboard files their rows under near. Default none.
   */
  nearOod?: readonly DatasetName[];
  /** The backbone family every entry uses, and its width multiplier. */
  backbone: BackboneName;
  width: number;
  /** Training budget: epochs over the training images, batch size (images seen = epochs × training images). */
  epochs: number;
  batchSize: number;
  /** Training-split images before the class split (seeded subset; null = all). */
  trainLimit: number | null;
  /** Test images before the class split (seeded subset; null = all). */
  nTest: number | null;
  /** Images per far-OOD set (seeded subset; null = all). */
  nOod: number | null;
  seeds: readonly number[];
  /** Seed of the data subsets (the same for every training seed). */
  dataSeed: number;
  /** Images per forward pass when scoring. */
  evalBatchSize: number;
}

/**
 * The scores behind result rows: one (method, variant, score) of one (ID dataset, seed), for every OOD set — or,
 * for a variant that selects its model per OOD set (so its ID scores differ by set), one record per OOD set.
 */
export interface ScoreRecord {
  /** The row label the scores belong to (`ResultRow.label`), e.g. `"CIDER (faithful)"`, `"CE + Energy"`. */
  label: string;
  /** `ResultRow.score`. */
  score: string;
  /** `ResultRow.idDataset`. */
  idDataset: string;
  seed: number;
  /** The ID test scores and every OOD set's (near and far), higher = more in-distribution. */
  sets: ScoreSets;
}

/** What running one entry on one (ID dataset, seed) returns. */
export interface EntryResult {
  /** Result rows (the shared schema; `paper` = the entry's paper, `label` distinct per method / variant / score). */
  rows: ResultRow[];
  /** The scores of every row's (label, score), for bootstrap intervals. */
  scores: ScoreRecord[];
  /** Wall-clock seconds of training (all networks the entry trains for this seed). */
  trainSeconds: number;
  /** Training images processed (forward + backward), summed over every network and epoch. */
  imagesSeen: number;
  /** Wall-clock seconds of scoring the ID and OOD test sets (all scores). */
  scoreSeconds: number;
  /** What this entry changed from the protocol or its paper to run here (shown under the table). */
  notes: string[];
}

/** One leaderboard entry: a paper's method (or the post-hoc baselines) run under the protocol. */
export interface LeaderboardEntry {
  /** Paper id (`ResultRow.paper`): `baselines`, `vmdls`, `eloc`, `cmg`, `unleashing_mask`, `cider`. */
  paper: string;
  /** Display name, e.g. "CIDER (Ming et al., ICLR'23)". */
  title: string;
  /** Runs the entry on one ID dataset and seed of the protocol. */
  run(protocol: LeaderboardProtocol, idDataset: DatasetName, seed: number): Promise<EntryResult>;
}
