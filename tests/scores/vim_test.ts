import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { Rng } from "@lib/data/rng.ts";
import {
  classifierOrigin,
  fitPrincipalSubspace,
  fitVim,
  vim,
  vimDetector,
  vimPrincipalDim,
  type VimState,
} from "@lib/scores/vim.ts";
import type { DetectorContext, LastLayer, NetOutputs } from "@lib/scores/detector.ts";
import type { Matrix } from "@lib/scores/matrix.ts";
import { scoreAll } from "@lib/experiment/score.ts";
import { auroc } from "@lib/metrics/mod.ts";
import { assertClose, clusterSets, extractableStub, noLeak, noLeakFit } from "./_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

const m = (rows: number[][]): Matrix => ({ data: Float32Array.from(rows.flat()), dim: rows[0]!.length });

/**
 * The hand example (d = 3, C = 2). Last layer: logits = (h₁, h₂) + (1, −1), i.e. kernel [[1, 0], [0, 1], [0, 0]],
 * b = (1, −1); W = kernelᵀ has orthonormal rows, so pinv(W) = Wᵀ and u = −Wᵀb = (−1, 1, 0) (logits at u: 0).
 * Training features h = u + g with g = (2, 0, 1), (−2, 0, −1), (0, 1, 0), (0, −1, 0): logits = (g₁, g₂).
 *   Σ_u = (1/4)·Σ g gᵀ = [[2, 0, 1], [0, 0.5, 0], [1, 0, 0.5]]: eigenvalues 2.5 ((2, 0, 1)/√5), 0.5 (e₂),
 *   0 ((1, 0, −2)/√5). D = ⌊3/2⌋ = 1 → R = [e₂, (1, 0, −2)/√5].
 *   Training residuals ‖g·R‖ = 0, 0, 1, 1 (mean ½); max logits 2, 0, 1, 0 (mean ¾) → α = 1.5.
 */
const LAYER: LastLayer = { kernel: { data: Float32Array.of(1, 0, 0, 1, 0, 0), dim: 2 }, bias: Float32Array.of(1, -1) };
const U = [-1, 1, 0];
const G = [[2, 0, 1], [-2, 0, -1], [0, 1, 0], [0, -1, 0]];
const shift = (g: number[][]) => g.map((r) => r.map((v, j) => v + U[j]!));
const logitsOf = (g: number[][]) => g.map((r) => [r[0]!, r[1]!]);

function fitHand(principalDim?: number): VimState {
  return noLeakFit(() => fitVim(m(shift(G)), m(logitsOf(G)), LAYER, { principalDim }));
}

function score(state: VimState, g: number[][]): Float32Array {
  const f = tf.tensor2d(shift(g)), l = tf.tensor2d(logitsOf(g));
  try {
    return noLeak(() => vim(state, f, l));
  } finally {
    tf.dispose([f, l]);
  }
}

Deno.test("classifierOrigin() is −pinv(W)·b: orthonormal, general and rank-deficient (C > d) heads", () => {
  assertClose(classifierOrigin(LAYER), U, 1e-15, "orthonormal rows");
  // W = [[1, 0, 0], [1, 1, 0]], b = (1, 2): W·u = −b with u in W's row space → u = (−1, −1, 0).
  const general = { kernel: { data: Float32Array.of(1, 1, 0, 1, 0, 0), dim: 2 }, bias: Float32Array.of(1, 2) };
  assertClose(classifierOrigin(general), [-1, -1, 0], 1e-12, "general");
  // d = 1, C = 2: W = [[1], [2]] has no exact solution; pinv(W) = (1, 2)/5 → u = −(1 + 2)/5 = −0.6 (least squares).
  const tall = { kernel: { data: Float32Array.of(1, 2), dim: 2 }, bias: Float32Array.of(1, 1) };
  assertClose(classifierOrigin(tall), [-0.6], 1e-12, "C > d");
});

Deno.test("vimPrincipalDim() follows the ViM repository's rule by feature width", () => {
  assert.deepEqual([2048, 4096, 768, 1024, 512, 128, 3].map(vimPrincipalDim), [1000, 1000, 512, 512, 256, 64, 1]);
});

Deno.test("fitVim() finds the residual space and α of the hand example", () => {
  const state = fitHand();
  assert.equal(state.principalDim, 1);
  assertClose(state.eigenvalues, [2.5, 0.5, 0], 1e-12, "eigenvalues");
  assertClose(state.origin, U, 1e-7, "u");
  assertClose([state.alpha], [1.5], 1e-6, "α");
  // R ⟂ the principal eigenvector (2, 0, 1)/√5 and has orthonormal columns.
  const r = state.residualBasis, cols = 2;
  for (let k = 0; k < cols; k++) {
    assertClose([2 * r[k]! + r[2 * cols + k]!], [0], 1e-6, `R column ${k} ⟂ principal`);
    for (let l = 0; l < cols; l++) {
      const dot = [0, 1, 2].reduce((s, i) => s + r[i * cols + k]! * r[i * cols + l]!, 0);
      assertClose([dot], [k === l ? 1 : 0], 1e-6, `RᵀR[${k}][${l}]`);
    }
  }
});

