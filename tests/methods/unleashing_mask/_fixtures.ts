/** Tiny synthetic data and networks for the Unleashing Mask tests (8×8 gray images, 3 classes). */
import type { Dataset } from "@lib/datasets/mod.ts";
import { type Backbone, createBackbone } from "@lib/backbones/mod.ts";
import type { EvalSets } from "@lib/experiment/eval_sets.ts";
import { Rng } from "@lib/data/rng.ts";
import type { UnleashingMaskConfig } from "@lib/methods/unleashing_mask/config.ts";

/** n images 8×8×1: class c has a bright 4×4 block in quadrant c, plus noise; labels 0..2 (or −1 when `ood`). */
export function tinyDataset(n: number, seed: number, name = "tiny", ood = false): Dataset {
  const rng = new Rng(seed);
  const images = new Uint8Array(n * 64);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    labels[i] = ood ? -1 : c;
    for (let p = 0; p < 64; p++) {
      const r = Math.floor(p / 8), col = p % 8;
      const block = ood ? (r + col) % 2 === 0 : Math.floor(r / 4) * 2 + Math.floor(col / 4) === c;
      images[i * 64 + p] = Math.max(0, Math.min(255, Math.round((block ? 200 : 30) + rng.normal(0, 25))));
    }
  }
  return { name, images, labels, shape: [n, 8, 8, 1], classes: ood ? [] : ["a", "b", "c"] };
}

/** Small sets: train/held-out/test of the tiny classes, one OOD set (a checkerboard), auxiliary noise. */
export function tinyData(): EvalSets {
  return {
    id: "mnist",
    train: tinyDataset(48, 1, "tiny-train"),
    heldOut: tinyDataset(24, 2, "tiny-held"),
    test: tinyDataset(30, 3, "tiny-test"),
    ood: { checker: tinyDataset(20, 4, "checker", true) },
    oodGroups: { checker: "far" },
    extra: { aux: tinyDataset(48, 5, "aux", true) },
  };
}

/** LeNet at width 1/8 on 8×8×1 inputs (conv 4 → conv 8 → dense 16 → head 3). */
export function tinyNet(): Backbone {
  return createBackbone("lenet", { numClasses: 3, inputShape: [8, 8, 1], width: 0.125 });
}

/** A small valid config (the config tests mutate it; the run tests shrink it further). */
export const SMALL: UnleashingMaskConfig = {
  variants: ["clean"],
  seeds: [0],
  idDataset: "fashion_mnist",
  oodDatasets: ["mnist", "gaussian"],
  aux: { name: "pixel_permuted", split: "train", limit: null },
  data: { trainLimit: 100, heldOut: 20, testLimit: 50, oodLimit: 50, dataSeed: 0 },
  backbone: { name: "lenet", width: 0.5 },
  augment: "none",
  pretrain: {
    epochs: 1,
    batchSize: 32,
    lr: 0.05,
    momentum: 0.9,
    weightDecay: 5e-4,
    selection: "last",
    cache: false,
    curve: { idLimit: 10, oodLimit: 10, trainLimit: 10 },
  },
  estimate: { keepRate: 0.965, draws: 2, batchSize: 64, augment: true, manual: null },
  um: { beta: 1 },
  finetune: { epochs: 1, batchSize: 32, lr: 0.05, momentum: 0.9, weightDecay: 1e-4 },
  umap: { keepRate: 0.8, freezeWeights: true, epochs: 1, lr: 0.1 },
  oe: { epochs: 1, lr: 0.01, weight: 0.5 },
  methods: ["um"],
  scores: ["msp", "energy"],
  energy: { temperature: 1 },
  odin: { temperature: 1000, epsilon: 0.0014 },
  mahalanobis: { magnitudes: [0], tuneSamples: 8, advNoise: 0.05, fitLimit: null },
  inputScoreLimit: 20,
  evalBatchSize: 64,
  fprRule: "hendrycks",
};
