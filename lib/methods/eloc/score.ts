/**
 * ELOC's test-time score: an ensemble of leave-out classifiers, each with ODIN-style input perturbation and
 * temperature scaling, its softmax scattered into the full class space, scored by max-probability minus entropy
 * and summed over the folds (Vyas, Jammalamadaka et al., "Out-of-Distribution Detection Using an Ensemble of Self
 * Supervised Leave-out Classifiers", ECCV 2018; re-implementation
 * `YU1ut/Ensemble-of-Leave-out-Classifiers` @d80b29c, `calData.py` + `calMetric.py`; papers.md §3a, §3f).
 * @module
 */
import { tf } from "../../tf.ts";
import type { Dataset, Normalization } from "../../datasets/types.ts";
import { headDataset } from "../../datasets/subset.ts";
import type { LogitModel } from "../../scores/types.ts";
import { check4d, checkPositive, checkPositiveInt, mapBatches, signDivisor, signStep } from "../../scores/_util.ts";
import { collectRows } from "../../scores/on_images.ts";

/**
 * One leave-out classifier F_k: a network over the fold's ID classes and, for each of its outputs, the original
 * class it stands for. `classes[j]` is the class of output j, i.e. the fold's `seen` list from `elocSplit` in π
 * order (`splitByClasses` labels a seen image with its index in that list).
 */
export interface ElocMember {
  /** Anything with `logits(x)` of normalised inputs (a `Backbone`); `logits` has `classes.length` columns. */
  model: LogitModel;
  /** Original class of each output, distinct integers in [0, numClasses). */
  classes: readonly number[];
}

/**
 * Which input perturbation precedes the temperature-scaled softmax of a member:
 * - `"ce"`: the re-implementation's (ODIN's) step, on the cross entropy of the member's own prediction;
 * - `"entropy"`: the paper's variant, a step that increases the member's entropy-based score s_k;
 * - `"none"`: no perturbation (ε ignored), i.e. temperature-scaled softmax only.
 */
export type ElocPerturbation = "ce" | "entropy" | "none";

/** Options of {@linkcode elocMemberProbabilities}. */
export interface ElocOptions {
  /** Temperature T of the softmax (and of the perturbation's loss); @default 1000 (calData.py, cal.py) */
  temperature?: number;
  /** Perturbation magnitude ε in [0, 1]-pixel units (the step is divided by σ); @default 0.0014 (cal.py's default) */
  epsilon?: number;
  /** Which perturbation; @default "ce" (the re-implementation's) */
  perturbation?: ElocPerturbation;
  /**
   * Divide the sign step by the per-channel normalisation std (calData.py's `gradient[:, c] / norm[c]`), so ε is
   * in [0, 1]-pixel units while the model sees normalised inputs. `false` steps by ε in normalised units.
   * @default true
   */
  divideBySignStd?: boolean;
  /** Overrides `member.model.normalization` for the std division. */
  normalization?: Normalization;
  /** Rows per forward/backward pass; @default 64 */
  batchSize?: number;
}

/** Options of {@linkcode elocScores}. */
export interface ElocScoresOptions extends Omit<ElocOptions, "normalization"> {
  /** C, the number of classes of the full problem (10 or 100 for CIFAR). */
  numClasses: number;
  /** Normalisation of the images; also supplies the std that divides the sign step. */
  normalization: Normalization;
  /** Only the first `limit` images of the set; `null` / absent = all. */
  limit?: number | null;
}

/** Per-image ELOC scores of a set, in dataset order. */
export interface ElocScores {
  /** S(x) = Σ_k s_k(x), higher = more in-distribution (float64, as calMetric.py). */
  ensemble: Float64Array;
  /** s_k(x) = max_j p_kj − H(p_k) of each member (the "one leave-out classifier" ablation), in member order. */
  members: Float64Array[];
}

