/**
 * The VMDLS notebook's deviations from the paper and the authors' code (BGU-CS-VIL/vmdls@5add9e2, papers.md §2),
 * as `Deviation` data for the shared `deviationsView`, generated from the config: each setting's recipe is
 * compared with the README's training command for it, the sizes and the auto-encoder with the reference's, and the
 * fixed methodological deviations (those of every profile) follow.
 * @module
 */
import type { Deviation } from "../../experiment/claims.ts";
import type { Profile } from "../../report/profile.ts";
import { AUGMENTATIONS } from "../../data/augment.ts";
import { trainConfigOf, type VmdlsConfig, type VmdlsSetting } from "./config.ts";

/** A README training command (`main.py …`), reduced to the values a setting can differ in. */
export interface VmdlsReferenceCommand {
  /** The command in words (backbone, and fine-tuning where it is one). */
  name: string;
  epochs: number;
  optimizer: "adam" | "sgd";
  lr: number;
  /** `--step_size`. */
  stepSize: number;
  /** `--batch_classes` × `--sample_count`. */
  classesPerBatch: number;
  samplesPerClass: number;
  /** `--margins_epoch`, `--margin_max_distance`. */
  marginsEpoch: number;
  maxDistance: number;
  /** `--generation_epoch`, `--kl_coeff` (default 0.1, `models/vae.py` l. 733). */
  generationEpoch: number;
  klWeight: number;
  /** `--latent_dim`. */
  latentDim: number;
  /** Fine-tunes a released checkpoint (`--weights … --finetune`), which is not reproduced. */
  finetune: string | null;
}

const cmd = (
  name: string,
  v:
    & Omit<VmdlsReferenceCommand, "name" | "stepSize" | "generationEpoch" | "klWeight" | "finetune">
    & Partial<VmdlsReferenceCommand>,
): VmdlsReferenceCommand => ({ name, stepSize: 100, generationEpoch: 0, klWeight: 0.1, finetune: null, ...v });

/**
 * The README's training commands by `<idDataset>/<backbone>` (`README.md` "Training"; `--opt` defaults to sgd and
 * `--kl_coeff` to 0.1, `models/vae.py` l. 733, 751). The CIFAR-100 DenseNet and the WRN commands fine-tune
 * released weights (`--weights … --finetune --finetune_lr 0.01`).
 */
export const VMDLS_REFERENCE_COMMANDS: Readonly<Record<string, VmdlsReferenceCommand>> = {
  "mnist/mnist_conv": cmd("mnist-conv", {
    epochs: 500,
    optimizer: "adam",
    lr: 1e-4,
    classesPerBatch: 10,
    samplesPerClass: 16,
    marginsEpoch: 1,
    maxDistance: 32,
    latentDim: 32,
  }),
  "cifar10/vmdls_vgg": cmd("VGG", {
    epochs: 500,
    optimizer: "adam",
    lr: 1e-3,
    classesPerBatch: 8,
    samplesPerClass: 8,
    marginsEpoch: 10,
    maxDistance: 32,
    latentDim: 32,
  }),
  "cifar10/resnet18": cmd("ResNet-18", {
    epochs: 500,
    optimizer: "sgd",
    lr: 0.01,
    classesPerBatch: 10,
    samplesPerClass: 8,
    marginsEpoch: 10,
    maxDistance: 32,
    latentDim: 32,
  }),
  "cifar10/densenet_bc_100": cmd("DenseNet-BC-100", {
    epochs: 500,
    optimizer: "sgd",
    lr: 0.1,
    classesPerBatch: 10,
    samplesPerClass: 8,
    marginsEpoch: 30,
    maxDistance: 32,
    latentDim: 32,
  }),
  "cifar10/wrn_28_10": cmd("WRN-28-10 (fine-tuning)", {
    epochs: 500,
    optimizer: "sgd",
    lr: 1e-3,
    classesPerBatch: 10,
    samplesPerClass: 20,
    marginsEpoch: 40,
    maxDistance: 32,
    latentDim: 32,
    finetune: "finetuning_wideresnet.tar",
  }),
  "cifar100/densenet_bc_100": cmd("DenseNet-BC-100 (fine-tuning)", {
    epochs: 200,
    optimizer: "sgd",
    lr: 1e-3,
    stepSize: 64,
    classesPerBatch: 20,
    samplesPerClass: 20,
    marginsEpoch: 40,
    maxDistance: 64,
    latentDim: 64,
    finetune: "checkpoint_100.pth.tar",
  }),
};

