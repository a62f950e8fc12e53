import assert from "node:assert/strict";
import { cholesky, classMeansAndScatter, inverseFromCholesky, matmulSquare } from "@lib/scores/_linalg.ts";
import { Rng } from "@lib/data/rng.ts";
import { assertClose } from "./_fixtures.ts";

Deno.test("cholesky() factors a hand-computed SPD matrix and rejects singular ones", () => {
  // [[4, 2], [2, 3]] = L·Lᵀ with L = [[2, 0], [1, √2]]
  const l = cholesky(Float64Array.of(4, 2, 2, 3), 2)!;
  assertClose(l, [2, 0, 1, Math.SQRT2], 1e-15);
  assert.equal(cholesky(Float64Array.of(1, 1, 1, 1), 2), null);
  assert.equal(cholesky(Float64Array.of(1, 2, 2, 1), 2), null);
});

Deno.test("inverseFromCholesky() gives A⁻¹ with A·A⁻¹ = I on a random 30×30 SPD matrix", () => {
  const rng = new Rng(9);
  const n = 30;
  const b = Array.from({ length: n * n }, () => rng.normal());
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = i === j ? 0.5 : 0;
      for (let k = 0; k < n; k++) s += b[i * n + k]! * b[j * n + k]!;
      a[i * n + j] = s;
    }
  }
  const p = inverseFromCholesky(cholesky(a, n)!, n);
  const eye = Array.from({ length: n * n }, (_, i) => (Math.floor(i / n) === i % n ? 1 : 0));
  assertClose(matmulSquare(a, p, n), eye, 1e-9);
});

Deno.test("classMeansAndScatter() sums centred outer products (odd row count, 5 rows)", () => {
  // Class 0: (0, 0), (2, 2) → μ₀ = (1, 1); class 1: (5, 0), (7, 0), (6, 3) → μ₁ = (6, 1).
  // Centred: (−1,−1), (1,1), (−1,−1), (1,−1), (0,2) → S = [[4, 2], [2, 8]]
  const x = Float64Array.of(0, 0, 2, 2, 5, 0, 7, 0, 6, 3);
  const { means, counts, scatter } = classMeansAndScatter(x, Int32Array.of(0, 0, 1, 1, 1), 5, 2, 2);
  assert.deepEqual(means.map((m) => Array.from(m)), [[1, 1], [6, 1]]);
  assert.deepEqual(counts, [2, 3]);
  assert.deepEqual(Array.from(scatter), [4, 2, 2, 8]);
});
