/**
 * CMG stage 2: fine-tuning the classifier head on ID batches plus class-mixed images from the frozen CVAE (Wang,
 * Shao, Lin, Hu, Liu, "CMG: A Class-Mixed Generation Approach to Out-of-Distribution Detection", ECML-PKDD 2022;
 * code `shaoyijia/CMG` @265cc2c, `training/fine_tune.py` `get_m` l. 35–68 and `fine_tune_same_dataset` l. 71–191,
 * `eval.py`; papers.md §4a "Stage 2", "Evaluation"):
 *
 * - the extractor (`classifier.convE`) is frozen (l. 77–78) **and in inference mode** (`classifier.eval()` then
 *   `classifier.classifier.train()`, l. 105–106: only the MLP head is in train mode, and it has no dropout or BN), so
 *   no Dropout2d and BatchNorm running statistics; the CVAE is frozen and in eval mode (l. 80–82);
 * - PyTorch Adam, lr 1e-4, on the parameters that still require gradients = the head's two Linear layers (l. 85, 93);
 *   15 epochs (l. 84); each step one ID batch of ≤ 128 (`eval.py` l. 29, 57: shuffled, no augmentation, the last
 *   batch short) plus 128 generated images (l. 92, 113; σ = 3 for MNIST, l. 86–88);
 * - CMG-s: `cmgSLoss` (l. 116–128); CMG-e: `cmgELoss` with μ = 0.1 and the margins of {@linkcode cmgMargins}
 *   (l. 95–98, 130–140);
 * - after the update of every 0-based step `index` with `index % 20 == 0` (l. 109, 146; 100 in Setting 2, l. 263)
 *   the seen and unseen test images are scored in eval mode (l. 147–175; test loaders batch 512, unshuffled,
 *   `eval.py` l. 58–59) and the running maximum AUROC is kept (l. 177–178) and **returned** (l. 191): a selection on
 *   the test set, which {@linkcode fineTuneCmg} reports as `best`, next to the final model's AUROC (`last`).
 *
 * Random streams: the reference draws the shuffle and the generated images from torch's global generator; here the ID
 * order comes from `datasetSource(idTrain, { seed })` (`deriveSeed(seed, "shuffle/e")` per epoch) and the images of
 * epoch e from `Rng(deriveSeed(seed, "cmg/generate/e"))`, so a seed fixes the run (the stage-2 forward passes draw
 * no other random numbers). Unlike the reference, where `get_m` consumes the global generator before CMG-e's
 * training (so CMG-s and CMG-e see different batches), {@linkcode cmgMargins} draws from its own stream: CMG-s and
 * CMG-e with the same seed see the same ID batches and generated images. No checkpoint/resume here (stage 2 trains
 * only the head); the stage-1 classifier checkpoints through `trainCmgClassifier`'s `runDir`.
 * @module
 */
import { tf } from "../../tf.ts";
import type { Backbone } from "../../backbones/mod.ts";
import { HEAD_HIDDEN_PREFIX, HEAD_LAYER } from "../../backbones/_blocks.ts";
import type { Dataset, Normalization } from "../../datasets/types.ts";
import { tensorBatches } from "../../data/tensors.ts";
import { Rng } from "../../data/rng.ts";
import { Adam, datasetSource, deriveSeed, epochSource, type LossOutput, trainLoop } from "../../train/mod.ts";
import { auroc } from "../../metrics/auroc.ts";
import type { CmgCvae } from "./cvae.ts";
import { CMG_SIGMA, generateClassMixed } from "./generate.ts";
import { cmgELoss, type CmgMargins, cmgSLoss, energyOf, percentileMargins } from "./losses.ts";
import { cmgEScore, cmgSScore } from "./scores.ts";

/** CMG's two stage-2 variants: the softmax one (`'CMG-softmax'`) and the energy one (`'CMG-energy'`). */
export type CmgMode = "CMG-s" | "CMG-e";

/** The reference's stage-2 recipe, Setting 1 (`training/fine_tune.py` l. 84–97, 146; `eval.py` l. 29, 58–59). */
export const CMG_FINETUNE: Readonly<{
  epochs: number;
  batchSize: number;
  genPerStep: number;
  lr: number;
  mu: number;
  evalEvery: number;
  evalBatchSize: number;
}> = Object.freeze({
  epochs: 15,
  batchSize: 128,
  genPerStep: 128,
  lr: 1e-4,
  mu: 0.1,
  evalEvery: 20,
  evalBatchSize: 512,
});

