/**
 * One-call OOD evaluation: every threshold metric from a single sort of the scores.
 *
 * Conventions (conventions.md C2, C3): scores are "higher = more in-distribution"; ID is the positive class for
 * FPR@95%TPR unless a paper's variant is named; all results are fractions in [0, 1] (×100 only at display); all
 * arithmetic is float64 on plain arrays (`number[]`, `Float32Array`, `Float64Array`), never float32 tensors.
 * @module
 */

import { aurocFromSweep } from "./auroc.ts";
import { type AuprEstimator, auprFromCurve } from "./aupr.ts";
import { autcFromSweep } from "./autc.ts";
import { type BootstrapOptions, bootstrapScores, type Interval } from "./bootstrap.ts";
import { accuracy, bootstrapClassification } from "./classification.ts";
import { detectionErrorFromSweep } from "./detection_error.ts";
import { fprAtTprFromCurve, type FprRule } from "./fpr.ts";
import { orientCurve, type RocSweep, sortScores, sweepSorted } from "./roc.ts";

/** The OOD-detection metrics `evaluate` computes, all fractions. */
export interface OodMetrics {
  /** P(s_ID > s_OOD) + ½·P(s_ID = s_OOD) (= scikit-learn `roc_auc_score`). Higher is better. */
  readonly auroc: number;
  /** AUPR with ID positive on the score (AP by default, trapezoid by option). Higher is better. */
  readonly auprIn: number;
  /** AUPR with OOD positive on the negated score (AP by default, trapezoid by option). Higher is better. */
  readonly auprOut: number;
  /** FPR of OOD accepted at ≥ tprLevel ID TPR (ID positive), with the chosen rule. Lower is better. */
  readonly fpr95: number;
  /** OpenOOD v1.5 / pytorch-ood reading: ID flagged as OOD at the first threshold flagging ≥ tprLevel of OOD. */
  readonly fpr95OodPositive: number;
  /** min_τ ½·(1 − TPR) + ½·FPR, ≥ used consistently. Lower is better. */
  readonly detectionError: number;
  /** Area under the threshold curve (pytorch-ood); lower is better. */
  readonly autc: number;
}

/** Names of the {@link OodMetrics}. */
export type OodMetricName = keyof OodMetrics;

/** Options for {@link evaluate}. */
export interface EvaluateOptions {
  /** Threshold rule for `fpr95`: `"sklearn"` (first-≥, default), `"hendrycks"` (CIDER, UM), `"odin"` (ELOC). */
  fprRule?: FprRule;
  /** TPR level of both FPR readings; default 0.95. */
  tprLevel?: number;
  /** Drop collinear ROC points before the first-≥ search (scikit-learn's default, as OpenOOD calls it); default false. */
  dropIntermediate?: boolean;
  /** AUPR integrator: `"ap"` (average precision, default) or `"trapezoid"` (OpenOOD / pytorch-ood). */
  auprEstimator?: AuprEstimator;
  /** ID-set classification, to report `idAccuracy`. */
  idClassification?: { readonly labels: ArrayLike<number>; readonly predictions: ArrayLike<number> };
  /** Bootstrap confidence intervals for every metric (`true` = defaults: 1000 resamples, 95 %, seed 0). */
  bootstrap?: BootstrapOptions | boolean;
}

/** Result of {@link evaluate}. */
export interface EvaluateResult extends OodMetrics {
  /** Number of ID scores. */
  readonly nId: number;
  /** Number of OOD scores. */
  readonly nOod: number;
  /** Accuracy on the ID set, when `idClassification` was given. */
  readonly idAccuracy?: number;
  /** Percentile-bootstrap intervals, when `bootstrap` was given. */
  readonly ci?: Partial<Record<OodMetricName | "idAccuracy", Interval>>;
  /** The definitions used, so a result row says how it was computed. */
  readonly settings: {
    readonly fprRule: FprRule;
    readonly tprLevel: number;
    readonly dropIntermediate: boolean;
    readonly auprEstimator: AuprEstimator;
  };
}

/**
 * All {@link OodMetrics} from one sweep (used by `evaluate` and by its bootstrap).
 *
 * @param sweep The shared sorted sweep.
 * @param opts Rules (see {@link EvaluateOptions}).
 * @returns The metrics.
 */
