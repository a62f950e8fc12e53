/**
 * The quirks of the authors' code and the deviations of this reproduction, as data, so the notebook lists them
 * from one place (and tests can check that each quirk names how both variants handle it).
 * @module
 */
import type { UnleashingMaskConfig } from "./config.ts";

/** A quirk of `ZFancy/Unleashing-Mask` @1640ce6 and how each variant handles it. */
export interface Quirk {
  /** Short name. */
  id: string;
  /** What the code does, with the file. */
  what: string;
  faithful: string;
  clean: string;
}

/** The quirks found (papers.md §5f, plus those found while porting — marked "new"). */
export const QUIRKS: readonly Quirk[] = [
  {
    id: "criterion-flag",
    what:
      "`get_criterion` (utils/net_utils.py) applies the UM loss only when `criterion` ≠ `CrossEntropyLoss`; every " +
      "YAML sets `criterion: CrossEntropyLoss`, so the README command `main.py --config … --UM <value>` trains plain " +
      "CE (papers.md §5f).",
    faithful: "UM is applied (as with `--criterion UM`), and the README command as written is run as the `CE-FT` " +
      "control (same schedule, plain CE).",
    clean: "Same as faithful: UM applied; `CE-FT` is the control.",
  },
  {
    id: "stochastic-estimate",
    what: "`estimate_loss.py` draws one random mask (kaiming-uniform scores, no seed by default) and iterates the " +
      "augmented train loader, so UM changes from run to run (papers.md §5f).",
    faithful: "UM = the first draw (one run of the script).",
    clean: "UM = the mean over `estimate.draws` seeded draws; the notebook shows every draw, mean and std.",
  },
  {
    id: "msp-double-softmax",
    what: "new: `ood_measure.get_scores` (utils/get_scores.py), used by `main.py --msp`, computes " +
      "max softmax(softmax(f)) — its `logsoftmax` is an `nn.Softmax` applied to the already-softmaxed output.",
    faithful: "`msp` = max_c softmax(softmax(f))_c.",
    clean: "`msp` = max_c softmax(f)_c (Hendrycks & Gimpel).",
  },
  {
    id: "mahalanobis-test-tuning",
    what: "new: `tune_mahalanobis_hyperparams(model, …, train_loader, self.id_loader)` fits the regression and picks " +
      "the magnitude on the first 1 000 ID *test* images, which stay in the evaluation; class statistics come from " +
      "the augmented train loader.",
    faithful: "As the code: tuned on the first 2m ID test images; statistics from augmented training images.",
    clean: "Tuned on held-out training images (never trained on); statistics from unaugmented training images.",
  },
  {
    id: "mahalanobis-saturation",
    what: "new: the score is −`predict_proba(·)[:, 1]`, which saturates to −1 in float64 for strongly " +
      "adversarial-looking inputs (ties among them).",
    faithful: "Score = −P(OOD), as the code.",
    clean: "The regression's negated logit (same ranking without ties).",
  },
  {
    id: "checkpoint-selection",
    what: "CIFAR-10 configs start from `densenet_cifar10_last`, CIFAR-100 from `densenet_cifar100_best`: main.py's " +
      "`model_best.pth` is the epoch with the best *test* accuracy.",
    faithful: "`pretrain.selection: best-test` for CIFAR-100 (rows labelled `best-test`), `last` for CIFAR-10.",
    clean: "`last` for both.",
  },
  {
    id: "umap-freeze",
    what: "new: `densenet_cifar100_UMAP.yaml` sets `freeze_weights: False` (weights train together with the mask " +
      "scores), unlike the CIFAR-10 UMAP config and the paper's description.",
    faithful: "`umap.freezeWeights: false` for CIFAR-100, true for CIFAR-10.",
    clean: "`umap.freezeWeights: true` for both.",
  },
  {
    id: "pretrained-path",
    what: "The README and configs point to `runs/pretrained_models/densenet_*.pth|_last.state`; the repo ships " +
      "`runs/densenet_*_{best,last}.state` (papers.md §5f).",
    faithful: "Not applicable: the classifier is trained here (its recipe is not in the repo).",
    clean: "Not applicable (trained here).",
  },
  {
    id: "oe-ood-list",
    what: "new: `configs/OE/oe-baseline.yaml` lists `ood_set: [LSUN, CIFAR100, iNaturalist, SUN, Places, dtd, LSUN]` " +
      "(LSUN twice, no SVHN), so the README's OE rows average over different sets than its Energy rows.",
    faithful: "Not replicated: every method is averaged over the same OOD sets.",
    clean: "Same sets for every method.",
  },
  {
    id: "oe-batch-size",
    what: "new (from reading, not run): `main_OE.py` builds the outlier loader with `batch_size = args.batch_size * " +
      "args.ood_factor`, a float (256.0) that PyTorch's `BatchSampler` rejects; as written the OE script needs a cast.",
    faithful: "The outlier batch has the ID batch size (what the script means).",
    clean: "Same as faithful (ID batch size).",
  },
];

