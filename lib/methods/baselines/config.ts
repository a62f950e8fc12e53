/**
 * The configuration type of the post-hoc baselines notebook (`notebooks/00_baselines.ipynb`, conventions C7):
 * the notebook's config cell is one literal that `satisfies BaselinesConfig`, with its sizes picked per run
 * profile by `byProfile`. {@link checkBaselinesConfig} rejects inconsistent values with a message that lists the
 * valid ones.
 * @module
 */
import { type BackboneName, isBackboneName } from "../../backbones/mod.ts";
import { type DatasetName, DATASETS } from "../../datasets/mod.ts";
import { FPR_RULES, type FprRule } from "../../metrics/mod.ts";
import { SCORE_NAMES, type ScoreName } from "../../scores/mod.ts";

/** The ID datasets a baseline classifier is trained on: the embedded, labelled sets. */
export const BASELINE_ID_DATASETS = ["mnist", "fashion_mnist"] as const;

/** An ID dataset of the baselines notebook. */
export type BaselineIdDataset = typeof BASELINE_ID_DATASETS[number];

/** The standard training recipe: cross-entropy, SGD with momentum, cosine learning rate per step. */
export interface TrainRecipe {
  /** Epochs over the training images. */
  epochs: number;
  /** Images per optimizer step. */
  batchSize: number;
  /** Peak learning rate (cosine-annealed to 0 over all steps). */
  lr: number;
  /** SGD momentum (PyTorch semantics). */
  momentum: number;
  /** Coupled L2 weight decay. */
  weightDecay: number;
  /** Training images used (a seeded random subset); `null` = all of them. */
  trainLimit: number | null;
  /** Optimizer steps between two points of the training curve. */
  logEvery: number;
}

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
  /** Scores to run, by registry name; `mahalanobisEnsemble` is skipped when the backbone has no `featureList`. */
  scores: readonly ScoreName[];
  /** FPR@95 %TPR rule of the `fpr95` column (ID positive). */
  fprRule: FprRule;
  /** What the figures show. */
  figures: {
    /** Scores whose ID-vs-OOD histograms are drawn. */
    histogramScores: readonly ScoreName[];
    /** Images per set in the 2-D feature projection. */
    projectionPerSet: number;
  };
}

/**
 * Throws when the config is inconsistent (unknown names, non-positive sizes, figure scores that are not run),
 * naming the field and the valid values; returns the config otherwise.
 */
export function checkBaselinesConfig<C extends BaselinesConfig>(cfg: C): C {
  const fail = (msg: string): never => {
    throw new Error(`BaselinesConfig: ${msg}`);
  };
  const posInt = (v: number, name: string) => {
    if (!Number.isInteger(v) || v < 1) fail(`${name} must be a positive integer, got ${v}`);
  };
  const optLimit = (v: number | null, name: string) => v === null || posInt(v, name);
  if (cfg.idDatasets.length === 0) fail("idDatasets is empty");
  for (const id of cfg.idDatasets) {
    if (!(BASELINE_ID_DATASETS as readonly string[]).includes(id)) {
      fail(`unknown ID dataset "${id}". Valid: ${BASELINE_ID_DATASETS.join(", ")}.`);
    }
  }
  for (const name of cfg.oodDatasets) {
    if (!Object.hasOwn(DATASETS, name)) {
      fail(`unknown OOD dataset "${name}". Valid: ${Object.keys(DATASETS).join(", ")}.`);
    }
  }
  if (cfg.seeds.length === 0) fail("seeds is empty");
  if (new Set(cfg.seeds).size !== cfg.seeds.length) fail(`seeds repeat: ${cfg.seeds.join(", ")}`);
  if (!isBackboneName(cfg.backbone)) fail(`unknown backbone "${cfg.backbone}"`);
  if (!(cfg.width > 0)) fail(`width must be > 0, got ${cfg.width}`);
  posInt(cfg.train.epochs, "train.epochs");
  posInt(cfg.train.batchSize, "train.batchSize");
  posInt(cfg.train.logEvery, "train.logEvery");
  optLimit(cfg.train.trainLimit, "train.trainLimit");
  if (!(cfg.train.lr > 0)) fail(`train.lr must be > 0, got ${cfg.train.lr}`);
  posInt(cfg.nTest, "nTest");
  posInt(cfg.nOod, "nOod");
  optLimit(cfg.fitLimit, "fitLimit");
  posInt(cfg.evalBatchSize, "evalBatchSize");
  optLimit(cfg.odin.limit, "odin.limit");
  posInt(cfg.knn.k, "knn.k");
  optLimit(cfg.knn.bankSize, "knn.bankSize");
  if (cfg.knn.bankSize !== null && cfg.knn.k > cfg.knn.bankSize) {
    fail(`knn.k = ${cfg.knn.k} exceeds knn.bankSize = ${cfg.knn.bankSize}`);
  }
  if (!(cfg.mahalanobis.shrinkage >= 0 && cfg.mahalanobis.shrinkage <= 1)) {
    fail(`mahalanobis.shrinkage must be in [0, 1], got ${cfg.mahalanobis.shrinkage}`);
  }
  if (cfg.scores.length === 0) fail("scores is empty");
  for (const s of [...cfg.scores, ...cfg.figures.histogramScores]) {
    if (!SCORE_NAMES.includes(s)) fail(`unknown score "${s}". Valid: ${SCORE_NAMES.join(", ")}.`);
  }
  for (const s of cfg.figures.histogramScores) {
    if (!cfg.scores.includes(s)) fail(`figures.histogramScores has "${s}", which is not in scores`);
  }
  if (!FPR_RULES.includes(cfg.fprRule)) fail(`unknown fprRule "${cfg.fprRule}". Valid: ${FPR_RULES.join(", ")}.`);
  posInt(cfg.figures.projectionPerSet, "figures.projectionPerSet");
  return cfg;
}