/**
 * The variables of the classifier head (the reference's `classifier.classifier` = `fc1`, `fc2`, `models/fc/nets.py`
 * l. 18–19): kernels and biases of the `head_hidden_<i>` layers and of the `head` layer, in that order.
 * @param backbone A backbone built by `assembleBackbone` (e.g. `cmg_cnn`).
 * @returns The head's trainable variables; every other variable belongs to the extractor.
 * @throws Error when the model has no `head` layer.
 * @example Usage
 * ```ts ignore
 * const vars = cmgHeadVariables(createBackbone("cmg_cnn", { numClasses: 11 })); // 4: fc1 W, b; fc2 W, b
 * ```
 */
export function cmgHeadVariables(backbone: Backbone): tf.Variable[] {
  const layers = backbone.model.layers;
  const hidden = layers.filter((l) => l.name.startsWith(HEAD_HIDDEN_PREFIX))
    .sort((a, b) => Number(a.name.slice(HEAD_HIDDEN_PREFIX.length)) - Number(b.name.slice(HEAD_HIDDEN_PREFIX.length)));
  const head = layers.find((l) => l.name === HEAD_LAYER);
  if (!head) throw new Error(`cmgHeadVariables: model "${backbone.model.name}" has no "${HEAD_LAYER}" layer`);
  return [...hidden, head].flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable));
}

/** Options of {@linkcode scoreCmg}. */
export interface ScoreCmgOptions {
  /** CMG-s: {@linkcode cmgSScore}; CMG-e: {@linkcode cmgEScore}. */
  mode: CmgMode;
  /** Number of seen classes (6 in Setting 1). */
  K: number;
  /** Images per forward pass (the reference's test loaders: 512). @default 512 */
  batchSize?: number;
}

/**
 * CMG's test score of every image of `ds`, in dataset order, the network in inference mode (`classifier.eval()`,
 * `fine_tune.py` l. 147): `cmgSScore(logits, K)` (CMG-s, `score.softmax_result` on `output[:, 0:K+1]`, l. 157, 171)
 * or `cmgEScore(logits, K)` (CMG-e, `score.energy_result`, l. 173). Higher = more ID (the reference's outlier scores
 * negated, so `auroc(id, ood)` with ID positive equals its `roc_auc_score(y == −1, score)`).
 * @param backbone The classifier (its normalization is applied to the uint8 images).
 * @param ds Images to score (labels ignored).
 * @param opts Mode, K, batch size.
 * @returns One score per image.
 * @example Usage
 * ```ts ignore
 * const s = await scoreCmg(net, seen.test, { mode: "CMG-e", K: 6 });
 * ```
 */
export async function scoreCmg(backbone: Backbone, ds: Dataset, opts: ScoreCmgOptions): Promise<Float32Array> {
  const { mode, K } = opts;
  checkMode(mode, "scoreCmg");
  const out = new Float32Array(ds.shape[0]);
  let at = 0;
  const batches = tensorBatches(ds, {
    batchSize: opts.batchSize ?? CMG_FINETUNE.evalBatchSize,
    normalization: backbone.normalization,
    shuffle: false,
  });
  for (const b of batches) {
    try {
      const s = tf.tidy(() => {
        const logits = backbone.logits(b.x, { training: false });
        return mode === "CMG-s" ? cmgSScore(logits, K) : cmgEScore(logits, K);
      });
      out.set(await s.data(), at);
      at += s.shape[0];
      s.dispose();
    } finally {
      tf.dispose([b.x, b.y]);
    }
  }
  return out;
}

/** Options of {@linkcode cmgMargins}. */
export interface CmgMarginsOptions {
  /** Number of seen classes: the generator draws c₁, c₂ from 0..K−1 (`get_m(…, 6, …)`, l. 98). */
  K: number;
  /** σ of z (3 MNIST, l. 87). @default 3 */
  sigma?: number;
  /** Seed of the generation stream `Rng(deriveSeed(seed, "cmg/margins"))` when no `rng` is given. @default 0 */
  seed?: number;
  /** The generation stream (advanced in place); wins over `seed`. */
  rng?: Rng;
  /** ID images per batch; 128 generated images per batch whatever its size (l. 48; `eval.py` l. 29). @default 128 */
  batchSize?: number;
  /** Generated images per ID batch. @default 128 */
  genPerBatch?: number;
  /** false: the one-class ablation of the generator (`generateClassMixed`'s `mix`). @default true */
  mix?: boolean;
}

