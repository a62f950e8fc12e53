/**
 * The VMDLS score (Dinari & Freifeld, "Variational- and Metric-based Deep Latent Space for Out-of-Distribution
 * Detection", UAI 2022; reference code BGU-CS-VIL/vmdls@5add9e2 `models/vae.py`, papers.md §2c):
 *
 *   s(x) = max_c [(log N(f(x); ν_c, Σ̃_c) − M) · r̃(x)],   class(x) = argmax_c log N(f(x); ν_c, Σ̃_c),
 *
 * with f the feature ensemble, (ν_c, Σ̃_c) the per-class Gaussians with the reference's jitter
 * (`lib/methods/vmdls/gaussians.ts`), M = 1 + a maximum log-likelihood and r̃ = r / max r the normalised
 * reconstruction error (`get_data_top_val`, l. 389–404; `test_epoch_end`, l. 551–560). s < 0 whenever
 * ℓ_c < M; higher = more in-distribution.
 *
 * Registry id `vmdls` (paper-tagged: `notebooks/vmdls.ipynb`).
 * @module
 */
import { tf } from "../tf.ts";
import type { Dataset } from "../datasets/types.ts";
import { collectRows } from "./on_images.ts";
import { type ClassGaussians, classLogLikelihoodsTf, concatFeatures, fitClassGaussians } from "./vmdls_gaussians.ts";
import {
  type Detector,
  type DetectorContext,
  needOutput,
  type NetOutputs,
  type ScoredSet,
  trainOutputs,
} from "./detector.ts";
import { type Matrix, matrixTensor } from "./matrix.ts";

/** M and the r scale of {@linkcode vmdlsScores}. */
export interface VmdlsNormalizers {
  /** M = 1 + max log-likelihood over the normalisation set (all its rows and classes). */
  offset: number;
  /** max r over the normalisation set (1 without reconstruction weighting). */
  rScale: number;
}

/**
 * M = 1 + max_{i,c} ℓ_ic and R = max_i r_i over a normalisation set, as the reference takes them over the whole
 * test set, ID test and OOD together (`max_num = parr.max() + 1`, `models/vae.py` l. 394;
 * `all_sift_distances /= all_sift_distances.max()`, l. 554). Without `r`, R = 1 (the reference sets r̃ ≡ 1
 * without `--ae_features`, l. 556–557).
 * @param ll row-major [N·K] log-likelihoods.
 * @param r N reconstruction errors, or null.
 * @example Usage
 * ```ts
 * vmdlsNormalizers(Float64Array.of(-3, -7, -2, -9), Float32Array.of(0.5, 2)); // { offset: −1, rScale: 2 }
 * ```
 */
export function vmdlsNormalizers(ll: ArrayLike<number>, r: ArrayLike<number> | null): VmdlsNormalizers {
  if (ll.length === 0) throw new Error("vmdlsNormalizers: empty normalisation set");
  let m = -Infinity, rs = r ? -Infinity : 1;
  for (let i = 0; i < ll.length; i++) m = Math.max(m, ll[i]!);
  if (r) { for (let i = 0; i < r.length; i++) rs = Math.max(rs, r[i]!); }
  if (!Number.isFinite(m) || !(rs > 0) || !Number.isFinite(rs)) {
    throw new Error(`vmdlsNormalizers: max log-likelihood ${m}, max r ${rs}`);
  }
  return { offset: 1 + m, rScale: rs };
}

/**
 * The VMDLS scores and classes of N rows (Dinari & Freifeld 2022; `get_data_top_val`, `models/vae.py`
 * l. 389–404): s_i = max_c (ℓ_ic − M)·r_i/R, class_i = argmax_c ℓ_ic (the reference takes the argmax of
 * (ℓ_ic − M)·r̃_i, the same class whenever r̃_i > 0; the first maximum wins). `r` null: r̃ ≡ 1.
 * @param ll row-major [N·K] log-likelihoods.
 * @param k classes K.
 * @example Usage
 * ```ts
 * vmdlsScores(Float64Array.of(-3, -7, -2, -9), 2, Float32Array.of(0.5, 2), { offset: -1, rScale: 2 });
 * // scores [(−3 + 1)·0.25, (−2 + 1)·1] = [−0.5, −1], classes [0, 0]
 * ```
 */
