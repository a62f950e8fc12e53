/**
 * Closed-set and open-set classification metrics: ID accuracy and macro-F1 over K known classes + "unknown"
 * (VMDLS, Dinari & Freifeld, UAI 2022). Labels are non-negative integers.
 * @module
 */

import { type BootstrapOptions, bootstrapSamples, type Interval } from "./bootstrap.ts";

function assertLabels(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, numClasses?: number): void {
  if (yTrue.length !== yPred.length) {
    throw new Error(`metrics: yTrue has ${yTrue.length} labels but yPred has ${yPred.length}`);
  }
  if (yTrue.length === 0) throw new Error("metrics: labels are empty (need at least one sample)");
  for (const [name, y] of [["yTrue", yTrue], ["yPred", yPred]] as const) {
    for (let i = 0; i < y.length; i++) {
      const v = y[i]!;
      if (!Number.isInteger(v) || v < 0 || (numClasses !== undefined && v >= numClasses)) {
        const range = numClasses === undefined ? "a non-negative integer" : `an integer in [0, ${numClasses})`;
        throw new Error(`metrics: ${name}[${i}] = ${v} is not ${range}`);
      }
    }
  }
}

/**
 * Accuracy = (1/n)·Σ_i [yPred_i = yTrue_i] (scikit-learn `accuracy_score`); ID accuracy when given the ID test set.
 *
 * @param yTrue True labels (non-negative integers).
 * @param yPred Predicted labels, same length.
 * @returns Accuracy in [0, 1].
 * @throws Error on empty input, length mismatch or a non-integer / negative label.
 */
export function accuracy(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  assertLabels(yTrue, yPred);
  let correct = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) correct++;
  return correct / yTrue.length;
}

/** Options for {@link macroF1} and {@link perClassF1}. */
export interface MacroF1Options {
  /**
   * Average over classes 0 … numClasses−1 (K + 1 for open set, unknown = K); a class absent from both
   * `yTrue` and `yPred` then scores 0 (scikit-learn `labels=range(numClasses), zero_division=0`). Default: the
   * classes present in `yTrue` ∪ `yPred` (scikit-learn's default).
   */
  numClasses?: number;
}

/**
 * Per-class F1_c = 2·TP_c / (2·TP_c + FP_c + FN_c), 0 when the denominator is 0.
 *
 * @param yTrue True labels.
 * @param yPred Predicted labels.
 * @param opts.numClasses Which classes to report (see {@link MacroF1Options}).
 * @returns The class labels (ascending) and their F1.
 * @throws Error on empty input, length mismatch, or a label outside [0, numClasses).
 */
export function perClassF1(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  opts: MacroF1Options = {},
): { labels: number[]; f1: Float64Array } {
  assertLabels(yTrue, yPred, opts.numClasses);
  let size = opts.numClasses ?? 0;
  if (opts.numClasses === undefined) {
    for (let i = 0; i < yTrue.length; i++) size = Math.max(size, yTrue[i]! + 1, yPred[i]! + 1);
  }
  const tp = new Float64Array(size), fp = new Float64Array(size), fn = new Float64Array(size);
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i]!, p = yPred[i]!;
    if (t === p) tp[t]!++;
    else {
      fp[p]!++;
      fn[t]!++;
    }
  }
  const labels: number[] = [];
  for (let c = 0; c < size; c++) {
    if (opts.numClasses !== undefined || tp[c]! + fp[c]! + fn[c]! > 0) labels.push(c);
  }
  const f1 = Float64Array.from(labels, (c) => {
    const d = 2 * tp[c]! + fp[c]! + fn[c]!;
    return d === 0 ? 0 : (2 * tp[c]!) / d;
  });
  return { labels, f1 };
}

/**
 * Macro-F1 = (1/|C|)·Σ_{c∈C} 2·TP_c / (2·TP_c + FP_c + FN_c) (scikit-learn `f1_score(average="macro")`).
 * For open-set recognition as in VMDLS, pass K+1 classes with "unknown" = K (see {@link openSetPredictions}).
 *
 * @param yTrue True labels (OOD samples labelled K).
 * @param yPred Predicted labels.
 * @param opts.numClasses Average over 0 … numClasses−1; default: classes present in either array.
 * @returns Macro-F1 in [0, 1].
 * @throws Error on empty input, length mismatch, or a label outside [0, numClasses).
 * @example Usage
 * ```ts
 * import { macroF1 } from "./classification.ts";
 * macroF1([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 0], { numClasses: 3 }); // (1/2 + 4/5 + 2/3) / 3 = 59/90
 * ```
 */
export function macroF1(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, opts: MacroF1Options = {}): number {
  const { f1 } = perClassF1(yTrue, yPred, opts);
  let sum = 0;
  for (const v of f1) sum += v;
  return sum / f1.length;
}

/**
 * Open-set predictions: the closed-set prediction where the ID score is ≥ `threshold`, else `unknownLabel`
 * (VMDLS: accept as ID if s ≥ τ, otherwise predict the extra class K).
 *
 * @param knownPred Closed-set predicted class per sample (e.g. argmax of the logits).
 * @param scores ID scores, higher = more in-distribution, same length.
 * @param threshold Acceptance threshold τ.
 * @param unknownLabel The "unknown" class, usually K (the number of known classes).
 * @returns Int32Array of predictions over K+1 classes.
 * @throws Error on a length mismatch or a NaN score.
 */
export function openSetPredictions(
  knownPred: ArrayLike<number>,
  scores: ArrayLike<number>,
  threshold: number,
  unknownLabel: number,
): Int32Array {
  if (knownPred.length !== scores.length) {
    throw new Error(`metrics: knownPred has ${knownPred.length} entries but scores has ${scores.length}`);
  }
  const out = new Int32Array(scores.length);
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (s !== s) throw new Error(`metrics: scores contain NaN at index ${i}`);
    out[i] = s >= threshold ? knownPred[i]! : unknownLabel;
  }
  return out;
}

/**
 * Percentile-bootstrap intervals for accuracy and macro-F1 (resampling samples with replacement).
 *
 * @param yTrue True labels.
 * @param yPred Predicted labels.
 * @param opts Bootstrap settings plus `numClasses` for macro-F1.
 * @returns Intervals for `accuracy` and `macroF1`.
 * @throws Error on empty input, length mismatch or invalid labels.
 */
export function bootstrapClassification(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  opts: BootstrapOptions & MacroF1Options = {},
): Record<"accuracy" | "macroF1", Interval> {
  assertLabels(yTrue, yPred, opts.numClasses);
  const t = new Int32Array(yTrue.length), p = new Int32Array(yTrue.length);
  return bootstrapSamples(yTrue.length, (idx) => {
    for (let i = 0; i < idx.length; i++) {
      t[i] = yTrue[idx[i]!]!;
      p[i] = yPred[idx[i]!]!;
    }
    return { accuracy: accuracy(t, p), macroF1: macroF1(t, p, { numClasses: opts.numClasses }) };
  }, opts);
}
