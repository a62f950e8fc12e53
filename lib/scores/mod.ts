/**
 * OOD scores, one file each, all "higher = more in-distribution" (conventions.md C1, C2, C4).
 *
 * | name | needs | fit | formula (higher = ID) | paper |
 * |---|---|---|---|---|
 * | `msp` | logits | – | max_c softmax(f/T)_c | Hendrycks & Gimpel 2017 |
 * | `maxLogit` | logits | – | max_c f_c | Hendrycks et al. 2022 |
 * | `energy` | logits | – | T·logsumexp(f/T) | Liu et al. 2020 |
 * | `odin` | model + input | – | max_c softmax(f(x − ε·sign(−∇ log S_ŷ)/σ)/T)_c | Liang et al. 2018 |
 * | `mahalanobis` | features | ✓ | max_c −(f − μ_c)ᵀΣ⁻¹(f − μ_c) | Lee et al. 2018 |
 * | `mahalanobisEnsemble` | featureList | ✓ | Σ_ℓ w_ℓ·max_c −D_ℓc | Lee et al. 2018 |
 * | `knn` | features | ✓ | −‖z − z_(K)‖², z = h/‖h‖ | Sun et al. 2022 (CIDER) |
 *
 * Every score returns a new `tf.Tensor1D` [N] (the caller disposes it; `scoresToArray` reads and disposes).
 * Fitted states are plain data. Input-space variants with options beyond the registry defaults:
 * `odin(model, x, opts)` and `mahalanobisEnsembleFromInput(state, model, x, { noiseMagnitude })`.
 *
 * @example Iterating over every score
 * ```ts
 * import { initBackend, tf } from "@lib/tf.ts";
 * await initBackend({ backend: "cpu", log: null });
 * import { fitScore, runScore, SCORES, scoresToArray } from "@lib/scores/mod.ts";
 * // A stand-in backbone on inputs [N, 1, 1, 3]: features = the inputs, logits = the features.
 * const features = (x: tf.Tensor4D) => tf.reshape(x, [x.shape[0], 3]) as tf.Tensor2D;
 * const model = { logits: features, featureList: (x: tf.Tensor4D) => [features(x)], normalization: { mean: [0, 0, 0], std: [1, 1, 1] } };
 * const labels = Array.from({ length: 60 }, (_, i) => i % 3);
 * const rows = labels.flatMap((c, i) => [0, 1, 2].map((j) => (j === c ? 5 : 0) + Math.sin(7 * i + j)));
 * const xTrain = tf.tensor4d(rows, [60, 1, 1, 3]), xTest = tf.tensor4d([5, 0, 0, 0, 0, 5], [2, 1, 1, 3]);
 * const train = { features: features(xTrain), featureList: [features(xTrain)], labels };
 * const test = { logits: features(xTest), features: features(xTest), featureList: [features(xTest)], model, input: xTest };
 * for (const [name, entry] of Object.entries(SCORES)) {
 *   const state = fitScore(entry, train); // null for scores that need no fitting
 *   console.log(name, entry.label, await scoresToArray(runScore(entry, test, state)));
 * }
 * ```
 * @module
 */
import type { tf } from "../tf.ts";
import { energyEntry } from "./energy.ts";
import { knnEntry } from "./knn.ts";
import { mahalanobisEntry } from "./mahalanobis.ts";
import { mahalanobisEnsembleEntry } from "./mahalanobis_ensemble.ts";
import { maxLogitEntry } from "./max_logit.ts";
import { mspEntry } from "./msp.ts";
import { odinEntry } from "./odin.ts";
import type { Labels, LogitModel, ScoreEntry } from "./types.ts";

export { energy, energyEntry } from "./energy.ts";
export type { EnergyOptions } from "./energy.ts";
export { fitKnn, knn, KNN_NORM_EPS, knnEntry, knnWorkingSetBytes, l2Normalize } from "./knn.ts";
export type { KnnFitOptions, KnnOptions, KnnState } from "./knn.ts";
export { classDistances, fitMahalanobis, mahalanobis, mahalanobisEntry } from "./mahalanobis.ts";
export type { MahalanobisFitOptions, MahalanobisState } from "./mahalanobis.ts";
export {
  fitMahalanobisEnsemble,
  mahalanobisEnsemble,
  mahalanobisEnsembleEntry,
  mahalanobisEnsembleFromInput,
} from "./mahalanobis_ensemble.ts";
export type {
  MahalanobisEnsembleFitOptions,
  MahalanobisEnsembleState,
  MahalanobisInputOptions,
} from "./mahalanobis_ensemble.ts";
export { maxLogit, maxLogitEntry } from "./max_logit.ts";
export { msp, mspEntry } from "./msp.ts";
export type { MspOptions } from "./msp.ts";
export { odin, odinEntry } from "./odin.ts";
export type { OdinOptions } from "./odin.ts";
export { scoresToArray } from "./types.ts";
export type {
  FeatureListModel,
  FeatureListScoreEntry,
  FeatureScoreEntry,
  InputScoreEntry,
  Labels,
  LogitModel,
  LogitScoreEntry,
  ScoreEntry,
  ScoreEntryBase,
  ScoreNeeds,
} from "./types.ts";

