/**
 * The configuration type of the Unleashing Mask notebook (`notebooks/unleashing_mask.ipynb`, conventions C7):
 * the notebook's config cell is one literal that `satisfies UnleashingMaskConfig`, its sizes picked per run profile
 * with `byProfile`. {@link checkUnleashingMaskConfig} rejects inconsistent values with a message that names the
 * field and the valid values.
 * @module
 */
import { type BackboneName, isBackboneName } from "../../backbones/mod.ts";
import { type DatasetName, DATASETS, type Normalization } from "../../datasets/mod.ts";
import { type AugmentationName, AUGMENTATIONS, type AugmentStep } from "../../data/augment.ts";
import { FPR_RULES, type FprRule } from "../../metrics/mod.ts";
import { type ClassSplitOption, classSplitProblem } from "../../experiment/class_split_option.ts";
import type { Variant as ResultVariant } from "../../report/results.ts";
import { WEIGHTS_SOURCES, type WeightsSource } from "../../report/profile.ts";
import { UNLEASHING_MASK_RELEASED } from "../../checkpoints/released/unleashing_mask.ts";

/**
 * Which reading of the authors' code a run follows where that code has quirks (papers.md §5f and `notes.ts`):
 * `faithful` reproduces what `ZFancy/Unleashing-Mask` computes (UM *applied*, i.e. the README command plus
 * `--criterion UM`), `clean` fixes the quirks.
 */
export type Variant = Exclude<ResultVariant, "none">;

/** The variants, in display order. */
export const VARIANTS: readonly Variant[] = ["faithful", "clean"];

/**
 * The fine-tuning methods the notebook can run on top of the pretrained classifier (registry ids of the result
 * rows; the pretrained model itself is always scored, as method `ce`):
 * - `ce-ft`: fine-tuning with plain cross-entropy and UM's schedule — what the README command trains as written
 *   (`--UM <value>` without `--criterion`), the control with the same extra training as UM;
 * - `um`: fine-tuning with |β·CE − UM| + UM;
 * - `umap`: a learned binary mask over the (frozen) weights, same loss;
 * - `oe`: outlier exposure fine-tuning (CE + 0.5·CE-to-uniform on auxiliary outliers);
 * - `oe+um`: the same with the UM loss on the ID term.
 */
export const UM_METHODS = ["ce-ft", "um", "umap", "oe", "oe+um"] as const;

/** A fine-tuning method of the notebook. */
export type UmMethod = typeof UM_METHODS[number];

/** The method id of the pretrained classifier's rows (no fine-tuning). */
export const BASE_METHOD = "ce";

/** Display labels of the methods (the result rows' `label`, with the variant). */
export const METHOD_LABELS: Readonly<Record<typeof BASE_METHOD | UmMethod, string>> = {
  ce: "CE",
  "ce-ft": "CE-FT",
  um: "UM",
  umap: "UMAP",
  oe: "OE",
  "oe+um": "OE+UM",
};

/** The OOD scores of the paper (`--msp --odin --energy --mahalanobis`). */
export const UM_SCORES = ["msp", "odin", "energy", "mahalanobis"] as const;

/** An OOD score of the notebook. */
export type UmScore = typeof UM_SCORES[number];

/** The backbone and its options (`createBackbone(name, { numClasses, inputShape, width, ...rest })`). */
export interface UmBackboneConfig {
  /** Registry name. */
  name: BackboneName;
  /** Width multiplier (1 = the paper's network). */
  width: number;
  /** DenseNet depth (UM: 100). */
  depth?: number;
  /** DenseNet dropout (UM: 0.3). */
  dropRate?: number;
  /** DenseNet learnable BN affine parameters (UM: false, `NonAffineBatchNorm`). */
  affineBatchNorm?: boolean;
  /** Input normalization; default the backbone's own (DenseNet: UM's CIFAR mean/std; LeNet: MNIST's). */
  normalization?: Normalization;
}

/** An SGD recipe with UM's per-epoch cosine schedule (hidden-networks `cosine_lr`, no warm-up). */
export interface SgdRecipe {
  epochs: number;
  batchSize: number;
  /** Peak learning rate, annealed per epoch by ½(1 + cos(π e / E)). */
  lr: number;
  momentum: number;
  /** Coupled L2 weight decay on every trainable variable (UMAP's scores included, as the repo does). */
  weightDecay: number;
}

