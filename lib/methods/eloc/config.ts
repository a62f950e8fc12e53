/**
 * The configuration type of the ELOC notebook (`notebooks/eloc.ipynb`, conventions C7): the config cell is one
 * literal that `satisfies ElocConfig`, its sizes picked per run profile with `byProfile`. {@linkcode checkElocConfig}
 * rejects inconsistent values, naming the field and the valid values.
 *
 * The reference's values (YU1ut/Ensemble-of-Leave-out-Classifiers@d80b29c, papers.md §3): 5 leave-out folds of a
 * seed-3 class permutation; SGD 0.1, momentum 0.9, weight decay 5e-4, ×0.1 at epochs 50 and 75 of 100; 100 ID + 100
 * left-out images per step; β = 0.2, m = 0.4; T = 1000 and ε per backbone and OOD set (README table; 0.0014 by
 * default); model selection on 1 000 ID test + 1 000 iSUN images; DenseNet-BC-100 and WRN-28-10 on CIFAR-10/100.
 * @module
 */
import { configChecks } from "../../experiment/config_check.ts";
import type { BackboneName } from "../../backbones/mod.ts";
import { type DatasetName, DATASETS } from "../../datasets/mod.ts";
import type { ElocTrainConfig } from "./train.ts";
import { WEIGHTS_SOURCES, type WeightsSource } from "../../report/profile.ts";
import { ELOC_RELEASED_FAMILIES } from "../../checkpoints/released/eloc.ts";
import type { ElocReleasedConfig } from "./released.ts";

/**
 * The trainings compared (same backbone, data, recipe and budget): the ensemble with the margin-entropy loss, the
 * ensemble trained with plain cross-entropy per fold (the ablation), and one classifier on all classes (the MSP
 * and ODIN baselines). The ablation's left-out batch still goes through the network (its entropy is recorded for
 * the margin display) but carries no loss; with BatchNorm backbones it still moves the running statistics.
 */
export const ELOC_METHODS = ["eloc", "elocCe", "ce"] as const;

/** A training of the notebook (also the result rows' `method`). */
export type ElocMethod = typeof ELOC_METHODS[number];

/** Display names of the trainings. */
export const METHOD_NAMES: Readonly<Record<ElocMethod, string>> = {
  eloc: "ELOC",
  elocCe: "ELOC w/o margin-entropy",
  ce: "CE",
};

/** ID datasets with an ELOC class permutation (10 or 100 classes). */
export const ELOC_ID_DATASETS = ["fashion_mnist", "mnist", "cifar10", "cifar100"] as const;

/** Backbones of the reference (CIFAR) and the small registry ones for the embedded data. */
export const ELOC_BACKBONES = ["lenet", "resnet20", "densenet_bc_100", "wrn_28_10"] as const;

/** The input perturbations of the ensemble score (`score.ts`): the repo's CE-based one and the paper's. */
export const ELOC_PERTURBATIONS = ["ce", "entropy"] as const;

/** One experimental setting: an ID dataset with its backbone and its perturbation magnitudes. */
export interface ElocSetting {
  /**
   * ID dataset (registry name): {@linkcode checkElocConfig} allows `ELOC_ID_DATASETS`; the leaderboard
   * (`lib/leaderboard/entries/eloc.ts`) runs `runEloc` on its protocol's.
   */
  idDataset: DatasetName;
  /** Backbone registry name: {@linkcode checkElocConfig} allows `ELOC_BACKBONES`; the leaderboard runs its own. */
  backbone: BackboneName;
  /**
   * Open-set split (not in the reference; the leaderboard's near-OOD protocol): only the first `knownClasses`
   * classes are ID (`loadEvalSets`' class split `{ protocol: "vmdls", fold: knownClasses }`), the other classes'
   * test images are the near-OOD set `<id>:unseen`, and the five leave-out folds partition the k known classes
   * (`elocSplit(fold, k)`: contiguous groups, leave-one-class-out for k = 5). Absent = every class is ID.
   */
  knownClasses?: number;
  /** Channel-width multiplier (1 = the registry's network). */
  width: number;
  /** ε of the input perturbation ([0, 1]-pixel units); the README's table (0.0014 is the code's default). */
  epsilon: number;
  /** ε per OOD set where the README's table differs from `epsilon`. */
  epsilonByOod?: Readonly<Record<string, number>>;
}

