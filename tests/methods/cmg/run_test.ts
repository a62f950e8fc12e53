import assert from "node:assert/strict";
import { join } from "node:path";
import { encode as encodePng } from "fast-png";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { evaluateClaims } from "@lib/experiment/claims.ts";
import { auroc } from "@lib/metrics/auroc.ts";
import { checkCmgConfig, cmgClasses, type CmgConfig } from "@lib/methods/cmg/config.ts";
import { releaseStage1, rowLabel, runCmg, trainStage1 } from "@lib/methods/cmg/run.ts";
import { loadEvalSets } from "@lib/experiment/eval_sets.ts";
import { cmgClaims, partitionMeanRows } from "@lib/methods/cmg/claims.ts";
import { cmgDeviations } from "@lib/methods/cmg/deviations.ts";

await initBackend({ backend: "cpu", log: null });

/** One MNIST partition, tiny networks, one step of each stage-1 model, a few stage-2 steps. */
function tinyConfig(over: Partial<CmgConfig> = {}): CmgConfig {
  return checkCmgConfig({
    settings: [{ setting: 1, idDataset: "mnist", partition: 2, backbone: "cmg_cnn", width: 0.05 }],
    methods: ["ce", "cmgS", "cmgE", "cmgSingle", "cmgSigma1"],
    variants: ["faithful", "clean"],
    seeds: [0],
    dataSeed: 0,
    trainLimit: 100,
    nTest: 60,
    oodLimit: null,
    classifier: { epochs: { mnist: 1, cifar10: 1 }, batchSize: 64, lr: 1e-3 },
    cvae: { epochs: { mnist: 1, cifar10: 1 }, batchSize: 64, lr: 1e-3, encoderPadding: 1, width: 0.05 },
    finetune: {
      epochs: 1,
      batchSize: 16,
      genPerStep: 16,
      lr: 1e-3,
      mu: 0.1,
      evalEvery: { setting1: 2, setting2: 2 },
    },
    sigma: { mnist: 3, cifar10: 5 },
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
  assert.throws(
    () => checkCmgConfig({ ...cfg, settings: [{ ...cfg.settings[0]!, idDataset: "cifar10" }] }),
    /settings\[0\]\.backbone \(for cifar10\) "cmg_cnn" is unknown\. Valid: resnet18/,
  );
  const setting2 = { setting: 2, idDataset: "cifar10", backbone: "resnet18", width: 1 } as const;
  assert.throws(
    () => checkCmgConfig({ ...cfg, settings: [{ ...setting2, oodDatasets: ["svhn", "mnist" as "svhn"] }] }),
    /settings\[0\]\.oodDatasets entry "mnist" is unknown/,
  );
  assert.throws(() => checkCmgConfig({ ...cfg, settings: [{ ...setting2, oodDatasets: [] }] }), /oodDatasets is empty/);
  assert.throws(() => checkCmgConfig({ ...cfg, sigma: { mnist: 3, cifar10: 0 } }), /sigma\.cifar10/);
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
    assert.deepEqual(g.shape, [28, 28, 1]);
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
    settings: [
      { setting: 1, idDataset: "mnist", partition: 1, backbone: "cmg_cnn", width: 1 },
      { setting: 1, idDataset: "cifar10", partition: 1, backbone: "resnet18", width: 1 },
    ],
    methods: ["cmgS"],
    variants: ["faithful"],
    trainLimit: null,
    nTest: null,
    classifier: { epochs: { mnist: 100, cifar10: 200 }, batchSize: 512, lr: 1e-3 },
    cvae: { epochs: { mnist: 100, cifar10: 200 }, batchSize: 512, lr: 1e-3, encoderPadding: 15, width: 1 },
    finetune: {
      epochs: 15,
      batchSize: 128,
      genPerStep: 128,
      lr: 1e-4,
      mu: 0.1,
      evalEvery: { setting1: 20, setting2: 100 },
    },
  });
  assert.deepEqual(cmgDeviations(reference).map((d) => d.id), ["random streams", "seeds"]);
  // Setting 2 with every image: its one-fine-tuning note (faithful); an OOD subset and CIFAR's epochs are named.
  const setting2 = tinyConfig({
    ...reference,
    settings: [{ setting: 2, idDataset: "cifar10", oodDatasets: ["svhn"], backbone: "resnet18", width: 1 }],
    oodLimit: 500,
    classifier: { ...reference.classifier, epochs: { mnist: 100, cifar10: 100 } },
  });
  const devs = cmgDeviations(setting2);
  assert.deepEqual(devs.map((d) => d.id), [
    "stage 1: classifier",
    "Setting-2 OOD sets",
    "Setting 2, faithful: one fine-tuning",
    "random streams",
    "seeds",
  ]);
  assert.match(devs[0]!.paper, /200 epochs \(cifar10\)/);
  assert.equal(devs[0]!.ours, "epochs 100 (cifar10)");
});

