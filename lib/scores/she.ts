/**
 * SHE, the simplified Hopfield energy — Zhang et al., ICLR 2023: similarity of a feature to the stored mean
 * pattern of its predicted class.
 * @module
 */
import type { Matrix } from "./matrix.ts";
import { type Detector, needOutput, trainOutputs } from "./detector.ts";
import { argmaxRows } from "./matrix.ts";

/** How a feature is compared with its class's stored pattern (the SHE repository's `--metric` ablation). */
export type SheMetric = "innerProduct" | "euclidean" | "cosine";

/** Fitted SHE state: the stored patterns, plain JSON data. */
export interface SheState {
  /** Discriminates score states. */
  readonly kind: "she";
  /** Feature dimension d. */
  readonly dim: number;
  /** Number of classes C. */
  readonly numClasses: number;
  /** S_c, [C][d]: the mean feature of the correctly classified training images of class c. */
  readonly patterns: number[][];
  /** Correctly classified training images per class (the rows averaged into S_c). */
  readonly counts: number[];
  /**
   * Classes with no correctly classified training image, whose S_c is the mean of all their training features
   * instead (the reference code has no such case: it averages an empty set).
   */
  readonly fallback: number[];
}

/**
 * Stores SHE's patterns: S_c = mean of the features f_i with label y_i = c **and** prediction argmax f(x_i) = c
 * (SHE's `generate_stored_pattern.py::generate_avg_feature`, OpenOOD's `she_postprocessor.py`, pytorch-ood's
 * `she.py`: correctly classified training images only). Float64 sums; keeps no tensors.
 *
 * A class none of whose training images is classified correctly would average an empty set (NaN in all three);
 * here it falls back to the mean of all of its training features and is listed in `state.fallback`.
 * @see {@link https://openreview.net/forum?id=KkazG4lgKL | Paper}
 * @param features training features [N, d].
 * @param logits training logits [N, C] (their argmax is the prediction).
 * @param labels N labels in [0, C).
 * @returns the {@linkcode SheState}.
 * @throws on mismatched sizes, a label outside [0, C), non-finite features, or a class without training images.
 * @example Usage
 * ```ts
 * const features = { data: Float32Array.of(2, 0, 4, 0, 0, 3), dim: 2 };
 * const logits = { data: Float32Array.of(1, 0, 1, 0, 0, 1), dim: 2 };
 * const state = fitShe(features, logits, Int32Array.of(0, 0, 1)); // S₀ = (3, 0), S₁ = (0, 3)
 * ```
 */
export function fitShe(features: Matrix, logits: Matrix, labels: Int32Array): SheState {
  const d = features.dim, c = logits.dim, n = d ? features.data.length / d : 0;
  if (n < 1) throw new Error("fitShe: no training features");
  if (logits.data.length !== n * c) throw new Error(`fitShe: ${logits.data.length / c} logit rows for ${n} features`);
  if (labels.length !== n) throw new Error(`fitShe: ${labels.length} labels for ${n} feature rows`);
  const pred = argmaxRows(logits);
  const correct = Array.from({ length: c }, () => new Float64Array(d)), all = correct.map(() => new Float64Array(d));
  const counts = new Array<number>(c).fill(0), totals = new Array<number>(c).fill(0);
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    if (!(y >= 0 && y < c)) throw new Error(`fitShe: label ${i} is ${y}, not in [0, ${c})`);
    const off = i * d, ok = pred[i] === y;
    totals[y]!++;
    if (ok) counts[y]!++;
    for (let j = 0; j < d; j++) {
      const v = features.data[off + j]!;
      if (!Number.isFinite(v)) throw new Error(`fitShe: feature row ${i} is not finite`);
      all[y]![j]! += v;
      if (ok) correct[y]![j]! += v;
    }
  }
  const fallback: number[] = [];
  const patterns = correct.map((s, k) => {
    if (counts[k]! > 0) return Array.from(s, (v) => v / counts[k]!);
    if (totals[k] === 0) throw new Error(`fitShe: class ${k} has no training samples`);
    fallback.push(k);
    return Array.from(all[k]!, (v) => v / totals[k]!);
  });
  return { kind: "she", dim: d, numClasses: c, patterns, counts, fallback };
}

/** Floor of each norm in the cosine, as `torch.cosine_similarity`'s default `eps` (1e-8). */
const COSINE_EPS = 1e-8;

