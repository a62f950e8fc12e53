import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { odin } from "@lib/scores/odin.ts";
import { batchToTensor } from "@lib/data/tensors.ts";
import type { LogitModel } from "@lib/scores/types.ts";
import {
  elocEnsembleScore,
  type ElocMember,
  elocMemberProbabilities,
  elocMemberScore,
  elocScores,
} from "@lib/methods/eloc/score.ts";
import { assertClose, CLUSTER_NORMALIZATION, clusterDataset, clusters, noLeak } from "../../scores/_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
/** max p − H(p) of a probability row, zeros skipped (calMetric.py). */
const handScore = (p: number[]) => Math.max(...p) + p.filter((v) => v > 0).reduce((a, v) => a + v * Math.log(v), 0);

/** logits = the two input channels of [N, 1, 1, 2] inputs; normalisation std (0.5, 0.25). */
const identityModel: LogitModel = {
  logits: (x) => tf.reshape(x, [x.shape[0], 2]),
  normalization: { mean: [0, 0], std: [0.5, 0.25] },
};

/** A linear model on [N, 1, 1, d] inputs: logits = x · W (W [d, K], kept until `dispose`). */
function linear(w: number[][], std: number[]) {
  const weights = tf.tensor2d(w);
  const model: LogitModel = {
    logits: (x) => tf.tidy(() => tf.matMul(tf.reshape(x, [x.shape[0], w.length]), weights)) as tf.Tensor2D,
    normalization: { mean: std.map(() => 0), std },
  };
  return { model, dispose: () => weights.dispose() };
}

/** Reads a [N, C] tensor (disposing it, asserting no leak) into rows. */
function rows(f: () => tf.Tensor2D): number[][] {
  const before = tf.memory().numTensors;
  const t = f();
  const out = t.arraySync();
  t.dispose();
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  return out;
}

Deno.test("elocMemberProbabilities() scatters a 2-output member into 4 classes at its class list, zeros elsewhere", () => {
  const x = tf.tensor4d([0, Math.log(3), 1, 1], [2, 1, 1, 2]);
  const member: ElocMember = { model: identityModel, classes: [3, 1] }; // output 0 = class 3, output 1 = class 1
  // T = 1: softmax(0, log 3) = (1/4, 3/4) → columns 3 and 1; softmax(1, 1) = (1/2, 1/2).
  const p1 = rows(() => elocMemberProbabilities(member, x, 4, { temperature: 1, perturbation: "none" }));
  assertClose(p1[0]!, [0, 0.75, 0, 0.25], 1e-6, "T=1 row 0");
  assertClose(p1[1]!, [0, 0.5, 0, 0.5], 1e-6, "T=1 row 1");
  // T = 2: softmax(0, log 3 / 2) = (1/(1+√3), √3/(1+√3)).
  const p2 = rows(() => elocMemberProbabilities(member, x, 4, { temperature: 2, perturbation: "none" }));
  const r3 = Math.sqrt(3);
  assertClose(p2[0]!, [0, r3 / (1 + r3), 0, 1 / (1 + r3)], 1e-6, "T=2");
  // Batched row by row: the same.
  const pb = rows(() => elocMemberProbabilities(member, x, 4, { temperature: 2, perturbation: "none", batchSize: 1 }));
  assertClose(pb.flat(), p2.flat(), 1e-7, "batchSize 1");
  x.dispose();
});

Deno.test("elocMemberProbabilities() rejects bad class lists, logit widths and perturbation names", () => {
  const x = tf.tensor4d([0, 1], [1, 1, 1, 2]);
  const before = tf.memory().numTensors;
  const p = (classes: number[], c = 4, perturbation: "ce" | "none" = "none") =>
    elocMemberProbabilities({ model: identityModel, classes }, x, c, { perturbation });
  assert.throws(() => p([1, 1]), /class 1 is listed twice/);
  assert.throws(() => p([0, 4]), /class 4 is not in 0\.\.3/);
  assert.throws(() => p([0, 1, 2]), /logits of shape \[1, 2\] for 3 classes/);
  assert.throws(() => p([0, 1, 2], 4, "ce"), /logits of shape \[1, 2\] for 3 classes/);
  assert.throws(
    () => elocMemberProbabilities({ model: identityModel, classes: [0, 1] }, x, 2, { perturbation: "odin" as "ce" }),
    /perturbation must be "ce", "entropy" or "none"/,
  );
  assert.throws(
    () => elocMemberProbabilities({ model: { logits: identityModel.logits }, classes: [0, 1] }, x, 2),
    /divideBySignStd is true but the model has no normalization\.std/,
  );
  assert.equal(tf.memory().numTensors, before, "tensors leaked by the failed calls");
  x.dispose();
});