/**
 * Softmax probabilities of one leave-out classifier at temperature T, after its input perturbation, scattered into
 * the full C-class space (Vyas et al., ECCV 2018; calData.py `testData`):
 *
 *   z = F_k(x) (the member's K = |classes| logits of the normalised input), ŷ = argmax_j z_j,
 *   `"ce"`:      g = sign(∇ₓ CE(z/T, ŷ)) = sign(−∇ₓ log softmax(z/T)_ŷ),
 *   `"entropy"`: g = sign(−∇ₓ s_k(x; T)),  s_k(x; T) = softmax(z/T)_ŷ − H(softmax(z/T)),
 *   x̃ = x − ε · g / σ_c   (a zero gradient counts as +1, as `torch.ge(grad, 0)`; no clamping),
 *   `"none"`:    x̃ = x,
 *   p_k = softmax(F_k(x̃)/T), P[:, classes[j]] = p_k[:, j], P = 0 in the left-out columns.
 *
 * Sign convention of `"entropy"`: the step goes **up** the member's own score s_k (more confident, lower
 * entropy), exactly as ODIN's step goes up log S_ŷ. The re-implementation perturbs with ODIN's cross entropy
 * instead; its issue #2 (papers.md §3f) says the paper perturbs "regards to the entropy of the prediction", and
 * the author answers that "decreasing the entropy of the prediction is the same as maximizing the largest element
 * of the prediction … They both force the prediction to be more one-hot". The step that lowers H and raises
 * max p is the one that raises s_k = max p − H, i.e. −∇ₓ(−s_k), the loss −s_k playing CE's role. Both variants
 * therefore share ODIN's `x − ε·sign(∇ loss)/σ` form and zero→+1 rule; only the loss differs. (The paper's own
 * equation is not in the project's references: the direction is the one issue #2 describes.)
 *
 * `x` holds **normalised** inputs; the model runs in inference mode. Batched (`batchSize` rows per pass, each in
 * `tf.tidy`).
 * @see {@link https://arxiv.org/abs/1809.03576 | Paper} · re-implementation YU1ut/Ensemble-of-Leave-out-Classifiers
 * @param member the network and the original class of each of its outputs.
 * @param x normalised inputs [N, H, W, C_in].
 * @param numClasses C, the width of the result.
 * @returns [N, C] probabilities (each row sums to 1 over `member.classes`); the caller disposes the tensor.
 * @throws on a bad `classes` list, a logit width other than `classes.length`, or a missing std when dividing.
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * // A 2-output member whose outputs are classes 3 and 1 of 4; logits = the two input channels.
 * const member = { model: { logits: (x: tf.Tensor4D) => tf.reshape(x, [x.shape[0], 2]) as tf.Tensor2D }, classes: [3, 1] };
 * const p = elocMemberProbabilities(member, tf.tensor4d([0, Math.log(3)], [1, 1, 1, 2]), 4, {
 *   temperature: 1,
 *   perturbation: "none",
 * }); // [[0, 0.75, 0, 0.25]]
 * ```
 */
