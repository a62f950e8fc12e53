import assert from "node:assert/strict";
import { join } from "node:path";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { checkUnleashingMaskConfig, type UnleashingMaskConfig } from "@lib/methods/unleashing_mask/config.ts";
import { pretrainCacheDir, pretrainClassifier } from "@lib/methods/unleashing_mask/pretrain.ts";
import { loadUmSets, runUnleashingMask, umClaims, umDetectors } from "@lib/methods/unleashing_mask/run.ts";
import { loadDataset } from "@lib/datasets/registry.ts";
import { tempDataRoot } from "../../datasets/_fixtures.ts";
import { mspUmCode } from "@lib/scores/mod.ts";
import { scoreAll } from "@lib/experiment/score.ts";
import { evaluateClaims } from "@lib/experiment/claims.ts";
import { SMALL, tinyData, tinyNet } from "./_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

const TINY: UnleashingMaskConfig = {
  ...SMALL,
  backbone: { name: "lenet", width: 0.125 },
  augment: [{ op: "randomCrop", size: 8, padding: 1 }, { op: "horizontalFlip" }],
  pretrain: { ...SMALL.pretrain, epochs: 2, batchSize: 16, curve: { idLimit: 12, oodLimit: 8, trainLimit: 12 } },
  finetune: { ...SMALL.finetune, batchSize: 16 },
  methods: ["ce-ft", "um", "umap", "oe", "oe+um"],
  scores: ["msp", "odin", "energy", "mahalanobis"],
  mahalanobis: { magnitudes: [0, 0.01], tuneSamples: 6, advNoise: 0.05, fitLimit: 30 },
  inputScoreLimit: 8,
  evalBatchSize: 16,
};

Deno.test("mspUmCode() is max softmax(softmax(f)), the repo's --msp, which can rank differently from MSP", () => {
  const p = 1 / (1 + Math.exp(-5)), expected = Math.exp(p) / (Math.exp(p) + Math.exp(1 - p));
  const v = Array.from(mspUmCode(tf.tensor2d([[0, 0], [5, 0]])).dataSync());
  assert.ok(Math.abs(v[0]! - 0.5) < 1e-6 && Math.abs(v[1]! - expected) < 1e-6);
  // Ten classes: A = softmax [.5, .5, 0, …] (MSP .5), B = [.49, .51/9 × 9] (MSP .49): softmax² ranks B above A.
  const a = [0, 0, ...Array(8).fill(-40)], b = [Math.log(0.49), ...Array(9).fill(Math.log(0.51 / 9))];
  const logits = tf.tensor2d([a, b]);
  const m1 = Array.from(tf.max(tf.softmax(logits), 1).dataSync()), m2 = Array.from(mspUmCode(logits).dataSync());
  assert.ok(m1[0]! > m1[1]! && m2[0]! < m2[1]!, `MSP ${m1}, softmax² ${m2}: the order flips`);
});

Deno.test("pretrainClassifier() caches the classifier and its curve, and a second call loads them without training", async () => {
  const root = await Deno.makeTempDir({ prefix: "um-cache-" });
  const cfg = { ...TINY, pretrain: { ...TINY.pretrain, cache: true } };
  const data = tinyData();
  const first = await pretrainClassifier(cfg, data, 0, { cacheRoot: root });
  assert.equal(first.cached, false);
  assert.equal(first.history.length, 2);
  assert.equal(first.runDir, pretrainCacheDir(root, cfg, data.train, 0));
  const again = await pretrainClassifier(cfg, data, 0, { cacheRoot: root });
  assert.equal(again.cached, true);
  assert.deepEqual(again.history, first.history, "the curve comes back from the checkpoint");
  const w1 = first.backbone.model.getWeights().map((w) => Array.from(w.dataSync()));
  const w2 = again.backbone.model.getWeights().map((w) => Array.from(w.dataSync()));
  assert.deepEqual(w2, w1);
  const other = pretrainCacheDir(root, { ...cfg, pretrain: { ...cfg.pretrain, lr: 0.01 } }, data.train, 0);
  assert.notEqual(other, first.runDir, "another recipe, another cache entry");
  const best = await pretrainClassifier({ ...cfg, pretrain: { ...cfg.pretrain, selection: "best-test" } }, data, 1, {
    cacheRoot: root,
  });
  assert.ok(best.selectedEpoch >= 1 && best.selectedEpoch <= 2);
  assert.ok(await Deno.stat(join(best.runDir!, "best")));
  for (const m of [first, again, best]) m.backbone.model.dispose();
  await Deno.remove(root, { recursive: true });
});