/** Every score, by name (registry; conventions.md C4). Entries keep their precise types (`satisfies`). */
export const SCORES = {
  msp: mspEntry,
  maxLogit: maxLogitEntry,
  energy: energyEntry,
  odin: odinEntry,
  mahalanobis: mahalanobisEntry,
  mahalanobisEnsemble: mahalanobisEnsembleEntry,
  knn: knnEntry,
} as const satisfies Record<string, ScoreEntry>;

/** A registered score name. */
export type ScoreName = keyof typeof SCORES;

/** Registered names in registry order. */
export const SCORE_NAMES: readonly ScoreName[] = Object.keys(SCORES) as ScoreName[];

/** A registry entry by name, widened to {@linkcode ScoreEntry} for generic code; throws listing the valid names. */
export function scoreEntry(name: string): ScoreEntry {
  const entry = (SCORES as Record<string, ScoreEntry>)[name];
  if (!entry) throw new Error(`Unknown score "${name}". Valid names: ${SCORE_NAMES.join(", ")}.`);
  return entry;
}

/** Training data a fittable score may need (only the field matching `entry.needs` is read). */
export interface FitInputs {
  /** Penultimate training features [N, d] (for `needs: "features"`). */
  features?: tf.Tensor2D;
  /** Per-layer training features (for `needs: "featureList"`). */
  featureList?: readonly tf.Tensor2D[];
  /** Training labels (read by the Mahalanobis scores; KNN ignores them). */
  labels: Labels;
}

/** Test-time inputs (only the field matching `entry.needs` is read). */
export interface ScoreInputs {
  /** Logits [N, C], for `needs: "logits"`. */
  logits?: tf.Tensor2D;
  /** Penultimate features [N, d], for `needs: "features"`. */
  features?: tf.Tensor2D;
  /** Per-layer features, each [N, d_ℓ], for `needs: "featureList"`. */
  featureList?: readonly tf.Tensor2D[];
  /** The network, for `needs: "input"`. */
  model?: LogitModel;
  /** Normalised inputs [N, H, W, C], for `needs: "input"`. */
  input?: tf.Tensor4D;
}

/**
 * Fits a registry entry with its default options: the state for fittable scores, `null` for the others.
 * @throws when the input the entry needs is missing.
 * @example Usage
 * ```ts
 * import { initBackend, tf } from "@lib/tf.ts";
 * await initBackend({ backend: "cpu", log: null });
 * const train = tf.tensor2d([[-1, 0], [1, 0], [4, -1], [4, 1]]);
 * const state = fitScore(SCORES.mahalanobis, { features: train, labels: [0, 0, 1, 1] });
 * ```
 */
export function fitScore(entry: ScoreEntry, train: FitInputs): unknown {
  switch (entry.needs) {
    case "features":
      return entry.fit(need(train.features, "features", entry), train.labels);
    case "featureList":
      return entry.fit(need(train.featureList, "featureList", entry), train.labels);
    default:
      return null;
  }
}

/**
 * Runs a registry entry with its default options on the input it needs; `state` comes from {@linkcode fitScore}.
 * @returns [N] scores, higher = more in-distribution; the caller disposes the tensor.
 * @throws when the needed input (or, for fittable scores, the state) is missing.
 * @example Usage
 * ```ts
 * import { initBackend, tf } from "@lib/tf.ts";
 * await initBackend({ backend: "cpu", log: null });
 * const s = runScore(SCORES.energy, { logits: tf.tensor2d([[0, Math.log(3)]]) }); // [ln 4]
 * ```
 */
export function runScore(entry: ScoreEntry, inputs: ScoreInputs, state?: unknown): tf.Tensor1D {
  if (entry.fittable && (state === undefined || state === null)) {
    throw new Error(`runScore: ${entry.label} must be fitted first (fitScore)`);
  }
  switch (entry.needs) {
    case "logits":
      return entry.score(need(inputs.logits, "logits", entry));
    case "input":
      return entry.score(need(inputs.model, "model", entry), need(inputs.input, "input", entry));
    case "features":
      return entry.score(state, need(inputs.features, "features", entry));
    case "featureList":
      return entry.score(state, need(inputs.featureList, "featureList", entry));
  }
}

function need<T>(value: T | undefined, what: string, entry: ScoreEntry): T {
  if (value === undefined) throw new Error(`${entry.label} needs ${what}, which was not given`);
  return value;
}
