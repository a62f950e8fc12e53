/**
 * Float64 linear algebra in plain JS for the Mahalanobis scores: class means, tied scatter, Cholesky, SPD
 * inverse. TF.js has no float64 and no Cholesky/inverse (papers.md §9b), so these run on `Float64Array`s.
 * Matrices are row-major `Float64Array`s of length n·n.
 * @module
 */

/** Class means ([C][d], float64) and the tied scatter S = Σ_i (f_i − μ_{y_i})(f_i − μ_{y_i})ᵀ (n·n, full). */
export function classMeansAndScatter(
  x: ArrayLike<number>,
  labels: Int32Array,
  n: number,
  d: number,
  numClasses: number,
): { means: Float64Array[]; counts: number[]; scatter: Float64Array } {
  const means = Array.from({ length: numClasses }, () => new Float64Array(d));
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    const m = means[c]!;
    counts[c]!++;
    const off = i * d;
    for (let j = 0; j < d; j++) m[j]! += x[off + j]!;
  }
  for (let c = 0; c < numClasses; c++) {
    const m = means[c]!, k = counts[c]!;
    if (k > 0) { for (let j = 0; j < d; j++) m[j]! /= k; }
  }
  // Upper triangle, four centred rows at a time (fewer passes over S), then mirrored.
  const s = new Float64Array(d * d);
  const rows = [new Float64Array(d), new Float64Array(d), new Float64Array(d), new Float64Array(d)] as const;
  for (let i0 = 0; i0 < n; i0 += 4) {
    const r = Math.min(4, n - i0);
    for (let t = 0; t < 4; t++) {
      const v = rows[t]!;
      if (t >= r) {
        v.fill(0);
        continue;
      }
      const off = (i0 + t) * d, m = means[labels[i0 + t]!]!;
      for (let j = 0; j < d; j++) v[j] = x[off + j]! - m[j]!;
    }
    const [v0, v1, v2, v3] = rows;
    for (let a = 0; a < d; a++) {
      const a0 = v0[a]!, a1 = v1[a]!, a2 = v2[a]!, a3 = v3[a]!;
      const base = a * d;
      for (let b = a; b < d; b++) s[base + b]! += a0 * v0[b]! + a1 * v1[b]! + a2 * v2[b]! + a3 * v3[b]!;
    }
  }
  for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) s[a * d + b] = s[b * d + a]!;
  return { means, counts, scatter: s };
}

/**
 * Lower Cholesky factor L (A = L·Lᵀ) of a symmetric n×n matrix, or null when A is not numerically positive
 * definite (a pivot ≤ 10·n·ε_machine·max diag, or not finite).
 */
export function cholesky(a: Float64Array, n: number): Float64Array | null {
  let maxDiag = 0;
  for (let i = 0; i < n; i++) maxDiag = Math.max(maxDiag, Math.abs(a[i * n + i]!));
  const tol = 10 * n * Number.EPSILON * maxDiag;
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let p = a[rj + j]!;
    for (let k = 0; k < j; k++) p -= l[rj + k]! * l[rj + k]!;
    if (!(p > tol) || !Number.isFinite(p)) return null;
    const djj = Math.sqrt(p);
    l[rj + j] = djj;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let t = a[ri + j]!;
      for (let k = 0; k < j; k++) t -= l[ri + k]! * l[rj + k]!;
      l[ri + j] = t / djj;
    }
  }
  return l;
}

/** W = L⁻¹ of a lower-triangular n×n L (lower triangular), by forward substitution one column at a time. */
export function lowerTriangularInverse(l: Float64Array, n: number): Float64Array {
  const w = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    w[j * n + j] = 1 / l[j * n + j]!;
    for (let i = j + 1; i < n; i++) {
      let t = 0;
      for (let k = j; k < i; k++) t += l[i * n + k]! * w[k * n + j]!;
      w[i * n + j] = -t / l[i * n + i]!;
    }
  }
  return w;
}

/** A⁻¹ = L⁻ᵀ·L⁻¹ from the Cholesky factor L of an SPD matrix (symmetric result). */
export function inverseFromCholesky(l: Float64Array, n: number): Float64Array {
  const w = lowerTriangularInverse(l, n);
  // P = Wᵀ·W: P_ij = Σ_{k ≥ max(i, j)} W_ki · W_kj.
  const p = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let t = 0;
      for (let k = j; k < n; k++) t += w[k * n + i]! * w[k * n + j]!;
      p[i * n + j] = t;
      p[j * n + i] = t;
    }
  }
  return p;
}

/** Matrix product of row-major n×n matrices (tests and diagnostics). */
export function matmulSquare(a: ArrayLike<number>, b: ArrayLike<number>, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k]!;
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) c[i * n + j]! += aik * b[k * n + j]!;
    }
  }
  return c;
}
