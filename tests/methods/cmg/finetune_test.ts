import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { type Backbone, createBackbone } from "@lib/backbones/mod.ts";
import type { Dataset } from "@lib/datasets/types.ts";
import { Rng } from "@lib/data/rng.ts";
import { batchToTensor } from "@lib/data/tensors.ts";
import { Adam, datasetSource } from "@lib/train/mod.ts";
import { seedEverything } from "@lib/train/seed.ts";
import { createCmgCvae } from "@lib/methods/cmg/cvae.ts";
import { generateClassMixed } from "@lib/methods/cmg/generate.ts";
import { energyOf, percentileMargins } from "@lib/methods/cmg/losses.ts";
import { cmgEScore, cmgSScore } from "@lib/methods/cmg/scores.ts";
import { cmgClassifierLoss } from "@lib/methods/cmg/classifier.ts";
import {
  CMG_FINETUNE,
  cmgHeadVariables,
  cmgMargins,
  fineTuneCmg,
  type FineTuneCmgOptions,
  scoreCmg,
} from "@lib/methods/cmg/finetune.ts";
import { auroc } from "@lib/metrics/auroc.ts";
import { assertClose, assertNoLeak } from "../../experiment/_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

const K = 2; // seen classes; n_out = 4: slot 2 = unseen, slot 3 = spare

/** n 28×28 images of K classes (a bright band per class, plus noise); `ood` = unlabeled uniform noise. */
function digits(n: number, seed: number, ood = false): Dataset {
  const rng = new Rng(`cmg-ft/${seed}`);
  const images = new Uint8Array(n * 784), labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % K;
    labels[i] = ood ? -1 : c;
    for (let p = 0; p < 784; p++) {
      const row = Math.floor(p / 28);
      images[i * 784 + p] = ood ? rng.int(256) : (row >= 8 * c && row < 8 * c + 8 ? 200 : 20) + rng.int(40);
    }
  }
  return { name: ood ? "noise" : "digits", images, labels, shape: [n, 28, 28, 1], classes: ood ? [] : ["0", "1"] };
}

seedEverything(11);
const cvae = createCmgCvae({ encoderPadding: 1, width: 0.0625 });
const train = digits(10, 1);
const testSets = { id: digits(6, 2), ood: digits(6, 3, true) };

/** A fresh tiny cmg_cnn with weights fixed by `seed`. */
function net(seed = 5): Backbone {
  seedEverything(seed);
  return createBackbone("cmg_cnn", { numClasses: K + 2, width: 0.0625 });
}

const snapshot = (vars: readonly tf.Variable[]) => vars.map((v) => v.dataSync().slice());
const headNames = (b: Backbone) => new Set(cmgHeadVariables(b).map((v) => v.name));
const extractorVars = (b: Backbone) =>
  b.model.weights.map((w) => w.read() as tf.Variable).filter((v) => !headNames(b).has(v.name));

const base: FineTuneCmgOptions = { mode: "CMG-s", K, seed: 4, epochs: 2, batchSize: 4, genPerStep: 4, lr: 1e-3 };

Deno.test("CMG_FINETUNE is the reference's stage-2 recipe", () => {
  assert.deepEqual({ ...CMG_FINETUNE }, {
    epochs: 15,
    batchSize: 128,
    genPerStep: 128,
    lr: 1e-4,
    mu: 0.1,
    evalEvery: 20,
    evalBatchSize: 512,
  });
});

Deno.test("cmgHeadVariables() lists fc1 and fc2 (kernel, bias) only", () => {
  const b = net();
  const vars = cmgHeadVariables(b);
  assert.deepEqual(vars.map((v) => v.shape), [[2048 / 16, 32], [32], [32, K + 2], [K + 2]]);
  assert.ok(vars[0]!.name.includes("head_hidden_0") && vars[2]!.name.startsWith("head/"));
  b.model.dispose();
});

Deno.test("scoreCmg() is cmgSScore / cmgEScore of the inference-mode logits, in dataset order", async () => {
  const b = net();
  const x = batchToTensor(testSets.ood.images, testSets.ood.shape, b.normalization);
  const logits = b.logits(x);
  for (const mode of ["CMG-s", "CMG-e"] as const) {
    const want = (mode === "CMG-s" ? cmgSScore : cmgEScore)(logits, K);
    const got = await assertNoLeak(() => scoreCmg(b, testSets.ood, { mode, K, batchSize: 4 }));
    assertClose(got, await want.data(), 1e-5, mode);
    want.dispose();
  }
  tf.dispose([x, logits]);
  b.model.dispose();
});

Deno.test("cmgMargins() = percentileMargins of the recomputed all-logit energies (ID + genPerBatch per batch)", async () => {
  const b = net();
  const r = await assertNoLeak(() =>
    cmgMargins(b, cvae, train, { K, sigma: 3, rng: new Rng(9), batchSize: 4, genPerBatch: 5 })
  );
  // ID: energies of every training image over all 4 logits.
  const x = batchToTensor(train.images, train.shape, b.normalization);
  const eIn = tf.tidy(() => energyOf(b.logits(x)));
  // Generated: ⌈10/4⌉ = 3 batches of 5 images from the same stream.
  const rng = new Rng(9), eGen: number[] = [];
  for (let i = 0; i < 3; i++) {
    const g = generateClassMixed(cvae, 5, { seenClasses: K, sigma: 3, rng });
    const e = tf.tidy(() => energyOf(b.logits(g.images)));
    eGen.push(...await e.data());
    tf.dispose([g.images, e]);
  }
  const idE = await eIn.data();
  assert.equal(r.genEnergies.length, 15);
  assertClose(r.idEnergies, idE, 1e-5, "ID energies");
  assertClose(r.genEnergies, eGen, 1e-5, "generated energies");
  const want = percentileMargins(idE, eGen);
  assert.ok(Math.abs(r.mIn - want.mIn) < 1e-5 && Math.abs(r.mOut - want.mOut) < 1e-5);
  assert.deepEqual({ mIn: r.mIn, mOut: r.mOut }, percentileMargins(r.idEnergies, r.genEnergies));
  tf.dispose([x, eIn]);
  b.model.dispose();
});

