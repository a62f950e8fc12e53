/**
 * VMDLS's own evaluation (Dinari & Freifeld, UAI 2022; BGU-CS-VIL/vmdls@5add9e2 `models/vae.py`; papers.md §2c,
 * step 4), next to the shared metrics of `lib/metrics/`. Scores are the VMDLS score s (higher = more ID, s < 0);
 * a sample is accepted as ID when s ≥ τ; ID test images are the positives, OOD images carry the label K.
 *
 * - **Threshold grid** (`plot_roc_curve`, l. 470): `np.flip(np.geomspace(max(s), min(s), num=100000))` over the
 *   scores of ID test and OOD together, ascending: {@linkcode vmdlsThresholdGrid}.
 * - **FPR95** (l. 480–484): over the grid in ascending order, `if tp >= 0.95: fpr_at_095 = fp` — the FPR at the
 *   largest grid threshold whose TPR is ≥ 0.95 (the first reaching 95 % coming down from the top), TPR = share of ID
 *   with s ≥ τ (`get_fpr_tpr`, l. 406–415). It differs from the first-≥ rule of `lib/metrics` only when an OOD score
 *   falls between that grid point and the ID score at 95 % TPR.
 * - **ROC-AUC** (l. 502): `sklearn.metrics.auc(fpr, tpr)`, the trapezoid over the grid's points, with no (0, 0)
 *   point: the area left of the top grid point's FPR is missing when OOD samples hold the top score.
 * - **CAUROC** (l. 473–489): Σ_k (FPR_{k−1} − FPR_k)·TPRc_k + FPR_last·TPRc_last over the ascending grid, FPR_0 = 1,
 *   with TPRc the share of the *correctly classified* ID images with s ≥ τ (`get_fpr_tpr`, l. 411–415). With every ID
 *   image correct, a grid separating all scores and an ID-only top score it is P(s_ID > s_OOD) (ties count 0,
 *   not ½; OOD ties at the top score count 1, through the last term).
 * - **Macro-F1, faithful** (`log_test_statistics`, l. 418–445): for τ in `np.flip(np.arange(-1000, 0, 1))`
 *   = −1, −2, …, −1000, predictions = argmax class, or K where s < τ; `f1_score(cur_preds, labels, average='macro')`
 *   over the labels present (scikit-learn's default; the swapped argument order leaves per-class F1 unchanged); the
 *   logged number is the best over the grid — chosen on the test set (an oracle). The grid only fits scores in
 *   [−1000, −1], the scale with the reconstruction weighting (the reference README, "Relevant Arguments", warns of
 *   this). The README's recipe ("use the threshold at 95 % tpr" from `--thresholding` tables) has no code.
 * - **Macro-F1, clean**: τ fixed before looking at the test set, at 95 % TPR on held-out ID training images
 *   (`tprThreshold`), macro-F1 over the K + 1 classes at that τ; accepted OOD images keep their argmax class (as
 *   in the reference, where they count as false positives of that class).
 * @module
 */
import { macroF1 } from "../../metrics/classification.ts";
import { sortFloat64 } from "../../metrics/sort.ts";
import { assertFraction, toFloat64 } from "../../metrics/validate.ts";
import { openSetLabels, tprThreshold } from "../../experiment/rows.ts";

/** The scores and classes of one ID test set and one OOD set. */
export interface VmdlsEvalSet {
  /** ID test images: scores, argmax classes, true labels in [0, K). */
  id: { scores: ArrayLike<number>; predictions: ArrayLike<number>; labels: ArrayLike<number> };
  /** OOD images: scores and argmax classes (their true label is K). */
  ood: { scores: ArrayLike<number>; predictions: ArrayLike<number> };
  /** Known classes K. */
  numClasses: number;
}

/** Points of the reference's ROC grid (`num=100000`, `models/vae.py` l. 470). */
export const VMDLS_GRID_POINTS = 100_000;

/**
 * The reference's ROC thresholds, ascending: `np.flip(np.geomspace(max, min, num))` (`models/vae.py` l. 470),
 * computed as NumPy does (signs folded out when both are negative, `10 ** linspace(log10|max|, log10|min|)`, both
 * endpoints set exactly). Against NumPy 2.4.6, ≈ 5 % of the interior points differ by one ulp (`pow`), which moves
 * no float32 score across a threshold in practice.
 * @param min Smallest score; `max` the largest; both non-zero and of one sign (NumPy returns NaNs otherwise).
 * @param num Points, ≥ 2.
 * @example Usage
 * ```ts
 * vmdlsThresholdGrid(-1000, -1, 4); // [−1000, −100, −10, −1]
 * ```
 */