/** A setting as the rows name it: `<id>[:0-(k−1)] · <backbone>`. */
function settingName(s: VmdlsSetting): string {
  return `${s.idDataset}${s.classNum === null ? "" : `:0-${s.classNum - 1}`} · ${s.backbone}`;
}

/** 60000 → "60 000". */
const thousands = (n: number) => String(n).replace(/\B(?=(\d{3})+$)/g, " ");

/** Training images of the reference's ID datasets (the whole training split). */
const TRAIN_SIZE: Readonly<Record<string, number>> = { mnist: 60000, cifar10: 50000, cifar100: 50000 };

/**
 * Every deviation of a run from the paper and the reference code, for `deviationsView`.
 * @param cfg the run's config.
 * @param profile the run profile (named in the scale entries).
 * @param skipped optional OOD sets that were not installed (`VmdlsExperiment.skipped`); default none.
 * @example Usage
 * ```ts ignore
 * deviationsView(vmdlsDeviations(cfg, PROFILE, exp.skipped));
 * ```
 */
export function vmdlsDeviations(
  cfg: VmdlsConfig,
  profile: Profile,
  skipped: readonly string[] = [],
): Deviation[] {
  const out: Deviation[] = [];
  const add = (id: string, paper: string, ours: string, variant?: "faithful" | "clean") =>
    out.push(variant ? { id, paper, ours, variant } : { id, paper, ours });
  const ids = [...new Set(cfg.settings.map((s) => s.idDataset))];

  // Per setting: the recipe against the README's command.
  for (const s of cfg.settings) {
    const name = settingName(s);
    const ref = VMDLS_REFERENCE_COMMANDS[`${s.idDataset}/${s.backbone}`];
    const t = trainConfigOf(cfg, s);
    if (!ref) {
      add(`recipe (${name})`, "no README command for this backbone", `${t.epochs} epochs, ${t.optimizer} lr ${t.lr}`);
      continue;
    }
    const refBc = s.classNum === null ? ref.classesPerBatch : Math.min(ref.classesPerBatch, s.classNum);
    const diff = [
      t.epochs !== ref.epochs ? `${t.epochs} epochs` : "",
      t.optimizer !== ref.optimizer || t.lr !== ref.lr ? `${t.optimizer === "adam" ? "Adam" : "SGD"} lr ${t.lr}` : "",
      t.stepSize !== ref.stepSize || t.stepGamma !== 0.1 ? `StepLR(${t.stepSize}, ${t.stepGamma})` : "",
      s.width !== 1 ? `width ×${s.width}` : "",
      s.latentDim !== ref.latentDim ? `D = ${s.latentDim}` : "",
      t.classesPerBatch !== refBc || t.samplesPerClass !== ref.samplesPerClass
        ? `batches ${t.classesPerBatch} × ${t.samplesPerClass}`
        : "",
      t.marginSchedule.fromEpoch !== ref.marginsEpoch || t.marginSchedule.max !== ref.maxDistance ||
        t.marginSchedule.start !== 0.15 || t.marginSchedule.jump !== 1
        ? `M_t from ${t.marginSchedule.start} +${t.marginSchedule.jump} from epoch ${t.marginSchedule.fromEpoch} ` +
          `to M_d ${t.marginSchedule.max}`
        : "",
      t.generationEpoch !== ref.generationEpoch || t.klWeight !== ref.klWeight
        ? `KL ×${t.klWeight} from epoch ${t.generationEpoch}`
        : "",
      t.margin !== 0.1 ? `margin ${t.margin}` : "",
      t.priorStd !== 0.1 ? `prior std ${t.priorStd}` : "",
      s.idDataset === "mnist" && JSON.stringify(t.augment) !== JSON.stringify(AUGMENTATIONS.mnistRotateCrop)
        ? `augmentation ${t.augment.map((a) => a.op).join(", ") || "none"}`
        : "",
    ].filter(Boolean);
    const paper = `\`main.py\` ${ref.name}: ${ref.epochs} epochs, ${ref.optimizer === "adam" ? "Adam" : "SGD"} lr ` +
      `${ref.lr}, StepLR(${ref.stepSize}, 0.1), width 1, D = ${ref.latentDim}, batches ${ref.classesPerBatch} × ` +
      `${ref.samplesPerClass}, M_t from 0.15 +1 from epoch ${ref.marginsEpoch} to M_d ${ref.maxDistance}, KL ×` +
      `${ref.klWeight} from epoch ${ref.generationEpoch}` +
      (s.classNum !== null && refBc !== ref.classesPerBatch ? ` (B_c capped at the ${s.classNum} known classes)` : "");
    if (diff.length) add(`recipe (${name})`, paper, `profile ${profile}: ${diff.join("; ")}; every training alike`);
    if (ref.finetune) {
      add(
        `fine-tuning (${name})`,
        `fine-tunes released weights (\`--weights ${ref.finetune} --finetune\`: heads only for epochs 0–21, then ` +
          "the whole network with a new optimiser)",
        "not reproduced: trained from scratch",
      );
    }
  }

  // Data sizes.
  if (cfg.trainLimit !== null || cfg.nTest !== null || cfg.nOod !== null) {
    add(
      "sizes",
      `every training image (${
        ids.map((id) => `${id} ${thousands(TRAIN_SIZE[id]!)}`).join(", ")
      }), the 10 000 ID test ` +
        "images, 10 000 images per OOD set",
      `seeded subsets fixed for all seeds: ${cfg.trainLimit ?? "all"} training, ${cfg.nTest ?? "all"} ID test, ` +
        `${cfg.nOod ?? "all"} per OOD set`,
    );
  }
  add(
    "held-out",
    "trains on the whole training split",
    `${cfg.heldOut} training images are held out of every training (both variants; the clean variant's ` +
      "normalisation and threshold set)",
  );

  // OOD sets.
  const optional = cfg.optionalOodDatasets.filter((d) => !skipped.includes(d));
  const oodOurs = [...cfg.oodDatasets, ...optional].join(", ");
  if (ids.includes("mnist")) {
    add(
      "OOD sets (MNIST)",
      "Omniglot (first 10 000 `images_evaluation` files, inverted, resized), MNIST-noise, noise",
      oodOurs + (ids.length > 1 ? " (every setting)" : ""),
    );
  }
  if (ids.some((id) => id !== "mnist")) {
    add(
      "OOD sets (CIFAR)",
      "one ODIN set per test command: TinyImageNet crop/resize, LSUN crop/resize (10 000 each)",
      oodOurs,
    );
  }
  if (skipped.length) {
    add(
      "skipped sets",
      "Omniglot is the paper's third MNIST OOD set",
      `${skipped.join(", ")}: not installed, skipped (install the dataset to score it)`,
    );
  }
  if (cfg.settings.some((s) => s.classNum !== null)) {
    add(
      "open-set split",
      "`--class_num` splits known (label < class_num) and unknown classes for CIFAR-10/100 only " +
        "(`CIFAR10Partial`, `CIFAR100Partial`, `data/datasets.py`); `mnist` ignores it",
      "the same split on MNIST (`mnist:0-(k−1)`): trained on the known classes of the training subset; the " +
        "unseen digits' test images are the near-OOD set `mnist:unseen`, averaged with the far-OOD sets",
    );
  }

  // Reconstruction weighting.
  const recon = cfg.settings.filter((s) => s.reconstruction);
  if (recon.length) {
    const a = cfg.autoencoder;
    const diff = [
      a.width !== 1 ? `width ×${a.width}` : "",
      a.latentDim !== 32 ? `code ${a.latentDim}` : "",
      a.batchSize !== 256 ? `batch ${a.batchSize}` : "",
      a.lr !== 1e-4 ? `Adam lr ${a.lr}` : "",
    ].filter(Boolean);
    add(
      "auto-encoder",
      "ships `ae_mnist.ckpt` (trained by `models/mnist_ae.py`: code 32, MSE, Adam 1e-4, batch 256, on MNIST " +
        "training digits; the epoch count is not recorded)",
      `trained here once per setting on its training images, seeded: ${a.epochs} epochs` +
        (diff.length ? `; ${diff.join("; ")}` : ""),
    );
    const range = "the AE, trained on [0, 1] images, is fed the normalised [−1, 1] test batch (`models/vae.py` l. 319)";
    add("AE input range", range, "as the code", "faithful");
    add("AE input range", range, "the AE gets the [0, 1] image; x̂ is normalised before L1", "clean");
  }
  for (const s of cfg.settings.filter((s) => !s.reconstruction)) {
    const wrn = s.backbone === "wrn_28_10";
    if (s.idDataset === "mnist") {
      add(`no reconstruction (${settingName(s)})`, "the MNIST test command uses `--ae_features`", "r̃ ≡ 1");
    } else if (!wrn) {
      add(
        `no reconstruction (${settingName(s)})`,
        "`--ae_features` with pl_bolts' ResNet-18 AE (CIFAR-10) or a ResNet-50 AE (CIFAR-100)",
        "the CIFAR auto-encoders are not implemented: r̃ ≡ 1",
      );
    }
  }

  // Fixed methodological deviations.
  const norm = "M = 1 + max log-likelihood and r̃ = r / max r over the whole test set: ID test and the run's OOD " +
    "set (`models/vae.py` l. 394, 554)";
  add(
    "normalisation",
    norm,
    "as the code: one test run per OOD set, M and the r scale over ID test + that set (`vmdlsReferenceScores`)",
    "faithful",
  );
  add("normalisation", norm, "M and the r scale from the held-out training images", "clean");
  const f1 = "logs the best macro-F1 over τ = −1 … −1000 on the test set (an oracle; `--thresholding` is absent)";
  add("threshold / macro-F1", f1, "as the code, per OOD set (an oracle: no claim is made on it)", "faithful");
  add("threshold / macro-F1", f1, "τ at 95 % TPR on the held-out training images", "clean");
  add(
    "checkpoint",
    "keeps the top 3 by F1 on ID test + OOD test and the last (`ModelCheckpoint(monitor='f1_score')`); the README " +
      "says the experiments used the last",
    "the last checkpoint in both variants",
  );
  add(
    "statistics pass",
    "the test command's sampler (1 × 4 996 per class, in class order, 12 batches on MNIST) visits classes 0 and 1 " +
      "twice, and per-class sums are overwritten by each batch while counts accumulate (papers.md §2c)",
    "not reproduced: each class's mean and biased covariance from every training image once " +
      "(`lib/scores/vmdls_gaussians.ts`)",
  );
  add(
    "Gaussians numerics",
    "float32 statistics; +1e-6·I per step until torch's float32 Cholesky succeeds, then (steps + 2)·1e-6·I for all",
    "float64 fit with the same loop; a pivot ≤ 2⁻²³·max Σ_ii counts as a failure (a float32 proxy)",
  );
  add(
    "classes of all rows",
    "class = argmax_c ℓ_c of the Gaussians that give the score (papers.md §2c)",
    "every VMDLS row's closed-set class comes from the full-ensemble Gaussians (the latent-only ablation keeps " +
      "them: only its ID/unknown decision changes); CE rows use argmax of the logits",
  );
  if (ids.includes("mnist")) {
    add(
      "MNIST-noise",
      "a normalised test image + U[0, 1) per pixel, redrawn at every read (`MNISTNoise`); values above 1 kept",
      "x + 127.5·u in pixel units, seeded, rounded and clipped to 255 in uint8 (stroke pixels lose their noise)",
    );
    add(
      "noise",
      "U[0, 1) images, not normalised, redrawn at every read (`NOISE`)",
      "`uniform`: U[0, 1] pixels stored in uint8, normalised like the ID images, seeded",
    );
  }
  add(
    "CE baselines",
    "the paper's CE baselines (MSP, Mahalanobis) are not in the reference code",
    "the backbone's linear head trained with cross-entropy on VMDLS's exact batch stream (sampler, " +
      "augmentation, optimiser, schedule, epochs); MSP, Lee et al.'s Mahalanobis ensemble, and VMDLS's Gaussians " +
      "(r̃ ≡ 1, held-out normalisation)",
  );
  add(
    "seeds",
    "seed unset (`seed_everything()`); noise sets redrawn at every read",
    "every training seeded (weights, batches, augmentation, ε); data subsets and synthetic sets from `dataSeed`",
  );
  add(
    "published numbers",
    "the paper's tables (not transcribed, not reachable offline; papers.md §2e)",
    "no paper number is compared",
  );
  // The released-weights run (`released.ts`).
  if (cfg.weights === "released" && cfg.released) {
    const r = cfg.released;
    add(
      "released weights: Gaussians' fit set",
      "one pass over the training split with the test sampler (B_c × B_s images, per-class sums overwritten by each " +
        "batch: `test_step`, models/vae.py l. 300-309)",
      `every one of ${r.trainLimit === null ? "the training images" : `${thousands(r.trainLimit)} training images`}` +
        " (our fit, the same as for trained networks)",
    );
    if (r.networks.some((id) => id !== "cnn_mnist")) {
      add(
        "released weights: CIFAR reconstruction weighting",
        "`--ae_features` with pl_bolts' CIFAR-10 ResNet-18 AE (downloaded from pl-bolts' S3) or `ae_cifar100.ckpt` " +
          "(a ResNet-50 AE)",
        "r̃ ≡ 1 for the CIFAR networks (neither auto-encoder is implemented here)",
      );
      add(
        "released weights: WRN dropout",
        "WRN blocks apply dropout 0.1 at test time too (`training=True`, models/wide_resnet.py l. 29): random features",
        "dropout off at inference (the expected features)",
      );
    }
  }
  return out;
}
