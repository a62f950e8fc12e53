/**
 * The four scores of Unleashing Mask on one model (`--msp --odin --energy --mahalanobis`), on the ID test set and
 * every OOD set, higher = more in-distribution (conventions C2). Logit scores use every image; the input-space ones
 * (ODIN, Mahalanobis: a forward and backward pass per image) the first `inputScoreLimit` of each set.
 * @module
 */
import { tf } from "../../tf.ts";
import type { Backbone } from "../../backbones/mod.ts";
import type { Dataset } from "../../datasets/mod.ts";
import { tensorBatches } from "../../data/tensors.ts";
import type { AugmentationName, AugmentStep } from "../../data/augment.ts";
import { energy, msp, odin } from "../../scores/mod.ts";
import type { UmScore, UnleashingMaskConfig, Variant } from "./config.ts";
import type { UmData } from "./data.ts";
import { fitUmMahalanobis, umMahalanobisScores, type UmMahalanobisState } from "./mahalanobis.ts";
import { headDataset } from "../../datasets/subset.ts";
import { argmaxRows, logitsOf, type Matrix, matrixTensor } from "./outputs.ts";
import { concatTyped } from "../../io/bytes.ts";

/** One score's values on the ID test set and on each OOD set. */
export interface ScoreSets {
  id: ArrayLike<number>;
  ood: Record<string, ArrayLike<number>>;
}

/** Score name → its values. */
export type ModelScores = Partial<Record<UmScore, ScoreSets>>;

/** A scored model. */
export interface ScoredModel {
  scores: ModelScores;
  /** ID test labels and predicted classes (for the accuracy column). */
  idLabels: Int32Array;
  idPredictions: Int32Array;
  idAccuracy: number;
  /** The fitted Mahalanobis (magnitude, regression, search), when scored. */
  mahalanobis: Omit<UmMahalanobisState, "layers"> | null;
  /** Seconds per score. */
  seconds: Partial<Record<UmScore, number>>;
}

/**
 * MSP as UM's `ood_measure.get_scores` computes it for `--msp`: the softmax is applied twice,
 * S(x) = max_c softmax(softmax(f(x)))_c (its `logsoftmax` is an `nn.Softmax`, applied to the already-softmaxed
 * output). A quirk of the faithful variant: a different ranking from MSP's max_c softmax(f)_c in general.
 * @returns a new [N] tensor.
 * @example Usage
 * ```ts
 * import { initBackend, tf } from "@lib/tf.ts";
 * await initBackend({ backend: "cpu", log: null });
 * mspUmCode(tf.tensor2d([[0, 0]])); // [0.5]
 * ```
 */
export function mspUmCode(logits: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.max(tf.softmax(tf.softmax(logits)), 1) as tf.Tensor1D);
}

/** A logit score on a logit matrix, as an array. */
function onLogits(m: Matrix, f: (l: tf.Tensor2D) => tf.Tensor1D): Float32Array {
  const t = matrixTensor(m);
  try {
    const s = f(t);
    const v = s.dataSync() as Float32Array;
    s.dispose();
    return v;
  } finally {
    t.dispose();
  }
}

/** ODIN on the first `limit` images of a set (UM's `get_odin`: step of ε on [0, 1] pixels). */
function odinOf(
  net: Backbone,
  ds: Dataset,
  o: { temperature: number; epsilon: number },
  batchSize: number,
  limit?: number,
) {
  const parts: Float32Array[] = [];
  for (const b of tensorBatches(headDataset(ds, limit), { batchSize, normalization: net.normalization })) {
    try {
      const s = odin(net, b.x, { ...o, divideBySignStd: true, batchSize });
      parts.push(s.dataSync() as Float32Array);
      s.dispose();
    } finally {
      tf.dispose([b.x, b.y]);
    }
  }
  return concatTyped(parts, (n) => new Float32Array(n));
}

/** Options of {@linkcode scoreModel}: the config fields it uses, and the training augmentation. */
export type ScoreModelOptions =
  & Pick<UnleashingMaskConfig, "scores" | "energy" | "odin" | "mahalanobis" | "inputScoreLimit" | "evalBatchSize">
  & { variant: Variant; augment: AugmentationName | readonly AugmentStep[]; seed: number };

