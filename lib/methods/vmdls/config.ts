/**
 * The configuration type of the VMDLS notebook (`notebooks/vmdls.ipynb`, conventions C7): the config cell is one
 * literal that `satisfies VmdlsConfig`, its sizes picked per run profile with `byProfile`.
 * {@linkcode checkVmdlsConfig} rejects inconsistent values, naming the field and the valid values.
 *
 * The reference's values (BGU-CS-VIL/vmdls@5add9e2 `README.md`, papers.md §2b): MNIST — `mnist_conv`, D = 32,
 * Adam 1e-4, StepLR(100, 0.1), 500 epochs, 10 × 16 balanced batches, margin 0.1, M_t from 0.15 by +1 per epoch
 * from epoch 1 up to M_d = 32, KL weight 0.1 from epoch 0, the rotation + crop augmentation, the auto-encoder's
 * reconstruction weighting; CIFAR-10 — DenseNet-BC-100 (SGD 0.1, 10 × 8, `margins_epoch` 30), ResNet-18
 * (SGD 0.01, 10 × 8, `margins_epoch` 10), VGG (Adam 1e-3, 8 × 8, `margins_epoch` 10); CIFAR-100 — DenseNet-BC-100
 * with D = 64 and M_d = 64 (the README fine-tunes a released checkpoint there; not reproduced).
 * @module
 */
import { configChecks } from "../../experiment/config_check.ts";
import type { BackboneName } from "../../backbones/mod.ts";
import { type DatasetName, DATASETS } from "../../datasets/mod.ts";
import type { VmdlsTrainConfig } from "./train.ts";
import { VMDLS_RELEASED_NETWORKS } from "../../checkpoints/released/vmdls.ts";

const RELEASED_NETWORK_IDS = Object.keys(VMDLS_RELEASED_NETWORKS);

/**
 * The trainings compared (same backbone, data, sampler, augmentation, optimiser and budget): VMDLS, its two loss
 * ablations, and a cross-entropy network for the baselines.
 */
export const VMDLS_METHODS = ["vmdls", "noDistancing", "noKl", "ce"] as const;

/** A training of the notebook (also the result rows' `method`). */
export type VmdlsMethod = typeof VMDLS_METHODS[number];

/** Display names of the trainings. */
export const METHOD_NAMES: Readonly<Record<VmdlsMethod, string>> = {
  vmdls: "VMDLS",
  noDistancing: "VMDLS w/o distancing",
  noKl: "VMDLS w/o KL",
  ce: "CE",
};

/** The ID datasets of the reference. */
export const VMDLS_ID_DATASETS = ["mnist", "cifar10", "cifar100"] as const;

/** The reference's encoders, as registry backbones. */
export const VMDLS_BACKBONES = ["mnist_conv", "densenet_bc_100", "resnet18", "vmdls_vgg", "wrn_28_10"] as const;

/** One experimental setting: an ID dataset with its backbone and the reference command's values for it. */
export interface VmdlsSetting {
  /**
   * ID dataset (registry name): {@linkcode checkVmdlsConfig} allows the reference's (`VMDLS_ID_DATASETS`); the
   * leaderboard (`lib/leaderboard/entries/vmdls.ts`) runs others through `runVmdls` (e.g. Fashion-MNIST).
   */
  idDataset: DatasetName;
  /**
   * Backbone registry name: {@linkcode checkVmdlsConfig} allows the reference's encoders (`VMDLS_BACKBONES`); the
   * leaderboard wraps its protocol's backbone (e.g. `lenet`).
   */
  backbone: BackboneName;
  /** Channel-width multiplier (1 = the reference's network). */
  width: number;
  /** Latent dimension D (`--latent_dim`). */
  latentDim: number;
  /**
   * `--class_num`: the known classes are 0 … classNum − 1 and the test images of the others become the near-OOD set
   * `<id>:unseen` (the reference's open-set split, `CIFAR10Partial` / `CIFAR100Partial` in `data/datasets.py`, for
   * CIFAR only: its MNIST loader ignores `--class_num`, so an MNIST split is ours); null = every class is known.
   */
  classNum: number | null;
  /** Training values of this setting's command that differ from `VmdlsConfig.train` (e.g. CIFAR's augmentation). */
  train?: Partial<VmdlsTrainConfig>;
  /** Far-OOD sets of this setting (they must have the ID images' shape); default `VmdlsConfig.oodDatasets`. */
  oodDatasets?: readonly DatasetName[];
  /** Trainings run in this setting (a subset of `VmdlsConfig.methods`); default all of them. */
  methods?: readonly VmdlsMethod[];
  /**
   * The reconstruction weighting (`--ae_features`; the reference uses it everywhere but WRN). Only the MNIST
   * auto-encoder is implemented: true needs a 28×28×1 ID dataset.
   */
  reconstruction: boolean;
}