export function elocMemberProbabilities(
  member: ElocMember,
  x: tf.Tensor4D,
  numClasses: number,
  opts: ElocOptions = {},
): tf.Tensor2D {
  const where = "elocMemberProbabilities";
  const t = opts.temperature ?? 1000;
  const perturbation = opts.perturbation ?? "ce";
  const eps = perturbation === "none" ? 0 : opts.epsilon ?? 0.0014;
  const batchSize = opts.batchSize ?? 64;
  check4d(x, where);
  checkPositive(t, "temperature", where);
  checkPositiveInt(batchSize, "batchSize", where);
  checkPositiveInt(numClasses, "numClasses", where);
  if (!["ce", "entropy", "none"].includes(perturbation)) {
    throw new Error(`${where}: perturbation must be "ce", "entropy" or "none", got "${perturbation}"`);
  }
  if (!(eps >= 0) || !Number.isFinite(eps)) {
    throw new Error(`${where}: epsilon must be a finite number ≥ 0, got ${eps}`);
  }
  const columns = scatterColumns(member.classes, numClasses, where);
  const k = member.classes.length;
  const divisor = eps > 0
    ? signDivisor(opts.normalization ?? member.model.normalization, opts.divideBySignStd ?? true, x.shape[3], where)
    : null;
  const logits = (xi: tf.Tensor4D): tf.Tensor2D => {
    const z = member.model.logits(xi);
    if (z.rank !== 2 || z.shape[1] !== k) {
      throw new Error(`${where}: the model gives logits of shape [${z.shape.join(", ")}] for ${k} classes`);
    }
    return z;
  };

  const n = x.shape[0];
  return tf.tidy(() => {
    // mapBatches concatenates 1-D results: each batch's [b, C] block is flattened row-major, then reshaped back.
    const flat = mapBatches(x, batchSize, (xb) => {
      let input = xb;
      if (eps > 0) {
        const z = logits(xb);
        // int32 one-hot, then cast: the wasm backend's OneHot ignores a float32 dtype (see odin.ts).
        const yHat = tf.cast(tf.oneHot(tf.argMax(z, 1), k), "float32");
        // Batch sums: each row's gradient stays its own.
        const loss = perturbation === "ce"
          // Σ_i CE(z_i/T, ŷ_i) = −Σ_i log softmax(z_i/T)_ŷ
          ? (xi: tf.Tensor) =>
            tf.neg(tf.sum(tf.mul(yHat, tf.logSoftmax(tf.div(logits(xi as tf.Tensor4D), t))))) as tf.Scalar
          // −Σ_i s_k(x_i; T), s_k = p_ŷ − H(p) with H = −Σ p·log p from logSoftmax (0·finite = 0, no NaN)
          : (xi: tf.Tensor) => {
            const logP = tf.logSoftmax(tf.div(logits(xi as tf.Tensor4D), t));
            const p = tf.exp(logP);
            const s = tf.add(tf.sum(tf.mul(yHat, p), 1), tf.sum(tf.mul(p, logP), 1));
            return tf.neg(tf.sum(s)) as tf.Scalar;
          };
        input = signStep(xb, tf.grad(loss)(xb) as tf.Tensor4D, eps, divisor);
      }
      const p = tf.softmax(tf.div(logits(input), t));
      const padded = tf.concat([p, tf.zeros([p.shape[0], 1])], 1); // column k = the zero of left-out classes
      return tf.reshape(tf.gather(padded, columns, 1), [-1]) as tf.Tensor1D;
    });
    return tf.reshape(flat, [n, numClasses]) as tf.Tensor2D;
  });
}

/**
 * Each row's entropy-based score s(x) = max_j p_j − H(p), H(p) = −Σ_{j: p_j > 0} p_j log p_j (natural log), of
 * row-major probability rows `p` with `numClasses` columns (calMetric.py: `np.max(probs) − (−np.sum(np.log(probs_) *
 * probs_))` over `probs_ = probs[np.nonzero(probs)]`). A zero entry (a left-out class) contributes 0, never NaN.
 * Computed in float64 as the reference does: calData.py stores the float32 softmax values in a float64 array and
 * calMetric.py takes the entropy and the sums in float64. Higher = more in-distribution.
 * @param p [N·C] probabilities (e.g. the data of {@linkcode elocMemberProbabilities}).
 * @param numClasses C, the row length.
 * @returns [N] scores in [1/C − log C, 1].
 * @throws when the length is not a multiple of C.
 * @example Usage
 * ```ts
 * elocMemberScore([0.5, 0, 0.5], 3); // [0.5 − log 2 ≈ −0.193]
 * ```
 */
export function elocMemberScore(p: ArrayLike<number>, numClasses: number): Float64Array {
  checkPositiveInt(numClasses, "numClasses", "elocMemberScore");
  if (p.length % numClasses !== 0) {
    throw new Error(`elocMemberScore: ${p.length} probabilities are not rows of ${numClasses}`);
  }
  const out = new Float64Array(p.length / numClasses);
  for (let i = 0; i < out.length; i++) {
    let max = -Infinity, plogp = 0;
    for (let j = i * numClasses; j < (i + 1) * numClasses; j++) {
      const v = p[j]!;
      if (v > max) max = v;
      if (v > 0) plogp += v * Math.log(v);
    }
    out[i] = max + plogp;
  }
  return out;
}

