/**
 * L2-regularised binary logistic regression in float64 JS, with the cross-validated choice of C of scikit-learn's
 * `LogisticRegressionCV` defaults — what UM's Mahalanobis (Lee et al., NeurIPS 2018) uses to weight the per-layer
 * scores. TF.js has no float64 and this problem is tiny (a few features), so it is solved exactly by Newton's
 * method on plain arrays (papers.md §9b).
 * @module
 */

/** A fitted model: P(y = 1 | x) = σ(w·x + b). */
export interface LogisticModel {
  weights: number[];
  intercept: number;
  /** Inverse regularisation strength used. */
  C: number;
}

/** The model's logit z = w·x + b of one sample. */
export function logit(model: LogisticModel, x: ArrayLike<number>): number {
  let z = model.intercept;
  for (let j = 0; j < model.weights.length; j++) z += model.weights[j]! * x[j]!;
  return z;
}

/** σ(z) = 1 / (1 + e^(−z)), without overflow. */
export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** log(1 + e^z), without overflow. */
function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

function checkData(x: readonly ArrayLike<number>[], y: ArrayLike<number>): number {
  if (x.length === 0 || x.length !== y.length) throw new Error(`logistic: ${x.length} rows, ${y.length} labels`);
  const d = x[0]!.length;
  for (let i = 0; i < x.length; i++) {
    if (x[i]!.length !== d) throw new Error(`logistic: row ${i} has ${x[i]!.length} features, row 0 has ${d}`);
    for (let j = 0; j < d; j++) {
      if (!Number.isFinite(x[i]![j]!)) throw new Error(`logistic: x[${i}][${j}] is not finite`);
    }
    if (y[i] !== 0 && y[i] !== 1) throw new Error(`logistic: labels must be 0 or 1, got ${y[i]} at ${i}`);
  }
  return d;
}

/** Solves A·u = r (n×n, row-major) by Gaussian elimination with partial pivoting. */
function solve(a: Float64Array, r: Float64Array, n: number): Float64Array {
  const m = Float64Array.from(a), v = Float64Array.from(r);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let i = c + 1; i < n; i++) if (Math.abs(m[i * n + c]!) > Math.abs(m[p * n + c]!)) p = i;
    if (p !== c) {
      for (let j = 0; j < n; j++) [m[c * n + j], m[p * n + j]] = [m[p * n + j]!, m[c * n + j]!];
      [v[c], v[p]] = [v[p]!, v[c]!];
    }
    const piv = m[c * n + c]!;
    if (Math.abs(piv) < 1e-300) throw new Error("logistic: singular Newton system");
    for (let i = c + 1; i < n; i++) {
      const f = m[i * n + c]! / piv;
      if (f === 0) continue;
      for (let j = c; j < n; j++) m[i * n + j]! -= f * m[c * n + j]!;
      v[i]! -= f * v[c]!;
    }
  }
  const u = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = v[i]!;
    for (let j = i + 1; j < n; j++) s -= m[i * n + j]! * u[j]!;
    u[i] = s / m[i * n + i]!;
  }
  return u;
}

/**
 * Fits min_{w,b} ½‖w‖² + C Σ_i [log(1 + e^{z_i}) − y_i z_i], z_i = w·x_i + b (scikit-learn's L2 objective; the
 * intercept is not penalised) by damped Newton iterations until the step is below `tol`.
 * @param x rows of features.
 * @param y labels 0/1.
 * @param C inverse regularisation strength.
 * @example Usage
 * ```ts
 * const m = fitLogisticRegression([[0], [1], [2], [3]], [0, 0, 1, 1], 1);
 * m.weights[0]! > 0; // true
 * ```
 */