/**
 * The released-weights run (`weights: "released"`, `released.ts`): the authors' DenseNets evaluated with this
 * notebook's scores and metrics, on the paper's sets, without training.
 */
export interface UmReleasedOptions {
  /**
   * Ids of `UNLEASHING_MASK_RELEASED` to evaluate (e.g. `densenet_cifar10_last`, `densenet_cifar10_best`); all
   * on the same ID dataset, which the ids name (CIFAR-10 or CIFAR-100).
   */
  files: readonly string[];
  /** Test OOD sets (the configs': CIFAR-100 or CIFAR-10, iNaturalist, SUN, Places, dtd, LSUN, SVHN). */
  oodDatasets: readonly DatasetName[];
  /** ID test images and images per OOD set (seeded subsets); null = all. */
  evalLimit: number | null;
  /** Training images for the Mahalanobis class statistics (and the scores' training pass); null = all. */
  trainLimit: number | null;
  /** Training images held out for the clean variant's Mahalanobis tuning. */
  heldOut: number;
  /**
   * The released network: DenseNet-BC of this depth and growth rate (the authors' `--layers 100 --growth 12`).
   * Only tests change it, to load narrow fixture checkpoints through the same code.
   */
  network?: { depth: number; growthRate: number };
}

/** The notebook's config literal. */
export interface UnleashingMaskConfig {
  /**
   * `train` (default): train the classifier and fine-tune as configured; `released`: skip training and evaluate
   * the authors' released weights ({@link UnleashingMaskConfig.released}). Set from `OOD_WEIGHTS` by
   * `currentWeights()`.
   */
  weights?: WeightsSource;
  /** What the released-weights run evaluates; required when `weights` is `released`. */
  released?: UmReleasedOptions;
  /** Quirk handling (see {@link Variant}): every variant listed runs on the same data and pretrained classifiers. */
  variants: readonly Variant[];
  /** One pretrained classifier and one fine-tuning run per method per seed. */
  seeds: readonly number[];
  /** The ID dataset (a labelled registry set). */
  idDataset: DatasetName;
  /** Test OOD sets (registry names; synthetic ones imitate the ID test split). */
  oodDatasets: readonly DatasetName[];
  /**
   * The auxiliary outliers of OE / OE+UM, standing in for the paper's ImageNet auxiliary set; must not be one of
   * `oodDatasets`. `limit` null = as many as the training images (the repo's `ood_factor` 1).
   */
  aux: { name: DatasetName; split: "train" | "test"; limit: number | null };
  data: {
    /** Training images (a seeded subset); null = the whole training split minus `heldOut`. */
    trainLimit: number | null;
    /**
     * Training images held out of all training: the clean variant tunes Mahalanobis on them (the faithful one on
     * the ID test images, as the repo does).
     */
    heldOut: number;
    /** ID test images (a seeded subset); null = all. */
    testLimit: number | null;
    /** Images per OOD set; null = all. */
    oodLimit: number | null;
    /** Seed of every subset and of the synthetic sets. */
    dataSeed: number;
  };
  backbone: UmBackboneConfig;
  /** Training augmentation of every stage (UM: RandomCrop(32, 4) + flip). */
  augment: AugmentationName | readonly AugmentStep[];
  /** The "well-trained" classifier: CE training from scratch (the repo ships its checkpoints instead). */
  pretrain: SgdRecipe & {
    /** `last` epoch (UM's CIFAR-10 config) or the epoch of `best-test` accuracy (its CIFAR-100 `_best` model). */
    selection: "last" | "best-test";
    /** Cache the trained classifier in `checkpoints/unleashing_mask/…` and reuse it when present. */
    cache: boolean;
    /** Per-epoch curve (OOD metrics along the run): images of the ID test set / each OOD set / the train set. */
    curve: { idLimit: number; oodLimit: number; trainLimit: number };
  };
  /** The loss-constraint estimator (`estimate_loss.py`). */
  estimate: {
    /** Fraction of each conv/linear layer's weights kept by the random mask (`prune_rate` 0.965). */
    keepRate: number;
    /** Random masks drawn (the script draws one per run). */
    draws: number;
    batchSize: number;
    /** Apply the training augmentation while measuring (the script iterates the train loader: true). */
    augment: boolean;
    /** Use this value instead of the estimate ("or manual tuning"); null = estimate. */
    manual: number | null;
  };
  /** β of |β·CE − UM| + UM (repo default 1). */
  um: { beta: number };
  /** CE-FT and UM fine-tuning (UM configs: 100 epochs, lr 0.1 cosine, batch 256, wd 1e-4, momentum 0.9). */
  finetune: SgdRecipe;
  /** UMAP: keep rate of the learned mask (`prune_rate` 0.8), frozen weights, its own epochs and rate. */
  umap: { keepRate: number; freezeWeights: boolean; epochs: number; lr: number };
  /** OE / OE+UM (oe-baseline.yaml: 10 epochs, lr 0.01); batch, momentum, wd from `finetune`. */
  oe: { epochs: number; lr: number; /** Weight of the CE-to-uniform term (0.5 in `train_oe`). */ weight: number };
  /** Methods run on top of the pretrained model. */
  methods: readonly UmMethod[];
  /** Scores computed for every model. */
  scores: readonly UmScore[];
  /** Energy: T·logsumexp(f/T). */
  energy: { temperature: number };
  /** ODIN (UM's `get_odin`: T = 1000, ε = 0.0014 on [0, 1] pixels). */
  odin: { temperature: number; epsilon: number };
  /** UM's Mahalanobis (`tune_mahalanobis_hyperparams`). */
  mahalanobis: {
    /** Input-preprocessing magnitudes searched (repo: 0, 0.01, 0.005, 0.002, 0.0014, 0.001, 0.0005). */
    magnitudes: readonly number[];
    /** m: ID images for the regression and m for its validation (repo: 500). */
    tuneSamples: number;
    /** FGSM step of the adversarial pseudo-outliers, in [0, 1]-pixel units (repo: 0.05). */
    advNoise: number;
    /** Training images whose features give the class means and covariance; null = all. */
    fitLimit: number | null;
  };
  /** Images per set scored by the input-space scores (ODIN, Mahalanobis); null = all. */
  inputScoreLimit: number | null;
  /** Images per forward pass when evaluating. */
  evalBatchSize: number;
  /** FPR@95 rule of the `fpr95` column (UM: Hendrycks' nearest rule). */
  fprRule: FprRule;
  /**
   * Optional class split (the leaderboard's near-OOD protocol): the seen classes are trained on (labels 0..k−1),
   * the unseen classes' test images are the near-OOD set `<id>:unseen`. Absent / null = none (the notebook).
   */
  classSplit?: ClassSplitOption | null;
}