Deno.test("fineTuneCmg(): head only (extractor bit-identical), one evaluation per step, best = max, seeded, no leak", async () => {
  const run = async () => {
    const b = net();
    const ext0 = snapshot(extractorVars(b)), head0 = snapshot(cmgHeadVariables(b));
    const r = await assertNoLeak(() => fineTuneCmg(b, cvae, train, { ...base, evalEvery: 1, testSets }));
    const out = { r, ext0, head0, ext: snapshot(extractorVars(b)), head: snapshot(cmgHeadVariables(b)) };
    b.model.dispose();
    return out;
  };
  const a = await run();
  assert.deepEqual(a.ext, a.ext0, "every extractor variable (conv, BN γ/β and moving stats) is unchanged");
  assert.ok(a.head.every((w, i) => w.some((v, j) => v !== a.head0[i]![j])), "all four head variables moved");
  assert.equal(a.r.steps, 6); // ⌈10/4⌉ × 2 epochs
  assert.deepEqual(a.r.curve.map((p) => p.step), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(a.r.curve.map((p) => p.epoch), [0, 0, 0, 1, 1, 1]);
  const max = Math.max(...a.r.curve.map((p) => p.auroc));
  assert.equal(a.r.best!.auroc, max);
  assert.equal(a.r.best!.step, a.r.curve.find((p) => p.auroc === max)!.step, "the first step reaching the maximum");
  // last = the final model's scores; the evaluation after the last step saw the same model.
  assert.equal(a.r.last!.id!.length, 6);
  assert.equal(a.r.last!.auroc, auroc(a.r.last!.id!, a.r.last!.ood!));
  assert.equal(a.r.last!.auroc, a.r.curve.at(-1)!.auroc);
  assert.equal(a.r.epochs.length, 2);
  for (const e of a.r.epochs) assert.ok(Number.isFinite(e.ce) && Number.isFinite(e.genCe) && Number.isNaN(e.energy));
  const b = await run();
  assert.deepEqual(b.head, a.head, "same seed, same run");
  assert.deepEqual(b.r.curve, a.r.curve);
});

Deno.test("fineTuneCmg(): evaluations after 0-based steps 0, evalEvery, 2·evalEvery… through a custom evaluate", async () => {
  const b = net();
  const seen: number[] = [];
  const r = await fineTuneCmg(b, cvae, train, {
    ...base,
    epochs: 2,
    evalEvery: 2,
    evaluate: async (score, step) => {
      seen.push(step);
      return (await score(testSets.id))[0]! + step; // any number
    },
  });
  assert.deepEqual(seen, [0, 2, 4, 5], "steps 0, 2, 4, then once more for `last` (step 5)");
  assert.deepEqual(r.curve.map((p) => p.step), [0, 2, 4]);
  assert.equal(r.best!.step, 4);
  assert.equal(r.last!.id, undefined);
  b.model.dispose();
});

Deno.test("fineTuneCmg(CMG-e) with margins outside every energy is plain CE on the ID batches (gen term zero)", async () => {
  const lr = 1e-3, epochs = 2, batchSize = 4;
  const a = net();
  const r = await fineTuneCmg(a, cvae, train, {
    ...base,
    mode: "CMG-e",
    margins: { mIn: 1e6, mOut: -1e6 },
    lr,
    epochs,
    batchSize,
  });
  assert.ok(r.epochs.every((e) => e.energy === 0 && e.loss === e.ce));
  assert.equal(r.curve.length, 0);
  assert.equal(r.best, null);
  assert.equal(r.last, null);
  // The same head trained by hand: Adam on CE over all logits, same batches (datasetSource with the same seed).
  const b = net();
  const vars = cmgHeadVariables(b);
  const opt = new Adam(vars, { lr });
  const src = datasetSource(train, { batchSize, normalization: b.normalization, seed: base.seed });
  for (let e = 0; e < epochs; e++) {
    for (const { x, y } of src.epoch(e, 0)) {
      const { value, grads } = tf.variableGrads(() => cmgClassifierLoss(b.logits(x), y), vars);
      opt.applyGradients(grads);
      tf.dispose([value, x, y, ...Object.values(grads)]);
    }
  }
  const got = snapshot(cmgHeadVariables(a)), want = snapshot(vars);
  got.forEach((w, i) => assertClose(w, want[i]!, 1e-6, `head variable ${i}`));
  opt.dispose();
  a.model.dispose();
  b.model.dispose();
});

Deno.test("fineTuneCmg() validates mode, margins, labels and the evaluation options", async () => {
  const b = net();
  await assert.rejects(() => fineTuneCmg(b, cvae, train, { ...base, mode: "CMG-e" }), /margins/);
  await assert.rejects(
    () => fineTuneCmg(b, cvae, train, { ...base, testSets, evaluate: () => 0 }),
    /testSets or evaluate/,
  );
  await assert.rejects(() => fineTuneCmg(b, cvae, train, { ...base, K: 1 }), /label 1 outside/);
  await assert.rejects(() => fineTuneCmg(b, cvae, train, { ...base, K: 4 }), RangeError);
  b.model.dispose();
});
