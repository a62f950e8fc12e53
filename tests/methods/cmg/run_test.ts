import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { evaluateClaims } from "@lib/experiment/claims.ts";
import { auroc } from "@lib/metrics/auroc.ts";
import { checkCmgConfig, type CmgConfig } from "@lib/methods/cmg/config.ts";
import { rowLabel, runCmg } from "@lib/methods/cmg/run.ts";
import { cmgClaims, partitionMeanRows } from "@lib/methods/cmg/claims.ts";
import { cmgDeviations } from "@lib/methods/cmg/deviations.ts";

await initBackend({ backend: "cpu", log: null });

/** One MNIST partition, tiny networks, one step of each stage-1 model, a few stage-2 steps. */
function tinyConfig(over: Partial<CmgConfig> = {}): CmgConfig {
  return checkCmgConfig({
    settings: [{ idDataset: "mnist", partition: 2, backbone: "cmg_cnn", width: 0.05 }],
    methods: ["ce", "cmgS", "cmgE", "cmgSingle", "cmgSigma1"],
    variants: ["faithful", "clean"],
    seeds: [0],
    dataSeed: 0,
    trainLimit: 100,
    nTest: 60,
    classifier: { epochs: 1, batchSize: 64, lr: 1e-3 },
    cvae: { epochs: 1, batchSize: 64, lr: 1e-3, encoderPadding: 1, width: 0.05 },
    finetune: { epochs: 1, batchSize: 16, genPerStep: 16, lr: 1e-3, mu: 0.1, evalEvery: 2 },
    sigma: 3,
    galleryImages: 4,
    evalBatchSize: 64,
    ...over,
  });
}

Deno.test("checkCmgConfig() names the field: a partition, an encoder padding, a method", () => {
  const cfg = tinyConfig();
  assert.throws(
    () => checkCmgConfig({ ...cfg, settings: [{ ...cfg.settings[0]!, partition: 6 as 5 }] }),
    /partition/,
  );
  assert.throws(() => checkCmgConfig({ ...cfg, cvae: { ...cfg.cvae, encoderPadding: 2 as 1 } }), /encoderPadding/);
  assert.throws(() => checkCmgConfig({ ...cfg, methods: ["ce", "oe" as "ce"] }), /methods/);
});

Deno.test("rowLabel() names the run, the score and the variant", () => {
  assert.equal(rowLabel("ce", "energy", "none"), "CE + Energy");
  assert.equal(rowLabel("cmgE", "cmgE", "faithful"), "CMG-e (faithful)");
  assert.equal(rowLabel("cmgSigma1", "cmgE", "clean"), "CMG-e, σ = 1 (clean)");
});

Deno.test("runCmg() shares stage 1 across runs, reports the best and the last evaluation, and leaks nothing", async () => {
  const cfg = tinyConfig();
  const before = tf.memory().numTensors;
  const exp = await runCmg(cfg);
  assert.equal(tf.memory().numTensors, before, "no tensor left behind");
  assert.deepEqual(exp.runs.map((r) => r.method), ["ce", "cmgS", "cmgE", "cmgSingle", "cmgSigma1"]);
  const [ce, ...cmg] = exp.runs;
  // Stage 1 is the ce run's; the baselines score the K = 6 seen classes' logits.
  assert.ok(ce!.result.stage1 && ce!.result.stage1.classifierCurve.length === 1);
  assert.deepEqual(ce!.rows.map((r) => [r.score, r.variant, r.selection]), [
    ["msp", "none", "last"],
    ["energy", "none", "last"],
  ]);
  for (const r of ce!.rows) assert.ok(r.idAccuracy !== null && r.idAccuracy >= 0 && r.idAccuracy <= 1);
  const g = ce!.result.gallery!;
  for (const k of ["real", "reconstructed", "conditional", "mixedSigma1", "mixed", "unseen"] as const) {
    assert.equal(g[k].length, 4 * 784, k);
    assert.ok(g[k].every((v) => v >= 0 && v <= 1), `${k} in [0, 1]`);
  }
  const seen = exp.sets[0]!.test.shape[0], unseen = exp.sets[0]!.ood["mnist:unseen"]!.shape[0];
  for (const run of cmg) {
    const r = run.result;
    assert.deepEqual(r.curve.map((p) => p.step), Array.from({ length: r.curve.length }, (_, i) => 2 * i));
    const max = Math.max(...r.curve.map((p) => p.auroc));
    assert.equal(r.best!.auroc, max);
    assert.equal(r.best!.step, r.curve.find((p) => p.auroc === max)!.step, "the first maximum");
    assert.deepEqual(run.rows.map((x) => [x.variant, x.selection]), [["faithful", "best-test"], ["clean", "last"]]);
    const [faithful, clean] = run.rows;
    assert.ok(Math.abs(faithful!.auroc! - max) < 1e-12, "faithful = the maximum over evaluations");
    const score = run.method === "cmgS" ? "cmgS" : "cmgE";
    assert.equal(faithful!.score, score);
    const last = r.scores.clean![score]!;
    assert.ok(Math.abs(clean!.auroc! - auroc(last.id, last.ood["mnist:unseen"]!)) < 1e-12);
    assert.deepEqual([clean!.nId, clean!.nOod], [seen, unseen]);
    assert.equal(r.margins === null, run.method === "cmgS", "margins for the CMG-e runs only");
    if (r.margins) assert.ok(r.margins.mIn <= r.margins.mOut || Number.isFinite(r.margins.mIn));
  }
  assert.ok(exp.rows.every((r) => r.idDataset === "mnist:p2"));
  const claims = evaluateClaims(partitionMeanRows(exp.rows), cmgClaims(cfg));
  assert.equal(claims.length, 8);
  assert.ok(claims.every((c) => c.setting === "mnist, mean over partitions · cmg_cnn" && c.seeds === 1));
});

Deno.test("cmgDeviations() lists what this config changes from the reference and the fixed deviations", () => {
  const ids = cmgDeviations(tinyConfig()).map((d) => d.id);
  assert.deepEqual(ids, [
    "stage 1: classifier",
    "stage 1: CVAE",
    "stage 2",
    "classifier width",
    "sizes",
    "clean",
    "baselines",
    "random streams",
    "seeds",
  ]);
  const reference = tinyConfig({
    settings: [{ idDataset: "mnist", partition: 1, backbone: "cmg_cnn", width: 1 }],
    methods: ["cmgS"],
    variants: ["faithful"],
    trainLimit: null,
    nTest: null,
    classifier: { epochs: 100, batchSize: 512, lr: 1e-3 },
    cvae: { epochs: 100, batchSize: 512, lr: 1e-3, encoderPadding: 15, width: 1 },
    finetune: { epochs: 15, batchSize: 128, genPerStep: 128, lr: 1e-4, mu: 0.1, evalEvery: 20 },
  });
  assert.deepEqual(cmgDeviations(reference).map((d) => d.id), ["random streams", "seeds"]);
});