export function vmdlsThresholdGrid(min: number, max: number, num = VMDLS_GRID_POINTS): Float64Array {
  if (!Number.isInteger(num) || num < 2) throw new Error(`vmdlsThresholdGrid: num must be an integer ≥ 2, got ${num}`);
  if (!(min <= max && Number.isFinite(min) && Number.isFinite(max))) {
    throw new Error(`vmdlsThresholdGrid: need finite min ≤ max, got ${min}, ${max}`);
  }
  if (min === 0 || max === 0 || Math.sign(min) !== Math.sign(max)) {
    throw new Error(`vmdlsThresholdGrid: a geometric grid needs non-zero scores of one sign, got ${min} … ${max}`);
  }
  const sign = max < 0 ? -1 : 1;
  const start = Math.abs(max), stop = Math.abs(min);
  const logStart = Math.log10(start), logStop = Math.log10(stop), step = (logStop - logStart) / (num - 1);
  const out = new Float64Array(num);
  for (let i = 0; i < num; i++) {
    // geomspace(max, min)[i] sits at position num − 1 − i of the flipped (ascending) grid.
    const v = i === 0 ? start : i === num - 1 ? stop : 10 ** (i * step + logStart);
    out[num - 1 - i] = sign * v;
  }
  return out;
}

/** What {@linkcode vmdlsRocMetrics} returns; the curves are per grid threshold, ascending. */
export interface VmdlsRocMetrics {
  /** FPR at the largest grid τ with TPR ≥ the level (reference `tpr-fpr`). */
  fpr95: number;
  /** TPR at that τ (reference `tpr-at-095`), and τ itself. */
  tprAt95: number;
  threshold95: number;
  /** Trapezoid over the grid's (FPR, TPR) points (reference `ROC-AUC-Score`). */
  auroc: number;
  /** The reference's CAUROC; NaN when no ID image is classified correctly (the reference divides by zero). */
  cauroc: number;
  /** The grid and the rates at each of its thresholds. */
  curve: { thresholds: Float64Array; fpr: Float64Array; tpr: Float64Array; tprCorrect: Float64Array };
}

/**
 * The reference's grid metrics (`plot_roc_curve` and `get_fpr_tpr`, `models/vae.py` l. 406–415, 464–502): FPR95,
 * ROC-AUC and CAUROC on the 100 000-point geometric grid between the smallest and the largest score of ID test and
 * OOD together (see the module documentation). One sort and one sweep, O(N log N + grid).
 * @param set ID test and OOD scores and classes (OOD classes are not used here).
 * @param opts.num grid points (default 100 000); `tprLevel` default 0.95.
 * @example Usage
 * ```ts
 * const set = {
 *   id: { scores: [-1, -10, -1000], predictions: [0, 1, 0], labels: [0, 1, 1] },
 *   ood: { scores: [-100, -1000], predictions: [0, 0] },
 *   numClasses: 2,
 * };
 * // Grid −1000, −100, −10, −1: TPR 1, 2/3, 2/3, 1/3; FPR 1, 1/2, 0, 0; TPRc 1, 1, 1, 1/2.
 * vmdlsRocMetrics(set, { num: 4 }); // fpr95 1 (at τ = −1000), auroc 3/4, cauroc 1
 * ```
 */
export function vmdlsRocMetrics(
  set: VmdlsEvalSet,
  opts: { num?: number; tprLevel?: number } = {},
): VmdlsRocMetrics {
  const level = opts.tprLevel ?? 0.95;
  assertFraction(level, "tprLevel");
  const id = toFloat64(set.id.scores, "id scores"), ood = toFloat64(set.ood.scores, "ood scores");
  const { predictions, labels } = set.id;
  if (predictions.length !== id.length || labels.length !== id.length) {
    throw new Error(
      `vmdlsRocMetrics: ${id.length} ID scores, ${predictions.length} predictions, ${labels.length} labels`,
    );
  }
  const correct = sortFloat64(id.filter((_, i) => predictions[i] === labels[i]));
  let min = Infinity, max = -Infinity;
  for (const scores of [id, ood]) for (const v of scores) [min, max] = [Math.min(min, v), Math.max(max, v)];
  const thresholds = vmdlsThresholdGrid(min, max, opts.num ?? VMDLS_GRID_POINTS);
  sortFloat64(id);
  sortFloat64(ood);
  const g = thresholds.length;
  const fpr = new Float64Array(g), tpr = new Float64Array(g), tprCorrect = new Float64Array(g);
  // Shares of each sorted set with score ≥ t, for ascending t: a pointer past the scores below t.
  const above = (sorted: Float64Array) => {
    let p = 0;
    return (t: number) => {
      while (p < sorted.length && sorted[p]! < t) p++;
      return (sorted.length - p) / sorted.length;
    };
  };
  const idAbove = above(id), oodAbove = above(ood), correctAbove = above(correct);
  let fpr95 = 0, tprAt95 = 0, threshold95 = NaN, cauroc = 0, prevFpr = 1, auroc = 0;
  for (let k = 0; k < g; k++) {
    const t = thresholds[k]!;
    const fp = oodAbove(t), tp = idAbove(t), tc = correct.length ? correctAbove(t) : NaN;
    if (tp >= level) [fpr95, tprAt95, threshold95] = [fp, tp, t];
    [fpr[k], tpr[k], tprCorrect[k]] = [fp, tp, tc];
    cauroc += (prevFpr - fp) * tc;
    prevFpr = fp;
    if (k > 0) auroc += (fpr[k - 1]! - fp) * (tpr[k - 1]! + tp) / 2;
  }
  cauroc += fpr[g - 1]! * tprCorrect[g - 1]!;
  return { fpr95, tprAt95, threshold95, auroc, cauroc, curve: { thresholds, fpr, tpr, tprCorrect } };
}