/** The auto-encoder of the reconstruction weighting (the reference's `mnist_ae.py`; trained once per setting). */
export interface VmdlsAutoencoderConfig {
  /** Width multiplier of its 100 channels / 500 units (1 = the reference). */
  width: number;
  /** Code width (reference 32). */
  latentDim: number;
  /** Epochs over the setting's training images (the reference's count is not recorded). */
  epochs: number;
  /** Images per step (reference 256). */
  batchSize: number;
  /** Adam's rate (reference 1e-4). */
  lr: number;
}

/**
 * The released-weights run (`weights: "released"`, `released.ts`): which of the authors' networks to evaluate, on
 * how much data. Training is skipped; the Gaussians are fitted on `trainLimit` training images.
 */
export interface VmdlsReleasedOptions {
  /**
   * Released networks by checkpoint id (`VMDLS_RELEASED_NETWORKS` in `lib/checkpoints/released/vmdls.ts`, e.g.
   * `cnn_mnist`, `cifar10_densenet`); each is evaluated with its README test command's D and auto-encoder.
   */
  networks: readonly string[];
  /** Training images the per-class Gaussians are fitted on (seeded subset; null = the whole training split). */
  trainLimit: number | null;
  /** Held-out training-split images (the clean variant's normalisation and threshold set). */
  heldOut: number;
  /** ID test images (null = all). */
  nTest: number | null;
  /** Images per OOD set (null = all / the ID test count for synthetic sets). */
  nOod: number | null;
  /** OOD sets of the CIFAR networks (MNIST networks use the config's `oodDatasets` and optional sets). */
  cifarOodDatasets: readonly DatasetName[];
  /** Folder of the released files (default `OOD_RELEASED_DIR`, else `checkpoints/released`). */
  root?: string | null;
  /**
   * Narrow copies of the networks (tests: fixture checkpoints made by `make_vmdls_fixtures.py`): the width of the
   * encoder and of the auto-encoder, and D. Default: the released networks (width 1, the README's D).
   */
  narrow?: { width: number; latentDim: number };
}

/** The config literal of the VMDLS notebook. */
export interface VmdlsConfig {
  /**
   * Where the weights come from (`currentWeights()`, `OOD_WEIGHTS`): `train` (default) trains every setting;
   * `released` skips training and evaluates the authors' released networks (`released`).
   */
  weights?: "train" | "released";
  /** The released-weights run's options (needed when `weights` is `released`). */
  released?: VmdlsReleasedOptions;
  /** Experimental settings; each trains its methods for every seed. */
  settings: readonly VmdlsSetting[];
  /** Trainings, in display order. */
  methods: readonly VmdlsMethod[];
  /** Scoring variants (see `run.ts`): `faithful` (the reference's test-set normalisation and best-F1 oracle) and
   * `clean` (everything fixed on held-out training images). Training is the same for both (the last checkpoint). */
  variants: readonly ("faithful" | "clean")[];
  /** Training seeds (weights, batches, augmentation, ε). */
  seeds: readonly number[];
  /** Seed of the data subsets, the held-out split and the synthetic OOD sets (the same for every training seed). */
  dataSeed: number;
  /** Far-OOD sets by registry name; synthetic and transformed sets imitate the ID test split. */
  oodDatasets: readonly DatasetName[];
  /**
   * Downloadable OOD sets (e.g. `omniglot`, the paper's third MNIST OOD set) scored when installed and skipped with
   * a note otherwise.
   */
  optionalOodDatasets: readonly DatasetName[];
  /** Training images (seeded subset; null = all): the training set of every method and the Gaussians' fit set. */
  trainLimit: number | null;
  /** Training-split images held out of training: the clean variant's normalisation and threshold set. */
  heldOut: number;
  /** ID test images (seeded subset; null = all). */
  nTest: number | null;
  /** Images per OOD set (seeded subset, or the number generated). */
  nOod: number | null;
  /** The training recipe shared by every setting (each setting may override values) and every method. */
  train: VmdlsTrainConfig;
  /** Scoring ablations of the VMDLS network: without the reconstruction weighting; latent-only Gaussians. */
  scoreAblations: { noReconstruction: boolean; latentOnly: boolean };
  /** The reconstruction weighting's auto-encoder. */
  autoencoder: VmdlsAutoencoderConfig;
  /** Images per forward pass when extracting features. */
  evalBatchSize: number;
  /**
   * Checkpoint folder (absolute, or relative to the repository root); each training checkpoints every epoch into
   * `<runDir>/<id>[-k<classNum>]-<backbone>-w<width>/<method>/s<seed>` and resumes from it, the auto-encoder into
   * `…/ae` (a finished one is loaded instead of retrained). null = no checkpoints.
   */
  runDir: string | null;
}