/** The numeric fields by what they must be (`null` allowed where the type allows it; lists: every element). */
const RULES: readonly [(v: number) => boolean, string, string][] = [
  [
    (v) => Number.isInteger(v) && v >= 1,
    "a positive integer",
    "aux.limit data.trainLimit data.testLimit " +
    "data.oodLimit pretrain.epochs pretrain.batchSize finetune.epochs finetune.batchSize pretrain.curve.idLimit " +
    "pretrain.curve.oodLimit pretrain.curve.trainLimit estimate.draws estimate.batchSize umap.epochs oe.epochs " +
    "mahalanobis.tuneSamples mahalanobis.fitLimit inputScoreLimit evalBatchSize",
  ],
  [(v) => Number.isInteger(v) && v >= 0, "an integer ≥ 0", "data.heldOut"],
  [
    (v) => v > 0,
    "> 0",
    "backbone.width pretrain.lr finetune.lr um.beta umap.lr oe.lr energy.temperature " +
    "odin.temperature mahalanobis.advNoise",
  ],
  [
    (v) => v >= 0,
    "≥ 0",
    "pretrain.weightDecay finetune.weightDecay estimate.manual oe.weight odin.epsilon " +
    "mahalanobis.magnitudes",
  ],
  [(v) => v > 0 && v <= 1, "in (0, 1]", "estimate.keepRate umap.keepRate"],
  [(v) => v >= 0 && v < 1, "in [0, 1)", "pretrain.momentum finetune.momentum"],
];

/**
 * Throws when the config is inconsistent, naming the field and the valid values; returns the config otherwise.
 * @example Usage
 * ```ts ignore
 * const cfg = checkUnleashingMaskConfig({ ... } satisfies UnleashingMaskConfig);
 * ```
 */
