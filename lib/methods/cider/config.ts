/**
 * The configuration type of the CIDER notebook (`notebooks/cider.ipynb`, conventions C7): the config cell is one
 * literal that `satisfies CiderConfig`, its sizes picked per run profile with `byProfile`.
 * {@linkcode checkCiderConfig} rejects inconsistent values, naming the field and the valid values.
 *
 * The paper's values (papers.md §6b; deeplearning-wisc/cider `scripts/*.sh`, `train_cider.py`): SGD lr 0.5,
 * momentum 0.9, Nesterov, weight decay 1e-4, batch 512, 500 epochs, cosine decay to lr·0.001 with a 10-epoch
 * warm-up from 0.001, τ = 0.1, projection 512→512→ReLU→128; CIFAR-10: ResNet-18, α = 0.95, w = 2, K = 100;
 * CIFAR-100: ResNet-34, α = 0.5, w = 1, K = 300.
 * @module
 */
import { type AugmentStep } from "../../data/augment.ts";
import { type DatasetName, DATASETS } from "../../datasets/mod.ts";
import type { Normalization } from "../../datasets/types.ts";
import { NORMALIZATION, type NormalizationName } from "../../datasets/normalization.ts";

/** The training methods the notebook compares (same backbone, data and budget). */
export const CIDER_METHODS = ["ce", "supcon", "cider-faithful", "cider-clean"] as const;

/** A training method: cross-entropy, SupCon, or CIDER with the reference's warm-up (faithful) or a fixed one. */
export type CiderMethod = typeof CIDER_METHODS[number];

/** How each method is named in result rows and tables. */
export const METHOD_LABELS: Readonly<Record<CiderMethod, string>> = {
  "ce": "CE",
  "supcon": "SupCon",
  "cider-faithful": "CIDER (faithful)",
  "cider-clean": "CIDER (clean)",
};

/** The ID datasets the notebook knows how to train on. */
export const CIDER_ID_DATASETS = ["fashion_mnist", "mnist", "cifar10", "cifar100"] as const;

/** An ID dataset of the notebook. */
export type CiderIdDataset = typeof CIDER_ID_DATASETS[number];

/** The backbones CIDER uses (CIFAR ResNets; `width` < 1 gives the narrow CPU variants). */
export const CIDER_BACKBONES = ["resnet18", "resnet34"] as const;

/** A backbone of the notebook. */
export type CiderBackbone = typeof CIDER_BACKBONES[number];

/** One experimental setting: an ID dataset with its backbone and the per-dataset hyper-parameters. */
export interface CiderSetting {
  /** ID dataset (registry name). */
  idDataset: CiderIdDataset;
  /** Backbone registry name. */
  backbone: CiderBackbone;
  /** Channel-width multiplier (1 = the paper's network; penultimate dimension = 512·width). */
  width: number;
  /** Prototype momentum α (`--proto_m`). */
  prototypeMomentum: number;
  /** Weight w of the compactness loss (`--w`). */
  compactnessWeight: number;
  /** K of the KNN score. */
  k: number;
}

/** The optimisation recipe shared by every method (only the peak learning rate differs per method). */
export interface CiderTrainRecipe {
  /** Epochs over the training images. */
  epochs: number;
  /** Images per optimizer step (two-view methods see 2× as many embeddings). */
  batchSize: number;
  /** SGD momentum. */
  momentum: number;
  /** Nesterov momentum (the reference: true). */
  nesterov: boolean;
  /** Coupled L2 weight decay (1e-4). */
  weightDecay: number;
  /** Cosine decay to lr·decayRate³ (`--lr_decay_rate` 0.1). */
  decayRate: number;
  /**
   * Linear warm-up from `from` over `epochs` epochs (the reference enables it for batches > 256: 10 epochs from
   * 0.001). `enabled: false` turns it off for every method.
   */
  warmup: { enabled: boolean; epochs: number; from: number };
  /** Optimizer steps between two points of the training curves. */
  logEvery: number;
}

