/**
 * The quirks of the authors' code and the deviations of this reproduction, as `Deviation` data for the shared
 * `deviationsView` (one entry per quirk and variant where the variants differ).
 * @module
 */
import type { Deviation } from "../../experiment/claims.ts";
import type { UnleashingMaskConfig } from "./config.ts";

/**
 * The quirks of `ZFancy/Unleashing-Mask` @1640ce6 (papers.md §5f, plus those found while porting — marked "new"):
 * id, what the code does, how the faithful variant handles it, and how the clean one does where it differs.
 */
const QUIRKS: readonly (readonly [string, string, string, string?])[] = [
  [
    "criterion-flag",
    "`get_criterion` (utils/net_utils.py) applies the UM loss only when `criterion` ≠ `CrossEntropyLoss`; every " +
    "YAML sets `criterion: CrossEntropyLoss`, so the README command `main.py --config … --UM <value>` trains " +
    "plain CE (papers.md §5f).",
    "UM is applied (as with `--criterion UM`), and the README command as written is run as the `CE-FT` control " +
    "(same schedule, plain CE).",
  ],
  [
    "stochastic-estimate",
    "`estimate_loss.py` draws one random mask (kaiming-uniform scores, no seed by default) and iterates the " +
    "augmented train loader, so UM changes from run to run (papers.md §5f).",
    "UM = the first draw (one run of the script).",
    "UM = the mean over `estimate.draws` seeded draws; the notebook shows every draw, mean and std.",
  ],
  [
    "msp-double-softmax",
    "new: `ood_measure.get_scores` (utils/get_scores.py), used by `main.py --msp`, computes max " +
    "softmax(softmax(f)) — its `logsoftmax` is an `nn.Softmax` applied to the already-softmaxed output.",
    "`msp` = max_c softmax(softmax(f))_c.",
    "`msp` = max_c softmax(f)_c (Hendrycks & Gimpel).",
  ],
  [
    "mahalanobis-test-tuning",
    "new: `tune_mahalanobis_hyperparams(model, …, train_loader, self.id_loader)` fits the regression and picks " +
    "the magnitude on the first 1 000 ID *test* images, which stay in the evaluation; class statistics come from " +
    "the augmented train loader.",
    "As the code: tuned on the first 2m ID test images; statistics from augmented training images.",
    "Tuned on held-out training images (never trained on); statistics from unaugmented training images.",
  ],
  [
    "mahalanobis-saturation",
    "new: the score is −`predict_proba(·)[:, 1]`, which saturates to −1 in float64 for strongly " +
    "adversarial-looking inputs (ties among them).",
    "Score = −P(OOD) in float64, as the code (returned as float32 by an order- and tie-preserving map of P).",
    "The regression's negated logit (same ranking without ties).",
  ],
  [
    "checkpoint-selection",
    "CIFAR-10 configs start from `densenet_cifar10_last`, CIFAR-100 from `densenet_cifar100_best`: main.py's " +
    "`model_best.pth` is the epoch with the best *test* accuracy.",
    "`pretrain.selection: best-test` for CIFAR-100 (rows labelled `best-test`), `last` for CIFAR-10.",
    "`last` for both.",
  ],
  [
    "umap-freeze",
    "new: `densenet_cifar100_UMAP.yaml` sets `freeze_weights: False` (weights train together with the mask " +
    "scores), unlike the CIFAR-10 UMAP config and the paper's description.",
    "`umap.freezeWeights: false` for CIFAR-100, true for CIFAR-10.",
    "`umap.freezeWeights: true` for both.",
  ],
  [
    "pretrained-path",
    "The README and configs point to `runs/pretrained_models/densenet_*.pth|_last.state`; the repo ships " +
    "`runs/densenet_*_{best,last}.state` (papers.md §5f).",
    "Not applicable: the classifier is trained here (its recipe is not in the repo).",
  ],
  [
    "oe-ood-list",
    "new: `configs/OE/oe-baseline.yaml` lists `ood_set: [LSUN, CIFAR100, iNaturalist, SUN, Places, dtd, LSUN]` " +
    "(LSUN twice, no SVHN), so the README's OE rows average over different sets than its Energy rows.",
    "Not replicated: every method is averaged over the same OOD sets.",
  ],
  [
    "oe-batch-size",
    "new (from reading, not run): `main_OE.py` builds the outlier loader with `batch_size = args.batch_size * " +
    "args.ood_factor`, a float (256.0) that PyTorch's `BatchSampler` rejects; as written the OE script needs a " +
    "cast.",
    "The outlier batch has the ID batch size (what the script means).",
  ],
];