Deno.test("elocEnsembleScore() sums max p − H(p) over members; a zero (left-out) entry adds 0 to H, no NaN", () => {
  // Three members over C = 4, each with zeros in its left-out columns.
  const a = [[0.5, 0, 0.5, 0], [0, 0, 0, 1]];
  const b = [[0.2, 0.8, 0, 0], [0.25, 0.25, 0.5, 0]];
  const c = [[0, 0, 0, 1], [0, 0.1, 0.9, 0]];
  // Row 0 by hand: (0.5 − ln 2) + (0.8 + 0.2 ln 0.2 + 0.8 ln 0.8) + (1 − 0)
  //   = −0.1931472 + 0.2995976 + 1 = 1.1064504
  // Row 1: (1 − 0) + (0.5 + 2·0.25 ln 0.25 + 0.5 ln 0.5) + (0.9 + 0.1 ln 0.1 + 0.9 ln 0.9)
  //   = 1 − 0.5397208 + 0.5749170 = 1.0351963
  const expected = [1.1064504, 1.0351963];
  for (let i = 0; i < 2; i++) {
    assert.ok(Math.abs(handScore(a[i]!) + handScore(b[i]!) + handScore(c[i]!) - expected[i]!) < 1e-6);
  }
  const flat = [a, b, c].map((m) => m.flat());
  const s = elocEnsembleScore(flat, 4);
  assert.ok(s instanceof Float64Array && s.every(Number.isFinite), `NaN or ∞ in ${s}`);
  assertClose(s, expected, 1e-6, "ensemble");
  // One member: its own s_k.
  assertClose(elocEnsembleScore([flat[0]!], 4), [0.5 - Math.LN2, 1], 1e-12, "single");
  assertClose(elocMemberScore(flat[1]!, 4), [handScore(b[0]!), handScore(b[1]!)], 1e-12, "member b");
  assert.throws(() => elocEnsembleScore([], 4), /at least one member/);
  assert.throws(() => elocEnsembleScore([flat[0]!, [1, 0, 0, 0]], 4), /probs\[1\] has 4 entries, probs\[0\] has 8/);
  assert.throws(() => elocMemberScore([1, 0, 0], 2), /3 probabilities are not rows of 2/);
});

Deno.test("elocMemberScore() keeps float64 resolution: scores 1e-9 apart at T = 1000 stay distinct (calMetric.py's float64)", () => {
  // Near-uniform rows of 8 classes, as at T = 1000: float32 sums of five such scores (≈ −9.8) tie at 1e-6.
  const row = (d: number) => [0.125 + d, 0.125 - d, 0.125, 0.125, 0.125, 0.125, 0.125, 0.125];
  const five = (d: number) => elocEnsembleScore(Array(5).fill(row(d)), 8)[0]!;
  const [lo, hi] = [five(1e-4), five(1e-4 + 1e-9)];
  assert.ok(hi > lo, `${hi} ≤ ${lo}`);
  assert.equal(Math.fround(hi), Math.fround(lo), "float32 would have tied them");
});

Deno.test("elocMemberProbabilities() 'ce' takes ODIN's step: its max probability equals odin() (same x̃)", () => {
  // A 3-input, 2-output linear member whose outputs are classes 2 and 0 of 3.
  const { model, dispose } = linear([[1, -2], [0.5, 1], [-1, 0.3]], [0.5, 0.25, 0.2]);
  const x = tf.tensor4d([1, 0, 0.5, -0.3, 2, 1, 0.2, 0.2, 0.2, 3, -1, 0], [4, 1, 1, 3]);
  for (const [temperature, epsilon] of [[1, 0.1], [1000, 0.0014], [10, 0.05]] as const) {
    const p = rows(() =>
      elocMemberProbabilities({ model, classes: [2, 0] }, x, 3, { temperature, epsilon, perturbation: "ce" })
    );
    const ref = noLeak(() => odin(model, x, { temperature, epsilon }));
    assertClose(p.map((r) => Math.max(...r)), ref, 1e-6, `T=${temperature}, ε=${epsilon}`);
    for (const r of p) assert.equal(r[1], 0, "left-out class 1 is 0");
  }
  // And the hand case of odin_test: x = (1, 0), std (0.5, 0.25), ε = 0.1, T = 1 → x̃ = (1.2, −0.4) → σ(1.6).
  const x2 = tf.tensor4d([1, 0], [1, 1, 1, 2]);
  const p2 = rows(() =>
    elocMemberProbabilities({ model: identityModel, classes: [0, 1] }, x2, 2, { temperature: 1, epsilon: 0.1 })
  );
  assertClose(p2[0]!, [sigmoid(1.6), sigmoid(-1.6)], 1e-6, "hand");
  tf.dispose([x, x2]);
  dispose();
});

