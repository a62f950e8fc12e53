/**
 * DICE — Sun & Li, ECCV 2022: Energy through the last layer with its weights sparsified by contribution.
 * @module
 */
import { tf } from "../tf.ts";
import { check2d } from "./_util.ts";
import { checkLayerInput, checkPercentile, layerEnergy, percentile } from "./_last_layer.ts";
import { type Detector, type LastLayer, needLastLayer, needOutput, trainOutputs } from "./detector.ts";
import { type Matrix, scoreMatrix } from "./matrix.ts";

/** Options of {@linkcode fitDice}. */
export interface DiceFitOptions {
  /** Sparsity p: the percentile of the contributions below which (inclusive) weights are dropped; @default 90 */
  p?: number;
}

/**
 * Fitted DICE state: the masked last layer (plain data; the kernel is d·C floats, [d, C] row-major).
 */
export interface DiceState {
  /** Discriminates score states. */
  readonly kind: "dice";
  /** Sparsity p (a percentile). */
  readonly p: number;
  /** Feature dimension d. */
  readonly dim: number;
  /** Classes C. */
  readonly numClasses: number;
  /** The p-th percentile of the d·C contributions. */
  readonly threshold: number;
  /** Weights kept (contribution > threshold). */
  readonly kept: number;
  /** Mean training feature h̄ [d]. */
  readonly meanFeature: Float32Array;
  /** W ⊙ M, [d, C] row-major. */
  readonly kernel: Float32Array;
  /** The layer's bias [C] (unchanged). */
  readonly bias: Float32Array;
}

/**
 * Fits DICE's mask (Sun & Li 2022): with h̄ the mean training feature and V_kc = h̄_k · W_kc the contribution of
 * unit k to class c, keep W_kc where V_kc > the p-th percentile of all d·C contributions (numpy's linear
 * percentile), zero it elsewhere. Follows DICE's `RouteDICE.calculate_mask_weight` and OpenOOD's
 * `DICEPostprocessor` (the same steps: `np.percentile(contrib, p)`, a strict `contrib > thresh`, h̄ over the
 * training set). Contributions equal to the threshold are dropped, so ties at the percentile can keep fewer than
 * (1 − p/100)·d·C weights. The mean is accumulated in float64.
 * @see {@link https://arxiv.org/abs/2111.09805 | Paper} · reference code deeplearning-wisc/dice
 * @param features training features [N, d] (penultimate, no augmentation; DICE's `precompute.py`).
 * @param layer the classifier's last linear layer.
 * @returns the {@linkcode DiceState}.
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * const layer = { kernel: { data: Float32Array.of(1, 2, 3, 4), dim: 2 }, bias: new Float32Array(2) };
 * fitDice(tf.tensor2d([[1, 1]]), layer, { p: 50 }).kernel; // [0, 0, 3, 4]: contributions 1, 2, 3, 4 > 2.5
 * ```
 */
export function fitDice(features: tf.Tensor2D, layer: LastLayer, opts: DiceFitOptions = {}): DiceState {
  const [, d] = check2d(features, "features", "fitDice");
  return diceState({ data: features.dataSync() as Float32Array, dim: d }, layer, opts.p ?? 90);
}

function diceState(features: Matrix, layer: LastLayer, p: number): DiceState {
  const d = features.dim, n = d ? features.data.length / d : 0, c = layer.kernel.dim;
  checkPercentile(p, "p", "fitDice");
  checkLayerInput(layer, d, "fitDice");
  if (n < 1) throw new Error("fitDice: no training features");
  const sum = new Float64Array(d);
  for (let i = 0; i < n * d; i++) {
    const v = features.data[i]!;
    if (!Number.isFinite(v)) throw new Error(`fitDice: feature row ${Math.floor(i / d)} is not finite`);
    sum[i % d]! += v;
  }
  const mean = Float32Array.from(sum, (s) => s / n);
  const w = layer.kernel.data;
  const contrib = new Float64Array(d * c);
  for (let k = 0; k < d; k++) for (let j = 0; j < c; j++) contrib[k * c + j] = mean[k]! * w[k * c + j]!;
  const threshold = percentile(contrib, p);
  const kernel = new Float32Array(d * c);
  let kept = 0;
  for (let i = 0; i < d * c; i++) {
    if (contrib[i]! > threshold) {
      kernel[i] = w[i]!;
      kept++;
    }
  }
  return {
    kind: "dice",
    p,
    dim: d,
    numClasses: c,
    threshold,
    kept,
    meanFeature: mean,
    kernel,
    bias: Float32Array.from(layer.bias),
  };
}

/**
 * DICE score (Sun & Li, "DICE: Leveraging Sparsification for Out-of-Distribution Detection", ECCV 2022): the
 * Energy score of the logits through the sparsified layer. Higher = more in-distribution:
 *
 *   S(x) = logsumexp(hᵀ(W ⊙ M) + b),  M_kc = 1[h̄_k·W_kc > p-th percentile of h̄ ⊙ W]   (T = 1).
 * @see {@link https://arxiv.org/abs/2111.09805 | Paper}
 * @param state from {@linkcode fitDice}.
 * @param features test features [M, d].
 * @returns [M] scores; the caller disposes the tensor.
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * const layer = { kernel: { data: Float32Array.of(1, 2, 3, 4), dim: 2 }, bias: new Float32Array(2) };
 * const state = fitDice(tf.tensor2d([[1, 1]]), layer, { p: 50 });
 * const s = dice(state, tf.tensor2d([[5, 1]])); // logits (3, 4) → [log(e³ + e⁴) ≈ 4.3133]
 * ```
 */
export function dice(state: DiceState, features: tf.Tensor2D): tf.Tensor1D {
  const [, d] = check2d(features, "features", "dice");
  if (state.kind !== "dice") throw new Error(`dice: not a DICE state (kind ${state.kind})`);
  if (state.dim !== d) throw new Error(`dice: state was fitted on ${state.dim}-d features, got ${d}-d`);
  if (state.kernel.length !== d * state.numClasses || state.bias.length !== state.numClasses) {
    throw new Error("dice: malformed state (kernel or bias has the wrong size)");
  }
  return layerEnergy(features, { kernel: { data: state.kernel, dim: state.numClasses }, bias: state.bias });
}

/** Options of the DICE detector. */
export interface DiceDetectorOptions {
  /** Sparsity p (percentile of the contributions). */
  p: number;
}

/**
 * Detector of {@linkcode dice} (registry id `dice`). p = 90: DICE's `demo-cifar.sh` (`--p 90`) and OpenOOD's
 * `dice.yml` (`p: 90`, its sweep is that one value). Nothing is tuned here.
 */
export const diceDetector: Detector<DiceDetectorOptions, DiceState> = {
  label: "DICE",
  citation: "Sun & Li, ECCV 2022 (arXiv:2111.09805)",
  formula: "logsumexp(hᵀ(W ⊙ M) + b), M keeps the weights with h̄_k·W_kc above its 90th percentile",
  needs: ["features"],
  defaults: { p: 90 },
  fit: (ctx, o) => {
    const layer = needLastLayer(ctx.model, "DICE");
    return diceState(needOutput(trainOutputs(ctx, "DICE"), "features", "DICE"), layer, o.p);
  },
  score: (set, _o, state) => scoreMatrix(needOutput(set.outputs, "features", "DICE"), (t) => dice(state, t)),
};
