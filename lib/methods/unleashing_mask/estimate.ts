/**
 * The loss-constraint estimate of Unleashing Mask (`estimate_loss.py` with `configs/estimate_loss/*.yaml`): mask a
 * random 3.5 % of every conv/linear layer's weights of the well-trained model and measure the mean cross-entropy
 * over the training set. Masking reveals the atypical samples the model has memorised; their loss level sets UM.
 * @module
 */
import type { Backbone } from "../../backbones/mod.ts";
import type { Dataset } from "../../datasets/mod.ts";
import type { AugmentationName, AugmentStep } from "../../data/augment.ts";
import { deriveSeed, seedEverything } from "../../train/seed.ts";
import { evaluateClassifier } from "../../train/classifier.ts";
import { subnetBackbone } from "./umap.ts";
import type { Variant } from "./config.ts";

/** Options of {@linkcode estimateLossConstraint}. */
export interface EstimateOptions {
  /** Fraction of each layer's weights kept (`prune_rate` 0.965). */
  keepRate: number;
  /** Independent random masks. */
  draws: number;
  /** Images per forward pass (512 in the repo's config). */
  batchSize: number;
  /** The training augmentation, applied as the repo's train loader does; omit for none. */
  augment?: AugmentationName | readonly AugmentStep[];
  /** Seed of the masks and of the augmentation. */
  seed: number;
}

/** The estimate: one mean cross-entropy per random mask, their mean and sample standard deviation. */
export interface LossConstraintEstimate {
  keepRate: number;
  /** Mean CE over the training images under each random mask. */
  draws: number[];
  /** Training accuracy under each mask. */
  accuracies: number[];
  mean: number;
  /** Sample standard deviation over draws (NaN for one draw). */
  std: number;
  /** Mean CE of the unmasked model under the same conditions (for reference). */
  unmasked: number;
  /** Training images used. */
  images: number;
}

/**
 * Estimates UM (Zhu et al., ICML 2023, §4): for each draw d, a copy of the network whose every Conv2D/Dense
 * keeps the top-k of random scores per layer (k = `keepRate`, i.e. a uniformly random ⌊(1 − k)·n⌋ weights per
 * layer set to 0, weights frozen, as `SubnetConv` with `prune_rate` 0.965 on the loaded model), then
 * UM_d = (1/N) Σ_i CE(f_masked(x_i), y_i) over the training images in inference mode, with the training
 * augmentation when given (the script iterates the training loader under `model.eval()`).
 * @see {@link https://arxiv.org/abs/2306.03715 | Paper} · adapted from ZFancy/Unleashing-Mask `estimate_loss.py`,
 *   `trainers/default.py` (`modifier`)
 * @param net the well-trained classifier (not modified).
 * @param train its training images.
 */
export async function estimateLossConstraint(
  net: Backbone,
  train: Dataset,
  opts: EstimateOptions,
): Promise<LossConstraintEstimate> {
  if (!Number.isInteger(opts.draws) || opts.draws < 1) throw new Error(`draws must be ≥ 1, got ${opts.draws}`);
  const pass = (d: number) => ({
    batchSize: opts.batchSize,
    augment: opts.augment,
    seed: deriveSeed(opts.seed, `estimate/augment/${d}`),
  });
  const draws: number[] = [], accuracies: number[] = [];
  for (let d = 0; d < opts.draws; d++) {
    seedEverything(deriveSeed(opts.seed, `estimate/mask/${d}`));
    const masked = await subnetBackbone(net, { keepRate: opts.keepRate, freezeWeights: true });
    try {
      const r = await evaluateClassifier(masked, train, pass(d));
      draws.push(r.loss);
      accuracies.push(r.accuracy);
    } finally {
      masked.model.dispose();
    }
  }
  const unmasked = (await evaluateClassifier(net, train, pass(0))).loss;
  const mean = draws.reduce((s, v) => s + v, 0) / draws.length;
  const std = draws.length > 1 ? Math.sqrt(draws.reduce((s, v) => s + (v - mean) ** 2, 0) / (draws.length - 1)) : NaN;
  return { keepRate: opts.keepRate, draws, accuracies, mean, std, unmasked, images: train.shape[0] };
}

/** The UM value a run uses, and how it was obtained. */
export interface ChosenConstraint {
  value: number;
  /** `manual`, `first-draw` (faithful: one run of `estimate_loss.py`) or `mean` (clean: mean over draws). */
  source: "manual" | "first-draw" | "mean";
  /** One line for humans. */
  how: string;
}

/**
 * Picks UM: the manual value when given; else the faithful variant takes the first draw (one run of the
 * unseeded script gives one random mask), the clean variant the mean over all draws.
 */
export function chooseConstraint(
  est: LossConstraintEstimate,
  variant: Variant,
  manual: number | null,
): ChosenConstraint {
  if (manual !== null) return { value: manual, source: "manual", how: `manual value ${manual}` };
  if (variant === "faithful") {
    return {
      value: est.draws[0]!,
      source: "first-draw",
      how: `first random mask (one run of estimate_loss.py), keep rate ${est.keepRate}`,
    };
  }
  return {
    value: est.mean,
    source: "mean",
    how: `mean over ${est.draws.length} seeded random masks, keep rate ${est.keepRate}`,
  };
}