Deno.test("umDetectors() scores every set with the variant's specs, without keeping tensors", async () => {
  const net = tinyNet(), data = tinyData();
  const before = tf.memory().numTensors;
  for (const variant of ["faithful", "clean"] as const) {
    const specs = umDetectors(TINY, variant);
    assert.deepEqual(specs.map((s) => s.use), [
      variant === "faithful" ? "umMsp" : "msp",
      "odin",
      "energy",
      "umMahalanobis",
    ]);
    const t = await scoreAll(net, data, specs, { batchSize: 16, seed: 0 });
    assert.deepEqual(Object.keys(t.scores), ["msp", "odin", "energy", "mahalanobis"]);
    assert.equal(t.scores.msp!.id.length, 30);
    assert.equal(t.scores.odin!.id.length, 8, "input-space scores: the first inputScoreLimit images");
    assert.equal(t.scores.mahalanobis!.ood.checker!.length, 8);
    assert.equal((t.states.mahalanobis as { output: string }).output, variant === "faithful" ? "probability" : "logit");
  }
  assert.equal(tf.memory().numTensors, before);
  net.model.dispose();
});

Deno.test("runUnleashingMask() runs every method on the same pretrained model per seed and variant; rows, curves, claims", async () => {
  const sets = tinyData();
  const cfg = checkUnleashingMaskConfig({ ...TINY, variants: ["faithful", "clean"] });
  const before = tf.memory().numTensors;
  const exp = await runUnleashingMask(cfg, { cacheRoot: null, load: () => Promise.resolve(sets) });
  assert.deepEqual(exp.runs.map((r) => `${r.variant}/${r.method}`), [
    ..."ce ce-ft um umap oe oe+um".split(" ").map((m) => `faithful/${m}`),
    ..."ce ce-ft um umap oe oe+um".split(" ").map((m) => `clean/${m}`),
  ]);
  assert.equal(exp.rows.length, 2 * 6 * 4 * 1, "2 variants × 6 models × 4 scores × 1 OOD set");
  const um = exp.runs.find((r) => r.method === "um" && r.variant === "faithful")!;
  assert.equal(um.rows[0]!.label, "UM (faithful)");
  const est = um.result.prepared.estimate;
  assert.equal(um.result.prepared.constraint.value, est.draws[0], "faithful: the first draw");
  const clean = exp.runs.find((r) => r.method === "ce" && r.variant === "clean")!.result.prepared;
  assert.equal(clean.constraint.value, clean.estimate.mean, "clean: the mean over draws");
  assert.equal(um.result.stage!.criterion.kind, "um");
  assert.equal(exp.runs.find((r) => r.method === "ce-ft")!.result.stage!.criterion.kind, "ce", "the README command");
  assert.ok(exp.runs.find((r) => r.method === "umap")!.result.umapMask!.every((l) => l.kept < l.total));
  const claims = evaluateClaims(exp.rows, umClaims(cfg.variants));
  assert.equal(claims.length, 2 * 4 * 4, "2 variants × 4 claims × 4 shared scores");
  assert.ok(claims.every((c) => c.seeds === 1));
  assert.equal(tf.memory().numTensors, before, "every model disposed");
});

Deno.test("loadUmSets() holds training images out, sizes the auxiliary set, and squashes image-folder OOD sets", async () => {
  const root = tempDataRoot(); // the miniature data root of tests/datasets
  Deno.env.set("OOD_DATA_DIR", root);
  try {
    const sets = await loadUmSets({
      ...SMALL,
      idDataset: "cifar10",
      oodDatasets: ["sun", "svhn"],
      aux: { name: "gaussian", split: "test", limit: null },
      data: { trainLimit: 6, heldOut: 2, testLimit: null, oodLimit: null, dataSeed: 0 },
    });
    assert.deepEqual([sets.train.shape[0], sets.heldOut.shape[0]], [6, 2], "one permutation: 6 + 2 held out");
    assert.equal(sets.extra.aux!.shape[0], 6, "as many outliers as training images");
    const squashed = await loadDataset("sun", { split: "test", fit: "resize" });
    assert.deepEqual(sets.ood.sun!.images, squashed.images, "Resize((32, 32)), as data/OOD.py");
    assert.notDeepEqual(sets.ood.sun!.images, (await loadDataset("sun", { split: "test" })).images);
  } finally {
    Deno.env.delete("OOD_DATA_DIR");
    Deno.removeSync(root, { recursive: true });
  }
});