/**
 * A data root in the real formats: CIFAR-10 (5 training batches of 8 records, 20 test records, label i mod 10,
 * textured pixels), the SVHN and CIFAR-100 fixtures, and three LSUN-FIX PNGs.
 */
async function cifarRoot(): Promise<string> {
  const root = await Deno.makeTempDir();
  const bin = join(root, "cifar10", "cifar-10-batches-bin");
  await Deno.mkdir(bin, { recursive: true });
  const records = (n: number, offset: number) => {
    const rec = 1 + 3072, bytes = new Uint8Array(n * rec);
    for (let i = 0; i < n; i++) {
      const y = (offset + i) % 10;
      bytes[i * rec] = y;
      for (let p = 0; p < 3072; p++) bytes[i * rec + 1 + p] = (p * (y + 3) + 17 * i + 29 * offset) % 256;
    }
    return bytes;
  };
  for (let b = 1; b <= 5; b++) await Deno.writeFile(join(bin, `data_batch_${b}.bin`), records(8, 8 * b));
  await Deno.writeFile(join(bin, "test_batch.bin"), records(20, 3));
  const fixtures = new URL("../../datasets/testdata/root/", import.meta.url).pathname;
  for (const [set, file] of [["svhn", "test_32x32.mat"], ["cifar100/cifar-100-binary", "test.bin"]] as const) {
    await Deno.mkdir(join(root, set), { recursive: true });
    await Deno.copyFile(join(fixtures, set, file), join(root, set, file));
  }
  for (const f of ["fine_label_names.txt", "coarse_label_names.txt"]) {
    await Deno.copyFile(join(fixtures, "cifar100/cifar-100-binary", f), join(root, "cifar100/cifar-100-binary", f));
  }
  await Deno.mkdir(join(root, "lsun_fix", "LSUN_fix"), { recursive: true });
  for (let i = 0; i < 3; i++) {
    const data = Uint8Array.from({ length: 32 * 32 * 3 }, (_, p) => (p * (i + 1)) % 256);
    await Deno.writeFile(
      join(root, "lsun_fix", "LSUN_fix", `correct_resize_${i}.png`),
      encodePng({ width: 32, height: 32, data, channels: 3, depth: 8 }),
    );
  }
  return root;
}

