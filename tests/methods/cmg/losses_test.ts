import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { cmgELoss, cmgSLoss, energyOf, percentileMargins } from "@lib/methods/cmg/losses.ts";
import { assertNoLeak } from "../../experiment/_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

const LN2 = Math.log(2), LN3 = Math.log(3), LN5 = Math.log(5);
const close = (a: number, e: number, tol = 1e-5, what = "") =>
  assert.ok(Math.abs(a - e) <= tol, `${what}: got ${a}, expected ${e}`);
const closeAll = (a: ArrayLike<number>, e: number[], tol = 1e-5, what = "") => {
  assert.equal(a.length, e.length, `${what}: length`);
  e.forEach((v, i) => close(a[i]!, v, tol, `${what}[${i}]`));
};
const value = (t: tf.Tensor) => t.dataSync()[0]!;

// K = 2 seen classes, n_out = 4: column 2 = the "unseen" slot, column 3 = a spare slot.
// ID rows: [ln3, 0, 0, 0] label 0: exp = (3,1,1,1)/6 → CE = −ln(3/6) = ln 2   (over the first 3 it would be ln(5/3));
//          [0, 0, 0, ln2] label 1: exp = (1,1,1,2)/5 → CE = −ln(1/5) = ln 5   (over the first 3 it would be ln 3).
const ID4 = [[LN3, 0, 0, 0], [0, 0, 0, LN2]];
const Y = [0, 1];
const CE4 = (LN2 + LN5) / 2;
// Generated rows, softmax over columns 0..2 only, target 2:
//   [0, 0, ln2, 100]: (1,1,2)/4 → CE = −ln ½ = ln 2  (the spare logit 100 must not count);
//   [0, 0, 0, 0]:     uniform over 3 → CE = ln 3.
const GEN4 = [[0, 0, LN2, 100], [0, 0, 0, 0]];
const GEN_CE4 = (LN2 + LN3) / 2;

function sTerms(id: number[][], y: number[], gen: number[][], k: number) {
  return tf.tidy(() => {
    const t = cmgSLoss(tf.tensor2d(id), tf.tensor1d(y, "int32"), tf.tensor2d(gen), k);
    return { loss: value(t.loss), ce: value(t.ce), genCe: value(t.genCe) };
  });
}

function eTerms(id: number[][], y: number[], gen: number[][], opts: { mIn: number; mOut: number; mu?: number }) {
  return tf.tidy(() => {
    const t = cmgELoss(tf.tensor2d(id), tf.tensor1d(y, "int32"), tf.tensor2d(gen), opts);
    return {
      loss: value(t.loss),
      ce: value(t.ce),
      energy: value(t.energy),
      inTerm: value(t.inTerm),
      outTerm: value(t.outTerm),
    };
  });
}

Deno.test("energyOf() is −logsumexp over all logits, or over the first `first`", async () => {
  await assertNoLeak(() => {
    tf.tidy(() => {
      const z = tf.tensor2d([[0, LN3, 5], [1, 1, 1]]);
      // Row 1: all = −ln(1 + 3 + e⁵), first 2 = −ln 4; row 2: all = −(1 + ln 3), first 2 = −(1 + ln 2).
      closeAll(energyOf(z).dataSync(), [-Math.log(4 + Math.exp(5)), -(1 + LN3)], 1e-5, "all");
      closeAll(energyOf(z, { first: 2 }).dataSync(), [-Math.log(4), -(1 + LN2)], 1e-5, "first 2");
      closeAll(energyOf(z, { first: 3 }).dataSync(), energyOf(z).arraySync() as number[], 0, "first = n_out");
      closeAll(energyOf(tf.tensor2d([[1000, 1000]])).dataSync(), [-(1000 + LN2)], 1e-3, "stable");
    });
  });
  assert.throws(() => tf.tidy(() => energyOf(tf.zeros([1, 3]) as tf.Tensor2D, { first: 4 })), /exceeds/);
  assert.throws(() => tf.tidy(() => energyOf(tf.zeros([1, 3]) as tf.Tensor2D, { first: 0 })), /positive integer/);
  assert.throws(() => tf.tidy(() => energyOf(tf.zeros([3]) as unknown as tf.Tensor2D)), /2-D/);
});

