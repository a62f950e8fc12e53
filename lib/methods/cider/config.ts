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
import { configChecks } from "../../experiment/config_check.ts";
import { type ClassSplitOption, classSplitProblem } from "../../experiment/class_split_option.ts";
import type { AugmentStep } from "../../data/augment.ts";
import { type DatasetName, DATASETS } from "../../datasets/mod.ts";
import type { Normalization } from "../../datasets/types.ts";
import { NORMALIZATION, type NormalizationName } from "../../datasets/normalization.ts";
import { WEIGHTS_SOURCES, type WeightsSource } from "../../report/profile.ts";
import { CIDER_RELEASED_IDS, type CiderReleasedId } from "../../checkpoints/released/cider.ts";

/** The training methods compared (same backbone, data and budget); `ce` has no variants. */
export const CIDER_METHODS = ["ce", "supcon", "cider"] as const;

/** A training method: cross-entropy, SupCon (`train_cider.py --loss supcon`) or CIDER. */
export type CiderMethod = typeof CIDER_METHODS[number];

/** Display names of the methods (the variant is added in parentheses). */
export const METHOD_NAMES: Readonly<Record<CiderMethod, string>> = { ce: "CE", supcon: "SupCon", cider: "CIDER" };

/**
 * `faithful`: the reference's warm-up formula (negative rate in epoch 0) for SupCon and CIDER, and its
 * Mahalanobis estimator; `clean`: a fixed warm-up ramp and the tied-covariance Mahalanobis.
 */
export type CiderVariant = "faithful" | "clean";

/** The ID datasets the notebook knows how to train on. */
export const CIDER_ID_DATASETS = ["fashion_mnist", "mnist", "cifar10", "cifar100"] as const;

/** The backbones CIDER uses (CIFAR ResNets; `width` < 1 gives the narrow CPU variants). */
export const CIDER_BACKBONES = ["resnet18", "resnet34"] as const;

