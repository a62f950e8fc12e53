import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { elocHoldout, elocSplit } from "@lib/datasets/splits.ts";
import { odinMetrics } from "@lib/metrics/odin.ts";
import { evaluateClaims } from "@lib/experiment/claims.ts";
import { checkElocConfig, type ElocConfig, epsilonOf } from "@lib/methods/eloc/config.ts";
import { ELOC_TRAIN } from "@lib/methods/eloc/train.ts";
import { rowLabel, runEloc, variantSets } from "@lib/methods/eloc/run.ts";
import { elocClaims } from "@lib/methods/eloc/claims.ts";
import { toySets } from "../../experiment/_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

/** Fashion-MNIST, a tiny LeNet, 1 epoch of batches of 20 ID + 20 left-out images. */
function tinyConfig(over: Partial<ElocConfig> = {}): ElocConfig {
  return checkElocConfig({
    settings: [{ idDataset: "fashion_mnist", backbone: "lenet", width: 0.1, epsilon: 0.002 }],
    methods: ["eloc", "elocCe", "ce"],
    variants: ["faithful", "clean"],
    seeds: [0],
    dataSeed: 0,
    oodDatasets: ["mnist", "uniform"],
    validationOod: "pixel_permuted",
    trainLimit: 150,
    heldOut: 20,
    nTest: 40,
    nOod: 30,
    nValidation: 10,
    train: { ...ELOC_TRAIN, epochs: 1, lr: 0.01, milestones: [], batchSize: 20, oodBatchSize: 20, augment: [] },
    temperature: 1000,
    perturbations: ["ce", "entropy"],
    scoreAblations: { singleMember: true, noPerturbation: true },
    epsilonSweep: [0, 0.01],
    evalBatchSize: 32,
    runDir: null,
    ...over,
  });
}

Deno.test("checkElocConfig() names the field: a validation set that is a test set, too few test or held-out images", () => {
  const cfg = tinyConfig();
  assert.throws(() => checkElocConfig({ ...cfg, validationOod: "mnist" }), /validationOod "mnist" is also a test/);
  assert.throws(() => checkElocConfig({ ...cfg, nTest: 10 }), /nTest/);
  assert.throws(() => checkElocConfig({ ...cfg, heldOut: 5 }), /heldOut/);
  assert.throws(() => checkElocConfig({ ...cfg, methods: ["eloc", "oe" as "ce"] }), /methods/);
  assert.throws(
    () => checkElocConfig({ ...cfg, settings: [{ ...cfg.settings[0]!, backbone: "resnet18" as "lenet" }] }),
    /backbone/,
  );
  assert.throws(() => checkElocConfig({ ...cfg, perturbations: ["sign" as "ce"] }), /perturbations/);
});

Deno.test("epsilonOf() takes the README table's per-OOD value, else the setting's ε", () => {
  const s = { epsilon: 0.002, epsilonByOod: { lsun_crop: 0.003 } };
  assert.equal(epsilonOf(s, "lsun_crop"), 0.003);
  assert.equal(epsilonOf(s, "tin_crop"), 0.002);
});

Deno.test("variantSets(): faithful validates on the seed-3 test positions and drops them from ID and OOD; clean on held-out images", () => {
  const sets = toySets();
  const validation = sets.test; // any non-empty set: only its identity matters here
  sets.extra.validation = validation;
  const cfg = { nValidation: 5 } as ElocConfig;
  const vs = variantSets(cfg, sets);
  const n = sets.test.shape[0];
  const { val, test } = elocHoldout(n);
  const order = [...val, ...test];
  const dropped = new Set(order.slice(0, 5));
  assert.equal(vs.faithful.selector.id.shape[0], 5);
  assert.deepEqual([...vs.faithful.selector.id.labels], order.slice(0, 5).map((i) => sets.test.labels[i]!));
  assert.equal(vs.faithful.test.shape[0], n - 5);
  const keptLabels = [...Array(n).keys()].filter((i) => !dropped.has(i)).map((i) => sets.test.labels[i]!);
  assert.deepEqual([...vs.faithful.test.labels], keptLabels, "the other test images, in their order");
  for (const [name, ds] of Object.entries(sets.ood)) {
    const m = ds.shape[0];
    const expected = [...Array(m).keys()].filter((i) => !dropped.has(i)).length;
    assert.equal(vs.faithful.ood[name]!.shape[0], expected, `${name}: the same positions dropped`);
    assert.equal(vs.clean.ood[name], ds, `${name}: clean scores the whole set`);
  }
  assert.equal(vs.faithful.selection, "best-test");
  assert.equal(vs.clean.selection, "best-val");
  assert.equal(vs.clean.test, sets.test);
  assert.equal(vs.clean.selector.id.shape[0], Math.min(5, sets.heldOut.shape[0]));
  assert.equal(vs.faithful.selector.ood, validation);
});

Deno.test("rowLabel() names the training, the score and the variant", () => {
  assert.equal(rowLabel("eloc", "eloc", "faithful"), "ELOC (faithful)");
  assert.equal(rowLabel("elocCe", "eloc", "clean"), "ELOC w/o margin-entropy (clean)");
  assert.equal(rowLabel("eloc", "elocSingle", "clean"), "ELOC one leave-out classifier (clean)");
  assert.equal(rowLabel("ce", "odin", "faithful"), "CE + ODIN (faithful)");
});

