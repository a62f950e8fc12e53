/** Tiny synthetic data and configs for the CIDER pipeline tests (no dataset files, seconds on the cpu backend). */
import type { Dataset } from "@lib/datasets/mod.ts";
import type { CiderConfig } from "@lib/methods/cider/config.ts";
import type { EvalSets } from "@lib/experiment/eval_sets.ts";

/**
 * `n` 8×8 gray images of `classes` classes: class c is a bright horizontal bar in row 2c (plus seeded noise);
 * OOD images have a vertical bar.
 */
export function barImages(n: number, classes: number, seed: number, vertical = false): Dataset {
  let s = seed >>> 0;
  const rand = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const images = new Uint8Array(n * 64), labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % classes;
    labels[i] = vertical ? -1 : c;
    for (let p = 0; p < 64; p++) {
      const [row, col] = [Math.floor(p / 8), p % 8];
      const on = vertical ? col === 2 * c + 1 : row === 2 * c + 1;
      images[i * 64 + p] = on ? 200 + Math.floor(rand() * 55) : Math.floor(rand() * 40);
    }
  }
  return {
    name: vertical ? "vbars" : "hbars",
    images,
    labels,
    shape: [n, 8, 8, 1],
    classes: vertical ? [] : Array.from({ length: classes }, (_, c) => `bar${c}`),
  };
}

/** The evaluation sets of bar images: 3 classes, 16 training and 9 test images, one OOD set of 9. */
export function barSets(): EvalSets {
  return {
    id: "fashion_mnist",
    train: barImages(16, 3, 1),
    heldOut: barImages(0, 3, 1),
    test: barImages(9, 3, 2),
    ood: { vbars: barImages(9, 3, 3, true) },
    oodGroups: { vbars: "far" },
    extra: {},
  };
}

/** The input normalization of the tests that build a backbone directly. */
export const BAR_NORMALIZATION = { mean: [0.3], std: [0.3] };

/** A valid config for the tiny pipeline tests (every method and variant, 1 seed, 2 epochs, 1-epoch warm-up). */
export function tinyConfig(): CiderConfig {
  return {
    settings: [{
      idDataset: "fashion_mnist",
      backbone: "resnet18",
      width: 0.0625,
      prototypeMomentum: 0.5,
      compactnessWeight: 2,
      k: 3,
    }],
    methods: ["ce", "supcon", "cider"],
    variants: ["faithful", "clean"],
    seeds: [0],
    dataSeed: 0,
    oodDatasets: ["mnist"],
    trainLimit: 16,
    nTest: 9,
    nOod: 9,
    normalization: "train-statistics",
    augment: [{ op: "horizontalFlip" }],
    head: { hidden: null, out: 8 },
    train: {
      epochs: 2,
      batchSize: 8,
      momentum: 0.9,
      nesterov: true,
      weightDecay: 1e-4,
      decayRate: 0.1,
      warmup: { enabled: true, epochs: 1, from: 0.001 },
      logEvery: 1,
    },
    ce: { lr: 0.05 },
    supcon: { lr: 0.05, temperature: 0.1, baseTemperature: 0.07 },
    cider: { lr: 0.05, temperature: 0.1, dispersionBaseTemperature: 0.1, compactnessBaseTemperature: 0.07 },
    mahalanobis: { enabled: true, shrinkage: 0.1 },
    probe: { epochs: 3, batchSize: 8, lr: 0.1, weightDecay: 0 },
    evalBatchSize: 16,
    runDir: null,
  };
}
