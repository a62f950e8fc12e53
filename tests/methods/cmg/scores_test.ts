import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { auroc } from "@lib/metrics/mod.ts";
import { cmgEScore, cmgSScore } from "@lib/methods/cmg/scores.ts";
import { assertNoLeak } from "../../experiment/_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

const LN2 = Math.log(2), LN3 = Math.log(3);
const closeAll = (a: ArrayLike<number>, e: number[], tol = 1e-6, what = "") => {
  assert.equal(a.length, e.length, `${what}: length`);
  e.forEach((v, i) => assert.ok(Math.abs(a[i]! - v) <= tol, `${what}[${i}]: got ${a[i]}, expected ${v}`));
};
const run = (f: (z: tf.Tensor2D, k: number) => tf.Tensor1D, rows: number[][], k: number) =>
  tf.tidy(() => Array.from(f(tf.tensor2d(rows), k).dataSync()));

/** The reference's CMG-s outlier score in float64: softmax(fx)[:, -1] on fx = logits[:, 0..K] (score.py l. 15). */
const refS = (row: number[], k: number) => {
  const e = row.slice(0, k + 1).map(Math.exp);
  return e[k]! / e.reduce((a, b) => a + b, 0);
};
/** The reference's CMG-e outlier score in float64: −logsumexp(fx[:, :-1]) = −lse(logits[:, 0..K−1]) (l. 30). */
const refE = (row: number[], k: number) => -Math.log(row.slice(0, k).reduce((a, v) => a + Math.exp(v), 0));

Deno.test("cmgSScore() = −softmax over logits 0..K, slot K; spare logits ignored", async () => {
  await assertNoLeak(() => {
    // K = 2, n_out = 4: [0, 0, ln2, 9] → (1,1,2)/4 → −½; [ln3, 0, 0, −5] → (3,1,1)/5 → −⅕.
    closeAll(run(cmgSScore, [[0, 0, LN2, 9], [LN3, 0, 0, -5]], 2), [-0.5, -0.2], 1e-6, "n_out = 4");
    // n_out = K + 1 = 3: uniform → −⅓; a large slot-K logit → ≈ −1.
    closeAll(run(cmgSScore, [[0, 0, 0], [0, 0, 30]], 2), [-1 / 3, -1], 1e-6, "n_out = 3");
  });
  assert.throws(() => run(cmgSScore, [[0, 0]], 2), /needs 3 logits/);
  assert.throws(() => run(cmgSScore, [[0, 0, 0]], 0), /positive integer/);
});

Deno.test("cmgEScore() = +logsumexp over logits 0..K−1 (slot K and spare slots ignored)", async () => {
  await assertNoLeak(() => {
    // K = 2: [0, ln3, 7] → ln 4; [ln2, 0, 50, 50] → ln 3; [1, 1, 0, 0] → 1 + ln 2.
    closeAll(run(cmgEScore, [[0, LN3, 7, 0], [LN2, 0, 50, 50], [1, 1, 0, 0]], 2), [Math.log(4), LN3, 1 + LN2]);
    // n_out = K is allowed (no unseen slot, as CSI+CMG's 10 outputs): the plain energy score.
    closeAll(run(cmgEScore, [[0, LN3]], 2), [Math.log(4)], 1e-6, "n_out = K");
  });
  assert.throws(() => run(cmgEScore, [[0, 0]], 3), /needs 3 logits/);
});

Deno.test("cmg scores are the reference's outlier scores negated: AUROC(ID +) = reference AUROC(OOD +)", () => {
  const K = 2;
  // ID rows mostly confident on a seen class, OOD rows spread or on the unseen slot; overlapping on purpose, so the
  // AUROC is strictly between 0 and 1 and a sign error would show as 1 − AUROC.
  const id = [[3, 0, 0, 1], [0, 2.5, 0.5, 0], [1, 1, 0, -1], [0.2, 0, 1, 2]];
  const ood = [[0, 0, 2, 0], [1, 1, 1, 1], [0.5, 0, 0, 3], [2, 0, 0.5, 0]];
  for (const [name, ours, ref] of [["S", cmgSScore, refS], ["E", cmgEScore, refE]] as const) {
    const oursId = run(ours, id, K), oursOod = run(ours, ood, K);
    const refId = id.map((r) => ref(r, K)), refOod = ood.map((r) => ref(r, K));
    closeAll(oursId, refId.map((v) => -v), 1e-5, `${name}: ours = −reference (ID)`);
    closeAll(oursOod, refOod.map((v) => -v), 1e-5, `${name}: ours = −reference (OOD)`);
    // auroc(pos, neg) = P(s_pos > s_neg) + ½P(=): ours with ID positive; the reference's roc_auc_score(y == −1, s)
    // has OOD positive on its outlier score.
    const a = auroc(oursId, oursOod), aRef = auroc(refOod, refId);
    assert.equal(a, aRef, `${name}: ${a} vs ${aRef}`);
    assert.ok(a > 0.5 && a < 1, `${name}: non-trivial AUROC ${a}`);
  }
});
