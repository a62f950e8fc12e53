import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { GaussianSampling, gaussianSampling, reparameterize } from "@lib/layers/sampling.ts";
import { loadCheckpoint, saveCheckpoint } from "@lib/train/checkpoint.ts";
import { seedEverything } from "@lib/train/seed.ts";

await initBackend({ backend: "cpu", log: null });

const MU = [[0.5, -1, 2]];
const LOGVAR = [[0, Math.log(4), Math.log(0.25)]]; // σ = 1, 2, 0.5

Deno.test("reparameterize() is μ + exp(½·log σ²)·ε with ε drawn through the seeded Math.random", () => {
  seedEverything(5);
  const eps = tf.randomNormal([1, 3], 0, 1, "float32").dataSync();
  seedEverything(5);
  const z = reparameterize(tf.tensor2d(MU), tf.tensor2d(LOGVAR)).dataSync();
  const sigma = [1, 2, 0.5];
  z.forEach((v, i) => assert.ok(Math.abs(v - (MU[0]![i]! + sigma[i]! * eps[i]!)) < 1e-6));
  seedEverything(5);
  assert.deepEqual(reparameterize(tf.tensor2d(MU), tf.tensor2d(LOGVAR)).dataSync(), z, "same seed, same sample");
  assert.notDeepEqual(reparameterize(tf.tensor2d(MU), tf.tensor2d(LOGVAR)).dataSync(), z, "next draw differs");
});

Deno.test("reparameterize() gradients: ∂z/∂μ = 1, ∂z/∂log σ² = ½·σ·ε", () => {
  seedEverything(8);
  const eps = tf.randomNormal([1, 3], 0, 1, "float32").dataSync();
  seedEverything(8);
  const [gMu, gLv] = tf.grads((mu: tf.Tensor, lv: tf.Tensor) => tf.sum(reparameterize(mu, lv)))([
    tf.tensor2d(MU),
    tf.tensor2d(LOGVAR),
  ]);
  assert.deepEqual(Array.from(gMu!.dataSync()), [1, 1, 1]);
  const sigma = [1, 2, 0.5];
  gLv!.dataSync().forEach((v, i) => assert.ok(Math.abs(v - 0.5 * sigma[i]! * eps[i]!) < 1e-6));
});

Deno.test("GaussianSampling samples in every mode by default (VMDLS, CMG); inference: 'mean' returns μ", () => {
  const mu = tf.tensor2d(MU), lv = tf.tensor2d(LOGVAR);
  const always = gaussianSampling();
  const z = always.apply([mu, lv], { training: false }) as tf.Tensor;
  assert.notDeepEqual(z.dataSync(), mu.dataSync());
  const mean = gaussianSampling({ inference: "mean" });
  assert.deepEqual((mean.apply([mu, lv]) as tf.Tensor).dataSync(), mu.dataSync());
  assert.notDeepEqual((mean.apply([mu, lv], { training: true }) as tf.Tensor).dataSync(), mu.dataSync());
  assert.throws(() => gaussianSampling({ inference: "mode" as "mean" }), /must be "sample" or "mean"/);
});

Deno.test("GaussianSampling round-trips through a checkpoint with its inference setting", async () => {
  seedEverything(2);
  const inp = tf.input({ shape: [4] });
  const mu = tf.layers.dense({ units: 2 }).apply(inp) as tf.SymbolicTensor;
  const lv = tf.layers.dense({ units: 2 }).apply(inp) as tf.SymbolicTensor;
  const z = gaussianSampling({ inference: "mean" }).apply([mu, lv]) as tf.SymbolicTensor;
  const model = tf.model({ inputs: inp, outputs: z });
  const x = tf.tensor2d([[1, 2, 3, 4]]);
  const dir = await Deno.makeTempDir();
  try {
    const path = await saveCheckpoint(dir, {
      model,
      state: { epoch: 0, step: 0, mathRandom: null, streams: {}, config: null },
    });
    const loaded = await loadCheckpoint(path);
    const layer = loaded.model.layers.find((l) => l instanceof GaussianSampling) as GaussianSampling;
    assert.equal(layer.inference, "mean");
    assert.deepEqual((loaded.model.predict(x) as tf.Tensor).dataSync(), (model.predict(x) as tf.Tensor).dataSync());
    loaded.model.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  model.dispose();
});
