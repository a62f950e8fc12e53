/**
 * Training of one ELOC leave-out classifier (Vyas et al., ECCV 2018; re-implementation
 * YU1ut/Ensemble-of-Leave-out-Classifiers@d80b29c, papers.md §3a–3b) on the shared `trainLoop`
 * (`lib/train/loop.ts`): ID batches paired with batches of the left-out classes, the margin-entropy loss
 * (`losses.ts`) with two separate forward passes, SGD with MultiStepLR, and per-epoch model selection by the
 * reference's validation AUROC of the maximum softmax probability — several selections from one training run.
 * @module
 */
import { tf } from "../../tf.ts";
import type { Backbone } from "../../backbones/mod.ts";
import type { Dataset, Normalization } from "../../datasets/types.ts";
import { AUGMENTATIONS, augmentBatch, type AugmentStep } from "../../data/augment.ts";
import { batchToTensor, gatherBatch } from "../../data/tensors.ts";
import { Rng, type RngState } from "../../data/rng.ts";
import {
  type BatchSource,
  deriveSeed,
  type LossOutput,
  multiStepLr,
  SGD,
  trainableVariables,
  trainLoop,
} from "../../train/mod.ts";
import { msp } from "../../scores/msp.ts";
import { marginEntropyLoss, meanEntropy } from "./losses.ts";

/** Every training hyperparameter of a leave-out classifier, with the reference's values as defaults. */
export interface ElocTrainConfig {
  /** Epochs (`--epochs 100`, `train.py`). */
  epochs: number;
  /** Initial learning rate (`--lr 0.1`). */
  lr: number;
  /** SGD momentum (`--momentum 0.9`; `torch.optim.SGD`, no Nesterov, dampening 0, `eloc_solver.py` `set_optimizer`). */
  momentum: number;
  /** Coupled L2 weight decay on **all** parameters, BN and biases included (`--weight-decay 5e-4`). */
  weightDecay: number;
  /** Epochs (0-based) at which the rate is multiplied by `gamma` (`--schedule 50 75`; `adjust_learning_rate`). */
  milestones: readonly number[];
  /** Rate factor at each milestone (`--gamma 0.1`). */
  gamma: number;
  /** ID images per step (`--batch-size 100`; the ID `DataLoader`, `shuffle=True`, `drop_last=False`). */
  batchSize: number;
  /** Left-out images per step (the OOD `DataLoader` has the same `batch_size`, 100). */
  oodBatchSize: number;
  /** Weight β of the margin-entropy hinge (`--beta 0.2`). */
  beta: number;
  /** Margin m of the hinge (`0.4`, hard-coded in `eloc_solver.py` `train`). */
  margin: number;
  /** Training augmentation of both batches: RandomCrop(32, padding 4) + RandomHorizontalFlip (`train.py`). */
  augment: readonly AugmentStep[];
}

/** The reference's recipe (`train.py` defaults, papers.md §3b). */
export const ELOC_TRAIN: Readonly<ElocTrainConfig> = Object.freeze({
  epochs: 100,
  lr: 0.1,
  momentum: 0.9,
  weightDecay: 5e-4,
  milestones: Object.freeze([50, 75]),
  gamma: 0.1,
  batchSize: 100,
  oodBatchSize: 100,
  beta: 0.2,
  margin: 0.4,
  augment: AUGMENTATIONS.cropFlip,
});

/** A validation pair for model selection: every image of `id` counts as ID (labels ignored), of `ood` as OOD. */
export interface ElocSelector {
  /** Key of the selection in the result (e.g. `faithful`, `clean`). */
  name: string;
  /** Validation ID images (the reference: 1 000 CIFAR test images of all classes, left-out ones included). */
  id: Dataset;
  /** Validation OOD images (the reference: 1 000 iSUN images). */
  ood: Dataset;
}