/** What {@linkcode cmgMargins} returns: the margins and the energies they come from. */
export interface CmgMarginsResult extends CmgMargins {
  /** E = −logsumexp over all n_out logits of every ID training image, in dataset order. */
  idEnergies: Float32Array;
  /** The same for the generated images, in generation order (`genPerBatch` per ID batch). */
  genEnergies: Float32Array;
}

/**
 * CMG-e's margins from the stage-1 model (`get_m`, `training/fine_tune.py` l. 35–68): one no-grad pass (l. 39) over
 * the ID training set in batches of `batchSize`, the extractor in inference mode (l. 42–43), each batch followed by
 * `genPerBatch` class-mixed images from the frozen CVAE (l. 48); energies at T = 1 over **all** n_out logits
 * (l. 53–59, {@linkcode energyOf}); then `percentileMargins` (l. 61–65: m_in = sort(E_in)[⌊0.2·N⌋], m_out =
 * sort(E_gen)[⌊0.8·M⌋]). The ID order is the dataset's (the reference's shuffled loader gives the same sorted set).
 * @param backbone The stage-1 classifier.
 * @param cvae The trained CVAE.
 * @param idTrain The seen-class training images.
 * @param opts K, σ, random stream, batch sizes, mixing switch.
 * @returns m_in, m_out and the energies.
 * @example Usage
 * ```ts ignore
 * const { mIn, mOut } = await cmgMargins(net, cvae, seen.train, { K: 6, sigma: 3, seed: 123 });
 * ```
 */
export async function cmgMargins(
  backbone: Backbone,
  cvae: CmgCvae,
  idTrain: Dataset,
  opts: CmgMarginsOptions,
): Promise<CmgMarginsResult> {
  const rng = opts.rng ?? new Rng(deriveSeed(opts.seed ?? 0, "cmg/margins"));
  const genPerBatch = opts.genPerBatch ?? CMG_FINETUNE.genPerStep;
  const batchSize = opts.batchSize ?? CMG_FINETUNE.batchSize;
  const n = idTrain.shape[0];
  if (n < 1) throw new Error(`cmgMargins: the training set ${idTrain.name} is empty`);
  const idEnergies = new Float32Array(n);
  const genEnergies = new Float32Array(Math.ceil(n / batchSize) * genPerBatch);
  let at = 0, gat = 0;
  for (const b of tensorBatches(idTrain, { batchSize, normalization: backbone.normalization, shuffle: false })) {
    try {
      const g = generateClassMixed(cvae, genPerBatch, { seenClasses: opts.K, sigma: opts.sigma, rng, mix: opts.mix });
      const [eIn, eGen] = tf.tidy(() => {
        const xGen = normalizeGenerated(g.images, backbone.normalization);
        return [
          energyOf(backbone.logits(b.x, { training: false })),
          energyOf(backbone.logits(xGen, { training: false })),
        ];
      });
      g.images.dispose();
      idEnergies.set(await eIn.data(), at);
      genEnergies.set(await eGen.data(), gat);
      at += eIn.shape[0];
      gat += eGen.shape[0];
      tf.dispose([eIn, eGen]);
    } finally {
      tf.dispose([b.x, b.y]);
    }
  }
  return { ...percentileMargins(idEnergies, genEnergies), idEnergies, genEnergies };
}

/** A scorer handed to a custom evaluation: the current model's CMG score of every image of a dataset. */
export type CmgScorer = (ds: Dataset) => Promise<Float32Array>;

/** The ID and OOD test sets scored at every evaluation (the reference's seen and unseen test loaders). */
export interface CmgTestSets {
  /** Seen-class test images (ID, the positive class of the AUROC here). */
  id: Dataset;
  /** Unseen-class (or other OOD) test images. */
  ood: Dataset;
}

