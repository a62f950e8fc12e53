/**
 * The configuration type of the CMG notebook (`notebooks/cmg.ipynb`, conventions C7): the config cell is one literal
 * that `satisfies CmgConfig`, its sizes picked per run profile with `byProfile`. {@linkcode checkCmgConfig} rejects
 * inconsistent values, naming the field and the valid values.
 *
 * The reference's values (shaoyijia/CMG@265cc2c, papers.md §4): Setting 1 on MNIST, 6 seen / 4 unseen classes in
 * partitions {0–5} … {4–9}; stage 1 the classifier (9-conv CNN + MLP head, 11 outputs) and the CVAE (z 32), each
 * Adam 1e-3, batch 512, 100 epochs; stage 2 15 epochs of the head, Adam 1e-4, 128 ID + 128 generated images,
 * σ = 3, μ = 0.1, evaluation every 20 steps.
 * @module
 */
import { configChecks } from "../../experiment/config_check.ts";
import { type BackboneName, BACKBONES } from "../../backbones/mod.ts";
import { type DatasetName, DATASETS } from "../../datasets/registry.ts";

/**
 * The runs compared on the same data, stage-1 networks and budget: the stage-1 classifier scored with MSP and Energy
 * (`ce`), CMG-s, CMG-e, and the paper's class-mixing ablations of CMG-e: generation from one class embedding
 * (`cmgSingle`) and from σ = 1 instead of the far-out σ (`cmgSigma1`).
 */
export const CMG_METHODS = ["ce", "cmgS", "cmgE", "cmgSingle", "cmgSigma1"] as const;

/** A run of the notebook (also the result rows' `method`). */
export type CmgMethod = typeof CMG_METHODS[number];

/** Display names of the runs. */
export const METHOD_NAMES: Readonly<Record<CmgMethod, string>> = {
  ce: "Stage-1 classifier",
  cmgS: "CMG-s",
  cmgE: "CMG-e",
  cmgSingle: "CMG-e, one class embedding",
  cmgSigma1: "CMG-e, σ = 1",
};

/** ID datasets (Setting 1: MNIST with the 9-conv CNN, CIFAR-10 with ResNet-18; Setting 2: CIFAR-10). */
export const CMG_ID_DATASETS = ["mnist", "cifar10"] as const;

/** An ID dataset of the notebook. */
export type CmgIdDataset = typeof CMG_ID_DATASETS[number];

/**
 * The OOD sets of the reference's Setting 2 (`datasets/datasetsHelper.py` `get_ood_dataset`, l. 66–91), by our
 * registry names: SVHN's test split, `LSUN` = ODIN's `LSUN_resize`, `tinyImageNet` = ODIN's `Imagenet_resize`,
 * `LSUN-FIX` and `ImageNet-FIX` = CSI's fixed-resize sets (alinlab/CSI), CIFAR-100's test split.
 */
export const CMG_SETTING2_OOD = ["svhn", "lsun_resize", "lsun_fix", "tin_resize", "imagenet_fix", "cifar100"] as const;

/** A Setting-2 OOD set. */
export type CmgSetting2Ood = typeof CMG_SETTING2_OOD[number];

/**
 * One experimental setting. **Setting 1**: a partition of an ID dataset, its 6 seen classes the ID data and the test
 * images of the 4 others the OOD set (11 outputs). **Setting 2**: CIFAR-10, all 10 classes, against other datasets
 * (110 outputs, `eval.py` l. 130).
 */
export type CmgSetting =
  | {
    setting: 1;
    idDataset: CmgIdDataset;
    /** Partition 1–5: seen classes {p−1 … p+4}. */
    partition: 1 | 2 | 3 | 4 | 5;
    /** Backbone registry name (`cmg_cnn` for MNIST, `resnet18` for CIFAR-10). */
    backbone: "cmg_cnn" | "resnet18";
    /** Channel-width multiplier of the classifier (1 = the reference). */
    width: number;
  }
  | {
    setting: 2;
    idDataset: "cifar10";
    /** The OOD sets (each a test set against all of CIFAR-10's test images). */
    oodDatasets: readonly CmgSetting2Ood[];
    backbone: "resnet18";
    width: number;
  }
  | CmgSplitSetting;

/**
 * A class-split setting (not in the reference; the leaderboard's protocol, `lib/leaderboard/entries/cmg.ts`): the
 * first `knownClasses` classes of any labelled ID dataset are seen (K = k), the other classes' test images are the
 * near-OOD set `<id>:unseen` (`loadEvalSets`' class split `{ protocol: "vmdls", fold: k }`), and `oodDatasets` are
 * far-OOD sets. The classifier is any registry backbone with CMG's MLP head; n_out = K + 5 (Setting 1's 11 outputs
 * for K = 6); the CVAE, stage-1 epochs and σ are those of the image shape's family ({@linkcode cmgFamily}: 28×28×1 →
 * MNIST's, 32×32×3 → CIFAR-10's), stage 2 evaluates every `evalEvery.setting1` steps.
 */
