/**
 * The notebook's "Deviations from the paper" section, generated from the config so that the numbers in it are
 * the ones the run used. Each item compares with the reference setting (papers.md §6b–§6d).
 * @module
 */
import type { Profile } from "../../report/profile.ts";
import { type Displayable, markdownView } from "../../report/jupyter.ts";
import type { CiderConfig } from "./config.ts";

/** The paper's CIFAR settings (papers.md §6b), for the comparison lines. */
export const PAPER_SETTINGS = {
  epochs: 500,
  batchSize: 512,
  lr: 0.5,
  warmupEpochs: 10,
  cifar10: { backbone: "resnet18", alpha: 0.95, w: 2, k: 100 },
  cifar100: { backbone: "resnet34", alpha: 0.5, w: 1, k: 300 },
} as const;

/** Every deviation of this run from the paper / reference code, as a markdown list. */
export function deviationsList(cfg: CiderConfig, profile: Profile): string[] {
  const t = cfg.train;
  const ids = [...new Set(cfg.settings.map((s) => s.idDataset))];
  const cifar = ids.every((id) => id === "cifar10" || id === "cifar100");
  const out: string[] = [];
  if (!cifar) {
    out.push(
      `**Data.** ID = ${ids.join(", ")} (embedded) with OOD = ${cfg.oodDatasets.join(", ")}, instead of CIFAR-10/100 ` +
        `with SVHN, Places365, LSUN-C, iSUN and Textures (the \`paper\` profile's sets, not run here). Synthetic and ` +
        `transformed sets are generated like the ID test split (lib/datasets).`,
    );
  }
  if (cfg.trainLimit !== null || !cifar) {
    out.push(
      `**Sizes.** ${cfg.trainLimit ?? "all"} training images (also the KNN bank and the probe's training set), ` +
        `${cfg.nTest} ID test images and ${cfg.nOod} images per OOD set, seeded subsets fixed for all seeds. The ` +
        `reference uses all 50 000 training images as the bank, the 10 000 test images, and 19 random batches ` +
        `(9 728 images) of a shuffled OOD loader, different at every evaluation.`,
    );
  }
  for (const s of cfg.settings) {
    const ref = s.idDataset === "cifar100" ? PAPER_SETTINGS.cifar100 : PAPER_SETTINGS.cifar10;
    const diffs = [
      s.width !== 1 ? `width ×${s.width} (penultimate ${512 * s.width}-d instead of 512-d)` : "",
      s.backbone !== ref.backbone ? `${s.backbone} instead of ${ref.backbone}` : "",
      s.prototypeMomentum !== ref.alpha ? `α = ${s.prototypeMomentum} (paper ${ref.alpha})` : "",
      s.compactnessWeight !== ref.w ? `w = ${s.compactnessWeight} (paper ${ref.w})` : "",
      s.k !== ref.k ? `K = ${s.k} (paper ${ref.k})` : "",
    ].filter(Boolean);
    if (diffs.length) out.push(`**Network and hyper-parameters (${s.idDataset}).** ${diffs.join("; ")}.`);
  }
  if (
    t.epochs !== PAPER_SETTINGS.epochs || t.batchSize !== PAPER_SETTINGS.batchSize || cfg.cider.lr !== PAPER_SETTINGS.lr
  ) {
    out.push(
      `**Budget.** ${t.epochs} epochs at batch ${t.batchSize}, CIDER/SupCon lr ${cfg.cider.lr}/${cfg.supcon.lr}, CE lr ` +
        `${cfg.ce.lr} (paper: 500 epochs, batch 512, lr 0.5); every method gets the same epochs, batch, augmentation ` +
        `and schedule shape. With so few steps the representations are far from converged.`,
    );
  }
  if (t.warmup.enabled) {
    out.push(
      `**Warm-up.** Enabled for every method (${t.warmup.epochs} epoch(s) from ${t.warmup.from}; the reference turns ` +
        `it on only for batches > 256 and uses 10 epochs). \`CIDER (faithful)\` keeps the reference's formula ` +
        `p = (b + (e − 1)·T)/(W·T) with 0-based epochs: its most negative rate is ≈ −(η_to − η_from)/W, i.e. ≈ ` +
        `−${(cfg.cider.lr / t.warmup.epochs).toFixed(3)} here against ≈ −0.05 at the paper's W = 10, so the quirk ` +
        `weighs far more in a short run. \`CIDER (clean)\`, SupCon and CE use p = (b + e·T)/(W·T) (SupCon's own code ` +
        `counts epochs from 1).`,
    );
  } else {
    out.push("**Warm-up.** Disabled, so the faithful and clean CIDER variants are the same run.");
  }
  out.push(
    "**Augmentation.** " +
      (cifar
        ? "SupCon's pipeline as in the reference."
        : `For 1-channel ${ids.join("/")} images: ${
          cfg.augment.map((a) => a.op).join(", ")
        } (saturation, hue and grayscale have no effect on one channel).`),
    "**ID accuracy.** Linear probe on frozen penultimate features extracted once without augmentation, standardised, " +
      `SGD (momentum 0.9, cosine) for ${cfg.probe.epochs} epochs; SupCon's linear evaluation trains 100 epochs on ` +
      "augmented images.",
    "**Baselines.** Trained here with the same recipe (CE: SupCon-style augmentation, one view; SupCon: τ = " +
      `${cfg.supcon.temperature}, τ_b = ${cfg.supcon.baseTemperature} as CIDER's repository runs it), not taken from ` +
      "the paper's tables (which use separately tuned SSD+, KNN+ and CE models).",
    `**Mahalanobis** (optional score${cfg.mahalanobis.enabled ? "" : ", off in this run"}): tied covariance inverted ` +
      `by Cholesky in float64 with shrinkage ${cfg.mahalanobis.shrinkage} (the reference uses scikit-learn's ` +
      "EmpiricalCovariance precision).",
    "**Embedding measures.** Computed on L2-normalised penultimate features with our own definitions (mean angles in " +
      "degrees); the paper's exact normalisation was not transcribed, so compare methods with each other, not with " +
      "the paper's numbers. The ID–OOD separation column is this notebook's addition.",
    "**Numerics.** The sequential prototype EMA runs in float64 (the reference: float32 on GPU); its gradient is the " +
      "exact derivative of the reference's in-place loop (tested against autograd of a literal port).",
    "**Published numbers.** The paper's CIFAR tables are not transcribed (papers.md §10). The comparison uses the " +
      "authors' committed sample run (their code's output, not the paper's table), a community reproduction " +
      "(issue #6) and the README's ImageNet-100 re-run; " +
      (profile === "paper"
        ? "only the rows whose setting ran are matched."
        : "none of them is comparable to this run."),
  );
  return out;
}

/** {@link deviationsList} as a markdown display. */
export function deviations(cfg: CiderConfig, profile: Profile): Displayable {
  return markdownView(deviationsList(cfg, profile).map((l) => `- ${l}`).join("\n"));
}
