/**
 * Deep nearest-neighbour score on L2-normalised features (Sun, Ming, Zhu, Li, ICML 2022), as CIDER evaluates it.
 * @module
 */
import { tf } from "../tf.ts";
import { l2Normalize } from "../layers/l2_normalize.ts";
import { check2d, checkPositiveInt } from "./_util.ts";
import type { Labels } from "./types.ts";
import { type Detector, needOutput, trainOutputs } from "./detector.ts";
import { firstRows, fitMatrix, scoreMatrix } from "./matrix.ts";

/** Added to the norm before dividing, as the KNN paper's `normalizer` (knn-ood `run_cifar.py`: x / (‖x‖ + 1e-10)). */
export const KNN_NORM_EPS = 1e-10;

/** Options of {@linkcode fitKnn}. */
export interface KnnFitOptions {
  /**
   * Default K stored in the state (scoring can override it). @default 50 (Sun et al.'s CIFAR-10 setting;
   * CIDER uses 100 for CIFAR-10 and 300 for CIFAR-100, papers.md §6b; OpenOOD sweeps {50, 100, 200, 500, 1000})
   */
  k?: number;
  /** Rows normalised per step while building the bank; @default 4096 */
  batchSize?: number;
}

/**
 * Fitted KNN state: the L2-normalised training features (the "bank") as one row-major `Float32Array`, plus
 * sizes and the default K. Plain data (structured-cloneable; write `bank` as binary, it is too large for JSON).
 */
export interface KnnState {
  /** Discriminates score states. */
  readonly kind: "knn";
  /** Feature dimension d. */
  readonly dim: number;
  /** Bank rows N. */
  readonly size: number;
  /** Default K. */
  readonly k: number;
  /** N·d normalised features z_i = h_i / (‖h_i‖₂ + 1e-10), row-major. */
  readonly bank: Float32Array;
}

/**
 * Builds the KNN bank: L2-normalised training features (Sun et al. 2022; CIDER's `eval_ood.py`, papers.md §6a:
 * all 50 000 training features of the penultimate layer, eval transform). Normalises `batchSize` rows at a time
 * inside `tf.tidy`; keeps no tensors.
 * @see {@link https://arxiv.org/abs/2204.06507 | Paper}
 * @param features training features [N, d].
 * @param _labels unused (KNN is label-free); accepted so every fittable score has the shape `fit(features, labels, opts)`.
 * @param opts.k default K for scoring.
 * @returns the {@linkcode KnnState}.
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * const bank = tf.tensor2d([[2, 0], [0, 3], [-1, 0]]); // normalised to (1, 0), (0, 1), (−1, 0)
 * const state = fitKnn(bank, null, { k: 1 });
 * const s = knn(state, tf.tensor2d([[1, 1]])); // [−(2 − √2) ≈ −0.5858]
 * ```
 */
export function fitKnn(features: tf.Tensor2D, _labels?: Labels | null, opts: KnnFitOptions = {}): KnnState {
  const [n, d] = check2d(features, "features", "fitKnn");
  if (n < 1) throw new Error("fitKnn: no training features");
  const k = opts.k ?? 50;
  checkPositiveInt(k, "k", "fitKnn");
  if (k > n) throw new Error(`fitKnn: k = ${k} exceeds the ${n} training features`);
  const batch = opts.batchSize ?? 4096;
  checkPositiveInt(batch, "batchSize", "fitKnn");
  const bank = new Float32Array(n * d);
  for (let start = 0; start < n; start += batch) {
    const size = Math.min(batch, n - start);
    const z = tf.tidy(() => unitRows(tf.slice(features, [start, 0], [size, d])));
    try {
      bank.set(z.dataSync(), start * d);
    } finally {
      z.dispose();
    }
  }
  for (let i = 0; i < bank.length; i++) {
    if (!Number.isFinite(bank[i]!)) throw new Error(`fitKnn: feature row ${Math.floor(i / d)} is not finite`);
  }
  return { kind: "knn", dim: d, size: n, k, bank };
}

/** z = h / (‖h‖₂ + 1e-10) per row (the one L2 normalisation, with the KNN paper's additive ε). Call inside `tf.tidy`. */
function unitRows(h: tf.Tensor2D): tf.Tensor2D {
  return l2Normalize(h, 1, KNN_NORM_EPS, "add");
}