/**
 * SHE score (J. Zhang et al., "Out-of-Distribution Detection based on In-Distribution Data Patterns Memorization
 * with Modern Hopfield Energy", ICLR 2023), the Hopfield energy reduced to one stored pattern per class. Higher =
 * more in-distribution:
 *
 *   S(x) = ⟨f(x), S_ŷ⟩,  ŷ = argmax_c logit_c(x)  (`innerProduct`, the paper's score; default);
 *   `euclidean`: −‖f − S_ŷ‖;  `cosine`: ⟨f, S_ŷ⟩ / (max(‖f‖, ε)·max(‖S_ŷ‖, ε)), ε = 1e-8.
 *
 * As the SHE repository's `test_score_ood_detection.py::simple_compute_score_HE` (which returns the negation,
 * its outlier convention) and OpenOOD's `she_postprocessor.py` (`metric: inner_product` in `she.yml`); the
 * other metrics are the repository's ablation. Float64 sums, read out as float32.
 * @see {@link https://openreview.net/forum?id=KkazG4lgKL | Paper} · reference code zjs975584714/SHE_ood_detection
 * @param state from {@linkcode fitShe}.
 * @param features [M, d] features of the scored set.
 * @param logits [M, C] its logits (the prediction picks the pattern; the first maximum wins a tie).
 * @param metric the comparison; default `innerProduct`.
 * @returns [M] scores.
 * @example Usage
 * ```ts
 * const state = fitShe({ data: Float32Array.of(2, 0, 4, 0, 0, 3), dim: 2 },
 *   { data: Float32Array.of(1, 0, 1, 0, 0, 1), dim: 2 }, Int32Array.of(0, 0, 1));
 * she(state, { data: Float32Array.of(1, 1), dim: 2 }, { data: Float32Array.of(0, 1), dim: 2 }); // [3]
 * ```
 */
export function she(
  state: SheState,
  features: Matrix,
  logits: Matrix,
  metric: SheMetric = "innerProduct",
): Float32Array {
  const d = state.dim, c = state.numClasses;
  if (state.kind !== "she") throw new Error(`she: not a SHE state (kind ${state.kind})`);
  if (features.dim !== d) throw new Error(`she: the patterns are ${d}-d, the features ${features.dim}-d`);
  if (logits.dim !== c) throw new Error(`she: the state has ${c} classes, the logits ${logits.dim}`);
  const n = features.data.length / d;
  if (logits.data.length !== n * c) throw new Error(`she: ${logits.data.length / c} logit rows for ${n} features`);
  const pred = argmaxRows(logits), out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const s = state.patterns[pred[i]!]!, off = i * d;
    let dot = 0, ff = 0, ss = 0, dist = 0;
    for (let j = 0; j < d; j++) {
      const f = features.data[off + j]!, p = s[j]!;
      dot += f * p;
      ff += f * f;
      ss += p * p;
      dist += (f - p) ** 2;
    }
    out[i] = metric === "innerProduct"
      ? dot
      : metric === "euclidean"
      ? -Math.sqrt(dist)
      : dot / (Math.max(Math.sqrt(ff), COSINE_EPS) * Math.max(Math.sqrt(ss), COSINE_EPS));
  }
  return out;
}

/** Options of the SHE detector. */
export interface SheDetectorOptions {
  /** Comparison with the stored pattern; default `innerProduct` (the paper, OpenOOD's `she.yml`). */
  metric: SheMetric;
}

/** Detector of {@linkcode she} (registry id `she`; inner product with the predicted class's stored pattern). */
export const sheDetector: Detector<SheDetectorOptions, SheState> = {
  label: "SHE",
  citation: "J. Zhang et al., ICLR 2023 (OpenReview KkazG4lgKL)",
  formula: "⟨f, S_ŷ⟩, S_c = mean feature of correctly classified training images of class c, ŷ = argmax f",
  needs: ["features", "logits"],
  defaults: { metric: "innerProduct" },
  fit: (ctx) => {
    const train = trainOutputs(ctx, "SHE");
    return fitShe(needOutput(train, "features", "SHE"), needOutput(train, "logits", "SHE"), train.labels);
  },
  score: (set, o, state) =>
    Promise.resolve(
      she(state, needOutput(set.outputs, "features", "SHE"), needOutput(set.outputs, "logits", "SHE"), o.metric),
    ),
};
