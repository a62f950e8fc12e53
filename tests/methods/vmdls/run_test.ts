import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { AUGMENTATIONS } from "@lib/data/augment.ts";
import { checkVmdlsConfig, type VmdlsConfig } from "@lib/methods/vmdls/config.ts";
import { VMDLS_MNIST_TRAIN } from "@lib/methods/vmdls/train.ts";
import { detectorsFor, rowLabel, runVmdls, splitKey } from "@lib/methods/vmdls/run.ts";
import { mnistAutoencoder } from "@lib/methods/vmdls/autoencoder.ts";

await initBackend({ backend: "cpu", log: null });

/** Two tiny MNIST settings (all classes; digits 0–3 known), 1 epoch of 2 × (classes × 4) batches. */
function tinyConfig(over: Partial<VmdlsConfig> = {}): VmdlsConfig {
  const mnist = {
    idDataset: "mnist",
    backbone: "mnist_conv",
    width: 0.05,
    latentDim: 4,
    reconstruction: true,
  } as const;
  return checkVmdlsConfig({
    settings: [
      { ...mnist, classNum: null },
      { ...mnist, classNum: 4, methods: ["vmdls", "ce"], train: { classesPerBatch: 4 } },
    ],
    methods: ["vmdls", "noDistancing", "noKl", "ce"],
    variants: ["faithful", "clean"],
    seeds: [0],
    dataSeed: 0,
    oodDatasets: ["noisy", "uniform"],
    optionalOodDatasets: [],
    trainLimit: 120,
    heldOut: 40,
    nTest: 60,
    nOod: 30,
    train: { ...VMDLS_MNIST_TRAIN, epochs: 1, lr: 1e-3, samplesPerClass: 4, augment: AUGMENTATIONS.mnistRotateCrop },
    scoreAblations: { noReconstruction: true, latentOnly: true },
    autoencoder: { width: 0.05, latentDim: 4, epochs: 1, batchSize: 64, lr: 1e-3 },
    evalBatchSize: 64,
    runDir: null,
    ...over,
  });
}

Deno.test("detectorsFor(): VMDLS trainings get the variant's normalisation and the ablation scores, CE its baselines", () => {
  const ae = mnistAutoencoder({ width: 0.05, latentDim: 4 });
  try {
    const ablations = { scoreAblations: { noReconstruction: true, latentOnly: true } };
    const faithful = detectorsFor("vmdls", "faithful", ablations, ae);
    assert.deepEqual(faithful.map((s) => s.as), ["vmdls/faithful", "vmdlsNoRecon/faithful", "vmdlsLatent/faithful"]);
    const opts = faithful.map((s) => s.opts as Record<string, unknown>);
    assert.deepEqual(opts.map((o) => o.normalizeOn), ["test", "test", "test"]);
    assert.deepEqual(opts.map((o) => o.reconstruction === null), [false, true, false]);
    assert.deepEqual(opts[2]!.members, [-1], "latent-only: μ, the last featureList member");
    const clean = detectorsFor("vmdls", "clean", ablations, null);
    assert.deepEqual(clean.map((s) => s.as), ["vmdls/clean", "vmdlsLatent/clean"], "no auto-encoder: no r ablation");
    assert.equal((clean[0]!.opts as Record<string, unknown>).normalizeOn, "heldOut");
    assert.deepEqual(detectorsFor("noKl", "clean", ablations, ae).map((s) => s.as), ["vmdls/clean"]);
    assert.deepEqual(detectorsFor("ce", "faithful", ablations, ae).map((s) => s.use), [
      "msp",
      "mahalanobisEnsemble",
      "vmdls",
    ]);
    assert.deepEqual(splitKey("vmdlsLatent/clean"), { score: "vmdlsLatent", variant: "clean" });
    assert.equal(rowLabel("vmdls", "vmdlsNoRecon", "clean"), "VMDLS w/o reconstruction (clean)");
    assert.equal(rowLabel("ce", "vmdls", "none"), "CE + VMDLS Gaussians");
    assert.equal(rowLabel("noKl", "vmdls", "faithful"), "VMDLS w/o KL (faithful)");
  } finally {
    ae.model.dispose();
  }
});