Deno.test("elocMemberProbabilities() 'entropy' steps up s_k = max p − H(p): hand-computed 2-class case", () => {
  // Identity logits (x₀, x₁), std (0.5, 0.25), ε = 0.1, T = 1, member classes [1, 0] of C = 3.
  // Row 0: x = (1, 0), ŷ = 0; s = σ(d) − h(σ(d)) with d = x₀ − x₁ increases with d for d > 0, so ∂s/∂x₀ > 0,
  //   ∂s/∂x₁ < 0 → g = sign(−∇s) = (−1, +1) → x̃ = x − ε·g/σ = (1 + 0.2, 0 − 0.4) → p = (σ(1.6), σ(−1.6)).
  // Row 1: x = (0, 2), ŷ = 1 → g = (+1, −1) → x̃ = (−0.2, 2.4) → p = (σ(−2.6), σ(2.6)).
  const x = tf.tensor4d([1, 0, 0, 2], [2, 1, 1, 2]);
  const member: ElocMember = { model: identityModel, classes: [1, 0] };
  const opts = { temperature: 1, epsilon: 0.1 };
  const p = rows(() => elocMemberProbabilities(member, x, 3, { ...opts, perturbation: "entropy" }));
  assertClose(p[0]!, [sigmoid(-1.6), sigmoid(1.6), 0], 1e-6, "row 0 (scattered: output 0 → class 1)");
  assertClose(p[1]!, [sigmoid(2.6), sigmoid(-2.6), 0], 1e-6, "row 1");
  // s_k moved up from the unperturbed one: σ(1) − h(σ(1)) → σ(1.6) − h(σ(1.6)), and likewise for row 1.
  const before = [handScore([sigmoid(1), sigmoid(-1)]), handScore([sigmoid(2), sigmoid(-2)])];
  const after = elocMemberScore(
    rows(() => elocMemberProbabilities(member, x, 3, { ...opts, perturbation: "entropy" })).flat(),
    3,
  );
  assertClose(after, [handScore([sigmoid(1.6), sigmoid(-1.6)]), handScore([sigmoid(2.6), sigmoid(-2.6)])], 1e-6);
  for (let i = 0; i < 2; i++) assert.ok(after[i]! > before[i]!, `row ${i}: ${after[i]} ≤ ${before[i]}`);
  x.dispose();
});

Deno.test("elocMemberProbabilities() 'entropy' raises s_k on a 3-class linear model for small ε", () => {
  const { model, dispose } = linear([[1, -0.5, 0.2], [0.3, 1, -0.7], [-0.4, 0.2, 1]], [0.5, 0.5, 0.5]);
  const member: ElocMember = { model, classes: [0, 1, 2] };
  const x = tf.tensor4d([1, 0.2, -0.3, 0.1, 0.1, 0.1, -1, 2, 0.5, 0.3, 0.35, 0.2, 2, 2, -2], [5, 1, 1, 3]);
  for (const temperature of [1, 10]) {
    const s = (perturbation: "entropy" | "none") =>
      elocMemberScore(
        rows(() => elocMemberProbabilities(member, x, 3, { temperature, epsilon: 0.002, perturbation })).flat(),
        3,
      );
    const up = s("entropy"), base = s("none");
    for (let i = 0; i < 5; i++) assert.ok(up[i]! > base[i]!, `T=${temperature} row ${i}: ${up[i]} ≤ ${base[i]}`);
  }
  x.dispose();
  dispose();
});

Deno.test("elocMemberProbabilities() 'none' ignores ε and equals ε = 0 (no normalization needed)", () => {
  const x = tf.tensor4d([1, 0, 0.3, -0.2, -1, 4], [3, 1, 1, 2]);
  const member: ElocMember = { model: identityModel, classes: [2, 0] };
  const none = rows(() => elocMemberProbabilities(member, x, 3, { perturbation: "none", epsilon: 0.5 }));
  const zero = rows(() => elocMemberProbabilities(member, x, 3, { perturbation: "ce", epsilon: 0 }));
  const zeroEntropy = rows(() => elocMemberProbabilities(member, x, 3, { perturbation: "entropy", epsilon: 0 }));
  assertClose(none.flat(), zero.flat(), 0, "none vs ce ε=0");
  assertClose(none.flat(), zeroEntropy.flat(), 0, "none vs entropy ε=0");
  const perturbed = rows(() => elocMemberProbabilities(member, x, 3, { perturbation: "ce", epsilon: 0.5 }));
  assert.notDeepEqual(perturbed, none);
  const bare: ElocMember = { model: { logits: identityModel.logits }, classes: [2, 0] };
  assertClose(rows(() => elocMemberProbabilities(bare, x, 3, { perturbation: "none" })).flat(), none.flat(), 0);
  x.dispose();
});

