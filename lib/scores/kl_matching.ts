/**
 * KL-matching — Hendrycks et al., ICML 2022: the KL divergence of a prediction to the typical posterior of its class.
 * @module
 */
import type { Matrix } from "./matrix.ts";
import { type Detector, needOutput, trainOutputs } from "./detector.ts";
import { argmaxRows } from "./matrix.ts";
import { collectRows } from "./on_images.ts";

/**
 * Fitted KL-matching state: one template (typical softmax) per class, plain JSON data.
 */
export interface KlMatchingState {
  /** Discriminates score states. */
  readonly kind: "klMatching";
  /** Number of classes C (the width of the logits). */
  readonly numClasses: number;
  /** d_k, [C][C]: the mean softmax of the fitting rows predicted as k, or the one-hot e_k when there are none. */
  readonly templates: number[][];
  /** Fitting rows predicted as each class (0: the template is e_k). */
  readonly counts: number[];
}

/** log softmax of one row of logits, in float64 (exact: no probability is formed before the log). */
function logSoftmaxRow(data: Float32Array, off: number, c: number, out: Float64Array): void {
  let max = -Infinity;
  for (let j = 0; j < c; j++) max = Math.max(max, data[off + j]!);
  let sum = 0;
  for (let j = 0; j < c; j++) sum += Math.exp(data[off + j]! - max);
  const lse = max + Math.log(sum);
  for (let j = 0; j < c; j++) out[j] = data[off + j]! - lse;
}

/**
 * Fits the class templates of KL-matching: d_k = mean of softmax(f(x)) over the fitting rows whose prediction
 * argmax_c f_c(x) is k (labels are not used: the paper groups by the predicted class). A class that no row is
 * predicted as gets the one-hot e_k, as OpenOOD's `kl_matching_postprocessor.py` (the ViM repository's
 * `benchmark.py` would average an empty set into NaN). Float64 sums; keeps no tensors.
 * @see {@link https://arxiv.org/abs/1911.11132 | Paper}
 * @param logits fitting logits [N, C] (a matrix, e.g. extracted training outputs).
 * @returns the {@linkcode KlMatchingState}.
 * @throws on no rows or non-finite logits.
 * @example Usage
 * ```ts
 * // Both rows are predicted as class 1: d₁ = mean of (¼, ¾) and (0.4, 0.6) = (0.325, 0.675); d₀ = e₀ (none is 0).
 * const state = fitKlMatching({ data: Float32Array.of(0, Math.log(3), 0, Math.log(1.5)), dim: 2 });
 * ```
 */
export function fitKlMatching(logits: Matrix): KlMatchingState {
  const c = logits.dim, n = c ? logits.data.length / c : 0;
  if (c < 1 || n < 1) throw new Error("fitKlMatching: no fitting logits");
  const pred = argmaxRows(logits);
  const sums = Array.from({ length: c }, () => new Float64Array(c));
  const counts = new Array<number>(c).fill(0);
  const logp = new Float64Array(c);
  for (let i = 0; i < n; i++) {
    logSoftmaxRow(logits.data, i * c, c, logp);
    if (!logp.every(Number.isFinite)) throw new Error(`fitKlMatching: logit row ${i} is not finite`);
    const k = pred[i]!, s = sums[k]!;
    counts[k]!++;
    for (let j = 0; j < c; j++) s[j]! += Math.exp(logp[j]!);
  }
  const templates = sums.map((s, k) =>
    counts[k]! > 0 ? Array.from(s, (v) => v / counts[k]!) : Array.from({ length: c }, (_, j) => (j === k ? 1 : 0))
  );
  return { kind: "klMatching", numClasses: c, templates, counts };
}

