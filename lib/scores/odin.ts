/**
 * ODIN — temperature scaling + input preprocessing (Liang, Li, Srikant, ICLR 2018).
 * @module
 */
import { tf } from "../tf.ts";
import { check4d, checkPositive, checkPositiveInt, mapBatches, signDivisor, signStep } from "./_util.ts";
import type { LogitModel, Normalization } from "./types.ts";
import type { Detector } from "./detector.ts";
import { scoreImages } from "./on_images.ts";

/** Options of {@linkcode odin}. */
export interface OdinOptions {
  /** Temperature T; @default 1000 (ODIN, ELOC, Unleashing Mask) */
  temperature?: number;
  /**
   * Perturbation magnitude ε; 0 turns ODIN into temperature-scaled MSP.
   * @default 0.0014 (ODIN's CIFAR default; ELOC's default argument; UM)
   */
  epsilon?: number;
  /**
   * Divide the sign gradient by the per-channel normalisation std, i.e. step by ε in **[0, 1]-pixel units**
   * while the model sees normalised inputs (ODIN's and ELOC's code, OpenOOD; papers.md §3a, §7.1).
   * `false` steps by ε in **normalised** units (ε · sign(∇) applied to the normalised tensor as is).
   *
   * Unleashing Mask's `get_odin` does not divide (papers.md §5a), but its DenseNet normalises inside `forward`
   * (`args.normalizer`, papers.md §5d) and the step is taken on [0, 1] pixels: that is the same perturbation as
   * `true` here, where backbones take normalised inputs. `false` reproduces an undivided step applied to
   * already-normalised inputs (e.g. pytorch-ood's `odin_preprocessing` without `norm_std`), i.e. a step of ε·σ
   * in pixel units.
   * @default true
   */
  divideBySignStd?: boolean;
  /** Overrides `model.normalization` (only `std` is used, when `divideBySignStd`). */
  normalization?: Normalization;
  /** Rows per forward/backward pass; @default 64 */
  batchSize?: number;
}

/**
 * ODIN (Liang, Li, Srikant, "Enhancing the Reliability of Out-of-distribution Image Detection in Neural
 * Networks", ICLR 2018). Higher = more in-distribution.
 *
 * With ŷ = argmax_c f_c(x) and S_c(x; T) = softmax(f(x)/T)_c:
 *   g = sign(−∇ₓ log S_ŷ(x; T))   (= sign of ∇ₓ CE(f(x)/T, ŷ); a zero gradient counts as +1, as `torch.ge`),
 *   x̃ = x − ε · g / σ             (σ = per-channel std when `divideBySignStd`, else 1),
 *   S(x) = max_c S_c(x̃; T).
 *
 * The same preprocessing is ELOC's (papers.md §3a, which perturbs w.r.t. CE like ODIN's code) and Unleashing
 * Mask's ODIN baseline (§5a). `x` is the **normalised** input batch the backbone's `logits` expects; the model
 * runs in inference mode. Batched (`batchSize` rows per pass, each inside `tf.tidy`), so peak memory is one
 * batch's forward + backward pass plus the [N] output.
 * @see {@link https://arxiv.org/abs/1706.02690 | Paper} · reference code facebookresearch/odin
 * @param model anything with `logits(x)` (a `Backbone`) and, for the std division, `normalization.std`.
 * @param x normalised inputs [N, H, W, C].
 * @returns [N] scores in (0, 1]; the caller disposes the tensor.
 * @throws when `divideBySignStd` is on and no `normalization.std` (or one of the wrong length) is available.
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * // Any Backbone works; here logits are the two input channels of [N, 1, 1, 2] inputs.
 * const model = {
 *   logits: (x: tf.Tensor4D) => tf.reshape(x, [x.shape[0], 2]) as tf.Tensor2D,
 *   normalization: { mean: [0, 0], std: [0.5, 0.25] },
 * };
 * const x = tf.tensor4d([1, 0], [1, 1, 1, 2]);
 * const s = odin(model, x, { temperature: 1, epsilon: 0.1 }); // x̃ = (1.2, −0.4) → [σ(1.6) ≈ 0.832]
 * ```
 */
export function odin(model: LogitModel, x: tf.Tensor4D, opts: OdinOptions = {}): tf.Tensor1D {
  const t = opts.temperature ?? 1000;
  const eps = opts.epsilon ?? 0.0014;
  const batchSize = opts.batchSize ?? 64;
  check4d(x, "odin");
  checkPositive(t, "temperature", "odin");
  checkPositiveInt(batchSize, "batchSize", "odin");
  if (!(eps >= 0) || !Number.isFinite(eps)) throw new Error(`odin: epsilon must be a finite number ≥ 0, got ${eps}`);
  const divisor = signDivisor(
    opts.normalization ?? model.normalization,
    opts.divideBySignStd ?? true,
    x.shape[3],
    "odin",
  );

  return mapBatches(x, batchSize, (xb) => {
    let input = xb;
    if (eps > 0) {
      const logits = model.logits(xb);
      // int32 one-hot, then cast: the wasm backend's OneHot ignores a float32 dtype (writes int bits).
      const yHat = tf.cast(tf.oneHot(tf.argMax(logits, 1), logits.shape[1]), "float32");
      // Σ_i CE(f(x_i)/T, ŷ_i) = −Σ_i log S_ŷ(x_i; T); the batch sum keeps each row's gradient its own.
      const loss = (xi: tf.Tensor) =>
        tf.neg(tf.sum(tf.mul(yHat, tf.logSoftmax(tf.div(model.logits(xi as tf.Tensor4D), t))))) as tf.Scalar;
      input = signStep(xb, tf.grad(loss)(xb) as tf.Tensor4D, eps, divisor);
    }
    return tf.max(tf.softmax(tf.div(model.logits(input), t)), 1) as tf.Tensor1D;
  });
}

/** Options of the ODIN detector: {@linkcode odin}'s, plus how many images of each set it scores. */
export interface OdinDetectorOptions extends Required<Omit<OdinOptions, "normalization" | "batchSize">> {
  /** Only the first `limit` images of each set (a forward and backward pass per image); `null` = all. */
  limit: number | null;
}

/** Detector of {@linkcode odin} (registry id `odin`; T = 1000, ε = 0.0014, sign divided by std). */
export const odinDetector: Detector<OdinDetectorOptions, null> = {
  label: "ODIN",
  citation: "Liang, Li & Srikant, ICLR 2018 (arXiv:1706.02690)",
  formula: "max_c softmax(f(x − ε·sign(−∇ₓ log S_ŷ(x;T))/σ)/T)_c, T = 1000, ε = 0.0014",
  needs: ["input"],
  defaults: { temperature: 1000, epsilon: 0.0014, divideBySignStd: true, limit: null },
  score: (set, { limit, ...o }, _s, ctx) =>
    scoreImages(
      set.ds,
      { normalization: ctx.model.normalization, batchSize: ctx.batchSize, limit },
      (x) => odin(ctx.model, x, { ...o, batchSize: ctx.batchSize }),
    ),
};
