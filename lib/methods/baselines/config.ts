/**
 * The configuration type of the post-hoc baselines notebook (`notebooks/00_baselines.ipynb`, conventions C7):
 * the notebook's config cell is one literal that `satisfies BaselinesConfig`, with its sizes picked per run
 * profile by `byProfile`. {@link checkBaselinesConfig} rejects inconsistent values with a message that lists the
 * valid ones.
 * @module
 */
import type { TrainRecipe } from "../../train/classifier.ts";
import { configChecks } from "../../experiment/config_check.ts";
import { type ClassSplitOption, classSplitProblem } from "../../experiment/class_split_option.ts";
import { type BackboneName, isBackboneName } from "../../backbones/mod.ts";
import { type DatasetName, DATASETS } from "../../datasets/mod.ts";
import { FPR_RULES, type FprRule } from "../../metrics/mod.ts";
import { DETECTOR_NAMES, type DetectorName, DETECTORS } from "../../scores/mod.ts";

/** The ID datasets a baseline classifier is trained on: the embedded, labelled sets. */
export const BASELINE_ID_DATASETS = ["mnist", "fashion_mnist"] as const;

/** An ID dataset of the baselines notebook. */
export type BaselineIdDataset = typeof BASELINE_ID_DATASETS[number];

/** Options of the scores that have any (the others run with their registry defaults). */
export interface BaselineScoreOptions {
  /** Energy: S = T·logsumexp(f/T). */
  energy: { temperature: number };
  /**
   * ODIN: temperature T and perturbation ε (in [0, 1]-pixel units: the sign gradient is divided by the
   * normalization std). `limit` caps the ID images and the images per OOD set that ODIN scores (the first
   * `limit` of each evaluation set; ODIN runs a forward and backward pass per image); `null` = all.
   */
  odin: { temperature: number; epsilon: number; limit: number | null };
  /** KNN: K, and the bank size (the first `bankSize` of the fit images; `null` = all of them). */
  knn: { k: number; bankSize: number | null };
  /** Mahalanobis (and the multi-layer ensemble): shrinkage of the tied covariance towards the isotropic one. */
  mahalanobis: { shrinkage: number };
}

/** The config literal of `notebooks/00_baselines.ipynb`. */
export interface BaselinesConfig extends BaselineScoreOptions {
  /** One classifier per ID dataset (and seed). */
  idDatasets: readonly BaselineIdDataset[];
  /**
   * OOD sets, by registry name; the ID dataset itself is skipped, synthetic and transformed sets imitate the ID
   * dataset's test split (`like`).
   */
  oodDatasets: readonly DatasetName[];
  /** Training seeds: weight initialisation and batch order. Every seed is scored on the same evaluation sets. */
  seeds: readonly number[];
  /** Seed of the evaluation subsets and of the synthetic OOD sets. */
  dataSeed: number;
  /** Backbone registry name. */
  backbone: BackboneName;
  /** Backbone width multiplier. */
  width: number;
  /** How the classifier is trained. */
  train: TrainRecipe;
  /** ID test images (a seeded subset of the test split). */
  nTest: number;
  /** Images per OOD set. */
  nOod: number;
  /** Training images whose features fit Mahalanobis and KNN (a seeded subset; `null` = all training images). */
  fitLimit: number | null;
  /** Images per forward pass when extracting features and logits. */
  evalBatchSize: number;
  /**
   * Scores to run, by detector registry id (generic detectors only); `mahalanobisEnsemble` is skipped when the
   * backbone has no `featureList`.
   */
  scores: readonly DetectorName[];
  /** FPR@95 %TPR rule of the `fpr95` column (ID positive). */
  fprRule: FprRule;
  /** What the figures show. */
  figures: {
    /** Scores whose ID-vs-OOD histograms are drawn. */
    histogramScores: readonly DetectorName[];
    /** Images per set in the 2-D feature projection. */
    projectionPerSet: number;
  };
  /**
   * Optional class split (the leaderboard's near-OOD protocol): the seen classes are trained on (labels 0..k−1),
   * the unseen classes' test images are the near-OOD set `<id>:unseen`. Absent / null = none (the notebook).
   */
  classSplit?: ClassSplitOption | null;
}

/**
 * Throws when the config is inconsistent (unknown names, non-positive sizes, figure scores that are not run),
 * naming the field and the valid values; returns the config otherwise.
 */
export function checkBaselinesConfig<C extends BaselinesConfig>(cfg: C): C {
  const c = configChecks("BaselinesConfig");
  const t = cfg.train, { knn, odin } = cfg;
  c.list(cfg.idDatasets, "idDatasets", BASELINE_ID_DATASETS);
  c.list(cfg.oodDatasets, "oodDatasets", Object.keys(DATASETS));
  c.list(cfg.seeds, "seeds");
  if (!isBackboneName(cfg.backbone)) c.fail(`backbone "${cfg.backbone}" is unknown`);
  c.positive(cfg.width, "width");
  c.positive(t.lr, "train.lr");
  for (
    const [name, v] of Object.entries({ "train.epochs": t.epochs, "train.batchSize": t.batchSize, nTest: cfg.nTest })
  ) {
    c.posInt(v, name);
  }
  for (const [name, v] of Object.entries({ "train.logEvery": t.logEvery, nOod: cfg.nOod, "knn.k": knn.k })) {
    c.posInt(v, name);
  }
  c.posInt(cfg.evalBatchSize, "evalBatchSize");
  c.posInt(cfg.figures.projectionPerSet, "figures.projectionPerSet");
  for (const [name, v] of Object.entries({ "train.trainLimit": t.trainLimit, fitLimit: cfg.fitLimit })) {
    c.posInt(v, name, true);
  }
  c.posInt(odin.limit, "odin.limit", true);
  c.posInt(knn.bankSize, "knn.bankSize", true);
  if (knn.bankSize !== null && knn.k > knn.bankSize) c.fail(`knn.k = ${knn.k} exceeds knn.bankSize = ${knn.bankSize}`);
  c.inRange(cfg.mahalanobis.shrinkage, "mahalanobis.shrinkage", 0, 1);
  const generic = DETECTOR_NAMES.filter((n) => !(DETECTORS[n] as { paper?: string }).paper);
  c.list(cfg.scores, "scores", generic);
  for (const s of cfg.figures.histogramScores) {
    if (!cfg.scores.includes(s)) c.fail(`figures.histogramScores has "${s}", which is not in scores`);
  }
  c.oneOf(cfg.fprRule, "fprRule", FPR_RULES);
  const split = classSplitProblem(cfg.classSplit, cfg.idDatasets);
  if (split) c.fail(split);
  return cfg;
}
