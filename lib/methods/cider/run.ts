/**
 * One notebook experiment end to end: for each setting, load its data once; for each seed and method, build
 * the network (seeded), train it with the method's objective, and evaluate it. Result rows keep CIDER's FPR95
 * rule (`fpr95`, `fprRule: "hendrycks"`); the rows with our rule are kept alongside for display.
 * @module
 */
import { createBackbone } from "../../backbones/mod.ts";
import { seedEverything } from "../../train/seed.ts";
import { isAbsolute, join } from "node:path";
import { REPO_ROOT, type ResultRow } from "../../report/results.ts";
import { type CiderConfig, type CiderMethod, type CiderSetting, METHOD_LABELS } from "./config.ts";
import { type CiderData, loadCiderData } from "./data.ts";
import { evaluateNetwork, type NetworkEvaluation } from "./evaluate.ts";
import { ciderNet } from "./network.ts";
import { type MethodObjective, trainMethod, type TrainOutcome } from "./train.ts";

/** The `paper` column of every result row of this notebook. */
export const CIDER_PAPER = "cider";

/** One trained and evaluated (setting, method, seed). */
export interface MethodRun {
  setting: CiderSetting;
  /** Backbone label of the rows, e.g. `resnet18` or `resnet18 (width 0.125)`. */
  backbone: string;
  method: CiderMethod;
  /** Row label of the method. */
  label: string;
  seed: number;
  train: TrainOutcome;
  eval: NetworkEvaluation;
}

/** The backbone as result rows name it: the registry name, plus the width when it is not 1. */
export function backboneLabel(s: Pick<CiderSetting, "backbone" | "width">): string {
  return s.width === 1 ? s.backbone : `${s.backbone} (width ${s.width})`;
}

/** A checkpoint folder: absolute, or relative to the repository root (the kernel runs in `notebooks/`). */
export function runRoot(runDir: string): string {
  return isAbsolute(runDir) ? runDir : join(REPO_ROOT, runDir);
}

/** The objective of a method under a config and setting. */
export function objectiveOf(method: CiderMethod, cfg: CiderConfig, setting: CiderSetting): MethodObjective {
  if (method === "ce") return { method };
  if (method === "supcon") {
    return { method, loss: { temperature: cfg.supcon.temperature, baseTemperature: cfg.supcon.baseTemperature } };
  }
  return {
    method,
    loss: {
      momentum: setting.prototypeMomentum,
      compactnessWeight: setting.compactnessWeight,
      temperature: cfg.cider.temperature,
      dispersionBaseTemperature: cfg.cider.dispersionBaseTemperature,
      compactnessBaseTemperature: cfg.cider.compactnessBaseTemperature,
    },
  };
}

/** The peak learning rate of a method. */
export function learningRateOf(method: CiderMethod, cfg: CiderConfig): number {
  return method === "ce" ? cfg.ce.lr : method === "supcon" ? cfg.supcon.lr : cfg.cider.lr;
}

/**
 * Trains and evaluates one (setting, method, seed): `seedEverything(seed)`, the backbone (with the setting's
 * width and the data's normalization) plus CIDER's projection head, `trainMethod`, `evaluateNetwork`; the
 * network's weights are freed afterwards.
 */
export async function runMethod(
  cfg: CiderConfig,
  setting: CiderSetting,
  data: CiderData,
  method: CiderMethod,
  seed: number,
  hooks: { onEpoch?: (epoch: number, loss: number) => void | Promise<void> } = {},
): Promise<MethodRun> {
  seedEverything(seed);
  const [, h, w, c] = data.train.shape;
  const backbone = createBackbone(setting.backbone, {
    numClasses: data.train.classes.length,
    inputShape: [h, w, c],
    width: setting.width,
    normalization: data.normalization,
  });
  const net = ciderNet(backbone, {
    out: cfg.head.out,
    ...(cfg.head.hidden !== null ? { hidden: cfg.head.hidden } : {}),
  });
  const label = METHOD_LABELS[method];
  const bb = backboneLabel(setting);
  try {
    const train = await trainMethod(net, data.train, objectiveOf(method, cfg, setting), {
      recipe: cfg.train,
      lr: learningRateOf(method, cfg),
      augment: cfg.augment,
      seed,
      evalBatchSize: cfg.evalBatchSize,
      ...(cfg.runDir
        ? {
          runDir: join(
            runRoot(cfg.runDir),
            `${setting.idDataset}-${setting.backbone}-w${setting.width}`,
            method,
            `s${seed}`,
          ),
        }
        : {}),
      onEpoch: hooks.onEpoch,
    });
    const evaluation = await evaluateNetwork(backbone, data, {
      method,
      key: { paper: CIDER_PAPER, method: label, backbone: bb, idDataset: setting.idDataset, seed },
      k: setting.k,
      mahalanobis: cfg.mahalanobis,
      probe: cfg.probe,
      evalBatchSize: cfg.evalBatchSize,
    });
    return { setting, backbone: bb, method, label, seed, train, eval: evaluation };
  } finally {
    net.model.dispose();
  }
}

/** Hooks of {@linkcode runExperiment}. */
export interface ExperimentHooks {
  /** Before each run: its position (0-based) and the total. */
  onRunStart?: (
    info: { index: number; total: number; setting: CiderSetting; method: CiderMethod; seed: number },
  ) => void | Promise<void>;
  /** After each run. */
  onRunEnd?: (run: MethodRun, info: { index: number; total: number }) => void | Promise<void>;
}

/** Everything the notebook shows. */
export interface Experiment {
  data: CiderData[];
  runs: MethodRun[];
  /** Rows with CIDER's FPR95 rule (the ones written to the results file). */
  rows: ResultRow[];
  /** The same rows with our FPR95 rule. */
  rowsOurs: ResultRow[];
}

/**
 * Runs every setting × seed × method of the config (methods in config order within a seed).
 * @param data Preloaded data per setting (same order as `cfg.settings`); loaded here when absent.
 */
export async function runExperiment(
  cfg: CiderConfig,
  hooks: ExperimentHooks = {},
  data?: readonly CiderData[],
): Promise<Experiment> {
  const loaded = data ? [...data] : await Promise.all(cfg.settings.map((s) => loadCiderData(s.idDataset, cfg)));
  const total = cfg.settings.length * cfg.seeds.length * cfg.methods.length;
  const runs: MethodRun[] = [];
  let index = 0;
  for (const [i, setting] of cfg.settings.entries()) {
    for (const seed of cfg.seeds) {
      for (const method of cfg.methods) {
        await hooks.onRunStart?.({ index, total, setting, method, seed });
        const run = await runMethod(cfg, setting, loaded[i]!, method, seed);
        runs.push(run);
        await hooks.onRunEnd?.(run, { index: index++, total });
      }
    }
  }
  return {
    data: loaded,
    runs,
    rows: runs.flatMap((r) => r.eval.rows),
    rowsOurs: runs.flatMap((r) => r.eval.rowsOurs),
  };
}