/** Options of {@linkcode trainLeaveOut}: any hyperparameter (default {@linkcode ELOC_TRAIN}) and the run. */
export interface ElocTrainOptions extends Partial<ElocTrainConfig> {
  /** Seed of the shuffle and augmentation streams (seed `Math.random` before building the backbone for weights). */
  seed: number;
  /** false: β = 0, i.e. plain cross-entropy per fold (the ablation; the reference's `--beta 0`). @default true */
  marginEntropy?: boolean;
  /** Validation sets; after every epoch each keeps a snapshot of the weights when its AUROC strictly improves. */
  selectors?: readonly ElocSelector[];
  /** Images per inference batch of the validation scoring. @default 500 */
  evalBatchSize?: number;
  /** Checkpoint folder (resumed when it holds a checkpoint); the selected snapshots are stored there too. */
  runDir?: string;
  /** Also save every N optimizer steps (besides epoch ends). @default 0 */
  checkpointEvery?: number;
  /** Stop (with a checkpoint when `runDir` is set) once this many optimizer steps were taken in total. */
  maxSteps?: number;
  /** Called after every epoch (after its validation) with its curve point. */
  onEpoch?: (point: ElocEpochPoint) => void | Promise<void>;
}

/** One epoch of the training curve (loss terms: means over the epoch's steps). */
export interface ElocEpochPoint {
  /** Epoch (0-based). */
  epoch: number;
  /** L = CE + β·max(0, m + H̄_ID − H̄_OOD). */
  loss: number;
  /** Cross-entropy of the ID batches. */
  ce: number;
  /** Mean softmax entropy of the ID batches (training mode, augmented). */
  entropyId: number;
  /** Mean softmax entropy of the left-out batches (NaN without a left-out set). */
  entropyOod: number;
  /** Training accuracy on the ID batches. */
  accuracy: number;
  /** Learning rate of the epoch. */
  lr: number;
  /** Seconds of the epoch's training steps. */
  seconds: number;
  /** Seconds of the epoch's validation scoring. */
  validationSeconds: number;
  /** Selection AUROC ({@linkcode selectionAuroc}) of every selector after this epoch. */
  validation: Record<string, number>;
}

/** The epoch a selector chose and its AUROC. */
export interface ElocSelected {
  /** Epoch (0-based) whose weights the selector keeps. */
  epoch: number;
  /** Its {@linkcode selectionAuroc}. */
  auroc: number;
}

/** What {@linkcode trainLeaveOut} returns. */
export interface ElocTrainResult {
  /** The training curve, one point per epoch run in this call. */
  curve: ElocEpochPoint[];
  /** Optimizer steps taken in total. */
  steps: number;
  /** Per selector: the epoch whose weights are kept (the first epoch with the best AUROC). */
  selected: Record<string, ElocSelected>;
  /** The configuration used (β = 0 when `marginEntropy` is false or there is no left-out set). */
  config: ElocTrainConfig;
  /** The checkpoint the run continued from, if any. */
  resumedFrom: string | null;
  /** Wall time of this call (training and validation). */
  seconds: number;
  /** Loads the weights selected by `name` into the backbone (the last weights are there until then). */
  useSelection(name: string): void;
  /** Frees the snapshots (the backbone keeps whatever weights it has). */
  dispose(): void;
}

/** An ELOC training batch; the loop disposes its tensors. */
export interface ElocBatch {
  /** Normalised, augmented ID images [B, H, W, C]. */
  x: tf.Tensor4D;
  /** ID labels [B] (int32). */
  y: tf.Tensor1D;
  /** Normalised, augmented left-out images [B', H, W, C] (labels ignored); absent without a left-out set. */
  xOod?: tf.Tensor4D;
  /** Indices of the ID images in the ID dataset. */
  indices: Int32Array;
  /** Indices of the left-out images in the left-out dataset (empty without a left-out set). */
  oodIndices: Int32Array;
}