/** Two leave-out members over C = 4 on [N, 1, 1, 4] inputs: A sees classes 0,1,2 (left out: 3), B sees 1,2,3. */
function twoMembers(std = [0.5, 0.5, 0.5, 0.5]) {
  const a = linear([[3, 0, 0], [0, 3, 0], [0, 0, 3], [0, 0, 0]], std);
  // B's outputs in a π-like order: output 0 = class 3, 1 = class 1, 2 = class 2.
  const b = linear([[0, 0, 0], [0, 3, 0], [0, 0, 3], [3, 0, 0]], std);
  const members: ElocMember[] = [{ model: a.model, classes: [0, 1, 2] }, { model: b.model, classes: [3, 1, 2] }];
  return { members, dispose: () => [a, b].forEach((m) => m.dispose()) };
}

Deno.test("elocEnsembleScore() ranks an ID-like input above an OOD-like one (higher = more ID)", () => {
  const { members, dispose } = twoMembers();
  // ID-like: a clear class-1 image, seen by both members. OOD-like: no class evidence.
  const x = tf.tensor4d([0, 4, 0, 0, 0.1, 0.1, 0.1, 0.1], [2, 1, 1, 4]);
  for (const perturbation of ["ce", "entropy", "none"] as const) {
    for (const temperature of [1, 1000]) {
      const probs = members.map((m) => rows(() => elocMemberProbabilities(m, x, 4, { temperature, perturbation })));
      const s = elocEnsembleScore(probs.map((p) => p.flat()), 4);
      assert.ok(s[0]! > s[1]!, `${perturbation}, T=${temperature}: ID ${s[0]} ≤ OOD ${s[1]}`);
    }
  }
  x.dispose();
  dispose();
});

Deno.test("elocScores() equals the one-shot computation batch by batch, honours limit, and keeps no tensor", async () => {
  const { members, dispose } = twoMembers(CLUSTER_NORMALIZATION.std as number[]);
  const c = clusters(7, 3, 2); // 9 ID rows + 2 OOD rows (an unseen direction)
  const ds = clusterDataset([...c.id, ...c.ood], null, "mix");
  const n = ds.shape[0];
  for (const perturbation of ["ce", "entropy", "none"] as const) {
    const opts = {
      numClasses: 4,
      normalization: CLUSTER_NORMALIZATION,
      temperature: 1000,
      epsilon: 0.01,
      perturbation,
    };
    // One shot: the whole set as one tensor.
    const x = batchToTensor(ds.images, ds.shape, CLUSTER_NORMALIZATION);
    const probs = members.map((m) =>
      elocMemberProbabilities(m, x, 4, { temperature: 1000, epsilon: 0.01, perturbation, batchSize: n })
    );
    const flat = probs.map((p) => p.dataSync());
    const wantEnsemble = elocEnsembleScore(flat, 4);
    const wantMembers = flat.map((p) => elocMemberScore(p, 4));
    tf.dispose([x, ...probs]);

    const before = tf.memory().numTensors;
    const got = await elocScores(members, ds, { ...opts, batchSize: 4 });
    assert.equal(tf.memory().numTensors, before, "elocScores leaked tensors");
    assert.equal(got.ensemble.length, n);
    assert.equal(got.members.length, 2);
    assertClose(got.ensemble, wantEnsemble, 1e-6, `${perturbation} ensemble`);
    got.members.forEach((m, k) => assertClose(m, wantMembers[k]!, 1e-6, `${perturbation} member ${k}`));
    // The ensemble is the sum of the members' own scores.
    assertClose(got.ensemble, got.ensemble.map((_, i) => got.members[0]![i]! + got.members[1]![i]!), 1e-6, "sum");

    const head = await elocScores(members, ds, { ...opts, batchSize: 2, limit: 5 });
    assertClose(head.ensemble, wantEnsemble.slice(0, 5), 1e-6, `${perturbation} limit`);
    assert.equal(tf.memory().numTensors, before, "elocScores (limit) leaked tensors");
  }
  const empty = await elocScores(members, {
    ...ds,
    images: new Uint8Array(0),
    labels: new Int32Array(0),
    shape: [0, 1, 1, 4],
  }, {
    numClasses: 4,
    normalization: CLUSTER_NORMALIZATION,
  });
  assert.equal(empty.ensemble.length, 0);
  assert.equal(empty.members.length, 2);
  await assert.rejects(
    () => elocScores([], ds, { numClasses: 4, normalization: CLUSTER_NORMALIZATION }),
    /at least one member/,
  );
  dispose();
});