/** The reference's macro-F1 thresholds, −1, −2, …, −1000 (`np.flip(np.arange(-1000, 0, 1))`, l. 421). */
export const VMDLS_F1_THRESHOLDS: Float64Array = Float64Array.from({ length: 1000 }, (_, i) => -(i + 1));

/** Labels (ID, then OOD as K) and open-set predictions at τ (argmax class where s ≥ τ, else K). */
function openSet(set: VmdlsEvalSet, tau: number): { yTrue: Int32Array; yPred: Int32Array } {
  const K = set.numClasses, nId = set.id.scores.length, nOod = set.ood.scores.length;
  if (set.id.labels.length !== nId || set.ood.predictions.length !== nOod) {
    throw new Error(
      `vmdls macro-F1: ${nId} ID scores / ${set.id.labels.length} labels, ${nOod} OOD scores / ` +
        `${set.ood.predictions.length} predictions`,
    );
  }
  return openSetLabels(set.id, set.ood, tau, K);
}

/**
 * Macro-F1 at one τ. `labels: "present"` averages over the labels present in truth or prediction (scikit-learn's
 * default, the reference's call); `"all"` over the K + 1 classes (an absent class scores 0).
 */
export function vmdlsMacroF1At(set: VmdlsEvalSet, tau: number, labels: "present" | "all" = "all"): number {
  const { yTrue, yPred } = openSet(set, tau);
  return macroF1(yTrue, yPred, labels === "all" ? { numClasses: set.numClasses + 1 } : {});
}

/**
 * The faithful macro-F1: the best macro-F1 over the reference's threshold grid on the test set itself
 * (`log_test_statistics`, `models/vae.py` l. 418–445: `np.argmax` keeps the first best, in grid order −1, −2, …).
 * @returns The best value, its τ, and the macro-F1 at every grid threshold (grid order).
 * @example Usage
 * ```ts
 * const set = {
 *   id: { scores: [-1.5, -1.8], predictions: [0, 1], labels: [0, 1] },
 *   ood: { scores: [-2.2], predictions: [0] },
 *   numClasses: 2,
 * };
 * // τ = −1: (0 + 0 + 1/2)/3; τ = −2 keeps both ID images and rejects the OOD one: 1; τ = −3: (2/3 + 1 + 0)/3
 * vmdlsBestMacroF1(set, [-1, -2, -3]); // { macroF1: 1, threshold: −2, curve: [1/6, 1, 5/9] }
 * ```
 */
export function vmdlsBestMacroF1(
  set: VmdlsEvalSet,
  thresholds: ArrayLike<number> = VMDLS_F1_THRESHOLDS,
): { macroF1: number; threshold: number; curve: Float64Array } {
  if (thresholds.length === 0) throw new Error("vmdlsBestMacroF1: empty threshold grid");
  const curve = Float64Array.from(thresholds, (t) => vmdlsMacroF1At(set, t, "present"));
  let best = 0;
  for (let i = 1; i < curve.length; i++) if (curve[i]! > curve[best]!) best = i;
  return { macroF1: curve[best]!, threshold: thresholds[best]!, curve };
}

/**
 * The clean macro-F1: τ at `tprLevel` (default 95 %) TPR on held-out ID images (the ⌈0.95·n⌉-th largest held-out
 * score, `tprThreshold`), fixed before the test set is seen, then macro-F1 over the K + 1 classes on the test set.
 */
export function vmdlsCleanMacroF1(
  set: VmdlsEvalSet,
  heldOutScores: ArrayLike<number>,
  tprLevel = 0.95,
): { macroF1: number; threshold: number } {
  if (heldOutScores.length === 0) throw new Error("vmdlsCleanMacroF1: no held-out scores");
  const threshold = tprThreshold(heldOutScores, tprLevel);
  return { macroF1: vmdlsMacroF1At(set, threshold, "all"), threshold };
}
