/**
 * One baseline run = one ID dataset × one seed: build and train the classifier ({@linkcode trainBaseline}),
 * then extract outputs once and run every score ({@linkcode scoreBaseline}), giving result rows and what the
 * figures need.
 * @module
 */
import { type Backbone, createBackbone } from "../../backbones/mod.ts";
import { limitDataset } from "../../datasets/mod.ts";
import type { ResultRow } from "../../report/results.ts";
import type { ScoreName } from "../../scores/mod.ts";
import { seedEverything } from "../../train/seed.ts";
import type { BaselinesConfig } from "./config.ts";
import type { BaselineData } from "./data.ts";
import { argmaxRows, extractOutputs, type NetOutputs } from "./extract.ts";
import { baselineRows } from "./rows.ts";
import { type EvalSet, needsFeatureList, type RunScores, scoreSets, supportedScores } from "./score.ts";
import { trainClassifier, type TrainOutcome } from "./train.ts";

/** The paper id of the baselines' result rows. */
export const BASELINES_PAPER = "baselines";
/** The method name of the baselines' result rows (plain cross-entropy training). */
export const BASELINES_METHOD = "CE";

/** A trained classifier of one run. */
export interface TrainedRun {
  idDataset: string;
  seed: number;
  backbone: Backbone;
  /** Training curve, steps, time. */
  training: TrainOutcome;
}

/**
 * Seeds everything with `seed`, builds `cfg.backbone` for the ID dataset's classes and trains it with the
 * standard recipe (`train.ts`), validating on the ID test images after each epoch.
 */
export async function trainBaseline(
  cfg: Pick<BaselinesConfig, "backbone" | "width" | "train" | "evalBatchSize">,
  data: BaselineData,
  seed: number,
): Promise<TrainedRun> {
  seedEverything(seed);
  const backbone = createBackbone(cfg.backbone, {
    numClasses: data.train.classes.length,
    inputShape: [data.train.shape[1], data.train.shape[2], data.train.shape[3]],
    width: cfg.width,
  });
  const training = await trainClassifier(backbone, data.train, cfg.train, {
    seed,
    validation: data.test,
    evalBatchSize: cfg.evalBatchSize,
  });
  return { idDataset: data.id, seed, backbone, training };
}

/** A 2-D projection's input: feature rows of a few images per set, with their group names. */
export interface ProjectionSample {
  data: Float32Array;
  dim: number;
  groups: string[];
}

/** A scored run: result rows plus what the figures need. */
export interface ScoredRun {
  idDataset: string;
  seed: number;
  /** Scores that ran (the config's, minus those the backbone does not support). */
  scoreNames: ScoreName[];
  /** Score → ID / OOD values. */
  scores: RunScores;
  /** Accuracy on the ID test images. */
  accuracy: number;
  /** One row per score × OOD set. */
  rows: ResultRow[];
  /** Features of the first images of each set (ID first), for a 2-D projection. */
  projection: ProjectionSample;
  /** Stage → seconds (extract, each score). */
  seconds: Record<string, number>;
}

/**
 * The first `perSet` feature rows of the ID set and of each OOD set, labelled `ID (<id>)` and by OOD set name.
 */
export function projectionSample(
  idName: string,
  id: NetOutputs,
  ood: Readonly<Record<string, NetOutputs>>,
  perSet: number,
): ProjectionSample {
  const dim = id.features.dim;
  const parts = [[`ID (${idName})`, id] as const, ...Object.entries(ood)];
  const groups: string[] = [];
  const chunks: Float32Array[] = [];
  for (const [name, out] of parts) {
    const k = Math.min(perSet, out.n);
    chunks.push(out.features.data.subarray(0, k * dim));
    for (let i = 0; i < k; i++) groups.push(name);
  }
  const data = new Float32Array(groups.length * dim);
  let at = 0;
  for (const c of chunks) {
    data.set(c, at);
    at += c.length;
  }
  return { data, dim, groups };
}

/**
 * Extracts the trained network's outputs on the fit images (a seeded subset of the training images of size
 * `fitLimit`), the ID test images and each OOD set; fits and runs every supported score; evaluates each
 * (score, OOD set) pair into a result row. Does not dispose the backbone.
 * @param onStage Called after each stage (extraction, then each score) with its name and seconds.
 */
export async function scoreBaseline(
  cfg: Pick<
    BaselinesConfig,
    | "scores"
    | "fitLimit"
    | "dataSeed"
    | "evalBatchSize"
    | "fprRule"
    | "energy"
    | "odin"
    | "knn"
    | "mahalanobis"
    | "figures"
  >,
  data: BaselineData,
  run: TrainedRun,
  onStage?: (stage: string, seconds: number) => void | Promise<void>,
): Promise<ScoredRun> {
  const seconds: Record<string, number> = {};
  const stage = async (name: string, s: number) => {
    seconds[name] = s;
    await onStage?.(name, s);
  };
  const names = supportedScores(run.backbone, cfg.scores);
  const opts = { batchSize: cfg.evalBatchSize, featureList: needsFeatureList(names) };
  const t0 = performance.now();
  const fitDs = limitDataset(data.train, cfg.fitLimit ?? undefined, cfg.dataSeed);
  const train = await extractOutputs(run.backbone, fitDs, opts);
  const id: EvalSet = { ds: data.test, out: await extractOutputs(run.backbone, data.test, opts) };
  const ood: Record<string, EvalSet> = {};
  for (const [name, ds] of Object.entries(data.ood)) {
    ood[name] = { ds, out: await extractOutputs(run.backbone, ds, opts) };
  }
  await stage("extract", (performance.now() - t0) / 1000);

  const scores = await scoreSets(
    names,
    { backbone: run.backbone, train, batchSize: cfg.evalBatchSize },
    id,
    ood,
    cfg,
    stage,
  );
  const predictions = argmaxRows(id.out.logits);
  const rows = baselineRows(
    {
      paper: BASELINES_PAPER,
      method: BASELINES_METHOD,
      backbone: run.backbone.name,
      idDataset: data.id,
      seed: run.seed,
    },
    scores,
    { fprRule: cfg.fprRule, idClassification: { labels: id.out.labels, predictions } },
  );
  let correct = 0;
  predictions.forEach((p, i) => correct += p === id.out.labels[i] ? 1 : 0);
  const projection = projectionSample(
    data.id,
    id.out,
    Object.fromEntries(Object.entries(ood).map(([k, v]) => [k, v.out])),
    cfg.figures.projectionPerSet,
  );
  return {
    idDataset: data.id,
    seed: run.seed,
    scoreNames: names,
    scores,
    accuracy: predictions.length ? correct / predictions.length : NaN,
    rows,
    projection,
    seconds,
  };
}