/** The CIDER objective's hyper-parameters (besides α and w, which are per setting). */
export interface CiderLossConfig {
  /** Peak learning rate. */
  lr: number;
  /** τ (`--temp`). */
  temperature: number;
  /** τ_b of the dispersion loss (reference `DisLoss` default: 0.1). */
  dispersionBaseTemperature: number;
  /** τ_b of the compactness loss (reference `CompLoss` default: 0.07). */
  compactnessBaseTemperature: number;
}

/** The config literal of the CIDER notebook. */
export interface CiderConfig {
  /** Experimental settings; each trains every method for every seed. */
  settings: readonly CiderSetting[];
  /** Methods to train, in display order. */
  methods: readonly CiderMethod[];
  /** Training seeds (weights and batch order). */
  seeds: readonly number[];
  /** Seed of the data subsets and of the synthetic OOD sets (the same for every training seed). */
  dataSeed: number;
  /** OOD sets by registry name; synthetic and transformed sets imitate the ID test split (`like`). */
  oodDatasets: readonly DatasetName[];
  /** Training images used (seeded subset; null = all). They are also the KNN bank and the probe's training set. */
  trainLimit: number | null;
  /** ID test images (seeded subset). */
  nTest: number;
  /** Images per OOD set (seeded subset, or the number generated). */
  nOod: number;
  /**
   * Input normalization: a registered name, explicit per-channel values, or `"train-statistics"` (the mean and
   * std of the training pixels per channel).
   */
  normalization: NormalizationName | Normalization | "train-statistics";
  /** The two-view (and CE) training augmentation, as data (`lib/data/augment.ts`). */
  augment: readonly AugmentStep[];
  /** Projection head: hidden width (null = the penultimate dimension, i.e. 512→512 at width 1) and output. */
  head: { hidden: number | null; out: number };
  /** Shared optimisation recipe. */
  train: CiderTrainRecipe;
  /** Cross-entropy baseline: peak learning rate. */
  ce: { lr: number };
  /** SupCon baseline: peak learning rate and temperatures (reference `SupConLoss(temperature=0.1)`, τ_b 0.07). */
  supcon: { lr: number; temperature: number; baseTemperature: number };
  /** CIDER's objective. */
  cider: CiderLossConfig;
  /** Mahalanobis as the optional second score (on L2-normalised penultimate features, as the reference). */
  mahalanobis: { enabled: boolean; shrinkage: number };
  /** Linear probe on frozen penultimate features (ID accuracy). */
  probe: { epochs: number; batchSize: number; lr: number; weightDecay: number };
  /** Images per forward pass when extracting features. */
  evalBatchSize: number;
  /**
   * Checkpoint folder (absolute, or relative to the repository root); each run checkpoints every epoch into
   * `<runDir>/<id>-<backbone>-w<width>/<method>/s<seed>` and resumes from it. null = no checkpoints.
   */
  runDir: string | null;
}

/**
 * Throws when the config is inconsistent, naming the field (and the valid values); returns it otherwise.
 * @example Usage
 * ```ts ignore
 * const cfg = checkCiderConfig({ ... } satisfies CiderConfig);
 * ```
 */
