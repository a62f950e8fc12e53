/**
 * One seed of the Unleashing Mask experiment: pretrain (or load) the classifier, estimate the loss constraint,
 * fine-tune each method from the same pretrained weights, score every model, and turn the scores into rows.
 * @module
 */
import type { Backbone } from "../../backbones/mod.ts";
import type { ResultRow } from "../../report/results.ts";
import { Timings } from "../../report/results.ts";
import { deriveSeed, seedEverything } from "../../train/seed.ts";
import { BASE_METHOD, type UmMethod, type UnleashingMaskConfig } from "./config.ts";
import type { UmData } from "./data.ts";
import {
  chooseConstraint,
  type ChosenConstraint,
  estimateLossConstraint,
  type LossConstraintEstimate,
} from "./estimate.ts";
import { type StageOutcome, trainStage } from "./finetune.ts";
import type { UmCriterion } from "./loss.ts";
import { pretrainClassifier, type PretrainPoint } from "./pretrain.ts";
import { modelRows } from "./rows.ts";
import { type ScoredModel, scoreModel } from "./scores.ts";
import { cloneBackbone, maskSummary, subnetBackbone } from "./umap.ts";

/** Everything one seed produced (no tensors: the models are disposed). */
export interface SeedRun {
  seed: number;
  pretrain: {
    history: PretrainPoint[];
    selectedEpoch: number;
    cached: boolean;
    runDir: string | null;
    seconds: number;
  };
  estimate: LossConstraintEstimate;
  constraint: ChosenConstraint;
  /** Fine-tuning runs by method. */
  stages: Partial<Record<UmMethod, StageOutcome & { criterion: UmCriterion }>>;
  /** UMAP's learned mask: kept / total weights per layer. */
  umapMask: { layer: string; kept: number; total: number }[] | null;
  /** Scored models by method (`CE` = the pretrained classifier). */
  models: Record<string, ScoredModel>;
  rows: ResultRow[];
  timings: Record<string, number>;
}

/** The training recipe and criterion of each method (C6: only what the stage uses). */
export function stagePlan(cfg: UnleashingMaskConfig, method: UmMethod, um: number) {
  const ce: UmCriterion = { kind: "ce" };
  const umc: UmCriterion = { kind: "um", um, beta: cfg.um.beta };
  const base = { ...cfg.finetune, augment: cfg.augment };
  switch (method) {
    case "CE-FT":
      return { ...base, criterion: ce };
    case "UM":
      return { ...base, criterion: umc };
    case "UMAP":
      return { ...base, epochs: cfg.umap.epochs, lr: cfg.umap.lr, criterion: umc };
    case "OE":
      return { ...base, epochs: cfg.oe.epochs, lr: cfg.oe.lr, criterion: ce, oeWeight: cfg.oe.weight };
    case "OE+UM":
      return { ...base, epochs: cfg.oe.epochs, lr: cfg.oe.lr, criterion: umc, oeWeight: cfg.oe.weight };
  }
}

/**
 * Runs one seed. `onStage` is told when each stage starts (for a progress display).
 * @param cacheRoot where pretrained classifiers are cached (`checkpoints/unleashing_mask`), or null.
 */
export async function runSeed(
  cfg: UnleashingMaskConfig,
  data: UmData,
  seed: number,
  opts: { cacheRoot: string | null; onStage?: (stage: string) => void | Promise<void> },
): Promise<SeedRun> {
  const timings = new Timings();
  const stage = async <T>(name: string, f: () => Promise<T>) => {
    await opts.onStage?.(name);
    return await timings.time(name, f);
  };
  const pre = await stage("pretrain", () => pretrainClassifier(cfg, data, seed, { cacheRoot: opts.cacheRoot }));
  const net = pre.backbone;
  const models: Record<string, ScoredModel> = {};
  const stages: SeedRun["stages"] = {};
  let umapMask: SeedRun["umapMask"] = null;
  const scoreOpts = { ...cfg, augment: cfg.augment, seed: deriveSeed(seed, "scores") };
  try {
    const estimate = await stage("estimate", () =>
      estimateLossConstraint(net, data.train, {
        keepRate: cfg.estimate.keepRate,
        draws: cfg.estimate.draws,
        batchSize: cfg.estimate.batchSize,
        augment: cfg.estimate.augment ? cfg.augment : undefined,
        seed: deriveSeed(seed, "estimate"),
      }));
    const constraint = chooseConstraint(estimate, cfg.variant, cfg.estimate.manual);
    models[BASE_METHOD] = await stage(`score ${BASE_METHOD}`, () => scoreModel(net, data, scoreOpts));
    for (const method of cfg.methods) {
      const plan = stagePlan(cfg, method, constraint.value);
      seedEverything(deriveSeed(seed, `stage/${method}`));
      const model: Backbone = method === "UMAP"
        ? await subnetBackbone(net, { keepRate: cfg.umap.keepRate, freezeWeights: cfg.umap.freezeWeights })
        : await cloneBackbone(net);
      try {
        const { oeWeight, ...recipe } = { oeWeight: undefined, ...plan };
        const out = await stage(method, () =>
          trainStage(model, data.train, {
            ...recipe,
            seed: deriveSeed(seed, `stage/${method}/data`),
            ...(oeWeight !== undefined ? { oe: { aux: data.aux, weight: oeWeight } } : {}),
          }));
        stages[method] = { ...out, criterion: plan.criterion };
        if (method === "UMAP") umapMask = maskSummary(model.model);
        models[method] = await stage(`score ${method}`, () => scoreModel(model, data, scoreOpts));
      } finally {
        model.model.dispose();
      }
    }
    const selection = cfg.pretrain.selection;
    const rows = Object.entries(models).flatMap(([method, m]) =>
      modelRows(
        { method, backbone: cfg.backbone.name, idDataset: cfg.idDataset, seed, selection },
        m.scores,
        { fprRule: cfg.fprRule, idClassification: { labels: m.idLabels, predictions: m.idPredictions } },
      )
    );
    return {
      seed,
      pretrain: {
        history: pre.history,
        selectedEpoch: pre.selectedEpoch,
        cached: pre.cached,
        runDir: pre.runDir,
        seconds: pre.seconds,
      },
      estimate,
      constraint,
      stages,
      umapMask,
      models,
      rows,
      timings: timings.toJSON(),
    };
  } finally {
    net.model.dispose();
  }
}
