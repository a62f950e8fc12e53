import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { createBackbone } from "@lib/backbones/mod.ts";
import { batchToTensor } from "@lib/data/tensors.ts";
import { scoreAll } from "@lib/experiment/score.ts";
import {
  energy,
  firstRows,
  fitKnn,
  fitMahalanobis,
  fitMahalanobisEnsemble,
  knn,
  mahalanobis,
  mahalanobisEnsemble,
  matrixTensor,
  maxLogit,
  msp,
  odin,
} from "@lib/scores/mod.ts";
import {
  baselineDetectors,
  BASELINES_LABEL,
  BASELINES_METHOD,
  BASELINES_PAPER,
  checkBaselinesConfig,
  runBaselines,
} from "@lib/methods/baselines/mod.ts";
import { assertClose, assertNoLeak, noiseDataset, SIZE, toyConfig, toyDataset, toySets } from "./_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

const ALL = ["msp", "maxLogit", "energy", "odin", "mahalanobis", "mahalanobisEnsemble", "knn"];

Deno.test("runBaselines() trains and scores each ID dataset × seed: one finite row per score × OOD set, and what the figures need", async () => {
  const cfg = checkBaselinesConfig(toyConfig());
  const tensors = tf.memory().numTensors;
  const exp = await runBaselines(cfg, () => Promise.resolve(toySets()));
  assert.equal(tf.memory().numTensors, tensors, "the model is disposed, no tensor kept");
  assert.equal(exp.runs.length, 1);
  const [run] = exp.runs;
  assert.deepEqual([run!.setting, run!.seed, run!.method, run!.variant], ["mnist", 0, "ce", "none"]);
  assert.deepEqual(Object.keys(run!.result.scores), ALL, "every score, the ensemble on lenet's stages included");
  assert.deepEqual(Object.keys(run!.result.seconds), ["extract", ...ALL]);
  assert.equal(exp.rows.length, ALL.length * 2);
  assert.deepEqual(exp.rows, run!.rows);
  const acc = exp.rows[0]!.idAccuracy!;
  assert.ok(acc >= 0.95, `ID accuracy ${acc}`);
  for (const r of exp.rows) {
    assert.deepEqual([r.paper, r.method, r.label, r.variant], [
      BASELINES_PAPER,
      BASELINES_METHOD,
      BASELINES_LABEL,
      "none",
    ]);
    assert.deepEqual([r.backbone, r.width, r.idDataset, r.seed, r.oodGroup], ["lenet", 0.25, "mnist", 0, "far"]);
    assert.equal(r.idAccuracy, acc);
    assert.equal(r.nId, r.score === "odin" ? 10 : 40);
    assert.equal(r.nOod, r.score === "odin" ? 10 : 30);
    assert.equal(r.trainSeconds, run!.result.training.seconds);
    assert.equal(r.scoreSeconds, run!.result.seconds[r.score]);
    for (const m of ["auroc", "auprIn", "auprOut", "fpr95", "fpr95OodPositive", "detectionError", "macroF1"] as const) {
      assert.ok(r[m]! >= 0 && r[m]! <= 1, `${r.score}/${r.oodDataset} ${m} = ${r[m]}`);
    }
  }
  // Far OOD for a trained toy net: feature-space scores separate the noise images.
  const auroc = (score: string, ood: string) => exp.rows.find((r) => r.score === score && r.oodDataset === ood)!.auroc!;
  assert.ok(auroc("mahalanobis", "noise") > 0.9, `mahalanobis vs noise ${auroc("mahalanobis", "noise")}`);
  assert.ok(auroc("knn", "noise") > 0.9, `knn vs noise ${auroc("knn", "noise")}`);
  const { projection, training } = run!.result;
  assert.deepEqual([...new Set(projection.groups)], ["ID (mnist)", "noise", "blob"]);
  assert.equal(projection.groups.length, 3 * 7);
  assert.equal(projection.data.length, 21 * projection.dim);
  assert.equal(training.steps, 3 * 6);
  assert.deepEqual(exp.sets.map((s) => s.id), ["mnist"]);
});