/** The config literal of the ELOC notebook. */
export interface ElocConfig {
  /** Experimental settings; each trains every method for every seed. */
  settings: readonly ElocSetting[];
  /** Trainings, in display order. */
  methods: readonly ElocMethod[];
  /**
   * Model-selection variants: `faithful` selects each classifier's epoch on 1 000 ID **test** images + validation
   * OOD images and drops those test images from evaluation (the reference); `clean` selects on held-out training
   * images + the same validation OOD images. One training serves both (selection does not change training).
   */
  variants: readonly ("faithful" | "clean")[];
  /** Training seeds. */
  seeds: readonly number[];
  /** Seed of the data subsets and the synthetic OOD sets (the same for every training seed). */
  dataSeed: number;
  /** Test OOD sets by registry name; synthetic and transformed sets imitate the ID test split. */
  oodDatasets: readonly DatasetName[];
  /** The validation OOD set of model selection (the reference: iSUN); never a test set. */
  validationOod: DatasetName;
  /** Training images (seeded subset; null = all). */
  trainLimit: number | null;
  /** Training-split images held out of training: the clean variant's validation ID images. */
  heldOut: number;
  /** ID test images (seeded subset; null = all); the faithful variant takes its validation images from them. */
  nTest: number | null;
  /** Images per OOD set (seeded subset, or the number generated). */
  nOod: number | null;
  /** Validation images per side (ID and OOD; reference 1 000). */
  nValidation: number;
  /** The training recipe of every method (the CE baseline ignores β, m and the left-out batch). */
  train: ElocTrainConfig;
  /** Temperature T of the ensemble score and of the ODIN baseline (reference 1000). */
  temperature: number;
  /** Input perturbations of the ensemble score, each its own score (`eloc`, `elocEntropy`). */
  perturbations: readonly (typeof ELOC_PERTURBATIONS)[number][];
  /** Scoring ablations of the ELOC ensemble: one leave-out classifier (fold 1) instead of five; no perturbation. */
  scoreAblations: { singleMember: boolean; noPerturbation: boolean };
  /** ε values of the sweep (the ELOC ensemble, the first variant's selection, first seed); empty = no sweep. */
  epsilonSweep: readonly number[];
  /** Images per forward (+ backward) pass when scoring. */
  evalBatchSize: number;
  /** Checkpoint folder (absolute or relative to the repository root); null = no checkpoints. */
  runDir: string | null;
  /**
   * Where the networks come from (`currentWeights()`, `OOD_WEIGHTS`): `train` (absent = train) trains them as
   * above; `released` trains nothing and evaluates the re-implementation's released ensembles (`released`).
   */
  weights?: WeightsSource;
  /** The released-weights run: which archives, how many images (`released.ts`); required when `weights` is `released`. */
  released?: ElocReleasedConfig;
}

/** ε of a setting for one OOD set. */
export function epsilonOf(setting: Pick<ElocSetting, "epsilon" | "epsilonByOod">, ood: string): number {
  return setting.epsilonByOod?.[ood] ?? setting.epsilon;
}

/**
 * Throws when the config is inconsistent, naming the field (and the valid values); returns it otherwise.
 * @example Usage
 * ```ts ignore
 * const cfg = checkElocConfig({ ... } satisfies ElocConfig);
 * ```
 */
