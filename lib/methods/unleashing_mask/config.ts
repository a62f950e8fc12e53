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

/**
 * Which reading of the authors' code a run follows where that code has quirks (papers.md §5f and the list in
 * `mod.ts`): `faithful` reproduces what `ZFancy/Unleashing-Mask` computes (UM *applied*, i.e. the README command
 * plus `--criterion UM`), `clean` fixes the quirks.
 */
export type Variant = "faithful" | "clean";

/** The variants, in display order. */
export const VARIANTS: readonly Variant[] = ["faithful", "clean"];

/**
 * The fine-tuning methods the notebook can run on top of the pretrained classifier (the pretrained model itself is
 * always scored, as method `CE`):
 * - `CE-FT`: fine-tuning with plain cross-entropy and UM's schedule — what the README command trains as written
 *   (`--UM <value>` without `--criterion`), the control with the same extra training as UM;
 * - `UM`: fine-tuning with |β·CE − UM| + UM;
 * - `UMAP`: a learned binary mask over the (frozen) weights, same loss;
 * - `OE`: outlier exposure fine-tuning (CE + 0.5·CE-to-uniform on auxiliary outliers);
 * - `OE+UM`: the same with the UM loss on the ID term.
 */
export const UM_METHODS = ["CE-FT", "UM", "UMAP", "OE", "OE+UM"] as const;

/** A fine-tuning method of the notebook. */
export type UmMethod = typeof UM_METHODS[number];

/** The method name of the pretrained classifier's rows (no fine-tuning). */
export const BASE_METHOD = "CE";

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

