import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import type { Dataset, Normalization } from "@lib/datasets/types.ts";
import { NORMALIZATION } from "@lib/datasets/normalization.ts";
import { seedEverything } from "@lib/train/seed.ts";
import { Rng } from "@lib/data/rng.ts";
import {
  mnistAutoencoder,
  reconstructionMse,
  reconstructionWeights,
  type StageModel,
  trainAutoencoder,
  vmdlsReconstruction,
} from "@lib/methods/vmdls/autoencoder.ts";
import { vmdlsDetector } from "@lib/scores/vmdls.ts";
import type { DetectorContext } from "@lib/scores/detector.ts";
import { extractOutputs } from "@lib/experiment/outputs.ts";
import { assertClose, clusterSets, extractableStub } from "../../scores/_fixtures.ts";

await initBackend({ backend: "wasm", log: null });

Deno.test("mnistAutoencoder: the reference's MNIST_AE layer by layer (1 536 033 parameters), 28×28×1 → 28×28×1, no leaks", () => {
  seedEverything(0);
  const full = mnistAutoencoder();
  // Encoder conv 1·100·9 + 100, 4 × (100·100·9 + 100), linear 900→500, fc 500→32; decoder linear 32→500,
  // 500→900, 6 × ConvTranspose(100, 100, 2) (100·100·4 + 100), conv1×1 100→1.
  const expected = 1000 + 4 * 90100 + 450500 + 16032 + 16500 + 450900 + 6 * 40100 + 101;
  assert.equal(full.model.countParams(), expected);
  assert.equal(full.model.layers.filter((l) => l.getClassName() === "Conv2DTranspose").length, 6);
  full.model.dispose();

  const ae = mnistAutoencoder({ width: 0.1, latentDim: 8 });
  assert.equal(ae.latentDim, 8);
  assert.deepEqual(ae.normalization, NORMALIZATION.unitRange);
  const before = tf.memory().numTensors;
  const x = tf.randomUniform([3, 28, 28, 1]) as tf.Tensor4D;
  const xHat = ae.reconstruct(x);
  assert.deepEqual(xHat.shape, [3, 28, 28, 1]);
  const code = ae.model.getLayer("ae_code").outputShape;
  assert.deepEqual(code, [null, 8]);
  tf.dispose([x, xHat]);
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  ae.model.dispose();
});

/** n 28×28 images: a bright axis-aligned rectangle at a random place on black. */
function rectangles(n: number, seed: number): Dataset {
  const rng = new Rng(seed), images = new Uint8Array(n * 784);
  for (let i = 0; i < n; i++) {
    const r0 = rng.int(14), c0 = rng.int(14);
    for (let r = r0; r < r0 + 12; r++) for (let c = c0; c < c0 + 8; c++) images[i * 784 + r * 28 + c] = 255;
  }
  return { name: "rectangles", images, labels: new Int32Array(n), shape: [n, 28, 28, 1], classes: ["r"] };
}