export function fitLogisticRegression(
  x: readonly ArrayLike<number>[],
  y: ArrayLike<number>,
  C: number,
  opts: { maxIter?: number; tol?: number } = {},
): LogisticModel {
  const d = checkData(x, y);
  if (!(C > 0)) throw new Error(`logistic: C must be > 0, got ${C}`);
  const n = x.length, k = d + 1;
  const theta = new Float64Array(k); // [w, b]
  const z = (t: Float64Array, row: ArrayLike<number>) => {
    let s = t[d]!;
    for (let j = 0; j < d; j++) s += t[j]! * row[j]!;
    return s;
  };
  const objective = (t: Float64Array) => {
    let f = 0;
    for (let j = 0; j < d; j++) f += 0.5 * t[j]! * t[j]!;
    for (let i = 0; i < n; i++) {
      const zi = z(t, x[i]!);
      f += C * (softplus(zi) - y[i]! * zi);
    }
    return f;
  };
  let f = objective(theta);
  for (let iter = 0; iter < (opts.maxIter ?? 100); iter++) {
    const g = new Float64Array(k), h = new Float64Array(k * k);
    for (let j = 0; j < d; j++) {
      g[j] = theta[j]!;
      h[j * k + j] = 1;
    }
    h[d * k + d] = 1e-12; // keeps the system regular when the data are separable
    for (let i = 0; i < n; i++) {
      const row = x[i]!;
      const p = sigmoid(z(theta, row));
      const r = C * (p - y[i]!), w = C * p * (1 - p);
      for (let a = 0; a < k; a++) {
        const xa = a < d ? row[a]! : 1;
        g[a]! += r * xa;
        for (let b = 0; b <= a; b++) h[a * k + b]! += w * xa * (b < d ? row[b]! : 1);
      }
    }
    for (let a = 0; a < k; a++) for (let b = a + 1; b < k; b++) h[a * k + b] = h[b * k + a]!;
    const step = solve(h, g, k);
    let t = 1, next = theta, fNext = f;
    for (let ls = 0; ls < 50; ls++) {
      next = theta.map((v, j) => v - t * step[j]!);
      fNext = objective(next);
      if (fNext <= f) break;
      t /= 2;
    }
    const moved = Math.max(...step.map((s) => Math.abs(s * t)));
    if (fNext > f) break; // no descent along the Newton direction: converged to float precision
    theta.set(next);
    f = fNext;
    if (moved < (opts.tol ?? 1e-10)) break;
  }
  return { weights: Array.from(theta.subarray(0, d)), intercept: theta[d]!, C };
}

/** scikit-learn's default grid of `LogisticRegressionCV(Cs=10)`: 10 values log-spaced over [1e-4, 1e4]. */
export const DEFAULT_CS: readonly number[] = Array.from({ length: 10 }, (_, i) => Math.pow(10, -4 + (8 * i) / 9));

/**
 * Test-fold index of each sample for stratified k-fold without shuffling, as scikit-learn's `StratifiedKFold`
 * (1.2) assigns them: classes are ordered by first appearance; fold f takes, of each class c, the number of c's
 * among positions f, f + k, f + 2k, … of the class-sorted label list; within a class, samples in their original
 * order fill fold 0 first, then fold 1, and so on.
 */
export function stratifiedFolds(y: ArrayLike<number>, k: number): Int32Array {
  const classes: number[] = [];
  for (let i = 0; i < y.length; i++) if (!classes.includes(y[i]!)) classes.push(y[i]!);
  const counts = classes.map((c) => Array.prototype.filter.call(y, (v: number) => v === c).length);
  const sorted = classes.flatMap((_, e) => Array<number>(counts[e]!).fill(e));
  const alloc = Array.from({ length: k }, (_, f) => {
    const a = classes.map(() => 0);
    for (let i = f; i < sorted.length; i += k) a[sorted[i]!]!++;
    return a;
  });
  const folds = new Int32Array(y.length);
  classes.forEach((c, e) => {
    const order = alloc.flatMap((a, f) => Array<number>(a[e]!).fill(f));
    let j = 0;
    for (let i = 0; i < y.length; i++) if (y[i] === c) folds[i] = order[j++]!;
  });
  return folds;
}

/**
 * `LogisticRegressionCV` with its defaults: for each C of `Cs`, the mean accuracy over `folds` stratified folds;
 * the first C with the best mean accuracy is refitted on all data.
 * @example Usage
 * ```ts
 * const m = logisticRegressionCV([[0], [1], [2], [3], [4], [5], [6], [7], [8], [9]], [0, 0, 0, 0, 1, 0, 1, 1, 1, 1], { folds: 2 });
 * ```
 */
export function logisticRegressionCV(
  x: readonly ArrayLike<number>[],
  y: ArrayLike<number>,
  opts: { Cs?: readonly number[]; folds?: number } = {},
): LogisticModel & { cvAccuracy: number[] } {
  checkData(x, y);
  const Cs = opts.Cs ?? DEFAULT_CS, k = opts.folds ?? 5;
  const fold = stratifiedFolds(y, k);
  const cvAccuracy = Cs.map((C) => {
    let acc = 0;
    for (let f = 0; f < k; f++) {
      const trainIdx: number[] = [], testIdx: number[] = [];
      for (let i = 0; i < x.length; i++) (fold[i] === f ? testIdx : trainIdx).push(i);
      if (testIdx.length === 0 || trainIdx.length === 0) continue;
      const m = fitLogisticRegression(trainIdx.map((i) => x[i]!), trainIdx.map((i) => y[i]!), C);
      acc += testIdx.filter((i) => (logit(m, x[i]!) > 0 ? 1 : 0) === y[i]).length / testIdx.length;
    }
    return acc / k;
  });
  let best = 0;
  cvAccuracy.forEach((a, i) => {
    if (a > cvAccuracy[best]!) best = i;
  });
  return { ...fitLogisticRegression(x, y, Cs[best]!), cvAccuracy };
}
