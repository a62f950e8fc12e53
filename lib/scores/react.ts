/**
 * ReAct — Sun, Guo, Li, NeurIPS 2021: Energy after clipping the penultimate activations.
 * @module
 */
import { tf } from "../tf.ts";
import { check2d } from "./_util.ts";
import { checkLayerInput, checkPercentile, layerEnergy, percentile } from "./_last_layer.ts";
import { type Detector, type LastLayer, needLastLayer, needOutput, trainOutputs } from "./detector.ts";
import { scoreMatrix } from "./matrix.ts";

/** Options of {@linkcode fitReact}. */
export interface ReactFitOptions {
  /** Percentile p of the training activations at which to clip; @default 90 (the ReAct paper, OpenOOD) */
  percentile?: number;
}

/** Fitted ReAct state: the clipping threshold (plain JSON). */
export interface ReactState {
  /** Discriminates score states. */
  readonly kind: "react";
  /** The percentile p the threshold was taken at. */
  readonly percentile: number;
  /** c = the p-th percentile of all training activations. */
  readonly threshold: number;
}

/**
 * The ReAct threshold c: the p-th percentile of **all** training activations, the [N, d] feature matrix
 * flattened (one threshold for every unit, not one per channel), with numpy's linear interpolation — as ReAct's
 * `compute_threshold.py` and OpenOOD's `ReactPostprocessor.setup` (`np.percentile(activation_log.flatten(), p)`).
 *
 * Both take the activations of ID *evaluation* images (ReAct's CIFAR loader: up to ~2000 test images; OpenOOD:
 * the ID validation split). Here they are the training outputs the detector is fitted on, so no test image sets
 * the threshold. When more than p% of those activations are 0 (very sparse post-ReLU features), c = 0 and every
 * input scores logsumexp(b): read `threshold` before trusting the scores.
 * @see {@link https://arxiv.org/abs/2111.12797 | Paper} · reference code deeplearning-wisc/react
 * @param features training features [N, d] (penultimate, no augmentation).
 * @returns the {@linkcode ReactState}.
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * fitReact(tf.tensor2d([[0, 1], [2, 3]]), { percentile: 50 }).threshold; // 1.5
 * ```
 */
export function fitReact(features: tf.Tensor2D, opts: ReactFitOptions = {}): ReactState {
  const [n] = check2d(features, "features", "fitReact");
  if (n < 1) throw new Error("fitReact: no training features");
  return reactState(features.dataSync(), opts.percentile ?? 90);
}

function reactState(values: ArrayLike<number>, p: number): ReactState {
  checkPercentile(p, "percentile", "fitReact");
  if (values.length === 0) throw new Error("fitReact: no training features");
  return { kind: "react", percentile: p, threshold: percentile(values, p) };
}

/**
 * ReAct score (Sun, Guo, Li, "ReAct: Out-of-distribution Detection With Rectified Activations", NeurIPS 2021):
 * the penultimate activations clipped from above at c, then the Energy score of the logits recomputed through the
 * last linear layer (W [d, C], b). Higher = more in-distribution:
 *
 *   h̄ = min(h, c) elementwise,  S(x) = logsumexp(h̄ᵀW + b)   (T = 1).
 *
 * Only the upper side is clipped (`x.clip(max=threshold)` in ReAct's and OpenOOD's `forward_threshold`), so
 * negative activations of a network without a final ReLU pass unchanged.
 * @see {@link https://arxiv.org/abs/2111.12797 | Paper}
 * @param state from {@linkcode fitReact}.
 * @param features test features [M, d].
 * @param layer the classifier's last linear layer.
 * @returns [M] scores; the caller disposes the tensor.
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * const layer = { kernel: { data: Float32Array.of(1, 0, 0, 1), dim: 2 }, bias: new Float32Array(2) };
 * const s = react({ kind: "react", percentile: 90, threshold: 1 }, tf.tensor2d([[5, 0]]), layer);
 * // logits (1, 0) → [log(e + 1) ≈ 1.3133]
 * ```
 */
export function react(state: ReactState, features: tf.Tensor2D, layer: LastLayer): tf.Tensor1D {
  const [, d] = check2d(features, "features", "react");
  if (state.kind !== "react" || !Number.isFinite(state.threshold)) {
    throw new Error(`react: not a ReAct state (kind ${state.kind}, threshold ${state.threshold})`);
  }
  checkLayerInput(layer, d, "react");
  return tf.tidy(() => layerEnergy(tf.minimum(features, state.threshold) as tf.Tensor2D, layer));
}

/** Options of the ReAct detector. */
export interface ReactDetectorOptions {
  /** Percentile p of the training activations clipped at. */
  percentile: number;
}

/**
 * Detector of {@linkcode react} (registry id `react`). p = 90, the paper's default: ReAct's
 * `compute_threshold.py` prints the 90th percentile, and OpenOOD's `react.yml` sets `percentile: 90` (it also
 * sweeps {85, 90, 95, 99} on ID validation data; nothing is tuned here).
 */
export const reactDetector: Detector<ReactDetectorOptions, ReactState> = {
  label: "ReAct",
  citation: "Sun, Guo & Li, NeurIPS 2021 (arXiv:2111.12797)",
  formula: "logsumexp(min(h, c)ᵀW + b), c = 90th percentile of training activations",
  needs: ["features"],
  defaults: { percentile: 90 },
  fit: (ctx, o) => {
    needLastLayer(ctx.model, "ReAct");
    const f = needOutput(trainOutputs(ctx, "ReAct"), "features", "ReAct");
    return reactState(f.data, o.percentile);
  },
  score: (set, _o, state, ctx) => {
    const layer = needLastLayer(ctx.model, "ReAct");
    return scoreMatrix(needOutput(set.outputs, "features", "ReAct"), (t) => react(state, t, layer));
  },
};