export interface CmgSplitSetting {
  setting: "split";
  idDataset: DatasetName;
  /** Seen classes: 0 … knownClasses − 1. */
  knownClasses: number;
  /** Far-OOD sets (registry names; the ID images' shape). */
  oodDatasets: readonly DatasetName[];
  backbone: BackboneName;
  width: number;
}

/** Per ID dataset: a value the reference sets per dataset (epochs 100 / 200, σ 3 / 5). */
export type PerDataset<T> = Readonly<Record<CmgIdDataset, T>>;

/** The config literal of the CMG notebook. */
export interface CmgConfig {
  /** Settings (Setting-1 partitions, Setting 2); each runs every method for every seed. */
  settings: readonly CmgSetting[];
  methods: readonly CmgMethod[];
  /**
   * `faithful`: the maximum AUROC over the stage-2 evaluations (the reference's reported number, chosen on the test
   * set, per OOD set; rows `selection: best-test`); `clean`: the last iterate (`selection: last`). One fine-tuning
   * serves both.
   */
  variants: readonly ("faithful" | "clean")[];
  seeds: readonly number[];
  /** Seed of the data subsets (the same for every training seed). */
  dataSeed: number;
  /** Training-split images before the class split (seeded subset; null = all). */
  trainLimit: number | null;
  /** Test images before the class split (seeded subset; null = all). */
  nTest: number | null;
  /** Images per Setting-2 OOD set (seeded subset; null = all). */
  oodLimit: number | null;
  /**
   * Stage 1, the classifier: epochs per ID dataset (reference 100 MNIST, 200 CIFAR-10), batch, Adam lr (512, 1e-3).
   * CIFAR-10's classifier trains with RandomCrop(32, 4) + HorizontalFlip (`train.py` l. 54–57).
   */
  classifier: { epochs: PerDataset<number>; batchSize: number; lr: number };
  /**
   * Stage 1, the CVAE: epochs per ID dataset (reference 100 / 200), batch, Adam lr (512, 1e-3), the MNIST encoder's
   * padding (15 = the reference's 28×28 map, 1 = a narrow CPU variant; CIFAR-10's encoder is a ResNet-18) and width.
   */
  cvae: { epochs: PerDataset<number>; batchSize: number; lr: number; encoderPadding: 15 | 1; width: number };
  /**
   * Stage 2: epochs, ID and generated images per step, Adam lr, μ, evaluation period per setting (reference 15, 128,
   * 128, 1e-4, 0.1, every 20 steps in Setting 1 and 100 in Setting 2).
   */
  finetune: {
    epochs: number;
    batchSize: number;
    genPerStep: number;
    lr: number;
    mu: number;
    evalEvery: { setting1: number; setting2: number };
  };
  /** σ of the generator's z per ID dataset (3 MNIST, 5 CIFAR-10); the `cmgSigma1` ablation uses 1. */
  sigma: PerDataset<number>;
  /** Pictures of the first setting and seed: images per grid (0 = none). */
  galleryImages: number;
  /** Images per forward pass when scoring. */
  evalBatchSize: number;
}

/**
 * The reference's stage-1 epochs per dataset (`train_classifier.py` l. 7–11, `train_cvae.py` l. 9–13) and evaluation
 * period per setting (`fine_tune.py` l. 146, 263); σ per dataset is `CMG_SIGMA` (`generate.ts`).
 */
export const CMG_REFERENCE = {
  epochs: { mnist: 100, cifar10: 200 },
  evalEvery: { setting1: 20, setting2: 100 },
} as const;

/**
 * Seen classes K and classifier outputs n_out of a setting (`MainModel(…, 11)` / `MainModel(32, 3, 110)`; a split
 * setting: K = knownClasses, n_out = K + 5, Setting 1's 11 = 6 + 5).
 */
export function cmgClasses(
  s: { setting: 1 | 2 } | Pick<CmgSplitSetting, "setting" | "knownClasses">,
): { K: number; nOut: number } {
  if (s.setting === "split") return { K: s.knownClasses, nOut: s.knownClasses + 5 };
  return s.setting === 1 ? { K: 6, nOut: 11 } : { K: 10, nOut: 110 };
}