Deno.test("cmgSLoss(): ID CE over all n_out logits + generated CE over logits 0..K with target K", async () => {
  await assertNoLeak(() => {
    const t = sTerms(ID4, Y, GEN4, 2);
    close(t.ce, CE4, 1e-6, "ce = (ln 2 + ln 5)/2");
    close(t.genCe, GEN_CE4, 1e-6, "genCe = (ln 2 + ln 3)/2");
    close(t.loss, CE4 + GEN_CE4, 1e-6, "unweighted sum");
    close(t.loss, Math.log(60) / 2, 1e-6, "by hand: ln(10·6)/2");
  });
  // n_out = K + 1 = 3 (no spare slot): all uniform rows → ce = genCe = ln 3.
  const t3 = sTerms([[0, 0, 0]], [1], [[0, 0, 0], [5, 5, 5]], 2);
  close(t3.ce, LN3, 1e-6, "ce, n_out = 3");
  close(t3.genCe, LN3, 1e-6, "genCe, n_out = 3");
  close(t3.loss, 2 * LN3, 1e-6, "loss, n_out = 3");
});

Deno.test("cmgSLoss(): gradients — the spare slot moves with the ID batch, never with the generated batch", async () => {
  await assertNoLeak(() => {
    const [gId, gGen] = tf.tidy(() => {
      const y = tf.tensor1d(Y, "int32");
      const grads = tf.grads((id: tf.Tensor, gen: tf.Tensor) =>
        cmgSLoss(id as tf.Tensor2D, y, gen as tf.Tensor2D, 2).loss
      )([tf.tensor2d(ID4), tf.tensor2d(GEN4)]);
      return grads.map((g) => Array.from(g.dataSync()));
    });
    // d CE_mean / dz = (softmax − onehot)/N, N = 2.
    closeAll(gId!, [(0.5 - 1) / 2, 1 / 12, 1 / 12, 1 / 12, 0.1, (0.2 - 1) / 2, 0.1, 0.2], 1e-6, "∂L/∂idLogits");
    // Generated: (softmax over 0..2 − e_2)/M on columns 0..2, exactly 0 on the spare column 3.
    closeAll(gGen!, [0.125, 0.125, -0.25, 0, 1 / 6, 1 / 6, -1 / 3, 0], 1e-6, "∂L/∂genLogits");
    assert.equal(gGen![3], 0);
    assert.equal(gGen![7], 0);
    assert.ok([...gId!, ...gGen!].every(Number.isFinite));
  });
});

Deno.test("cmgSLoss(): batch sizes may differ; shape errors throw", () => {
  // ID batch of 1, generated batch of 3: each CE is its own batch mean.
  const t = sTerms([[LN3, 0, 0, 0]], [0], [[0, 0, LN2, 0], [0, 0, LN2, 0], [0, 0, 0, 0]], 2);
  close(t.ce, LN2, 1e-6, "ce");
  close(t.genCe, (2 * LN2 + LN3) / 3, 1e-6, "genCe");
  const bad = (id: number[][], y: number[], gen: number[][], k: number) =>
    tf.tidy(() => {
      cmgSLoss(tf.tensor2d(id), tf.tensor1d(y, "int32"), tf.tensor2d(gen), k);
    });
  assert.throws(() => bad([[0, 0]], [0], [[0, 0]], 2), /K \+ 1 = 3 exceeds/);
  assert.throws(() => bad([[0, 0, 0]], [0], [[0, 0, 0, 0]], 2), /generated logits 4/);
  assert.throws(() => bad([[0, 0, 0]], [0, 1], [[0, 0, 0]], 2), /labels/);
  assert.throws(() => bad([[0, 0, 0]], [0], [[0, 0, 0]], 0), /positive integer/);
});