Deno.test("runCmg() runs CIFAR-10 in Setting 1 (11 outputs) and Setting 2 (110, a maximum per OOD set)", async () => {
  const root = await cifarRoot();
  const prev = Deno.env.get("OOD_DATA_DIR");
  Deno.env.set("OOD_DATA_DIR", root);
  try {
    const cfg = tinyConfig({
      settings: [
        { setting: 1, idDataset: "cifar10", partition: 1, backbone: "resnet18", width: 1 / 32 },
        {
          setting: 2,
          idDataset: "cifar10",
          oodDatasets: ["svhn", "cifar100", "lsun_fix"],
          backbone: "resnet18",
          width: 1 / 32,
        },
      ],
      methods: ["ce", "cmgS", "cmgE"],
      trainLimit: null,
      nTest: null,
      cvae: { epochs: { mnist: 1, cifar10: 1 }, batchSize: 16, lr: 1e-3, encoderPadding: 1, width: 1 / 64 },
      finetune: { epochs: 1, batchSize: 8, genPerStep: 8, lr: 1e-3, mu: 0.1, evalEvery: { setting1: 2, setting2: 3 } },
      galleryImages: 3,
    });
    const before = tf.memory().numTensors;
    const exp = await runCmg(cfg);
    assert.equal(tf.memory().numTensors, before, "no tensor left behind");
    const [s1, s2] = exp.sets;
    // Setting 1: the 6 seen classes of partition 1 (labels 0..5) against the 4 unseen ones.
    assert.deepEqual(Object.keys(s1!.ood), ["cifar10:unseen"]);
    assert.ok(s1!.train.labels.every((y) => y >= 0 && y < 6));
    assert.deepEqual(Object.keys(s2!.ood), ["svhn", "cifar100", "lsun_fix"]);
    assert.equal(s2!.test.shape[0], 20, "all of CIFAR-10's test images are ID in Setting 2");
    const g = exp.runs[0]!.result.gallery!;
    assert.deepEqual([g.shape, g.unseenName, g.real.length, g.sigma], [[32, 32, 3], "cifar10:unseen", 3 * 3072, 5]);
    assert.ok(g.mixed.every((v) => v >= 0 && v <= 1));
    const setting2 = exp.runs.filter((r) => r.setting.setting === 2);
    assert.ok(setting2.every((r) => r.rows.every((x) => x.idDataset === "cifar10")));
    assert.ok(exp.runs.filter((r) => r.setting.setting === 1).every((r) => r.rows[0]!.idDataset === "cifar10:p1"));
    for (const run of setting2.filter((r) => r.method !== "ce")) {
      const r = run.result, score = run.method === "cmgS" ? "cmgS" : "cmgE";
      // 40 images in batches of 8 → 5 steps: evaluations after steps 0 and 3 (every 3 in Setting 2), and the last.
      assert.deepEqual(r.curve.map((p) => p.step), [0, 3]);
      const faithful = run.rows.filter((x) => x.variant === "faithful");
      assert.deepEqual(faithful.map((x) => x.oodDataset), ["svhn", "cifar100", "lsun_fix"]);
      for (const row of faithful) {
        const kept = r.scores.faithful![`${score} · ${row.oodDataset}`]!;
        assert.ok(Math.abs(row.auroc! - auroc(kept.id, kept.ood[row.oodDataset]!)) < 1e-12);
        assert.equal(row.nId, 20);
      }
      const clean = run.rows.filter((x) => x.variant === "clean");
      assert.deepEqual(clean.map((x) => x.oodDataset), ["svhn", "cifar100", "lsun_fix"]);
      assert.deepEqual(Object.keys(r.scores.clean![score]!.ood), ["svhn", "cifar100", "lsun_fix"]);
    }
    // The stage-1 baselines: one row per score and OOD set, with the accuracy over the K = 10 seen logits.
    const ce2 = setting2.find((r) => r.method === "ce")!;
    assert.deepEqual(ce2.rows.map((x) => `${x.score}/${x.oodDataset}`), [
      "msp/svhn",
      "msp/cifar100",
      "msp/lsun_fix",
      "energy/svhn",
      "energy/cifar100",
      "energy/lsun_fix",
    ]);
    assert.ok(ce2.rows.every((x) => x.idAccuracy !== null && x.idAccuracy >= 0 && x.idAccuracy <= 1));
  } finally {
    if (prev === undefined) Deno.env.delete("OOD_DATA_DIR");
    else Deno.env.set("OOD_DATA_DIR", prev);
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("cmgClasses() gives Setting 1 six seen classes of 11 outputs and Setting 2 ten of 110", () => {
  assert.deepEqual(cmgClasses({ setting: 1 }), { K: 6, nOut: 11 });
  assert.deepEqual(cmgClasses({ setting: 2 }), { K: 10, nOut: 110 });
});

Deno.test("trainStage1() is a function of the seed (dropout masks and ε included) and puts Math.random back", async () => {
  const cfg = tinyConfig();
  const sets = await loadEvalSets({
    id: "mnist",
    dataSeed: 0,
    trainLimit: 100,
    testLimit: 20,
    classSplit: { protocol: "cmg", fold: 2 },
  });
  const cell = { setting: cfg.settings[0]!, settingIndex: 0, seed: 3, variant: "none" as const };
  const random = Math.random;
  const weightsOf = async () => {
    const s1 = await trainStage1(cfg, cell, sets);
    assert.equal(Math.random, random, "Math.random is the platform's again");
    const w = await Promise.all([...s1.weights, ...s1.cvae.model.getWeights()].map((t) => t.data()));
    const curves = JSON.stringify([s1.classifierCurve, s1.cvaeCurve]);
    releaseStage1(s1);
    return { w, curves };
  };
  const a = await weightsOf(), b = await weightsOf();
  assert.equal(a.curves, b.curves);
  assert.deepEqual(a.w, b.w);
});
