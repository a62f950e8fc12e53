/**
 * The baselines on the experiment layer: one run = one ID dataset × one seed — build and train the classifier
 * (`train.ts`), then score it with every configured detector (`scoreAll`) and turn the scores into result rows
 * (`toRows`). {@linkcode runBaselines} runs the whole grid once.
 * @module
 */
import { createBackbone } from "../../backbones/mod.ts";
import { type EvalSets, evaluateModel, type GridResult, loadEvalSets, runGrid } from "../../experiment/mod.ts";
import type { ScoreSets } from "../../experiment/score.ts";
import { type ProjectionSample, projectionSample } from "../../report/score_views.ts";
import { type DetectorName, DETECTORS, type DetectorSpec } from "../../scores/mod.ts";
import { seedEverything } from "../../train/seed.ts";
import type { BaselineIdDataset, BaselinesConfig } from "./config.ts";
import { trainClassifier, type TrainOutcome } from "../../train/classifier.ts";

/** The paper id of the baselines' result rows. */
export const BASELINES_PAPER = "baselines";
/** The method id (plain cross-entropy training) and its display label. */
export const BASELINES_METHOD = "ce";
export const BASELINES_LABEL = "CE";

/**
 * What one run keeps for the displays (no tensors): its training, its scores (score key → ID / OOD values), the
 * features of the first images of each set (a 2-D projection's input) and the seconds of each scoring stage.
 */
export interface BaselineRun {
  training: TrainOutcome;
  scores: Record<string, ScoreSets>;
  projection: ProjectionSample;
  seconds: Record<string, number>;
}

/** Every run of {@linkcode runBaselines}. */
export type BaselinesResult = GridResult<BaselineIdDataset, typeof BASELINES_METHOD, BaselineRun>;

/**
 * The detector specs of the config, in its order (duplicates dropped), with its options; the multi-layer
 * Mahalanobis ensemble only when the backbone has `featureList`.
 */
export function baselineDetectors(cfg: BaselinesConfig, hasFeatureList: boolean): DetectorSpec[] {
  const opts: Partial<Record<DetectorName, object>> = {
    energy: cfg.energy,
    odin: cfg.odin,
    knn: cfg.knn,
    mahalanobis: cfg.mahalanobis,
    mahalanobisEnsemble: cfg.mahalanobis,
  };
  return [...new Set(cfg.scores)]
    .filter((use) => hasFeatureList || !(DETECTORS[use].needs as readonly string[]).includes("featureList"))
    .map((use) => ({ use, ...(opts[use] ? { opts: opts[use] } : {}) }) as DetectorSpec);
}

/**
 * The sets of one ID dataset: `loadEvalSets` with seeded subsets of `train.trainLimit` training images, `nTest` test
 * images and `nOod` images per OOD set, and `cfg.classSplit` when set (near-OOD `<id>:unseen`).
 */
export function loadBaselineSets(cfg: BaselinesConfig, id: BaselineIdDataset): Promise<EvalSets> {
  const { dataSeed, oodDatasets, nTest: testLimit, nOod: oodLimit } = cfg;
  const split = cfg.classSplit ? { classSplit: cfg.classSplit } : {};
  return loadEvalSets({ id, dataSeed, trainLimit: cfg.train.trainLimit, testLimit, oodDatasets, oodLimit, ...split });
}

/**
 * Runs every ID dataset × seed: seeds everything, builds `cfg.backbone`, trains it with the standard recipe
 * (validating on the ID test images after each epoch), scores it on the fit subset (`fitLimit` training images,
 * seed `dataSeed`), the ID test set and each OOD set, and makes one row per score × OOD set (`cfg.fprRule`).
 * @param load Loads a setting's sets (default: {@linkcode loadBaselineSets}; tests pass toy sets).
 */
export function runBaselines(
  cfg: BaselinesConfig,
  load = (id: BaselineIdDataset): Promise<EvalSets> => loadBaselineSets(cfg, id),
): Promise<BaselinesResult> {
  return runGrid({
    settings: cfg.idDatasets,
    seeds: cfg.seeds,
    methods: [BASELINES_METHOD],
    load,
    run: async ({ setting, seed }, sets, _shared, stage) => {
      seedEverything(seed);
      const [, h, w, c] = sets.train.shape;
      const net = createBackbone(cfg.backbone, {
        numClasses: sets.train.classes.length,
        inputShape: [h, w, c],
        width: cfg.width,
      });
      try {
        await stage("training");
        const validation = { seed, validation: sets.test, evalBatchSize: cfg.evalBatchSize };
        const training = await trainClassifier(net, sets.train, cfg.train, validation);
        const key = { paper: BASELINES_PAPER, method: BASELINES_METHOD, label: BASELINES_LABEL, width: cfg.width };
        const { table, rows } = await evaluateModel(
          net,
          sets,
          baselineDetectors(cfg, net.featureList !== undefined),
          { ...key, backbone: cfg.backbone, idDataset: setting, seed, trainSeconds: training.seconds },
          {
            batchSize: cfg.evalBatchSize,
            seed,
            fitLimit: cfg.fitLimit,
            fitSeed: cfg.dataSeed,
            onDetector: (key) => stage(key),
            fprRules: [cfg.fprRule],
          },
        );
        const { test, ood } = table.outputs;
        const result: BaselineRun = {
          training,
          scores: table.scores,
          projection: projectionSample(setting, test, ood, cfg.figures.projectionPerSet),
          seconds: { extract: table.extractSeconds, ...table.seconds },
        };
        return { rows, result };
      } finally {
        net.model.dispose();
      }
    },
  });
}
