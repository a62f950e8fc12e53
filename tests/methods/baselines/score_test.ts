import assert from "node:assert/strict";
import { initBackend, tf } from "@lib/tf.ts";
import { createBackbone } from "@lib/backbones/mod.ts";
import { batchToTensor } from "@lib/data/tensors.ts";
import {
  energy,
  fitKnn,
  fitMahalanobis,
  fitMahalanobisEnsemble,
  knn,
  mahalanobis,
  mahalanobisEnsemble,
  maxLogit,
  msp,
  odin,
  SCORE_NAMES,
} from "@lib/scores/mod.ts";
import { extractOutputs, firstRows, matrixTensor } from "@lib/methods/baselines/extract.ts";
import { needsFeatureList, SCORERS, scoreSets, supportedScores } from "@lib/methods/baselines/score.ts";
import { assertClose, assertNoLeak, noiseDataset, SIZE, toyConfig, toyDataset } from "./_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

Deno.test("SCORERS has a scorer for every registered score", () => {
  assert.deepEqual(Object.keys(SCORERS).sort(), [...SCORE_NAMES].sort());
});

Deno.test("supportedScores() drops mahalanobisEnsemble for a backbone without featureList and dedupes", () => {
  const all = [...SCORE_NAMES, "msp" as const];
  assert.deepEqual(supportedScores({}, all), SCORE_NAMES.filter((s) => s !== "mahalanobisEnsemble"));
  assert.deepEqual(supportedScores({ featureList: () => [] }, all), [...SCORE_NAMES]);
  assert.equal(needsFeatureList(["msp", "knn"]), false);
  assert.equal(needsFeatureList(["mahalanobisEnsemble"]), true);
});

/** Reads a tensor and disposes it. */
function read(t: tf.Tensor): Float32Array {
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return Float32Array.from(v);
}

Deno.test("scoreSets() gives each score's own values on the ID and OOD sets, with the configured options", async () => {
  const net = createBackbone("mnist_conv", { numClasses: 2, inputShape: [SIZE, SIZE, 1], width: 0.1 });
  const cfg = toyConfig({ energy: { temperature: 2 }, knn: { k: 3, bankSize: 20 }, mahalanobis: { shrinkage: 0.1 } });
  const opts = { batchSize: 8, featureList: true };
  const trainDs = toyDataset(30, 1), idDs = toyDataset(14, 2), oodDs = noiseDataset(12, 3);
  const train = await extractOutputs(net, trainDs, opts);
  const id = { ds: idDs, out: await extractOutputs(net, idDs, opts) };
  const ood = { noise: { ds: oodDs, out: await extractOutputs(net, oodDs, opts) } };
  const names = supportedScores(net, cfg.scores);
  const seen: string[] = [];
  const scores = await assertNoLeak(() =>
    scoreSets(names, { backbone: net, train, batchSize: 8 }, id, ood, cfg, (name) => {
      seen.push(name);
    })
  );
  assert.deepEqual(seen, names);
  assert.deepEqual(Object.keys(scores), names);
  for (const [name, sets] of Object.entries(scores)) {
    const n = name === "odin" ? cfg.odin.limit! : 14;
    assert.equal(sets!.id.length, n, `${name} ID length`);
    assert.equal(sets!.ood.noise!.length, name === "odin" ? cfg.odin.limit! : 12, `${name} OOD length`);
    assert.ok([...sets!.id, ...sets!.ood.noise!].every(Number.isFinite), `${name} finite`);
  }

  // Reference values computed directly with lib/scores.
  const logits = matrixTensor(id.out.logits), feats = matrixTensor(id.out.features);
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
  const lists = train.featureList!.map(matrixTensor), idLists = id.out.featureList!.map(matrixTensor);
  const ens = fitMahalanobisEnsemble(lists, train.labels, { numClasses: 2, shrinkage: 0.1 });
  assertClose(scores.mahalanobisEnsemble!.id, read(mahalanobisEnsemble(ens, idLists)), 1e-3, "ensemble");
  const x = batchToTensor(idDs.images.subarray(0, 10 * SIZE * SIZE), [10, SIZE, SIZE, 1], net.normalization);
  assertClose(scores.odin!.id, read(odin(net, x, { temperature: 1000, epsilon: 0.0014 })), 1e-6, "odin, first 10");
  tf.dispose([logits, feats, trainF, bank, x, ...lists, ...idLists]);
  net.model.dispose();
});