Deno.test("trainAutoencoder: the reconstruction error falls; the checkpoint cache restores weights and losses", async () => {
  const train = rectangles(64, 1), test = rectangles(32, 2);
  const dir = await Deno.makeTempDir();
  try {
    seedEverything(0);
    const ae = mnistAutoencoder({ width: 0.1, latentDim: 8 });
    const tensors = tf.memory().numTensors;
    const before = await reconstructionMse(ae, test, 16);
    const recipe = { epochs: 4, batchSize: 16, lr: 1e-3 };
    const out = await trainAutoencoder(ae, train, recipe, { seed: 0, runDir: dir });
    const after = await reconstructionMse(ae, test, 16);
    assert.equal(out.losses.length, 4);
    assert.equal(out.steps, 16);
    assert.equal(out.resumedFrom, null);
    assert.ok(out.losses.every(Number.isFinite));
    assert.ok(out.losses[3]! < out.losses[0]!, `training loss ${out.losses}`);
    assert.ok(after < before, `test MSE ${before} → ${after}`);
    assert.equal(tf.memory().numTensors, tensors, "training leaked tensors");

    // A fresh network with other weights, same folder: the finished run is loaded, not retrained.
    seedEverything(7);
    const again = mnistAutoencoder({ width: 0.1, latentDim: 8 });
    const cached = await trainAutoencoder(again, train, recipe, { seed: 0, runDir: dir });
    assert.ok(cached.resumedFrom !== null);
    assert.equal(cached.steps, 16);
    assert.deepEqual(cached.losses, out.losses);
    assert.equal(await reconstructionMse(again, test, 16), after);
    ae.model.dispose();
    again.model.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A stage model on 2×2×1 images: featureList = [GAP(x), 2·GAP(x)]. */
const gapModel: StageModel = {
  normalization: NORMALIZATION.mnistHalf,
  featureList: (x) => {
    const g = tf.mean(x, [1, 2]) as tf.Tensor2D;
    return [g, tf.mul(g, 2)];
  },
};

/** Three 2×2 images: all 0, all 255, and [0, 255, 255, 255]. */
const tiny: Dataset = {
  name: "tiny",
  images: Uint8Array.of(0, 0, 0, 0, 255, 255, 255, 255, 0, 255, 255, 255),
  labels: new Int32Array(3),
  shape: [3, 2, 2, 1],
  classes: ["a"],
};

const unit: Normalization = NORMALIZATION.unitRange;
const stubAe = (f: (x: tf.Tensor4D) => tf.Tensor4D) => ({ normalization: unit, reconstruct: f });

Deno.test("reconstructionWeights: r = mean (GAP L1(x) − GAP L1(x̂))², hand-computed, faithful and clean ranges", async () => {
  const before = tf.memory().numTensors;
  const r = (ae: ReturnType<typeof stubAe>, inputs: "faithful" | "clean", stage = 0) =>
    reconstructionWeights(ae, gapModel, tiny, { inputs, stage, batchSize: 2 });
  // Identity reconstruction: r = 0 (clean: x/255 renormalised to (x/255 − 0.5)/0.5, equal up to rounding).
  const identity = stubAe((x) => tf.clone(x));
  assert.deepEqual([...await r(identity, "faithful")], [0, 0, 0]);
  assertClose(await r(identity, "clean"), [0, 0, 0], 1e-12, "clean identity");
  // x̂ ≡ 0.5. Normalised GAPs: −1, 1, 0.5. Faithful: x̂ enters L1 as is (GAP 0.5); clean: as (0.5 − 0.5)/0.5 = 0.
  const half = stubAe((x) => tf.fill(x.shape, 0.5) as tf.Tensor4D);
  assertClose(await r(half, "faithful"), [2.25, 0.25, 0], 1e-7, "faithful constant");
  assertClose(await r(half, "clean"), [1, 1, 0.25], 1e-7, "clean constant");
  // Stage 1 = 2·GAP: r scales by 4.
  assertClose(await r(half, "faithful", 1), [9, 1, 0], 1e-6, "stage 1");
  // The reference's range quirk: an AE that reproduces [0, 1] images (clip) is exact on the range it was trained
  // on, but given [−1, 1] inputs it clips the black pixels to 0: r = (0 − (−1))², 0, (0.75 − 0.5)².
  const clip = stubAe((x) => tf.clipByValue(x, 0, 1));
  assertClose(await r(clip, "faithful"), [1, 0, 0.0625], 1e-7, "faithful clip");
  assertClose(await r(clip, "clean"), [0, 0, 0], 1e-12, "clean clip");
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  await assert.rejects(() => r(half, "faithful", 2), /stage 2 of a featureList of 2/);
  await assert.rejects(
    () => reconstructionWeights(half, { normalization: unit }, tiny, { inputs: "clean" }),
    /no featureList/,
  );
});

Deno.test("vmdlsReconstruction: plugs into vmdlsDetector's reconstruction option, memoised per set", async () => {
  const net = extractableStub(), sets = clusterSets();
  const pass = { batchSize: 32, featureList: true };
  const test = { ds: sets.test, outputs: await extractOutputs(net, sets.test, pass) };
  const ctx: DetectorContext = {
    model: net,
    train: { ds: sets.train, outputs: await extractOutputs(net, sets.train, pass) },
    test,
    batchSize: 32,
    seed: 0,
  };
  let calls = 0;
  const ae = {
    normalization: { mean: [0, 0, 0, 0], std: [1, 1, 1, 1] },
    reconstruct: (x: tf.Tensor4D) => {
      calls++;
      return tf.mul(x, 0.9) as tf.Tensor4D;
    },
  };
  const reconstruction = vmdlsReconstruction(ae, { inputs: "clean" });
  const before = tf.memory().numTensors;
  const o = { ...vmdlsDetector.defaults, reconstruction };
  const state = await vmdlsDetector.fit!(ctx, o);
  const weighted = await vmdlsDetector.score(test, o, state, ctx);
  assert.equal(calls, Math.ceil(sets.test.shape[0] / 32), "one AE pass over the test set for fit and score");
  const r = await reconstructionWeights(ae, net, sets.test, { inputs: "clean", batchSize: 32 });
  assert.ok(Math.abs(state.normalizers.rScale - Math.max(...r)) < 1e-6);
  const plainOpts = vmdlsDetector.defaults;
  const plain = await vmdlsDetector.score(test, plainOpts, await vmdlsDetector.fit!(ctx, plainOpts), ctx);
  assertClose(weighted, Array.from(plain, (s, i) => s * r[i]! / state.normalizers.rScale), 1e-4, "s · r̃");
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  net.dispose();
});