/** Options of {@linkcode elocBatchSource}. */
export interface ElocBatchSourceOptions {
  /** Seed of the run; the shuffle and augmentation streams are derived from it per epoch. */
  seed: number;
  /** ID images per batch. */
  batchSize: number;
  /** Left-out images per batch. */
  oodBatchSize: number;
  /** Augmentation of both batches (on uint8 images, before normalisation). */
  augment: readonly AugmentStep[];
  /** The backbone's input normalisation. */
  normalization: Normalization;
}

/**
 * ELOC's paired batch source, as the reference's two `DataLoader`s (`train.py` `set_dataloater`,
 * `eloc_solver.py` `train`):
 * - an epoch is one pass over the ID images in the order `Rng(deriveSeed(seed, "shuffle/e")).permutation(n)`,
 *   in batches of `batchSize`, the last one partial (`drop_last=False`): ⌈n / batchSize⌉ batches;
 * - ID batch b is paired with the next batch of the left-out loader: the reference creates a fresh iterator at
 *   the start of every epoch (`ood_train_iter = iter(self.ood_train_loader)`) and a new one (a new shuffle) when it
 *   is exhausted. Here pass p of epoch e is `Rng(deriveSeed(seed, "ood-shuffle/e/p")).permutation(n')`, cut into
 *   ⌈n' / oodBatchSize⌉ batches, the last one partial as `drop_last=False` gives (CIFAR: 10 000 / 100, none);
 * - both batches augmented (ID from the `augment/e` stream, left-out from `ood-augment/e`), then normalised.
 * The two augmentation streams are checkpointed (`getState`/`setState`), so a resumed epoch is bit-identical.
 * `leftOut` null: ID batches only (no `xOod`; the ID streams are unchanged), for a classifier on all classes.
 */
export function elocBatchSource(
  id: Dataset,
  leftOut: Dataset | null,
  opts: ElocBatchSourceOptions,
): BatchSource<ElocBatch> {
  const n = id.shape[0], nOod = leftOut?.shape[0] ?? 0;
  for (const [k, v] of [["batchSize", opts.batchSize], ["oodBatchSize", opts.oodBatchSize]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`elocBatchSource: ${k} must be a positive integer, got ${v}`);
  }
  if (n < 1) throw new Error(`elocBatchSource: the ID set ${id.name} is empty`);
  if (leftOut && nOod < 1) throw new Error(`elocBatchSource: the left-out set ${leftOut.name} is empty`);
  if (leftOut && id.shape.slice(1).join() !== leftOut.shape.slice(1).join()) {
    throw new Error(
      `elocBatchSource: ID images are ${id.shape.slice(1).join("×")}, left-out ${leftOut.shape.slice(1).join("×")}`,
    );
  }
  const B = opts.batchSize, Bo = opts.oodBatchSize;
  const count = Math.ceil(n / B);
  const perPass = Math.max(1, Math.ceil(nOod / Bo));
  let streams = { augment: new Rng(0), oodAugment: new Rng(0) };
  let restored: Record<string, RngState> | null = null;
  const pixels = (ds: Dataset, idx: Int32Array, rng: Rng) =>
    opts.augment.length ? augmentBatch(ds.images, ds.shape, idx, opts.augment, rng) : {
      images: gatherBatch(ds, idx).images,
      shape: [idx.length, ds.shape[1], ds.shape[2], ds.shape[3]] as const,
    };
  return {
    length: () => count,
    *epoch(epoch: number, skip: number) {
      const order = new Rng(deriveSeed(opts.seed, `shuffle/${epoch}`)).permutation(n);
      const passes = new Map<number, Int32Array>();
      const oodIdx = (b: number) => {
        if (!leftOut) return new Int32Array(0);
        const p = Math.floor(b / perPass), j = b % perPass;
        let perm = passes.get(p);
        if (!perm) {
          passes.clear();
          perm = new Rng(deriveSeed(opts.seed, `ood-shuffle/${epoch}/${p}`)).permutation(nOod);
          passes.set(p, perm);
        }
        return perm.slice(j * Bo, Math.min(nOod, (j + 1) * Bo));
      };
      const idIdx = (b: number) => order.slice(b * B, Math.min(n, (b + 1) * B));
      if (skip > 0 && restored?.augment && restored.oodAugment) {
        streams = { augment: Rng.fromState(restored.augment), oodAugment: Rng.fromState(restored.oodAugment) };
      } else {
        streams = {
          augment: new Rng(deriveSeed(opts.seed, `augment/${epoch}`)),
          oodAugment: new Rng(deriveSeed(opts.seed, `ood-augment/${epoch}`)),
        };
        if (opts.augment.length) { // replay the skipped batches' draws
          for (let b = 0; b < skip; b++) {
            pixels(id, idIdx(b), streams.augment);
            if (leftOut) pixels(leftOut, oodIdx(b), streams.oodAugment);
          }
        }
      }
      restored = null;
      for (let b = skip; b < count; b++) {
        const indices = idIdx(b), oodIndices = oodIdx(b);
        const a = pixels(id, indices, streams.augment);
        const o = leftOut ? pixels(leftOut, oodIndices, streams.oodAugment) : null;
        yield {
          x: batchToTensor(a.images, a.shape, opts.normalization),
          y: tf.tensor1d(Int32Array.from(indices, (i) => id.labels[i]!), "int32"),
          ...(o ? { xOod: batchToTensor(o.images, o.shape, opts.normalization) } : {}),
          indices,
          oodIndices,
        };
      }
    },
    getState: () => ({ augment: streams.augment.getState(), oodAugment: streams.oodAugment.getState() }),
    setState: (s) => {
      restored = s;
    },
  };
}

