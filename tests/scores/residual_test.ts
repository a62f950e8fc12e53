import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { Rng } from "@lib/data/rng.ts";
import { fitResidual, residual, residualDetector, type ResidualState } from "@lib/scores/residual.ts";
import { fitVim, vim } from "@lib/scores/vim.ts";
import type { DetectorContext, LastLayer } from "@lib/scores/detector.ts";
import type { Matrix } from "@lib/scores/matrix.ts";
import { scoreAll } from "@lib/experiment/score.ts";
import { assertClose, clusterSets, extractableStub, noLeak, noLeakFit } from "./_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

const m = (rows: number[][]): Matrix => ({ data: Float32Array.from(rows.flat()), dim: rows[0]!.length });

/**
 * vim_test.ts's hand example: kernel [[1, 0], [0, 1], [0, 0]], b = (1, −1) → u = (−1, 1, 0); training features
 * u + g, g = (2, 0, 1), (−2, 0, −1), (0, 1, 0), (0, −1, 0); eigenvectors (2, 0, 1)/√5 (2.5), e₂ (0.5),
 * (1, 0, −2)/√5 (0).
 */
const LAYER: LastLayer = { kernel: { data: Float32Array.of(1, 0, 0, 1, 0, 0), dim: 2 }, bias: Float32Array.of(1, -1) };
const U = [-1, 1, 0];
const G = [[2, 0, 1], [-2, 0, -1], [0, 1, 0], [0, -1, 0]];
const shift = (g: number[][]) => g.map((r) => r.map((v, j) => v + U[j]!));

function score(state: ResidualState, g: number[][]): Float32Array {
  const f = tf.tensor2d(shift(g));
  try {
    return noLeak(() => residual(state, f));
  } finally {
    f.dispose();
  }
}

Deno.test("residual() is −‖(h − u)R‖, hand-computed for D = 1 and D = 2; a feature in the subspace scores 0", () => {
  // D = 1: R = [e₂, (1, 0, −2)/√5]. g = (2, 0, 1) → 0 (zero residual, the maximum); (0, 0, 1) → −2/√5;
  // (0, 2, 0) → −2; (1, 1, 1) → −‖(1, (1 − 2)/√5)‖ = −√(1 + 1/5).
  const d1 = noLeakFit(() => fitResidual(m(shift(G)), LAYER));
  assert.equal(d1.principalDim, 1);
  const rows = [[2, 0, 1], [0, 0, 1], [0, 2, 0], [1, 1, 1]];
  assertClose(score(d1, rows), [0, -2 / Math.sqrt(5), -2, -Math.sqrt(1.2)], 1e-6, "D = 1");
  // D = 2: R = [(1, 0, −2)/√5] only: e₂ moves into the principal subspace → (0, 2, 0) → 0; (1, 1, 1) → −1/√5.
  // (Every training residual is 0 here: fine for Residual, which has no α to divide by.)
  const d2 = noLeakFit(() => fitResidual(m(shift(G)), LAYER, 2));
  assertClose(score(d2, rows), [0, -2 / Math.sqrt(5), 0, -1 / Math.sqrt(5)], 1e-6, "D = 2");
});

Deno.test("residual() and vim() share the subspace: vim = logsumexp(f) + α·residual on random features", () => {
  const rng = new Rng(4);
  const d = 6, c = 3, n = 50;
  const kernel = Float32Array.from({ length: d * c }, () => rng.normal());
  const layer: LastLayer = {
    kernel: { data: kernel, dim: c },
    bias: Float32Array.from({ length: c }, () => rng.normal()),
  };
  const feats = Array.from({ length: n }, () => Array.from({ length: d }, (_, j) => Math.abs(rng.normal()) * (j + 1)));
  const logits = feats.map((f) =>
    Array.from({ length: c }, (_, k) => f.reduce((s, v, j) => s + v * kernel[j * c + k]!, layer.bias[k]!))
  );
  const vs = fitVim(m(feats), m(logits), layer);
  const rs = fitResidual(m(feats), layer);
  assert.deepEqual(rs.residualBasis, vs.residualBasis);
  const tf_ = tf.tensor2d(feats.slice(0, 8)), tl = tf.tensor2d(logits.slice(0, 8));
  const r = noLeak(() => residual(rs, tf_)), v = noLeak(() => vim(vs, tf_, tl));
  const lse = noLeak(() => tf.logSumExp(tl, 1));
  tf.dispose([tf_, tl]);
  assertClose(v, Array.from(r, (x, i) => lse[i]! + vs.alpha * x), 1e-4);
});

Deno.test("residual detector: needs the last layer, scores the cluster stub, leaks nothing", async () => {
  assert.deepEqual(residualDetector.defaults, { principalDim: null });
  const net = extractableStub();
  const sets = clusterSets();
  const before = tf.memory().numTensors;
  const table = await scoreAll(net, sets, [{ use: "residual", opts: { principalDim: 3 } }], { batchSize: 32, seed: 0 });
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  // With D = 3 the principal subspace is ≈ span(e₀, e₁, e₂) (the three ID class directions); OOD lies along e₃.
  const { id, ood } = table.scores.residual!;
  assert.ok(Math.min(...id) > Math.max(...ood.unseen!), "every ID above every OOD");
  const noHead = { ...table.context, model: { ...table.context.model, lastLayer: undefined } } as DetectorContext;
  assert.throws(() => residualDetector.fit!(noHead, residualDetector.defaults), /Residual needs the classifier's last/);
  net.dispose();
});