Deno.test("vim() is logsumexp(f) − α·‖(h − u)R‖, hand-computed; a zero residual leaves the energy", () => {
  const state = fitHand();
  // g = (2, 0, 1): in the principal subspace (zero residual) → logsumexp(2, 0) = 2 + ln(1 + e⁻²) = 2.126928.
  // g = (0, 0, 1): logits (0, 0), residual |(0, 0, 1)·(1, 0, −2)/√5| = 2/√5 → ln 2 − 1.5·2/√5 = −0.648494.
  // g = (0, 2, 0): logits (0, 2), residual 2 → 2.126928 − 3 = −0.873072.
  const lse2 = 2 + Math.log1p(Math.exp(-2));
  assertClose(
    score(state, [[2, 0, 1], [0, 0, 1], [0, 2, 0]]),
    [lse2, Math.LN2 - 3 / Math.sqrt(5), lse2 - 3],
    1e-5,
  );
});

Deno.test("fitVim() rejects an all-zero training residual (α undefined) and a principal dimension out of range", () => {
  // D = 2 keeps (2, 0, 1) and e₂: every training g lies in that plane.
  assert.throws(() => fitHand(2), /every training feature lies in the 2-d principal subspace/);
  assert.throws(() => fitHand(3), /principal dimension must be an integer in \[0, 3\), got 3/);
  assert.throws(() => fitVim(m([[1, 2]]), m([[0, 0]]), LAYER), /last layer takes 3-d inputs, not 2/);
});

Deno.test("vim() orders a training-like (ID) feature above one off the principal subspace (OOD)", () => {
  const state = fitHand();
  // ID: g = (2, 0, 1) (scores 2.126928). OOD: g = (2, 0, −4), same logits (2, 0) but residual √20 → 2.127 − 6.708.
  const s = score(state, [[2, 0, 1], [2, 0, -4]]);
  assert.ok(s[0]! > s[1]!, `ID ${s[0]} vs OOD ${s[1]}`);
  assertClose([s[1]!], [2 + Math.log1p(Math.exp(-2)) - 1.5 * Math.sqrt(20)], 1e-5);
});

Deno.test("fitPrincipalSubspace() on random features: R spans the eigenvectors of the d − D smallest eigenvalues", () => {
  const rng = new Rng(11);
  const d = 6, n = 40;
  const rows = Array.from({ length: n }, () => Array.from({ length: d }, (_, j) => rng.normal() * (d - j)));
  const origin = Array.from({ length: d }, () => rng.normal());
  const space = fitPrincipalSubspace(m(rows), origin, 2);
  // Reference Σ_u in float64 straight from the definition (1/N)Σ(h − u)(h − u)ᵀ, then check Σ_u·R = R·diag(λ_{D..}).
  const f32 = rows.map((r) => r.map(Math.fround)), u = origin.map(Math.fround);
  const cov = Array.from(
    { length: d },
    (_, a) => Array.from({ length: d }, (_, b) => f32.reduce((s, r) => s + (r[a]! - u[a]!) * (r[b]! - u[b]!), 0) / n),
  );
  const r = space.residualBasis, cols = d - 2;
  for (let k = 0; k < cols; k++) {
    const lambda = space.eigenvalues[2 + k]!;
    for (let i = 0; i < d; i++) {
      const lhs = cov[i]!.reduce((s, v, j) => s + v * r[j * cols + k]!, 0);
      assertClose([lhs], [lambda * r[i * cols + k]!], 1e-4 * space.eigenvalues[0]!, `Σ·R[${i}][${k}]`);
    }
  }
  assert.ok(space.eigenvalues.every((v, i, a) => i === 0 || a[i - 1]! >= v), "descending");
});

Deno.test("vim detector: needs the last layer, scores the cluster stub ID above OOD, leaks nothing", async () => {
  assert.deepEqual(vimDetector.defaults, { principalDim: null });
  const net = extractableStub();
  const sets = clusterSets();
  const before = tf.memory().numTensors;
  const table = await scoreAll(net, sets, [{ use: "vim" }], { batchSize: 32, seed: 0 });
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  const state = table.states.vim as VimState;
  assert.equal(state.principalDim, 2, "⌊4/2⌋");
  const { id, ood } = table.scores.vim!;
  const a = auroc(id, ood.unseen!);
  assert.ok(a > 0.99, `AUROC ${a}`);
  const noHead = { ...table.context, model: { ...table.context.model, lastLayer: undefined } } as DetectorContext;
  assert.throws(() => vimDetector.fit!(noHead, vimDetector.defaults), /ViM needs the classifier's last linear layer/);
  net.dispose();
  const outputs: NetOutputs = {
    n: 1,
    logits: m([[0, 0]]),
    features: m([[1, 2, 3]]),
    labels: Int32Array.of(0),
  };
  await assert.rejects(
    () => vimDetector.score({ ds: null!, outputs }, vimDetector.defaults, { ...fitHand(), kind: "x" } as never, noHead),
    /not a ViM state/,
  );
});