export function checkUnleashingMaskConfig<C extends UnleashingMaskConfig>(cfg: C): C {
  const fail = (msg: string): never => {
    throw new Error(`UnleashingMaskConfig: ${msg}`);
  };
  const oneOf = (v: string, valid: readonly string[], what: string) =>
    valid.includes(v) || fail(`unknown ${what} "${v}". Valid: ${valid.join(", ")}.`);
  for (const [ok, want, paths] of RULES) {
    for (const path of paths.split(" ")) {
      const v = path.split(".").reduce((o: unknown, k) => (o as Record<string, unknown>)[k], cfg);
      for (const x of Array.isArray(v) ? v : [v]) if (x !== null && !ok(x)) fail(`${path} must be ${want}, got ${x}`);
    }
  }
  for (const name of ["variants", "seeds", "oodDatasets", "scores"] as const) {
    if (cfg[name].length === 0) fail(`${name} is empty`);
  }
  if (cfg.mahalanobis.magnitudes.length === 0) fail("mahalanobis.magnitudes is empty");
  cfg.variants.forEach((v) => oneOf(v, VARIANTS, "variant"));
  if (new Set(cfg.seeds).size !== cfg.seeds.length) fail(`seeds repeat: ${cfg.seeds.join(", ")}`);
  [cfg.idDataset, ...cfg.oodDatasets, cfg.aux.name].forEach((n) => oneOf(n, Object.keys(DATASETS), "dataset"));
  if (DATASETS[cfg.idDataset].numClasses < 2) fail(`idDataset "${cfg.idDataset}" is not a labelled dataset`);
  if (cfg.oodDatasets.includes(cfg.idDataset)) fail(`oodDatasets contains the ID dataset "${cfg.idDataset}"`);
  if (cfg.oodDatasets.includes(cfg.aux.name) || cfg.aux.name === cfg.idDataset) {
    fail(`aux.name "${cfg.aux.name}" must differ from the ID dataset and from every test OOD set`);
  }
  if (!isBackboneName(cfg.backbone.name)) fail(`unknown backbone "${cfg.backbone.name}"`);
  if (typeof cfg.augment === "string") oneOf(cfg.augment, Object.keys(AUGMENTATIONS), "augmentation");
  oneOf(cfg.pretrain.selection, ["last", "best-test"], "pretrain.selection");
  cfg.methods.forEach((m) => oneOf(m, UM_METHODS, "method"));
  cfg.scores.forEach((s) => oneOf(s, UM_SCORES, "score"));
  oneOf(cfg.fprRule, FPR_RULES, "fprRule");
  if (cfg.variants.includes("clean") && cfg.scores.includes("mahalanobis") && cfg.data.heldOut < 4) {
    fail(`the clean variant tunes Mahalanobis on data.heldOut images: need at least 4, got ${cfg.data.heldOut}`);
  }
  const split = classSplitProblem(cfg.classSplit, [cfg.idDataset]);
  if (split) fail(split);
  if (cfg.weights !== undefined) oneOf(cfg.weights, WEIGHTS_SOURCES, "weights");
  if (cfg.weights === "released" && !cfg.released) fail("weights is released but released is not set");
  if (cfg.released) checkReleased(cfg.released, fail);
  return cfg;
}

/** The checks of {@link UmReleasedOptions}. */
function checkReleased(r: UmReleasedOptions, fail: (msg: string) => never): void {
  const ids = UNLEASHING_MASK_RELEASED.map((e) => e.id);
  if (r.files.length === 0) fail("released.files is empty");
  for (const f of r.files) if (!ids.includes(f)) fail(`unknown released file "${f}". Valid: ${ids.join(", ")}.`);
  const sets = new Set(r.files.map((f) => f.split("_")[1]));
  if (sets.size > 1) fail(`released.files mix ID datasets (${[...sets].join(", ")}): evaluate one at a time`);
  if (r.oodDatasets.length === 0) fail("released.oodDatasets is empty");
  for (const n of r.oodDatasets) {
    if (!Object.hasOwn(DATASETS, n)) fail(`unknown dataset "${n}". Valid: ${Object.keys(DATASETS).join(", ")}.`);
    if (r.files.some((f) => f.split("_")[1] === n)) fail(`released.oodDatasets contains the ID dataset "${n}"`);
  }
  for (const [path, v] of [["evalLimit", r.evalLimit], ["trainLimit", r.trainLimit]] as const) {
    if (v !== null && !(Number.isInteger(v) && v >= 1)) fail(`released.${path} must be a positive integer, got ${v}`);
  }
  if (!(Number.isInteger(r.heldOut) && r.heldOut >= 0)) {
    fail(`released.heldOut must be an integer ≥ 0, got ${r.heldOut}`);
  }
}