/** The same score on the ID test set and on every OOD set. */
async function onSets(data: UmData, f: (ds: Dataset) => ArrayLike<number> | Promise<ArrayLike<number>>) {
  const ood: Record<string, ArrayLike<number>> = {};
  for (const [k, ds] of Object.entries(data.ood)) ood[k] = await f(ds);
  return { id: await f(data.test), ood };
}

/** UM's Mahalanobis on one model: fitted as the variant says, then scored on the first `limit` images per set. */
async function mahalanobisOf(net: Backbone, data: UmData, opts: ScoreModelOptions, limit?: number) {
  const faithful = opts.variant === "faithful";
  const state = await fitUmMahalanobis(
    net,
    {
      ds: data.train,
      limit: opts.mahalanobis.fitLimit ?? undefined,
      augment: faithful ? opts.augment : undefined,
      seed: opts.seed,
    },
    faithful ? data.test : data.heldOut,
    {
      magnitudes: opts.mahalanobis.magnitudes,
      tuneSamples: opts.mahalanobis.tuneSamples,
      advNoise: opts.mahalanobis.advNoise,
      batchSize: opts.evalBatchSize,
      output: faithful ? "probability" : "logit",
    },
  );
  const sets = await onSets(
    data,
    (ds) => umMahalanobisScores(state, net, ds, { batchSize: opts.evalBatchSize, limit }),
  );
  const { layers: _layers, ...fitted } = state;
  return { sets, fitted };
}

/**
 * Scores one model. Variant-dependent (the repo's quirks): `msp` is {@linkcode mspUmCode} (faithful) or
 * max softmax (clean); Mahalanobis is tuned on the first 2m ID *test* images, which stay in the evaluation, with
 * class statistics from augmented training images (faithful: `tune_mahalanobis_hyperparams(model, …,
 * train_loader, id_loader)`), or on held-out training images with unaugmented statistics (clean), and reports
 * −P(OOD) (faithful) or the regression's negated logit (clean).
 */
export async function scoreModel(net: Backbone, data: UmData, opts: ScoreModelOptions): Promise<ScoredModel> {
  const pass = { batchSize: opts.evalBatchSize };
  const limit = opts.inputScoreLimit ?? undefined;
  const idLogits = await logitsOf(net, data.test, pass);
  const oodLogits: Record<string, Matrix> = {};
  for (const [name, ds] of Object.entries(data.ood)) oodLogits[name] = await logitsOf(net, ds, pass);
  const idPredictions = argmaxRows(idLogits);
  const idLabels = Int32Array.from(data.test.labels);
  const correct = idPredictions.reduce((s, p, i) => s + (p === idLabels[i] ? 1 : 0), 0);
  const logitScore = (f: (l: tf.Tensor2D) => tf.Tensor1D): ScoreSets => ({
    id: onLogits(idLogits, f),
    ood: Object.fromEntries(Object.entries(oodLogits).map(([k, m]) => [k, onLogits(m, f)])),
  });
  const scores: ModelScores = {};
  const seconds: ScoredModel["seconds"] = {};
  let mahalanobis: ScoredModel["mahalanobis"] = null;
  for (const score of opts.scores) {
    const t0 = performance.now();
    if (score === "msp") scores.msp = logitScore(opts.variant === "faithful" ? mspUmCode : (l) => msp(l));
    else if (score === "energy") scores.energy = logitScore((l) => energy(l, opts.energy));
    else if (score === "odin") {
      scores.odin = await onSets(data, (ds) => odinOf(net, ds, opts.odin, opts.evalBatchSize, limit));
    } else {
      const m = await mahalanobisOf(net, data, opts, limit);
      scores.mahalanobis = m.sets;
      mahalanobis = m.fitted;
    }
    seconds[score] = (performance.now() - t0) / 1000;
  }
  return {
    scores,
    idLabels,
    idPredictions,
    idAccuracy: idLabels.length ? correct / idLabels.length : NaN,
    mahalanobis,
    seconds,
  };
}
