import assert from "node:assert/strict";
import { initBackend, tf } from "@lib/tf.ts";
import {
  BASELINES_METHOD,
  BASELINES_PAPER,
  projectionSample,
  scoreBaseline,
  trainBaseline,
} from "@lib/methods/baselines/run.ts";
import { checkBaselinesConfig } from "@lib/methods/baselines/config.ts";
import { toyConfig, toyData } from "./_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

Deno.test("trainBaseline() + scoreBaseline() give one finite row per score × OOD set, and what the figures need", async () => {
  const cfg = checkBaselinesConfig(toyConfig());
  const data = toyData();
  const tensors = tf.memory().numTensors;
  const run = await trainBaseline(cfg, data, 0);
  assert.equal(run.backbone.name, "lenet");
  assert.equal(run.backbone.numClasses, 2);
  const stages: string[] = [];
  const scored = await scoreBaseline(cfg, data, run, (s) => {
    stages.push(s);
  });
  const scores = ["msp", "maxLogit", "energy", "odin", "mahalanobis", "mahalanobisEnsemble", "knn"];
  assert.deepEqual(scored.scoreNames, scores, "every score, the ensemble on lenet's stages included");
  assert.deepEqual(stages, ["extract", ...scores]);
  assert.deepEqual(Object.keys(scored.seconds), stages);
  assert.equal(scored.rows.length, scores.length * 2);
  for (const r of scored.rows) {
    assert.equal(r.paper, BASELINES_PAPER);
    assert.equal(r.method, BASELINES_METHOD);
    assert.equal(r.backbone, "lenet");
    assert.equal(r.idDataset, "mnist");
    assert.equal(r.seed, 0);
    assert.equal(r.idAccuracy, scored.accuracy);
    assert.equal(r.nId, r.score === "odin" ? 10 : 40);
    assert.equal(r.nOod, r.score === "odin" ? 10 : 30);
    for (const m of ["auroc", "auprIn", "auprOut", "fpr95", "fpr95OodPositive", "detectionError"] as const) {
      assert.ok(r[m]! >= 0 && r[m]! <= 1, `${r.score}/${r.oodDataset} ${m} = ${r[m]}`);
    }
  }
  assert.ok(scored.accuracy >= 0.95, `ID accuracy ${scored.accuracy}`);
  // Far OOD for a trained toy net: feature-space scores separate the noise images.
  const auroc = (score: string, ood: string) =>
    scored.rows.find((r) => r.score === score && r.oodDataset === ood)!.auroc!;
  assert.ok(auroc("mahalanobis", "noise") > 0.9, `mahalanobis vs noise ${auroc("mahalanobis", "noise")}`);
  assert.ok(auroc("knn", "noise") > 0.9, `knn vs noise ${auroc("knn", "noise")}`);
  assert.deepEqual(
    [...new Set(scored.projection.groups)],
    ["ID (mnist)", "noise", "blob"],
  );
  assert.equal(scored.projection.groups.length, 3 * 7);
  assert.equal(scored.projection.data.length, 21 * run.backbone.featureDim);
  run.backbone.model.dispose();
  assert.equal(tf.memory().numTensors, tensors, "nothing but the disposed model was left");
});

Deno.test("scoreBaseline() runs the multi-layer Mahalanobis ensemble when the backbone has featureList", async () => {
  const cfg = toyConfig({ backbone: "mnist_conv", width: 0.1, train: { ...toyConfig().train, epochs: 1 } });
  const run = await trainBaseline(cfg, toyData(), 1);
  const scored = await scoreBaseline(cfg, toyData(), run);
  assert.ok(scored.scoreNames.includes("mahalanobisEnsemble"));
  assert.equal(scored.rows.filter((r) => r.score === "mahalanobisEnsemble").length, 2);
  run.backbone.model.dispose();
});

Deno.test("projectionSample() takes the first rows of each set, ID first", () => {
  const out = (n: number, v: number) => ({
    n,
    logits: { data: new Float32Array(n), dim: 1 },
    features: { data: new Float32Array(n * 2).fill(v), dim: 2 },
    labels: new Int32Array(n),
  });
  const p = projectionSample("mnist", out(5, 1), { a: out(1, 2), b: out(4, 3) }, 2);
  assert.deepEqual(p.groups, ["ID (mnist)", "ID (mnist)", "a", "b", "b"]);
  assert.deepEqual([...p.data], [1, 1, 1, 1, 2, 2, 3, 3, 3, 3]);
  assert.equal(p.dim, 2);
});