Deno.test("checkVmdlsConfig() names the field: a split's batch classes, an unknown method, reconstruction without an AE", () => {
  const cfg = tinyConfig();
  assert.throws(() => checkVmdlsConfig({ ...cfg, settings: [{ ...cfg.settings[1]!, train: {} }] }), /classesPerBatch/);
  assert.throws(() => checkVmdlsConfig({ ...cfg, methods: ["vmdls", "oe" as "ce"] }), /methods/);
  assert.throws(
    () => checkVmdlsConfig({ ...cfg, settings: [{ ...cfg.settings[0]!, idDataset: "cifar10" }] }),
    /reconstruction: only the MNIST auto-encoder/,
  );
});

Deno.test("runVmdls(): every setting × training, rows per scoring variant, thresholds from the variant's data, no leak", async () => {
  const cfg = tinyConfig();
  const before = tf.memory().numTensors;
  const exp = await runVmdls(cfg);
  assert.equal(tf.memory().numTensors, before, "runVmdls keeps no tensor");
  assert.deepEqual(exp.runs.map((r) => `${r.settingIndex}/${r.method}`), [
    "0/vmdls",
    "0/noDistancing",
    "0/noKl",
    "0/ce",
    "1/vmdls",
    "1/ce",
  ]);
  assert.equal(exp.autoencoders.filter((a) => a !== null).length, 2, "one auto-encoder per setting");
  const keys = new Set(exp.rows.map((r) => `${r.idDataset}|${r.method}|${r.variant}|${r.score}`));
  for (const v of ["faithful", "clean"]) {
    for (const s of ["vmdls", "vmdlsNoRecon", "vmdlsLatent"]) assert.ok(keys.has(`mnist|vmdls|${v}|${s}`), `${v} ${s}`);
    assert.ok(keys.has(`mnist|noKl|${v}|vmdls`));
    assert.ok(!keys.has(`mnist|noKl|${v}|vmdlsLatent`), "ablated trainings are scored with the main score only");
  }
  for (const s of ["msp", "mahalanobisEnsemble", "vmdls"]) assert.ok(keys.has(`mnist|ce|none|${s}`), `CE ${s}`);
  const split = exp.rows.filter((r) => r.idDataset === "mnist:0-3");
  assert.deepEqual([...new Set(split.map((r) => r.oodDataset))].sort(), ["mnist:unseen", "noisy", "uniform"]);
  assert.equal(split.find((r) => r.oodDataset === "mnist:unseen")!.oodGroup, "near");
  for (const r of exp.rows) {
    assert.equal(r.paper, "vmdls");
    assert.equal(r.selection, "last");
    for (const m of ["auroc", "fpr95", "macroF1", "openSetAccuracy", "idAccuracy"] as const) {
      assert.ok(Number.isFinite(r[m]) && r[m]! >= 0 && r[m]! <= 1, `${r.label} ${r.oodDataset} ${m} = ${r[m]}`);
    }
  }
  const vm = exp.runs[0]!.result;
  assert.ok(vm.reference.length > 0 && vm.reference.every((x) => x.variant === "faithful"));
  assert.deepEqual(Object.keys(vm.scores.vmdls!).sort(), ["clean", "faithful"]);
  assert.equal(vm.scores.vmdls!.clean!.heldOut!.length, 40, "held-out images scored for the clean threshold");
  assert.ok(vm.scores.vmdls!.faithful!.id.every((s) => s < 0), "faithful: M over the ID test set makes ID scores < 0");
  assert.equal(vm.embedding.dim, 4, "μ for the latent picture");
  assert.equal(exp.runs[3]!.result.reference.length, 0, "no reference metrics for CE");
  // The faithful macro-F1 is the best of the reference's grid on the test set: never below the clean one's oracle value.
  const f1 = (v: string) =>
    exp.rows.find((r) => r.method === "vmdls" && r.score === "vmdls" && r.variant === v && r.oodDataset === "uniform")!;
  const ref = vm.reference.find((x) => x.score === "vmdls" && x.oodDataset === "uniform")!;
  assert.ok(Math.abs(f1("faithful").macroF1! - ref.bestMacroF1) < 1e-12, "faithful row = the reference's logged F1");
});
