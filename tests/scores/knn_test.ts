import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { Rng } from "@lib/data/rng.ts";
import { fitKnn, knn, type KnnOptions, type KnnState, knnWorkingSetBytes } from "@lib/scores/knn.ts";
import { assertClose, noLeak, noLeakFit } from "./_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

function fit(rows: number[][], k?: number): KnnState {
  const f = tf.tensor2d(rows);
  try {
    return noLeakFit(() => fitKnn(f, null, k === undefined ? {} : { k }));
  } finally {
    f.dispose();
  }
}

function score(state: KnnState, rows: number[][], opts: KnnOptions = {}): Float32Array {
  const f = tf.tensor2d(rows);
  try {
    return noLeak(() => knn(state, f, opts));
  } finally {
    f.dispose();
  }
}

Deno.test("knn() is −(squared distance to the K-th nearest normalised training feature), hand-computed", () => {
  // Bank (2, 0), (0, 3), (−1, 0) → unit vectors (1, 0), (0, 1), (−1, 0).
  const state = fit([[2, 0], [0, 3], [-1, 0]], 1);
  assert.equal(state.k, 1);
  assertClose(state.bank, [1, 0, 0, 1, -1, 0], 1e-7, "bank");
  // Query (1, 1) → (1/√2, 1/√2): cosines 0.7071, 0.7071, −0.7071; ‖a − b‖² = 2 − 2·cos.
  //   K = 1, 2: 2 − √2 = 0.585786 → −0.585786;  K = 3: 2 + √2 = 3.414214 → −3.414214
  // Query (0, −5) → (0, −1): cosines 0, −1, 0 → K = 1: 2 → −2;  K = 3: 4 → −4
  const q = [[1, 1], [0, -5]];
  assertClose(score(state, q), [-(2 - Math.SQRT2), -2], 1e-6, "K=1 (state default)");
  assertClose(score(state, q, { k: 2 }), [-(2 - Math.SQRT2), -2], 1e-6, "K=2");
  assertClose(score(state, q, { k: 3 }), [-(2 + Math.SQRT2), -4], 1e-6, "K=3");
  // squared: false → −‖·‖: −√(2 − √2) = −0.765367, −√2
  assertClose(score(state, q, { squared: false }), [-Math.sqrt(2 - Math.SQRT2), -Math.SQRT2], 1e-6, "euclidean");
});

/** Float64 brute force: −‖z − z_(K)‖² over all bank rows, sorted. */
function bruteForce(bank: number[][], queries: number[][], k: number): number[] {
  const unit = (v: number[]) => {
    const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0)) + 1e-10;
    return v.map((x) => x / n);
  };
  const b = bank.map(unit);
  return queries.map((q) => {
    const z = unit(q);
    const d2 = b.map((r) => r.reduce((s, x, j) => s + (x - z[j]!) ** 2, 0)).sort((x, y) => x - y);
    return -d2[k - 1]!;
  });
}

Deno.test("knn() equals a float64 brute-force reference for every chunking (uneven chunks, K > bank chunk)", () => {
  const rng = new Rng(11);
  const d = 16, n = 300, m = 70;
  const bank = Array.from({ length: n }, () => Array.from({ length: d }, () => rng.normal()));
  const queries = Array.from({ length: m }, () => Array.from({ length: d }, () => rng.normal(0.3, 1)));
  const state = fit(bank, 7);
  for (const k of [1, 7, 60]) {
    const expected = bruteForce(bank, queries, k);
    for (const [queryBatch, bankBatch] of [[1024, 4096], [16, 50], [70, 1], [33, 299], [1, 128]] as const) {
      const got = score(state, queries, { k, queryBatch, bankBatch });
      assertClose(got, expected, 2e-5, `K=${k} q=${queryBatch} b=${bankBatch}`);
    }
  }
});

Deno.test("knn() holds only query-chunk × bank-chunk similarities, within knnWorkingSetBytes", () => {
  const rng = new Rng(3);
  const d = 32, n = 1000, m = 300, k = 20, queryBatch = 64, bankBatch = 128;
  const bankRows = Array.from({ length: n }, () => Array.from({ length: d }, () => rng.normal()));
  const state = fit(bankRows, k);
  const f = tf.tensor2d(Array.from({ length: m }, () => Array.from({ length: d }, () => rng.normal())));
  const base = tf.memory().numBytes;
  let peak = 0, steps = 0;
  const s = knn(state, f, {
    queryBatch,
    bankBatch,
    onStep: () => {
      steps++;
      peak = Math.max(peak, tf.memory().numBytes - base);
    },
  });
  assert.equal(steps, Math.ceil(n / bankBatch) * Math.ceil(m / queryBatch));
  const bound = knnWorkingSetBytes({ queries: m, bank: n, dim: d, k, queryBatch, bankBatch });
  assert.ok(peak <= bound, `peak ${peak} B > bound ${bound} B`);
  assert.ok(peak < 4 * m * n, `peak ${peak} B is not below one full ${m}×${n} similarity matrix`);
  tf.dispose([s, f]);
});

Deno.test("knnWorkingSetBytes(): the 10 000 × 50 000 × 512 problem needs ~76 MiB, not a 2 GB similarity matrix", () => {
  const bytes = knnWorkingSetBytes({ queries: 10_000, bank: 50_000, dim: 512, k: 300 });
  assert.ok(bytes < 128 * 2 ** 20, `${bytes} B`);
  assert.ok(bytes < (4 * 10_000 * 50_000) / 20);
});

Deno.test("fitKnn() and knn() validate K, dimensions and finiteness", () => {
  const f = tf.tensor2d([[1, 0], [0, 1]]);
  assert.throws(() => fitKnn(f, null, { k: 3 }), /k = 3 exceeds the 2 training features/);
  const state = fitKnn(f, null, { k: 1 });
  assert.throws(() => knn(state, f, { k: 5 }), /k = 5 exceeds the bank size 2/);
  const wide = tf.tensor2d([[1, 2, 3]]);
  assert.throws(() => knn(state, wide), /the bank holds 2-d features, got 3-d/);
  const bad = tf.tensor2d([[Infinity, 0]]);
  assert.throws(() => fitKnn(bad, null, { k: 1 }), /feature row 0 is not finite/);
  const empty = tf.tensor2d([], [0, 2]);
  assert.equal(noLeak(() => knn(state, empty)).length, 0);
  tf.dispose([f, wide, bad, empty]);
});
