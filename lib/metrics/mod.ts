/**
 * OOD-detection metrics on plain float64 arrays.
 *
 * Conventions (conventions.md C2, C3; papers.md §1):
 * - Scores are "higher = more in-distribution" (MSP, max-logit, −energy, −KNN distance). Negate outlier scores.
 * - ID is the positive class for FPR@95%TPR unless a paper's variant is named (`fprRule`), or the OpenOOD v1.5 /
 *   pytorch-ood reading is asked for (`fpr95OodPositive`, `positive: "ood"`).
 * - Every result is a fraction in [0, 1]; ×100 only at display.
 * - All arithmetic is float64 JS (`Float64Array` / numbers), never float32 tensors. Inputs may be any
 *   `ArrayLike<number>` (`number[]`, `Float32Array`, `Float64Array`); NaN or an empty set throws an Error naming
 *   the input (and index). ±Infinity is allowed (ordered), except AUTC, which is then NaN.
 * - One O(n log n) sort (`sortScores`) feeds a shared sweep (`RocSweep`) from which every threshold metric is an
 *   O(n) pass; `evaluate` does this once.
 *
 * @example Usage
 * ```ts
 * import { evaluate } from "@lib/metrics/mod.ts";
 * const idScores = Float32Array.of(0.9, 0.8, 0.4), oodScores = [0.5, 0.1];
 * const r = evaluate(idScores, oodScores, { fprRule: "hendrycks" });
 * console.log(r.auroc, r.fpr95, r.fpr95OodPositive); // 0.8333…, 0.5, 0.3333…
 * ```
 * @module
 */

export { auroc, aurocFromSweep } from "./auroc.ts";
export { auprFromCurve, auprFromSweep, auprIn, auprOut } from "./aupr.ts";
export type { AuprEstimator, AuprOptions } from "./aupr.ts";
export { autc, autcFromSweep } from "./autc.ts";
export { bootstrapSamples, bootstrapScores, percentileInterval } from "./bootstrap.ts";
export type { BootstrapOptions, Interval } from "./bootstrap.ts";
export { accuracy, bootstrapClassification, macroF1, openSetPredictions, perClassF1 } from "./classification.ts";
export type { MacroF1Options } from "./classification.ts";
export { detectionError, detectionErrorFromSweep } from "./detection_error.ts";
export { evaluate, metricsFromSweep } from "./evaluate.ts";
export type { EvaluateOptions, EvaluateResult, OodMetricName, OodMetrics } from "./evaluate.ts";
export { FPR_RULES, fprAtTpr, fprAtTprFromCurve, fprAtTprFromSweep } from "./fpr.ts";
export type { FprOptions, FprRule } from "./fpr.ts";
export { odinMetrics, odinMetricsFromSweep } from "./odin.ts";
export type { OdinMetrics } from "./odin.ts";
export { keptByDropIntermediate, orientCurve, rocCurve, rocSweep, sortScores, sweepSorted } from "./roc.ts";
export type { OrientedCurve, PositiveClass, RocCurve, RocSweep, SortedScores } from "./roc.ts";
export { sortFloat64 } from "./sort.ts";
export { classPrototypes, embeddingQuality, prototypeDispersion } from "./embedding.ts";
export type { EmbeddingQuality } from "./embedding.ts";