export function vmdlsScores(
  ll: ArrayLike<number>,
  k: number,
  r: ArrayLike<number> | null,
  norm: VmdlsNormalizers,
): { scores: Float32Array; classes: Int32Array } {
  const n = ll.length / k;
  if (!Number.isInteger(n)) throw new Error(`vmdlsScores: ${ll.length} log-likelihoods for ${k} classes`);
  if (r && r.length !== n) throw new Error(`vmdlsScores: ${r.length} reconstruction errors for ${n} rows`);
  const scores = new Float32Array(n), classes = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (ll[i * k + c]! > ll[i * k + best]!) best = c;
    const w = r ? r[i]! / norm.rScale : 1;
    let s = -Infinity;
    for (let c = 0; c < k; c++) s = Math.max(s, (ll[i * k + c]! - norm.offset) * w);
    scores[i] = s;
    classes[i] = best;
  }
  return { scores, classes };
}

/**
 * r(x) for every image of a set, in dataset order: the reference's mean squared difference between the GAP of
 * the backbone's first stage on x and on an auto-encoder's reconstruction x̂ (`models/vae.py` l. 316–323, 553).
 */
export type VmdlsReconstruction = (ds: Dataset, ctx: DetectorContext) => Promise<Float32Array>;

/** Options of {@linkcode vmdlsDetector}. */
export interface VmdlsOptions {
  /**
   * Indices into `featureList` of the ensemble members, concatenated in this order (negative: from the end);
   * `null` = all. The VMDLS network's `featureList` is [GAP(L1), GAP(L2), GAP(L3), g, μ] (the reference's
   * `test_step`, l. 291), so `[-1]` is the latent-only ablation.
   */
  members: readonly number[] | null;
  /**
   * Where M and R come from. `test` (faithful, transductive): the ID test set's outputs — the reference uses the
   * ID test set *and* the OOD set of the run; the two agree whenever the maxima fall on ID test images, which
   * for M is the rule (and R only rescales s); call {@linkcode vmdlsNormalizers} on both sets for the exact
   * rule. `heldOut` (clean): the context's held-out training images.
   */
  normalizeOn: "test" | "heldOut";
  /** r(x); `null` = r̃ ≡ 1 (the reference without `--ae_features`, or no auto-encoder). */
  reconstruction: VmdlsReconstruction | null;
  /** Jitter step and final extra steps of the Gaussians' loop (reference: 1e-6, 2). */
  jitterStep: number;
  extraSteps: number;
  /** Relative pivot tolerance emulating float32 factorisation (`fitClassGaussians`). */
  pivotTol: number;
}

/** Fitted state of {@linkcode vmdlsDetector}. */
export interface VmdlsState {
  readonly kind: "vmdls";
  readonly gaussians: ClassGaussians;
  readonly normalizers: VmdlsNormalizers;
  /** Resolved member indices into `featureList`. */
  readonly members: number[];
}

function resolveMembers(outputs: NetOutputs, members: readonly number[] | null): number[] {
  const count = needOutput(outputs, "featureList", "vmdls").length;
  const idx = (members ?? Array.from({ length: count }, (_, i) => i)).map((i) => (i < 0 ? count + i : i));
  if (idx.length === 0 || idx.some((i) => !Number.isInteger(i) || i < 0 || i >= count)) {
    throw new Error(`vmdls: members ${JSON.stringify(members)} do not index a featureList of ${count}`);
  }
  return idx;
}

function ensemble(list: readonly Matrix[], members: readonly number[]): Matrix {
  return concatFeatures(members.map((i) => list[i]!));
}

/** The featureList of every image of `ds` (the held-out normalisation set), in batches, no tensor kept. */
function featureListOf(ctx: DetectorContext, ds: Dataset): Promise<Matrix[]> {
  const list = ctx.model.featureList?.bind(ctx.model);
  if (!list) throw new Error("vmdls: the model has no featureList");
  return collectRows(ds, { batchSize: ctx.batchSize, normalization: ctx.model.normalization }, list);
}

async function logLikelihoods(g: ClassGaussians, features: Matrix): Promise<Float32Array> {
  const t = matrixTensor(features);
  const ll = classLogLikelihoodsTf(g, t);
  try {
    return await ll.data() as Float32Array;
  } finally {
    tf.dispose([t, ll]);
  }
}

/**
 * The reference's scores of one test run (`test.py` on the ID test set and one OOD set): M and R over the ID test
 * set *and* that OOD set together (`get_data_top_val`, `models/vae.py` l. 389–404; `test_epoch_end`, l. 551–560),
 * so the ID scores differ from one OOD set to the next. The detector's `normalizeOn: "test"` takes them over the ID
 * test set alone; the two agree whenever no OOD image has a higher log-likelihood or reconstruction error than every
 * ID test image. `ctx` is the context the state was fitted in (`ScoreTable.context`).
 */