/**
 * KL-matching score (Hendrycks, Basart, Mazeika, Zou, Kwon, Mostajabi, Steinhardt, Song, "Scaling
 * Out-of-Distribution Detection for Real-World Settings", ICML 2022), negated so that higher = more
 * in-distribution:
 *
 *   S(x) = −min_k KL(p ‖ d_k),  KL(p ‖ q) = Σ_j p_j · log(p_j / q_j),  p = softmax(f(x)).
 *
 * The minimum over every template, as OpenOOD and the ViM repository (`pairwise_distances_argmin_min` with
 * scipy's `entropy(p, q)` / their own `kl`); pytorch-ood's `klmatching.py` instead takes the template of the
 * predicted class only (and fits it by true label). Terms follow scipy's `rel_entr`: p_j = 0 adds 0, p_j > 0 with
 * q_j = 0 adds +∞ (so a one-hot template only matches an exactly one-hot p; the score can be −∞). Computed in
 * float64 from log-softmax (no float32 underflow of p before the log), read out as float32.
 * @see {@link https://arxiv.org/abs/1911.11132 | Paper}
 * @param state from {@linkcode fitKlMatching}.
 * @param logits [M, C] logits of the scored set.
 * @returns [M] scores (≤ 0).
 * @example Usage
 * ```ts
 * const state = fitKlMatching({ data: Float32Array.of(0, Math.log(3), 0, Math.log(1.5)), dim: 2 });
 * // p = (¼, ¾) vs d₁ = (0.325, 0.675): −(¼·ln(0.25/0.325) + ¾·ln(0.75/0.675)) ≈ −0.0134 (KL to e₀ is ∞)
 * const s = klMatching(state, { data: Float32Array.of(0, Math.log(3)), dim: 2 });
 * ```
 */
export function klMatching(state: KlMatchingState, logits: Matrix): Float32Array {
  const c = state.numClasses;
  if (state.kind !== "klMatching") throw new Error(`klMatching: not a KL-matching state (kind ${state.kind})`);
  if (logits.dim !== c) throw new Error(`klMatching: the state has ${c} classes, the logits ${logits.dim}`);
  const logd = state.templates.map((d) => Float64Array.from(d, Math.log));
  const n = logits.data.length / c, out = new Float32Array(n), logp = new Float64Array(c);
  for (let i = 0; i < n; i++) {
    logSoftmaxRow(logits.data, i * c, c, logp);
    let best = Infinity;
    for (const lq of logd) {
      let kl = 0;
      for (let j = 0; j < c; j++) {
        const p = Math.exp(logp[j]!);
        if (p === 0) continue;
        kl += lq[j] === -Infinity ? Infinity : p * (logp[j]! - lq[j]!);
      }
      best = Math.min(best, kl);
    }
    out[i] = 0 - best; // not −best: an exact match scores +0, not −0
  }
  return out;
}

/** Options of the KL-matching detector. */
export interface KlMatchingDetectorOptions {
  /**
   * Where the templates come from. `train`: the training outputs (the ViM repository's `benchmark.py`, which
   * averages `softmax_id_train`; no extra pass). `heldOut`: the context's held-out training images, run through
   * the network once (the paper's and OpenOOD's validation split, `id_loader_dict['val']`).
   */
  fitOn: "train" | "heldOut";
}

/** Detector of {@linkcode klMatching} (registry id `klMatching`; templates from the training outputs by default). */
export const klMatchingDetector: Detector<KlMatchingDetectorOptions, KlMatchingState> = {
  label: "KL-Matching",
  citation: "Hendrycks et al., ICML 2022 (arXiv:1911.11132)",
  formula: "−min_k KL(softmax(f) ‖ d_k), d_k = mean training softmax of the inputs predicted as k",
  needs: ["logits"],
  defaults: { fitOn: "train" },
  fit: async (ctx, o) => {
    if (o.fitOn === "train") {
      return fitKlMatching(needOutput(trainOutputs(ctx, "KL-Matching"), "logits", "KL-Matching"));
    }
    if (!ctx.heldOut || ctx.heldOut.shape[0] === 0) {
      throw new Error('KL-Matching: fitOn is "heldOut" but the pass has no held-out images');
    }
    const [logits] = await collectRows(
      ctx.heldOut,
      { normalization: ctx.model.normalization, batchSize: ctx.batchSize, dims: [ctx.model.numClasses] },
      (x) => [ctx.model.logits(x)],
    );
    return fitKlMatching(logits!);
  },
  score: (set, _o, state) => Promise.resolve(klMatching(state, needOutput(set.outputs, "logits", "KL-Matching"))),
};