Deno.test("cmgELoss(): CE + μ·[mean relu(E_in − m_in)² + mean relu(m_out − E_gen)²], E over all n_out", async () => {
  // E_in = −ln 6 ≈ −1.7918, −ln 5 ≈ −1.6094 (all 4 logits; over the first K = 2 they would be −ln 4, −ln 2).
  // m_in = −1.7: row 1 inside (0), row 2 above it by 1.7 − ln 5 ≈ 0.0906 → inTerm = (1.7 − ln 5)²/2.
  // Generated [0,0,0,0] → E = −ln 4 ≈ −1.3863; [ln2,0,0,0] → E = −ln 5.
  // m_out = −1.5: row 1 above m_out (0); row 2 below by ln 5 − 1.5 ≈ 0.1094 → outTerm = (ln 5 − 1.5)²/2.
  const gen = [[0, 0, 0, 0], [LN2, 0, 0, 0]];
  await assertNoLeak(() => {
    const t = eTerms(ID4, Y, gen, { mIn: -1.7, mOut: -1.5 });
    const inTerm = (1.7 - LN5) ** 2 / 2, outTerm = (LN5 - 1.5) ** 2 / 2;
    close(t.ce, CE4, 1e-6, "ce over all n_out");
    close(t.inTerm, inTerm, 1e-6, "inTerm");
    close(t.outTerm, outTerm, 1e-6, "outTerm");
    close(t.energy, inTerm + outTerm, 1e-6, "energy");
    close(t.loss, CE4 + 0.1 * (inTerm + outTerm), 1e-6, "loss, default μ = 0.1");
    close(t.loss, 1.152301, 1e-5, "loss by hand");
  });
  const mu1 = eTerms(ID4, Y, gen, { mIn: -1.7, mOut: -1.5, mu: 1 });
  close(mu1.loss, mu1.ce + mu1.energy, 1e-6, "μ = 1");
  const mu0 = eTerms(ID4, Y, gen, { mIn: -1.7, mOut: -1.5, mu: 0 });
  close(mu0.loss, mu0.ce, 0, "μ = 0 is plain CE");
  // n_out = K + 1 = 3 (no spare slot), both hinges active on every row.
  const t3 = eTerms([[LN3, 0, 0], [0, 0, 0]], Y, [[0, 0, 0], [LN2, 0, 0]], { mIn: -2, mOut: 0 });
  // E_in = −ln 5 ≈ −1.609, −ln 3 ≈ −1.099, both above m_in = −2 → inTerm = ((2 − ln 5)² + (2 − ln 3)²)/2.
  close(t3.inTerm, ((2 - LN5) ** 2 + (2 - LN3) ** 2) / 2, 1e-6, "inTerm, n_out = 3");
  // E_gen = −ln 3, −ln 4 (below m_out = 0) → outTerm = (ln²3 + ln²4)/2.
  close(t3.outTerm, (LN3 ** 2 + Math.log(4) ** 2) / 2, 1e-6, "outTerm, n_out = 3");
  assert.throws(() => eTerms(ID4, Y, gen, { mIn: NaN, mOut: 0 }), /finite/);
  assert.throws(() => eTerms(ID4, Y, gen, { mIn: 0, mOut: 0, mu: -1 }), /mu/);
});