/** Options of {@linkcode fineTuneCmg}. */
export interface FineTuneCmgOptions {
  /** "CMG-s" (softmax, `'CMG-softmax'`) or "CMG-e" (energy, `'CMG-energy'`). */
  mode: CmgMode;
  /** Number of seen classes (6, hard-coded at l. 98, 113, 120); the unseen slot is logit K. */
  K: number;
  /** σ of z (3 MNIST, 5 CIFAR-10, l. 86–89). @default 3 */
  sigma?: number;
  /** false: the paper's one-class-embedding ablation of the generator. @default true */
  mix?: boolean;
  /** CMG-e's margins ({@linkcode cmgMargins}); required for CMG-e, ignored for CMG-s. */
  margins?: CmgMargins;
  /** Epochs (l. 84). @default 15 */
  epochs?: number;
  /** ID images per step (`eval.py` l. 29). @default 128 */
  batchSize?: number;
  /** Generated images per step (l. 92). @default 128 */
  genPerStep?: number;
  /** Adam's constant learning rate (l. 85). @default 1e-4 */
  lr?: number;
  /** μ, weight of CMG-e's energy terms (l. 97). @default 0.1 */
  mu?: number;
  /** Seed of the ID order and of the generated images. */
  seed: number;
  /** Evaluate after the update of every 0-based step s with s % evalEvery = 0 (l. 146). @default 20 */
  evalEvery?: number;
  /** Test sets scored at every evaluation (AUROC, ID positive) and after the last step (`last`). */
  testSets?: CmgTestSets;
  /**
   * A custom evaluation instead of `testSets`: gets the current model's scorer and the 0-based step, returns the
   * number to track (higher = better; `best` is its maximum).
   */
  evaluate?: (score: CmgScorer, step: number) => number | Promise<number>;
  /** Images per forward pass of the evaluation (`eval.py` l. 58–59). @default 512 */
  evalBatchSize?: number;
  /** Called after every evaluation with its curve point. */
  onEvaluate?: (point: CmgEvalPoint) => void | Promise<void>;
  /** Called after every epoch with its training point. */
  onEpoch?: (point: CmgFineTuneEpoch) => void | Promise<void>;
}

/** One evaluation of the fine-tuning curve. */
export interface CmgEvalPoint {
  /** 0-based step index whose update preceded the evaluation (the reference's `index`). */
  step: number;
  /** Epoch (0-based) of that step. */
  epoch: number;
  /** AUROC (ID positive, higher score = ID), or the custom evaluation's value. */
  auroc: number;
}

/** One epoch of the fine-tuning losses (means over its steps). */
export interface CmgFineTuneEpoch {
  /** Epoch (0-based). */
  epoch: number;
  /** The total loss. */
  loss: number;
  /** CE of the ID batches over all n_out logits. */
  ce: number;
  /** CMG-s: CE of the generated batches over logits 0..K with target K; NaN for CMG-e. */
  genCe: number;
  /** CMG-e: the unweighted energy hinge terms; NaN for CMG-s. */
  energy: number;
  /** Wall time of the epoch's steps (the evaluations in it included). */
  seconds: number;
}

/** What {@linkcode fineTuneCmg} returns. */
export interface CmgFineTuneResult {
  /** One point per evaluation, in order. */
  curve: CmgEvalPoint[];
  /** The per-epoch training losses. */
  epochs: CmgFineTuneEpoch[];
  /**
   * The final model: with `testSets` its scores of both sets and their AUROC; with `evaluate` only `auroc` (one more
   * call at the last step); null without either.
   */
  last: { auroc: number; id?: Float32Array; ood?: Float32Array } | null;
  /**
   * The first evaluation with the highest AUROC (the reference's `max_rocauc`, updated on a strict increase,
   * l. 177–178, and returned as the result, l. 191): a selection on the test set. Null without evaluations.
   */
  best: { step: number; auroc: number } | null;
  /** Adam steps taken. */
  steps: number;
  /** Wall time (training and evaluations). */
  seconds: number;
  /** Wall time of the evaluations alone. */
  evalSeconds: number;
}

/** One stage-2 batch; the loop disposes its tensors. */
interface CmgBatch {
  /** Normalised ID images [B, H, W, C]. */
  x: tf.Tensor4D;
  /** ID labels [B]. */
  y: tf.Tensor1D;
  /** Normalised generated images [genPerStep, 28, 28, 1]. */
  xGen: tf.Tensor4D;
}