Deno.test("baselineDetectors() passes the config's options and drops the ensemble for a backbone without featureList", () => {
  const cfg = toyConfig({ scores: [...toyConfig().scores, "msp"] });
  const specs = baselineDetectors(cfg, true);
  assert.deepEqual(specs.map((s) => s.use), ALL, "config order, duplicates dropped");
  assert.deepEqual(specs.find((s) => s.use === "odin")!.opts, { temperature: 1000, epsilon: 0.0014, limit: 10 });
  assert.deepEqual(specs.find((s) => s.use === "knn")!.opts, { k: 5, bankSize: 64 });
  assert.deepEqual(specs.find((s) => s.use === "mahalanobisEnsemble")!.opts, { shrinkage: 0 });
  assert.equal(specs.find((s) => s.use === "msp")!.opts, undefined, "registry defaults");
  assert.deepEqual(baselineDetectors(cfg, false).map((s) => s.use), ALL.filter((s) => s !== "mahalanobisEnsemble"));
});

/** Reads a tensor and disposes it. */
function read(t: tf.Tensor): Float32Array {
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return Float32Array.from(v);
}

Deno.test("baselineDetectors() through scoreAll() gives each score's own values with the configured options", async () => {
  const net = createBackbone("mnist_conv", { numClasses: 2, inputShape: [SIZE, SIZE, 1], width: 0.1 });
  const cfg = toyConfig({ energy: { temperature: 2 }, knn: { k: 3, bankSize: 20 }, mahalanobis: { shrinkage: 0.1 } });
  const trainDs = toyDataset(30, 1), idDs = toyDataset(14, 2), oodDs = noiseDataset(12, 3);
  const sets = { train: trainDs, test: idDs, ood: { noise: oodDs } };
  const table = await assertNoLeak(() => scoreAll(net, sets, baselineDetectors(cfg, true), { batchSize: 8, seed: 0 }));
  const scores = table.scores, train = table.outputs.train!, id = table.outputs.test;
  for (const [name, s] of Object.entries(scores)) {
    assert.equal(s.id.length, name === "odin" ? cfg.odin.limit! : 14, `${name} ID length`);
    assert.equal(s.ood.noise!.length, name === "odin" ? cfg.odin.limit! : 12, `${name} OOD length`);
    assert.ok([...s.id, ...s.ood.noise!].every(Number.isFinite), `${name} finite`);
  }
  // Reference values computed directly with lib/scores.
  const logits = matrixTensor(id.logits), feats = matrixTensor(id.features);
  assertClose(scores.msp!.id, read(msp(logits)), 1e-6, "msp");
  assertClose(scores.maxLogit!.id, read(maxLogit(logits)), 1e-6, "maxLogit");
  assertClose(scores.energy!.id, read(energy(logits, { temperature: 2 })), 1e-6, "energy T=2");
  const trainF = matrixTensor(train.features);
  const maha = fitMahalanobis(trainF, train.labels, { numClasses: 2, shrinkage: 0.1 });
  assertClose(scores.mahalanobis!.id, read(mahalanobis(maha, feats)), 1e-3, "mahalanobis");
  const bank = matrixTensor(firstRows(train.features, 20));
  const knnState = fitKnn(bank, null, { k: 3 });
  assert.equal(knnState.size, 20);
  assertClose(scores.knn!.id, read(knn(knnState, feats)), 1e-5, "knn on the first bankSize features, K = 3");
  const lists = train.featureList!.map(matrixTensor), idLists = id.featureList!.map(matrixTensor);
  const ens = fitMahalanobisEnsemble(lists, train.labels, { numClasses: 2, shrinkage: 0.1 });
  assertClose(scores.mahalanobisEnsemble!.id, read(mahalanobisEnsemble(ens, idLists)), 1e-3, "ensemble");
  const x = batchToTensor(idDs.images.subarray(0, 10 * SIZE * SIZE), [10, SIZE, SIZE, 1], net.normalization);
  assertClose(scores.odin!.id, read(odin(net, x, { temperature: 1000, epsilon: 0.0014 })), 1e-6, "odin, first 10");
  tf.dispose([logits, feats, trainF, bank, x, ...lists, ...idLists]);
  net.model.dispose();
});