export function metricsFromSweep(sweep: RocSweep, opts: EvaluateOptions = {}): OodMetrics {
  const idCurve = orientCurve(sweep, "id"), oodCurve = orientCurve(sweep, "ood");
  const tprLevel = opts.tprLevel ?? 0.95, dropIntermediate = opts.dropIntermediate ?? false;
  const estimator = opts.auprEstimator ?? "ap";
  return {
    auroc: aurocFromSweep(sweep),
    auprIn: auprFromCurve(idCurve, { estimator }),
    auprOut: auprFromCurve(oodCurve, { estimator }),
    fpr95: fprAtTprFromCurve(idCurve, { tprLevel, rule: opts.fprRule ?? "sklearn", dropIntermediate }),
    fpr95OodPositive: fprAtTprFromCurve(oodCurve, { tprLevel, rule: "sklearn", dropIntermediate }),
    detectionError: detectionErrorFromSweep(sweep),
    autc: autcFromSweep(sweep),
  };
}

/**
 * Evaluates OOD detection from ID and OOD scores (higher = more in-distribution) with one O(n log n) sort.
 *
 * - `auroc` = P(s_ID > s_OOD) + ½·P(s_ID = s_OOD) (scikit-learn `roc_auc_score`).
 * - `auprIn` / `auprOut` = average precision Σ (R_n − R_{n−1})·P_n with ID positive on s / OOD positive on −s
 *   (`average_precision_score`); `auprEstimator: "trapezoid"` for OpenOOD's `auc(recall, precision)`.
 * - `fpr95` = fraction of OOD with s ≥ τ at the highest τ with frac(ID ≥ τ) ≥ 0.95 (first ROC point with
 *   TPR ≥ 0.95, `roc_curve(drop_intermediate=False)`); `fprRule: "hendrycks"` (CIDER, UM) or `"odin"` (ELOC)
 *   for the papers' variants (see `fpr.ts`; `"odin"` gives NaN when no threshold has TPR in [0.9495, 0.9505]).
 * - `fpr95OodPositive` = fraction of ID with s ≤ t at the first t (ascending) with frac(OOD ≤ t) ≥ 0.95
 *   (OpenOOD v1.5, pytorch-ood).
 * - `detectionError` = min_τ ½·(1 − TPR) + ½·FPR; `autc` = pytorch-ood's AUTC.
 *
 * @param id ID scores.
 * @param ood OOD scores.
 * @param opts Rules, ID classification, bootstrap (see {@link EvaluateOptions}).
 * @returns Metrics, sizes, optional ID accuracy and confidence intervals, and the settings used.
 * @throws Error when either score set is empty or contains NaN (naming the input and index), or an option is invalid.
 * @example Usage
 * ```ts
 * import { evaluate } from "./evaluate.ts";
 * const r = evaluate([0.9, 0.8, 0.4], [0.5, 0.1], { fprRule: "hendrycks", bootstrap: { resamples: 200, seed: 1 } });
 * r.auroc; // 5/6
 * r.ci?.auroc?.lower;
 * ```
 */
export function evaluate(id: ArrayLike<number>, ood: ArrayLike<number>, opts: EvaluateOptions = {}): EvaluateResult {
  const sorted = sortScores(id, ood);
  const sweep = sweepSorted(sorted);
  const metrics = metricsFromSweep(sweep, opts);
  const cls = opts.idClassification;
  const idAccuracy = cls === undefined ? undefined : accuracy(cls.labels, cls.predictions);
  let ci: EvaluateResult["ci"];
  if (opts.bootstrap) {
    const boot = opts.bootstrap === true ? {} : opts.bootstrap;
    ci = bootstrapScores(sorted, (s) => ({ ...metricsFromSweep(s, opts) }), boot);
    if (cls !== undefined) {
      ci = { ...ci, idAccuracy: bootstrapClassification(cls.labels, cls.predictions, boot).accuracy };
    }
  }
  return {
    ...metrics,
    nId: sweep.nId,
    nOod: sweep.nOod,
    ...(idAccuracy === undefined ? {} : { idAccuracy }),
    ...(ci === undefined ? {} : { ci }),
    settings: {
      fprRule: opts.fprRule ?? "sklearn",
      tprLevel: opts.tprLevel ?? 0.95,
      dropIntermediate: opts.dropIntermediate ?? false,
      auprEstimator: opts.auprEstimator ?? "ap",
    },
  };
}