/** The trainings of a setting (its `methods`, else the config's), in the config's order. */
export function methodsOf(cfg: Pick<VmdlsConfig, "methods">, setting: Pick<VmdlsSetting, "methods">): VmdlsMethod[] {
  return cfg.methods.filter((m) => !setting.methods || setting.methods.includes(m));
}

/** A setting's training recipe: the shared one with the setting's overrides. */
export function trainConfigOf(cfg: Pick<VmdlsConfig, "train">, setting: Pick<VmdlsSetting, "train">): VmdlsTrainConfig {
  return { ...cfg.train, ...setting.train };
}

/**
 * Throws when the config is inconsistent, naming the field (and the valid values); returns it otherwise.
 * @example Usage
 * ```ts ignore
 * const cfg = checkVmdlsConfig({ ... } satisfies VmdlsConfig);
 * ```
 */
export function checkVmdlsConfig<C extends VmdlsConfig>(cfg: C): C {
  const { fail, check, posInt, positive, inRange, oneOf, list } = configChecks("VmdlsConfig");
  if (cfg.settings.length === 0) fail("settings is empty");
  list(cfg.methods, "methods", VMDLS_METHODS);
  cfg.settings.forEach((s, i) => {
    const at = `settings[${i}]`;
    oneOf(s.idDataset, `${at}.idDataset`, VMDLS_ID_DATASETS);
    oneOf(s.backbone, `${at}.backbone`, VMDLS_BACKBONES);
    positive(s.width, `${at}.width`);
    posInt(s.latentDim, `${at}.latentDim`);
    const classes = s.idDataset === "cifar100" ? 100 : 10;
    if (s.classNum !== null) {
      check(
        Number.isInteger(s.classNum) && s.classNum >= 2 && s.classNum < classes,
        `${at}.classNum`,
        s.classNum,
        `an integer in 2..${classes - 1} (or null for every class)`,
      );
    }
    if (s.methods) list(s.methods, `${at}.methods`, cfg.methods);
    if (s.oodDatasets) list(s.oodDatasets, `${at}.oodDatasets`, Object.keys(DATASETS));
    if (s.reconstruction && s.idDataset !== "mnist") {
      fail(`${at}.reconstruction: only the MNIST auto-encoder is implemented (${s.idDataset} has none)`);
    }
    const t = trainConfigOf(cfg, s);
    const known = s.classNum ?? classes;
    check(
      t.classesPerBatch >= 2 && t.classesPerBatch <= known,
      `${at} classesPerBatch`,
      t.classesPerBatch,
      `in 2..${known} (the known classes; a triplet needs two)`,
    );
  });
  list(cfg.variants, "variants", ["faithful", "clean"]);
  list(cfg.seeds, "seeds");
  list(cfg.oodDatasets, "oodDatasets", Object.keys(DATASETS));
  for (const name of cfg.optionalOodDatasets) oneOf(name, "optionalOodDatasets", Object.keys(DATASETS));
  posInt(cfg.trainLimit, "trainLimit", true);
  posInt(cfg.heldOut, "heldOut");
  posInt(cfg.nTest, "nTest", true);
  posInt(cfg.nOod, "nOod", true);
  const t = cfg.train;
  for (const k of ["epochs", "stepSize", "classesPerBatch", "samplesPerClass"] as const) posInt(t[k], `train.${k}`);
  check(t.samplesPerClass >= 2, "train.samplesPerClass", t.samplesPerClass, "≥ 2 (a positive pair per class)");
  positive(t.lr, "train.lr");
  oneOf(t.optimizer, "train.optimizer", ["adam", "sgd"]);
  inRange(t.stepGamma, "train.stepGamma", 0, 1);
  positive(t.margin, "train.margin");
  inRange(t.klWeight, "train.klWeight", 0, Infinity);
  positive(t.priorStd, "train.priorStd");
  inRange(t.generationEpoch, "train.generationEpoch", 0, Infinity);
  const a = cfg.autoencoder;
  positive(a.width, "autoencoder.width");
  for (const k of ["latentDim", "epochs", "batchSize"] as const) posInt(a[k], `autoencoder.${k}`);
  positive(a.lr, "autoencoder.lr");
  posInt(cfg.evalBatchSize, "evalBatchSize");
  if (cfg.weights !== undefined) oneOf(cfg.weights, "weights", ["train", "released"]);
  const r = cfg.released;
  if (cfg.weights === "released" && !r) fail('weights is "released" but released (the networks to evaluate) is absent');
  if (r) {
    list(r.networks, "released.networks", RELEASED_NETWORK_IDS);
    posInt(r.trainLimit, "released.trainLimit", true);
    posInt(r.heldOut, "released.heldOut");
    posInt(r.nTest, "released.nTest", true);
    posInt(r.nOod, "released.nOod", true);
    for (const name of r.cifarOodDatasets) oneOf(name, "released.cifarOodDatasets", Object.keys(DATASETS));
  }
  return cfg;
}