/**
 * The quirks of the authors' code (one entry per variant where the variants handle it differently) and the
 * deviations of a run from the paper's protocol, for `deviationsView`.
 * @param cfg the run's config.
 * @param info whether the backbone has stages for Mahalanobis, and the profile.
 */
export function umDeviations(
  cfg: UnleashingMaskConfig,
  info: { featureList: boolean; profile: string },
): Deviation[] {
  const quirks = QUIRKS.flatMap(([id, paper, faithful, clean]): Deviation[] =>
    clean === undefined ? [{ id, paper, ours: faithful }] : [
      { id, paper, ours: faithful, variant: "faithful" },
      { id, paper, ours: clean, variant: "clean" },
    ]
  );
  const out: Deviation[] = [];
  const add = (id: string, paper: string, ours: string) => out.push({ id, paper, ours });
  if (cfg.weights === "released" && cfg.released) return [...releasedQuirks(quirks), ...releasedDeviations(cfg)];
  const paperScale = cfg.backbone.name === "densenet_bc_100" && cfg.backbone.width === 1 &&
    (cfg.idDataset === "cifar10" || cfg.idDataset === "cifar100");
  if (!paperScale) {
    add(
      "scale",
      "CIFAR-10/100 with DenseNet-BC-100; UM / UMAP fine-tuning 100 epochs, OE 10.",
      `Profile ${info.profile}: ID ${cfg.idDataset} with ${cfg.backbone.name} (width ${cfg.backbone.width}); ` +
        `${cfg.data.trainLimit ?? "all"} training images, ${cfg.pretrain.epochs} pretraining epochs, ` +
        `${cfg.finetune.epochs} UM / ${cfg.umap.epochs} UMAP / ${cfg.oe.epochs} OE fine-tuning epochs.`,
    );
  }
  add(
    "pretraining",
    "Starts from the released `runs/densenet_cifar*_{last,best}.state`, whose training recipe is not in the repo.",
    "The classifier is trained here with UM's fine-tuning recipe (SGD, momentum, cosine per epoch).",
  );
  add(
    "aux-outliers",
    "OE's auxiliary outliers: random 32×32 crops of 64×64 downsampled ImageNet (`data/imagenet_oe.py`).",
    `\`${cfg.aux.name}\` (${cfg.aux.split} split), not one of the test OOD sets, cycled when smaller than the ` +
      "training set, with the training augmentation every epoch.",
  );
  const seven = ["cifar100", "inaturalist", "sun", "places365", "textures", "lsun_crop", "svhn"];
  const same = cfg.idDataset === "cifar10" && seven.every((s) => cfg.oodDatasets.includes(s as never));
  add(
    "ood-sets",
    "Averages over the seven sets of `configs/smallscale/densenet_cifar10.yaml` (`ood_set: [CIFAR100, iNaturalist, " +
      "SUN, Places, dtd, LSUN, SVHN]`); `data/OOD.py` squashes SUN, Places, dtd and iNaturalist to 32×32 " +
      "(`Resize((32, 32))`), reads LSUN (ODIN's 32×32 crops) as is. It does not say which copies of iNaturalist, " +
      "SUN and Places it reads.",
    (same ? "The same seven sets" : `Averages over ${cfg.oodDatasets.join(", ")}`) + ", every image-folder set " +
      "squashed to the ID size as `data/OOD.py` does; iNaturalist and SUN are the 10 000-image MOS subsets (Huang " +
      "& Li 2021), Places a seeded 10 000 of the Places365 test images.",
  );
  add(
    "held-out",
    "The faithful code trains on all 50 000 training images (its Mahalanobis tunes on ID test images).",
    `${cfg.data.heldOut} training images are held out of all training for both variants (the clean variant tunes ` +
      "Mahalanobis on them), so both variants share the same pretrained classifiers.",
  );
  if (!info.featureList) {
    add(
      "mahalanobis-layers",
      "Lee et al.'s feature ensemble over the network's stages (`feature_list`).",
      `${cfg.backbone.name} has no stages (featureList): the ensemble reduces to the penultimate layer.`,
    );
  }
  if (cfg.inputScoreLimit !== null) {
    add(
      "input-score-limit",
      "ODIN and Mahalanobis score every image.",
      `ODIN and Mahalanobis score the first ${cfg.inputScoreLimit} images of each set (a forward and backward pass ` +
        "per image); MSP and Energy score all of them.",
    );
  }
  if (cfg.mahalanobis.magnitudes.length < 7 || cfg.mahalanobis.tuneSamples !== 500) {
    add(
      "mahalanobis-tuning",
      "Magnitudes 0, 0.01, 0.005, 0.002, 0.0014, 0.001, 0.0005 and m = 500.",
      `Magnitudes ${cfg.mahalanobis.magnitudes.join(", ")} and m = ${cfg.mahalanobis.tuneSamples}.`,
    );
  }
  add(
    "logistic-solver",
    "`LogisticRegressionCV` (lbfgs) and `pinvh` of the covariance.",
    "The same CV (10 C values, 5 stratified folds, accuracy) solved by Newton's method in float64; the covariance " +
      "inverted by Cholesky (jitter only if singular).",
  );
  add(
    "seeds",
    "Mean (std) over runs of one released checkpoint.",
    "Every seed trains its own classifier, so the std includes pretraining variation.",
  );
  return [...quirks, ...out];
}