export function checkElocConfig<C extends ElocConfig>(cfg: C): C {
  const { fail, check, posInt, positive, inRange, oneOf, list } = configChecks("ElocConfig");
  if (cfg.settings.length === 0) fail("settings is empty");
  cfg.settings.forEach((s, i) => {
    const at = `settings[${i}]`;
    oneOf(s.idDataset, `${at}.idDataset`, ELOC_ID_DATASETS);
    oneOf(s.backbone, `${at}.backbone`, ELOC_BACKBONES);
    positive(s.width, `${at}.width`);
    if (s.knownClasses !== undefined) {
      const classes = DATASETS[s.idDataset].numClasses;
      check(
        Number.isInteger(s.knownClasses) && s.knownClasses >= 5 && s.knownClasses < classes,
        `${at}.knownClasses`,
        s.knownClasses,
        `an integer in 5..${classes - 1} (five leave-out folds need ≥ 5 known classes)`,
      );
    }
    inRange(s.epsilon, `${at}.epsilon`, 0, 1);
    for (const [ood, e] of Object.entries(s.epsilonByOod ?? {})) inRange(e, `${at}.epsilonByOod.${ood}`, 0, 1);
  });
  list(cfg.methods, "methods", ELOC_METHODS);
  list(cfg.variants, "variants", ["faithful", "clean"]);
  list(cfg.seeds, "seeds");
  list(cfg.oodDatasets, "oodDatasets", Object.keys(DATASETS));
  oneOf(cfg.validationOod, "validationOod", Object.keys(DATASETS));
  if (cfg.oodDatasets.includes(cfg.validationOod)) {
    fail(`validationOod "${cfg.validationOod}" is also a test OOD set (selection must not see test sets)`);
  }
  posInt(cfg.trainLimit, "trainLimit", true);
  posInt(cfg.heldOut, "heldOut");
  posInt(cfg.nTest, "nTest", true);
  posInt(cfg.nOod, "nOod", true);
  posInt(cfg.nValidation, "nValidation");
  if (cfg.variants.includes("clean")) {
    check(cfg.heldOut >= cfg.nValidation, "heldOut", cfg.heldOut, `≥ nValidation (${cfg.nValidation})`);
  }
  if (cfg.variants.includes("faithful") && cfg.nTest !== null) {
    check(cfg.nTest > cfg.nValidation, "nTest", cfg.nTest, `> nValidation (${cfg.nValidation}): faithful drops them`);
  }
  const t = cfg.train;
  for (const k of ["epochs", "batchSize", "oodBatchSize"] as const) posInt(t[k], `train.${k}`);
  positive(t.lr, "train.lr");
  inRange(t.momentum, "train.momentum", 0, 1, true);
  inRange(t.weightDecay, "train.weightDecay", 0, Infinity);
  inRange(t.gamma, "train.gamma", 0, 1);
  inRange(t.beta, "train.beta", 0, Infinity);
  inRange(t.margin, "train.margin", 0, Infinity);
  positive(cfg.temperature, "temperature");
  list(cfg.perturbations, "perturbations", ELOC_PERTURBATIONS);
  for (const e of cfg.epsilonSweep) inRange(e, "epsilonSweep entry", 0, 1);
  posInt(cfg.evalBatchSize, "evalBatchSize");
  if (cfg.weights !== undefined) oneOf(cfg.weights, "weights", WEIGHTS_SOURCES);
  if (cfg.weights === "released" && !cfg.released) fail(`weights is "released" but the config has no released options`);
  if (cfg.released) {
    const r = cfg.released;
    list(r.files, "released.files", ELOC_RELEASED_FAMILIES.map((f) => f.id));
    list(r.oodDatasets, "released.oodDatasets", Object.keys(DATASETS));
    posInt(r.nTest, "released.nTest", true);
    posInt(r.nOod, "released.nOod", true);
    posInt(r.nValidation, "released.nValidation");
    posInt(r.batchSize, "released.batchSize");
  }
  return cfg;
}