/**
 * CMG stage 2 (`fine_tune_same_dataset`, `training/fine_tune.py` l. 71–191): trains only the head of `backbone`
 * ({@linkcode cmgHeadVariables}: PyTorch Adam, constant `lr`) for `epochs` passes over `idTrain` (shuffled per epoch
 * from `seed`, batches of `batchSize`, the last one short, no augmentation), each step adding `genPerStep`
 * class-mixed images from the frozen `cvae` (`generateClassMixed` with σ, K, `mix`). The extractor runs in inference
 * mode and is never updated (its variables stay bit-identical). Loss: `cmgSLoss(idLogits, y, genLogits, K)` (CMG-s,
 * l. 116–128) or `cmgELoss(…, { mIn, mOut, mu })` (CMG-e, l. 130–140). After the update of 0-based step s with
 * s % evalEvery = 0 (l. 109, 146) the test sets are scored with {@linkcode scoreCmg} and the AUROC recorded; `best`
 * is the reference's reported number (the maximum over evaluations, l. 177–178, 191), `last` the final model's.
 * @param backbone The stage-1 classifier (fine-tuned in place).
 * @param cvae The trained CVAE (frozen).
 * @param idTrain The seen-class training images, labels 0..K−1.
 * @param opts Mode, K, margins (CMG-e), schedule, seed, evaluation.
 * @returns The evaluation curve, `last`, `best`, per-epoch losses, steps and wall times.
 * @throws Error when CMG-e has no margins, when both `testSets` and `evaluate` are given, or on a label ∉ [0, K).
 * @example Usage
 * ```ts ignore
 * const margins = await cmgMargins(net, cvae, seen.train, { K: 6, seed: 123 });
 * const r = await fineTuneCmg(net, cvae, seen.train, {
 *   mode: "CMG-e", K: 6, margins, seed: 123, testSets: { id: seen.test, ood: unseen.test },
 * });
 * r.best; // { step, auroc }: the paper-style number; r.last.auroc: the final model
 * ```
 */
