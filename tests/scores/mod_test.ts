import assert from "node:assert/strict";
import { initBackend, tf } from "@lib/tf.ts";
import { auroc } from "@lib/metrics/mod.ts";
import { fitScore, runScore, SCORE_NAMES, scoreEntry, SCORES, scoresToArray } from "@lib/scores/mod.ts";
import type { ScoreEntry } from "@lib/scores/mod.ts";
import { asInput, clusters, makeStub } from "./_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

Deno.test("SCORES: every entry has a label, citation, formula, and a needs/fittable pair that matches its functions", () => {
  assert.deepEqual([...SCORE_NAMES], [
    "msp",
    "maxLogit",
    "energy",
    "odin",
    "mahalanobis",
    "mahalanobisEnsemble",
    "knn",
  ]);
  for (const name of SCORE_NAMES) {
    const e: ScoreEntry = SCORES[name];
    assert.ok(e.label && e.citation && e.formula, name);
    assert.equal(e.fittable, e.needs === "features" || e.needs === "featureList", name);
    assert.equal("fit" in e, e.fittable, name);
    assert.equal(scoreEntry(name), e);
  }
  assert.throws(
    () => scoreEntry("mahalanobi"),
    /Unknown score "mahalanobi"\. Valid names: msp, maxLogit, energy, odin/,
  );
});

Deno.test("every registered score returns [N] finite values, ranks ID above OOD on separable clusters, and leaks nothing", async () => {
  const stub = makeStub();
  const train = clusters(1, 100, 0), test = clusters(2, 20, 60);
  const xTrain = asInput(train.id), xId = asInput(test.id), xOod = asInput(test.ood);
  const view = (x: tf.Tensor4D) => ({
    logits: stub.logits(x),
    features: stub.features(x),
    featureList: stub.featureList(x),
    model: stub,
    input: x,
  });
  const trainView = view(xTrain), idView = view(xId), oodView = view(xOod);
  const before = tf.memory().numTensors;
  for (const name of SCORE_NAMES) {
    const entry = scoreEntry(name);
    const state = fitScore(entry, {
      features: trainView.features,
      featureList: trainView.featureList,
      labels: train.labels,
    });
    assert.equal(state === null, !entry.fittable, name);
    assert.equal(tf.memory().numTensors, before, `${name}: fit leaked tensors`);
    const idT = runScore(entry, idView, state), oodT = runScore(entry, oodView, state);
    assert.deepEqual(idT.shape, [test.id.length], name);
    assert.deepEqual(oodT.shape, [test.ood.length], name);
    const id = await scoresToArray(idT), ood = await scoresToArray(oodT);
    assert.equal(tf.memory().numTensors, before, `${name}: scoring leaked tensors`);
    assert.ok([...id, ...ood].every(Number.isFinite), `${name}: non-finite score`);
    const a = auroc(id, ood);
    assert.ok(a > 0.95, `${name}: AUROC ${a}`);
  }
  assert.throws(() => runScore(SCORES.knn, idView), /KNN must be fitted first/);
  assert.throws(() => runScore(SCORES.energy, {}), /Energy needs logits/);
  for (const v of [trainView, idView, oodView]) tf.dispose([v.logits, v.features, ...v.featureList]);
  tf.dispose([xTrain, xId, xOod]);
  stub.dispose();
});