/** Options of {@linkcode knn}. */
export interface KnnOptions {
  /** K (1 ≤ K ≤ bank size); @default state.k */
  k?: number;
  /**
   * Score by the squared distance (faiss `IndexFlatL2`, what CIDER's and OpenOOD's code rank by) or, with
   * `false`, by the Euclidean distance as written in Sun et al. Same ranking either way.
   * @default true
   */
  squared?: boolean;
  /** Query rows per matmul; @default 1024 */
  queryBatch?: number;
  /** Bank rows per matmul; @default 4096 */
  bankBatch?: number;
  /**
   * Diagnostics: called once per (bank chunk, query chunk) step while that step's tensors are alive (for
   * measuring `tf.memory()`); must not create tensors.
   */
  onStep?: (step: { bankStart: number; queryStart: number }) => void;
}

/**
 * KNN score (Sun, Ming, Zhu, Li, "Out-of-Distribution Detection with Deep Nearest Neighbors", ICML 2022), in the
 * form CIDER evaluates it (papers.md §6a, §7.1 — CIDER's code flags OOD by a *large* K-th distance and its
 * metrics use −distance). Higher = more in-distribution:
 *
 *   z = h / (‖h‖ + 1e-10),  S(x) = −‖z(x) − z_(K)‖²   (z_(K) = K-th nearest bank vector; `squared: false` → −‖·‖).
 *
 * On unit vectors ‖a − b‖² = 2 − 2·aᵀb (papers.md §9b), so the K-th smallest distance comes from the K-th
 * largest cosine: S = −max(0, 2 − 2·cos_(K)).
 *
 * **Chunking.** The bank is visited in chunks of `bankBatch` rows (uploaded one at a time); for each chunk and
 * each chunk of `queryBatch` normalised queries, the similarities Q·Bᵀ [q, b] are concatenated to that query
 * chunk's running top-K [q, K] and reduced by `tf.topk` back to K columns. The full M × N similarity matrix is
 * never formed. Live memory (float32) is at most about
 *   4 bytes · (M·d  [normalised queries] + M·K [running top-K] + b·d [bank chunk] + 2·q·(b + K) + 2·q·K),
 * see {@linkcode knnWorkingSetBytes}: for M = 10 000, N = 50 000, d = 512, K = 300 with the defaults,
 * ≈ 76 MiB beyond the inputs (measured: 74.5 MiB; the state's Float32Array bank stays in JS memory).
 * @see {@link https://arxiv.org/abs/2204.06507 | Paper} · CIDER (Ming et al., ICLR 2023, arXiv:2203.04450)
 * @param state from {@linkcode fitKnn}.
 * @param features test features [M, d] (unnormalised; normalised here like the bank).
 * @returns [M] scores (≤ 0); the caller disposes the tensor.
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { initBackend } from "@lib/engine/mod.ts";
 * await initBackend({ backend: "cpu", log: null });
 * const state = fitKnn(tf.tensor2d([[2, 0], [0, 3], [-1, 0]]), null, { k: 1 });
 * const s = knn(state, tf.tensor2d([[1, 1], [0, -5]]), { k: 3 }); // [−(2 + √2), −4]
 * ```
 */
