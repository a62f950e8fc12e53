import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { auroc } from "@lib/metrics/mod.ts";
import type { Dataset } from "@lib/datasets/types.ts";
import type { DetectorContext } from "@lib/scores/detector.ts";
import {
  vmdlsDetector,
  vmdlsNormalizers,
  type VmdlsOptions,
  vmdlsReferenceScores,
  vmdlsScores,
} from "@lib/scores/vmdls.ts";
import { extractOutputs } from "@lib/experiment/outputs.ts";
import { assertClose, clusterSets, extractableStub } from "./_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

Deno.test("vmdlsNormalizers() and vmdlsScores(): M = 1 + max ℓ, r̃ = r / max r, s = max_c (ℓ_c − M)·r̃, hand-computed", () => {
  // Three rows, two classes: ℓ = [[−3, −7], [−2, −9], [−10, −4]], r = [0.5, 2, 1].
  const ll = Float64Array.of(-3, -7, -2, -9, -10, -4), r = Float32Array.of(0.5, 2, 1);
  const norm = vmdlsNormalizers(ll, r);
  assert.deepEqual(norm, { offset: -1, rScale: 2 });
  const { scores, classes } = vmdlsScores(ll, 2, r, norm);
  // row 0: max((−3+1)·0.25, (−7+1)·0.25) = −0.5; row 1: (−2+1)·1 = −1; row 2: (−4+1)·0.5 = −1.5
  assertClose(scores, [-0.5, -1, -1.5], 1e-7, "scores");
  assert.deepEqual([...classes], [0, 0, 1]);
  // r̃ ≡ 1 without reconstruction: s = max ℓ − M.
  const plain = vmdlsScores(ll, 2, null, vmdlsNormalizers(ll, null));
  assertClose(plain.scores, [-2, -1, -3], 1e-7, "r̃ ≡ 1");
  assert.throws(() => vmdlsScores(ll, 4, null, norm), /6 log-likelihoods for 4 classes/);
  assert.throws(() => vmdlsNormalizers([], null), /empty/);
});

async function context(opts: { heldOut?: boolean } = {}) {
  const net = extractableStub();
  const sets = clusterSets();
  const pass = { batchSize: 32, featureList: true };
  const train = await extractOutputs(net, sets.train, pass);
  const test = { ds: sets.test, outputs: await extractOutputs(net, sets.test, pass) };
  const ood = { ds: sets.ood.unseen, outputs: await extractOutputs(net, sets.ood.unseen, pass) };
  const ctx: DetectorContext = {
    model: net,
    train: { ds: sets.train, outputs: train },
    test,
    ...(opts.heldOut ? { heldOut: sets.heldOut } : {}),
    batchSize: 32,
    seed: 0,
  };
  return { net, ctx, test, ood, sets };
}

const opts = (o: Partial<VmdlsOptions> = {}): VmdlsOptions => ({ ...vmdlsDetector.defaults, ...o });

Deno.test("vmdlsDetector: separable clusters score ID above OOD, faithful and clean normalisation, no leaks", async () => {
  const { net, ctx, test, ood } = await context({ heldOut: true });
  const before = tf.memory().numTensors;
  for (const o of [opts(), opts({ normalizeOn: "heldOut" }), opts({ members: [-1] })]) {
    const state = await vmdlsDetector.fit!(ctx, o);
    const id = await vmdlsDetector.score(test, o, state, ctx), out = await vmdlsDetector.score(ood, o, state, ctx);
    assert.equal(id.length, test.outputs.n);
    assert.ok([...id, ...out].every(Number.isFinite));
    assert.ok(auroc(id, out) > 0.95, `AUROC ${auroc(id, out)} (${JSON.stringify(o.members)}, ${o.normalizeOn})`);
    assert.ok(state.gaussians.steps >= 2);
    if (o.normalizeOn === "test") {
      assert.ok(Math.max(...id) < 0 && Math.abs(Math.max(...id) + 1) < 1e-3, "max ID score = −1");
    }
  }
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  // The ensemble [f, relu(f·MIX)] of the stub; `members: [-1]` keeps the last only.
  assert.deepEqual((await vmdlsDetector.fit!(ctx, opts())).members, [0, 1]);
  assert.equal((await vmdlsDetector.fit!(ctx, opts({ members: [-1] }))).gaussians.dim, 4);
  await assert.rejects(async () => await vmdlsDetector.fit!(ctx, opts({ members: [2] })), /do not index/);
  net.dispose();
});