/** Index of the first element ≥ t in ascending `a`. */
function lowerBound(a: Float32Array, t: number): number {
  let lo = 0, hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The reference's validation AUROC (`eloc_solver.py`, `val`), which is not `calMetric.py`'s:
 * - scores are float32 (softmax outputs); thresholds Δ = sorted unique {0, 1} ∪ {s + 1e-4 : s ∈ ID ∪ OOD}
 *   (`diff.append(np.max(prob)+10e-5)`; the sum is float64, the comparison float32 as NumPy < 2 does it);
 * - TPR(δ) = |{ID ≥ δ}| / |ID|, FPR(δ) = |{OOD ≥ δ}| / |OOD| (≥ on both sides);
 * - AUROC = Σ_{δ ∈ Δ ascending} (FPR_prev − FPR(δ))·TPR(δ) + FPR(δ_last)·TPR(δ_last), FPR_prev starting at 1:
 *   a rectangle rule that takes each step's height at its right (lower-TPR) end.
 * A threshold s + 1e-4 excludes the score s itself, so ties, and ID/OOD scores within 1e-4 of each other, count as
 * misordered (ID 0.5 vs OOD 0.5 gives 0, not ½); otherwise it equals the pairwise AUROC.
 * @param id Scores of the ID images (higher = more ID).
 * @param ood Scores of the OOD images.
 * @returns The AUROC in [0, 1]; NaN when either set is empty (the reference divides by zero).
 * @example Usage
 * ```ts
 * selectionAuroc([0.9, 0.6], [0.7, 0.3]); // 0.75
 * ```
 */
export function selectionAuroc(id: ArrayLike<number>, ood: ArrayLike<number>): number {
  if (id.length === 0 || ood.length === 0) return NaN;
  const a = Float32Array.from(id).sort(), b = Float32Array.from(ood).sort();
  const thresholds = new Set<number>([0, 1]);
  for (const s of [a, b]) for (let i = 0; i < s.length; i++) thresholds.add(Math.fround(s[i]! + 1e-4));
  const sorted = [...thresholds].sort((x, y) => x - y);
  let auroc = 0, fprPrev = 1, tpr = NaN, fpr = NaN;
  for (const delta of sorted) {
    tpr = (a.length - lowerBound(a, delta)) / a.length;
    fpr = (b.length - lowerBound(b, delta)) / b.length;
    auroc += (fprPrev - fpr) * tpr;
    fprPrev = fpr;
  }
  return auroc + fpr * tpr;
}

/** MSP at T = 1 of every image of `ds`, in inference mode, no perturbation. */
async function mspScores(backbone: Backbone, ds: Dataset, batchSize: number): Promise<Float32Array> {
  const n = ds.shape[0];
  const out = new Float32Array(n);
  for (let start = 0; start < n; start += batchSize) {
    const idx = Int32Array.from({ length: Math.min(batchSize, n - start) }, (_, i) => start + i);
    const s = tf.tidy(() => {
      const shape = [idx.length, ds.shape[1], ds.shape[2], ds.shape[3]] as const;
      const x = batchToTensor(gatherBatch(ds, idx).images, shape, backbone.normalization);
      return msp(backbone.logits(x, { training: false }));
    });
    out.set(await s.data(), start);
    s.dispose();
  }
  return out;
}

/** Raw float32 weights of a snapshot, concatenated in `getWeights` order. */
function packWeights(weights: tf.Tensor[]): Uint8Array {
  const total = weights.reduce((s, w) => s + w.size, 0);
  const flat = new Float32Array(total);
  let at = 0;
  for (const w of weights) {
    flat.set(w.dataSync() as Float32Array, at);
    at += w.size;
  }
  return new Uint8Array(flat.buffer);
}

function unpackWeights(bytes: Uint8Array, like: tf.Tensor[], path: string): tf.Tensor[] {
  const total = like.reduce((s, w) => s + w.size, 0);
  if (bytes.byteLength !== total * 4) {
    throw new Error(`${path} holds ${bytes.byteLength / 4} weights, the backbone has ${total}`);
  }
  const flat = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  let at = 0;
  return like.map((w) => {
    const t = tf.tensor(flat.subarray(at, at + w.size), w.shape, "float32");
    at += w.size;
    return t;
  });
}

/**
 * Trains one leave-out classifier F_k in place, as the reference's `Solver.train` + `val` (`eloc_solver.py`)
 * driven by `train.py`:
 * - per step: z_ID = F(x_ID) and z_OOD = F(x_OOD) in training mode, in **two separate forward passes**
 *   (BatchNorm normalises each batch with its own statistics; both update the running statistics);
 *   L = CE_mean(z_ID, y) + β·max(0, m + H̄(z_ID) − H̄(z_OOD)) ({@linkcode marginEntropyLoss});
 * - batches: {@linkcode elocBatchSource} (ID pass per epoch, left-out batches reshuffled and cycled);
 * - SGD(lr, momentum, no Nesterov, weight decay on every trainable weight), MultiStepLR(milestones, γ) per epoch;
 * - after every epoch, for each selector: MSP (T = 1, no perturbation, inference mode) of its ID and OOD images,
 *   {@linkcode selectionAuroc}, and a snapshot (`tf.clone` of every weight, BN statistics included) when the AUROC
 *   is strictly better than the selector's best so far (`is_best = auroc > self.best_prec1`). Selection does not
 *   change the trajectory, so one run serves several selectors (e.g. faithful and clean). The first epoch is
 *   always kept (the reference starts `best_prec1` at 0, so an AUROC of exactly 0 would keep nothing there).
 * `marginEntropy: false` is the reference with `--beta 0`: the left-out batch still goes through the network
 * (it only feeds BatchNorm's running statistics), the loss is the ID cross-entropy.
 * The weights stay the last epoch's; `result.useSelection(name)` loads a selector's, `result.dispose()` frees the
 * snapshots. With `runDir`, snapshots are also written to `<runDir>/eloc-selection-<i>.f32` and restored on resume.
 * The epoch `loss` is the mean over steps (the reference's log weights steps by their ID batch size: only the
 * last, partial batch differs).
 * @see {@link https://arxiv.org/abs/1809.03576 | Paper} · YU1ut/Ensemble-of-Leave-out-Classifiers `eloc_solver.py`
 * @param backbone The fold's network with `numClasses` = the fold's ID classes (seed `Math.random` first).
 * @param id ID training images, labels re-indexed to [0, numClasses) in the fold's ID order.
 * @param leftOut Training images of the left-out classes (labels ignored); null = no left-out set: one forward
 *   pass per step and L = CE (a classifier on all classes, the MSP/ODIN baseline, on the same recipe and selection).
 * @param opts Hyperparameters (defaults {@linkcode ELOC_TRAIN}), seed, ablation, selectors, checkpoints.
 * @example Usage
 * ```ts ignore
 * seedEverything(0);
 * const net = createBackbone("densenet_bc_100", { numClasses: 8 });
 * const r = await trainLeaveOut(net, foldTrain, foldLeftOut, { seed: 0, selectors: [{ name: "faithful", id, ood }] });
 * r.useSelection("faithful");
 * r.dispose();
 * ```
 */
export async function trainLeaveOut(
  backbone: Backbone,
  id: Dataset,
  leftOut: Dataset | null,
  opts: ElocTrainOptions,
): Promise<ElocTrainResult> {
  const t0 = performance.now();
  const {
    seed,
    marginEntropy = true,
    selectors = [],
    evalBatchSize = 500,
    runDir,
    checkpointEvery,
    maxSteps,
    onEpoch,
    ...given
  } = opts;
  const defined = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  const config: ElocTrainConfig = { ...ELOC_TRAIN, ...defined, ...(marginEntropy && leftOut ? {} : { beta: 0 }) };
  const k = backbone.numClasses;
  for (let i = 0; i < id.labels.length; i++) {
    const l = id.labels[i]!;
    if (!(l >= 0 && l < k)) {
      throw new Error(`trainLeaveOut: ID label ${l} at ${i} is outside [0, ${k}) (re-index the fold's classes)`);
    }
  }
  const names = new Set<string>();
  for (const s of selectors) {
    if (names.has(s.name)) throw new Error(`trainLeaveOut: selector "${s.name}" is listed twice`);
    if (s.id.shape[0] < 1 || s.ood.shape[0] < 1) {
      throw new Error(`trainLeaveOut: selector "${s.name}" needs ID and OOD images`);
    }
    names.add(s.name);
  }
  if (!Number.isInteger(evalBatchSize) || evalBatchSize < 1) {
    throw new Error(`trainLeaveOut: evalBatchSize must be a positive integer, got ${evalBatchSize}`);
  }
  const source = elocBatchSource(id, leftOut, {
    seed,
    batchSize: config.batchSize,
    oodBatchSize: config.oodBatchSize,
    augment: config.augment,
    normalization: backbone.normalization,
  });
  const optimizer = new SGD(trainableVariables(backbone.model), {
    lr: config.lr,
    momentum: config.momentum,
    weightDecay: config.weightDecay,
  });
  const schedule = multiStepLr({ lr: config.lr, milestones: config.milestones, gamma: config.gamma });
  const snapshots = new Map<string, { epoch: number; auroc: number; weights: tf.Tensor[] }>();
  const snapshotPath = (i: number) => `${runDir}/eloc-selection-${i}.f32`;
  let disposed = false;
  const freeSnapshots = () => {
    for (const s of snapshots.values()) tf.dispose(s.weights);
    snapshots.clear();
  };
  const curve: ElocEpochPoint[] = [];
  const lossFn = ({ x, y, xOod }: ElocBatch, { training }: { training: true }): LossOutput => {
    const idLogits = backbone.logits(x, { training });
    if (!xOod) {
      const ce = tf.losses.softmaxCrossEntropy(tf.oneHot(y, k), idLogits) as tf.Scalar;
      return { loss: ce, logits: idLogits, labels: y, metrics: { ce, entropyId: meanEntropy(idLogits) } };
    }
    const oodLogits = backbone.logits(xOod, { training });
    const t = marginEntropyLoss(idLogits, y, oodLogits, { beta: config.beta, margin: config.margin });
    return {
      loss: t.loss,
      logits: idLogits,
      labels: y,
      metrics: { ce: t.ce, entropyId: t.entropyId, entropyOod: t.entropyOod },
    };
  };
  try {
    const result = await trainLoop(backbone.model, lossFn, source, {
      epochs: config.epochs,
      optimizer,
      schedule,
      progress: false,
      log: null,
      checkpointEvery,
      maxSteps,
      ...(runDir ? { runDir, config: { ...config, seed, marginEntropy } } : {}),
      state: {
        save: () => ({
          selection: selectors.map((s) => {
            const snap = snapshots.get(s.name);
            return { name: s.name, epoch: snap?.epoch ?? null, auroc: snap?.auroc ?? null };
          }),
        }),
        load: (saved) => {
          freeSnapshots();
          const list = (saved.selection ?? []) as { name: string; epoch: number | null; auroc: number | null }[];
          const like = backbone.model.getWeights();
          list.forEach((s, i) => {
            if (s.epoch === null || s.auroc === null || !runDir || selectors[i]?.name !== s.name) return;
            const path = snapshotPath(i);
            const weights = unpackWeights(Deno.readFileSync(path), like, path);
            snapshots.set(s.name, { epoch: s.epoch, auroc: s.auroc, weights });
          });
        },
      },
      onEpochEnd: async (e) => {
        const v0 = performance.now();
        const validation: Record<string, number> = {};
        const cache = new Map<Dataset, Float32Array>();
        const scores = async (ds: Dataset) => {
          let s = cache.get(ds);
          if (!s) cache.set(ds, s = await mspScores(backbone, ds, evalBatchSize));
          return s;
        };
        for (const [i, sel] of selectors.entries()) {
          const auroc = selectionAuroc(await scores(sel.id), await scores(sel.ood));
          validation[sel.name] = auroc;
          const best = snapshots.get(sel.name);
          if (!best || auroc > best.auroc) {
            const weights = backbone.model.getWeights().map((w) => tf.clone(w));
            if (best) tf.dispose(best.weights);
            snapshots.set(sel.name, { epoch: e.epoch, auroc, weights });
            if (runDir) {
              await Deno.mkdir(runDir, { recursive: true });
              await Deno.writeFile(snapshotPath(i), packWeights(weights));
            }
          }
        }
        const point: ElocEpochPoint = {
          epoch: e.epoch,
          loss: e.loss,
          ce: e.metrics.ce ?? NaN,
          entropyId: e.metrics.entropyId ?? NaN,
          entropyOod: e.metrics.entropyOod ?? NaN,
          accuracy: e.accuracy ?? NaN,
          lr: schedule({ epoch: e.epoch, stepInEpoch: 0, step: e.step, stepsPerEpoch: source.length!(e.epoch) }),
          seconds: e.seconds,
          validationSeconds: (performance.now() - v0) / 1000,
          validation,
        };
        curve.push(point);
        await onEpoch?.(point);
      },
    });
    const selected: Record<string, ElocSelected> = {};
    for (const [name, s] of snapshots) selected[name] = { epoch: s.epoch, auroc: s.auroc };
    return {
      curve,
      steps: result.step,
      selected,
      config,
      resumedFrom: result.resumedFrom,
      seconds: (performance.now() - t0) / 1000,
      useSelection(name: string) {
        if (disposed) throw new Error("useSelection: the result was disposed");
        const s = snapshots.get(name);
        if (!s) {
          throw new Error(
            `useSelection: no snapshot for "${name}"; selections: ${[...snapshots.keys()].join(", ") || "none"}`,
          );
        }
        backbone.model.setWeights(s.weights);
      },
      dispose() {
        disposed = true;
        freeSnapshots();
      },
    };
  } catch (err) {
    freeSnapshots();
    throw err;
  } finally {
    optimizer.dispose();
  }
}
