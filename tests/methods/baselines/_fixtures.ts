/** Fixtures for the baselines tests: the experiment layer's toy sets and a small valid config for them. */
import type { BaselinesConfig } from "@lib/methods/baselines/mod.ts";

export * from "../../experiment/_fixtures.ts";

/** A small valid config for the toy setting (lenet at 8×8, width 0.25). */
export function toyConfig(overrides: Partial<BaselinesConfig> = {}): BaselinesConfig {
  return {
    idDatasets: ["mnist"],
    oodDatasets: ["fashion_mnist", "gaussian"],
    seeds: [0],
    dataSeed: 0,
    backbone: "lenet",
    width: 0.25,
    train: { epochs: 3, batchSize: 16, lr: 0.05, momentum: 0.9, weightDecay: 0, trainLimit: null, logEvery: 2 },
    nTest: 40,
    nOod: 30,
    fitLimit: null,
    evalBatchSize: 16,
    scores: ["msp", "maxLogit", "energy", "odin", "mahalanobis", "mahalanobisEnsemble", "knn"],
    fprRule: "sklearn",
    energy: { temperature: 1 },
    odin: { temperature: 1000, epsilon: 0.0014, limit: 10 },
    knn: { k: 5, bankSize: 64 },
    mahalanobis: { shrinkage: 0 },
    figures: { histogramScores: ["msp", "mahalanobis"], projectionPerSet: 7 },
    ...overrides,
  };
}