/** The quirks that concern scoring, the only ones a released-weights run (no training) meets. */
function releasedQuirks(quirks: Deviation[]): Deviation[] {
  const scoring = ["msp-double-softmax", "mahalanobis-test-tuning", "mahalanobis-saturation"];
  return quirks.filter((q) => scoring.includes(q.id));
}

/** What a released-weights run (`weights: "released"`, `released.ts`) does differently from the authors' runs. */
function releasedDeviations(cfg: UnleashingMaskConfig): Deviation[] {
  const r = cfg.released!;
  const out: Deviation[] = [
    {
      id: "released-weights",
      paper: "`main.py --evaluate` / `--final` on the model it trained; the README's Sample Results are means over " +
        "the authors' runs.",
      ours: `The committed files ${r.files.join(", ")} (read without executing their pickle) in our ` +
        "densenet_bc_100 (NonAffineBatchNorm; the input normalisation applied by the data pipeline, not inside " +
        "forward); one file is one run, so there is no std.",
    },
    {
      id: "released-no-finetune",
      paper: "UM / UMAP fine-tune the released model for 100 epochs (configs/smallscale/*.yaml).",
      ours: "Not run (days on a CPU); only the pretrained models are scored. The README's Energy+UM row is shown " +
        "as the authors' number.",
    },
  ];
  if (r.evalLimit !== null || r.trainLimit !== null) {
    out.push({
      id: "released-subsets",
      paper: "Every ID test image and every image of each OOD set; class statistics from all 50 000 training images.",
      ours: `Seeded subsets: ${r.evalLimit ?? "all"} ID test images and ${r.evalLimit ?? "all"} per OOD set; ` +
        `${r.trainLimit ?? "all"} training images for Mahalanobis.`,
    });
  }
  if (cfg.inputScoreLimit !== null) {
    out.push({
      id: "input-score-limit",
      paper: "ODIN and Mahalanobis score every image.",
      ours: `ODIN and Mahalanobis score the first ${cfg.inputScoreLimit} images of each set.`,
    });
  }
  return out;
}
