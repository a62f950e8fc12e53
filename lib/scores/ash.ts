/**
 * ASH-P, ASH-B, ASH-S — Djurisic, Bozanic, Ashok, Liu, ICLR 2023: Energy after shaping each sample's
 * penultimate activations (prune all but the largest, then keep, binarise or rescale them).
 * @module
 */
import type { tf } from "../tf.ts";
import { check2d } from "./_util.ts";
import { checkLayerInput, checkPercentile, layerEnergy, roundHalfEven, select } from "./_last_layer.ts";
import { type Detector, type LastLayer, needLastLayer, needOutput } from "./detector.ts";
import { type Matrix, matrixTensor, scoreMatrix } from "./matrix.ts";

/** The three shapings: prune only (P), prune and binarise (B), prune and scale (S). */
export type AshVariant = "p" | "b" | "s";

/** Options of {@linkcode ashShape} and {@linkcode ash}. */
export interface AshOptions {
  /** P, B or S. */
  variant: AshVariant;
  /** Percentile p of each sample's activations below which they are zeroed; @default 90 */
  percentile?: number;
}

/**
 * k = d − round(d·p/100), the activations ASH keeps of d (numpy's round half to even, as `int(np.round(…))` in
 * ASH's `ash.py` and OpenOOD's `ash_net.py`).
 * @throws when k < 1 (p too high for d): the reference code then zeroes the whole vector (every input gets the
 *   same score) or, for ASH-S, divides by zero.
 * @example Usage
 * ```ts
 * ashKeep(512, 90); // 51 (512 − round(460.8))
 * ashKeep(10, 65); // 4 (10 − round(6.5) = 10 − 6)
 * ```
 */
export function ashKeep(d: number, p: number): number {
  checkPercentile(p, "percentile", "ash");
  const k = d - roundHalfEven((d * p) / 100);
  if (k < 1) {
    throw new Error(`ash: percentile ${p} of ${d} activations keeps none (k = ${k}); lower the percentile`);
  }
  return k;
}

/**
 * Shapes every row of a feature matrix as ASH does (Djurisic et al. 2023), returning a new matrix. Per row h
 * (d values), with T = the indices of its k = d − round(d·p/100) largest values and s₁ = Σ_j h_j:
 *
 * - `p` (ASH-P): h̃_j = h_j on T, 0 elsewhere;
 * - `b` (ASH-B): h̃_j = s₁/k on T, 0 elsewhere;
 * - `s` (ASH-S): h̃_j = h_j·exp(s₁/s₂) on T, 0 elsewhere, s₂ = Σ_{j∈T} h_j.
 *
 * Ties at the cut are broken towards the lower index (the reference code's `torch.topk` leaves them unspecified).
 * When s₂ = 0 (an all-zero post-ReLU vector) the reference code's s₁/s₂ is 0/0; here the exponent is 0, so the
 * vector stays zero. Sums are float64.
 * @example Usage
 * ```ts
 * const h = { data: Float32Array.of(4, 1, 3, 0), dim: 4 };
 * ashShape(h, { variant: "p", percentile: 50 }).data; // [4, 0, 3, 0]
 * ashShape(h, { variant: "b", percentile: 50 }).data; // [4, 0, 4, 0]   (s₁/k = 8/2)
 * ashShape(h, { variant: "s", percentile: 50 }).data; // [4e^{8/7}, 0, 3e^{8/7}, 0]
 * ```
 */
export function ashShape(features: Matrix, opts: AshOptions): Matrix {
  const d = features.dim;
  if (d < 1) throw new Error("ashShape: features have no columns");
  const k = ashKeep(d, opts.percentile ?? 90);
  const variant = opts.variant;
  if (variant !== "p" && variant !== "b" && variant !== "s") throw new Error(`ashShape: unknown variant ${variant}`);
  const n = features.data.length / d;
  const out = new Float32Array(features.data.length);
  const scratch = new Float64Array(d), kept = new Uint8Array(d);
  for (let r = 0; r < n; r++) {
    const row = features.data.subarray(r * d, (r + 1) * d);
    let s1 = 0;
    for (let j = 0; j < d; j++) {
      if (!Number.isFinite(row[j]!)) throw new Error(`ashShape: feature row ${r} is not finite`);
      s1 += row[j]!;
    }
    // The k-th largest value v by selection (O(d), no sort): keep every value above v, then values equal to v
    // from the lowest index up until k are kept.
    scratch.set(row);
    const v = select(scratch, d - k);
    let taken = 0, s2 = 0;
    kept.fill(0);
    const keep = (j: number) => {
      kept[j] = 1;
      taken++;
      s2 += row[j]!;
    };
    for (let j = 0; j < d; j++) if (row[j]! > v) keep(j);
    for (let j = 0; j < d && taken < k; j++) if (row[j] === v) keep(j);
    const scale = variant === "s" ? Math.exp(s2 !== 0 ? s1 / s2 : 0) : 1;
    for (let j = 0; j < d; j++) {
      if (kept[j]) out[r * d + j] = variant === "b" ? s1 / k : row[j]! * scale;
    }
  }
  return { data: out, dim: d };
}