/**
 * The deviations of a run from the paper's protocol, for the notebook's closing section.
 * @param cfg the run's config.
 * @param info what the run found out (whether the backbone has stages for Mahalanobis).
 */
export function deviations(cfg: UnleashingMaskConfig, info: { featureList: boolean; profile: string }): string[] {
  const out: string[] = [];
  const paperScale = cfg.backbone.name === "densenet_bc_100" && cfg.backbone.width === 1 &&
    (cfg.idDataset === "cifar10" || cfg.idDataset === "cifar100");
  if (!paperScale) {
    out.push(
      `Profile ${info.profile}: ID ${cfg.idDataset} with ${cfg.backbone.name} (width ${cfg.backbone.width}) instead ` +
        `of CIFAR-10/100 with DenseNet-BC-100; ${cfg.data.trainLimit ?? "all"} training images, ` +
        `${cfg.pretrain.epochs} pretraining epochs, ${cfg.finetune.epochs} UM / ${cfg.umap.epochs} UMAP / ` +
        `${cfg.oe.epochs} OE fine-tuning epochs instead of 100 / 100 / 10.`,
    );
  }
  out.push(
    "The pretrained classifier is trained here with UM's fine-tuning recipe (SGD, momentum, cosine per epoch); the " +
      "repo ships its checkpoints without their training recipe.",
    `Auxiliary outliers for OE: \`${cfg.aux.name}\` (${cfg.aux.split} split) stands in for the paper's ImageNet ` +
      "auxiliary set (random 32×32 crops of 64×64 downsampled ImageNet, drawn once); it is not one of the test OOD " +
      "sets, it is cycled when smaller than the training set, and it gets the training augmentation every epoch.",
    "OOD sets: iNaturalist and SUN are not in the project's data layer; averages are over the sets listed " +
      `(${cfg.oodDatasets.join(", ")}).`,
  );
  if (!info.featureList) {
    out.push(
      `Mahalanobis: ${cfg.backbone.name} has no stages (featureList), so Lee et al.'s layer ensemble reduces to the ` +
        "penultimate layer (one layer score into the logistic regression).",
    );
  }
  if (cfg.inputScoreLimit !== null) {
    out.push(
      `ODIN and Mahalanobis score the first ${cfg.inputScoreLimit} images of each set (a forward and backward pass ` +
        "per image); MSP and Energy score all of them.",
    );
  }
  if (cfg.mahalanobis.magnitudes.length < 7 || cfg.mahalanobis.tuneSamples !== 500) {
    out.push(
      `Mahalanobis tuning: magnitudes ${cfg.mahalanobis.magnitudes.join(", ")} and m = ` +
        `${cfg.mahalanobis.tuneSamples} (repo: 0, 0.01, 0.005, 0.002, 0.0014, 0.001, 0.0005 and m = 500).`,
    );
  }
  out.push(
    "LogisticRegressionCV (10 C values, 5 stratified folds, accuracy) is solved by Newton's method in float64 " +
      "instead of lbfgs; the covariance is inverted by Cholesky (jitter only if singular) instead of `pinvh`.",
    "The paper's tables report mean (std) over runs of one released checkpoint; here every seed trains its own " +
      "classifier, so the std includes pretraining variation.",
  );
  return out;
}