Deno.test("runEloc() trains five leave-out classifiers per ensemble and one CE classifier, rows per variant, score, OOD set and FPR rule, no leak", async () => {
  const cfg = tinyConfig();
  const before = tf.memory().numTensors;
  const exp = await runEloc(cfg);
  assert.equal(tf.memory().numTensors, before, "no tensor left behind");
  assert.deepEqual(exp.runs.map((r) => r.method), ["eloc", "elocCe", "ce"]);
  const [eloc, elocCe, ce] = exp.runs.map((r) => r.result);
  for (const r of [eloc!, elocCe!]) {
    assert.deepEqual(r.folds.map((f) => f.fold), [1, 2, 3, 4, 5]);
    r.folds.forEach((f) => {
      assert.deepEqual(f.leftOut, elocSplit(f.fold, 10).unseen);
      assert.equal(f.curve.length, 1);
      assert.deepEqual(Object.keys(f.selected).sort(), ["clean", "faithful"]);
    });
  }
  assert.deepEqual(ce!.folds.map((f) => [f.fold, f.leftOut.length]), [[0, 0]]);
  assert.ok(Number.isNaN(ce!.folds[0]!.curve[0]!.entropyOod), "CE has no left-out batch");
  assert.ok(Number.isFinite(eloc!.folds[0]!.curve[0]!.entropyOod));

  const scoresOf = (
    method: string,
    variant: string,
  ) => [...new Set(exp.rows.filter((r) => r.method === method && r.variant === variant).map((r) => r.score))];
  for (const v of ["faithful", "clean"]) {
    assert.deepEqual(scoresOf("eloc", v), ["eloc", "elocEntropy", "elocSingle", "elocNoPerturbation"]);
    assert.deepEqual(scoresOf("elocCe", v), ["eloc"]);
    assert.deepEqual(scoresOf("ce", v), ["msp", "odin"]);
  }
  // (4 + 1 + 2) scores × 2 variants × 2 OOD sets × 2 FPR rules.
  assert.equal(exp.rows.length, 7 * 2 * 2 * 2);
  const dropped = new Set(elocHoldout(40).val.slice(0, 10));
  const kept = (m: number) => [...Array(m).keys()].filter((i) => !dropped.has(i)).length;
  for (const r of exp.rows) {
    assert.equal(r.selection, r.variant === "faithful" ? "best-test" : "best-val");
    assert.equal(r.nId, r.variant === "faithful" ? 30 : 40);
    assert.equal(r.nOod, r.variant === "faithful" ? kept(30) : 30);
    const run = exp.runs.find((x) => x.method === r.method)!.result;
    assert.equal(r.idAccuracy, run.idAccuracy[r.variant]);
    assert.ok(r.idAccuracy! >= 0 && r.idAccuracy! <= 1);
  }
  assert.deepEqual([...new Set(exp.rows.map((r) => r.fprRule))], ["odin", "sklearn"]);

  // The suite is calMetric.py's numbers on the same scores; its FPR95 is the odin-rule rows' FPR95.
  assert.equal(eloc!.suite.length, 4 * 2 * 2);
  for (const s of eloc!.suite) {
    const sets = eloc!.scores[s.variant]![s.score]!;
    assert.deepEqual({ ...s }, {
      variant: s.variant,
      score: s.score,
      oodDataset: s.oodDataset,
      ...odinMetrics(sets.id, sets.ood[s.oodDataset]!),
    });
    const row = exp.rows.find((r) =>
      r.method === "eloc" && r.variant === s.variant && r.score === s.score && r.oodDataset === s.oodDataset &&
      r.fprRule === "odin"
    )!;
    if (row.fpr95 === null) assert.ok(Number.isNaN(s.fpr95), "null in the row: no threshold in the window");
    else assert.ok(Math.abs(row.fpr95 - s.fpr95) < 1e-12);
  }
  // The ensemble score sums five members' max p − H(p): each is in [1/C − log C, 1] with C = 10.
  const s = eloc!.scores.clean!.eloc!.id;
  for (const v of s) assert.ok(v >= 5 * (0.1 - Math.log(10)) - 1e-4 && v <= 5 + 1e-4, `${v}`);

  assert.deepEqual(eloc!.sweep.map((p) => p.epsilon), [0, 0.01], "the sweep runs on the first seed's ensemble");
  assert.deepEqual(Object.keys(eloc!.sweep[0]!.sets.ood), ["mnist", "uniform"]);
  assert.deepEqual(elocCe!.sweep, []);
  // ε = 0 in the sweep is the unperturbed ensemble score of the sweep's variant (faithful, the first).
  const zero = eloc!.sweep[0]!.sets.id;
  const noPert = eloc!.scores.faithful!.elocNoPerturbation!.id;
  assert.deepEqual([...zero], [...noPert]);

  const claims = evaluateClaims(exp.rows, elocClaims(cfg));
  assert.ok(claims.length > 0);
  assert.ok(claims.every((c) => c.seeds === 1));
});