/**
 * ASH score (Djurisic, Bozanic, Ashok, Liu, "Extremely Simple Activation Shaping for Out-of-Distribution
 * Detection", ICLR 2023): the Energy score of the logits recomputed from the shaped penultimate features
 * ({@linkcode ashShape}). Higher = more in-distribution:
 *
 *   S(x) = logsumexp(ash(h)ᵀW + b)   (T = 1).
 *
 * **Where the shaping is applied.** On the pooled penultimate features [N, d] our outputs hold — which is where
 * ASH's own code applies it in the networks it ships (`models/resnet_imagenet.py`: `avgpool` → `apply_ash` → `fc`;
 * `models/densenet.py` for CIFAR: `avg_pool2d` → `apply_ash` → `fc`; the per-block `use_ash` option of its
 * ResNet is off in every layer), and where OpenOOD's `ASHNet.forward_threshold` applies it (the pooled feature
 * viewed as [N, d, 1, 1]). The top-k therefore runs over the d pooled channels, not over C·H·W map entries.
 * OpenOOD implements only ASH-B; ASH's `ash.py` has all three variants, followed here.
 * @see {@link https://arxiv.org/abs/2209.09858 | Paper} · reference code andrijazz/ash
 * @param features test features [M, d] (read synchronously).
 * @param layer the classifier's last linear layer.
 * @returns [M] scores; the caller disposes the tensor.
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * const layer = { kernel: { data: Float32Array.of(1, 0, 0, 1), dim: 2 }, bias: new Float32Array(2) };
 * const s = ash(tf.tensor2d([[3, 1]]), layer, { variant: "p", percentile: 50 }); // logits (3, 0) → [log(e³ + 1)]
 * ```
 */
export function ash(features: tf.Tensor2D, layer: LastLayer, opts: AshOptions): tf.Tensor1D {
  const [, d] = check2d(features, "features", "ash");
  checkLayerInput(layer, d, "ash");
  const shaped = matrixTensor(ashShape({ data: features.dataSync() as Float32Array, dim: d }, opts));
  try {
    return layerEnergy(shaped, layer);
  } finally {
    shaped.dispose();
  }
}

/** Options of the ASH detectors. */
export interface AshDetectorOptions {
  /** Percentile p of each sample's activations pruned. */
  percentile: number;
}

const VARIANT_LABEL = { p: "ASH-P", b: "ASH-B", s: "ASH-S" } as const;
const VARIANT_FORMULA = {
  p: "logsumexp(ash_p(h)ᵀW + b): h's top-k kept, the rest zeroed, k = d − round(0.9·d)",
  b: "logsumexp(ash_b(h)ᵀW + b): h's top-k set to Σh/k, the rest zeroed, k = d − round(0.9·d)",
  s: "logsumexp(ash_s(h)ᵀW + b): h's top-k scaled by exp(Σh/Σtop-k), the rest zeroed, k = d − round(0.9·d)",
} as const;

function ashDetector(variant: AshVariant): Detector<AshDetectorOptions, null> {
  const label = VARIANT_LABEL[variant];
  return {
    label,
    citation: "Djurisic, Bozanic, Ashok & Liu, ICLR 2023 (arXiv:2209.09858)",
    formula: VARIANT_FORMULA[variant],
    needs: ["features"],
    defaults: { percentile: 90 },
    score: async (set, o, _state, ctx) => {
      const layer = needLastLayer(ctx.model, label);
      const f = needOutput(set.outputs, "features", label);
      checkLayerInput(layer, f.dim, label);
      // Shape the extracted rows directly (no tensor round trip for the top-k), then one matmul.
      return await scoreMatrix(ashShape(f, { variant, percentile: o.percentile }), (t) => layerEnergy(t, layer));
    },
  };
}

/**
 * ASH-P, ASH-B, ASH-S detectors (registry ids `ashP`, `ashB`, `ashS`), p = 90: OpenOOD's `ash.yml` default and
 * ASH's ImageNet ResNet-50 config (`ash_s@90`; the paper's headline "e.g. 90% … removed"). ASH's CIFAR configs
 * use `ash_s@95`; OpenOOD sweeps {65, …, 95} on ID validation data. Nothing is tuned here.
 */
export const ashPDetector: Detector<AshDetectorOptions, null> = ashDetector("p");
/** @see {@linkcode ashPDetector} */
export const ashBDetector: Detector<AshDetectorOptions, null> = ashDetector("b");
/** @see {@linkcode ashPDetector} */
export const ashSDetector: Detector<AshDetectorOptions, null> = ashDetector("s");