Deno.test("vmdlsDetector: the reconstruction weighting multiplies (ℓ − M) by r / max r over the normalisation set", async () => {
  const { net, ctx, test, sets } = await context();
  // r(x) = 1 + first pixel / 255, a stand-in for the auto-encoder's error.
  const reconstruction = (ds: Dataset) =>
    Promise.resolve(Float32Array.from({ length: ds.shape[0] }, (_, i) => 1 + ds.images[i * 4]! / 255));
  const plainOpts = opts(), weightedOpts = opts({ reconstruction });
  const plain = await vmdlsDetector.score(test, plainOpts, await vmdlsDetector.fit!(ctx, plainOpts), ctx);
  const state = await vmdlsDetector.fit!(ctx, weightedOpts);
  const weighted = await vmdlsDetector.score(test, weightedOpts, state, ctx);
  const r = await reconstruction(sets.test);
  const rMax = Math.max(...r);
  assert.ok(Math.abs(state.normalizers.rScale - rMax) < 1e-6);
  assertClose(weighted, Array.from(plain, (s, i) => s * r[i]! / rMax), 1e-4, "weighted = plain · r̃");
  net.dispose();
});

Deno.test("vmdlsDetector: clean normalisation needs held-out images", async () => {
  const { net, ctx } = await context();
  await assert.rejects(async () => await vmdlsDetector.fit!(ctx, opts({ normalizeOn: "heldOut" })), /held-out/);
  net.dispose();
});

Deno.test("vmdlsReferenceScores(): M and R over ID test + the OOD set, as one reference test run; = the detector's when ID holds both maxima", async () => {
  const { net, ctx, test, ood, sets } = await context();
  // r(x) = 1 + first pixel / 255, a stand-in for the auto-encoder's error.
  const reconstruction = (ds: Dataset) =>
    Promise.resolve(Float32Array.from({ length: ds.shape[0] }, (_, i) => 1 + ds.images[i * 4]! / 255));
  const o = opts({ reconstruction });
  const state = await vmdlsDetector.fit!(ctx, o);
  const before = tf.memory().numTensors;
  const exact = await vmdlsReferenceScores(state, o, test, ood, ctx);
  assert.equal(tf.memory().numTensors, before, "no tensor kept");
  // Recompute by hand: ℓ* = max_c ℓ_c per row from the detector's own values with r̃ ≡ 1 and M = 0 offsets.
  const plainState = { ...state, normalizers: { offset: 0, rScale: 1 } };
  const noR = opts();
  const lId = await vmdlsDetector.score(test, noR, plainState, ctx),
    lOod = await vmdlsDetector.score(ood, noR, plainState, ctx);
  const rId = await reconstruction(sets.test), rOod = await reconstruction(sets.ood.unseen);
  const M = 1 + Math.max(...lId, ...lOod), R = Math.max(...rId, ...rOod);
  assertClose(exact.id, Array.from(lId, (l, i) => (l - M) * rId[i]! / R), 1e-3, "ID scores");
  assertClose(exact.ood, Array.from(lOod, (l, i) => (l - M) * rOod[i]! / R), 1e-3, "OOD scores");
  assert.ok([...exact.id, ...exact.ood].every((s) => s < 0), "always < 0");
  // The detector's `normalizeOn: "test"` (ID test alone) agrees when the ID test set holds both maxima.
  const idOnly = await vmdlsDetector.score(test, o, state, ctx);
  const sameMaxima = Math.max(...lId) >= Math.max(...lOod) && Math.max(...rId) >= Math.max(...rOod);
  if (sameMaxima) assertClose(exact.id, idOnly, 1e-4, "ID-only normalisation");
  else assert.ok(exact.id.some((s, i) => Math.abs(s - idOnly[i]!) > 1e-6), "the OOD set moved M or R");
  net.dispose();
});
