/**
 * The post-hoc baselines on a plain cross-entropy model as a leaderboard entry (issue 16): one classifier per
 * (ID dataset, seed) trained with the baselines notebook's recipe (`notebooks/00_baselines.ipynb`, `default`
 * profile) on the protocol's known classes, then MSP, MaxLogit, Energy, ODIN, Mahalanobis, KNN (and the
 * multi-layer Mahalanobis ensemble when the backbone has a `featureList`) on the near- and far-OOD sets, through
 * `runBaselines`.
 * @module
 */
import type { DatasetName } from "../../datasets/registry.ts";
import {
  BASELINE_ID_DATASETS,
  type BaselineIdDataset,
  type BaselinesConfig,
  checkBaselinesConfig,
} from "../../methods/baselines/config.ts";
import { BASELINES_PAPER, runBaselines } from "../../methods/baselines/run.ts";
import type { EntryResult, LeaderboardEntry, LeaderboardProtocol } from "../types.ts";
import { entryRowsAndScores, LEADERBOARD_FPR_RULE, protocolClassSplit } from "./entry_utils.ts";

/** The detectors of the entry (the ensemble is dropped by the runner when the backbone has no `featureList`). */
export const BASELINE_ENTRY_SCORES = [
  "msp",
  "maxLogit",
  "energy",
  "entropy",
  "gen",
  "klMatching",
  "odin",
  "react",
  "ashP",
  "ashB",
  "ashS",
  "dice",
  "gradnorm",
  "mahalanobis",
  "relativeMahalanobis",
  "mahalanobisEnsemble",
  "knn",
  "vim",
  "residual",
  "she",
] as const;

/**
 * The baselines config of one (ID dataset, seed) under the protocol: the protocol's data, split, backbone, width,
 * epochs and batch size; the notebook's `default` optimiser (SGD lr 0.05, momentum 0.9, wd 5e-4) and score options
 * (Energy T = 1; ODIN T = 1000, ε = 0.0014 on at most 1000 images per set; KNN K = 50 over at most 10 000 bank
 * images; Mahalanobis fitted on at most 20 000 training images, no shrinkage).
 */
export function baselinesEntryConfig(
  protocol: LeaderboardProtocol,
  idDataset: DatasetName,
  seed: number,
): BaselinesConfig {
  const cfg: BaselinesConfig = {
    idDatasets: [idDataset as BaselineIdDataset],
    oodDatasets: protocol.farOod.filter((d) => d !== idDataset),
    seeds: [seed],
    dataSeed: protocol.dataSeed,
    backbone: protocol.backbone,
    width: protocol.width,
    train: {
      epochs: protocol.epochs,
      batchSize: protocol.batchSize,
      lr: 0.05,
      momentum: 0.9,
      weightDecay: 5e-4,
      trainLimit: protocol.trainLimit,
      logEvery: 25,
    },
    nTest: protocol.nTest ?? Number.MAX_SAFE_INTEGER,
    nOod: protocol.nOod ?? Number.MAX_SAFE_INTEGER,
    fitLimit: 20000,
    evalBatchSize: protocol.evalBatchSize,
    scores: BASELINE_ENTRY_SCORES,
    fprRule: LEADERBOARD_FPR_RULE,
    energy: { temperature: 1 },
    odin: { temperature: 1000, epsilon: 0.0014, limit: 1000 },
    knn: { k: 50, bankSize: 10000 },
    mahalanobis: { shrinkage: 0 },
    figures: { histogramScores: [], projectionPerSet: 1 },
    classSplit: protocolClassSplit(protocol),
  };
  // The notebook's config lists MNIST and Fashion-MNIST only; the runner itself takes any labelled dataset.
  return (BASELINE_ID_DATASETS as readonly string[]).includes(idDataset) ? checkBaselinesConfig(cfg) : cfg;
}

/** Runs the baselines on one (ID dataset, seed) of the protocol. */
export async function runBaselinesEntry(
  protocol: LeaderboardProtocol,
  idDataset: DatasetName,
  seed: number,
): Promise<EntryResult> {
  const cfg = baselinesEntryConfig(protocol, idDataset, seed);
  const exp = await runBaselines(cfg);
  const sets = exp.sets[0]!;
  const { rows, scores } = entryRowsAndScores(exp.runs, idDataset);
  const trainSeconds = exp.runs.reduce((s, r) => s + r.result.training.seconds, 0);
  const scoreSeconds = exp.runs.reduce(
    (s, r) => s + Object.values(r.result.seconds).reduce((a, b) => a + b, 0),
    0,
  );
  const nTrain = sets.train.shape[0];
  const hasEnsemble = scores.some((r) => r.score === "mahalanobisEnsemble");
  return {
    rows,
    scores,
    trainSeconds,
    imagesSeen: exp.runs.length * cfg.train.epochs * nTrain,
    scoreSeconds,
    notes: [
      `One cross-entropy classifier (${cfg.backbone} ×${cfg.width}) trained ${cfg.train.epochs} epochs on the ` +
      `${nTrain} known-class training images with the baselines notebook's recipe (SGD lr ${cfg.train.lr}, ` +
      `momentum 0.9, wd 5e-4, batch ${cfg.train.batchSize}); every detector scores this same model.`,
      `ODIN (T = 1000, ε = 0.0014) scores the first ${cfg.odin.limit} images of each set; KNN K = ${cfg.knn.k} ` +
      `(bank ≤ ${cfg.knn.bankSize} training images); Mahalanobis fitted on ≤ ${cfg.fitLimit} training images.`,
      hasEnsemble
        ? "The multi-layer Mahalanobis ensemble uses the backbone's featureList."
        : `No multi-layer Mahalanobis ensemble: ${cfg.backbone} has no featureList.`,
      `FPR95 rule: ${cfg.fprRule} (the notebook's). Rows are labelled "CE + <score>".`,
    ],
  };
}

/** The post-hoc baselines entry. */
export const baselinesEntry: LeaderboardEntry = {
  paper: BASELINES_PAPER,
  title: "Post-hoc baselines on a CE model (MSP, MaxLogit, Energy, ODIN, Mahalanobis, KNN)",
  run: runBaselinesEntry,
};