export function knn(state: KnnState, features: tf.Tensor2D, opts: KnnOptions = {}): tf.Tensor1D {
  const [m, d] = check2d(features, "features", "knn");
  checkKnnState(state, d);
  const k = opts.k ?? state.k;
  const q = opts.queryBatch ?? 1024, b = opts.bankBatch ?? 4096;
  checkPositiveInt(k, "k", "knn");
  checkPositiveInt(q, "queryBatch", "knn");
  checkPositiveInt(b, "bankBatch", "knn");
  if (k > state.size) throw new Error(`knn: k = ${k} exceeds the bank size ${state.size}`);
  if (m === 0) return tf.tensor1d([]);

  const queries: tf.Tensor2D[] = [];
  const tops: (tf.Tensor2D | null)[] = [];
  try {
    for (let start = 0; start < m; start += q) {
      const size = Math.min(q, m - start);
      queries.push(tf.tidy(() => unitRows(tf.slice(features, [start, 0], [size, d]))));
      tops.push(null);
    }
    for (let bankStart = 0; bankStart < state.size; bankStart += b) {
      const rows = Math.min(b, state.size - bankStart);
      const chunk = tf.tensor2d(state.bank.subarray(bankStart * d, (bankStart + rows) * d), [rows, d]);
      try {
        queries.forEach((qz, i) => {
          const prev = tops[i]!;
          const next = tf.tidy(() => {
            const sims = tf.matMul(qz, chunk, false, true);
            const cand = prev ? tf.concat([prev, sims], 1) : sims;
            const kept = cand.shape[1]! > k ? tf.topk(cand, k, false).values : cand;
            opts.onStep?.({ bankStart, queryStart: i * q });
            return kept as tf.Tensor2D;
          });
          prev?.dispose();
          tops[i] = next;
        });
      } finally {
        chunk.dispose();
      }
    }
    const squared = opts.squared ?? true;
    const parts = tops.map((top) =>
      tf.tidy(() => {
        const dist2 = tf.relu(tf.sub(2, tf.mul(tf.min(top!, 1), 2)));
        return tf.neg(squared ? dist2 : tf.sqrt(dist2)) as tf.Tensor1D;
      })
    );
    try {
      return parts.length === 1 ? parts[0]!.clone() : tf.concat(parts) as tf.Tensor1D;
    } finally {
      tf.dispose(parts);
    }
  } finally {
    tf.dispose(queries);
    tf.dispose(tops.filter((t): t is tf.Tensor2D => t !== null));
  }
}

function checkKnnState(state: KnnState, d: number): void {
  if (state.kind !== "knn") throw new Error(`knn: not a KNN state (kind ${state.kind})`);
  if (state.dim !== d) throw new Error(`knn: the bank holds ${state.dim}-d features, got ${d}-d`);
  if (state.bank.length !== state.size * state.dim) {
    throw new Error(`knn: malformed state (bank has ${state.bank.length} values for ${state.size}×${state.dim})`);
  }
}

/**
 * Upper bound (bytes, float32) on the tensors {@linkcode knn} holds at once besides its input features:
 * 4 · (M·d + M·K + b·d + 2·q'·(b' + K) + 2·q'·K) with q' = min(q, M), b' = min(b, N).
 * @example Usage
 * ```ts
 * knnWorkingSetBytes({ queries: 10_000, bank: 50_000, dim: 512, k: 300 }); // ≈ 7.9e7 bytes
 * ```
 */
export function knnWorkingSetBytes(p: {
  queries: number;
  bank: number;
  dim: number;
  k: number;
  queryBatch?: number;
  bankBatch?: number;
}): number {
  const q = Math.min(p.queryBatch ?? 1024, p.queries), b = Math.min(p.bankBatch ?? 4096, p.bank);
  return 4 * (p.queries * p.dim + p.queries * p.k + b * p.dim + 2 * q * (b + p.k) + 2 * q * p.k);
}

/** Options of the KNN detector. */
export interface KnnDetectorOptions {
  /** K: the K-th nearest bank vector. */
  k: number;
  /** Bank = the first `bankSize` training features; `null` = all of them. */
  bankSize: number | null;
}

/** Detector of {@linkcode knn} (registry id `knn`; squared distance, K = 50 unless set). */
export const knnDetector: Detector<KnnDetectorOptions, KnnState> = {
  label: "KNN",
  citation: "Sun, Ming, Zhu & Li, ICML 2022 (arXiv:2204.06507); as used by CIDER (ICLR 2023)",
  formula: "−‖z − z_(K)‖², z = h/‖h‖, z_(K) = K-th nearest training feature",
  needs: ["features"],
  defaults: { k: 50, bankSize: null },
  fit: (ctx, o) => {
    const f = needOutput(trainOutputs(ctx, "KNN"), "features", "KNN");
    return fitMatrix(o.bankSize === null ? f : firstRows(f, o.bankSize), (t) => fitKnn(t, null, { k: o.k }));
  },
  score: (set, _o, state) => scoreMatrix(needOutput(set.outputs, "features", "KNN"), (t) => knn(state, t)),
};