export async function fineTuneCmg(
  backbone: Backbone,
  cvae: CmgCvae,
  idTrain: Dataset,
  opts: FineTuneCmgOptions,
): Promise<CmgFineTuneResult> {
  const { mode, K, seed } = opts;
  checkMode(mode, "fineTuneCmg");
  if (!Number.isInteger(K) || K < 1 || K + 1 > backbone.numClasses) {
    throw new RangeError(`fineTuneCmg: K = ${K} needs 1 ≤ K and K + 1 ≤ n_out = ${backbone.numClasses}`);
  }
  for (const y of idTrain.labels) {
    if (!(y >= 0 && y < K)) throw new RangeError(`fineTuneCmg: label ${y} outside [0, ${K})`);
  }
  if (mode === "CMG-e" && !opts.margins) throw new Error("fineTuneCmg: CMG-e needs margins (from cmgMargins)");
  if (opts.testSets && opts.evaluate) throw new Error("fineTuneCmg: give testSets or evaluate, not both");
  const epochs = opts.epochs ?? CMG_FINETUNE.epochs;
  const batchSize = opts.batchSize ?? CMG_FINETUNE.batchSize;
  const genPerStep = opts.genPerStep ?? CMG_FINETUNE.genPerStep;
  const lr = opts.lr ?? CMG_FINETUNE.lr;
  const mu = opts.mu ?? CMG_FINETUNE.mu;
  const sigma = opts.sigma ?? CMG_SIGMA.mnist;
  const evalEvery = opts.evalEvery ?? CMG_FINETUNE.evalEvery;
  if (!Number.isInteger(evalEvery) || evalEvery < 1) {
    throw new RangeError(`fineTuneCmg: evalEvery must be a positive integer, got ${evalEvery}`);
  }
  const scoreOpts: ScoreCmgOptions = { mode, K, batchSize: opts.evalBatchSize ?? CMG_FINETUNE.evalBatchSize };
  const scorer: CmgScorer = (ds) => scoreCmg(backbone, ds, scoreOpts);
  const testSets = opts.testSets;
  const evaluate = opts.evaluate ??
    (testSets ? async () => auroc(await scorer(testSets.id), await scorer(testSets.ood)) : null);

  const t0 = performance.now();
  const norm = backbone.normalization;
  const ids = datasetSource(idTrain, { batchSize, normalization: norm, seed });
  const source = epochSource<CmgBatch>(function* (epoch) {
    const rng = new Rng(deriveSeed(seed, `cmg/generate/${epoch}`));
    for (const b of ids.epoch(epoch, 0)) {
      const g = generateClassMixed(cvae, genPerStep, { seenClasses: K, sigma, rng, mix: opts.mix });
      const xGen = tf.tidy(() => normalizeGenerated(g.images, norm));
      if (xGen !== g.images) g.images.dispose();
      yield { x: b.x, y: b.y, xGen };
    }
  }, { length: (e) => ids.length(e) });

  const optimizer = new Adam(cmgHeadVariables(backbone), { lr });
  const curve: CmgEvalPoint[] = [];
  const epochPoints: CmgFineTuneEpoch[] = [];
  let best: CmgFineTuneResult["best"] = null;
  let evalSeconds = 0;
  try {
    const result = await trainLoop<CmgBatch>(
      optimizer.variables.slice(),
      ({ x, y, xGen }): LossOutput => {
        // Inference mode for the extractor (the reference's classifier.eval()); the head has no mode-dependent layer.
        const idLogits = backbone.logits(x, { training: false });
        const genLogits = backbone.logits(xGen, { training: false });
        if (mode === "CMG-s") {
          const t = cmgSLoss(idLogits, y, genLogits, K);
          return { loss: t.loss, logits: idLogits, labels: y, metrics: { ce: t.ce, genCe: t.genCe } };
        }
        const { mIn, mOut } = opts.margins!;
        const t = cmgELoss(idLogits, y, genLogits, { mIn, mOut, mu });
        return { loss: t.loss, logits: idLogits, labels: y, metrics: { ce: t.ce, energy: t.energy } };
      },
      source,
      {
        epochs,
        optimizer,
        progress: false,
        log: null,
        onStep: async (s) => {
          const index = s.step - 1;
          if (!evaluate || index % evalEvery !== 0) return;
          const te = performance.now();
          const value = await evaluate(scorer, index);
          evalSeconds += (performance.now() - te) / 1000;
          const point = { step: index, epoch: s.epoch, auroc: value };
          curve.push(point);
          if (best === null || value > best.auroc) best = { step: index, auroc: value };
          await opts.onEvaluate?.(point);
        },
        onEpochEnd: async (e) => {
          const point = {
            epoch: e.epoch,
            loss: e.loss,
            ce: e.metrics.ce ?? NaN,
            genCe: e.metrics.genCe ?? NaN,
            energy: e.metrics.energy ?? NaN,
            seconds: e.seconds,
          };
          epochPoints.push(point);
          await opts.onEpoch?.(point);
        },
      },
    );
    let last: CmgFineTuneResult["last"] = null;
    const te = performance.now();
    if (testSets) {
      const id = await scorer(testSets.id), ood = await scorer(testSets.ood);
      last = { auroc: auroc(id, ood), id, ood };
    } else if (opts.evaluate) last = { auroc: await opts.evaluate(scorer, result.step - 1) };
    evalSeconds += (performance.now() - te) / 1000;
    return {
      curve,
      epochs: epochPoints,
      last,
      best,
      steps: result.step,
      seconds: (performance.now() - t0) / 1000,
      evalSeconds,
    };
  } finally {
    optimizer.dispose();
  }
}

/** The CVAE's (0, 1) images in the classifier's input normalization (identity for `cmg_cnn`'s `unitRange`). */
function normalizeGenerated(images: tf.Tensor4D, norm: Normalization): tf.Tensor4D {
  if (norm.mean.every((m) => m === 0) && norm.std.every((s) => s === 1)) return images;
  return tf.div(tf.sub(images, tf.tensor1d([...norm.mean])), tf.tensor1d([...norm.std])) as tf.Tensor4D;
}

function checkMode(mode: string, where: string): void {
  if (mode !== "CMG-s" && mode !== "CMG-e") throw new Error(`${where}: mode must be "CMG-s" or "CMG-e", got ${mode}`);
}