/** The notebook's config literal. */
export interface UnleashingMaskConfig {
  /** Quirk handling (see {@link Variant}). */
  variant: Variant;
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
}

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
  const posInt = (v: number, name: string) => {
    if (!Number.isInteger(v) || v < 1) fail(`${name} must be a positive integer, got ${v}`);
  };
  const optLimit = (v: number | null, name: string) => v === null || posInt(v, name);
  const fraction = (v: number, name: string) => {
    if (!(v > 0 && v <= 1)) fail(`${name} must be in (0, 1], got ${v}`);
  };
  const recipe = (r: SgdRecipe, name: string) => {
    posInt(r.epochs, `${name}.epochs`);
    posInt(r.batchSize, `${name}.batchSize`);
    if (!(r.lr > 0)) fail(`${name}.lr must be > 0, got ${r.lr}`);
    if (!(r.momentum >= 0 && r.momentum < 1)) fail(`${name}.momentum must be in [0, 1), got ${r.momentum}`);
    if (!(r.weightDecay >= 0)) fail(`${name}.weightDecay must be ≥ 0, got ${r.weightDecay}`);
  };
  if (!VARIANTS.includes(cfg.variant)) fail(`unknown variant "${cfg.variant}". Valid: ${VARIANTS.join(", ")}.`);
  if (cfg.seeds.length === 0) fail("seeds is empty");
  if (new Set(cfg.seeds).size !== cfg.seeds.length) fail(`seeds repeat: ${cfg.seeds.join(", ")}`);
  const names = Object.keys(DATASETS).join(", ");
  for (const n of [cfg.idDataset, ...cfg.oodDatasets, cfg.aux.name]) {
    if (!Object.hasOwn(DATASETS, n)) fail(`unknown dataset "${n}". Valid: ${names}.`);
  }
  if (DATASETS[cfg.idDataset].numClasses < 2) fail(`idDataset "${cfg.idDataset}" is not a labelled dataset`);
  if (cfg.oodDatasets.length === 0) fail("oodDatasets is empty");
  if (cfg.oodDatasets.includes(cfg.idDataset)) fail(`oodDatasets contains the ID dataset "${cfg.idDataset}"`);
  if (cfg.oodDatasets.includes(cfg.aux.name) || cfg.aux.name === cfg.idDataset) {
    fail(`aux.name "${cfg.aux.name}" must differ from the ID dataset and from every test OOD set`);
  }
  optLimit(cfg.aux.limit, "aux.limit");
  optLimit(cfg.data.trainLimit, "data.trainLimit");
  if (!Number.isInteger(cfg.data.heldOut) || cfg.data.heldOut < 0) fail(`data.heldOut must be an integer ≥ 0`);
  optLimit(cfg.data.testLimit, "data.testLimit");
  optLimit(cfg.data.oodLimit, "data.oodLimit");
  if (!isBackboneName(cfg.backbone.name)) fail(`unknown backbone "${cfg.backbone.name}"`);
  if (!(cfg.backbone.width > 0)) fail(`backbone.width must be > 0, got ${cfg.backbone.width}`);
  if (typeof cfg.augment === "string" && !Object.hasOwn(AUGMENTATIONS, cfg.augment)) {
    fail(`unknown augmentation "${cfg.augment}". Valid: ${Object.keys(AUGMENTATIONS).join(", ")}.`);
  }
  recipe(cfg.pretrain, "pretrain");
  if (cfg.pretrain.selection !== "last" && cfg.pretrain.selection !== "best-test") {
    fail(`pretrain.selection must be "last" or "best-test", got "${cfg.pretrain.selection}"`);
  }
  posInt(cfg.pretrain.curve.idLimit, "pretrain.curve.idLimit");
  posInt(cfg.pretrain.curve.oodLimit, "pretrain.curve.oodLimit");
  posInt(cfg.pretrain.curve.trainLimit, "pretrain.curve.trainLimit");
  fraction(cfg.estimate.keepRate, "estimate.keepRate");
  posInt(cfg.estimate.draws, "estimate.draws");
  posInt(cfg.estimate.batchSize, "estimate.batchSize");
  if (cfg.estimate.manual !== null && !(cfg.estimate.manual >= 0)) fail(`estimate.manual must be null or ≥ 0`);
  if (!(cfg.um.beta > 0)) fail(`um.beta must be > 0, got ${cfg.um.beta}`);
  recipe(cfg.finetune, "finetune");
  fraction(cfg.umap.keepRate, "umap.keepRate");
  posInt(cfg.umap.epochs, "umap.epochs");
  if (!(cfg.umap.lr > 0)) fail(`umap.lr must be > 0`);
  posInt(cfg.oe.epochs, "oe.epochs");
  if (!(cfg.oe.lr > 0)) fail(`oe.lr must be > 0`);
  if (!(cfg.oe.weight >= 0)) fail(`oe.weight must be ≥ 0`);
  for (const m of cfg.methods) {
    if (!(UM_METHODS as readonly string[]).includes(m)) fail(`unknown method "${m}". Valid: ${UM_METHODS.join(", ")}.`);
  }
  if (cfg.scores.length === 0) fail("scores is empty");
  for (const s of cfg.scores) {
    if (!(UM_SCORES as readonly string[]).includes(s)) fail(`unknown score "${s}". Valid: ${UM_SCORES.join(", ")}.`);
  }
  if (!(cfg.energy.temperature > 0)) fail("energy.temperature must be > 0");
  if (!(cfg.odin.temperature > 0) || !(cfg.odin.epsilon >= 0)) fail("odin needs temperature > 0 and epsilon ≥ 0");
  if (cfg.mahalanobis.magnitudes.length === 0 || cfg.mahalanobis.magnitudes.some((m) => !(m >= 0))) {
    fail("mahalanobis.magnitudes must be a non-empty list of numbers ≥ 0");
  }
  posInt(cfg.mahalanobis.tuneSamples, "mahalanobis.tuneSamples");
  if (cfg.variant === "clean" && cfg.scores.includes("mahalanobis") && cfg.data.heldOut < 4) {
    fail(`the clean variant tunes Mahalanobis on data.heldOut images: need at least 4, got ${cfg.data.heldOut}`);
  }
  if (!(cfg.mahalanobis.advNoise > 0)) fail("mahalanobis.advNoise must be > 0");
  optLimit(cfg.mahalanobis.fitLimit, "mahalanobis.fitLimit");
  optLimit(cfg.inputScoreLimit, "inputScoreLimit");
  posInt(cfg.evalBatchSize, "evalBatchSize");
  if (!FPR_RULES.includes(cfg.fprRule)) fail(`unknown fprRule "${cfg.fprRule}". Valid: ${FPR_RULES.join(", ")}.`);
  return cfg;
}