/**
 * The dataset family whose CVAE, stage-1 epochs and σ a setting uses: its ID dataset for Settings 1 and 2; for a
 * split setting, by image shape (28×28×1 → `mnist`, e.g. Fashion-MNIST; 32×32×3 → `cifar10`).
 * @throws for a split setting whose images are neither.
 */
export function cmgFamily(s: Pick<CmgSetting, "setting" | "idDataset">): CmgIdDataset {
  if (s.setting !== "split") return s.idDataset as CmgIdDataset;
  const shape = DATASETS[s.idDataset]?.shape;
  const key = Array.isArray(shape) ? shape.join("x") : String(shape);
  if (key === "28x28x1") return "mnist";
  if (key === "32x32x3") return "cifar10";
  throw new Error(`CMG: no CVAE for ${s.idDataset} (${key} images; 28×28×1 or 32×32×3)`);
}

/**
 * Throws when the config is inconsistent, naming the field (and the valid values); returns it otherwise.
 * @example Usage
 * ```ts ignore
 * const cfg = checkCmgConfig({ ... } satisfies CmgConfig);
 * ```
 */
export function checkCmgConfig<C extends CmgConfig>(cfg: C): C {
  const { fail, check, posInt, positive, inRange, oneOf, list } = configChecks("CmgConfig");
  if (cfg.settings.length === 0) fail("settings is empty");
  cfg.settings.forEach((s, i) => {
    const at = `settings[${i}]`;
    oneOf(String(s.setting), `${at}.setting`, ["1", "2", "split"]);
    if (s.setting === "split") {
      oneOf(s.idDataset, `${at}.idDataset`, Object.keys(DATASETS));
      const classes = DATASETS[s.idDataset].numClasses;
      check(
        Number.isInteger(s.knownClasses) && s.knownClasses >= 2 && s.knownClasses < classes,
        `${at}.knownClasses`,
        s.knownClasses,
        `an integer in 2..${classes - 1} (${s.idDataset} has ${classes} classes)`,
      );
      oneOf(s.backbone, `${at}.backbone`, Object.keys(BACKBONES));
      if (s.oodDatasets.length > 0) list(s.oodDatasets, `${at}.oodDatasets`, Object.keys(DATASETS));
      try {
        cmgFamily(s);
      } catch (e) {
        fail(`${at}.idDataset: ${(e as Error).message}`);
      }
      positive(s.width, `${at}.width`);
      return;
    }
    oneOf(s.idDataset, `${at}.idDataset`, s.setting === 2 ? ["cifar10"] : CMG_ID_DATASETS);
    const backbone = s.idDataset === "mnist" ? "cmg_cnn" : "resnet18";
    oneOf(s.backbone, `${at}.backbone (for ${s.idDataset})`, [backbone]);
    if (s.setting === 1) oneOf(String(s.partition), `${at}.partition`, ["1", "2", "3", "4", "5"]);
    else list(s.oodDatasets, `${at}.oodDatasets`, CMG_SETTING2_OOD);
    positive(s.width, `${at}.width`);
  });
  list(cfg.methods, "methods", CMG_METHODS);
  list(cfg.variants, "variants", ["faithful", "clean"]);
  list(cfg.seeds, "seeds");
  posInt(cfg.trainLimit, "trainLimit", true);
  posInt(cfg.nTest, "nTest", true);
  posInt(cfg.oodLimit, "oodLimit", true);
  for (const d of CMG_ID_DATASETS) {
    posInt(cfg.classifier.epochs[d], `classifier.epochs.${d}`);
    posInt(cfg.cvae.epochs[d], `cvae.epochs.${d}`);
    positive(cfg.sigma[d], `sigma.${d}`);
  }
  posInt(cfg.classifier.batchSize, "classifier.batchSize");
  posInt(cfg.cvae.batchSize, "cvae.batchSize");
  positive(cfg.classifier.lr, "classifier.lr");
  positive(cfg.cvae.lr, "cvae.lr");
  oneOf(String(cfg.cvae.encoderPadding), "cvae.encoderPadding", ["15", "1"]);
  positive(cfg.cvae.width, "cvae.width");
  for (const k of ["epochs", "batchSize", "genPerStep"] as const) posInt(cfg.finetune[k], `finetune.${k}`);
  posInt(cfg.finetune.evalEvery.setting1, "finetune.evalEvery.setting1");
  posInt(cfg.finetune.evalEvery.setting2, "finetune.evalEvery.setting2");
  positive(cfg.finetune.lr, "finetune.lr");
  inRange(cfg.finetune.mu, "finetune.mu", 0, Infinity);
  inRange(cfg.galleryImages, "galleryImages", 0, 256);
  posInt(cfg.evalBatchSize, "evalBatchSize");
  return cfg;
}
