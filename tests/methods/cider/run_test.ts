import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { createBackbone } from "@lib/backbones/mod.ts";
import { seedEverything } from "@lib/train/seed.ts";
import { ciderNet } from "@lib/methods/cider/network.ts";
import { detectorsFor, objectiveOf, runMethod } from "@lib/methods/cider/run.ts";
import { trainMethod } from "@lib/methods/cider/train.ts";
import type { CiderMethod, CiderVariant } from "@lib/methods/cider/config.ts";
import { gridPlan } from "@lib/experiment/grid.ts";
import { BAR_NORMALIZATION, barSets, tinyConfig } from "./_fixtures.ts";
import { assertClose } from "./_helpers.ts";

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

/** Trains one method on the bar images (2 epochs × 2 batches, lr 0.05, 1-epoch warm-up from 0.001). */
async function trainBars(method: CiderMethod, variant: CiderVariant, runDir?: string, epochs = 2) {
  const sets = barSets(), cfg = tinyConfig();
  seedEverything(0);
  const backbone = createBackbone("resnet18", {
    numClasses: 3,
    inputShape: [8, 8, 1],
    width: 0.0625,
    normalization: BAR_NORMALIZATION,
  });
  const net = ciderNet(backbone, { out: 8 });
  const head = () => backbone.model.getLayer("head").getWeights().map((w) => Array.from(w.dataSync()));
  const headBefore = head();
  const out = await trainMethod(net, sets.train, objectiveOf(method, cfg, cfg.settings[0]!), {
    recipe: { ...cfg.train, epochs },
    lr: 0.05,
    variant,
    augment: cfg.augment,
    seed: 0,
    evalBatchSize: 16,
    ...(runDir ? { runDir } : {}),
  });
  const weights = net.model.getWeights().map((w) => Array.from(w.dataSync()));
  const headAfter = head();
  net.model.dispose();
  return { out, weights, headBefore, headAfter };
}

Deno.test("trainMethod() warm-up per variant: SupCon and CIDER share the reference's negative first epoch when faithful (hand-computed rates)", async () => {
  // ciderLr with η₀ = 0.05, E = 2, W = 1, η_from = 0.001, T = 2 batches: η_min = 5e-5,
  // η_to = η_min + (η₀ − η_min)(1 + cos(π/2))/2 = 0.025025, η = 0.001 + p·0.024025.
  // faithful (e ≤ W, p = (b + (e − 1)T)/(WT)): p = −1, −0.5, 0, 0.5 → −0.023025, −0.0110125, 0.001, 0.0130125
  // clean (e < W, p = (b + eT)/(WT)): p = 0, 0.5, then the cosine at e = 1: 0.001, 0.0130125, 0.025025, 0.025025
  const faithful = [-0.023025, -0.0110125, 0.001, 0.0130125], clean = [0.001, 0.0130125, 0.025025, 0.025025];
  for (const method of ["supcon", "cider"] as const) {
    for (const [variant, expected] of [["faithful", faithful], ["clean", clean]] as const) {
      const { out, headBefore, headAfter } = await trainBars(method, variant);
      assert.equal(out.steps, 4, "2 epochs × 2 batches");
      assertClose(out.history.map((p) => p.lr), expected, 1e-9, `${method} ${variant}`);
      assert.deepEqual(headAfter, headBefore, `${method}: fc unchanged`);
      if (method === "cider") {
        assert.ok(out.history.every((p) => Number.isFinite(p.compactness) && Number.isFinite(p.dispersion)));
        assert.notDeepEqual(Array.from(out.prototypes!.values), Array.from(out.initialPrototypes!.values));
      }
    }
  }
  // CE is not trained by CIDER's script: the clean ramp whatever the variant says.
  assertClose((await trainBars("ce", "faithful")).out.history.map((p) => p.lr), clean, 1e-9, "ce");
});

Deno.test("detectorsFor(): CE adds MSP and Energy; faithful runs get CIDER's Mahalanobis, clean and CE the tied one", () => {
  const cfg = tinyConfig(), s = cfg.settings[0]!;
  const uses = (m: CiderMethod, v: "faithful" | "clean" | "none") => detectorsFor(m, v, cfg, s).map((d) => d.use);
  assert.deepEqual(uses("ce", "none"), ["msp", "energy", "knn", "mahalanobis"]);
  assert.deepEqual(uses("supcon", "faithful"), ["knn", "ciderMahalanobis"]);
  assert.deepEqual(uses("cider", "clean"), ["knn", "mahalanobis"]);
  assert.deepEqual(detectorsFor("cider", "clean", cfg, s)[1], {
    use: "mahalanobis",
    opts: { normalize: true, shrinkage: 0.1 },
  });
  assert.deepEqual(detectorsFor("cider", "faithful", cfg, s)[0], { use: "knn", opts: { k: 3 } });
  assert.deepEqual(uses("cider", "faithful").length, 2);
  assert.deepEqual(
    detectorsFor("cider", "faithful", { mahalanobis: { enabled: false, shrinkage: 0 } }, s).map((d) => d.use),
    ["knn"],
  );
});

Deno.test("runMethod() trains and scores every grid cell end to end, both FPR rules per row, and leaks no tensor", async () => {
  const sets = barSets(), cfg = tinyConfig();
  const before = tf.memory().numTensors;
  const setting = cfg.settings[0]!;
  for (const { variant, methods } of gridPlan(cfg.variants, cfg.methods, ["ce"])) {
    for (const method of methods) {
      const v = method === "ce" ? "none" : variant;
      const { rows, result } = await runMethod(cfg, { setting, settingIndex: 0, seed: 0, variant: v, method }, sets);
      const scores = detectorsFor(method, v, cfg, setting).map((d) => d.use);
      assert.deepEqual(Object.keys(result.scores), scores);
      assert.equal(rows.length, scores.length * 2, "one row per score, OOD set and FPR rule");
      assert.deepEqual([...new Set(rows.map((r) => r.fprRule))], ["hendrycks", "sklearn"]);
      for (const r of rows) {
        assert.deepEqual([r.paper, r.method, r.variant, r.backbone, r.width], ["cider", method, v, "resnet18", 0.0625]);
        for (const m of [r.fpr95, r.auroc, r.auprIn, r.idAccuracy, r.macroF1]) {
          assert.ok(m !== null && m >= 0 && m <= 1);
        }
      }
      assert.equal(rows[0]!.label, { ce: "CE", supcon: `SupCon (${v})`, cider: `CIDER (${v})` }[method]);
      assert.equal(result.fcAccuracy === null, method !== "ce");
      assert.ok(Number.isFinite(result.embedding.dispersion) && Number.isFinite(result.embedding.compactness));
    }
  }
  assert.equal(tf.memory().numTensors, before, "every tensor of the runs was freed");
});

Deno.test("trainMethod() with a runDir checkpoints CIDER's prototypes with the weights and resumes from them", async () => {
  const runDir = await Deno.makeTempDir({ prefix: "cider-ckpt-" });
  const first = await trainBars("cider", "clean", runDir, 1);
  const resumed = await trainBars("cider", "clean", runDir, 1);
  assert.equal(resumed.out.history.length, 0, "nothing left to train");
  assert.equal(resumed.out.steps, first.out.steps);
  assert.deepEqual(Array.from(resumed.out.prototypes!.values), Array.from(first.out.prototypes!.values));
  assert.deepEqual(resumed.weights, first.weights);
  await Deno.remove(runDir, { recursive: true });
});