export function checkCiderConfig<C extends CiderConfig>(cfg: C): C {
  const fail = (msg: string): never => {
    throw new Error(`CiderConfig: ${msg}`);
  };
  const posInt = (v: number, name: string) => {
    if (!Number.isInteger(v) || v < 1) fail(`${name} must be a positive integer, got ${v}`);
  };
  const positive = (v: number, name: string) => {
    if (!(v > 0) || !Number.isFinite(v)) fail(`${name} must be a finite number > 0, got ${v}`);
  };
  if (cfg.settings.length === 0) fail("settings is empty");
  cfg.settings.forEach((s, i) => {
    const at = `settings[${i}]`;
    if (!(CIDER_ID_DATASETS as readonly string[]).includes(s.idDataset)) {
      fail(`${at}.idDataset "${s.idDataset}" is unknown. Valid: ${CIDER_ID_DATASETS.join(", ")}.`);
    }
    if (!(CIDER_BACKBONES as readonly string[]).includes(s.backbone)) {
      fail(`${at}.backbone "${s.backbone}" is unknown. Valid: ${CIDER_BACKBONES.join(", ")}.`);
    }
    positive(s.width, `${at}.width`);
    if (!(s.prototypeMomentum >= 0 && s.prototypeMomentum < 1)) {
      fail(`${at}.prototypeMomentum must be in [0, 1), got ${s.prototypeMomentum}`);
    }
    if (!(s.compactnessWeight >= 0)) fail(`${at}.compactnessWeight must be ≥ 0, got ${s.compactnessWeight}`);
    posInt(s.k, `${at}.k`);
    if (cfg.trainLimit !== null && s.k > cfg.trainLimit) {
      fail(`${at}.k = ${s.k} exceeds trainLimit = ${cfg.trainLimit}`);
    }
  });
  if (cfg.methods.length === 0) fail("methods is empty");
  for (const m of cfg.methods) {
    if (!(CIDER_METHODS as readonly string[]).includes(m)) {
      fail(`unknown method "${m}". Valid: ${CIDER_METHODS.join(", ")}.`);
    }
  }
  if (new Set(cfg.methods).size !== cfg.methods.length) fail(`methods repeat: ${cfg.methods.join(", ")}`);
  if (cfg.seeds.length === 0) fail("seeds is empty");
  if (new Set(cfg.seeds).size !== cfg.seeds.length) fail(`seeds repeat: ${cfg.seeds.join(", ")}`);
  if (cfg.oodDatasets.length === 0) fail("oodDatasets is empty");
  for (const name of cfg.oodDatasets) {
    if (!Object.hasOwn(DATASETS, name)) {
      fail(`unknown OOD dataset "${name}". Valid: ${Object.keys(DATASETS).join(", ")}.`);
    }
  }
  if (cfg.trainLimit !== null) posInt(cfg.trainLimit, "trainLimit");
  posInt(cfg.nTest, "nTest");
  posInt(cfg.nOod, "nOod");
  const n = cfg.normalization;
  if (typeof n === "string" && n !== "train-statistics" && !Object.hasOwn(NORMALIZATION, n)) {
    fail(`unknown normalization "${n}". Valid: train-statistics, ${Object.keys(NORMALIZATION).join(", ")}.`);
  }
  if (cfg.head.hidden !== null) posInt(cfg.head.hidden, "head.hidden");
  posInt(cfg.head.out, "head.out");
  const t = cfg.train;
  posInt(t.epochs, "train.epochs");
  posInt(t.batchSize, "train.batchSize");
  posInt(t.logEvery, "train.logEvery");
  if (!(t.momentum > 0 && t.momentum < 1)) fail(`train.momentum must be in (0, 1), got ${t.momentum}`);
  if (!(t.weightDecay >= 0)) fail(`train.weightDecay must be ≥ 0, got ${t.weightDecay}`);
  if (!(t.decayRate > 0 && t.decayRate <= 1)) fail(`train.decayRate must be in (0, 1], got ${t.decayRate}`);
  if (t.warmup.enabled) {
    positive(t.warmup.epochs, "train.warmup.epochs");
    positive(t.warmup.from, "train.warmup.from");
  }
  positive(cfg.ce.lr, "ce.lr");
  positive(cfg.supcon.lr, "supcon.lr");
  positive(cfg.supcon.temperature, "supcon.temperature");
  positive(cfg.supcon.baseTemperature, "supcon.baseTemperature");
  positive(cfg.cider.lr, "cider.lr");
  positive(cfg.cider.temperature, "cider.temperature");
  positive(cfg.cider.dispersionBaseTemperature, "cider.dispersionBaseTemperature");
  positive(cfg.cider.compactnessBaseTemperature, "cider.compactnessBaseTemperature");
  if (!(cfg.mahalanobis.shrinkage >= 0 && cfg.mahalanobis.shrinkage <= 1)) {
    fail(`mahalanobis.shrinkage must be in [0, 1], got ${cfg.mahalanobis.shrinkage}`);
  }
  posInt(cfg.probe.epochs, "probe.epochs");
  posInt(cfg.probe.batchSize, "probe.batchSize");
  positive(cfg.probe.lr, "probe.lr");
  if (!(cfg.probe.weightDecay >= 0)) fail(`probe.weightDecay must be ≥ 0, got ${cfg.probe.weightDecay}`);
  posInt(cfg.evalBatchSize, "evalBatchSize");
  return cfg;
}