Deno.test("cmgELoss(): gradients — energy terms are zero inside the margins, flow (all logits) outside", async () => {
  const gen = [[0, 0, 0, 0], [LN2, 0, 0, 0]];
  const grads = (mIn: number, mOut: number) =>
    tf.tidy(() => {
      const y = tf.tensor1d(Y, "int32");
      return tf.grads((id: tf.Tensor, g: tf.Tensor) =>
        cmgELoss(id as tf.Tensor2D, y, g as tf.Tensor2D, { mIn, mOut }).loss
      )([tf.tensor2d(ID4), tf.tensor2d(gen)]).map((t) => Array.from(t.dataSync()));
    });
  await assertNoLeak(() => {
    // Inside the margins (all E_in ≤ 0 = m_in, all E_gen ≥ −10 = m_out): the gradient is the CE's alone.
    const [gIdIn, gGenIn] = grads(0, -10);
    closeAll(gIdIn!, [(0.5 - 1) / 2, 1 / 12, 1 / 12, 1 / 12, 0.1, (0.2 - 1) / 2, 0.1, 0.2], 1e-6, "∂L/∂id = ∂CE");
    assert.deepEqual(gGenIn, [0, 0, 0, 0, 0, 0, 0, 0]);
    // Outside (m_in = −1.7, m_out = −1.5): ∂/∂z_gen of μ·(1/M)·Σ relu(m_out − E)² = μ·(2/M)·h·softmax(z) (all 4
    // columns, spare included) with h = ln 5 − 1.5 for row 2, 0 for row 1 (inside).
    const [gIdOut, gGenOut] = grads(-1.7, -1.5);
    const h = LN5 - 1.5;
    closeAll(gGenOut!, [0, 0, 0, 0, 0.1 * h * 0.4, 0.1 * h * 0.2, 0.1 * h * 0.2, 0.1 * h * 0.2], 1e-6, "∂L/∂gen");
    // ID row 2 (E above m_in by hIn = 1.7 − ln 5): + μ·(2/N)·hIn·(−softmax) = −0.1·hIn·(0.2, 0.2, 0.2, 0.4).
    const hIn = 1.7 - LN5;
    const row2 = [0.1, -0.4, 0.1, 0.2].map((v, i) => v - 0.1 * hIn * [0.2, 0.2, 0.2, 0.4][i]!);
    closeAll(gIdOut!, [-0.25, 1 / 12, 1 / 12, 1 / 12, ...row2], 1e-6, "∂L/∂id");
    assert.ok([...gIdOut!, ...gGenOut!].every(Number.isFinite));
  });
});

Deno.test("percentileMargins(): sorted(E_in)[int(0.2·N)], sorted(E_gen)[int(0.8·M)], N = 10", () => {
  // N = 10: int(2.0) = 2, int(8.0) = 8.
  const id = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3]; // sorted 1 1 2 3 3 4 5 5 6 9 → [2] = 2
  const gen = [0.5, -1, 2, 2, 7, 3, -4, 8, 1, 0]; // sorted −4 −1 0 0.5 1 2 2 3 7 8 → [8] = 7
  assert.deepEqual(percentileMargins(id, gen), { mIn: 2, mOut: 7 });
  assert.deepEqual(id, [3, 1, 4, 1, 5, 9, 2, 6, 5, 3], "input not mutated");
});

Deno.test("percentileMargins(): N = 7 truncates (int(1.4) = 1, int(5.6) = 5), with ties", () => {
  const e = [4, 1, 1, 0, 6, 5, 3]; // sorted 0 1 1 3 4 5 6 → [1] = 1 (tied with [2]); [5] = 5 (round(5.6) would be 6)
  assert.deepEqual(percentileMargins(e, e), { mIn: 1, mOut: 5 });
  // Energies are negative in practice; float32 input accepted.
  const neg = Float32Array.from([-1.5, -8.25, -3, -3, -2, -7, -0.5]); // sorted −8.25 −7 −3 −3 −2 −1.5 −0.5
  assert.deepEqual(percentileMargins(neg, neg), { mIn: -7, mOut: -1.5 });
});

Deno.test("percentileMargins(): numeric (not lexicographic) sort; small N; bad input throws", () => {
  // N = 5: int(1.0) = 1, int(4.0) = 4; a string sort would put 9 last.
  assert.deepEqual(percentileMargins([10, 9, 100, -2, 1], [10, 9, 100, -2, 1]), { mIn: 1, mOut: 100 });
  // N = 1: both indices 0; N = 2: int(0.4) = 0, int(1.6) = 1; N = 4: int(0.8) = 0, int(3.2) = 3.
  assert.deepEqual(percentileMargins([7], [7]), { mIn: 7, mOut: 7 });
  assert.deepEqual(percentileMargins([2, 1], [2, 1]), { mIn: 1, mOut: 2 });
  assert.deepEqual(percentileMargins([4, 3, 2, 1], [4, 3, 2, 1]), { mIn: 1, mOut: 4 });
  assert.throws(() => percentileMargins([], [1]), /idEnergies is empty/);
  assert.throws(() => percentileMargins([1], [NaN]), /genEnergies contains NaN/);
});
