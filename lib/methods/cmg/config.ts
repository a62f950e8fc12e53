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

/** ID datasets of Setting 1 (MNIST's 9-conv CNN, CIFAR-10's ResNet-18). */
export const CMG_ID_DATASETS = ["mnist", "cifar10"] as const;

/** One experimental setting: a Setting-1 partition of an ID dataset with its backbone. */
export interface CmgSetting {
  idDataset: typeof CMG_ID_DATASETS[number];
  /** Partition 1–5: seen classes {p−1 … p+4}. */
  partition: 1 | 2 | 3 | 4 | 5;
  /** Backbone registry name (`cmg_cnn` for MNIST). */
  backbone: "cmg_cnn" | "resnet18";
  /** Channel-width multiplier of the classifier (1 = the reference). */
  width: number;
}

/** The config literal of the CMG notebook. */
export interface CmgConfig {
  /** Settings (one per partition); each runs every method for every seed. */
  settings: readonly CmgSetting[];
  methods: readonly CmgMethod[];
  /**
   * `faithful`: the maximum AUROC over the stage-2 evaluations (the reference's reported number, chosen on the test
   * set; rows `selection: best-test`); `clean`: the last iterate (`selection: last`). One fine-tuning serves both.
   */
  variants: readonly ("faithful" | "clean")[];
  seeds: readonly number[];
  /** Seed of the data subsets (the same for every training seed). */
  dataSeed: number;
  /** Training-split images before the class split (seeded subset; null = all). */
  trainLimit: number | null;
  /** Test images before the class split (seeded subset; null = all). */
  nTest: number | null;
  /** Stage 1, the classifier: epochs, batch, Adam lr (reference 100, 512, 1e-3). */
  classifier: { epochs: number; batchSize: number; lr: number };
  /**
   * Stage 1, the CVAE: epochs, batch, Adam lr (reference 100, 512, 1e-3), encoder padding (15 = the reference's
   * 28×28 map, 1 = a narrow CPU variant) and width.
   */
  cvae: { epochs: number; batchSize: number; lr: number; encoderPadding: 15 | 1; width: number };
  /** Stage 2: epochs, ID and generated images per step, Adam lr, μ, evaluation period (reference 15, 128, 128, 1e-4, 0.1, 20). */
  finetune: { epochs: number; batchSize: number; genPerStep: number; lr: number; mu: number; evalEvery: number };
  /** σ of the generator's z (3 MNIST, 5 CIFAR-10); the `cmgSigma1` ablation uses 1. */
  sigma: number;
  /** Pictures of the first setting and seed: images per grid (0 = none). */
  galleryImages: number;
  /** Images per forward pass when scoring. */
  evalBatchSize: number;
}

/**
 * Throws when the config is inconsistent, naming the field (and the valid values); returns it otherwise.
 * @example Usage
 * ```ts ignore
 * const cfg = checkCmgConfig({ ... } satisfies CmgConfig);
 * ```
 */
export function checkCmgConfig<C extends CmgConfig>(cfg: C): C {
  const { fail, posInt, positive, inRange, oneOf, list } = configChecks("CmgConfig");
  if (cfg.settings.length === 0) fail("settings is empty");
  cfg.settings.forEach((s, i) => {
    const at = `settings[${i}]`;
    oneOf(s.idDataset, `${at}.idDataset`, CMG_ID_DATASETS);
    oneOf(String(s.partition), `${at}.partition`, ["1", "2", "3", "4", "5"]);
    oneOf(s.backbone, `${at}.backbone`, ["cmg_cnn", "resnet18"]);
    positive(s.width, `${at}.width`);
  });
  list(cfg.methods, "methods", CMG_METHODS);
  list(cfg.variants, "variants", ["faithful", "clean"]);
  list(cfg.seeds, "seeds");
  posInt(cfg.trainLimit, "trainLimit", true);
  posInt(cfg.nTest, "nTest", true);
  for (const k of ["epochs", "batchSize"] as const) {
    posInt(cfg.classifier[k], `classifier.${k}`);
    posInt(cfg.cvae[k], `cvae.${k}`);
  }
  positive(cfg.classifier.lr, "classifier.lr");
  positive(cfg.cvae.lr, "cvae.lr");
  oneOf(String(cfg.cvae.encoderPadding), "cvae.encoderPadding", ["15", "1"]);
  positive(cfg.cvae.width, "cvae.width");
  for (const k of ["epochs", "batchSize", "genPerStep", "evalEvery"] as const) posInt(cfg.finetune[k], `finetune.${k}`);
  positive(cfg.finetune.lr, "finetune.lr");
  inRange(cfg.finetune.mu, "finetune.mu", 0, Infinity);
  positive(cfg.sigma, "sigma");
  inRange(cfg.galleryImages, "galleryImages", 0, 256);
  posInt(cfg.evalBatchSize, "evalBatchSize");
  return cfg;
}