/**
 * ELOC's ensemble score (Vyas et al., ECCV 2018, Sec. 3.3; calMetric.py): the **sum** over the K leave-out
 * classifiers of their entropy-based scores,
 *
 *   S(x) = Σ_k [max_j p_kj − H(p_k)],  H(p_k) = −Σ_{j: p_kj > 0} p_kj log p_kj,
 *
 * with p_k the scattered C-class probabilities of member k (zeros for its left-out classes, which contribute 0 to
 * the entropy: 0·log 0 = 0), in float64 ({@linkcode elocMemberScore}). Higher = more in-distribution.
 * @param probs one [N·C] row-major array per member, all of one length.
 * @param numClasses C.
 * @returns [N] scores.
 * @throws when `probs` is empty or the lengths differ.
 * @example Usage
 * ```ts
 * elocEnsembleScore([[1, 0, 0], [0.5, 0.5, 0]], 3); // [1 + 0.5 − log 2]
 * ```
 */
export function elocEnsembleScore(probs: readonly ArrayLike<number>[], numClasses: number): Float64Array {
  const where = "elocEnsembleScore";
  if (probs.length === 0) throw new Error(`${where}: needs at least one member's probabilities`);
  probs.forEach((p, i) => {
    if (p.length !== probs[0]!.length) {
      throw new Error(`${where}: probs[${i}] has ${p.length} entries, probs[0] has ${probs[0]!.length}`);
    }
  });
  return sumScores(probs.map((p) => elocMemberScore(p, numClasses)));
}

/** The element-wise sum of equal-length score arrays, in float64. */
function sumScores(scores: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(scores[0]!.length);
  for (const s of scores) for (let i = 0; i < out.length; i++) out[i]! += s[i]!;
  return out;
}

/**
 * Scores the images of `ds` (the first `limit`) with the ELOC ensemble, batch by batch: every member's scattered
 * probabilities ({@linkcode elocMemberProbabilities}, normalised with `opts.normalization`, whose std also divides
 * the sign step, in float32 tensors), then in float64 each member's own s_k ({@linkcode elocMemberScore}) and
 * their sum S ({@linkcode elocEnsembleScore}). Keeps no tensor.
 * @param members the K leave-out classifiers (5 in the paper), each with its fold's class list.
 * @param ds the set to score, in dataset order.
 * @param opts {@linkcode ElocOptions} plus `numClasses`, `normalization` and `limit`; `batchSize` is the number of
 *   images per batch (default 64).
 * @returns the ensemble scores and each member's scores as `Float64Array`s of the set's length.
 * @example Usage
 * ```ts ignore
 * const members = folds.map((k) => ({ model: nets[k - 1], classes: elocSplit(k, 10).seen }));
 * const { ensemble, members: single } = await elocScores(members, cifarTest, {
 *   numClasses: 10, normalization: NORMALIZATION.cifarOdin, temperature: 1000, epsilon: 0.002,
 * });
 * ```
 */
export async function elocScores(
  members: readonly ElocMember[],
  ds: Dataset,
  opts: ElocScoresOptions,
): Promise<ElocScores> {
  if (members.length === 0) throw new Error("elocScores: needs at least one member");
  const { numClasses, normalization, limit, ...rest } = opts;
  const batchSize = rest.batchSize ?? 64;
  checkPositiveInt(batchSize, "batchSize", "elocScores");
  const src = headDataset(ds, limit ?? undefined);
  const probs = await collectRows(
    src,
    { normalization, batchSize, dims: members.map(() => numClasses) },
    (x) => members.map((m) => elocMemberProbabilities(m, x, numClasses, { ...rest, normalization, batchSize })),
  );
  const single = probs.map((p) => elocMemberScore(p.data, numClasses));
  return { ensemble: sumScores(single), members: single };
}

/** For each of the C columns, the member output that fills it, or K (the appended zero column) for left-out ones. */
function scatterColumns(classes: readonly number[], numClasses: number, where: string): number[] {
  if (classes.length === 0) throw new Error(`${where}: a member needs at least one class`);
  const cols = Array<number>(numClasses).fill(classes.length);
  classes.forEach((c, j) => {
    if (!Number.isInteger(c) || c < 0 || c >= numClasses) {
      throw new Error(`${where}: class ${c} is not in 0..${numClasses - 1}`);
    }
    if (cols[c] !== classes.length) throw new Error(`${where}: class ${c} is listed twice`);
    cols[c] = j;
  });
  return cols;
}
