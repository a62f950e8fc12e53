/**
 * Embedding-quality measures on the unit hypersphere, after CIDER's analysis of "inter-class dispersion" and
 * "intra-class compactness" (Ming et al., ICLR 2023, §5: better OOD detection comes with prototypes far apart
 * and samples close to their prototype), computed here on L2-normalised penultimate features (the space the
 * KNN score uses) with class prototypes μ_c = normalised mean of the training features of class c.
 * All angles in degrees:
 *
 * - dispersion = (1/(C(C−1))) Σ_{i≠j} ∠(μ_i, μ_j) — higher is better;
 * - compactness = (1/n) Σ_n ∠(x_n, μ_{y_n}) over ID test samples — lower is better;
 * - separation (this notebook's own measure, not the paper's) = mean over OOD samples of min_c ∠(x, μ_c) (averaged
 *   over OOD sets) minus the same over ID test samples — higher is better.
 *
 * The paper's exact normalisation of these measures (mean of angles vs angle of mean cosines, train vs test
 * samples) was not transcribed (papers.md §6e), so the values are comparable between methods here, not with the
 * paper's table.
 * @module
 */
import type { Matrix } from "../scores/matrix.ts";

/** The three measures, in degrees. */
export interface EmbeddingQuality {
  /** Mean pairwise angle between class prototypes (↑). */
  dispersion: number;
  /** Mean angle between an ID test sample and its class prototype (↓). */
  compactness: number;
  /** Mean nearest-prototype angle of OOD samples minus that of ID test samples (↑). */
  separation: number;
}

const DEG = 180 / Math.PI;

function angle(a: ArrayLike<number>, ai: number, b: ArrayLike<number>, bi: number, d: number): number {
  let dot = 0, na = 0, nb = 0;
  for (let k = 0; k < d; k++) {
    const x = a[ai * d + k]!, y = b[bi * d + k]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  const cos = dot / (Math.sqrt(na * nb) || 1);
  return Math.acos(Math.max(-1, Math.min(1, cos))) * DEG;
}

/** Class prototypes: the L2-normalised mean of the L2-normalised rows of each class, C·d (float64). */
export function classPrototypes(features: Matrix, labels: ArrayLike<number>, numClasses: number): Float64Array {
  const d = features.dim;
  const out = new Float64Array(numClasses * d);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i]!;
    let sq = 0;
    for (let k = 0; k < d; k++) sq += features.data[i * d + k]! ** 2;
    const s = 1 / (Math.sqrt(sq) || 1);
    for (let k = 0; k < d; k++) out[c * d + k]! += features.data[i * d + k]! * s;
  }
  for (let c = 0; c < numClasses; c++) {
    let sq = 0;
    for (let k = 0; k < d; k++) sq += out[c * d + k]! ** 2;
    const s = 1 / (Math.sqrt(sq) || 1);
    for (let k = 0; k < d; k++) out[c * d + k]! *= s;
  }
  return out;
}

/** Mean pairwise angle (degrees) between C prototypes (C·d, row-major). */
export function prototypeDispersion(prototypes: ArrayLike<number>, numClasses: number): number {
  const d = prototypes.length / numClasses;
  let sum = 0;
  for (let i = 0; i < numClasses; i++) {
    for (let j = 0; j < numClasses; j++) if (i !== j) sum += angle(prototypes, i, prototypes, j, d);
  }
  return sum / (numClasses * (numClasses - 1));
}

function meanNearestAngle(x: Matrix, prototypes: ArrayLike<number>, numClasses: number): number {
  const n = x.data.length / x.dim;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    let best = Infinity;
    for (let c = 0; c < numClasses; c++) best = Math.min(best, angle(x.data, i, prototypes, c, x.dim));
    sum += best;
  }
  return sum / n;
}

/**
 * The three measures for one trained network.
 * @param train Training features (the prototypes' source) and labels.
 * @param test ID test features and labels.
 * @param ood OOD features, one matrix per OOD set (the OOD term is the mean over sets).
 * @example Usage
 * ```ts
 * const m = (rows: number[][]) => ({ data: Float32Array.from(rows.flat()), dim: 2 });
 * embeddingQuality({ features: m([[1, 0], [0, 1]]), labels: [0, 1] }, { features: m([[1, 0]]), labels: [0] }, [m([[-1, 0]])], 2);
 * // { dispersion: 90, compactness: 0, separation: 90 }
 * ```
 */
export function embeddingQuality(
  train: { features: Matrix; labels: ArrayLike<number> },
  test: { features: Matrix; labels: ArrayLike<number> },
  ood: readonly Matrix[],
  numClasses: number,
): EmbeddingQuality {
  const mu = classPrototypes(train.features, train.labels, numClasses);
  const d = train.features.dim;
  let compact = 0;
  for (let i = 0; i < test.labels.length; i++) compact += angle(test.features.data, i, mu, test.labels[i]!, d);
  const idNearest = meanNearestAngle(test.features, mu, numClasses);
  const oodNearest = ood.reduce((s, m) => s + meanNearestAngle(m, mu, numClasses), 0) / Math.max(1, ood.length);
  return {
    dispersion: prototypeDispersion(mu, numClasses),
    compactness: compact / test.labels.length,
    separation: oodNearest - idNearest,
  };
}