/** One experimental setting: an ID dataset with its backbone and the per-dataset hyper-parameters. */
export interface CiderSetting {
  /** ID dataset (registry name). */
  idDataset: typeof CIDER_ID_DATASETS[number];
  /** Backbone registry name. */
  backbone: typeof CIDER_BACKBONES[number];
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

/**
 * The `released` run (`weights: "released"`): which of the authors' files to evaluate and on how much data. The
 * files live in `checkpoints/released/cider/` (or `OOD_RELEASED_DIR`); `deno task data checkpoints cider` lists them.
 */
export interface CiderReleasedOptions {
  /** The released files to evaluate (`lib/checkpoints/released/cider.ts`). */
  files: readonly CiderReleasedId[];
  /** OOD sets (registry names; 32×32 RGB): the paper's SVHN, Places365, LSUN-C, iSUN, Textures. */
  oodDatasets: readonly DatasetName[];
  /** Training images in the KNN bank and the probe's training set (seeded subset; null = all, as the authors). */
  trainLimit: number | null;
  /** ID test images (seeded subset; null = all 10 000). */
  nTest: number | null;
  /** Images per OOD set (seeded subset; null = all; the authors cap each set at 10 000). */
  nOod: number | null;
}

/** The config literal of the CIDER notebook. */
export interface CiderConfig {
  /** Experimental settings; each trains every method for every seed. */
  settings: readonly CiderSetting[];
  /** Methods to train, in display order. */
  methods: readonly CiderMethod[];
  /** Variants of SupCon and CIDER (CE runs once, variant `none`). */
  variants: readonly CiderVariant[];
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
  /** Mahalanobis as the optional second score; `shrinkage` applies to the clean (tied-covariance) estimator. */
  mahalanobis: { enabled: boolean; shrinkage: number };
  /** Linear probe on frozen penultimate features (ID accuracy). */
  probe: { epochs: number; batchSize: number; lr: number; weightDecay: number };
  /** Images per forward pass when extracting features. */
  evalBatchSize: number;
  /**
   * Checkpoint folder (absolute, or relative to the repository root); each run checkpoints every epoch into
   * `<runDir>/<id>-<backbone>-w<width>/<method>[-<variant>]/s<seed>` and resumes from it. null = none.
   */
  runDir: string | null;
  /**
   * Optional class split (the leaderboard's near-OOD protocol): the seen classes are trained on (labels 0..k−1),
   * the unseen classes' test images are the near-OOD set `<id>:unseen`. Absent / null = none (the notebook).
   */
  classSplit?: ClassSplitOption | null;
  /**
   * Where the weights come from (`currentWeights()`, env `OOD_WEIGHTS`): `train` (default) trains every method;
   * `released` trains nothing and evaluates the authors' weights (`released.ts`) with the `released` options.
   */
  weights?: WeightsSource;
  /** The released run's options; required when `weights` is `released`. */
  released?: CiderReleasedOptions | null;
}

/**
 * Throws when the config is inconsistent, naming the field (and the valid values); returns it otherwise.
 * @example Usage
 * ```ts ignore
 * const cfg = checkCiderConfig({ ... } satisfies CiderConfig);
 * ```
 */
export function checkCiderConfig<C extends CiderConfig>(cfg: C): C {
  const { fail, check, posInt, positive, inRange, oneOf, list } = configChecks("CiderConfig");
  if (cfg.settings.length === 0) fail("settings is empty");
  cfg.settings.forEach((s, i) => {
    const at = `settings[${i}]`;
    oneOf(s.idDataset, `${at}.idDataset`, CIDER_ID_DATASETS);
    oneOf(s.backbone, `${at}.backbone`, CIDER_BACKBONES);
    positive(s.width, `${at}.width`);
    inRange(s.prototypeMomentum, `${at}.prototypeMomentum`, 0, 1, true);
    inRange(s.compactnessWeight, `${at}.compactnessWeight`, 0, Infinity);
    posInt(s.k, `${at}.k`);
    if (cfg.trainLimit !== null && s.k > cfg.trainLimit) {
      fail(`${at}.k = ${s.k} exceeds trainLimit = ${cfg.trainLimit}`);
    }
  });
  list(cfg.methods, "methods", CIDER_METHODS);
  list(cfg.variants, "variants", ["faithful", "clean"]);
  list(cfg.seeds, "seeds");
  list(cfg.oodDatasets, "oodDatasets", Object.keys(DATASETS));
  posInt(cfg.trainLimit, "trainLimit", true);
  posInt(cfg.nTest, "nTest");
  posInt(cfg.nOod, "nOod");
  if (typeof cfg.normalization === "string") {
    oneOf(cfg.normalization, "normalization", ["train-statistics", ...Object.keys(NORMALIZATION)]);
  }
  posInt(cfg.head.hidden, "head.hidden", true);
  posInt(cfg.head.out, "head.out");
  const t = cfg.train;
  for (const k of ["epochs", "batchSize", "logEvery"] as const) posInt(t[k], `train.${k}`);
  inRange(t.momentum, "train.momentum", 0, 1, true);
  inRange(t.weightDecay, "train.weightDecay", 0, Infinity);
  check(t.decayRate > 0 && t.decayRate <= 1, "train.decayRate", t.decayRate, "in (0, 1]");
  if (t.warmup.enabled) {
    positive(t.warmup.epochs, "train.warmup.epochs");
    positive(t.warmup.from, "train.warmup.from");
  }
  positive(cfg.ce.lr, "ce.lr");
  for (const [k, v] of Object.entries(cfg.supcon)) positive(v, `supcon.${k}`);
  for (const [k, v] of Object.entries(cfg.cider)) positive(v, `cider.${k}`);
  inRange(cfg.mahalanobis.shrinkage, "mahalanobis.shrinkage", 0, 1);
  posInt(cfg.probe.epochs, "probe.epochs");
  posInt(cfg.probe.batchSize, "probe.batchSize");
  positive(cfg.probe.lr, "probe.lr");
  inRange(cfg.probe.weightDecay, "probe.weightDecay", 0, Infinity);
  posInt(cfg.evalBatchSize, "evalBatchSize");
  const split = classSplitProblem(cfg.classSplit, cfg.settings.map((s) => s.idDataset));
  if (split) fail(split);
  oneOf(cfg.weights ?? "train", "weights", WEIGHTS_SOURCES);
  if (cfg.weights === "released" && !cfg.released) fail('weights is "released" but released is not set');
  if (cfg.released) {
    const r = cfg.released;
    list(r.files, "released.files", CIDER_RELEASED_IDS);
    list(r.oodDatasets, "released.oodDatasets", Object.keys(DATASETS));
    posInt(r.trainLimit, "released.trainLimit", true);
    posInt(r.nTest, "released.nTest", true);
    posInt(r.nOod, "released.nOod", true);
  }
  return cfg;
}