export async function vmdlsReferenceScores(
  state: VmdlsState,
  opts: Pick<VmdlsOptions, "reconstruction">,
  id: ScoredSet,
  ood: ScoredSet,
  ctx: DetectorContext,
): Promise<{ id: Float32Array; ood: Float32Array }> {
  const k = state.gaussians.numClasses;
  const parts = await Promise.all([id, ood].map(async (set) => ({
    ll: await logLikelihoods(state.gaussians, ensemble(needOutput(set.outputs, "featureList", "vmdls"), state.members)),
    r: opts.reconstruction ? await opts.reconstruction(set.ds, ctx) : null,
  })));
  const [a, b] = parts as [typeof parts[0], typeof parts[0]];
  const joined = (x: ArrayLike<number>, y: ArrayLike<number>) =>
    Float32Array.from([...Array.from(x), ...Array.from(y)]);
  const norm = vmdlsNormalizers(joined(a.ll, b.ll), a.r && b.r ? joined(a.r, b.r) : null);
  return { id: vmdlsScores(a.ll, k, a.r, norm).scores, ood: vmdlsScores(b.ll, k, b.r, norm).scores };
}

/**
 * The VMDLS classes of a set's rows: argmax_c log N(f(x); ν_c, Σ̃_c) over the fitted Gaussians (the reference's
 * predicted class, `get_data_top_val`; r̃ > 0 does not change it), in float32 TF.js. No tensor is kept.
 */
export function vmdlsClasses(state: VmdlsState, outputs: NetOutputs): Int32Array {
  const t = matrixTensor(ensemble(needOutput(outputs, "featureList", "vmdls"), state.members));
  const classes = tf.tidy(() => tf.argMax(classLogLikelihoodsTf(state.gaussians, t), 1));
  try {
    return Int32Array.from(classes.dataSync());
  } finally {
    tf.dispose([t, classes]);
  }
}

/**
 * VMDLS's score as a detector (Dinari & Freifeld, UAI 2022). `fit`: the per-class Gaussians on the training
 * set's ensemble (`featureList` members, concatenated), then M and R on the normalisation set; `score`:
 * {@linkcode vmdlsScores} of a set. The log-likelihoods are evaluated in float32 TF.js (as the reference's float32
 * torch). Without `reconstruction`, r̃ ≡ 1.
 */
export const vmdlsDetector: Detector<VmdlsOptions, VmdlsState> = {
  label: "VMDLS",
  paper: "vmdls",
  citation: "Dinari & Freifeld, UAI 2022 (openreview ScLeuUUi9gq), code BGU-CS-VIL/vmdls models/vae.py",
  formula: "max_c (log N(f; ν_c, Σ_c + s·1e-6·I) − M)·r/R, f = [GAP(L1), GAP(L2), GAP(L3), g, μ]",
  needs: ["featureList"],
  defaults: {
    members: null,
    normalizeOn: "test",
    reconstruction: null,
    jitterStep: 1e-6,
    extraSteps: 2,
    pivotTol: 2 ** -23,
  },
  async fit(ctx, o) {
    const train = trainOutputs(ctx, "vmdls");
    const members = resolveMembers(train, o.members);
    const gaussians = fitClassGaussians(ensemble(train.featureList!, members), train.labels, {
      numClasses: ctx.model.numClasses,
      jitterStep: o.jitterStep,
      extraSteps: o.extraSteps,
      pivotTol: o.pivotTol,
    });
    let list: Matrix[], ds: Dataset;
    if (o.normalizeOn === "test") {
      list = needOutput(ctx.test.outputs, "featureList", "vmdls");
      ds = ctx.test.ds;
    } else {
      if (!ctx.heldOut) throw new Error('vmdls: normalizeOn "heldOut" needs held-out training images');
      ds = ctx.heldOut;
      list = await featureListOf(ctx, ds);
    }
    const ll = await logLikelihoods(gaussians, ensemble(list, members));
    const r = o.reconstruction ? await o.reconstruction(ds, ctx) : null;
    return { kind: "vmdls", gaussians, normalizers: vmdlsNormalizers(ll, r), members };
  },
  async score(set, o, state, ctx) {
    const list = needOutput(set.outputs, "featureList", "vmdls");
    const ll = await logLikelihoods(state.gaussians, ensemble(list, state.members));
    const r = o.reconstruction ? await o.reconstruction(set.ds, ctx) : null;
    return vmdlsScores(ll, state.gaussians.numClasses, r, state.normalizers).scores;
  },
};
