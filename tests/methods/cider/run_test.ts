import assert from "node:assert/strict";
import { initBackend, tf } from "@lib/tf.ts";
import { createBackbone } from "@lib/backbones/mod.ts";
import { seedEverything } from "@lib/train/seed.ts";
import { ciderNet } from "@lib/methods/cider/network.ts";
import { objectiveOf, runMethod } from "@lib/methods/cider/run.ts";
import { trainMethod } from "@lib/methods/cider/train.ts";
import { barData, tinyConfig } from "./_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

Deno.test("ciderNet() gives unit-norm embeddings of the head's output size and keeps the backbone's outputs", () => {
  seedEverything(0);
  const net = ciderNet(createBackbone("resnet18", { numClasses: 3, inputShape: [8, 8, 1], width: 0.0625 }), { out: 8 });
  const before = tf.memory().numTensors;
  const norms = tf.tidy(() => tf.norm(net.embed(tf.randomNormal([4, 8, 8, 1])), "euclidean", 1));
  assert.deepEqual(norms.shape, [4]);
  for (const v of norms.dataSync()) assert.ok(Math.abs(v - 1) < 1e-5, `‖z‖ = ${v}`);
  norms.dispose();
  assert.equal(tf.memory().numTensors, before, "embed leaks no tensor");
  assert.deepEqual(net.model.outputs.map((o) => o.shape), [[null, 3], [null, 8]]);
  assert.ok(net.model.layers.some((l) => l.name === "proj_hidden" && (l.getWeights()[0]!.shape[1] === 32)));
  net.model.dispose();
});

Deno.test("trainMethod() never updates the classifier head for CIDER, and the faithful warm-up goes negative", async () => {
  const data = barData(), cfg = tinyConfig();
  for (const method of ["cider-faithful", "cider-clean"] as const) {
    seedEverything(0);
    const backbone = createBackbone("resnet18", {
      numClasses: 3,
      inputShape: [8, 8, 1],
      width: 0.0625,
      normalization: data.normalization,
    });
    const net = ciderNet(backbone, { out: 8 });
    const head = () => backbone.model.getLayer("head").getWeights().map((w) => Array.from(w.dataSync()));
    const before = head();
    const out = await trainMethod(net, data.train, objectiveOf(method, cfg, cfg.settings[0]!), {
      recipe: cfg.train,
      lr: 0.05,
      augment: cfg.augment,
      seed: 0,
      evalBatchSize: 16,
    });
    assert.deepEqual(head(), before, `${method}: fc unchanged`);
    assert.equal(out.steps, 4, "2 epochs × 2 batches");
    const firstEpoch = out.history.filter((p) => p.epoch <= 1).map((p) => p.lr);
    if (method === "cider-faithful") assert.ok(firstEpoch.some((lr) => lr < 0), `negative rates: ${firstEpoch}`);
    else assert.ok(out.history.every((p) => p.lr > 0), "the fixed warm-up stays positive");
    assert.ok(out.history.every((p) => Number.isFinite(p.compactness) && Number.isFinite(p.dispersion)));
    assert.notDeepEqual(Array.from(out.prototypes!.values), Array.from(out.initialPrototypes!.values));
    net.model.dispose();
  }
});

Deno.test("runMethod() trains and evaluates every method end to end and leaks no tensor", async () => {
  const data = barData(), cfg = tinyConfig();
  const before = tf.memory().numTensors;
  for (const method of cfg.methods) {
    const run = await runMethod(cfg, cfg.settings[0]!, data, method, 0);
    const scores = method === "ce" ? ["msp", "energy", "knn", "mahalanobis"] : ["knn", "mahalanobis"];
    assert.deepEqual(Object.keys(run.eval.scores), scores);
    assert.equal(run.eval.rows.length, scores.length, "one row per score and OOD set");
    for (const [rows, rule] of [[run.eval.rows, "hendrycks"], [run.eval.rowsOurs, "sklearn"]] as const) {
      for (const r of rows) {
        assert.equal(r.fprRule, rule);
        assert.equal(r.paper, "cider");
        assert.equal(r.backbone, "resnet18 (width 0.0625)");
        for (const m of [r.fpr95, r.auroc, r.auprIn, r.idAccuracy]) assert.ok(m !== null && m >= 0 && m <= 1);
      }
    }
    assert.equal(run.eval.fcAccuracy === null, method !== "ce");
    assert.ok(Number.isFinite(run.eval.embedding.dispersion) && Number.isFinite(run.eval.embedding.compactness));
  }
  assert.equal(tf.memory().numTensors, before, "every tensor of the runs was freed");
});

Deno.test("trainMethod() with a runDir checkpoints CIDER's prototypes with the weights and resumes from them", async () => {
  const data = barData(), cfg = tinyConfig();
  const runDir = await Deno.makeTempDir({ prefix: "cider-ckpt-" });
  const train = async () => {
    seedEverything(0);
    const backbone = createBackbone("resnet18", {
      numClasses: 3,
      inputShape: [8, 8, 1],
      width: 0.0625,
      normalization: data.normalization,
    });
    const net = ciderNet(backbone, { out: 8 });
    const out = await trainMethod(net, data.train, objectiveOf("cider-clean", cfg, cfg.settings[0]!), {
      recipe: { ...cfg.train, epochs: 1 },
      lr: 0.05,
      augment: cfg.augment,
      seed: 0,
      evalBatchSize: 16,
      runDir,
    });
    const weights = net.model.getWeights().map((w) => Array.from(w.dataSync()));
    net.model.dispose();
    return { out, weights };
  };
  const first = await train();
  const resumed = await train();
  assert.equal(resumed.out.history.length, 0, "nothing left to train");
  assert.equal(resumed.out.steps, first.out.steps);
  assert.deepEqual(Array.from(resumed.out.prototypes!.values), Array.from(first.out.prototypes!.values));
  assert.deepEqual(resumed.weights, first.weights);
  await Deno.remove(runDir, { recursive: true });
});
