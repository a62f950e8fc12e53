import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { Rng } from "@lib/data/rng.ts";
import { createBackbone } from "@lib/backbones/mod.ts";
import { seedEverything, unseed } from "@lib/train/mod.ts";
import { disposeVmdlsNet, reparameterize, vmdlsNet } from "@lib/methods/vmdls/network.ts";
import { extractOutputs } from "@lib/experiment/outputs.ts";
import { assertClose, toyDataset } from "../../experiment/_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

/** A narrow mnist_conv on 8×8 gray inputs, 2 classes, D = 4. */
function toyNet(seed = 0) {
  seedEverything(seed);
  try {
    const bb = createBackbone("mnist_conv", { numClasses: 2, width: 0.1, inputShape: [8, 8, 1] });
    return vmdlsNet(bb, { latentDim: 4 });
  } finally {
    unseed();
  }
}

const input = (n: number) =>
  tf.tensor4d(Float32Array.from({ length: n * 64 }, (_, i) => Math.sin(i * 0.37)), [n, 8, 8, 1]);

Deno.test("vmdlsNet: the reference's 832-d mnist-conv ensemble at width 1, heads D → μ, log σ²", () => {
  const bb = createBackbone("mnist_conv", { numClasses: 10 });
  const net = vmdlsNet(bb);
  try {
    assert.equal(net.latentDim, 32);
    assert.equal(net.featureDim, 500);
    assert.deepEqual(net.featureListDims, [100, 100, 100, 500, 32]);
    assert.equal(net.featureListDims.reduce((a, b) => a + b, 0), 832, "papers.md §2c: 832-d for mnist-conv");
    const names = net.model.trainableWeights.map((w) => w.originalName);
    assert.ok(names.some((n) => n.startsWith("vmdls_mu/")) && names.some((n) => n.startsWith("vmdls_logvar/")));
    assert.ok(!names.some((n) => n.startsWith("head/")), "the backbone's classifier is not part of the VMDLS model");
    // nn.Linear(500, 32) default init: |w|, |b| ≤ 1/√500.
    const bound = 1 / Math.sqrt(500);
    for (const w of net.model.getLayer("vmdls_mu").getWeights()) {
      assert.ok(Math.max(...Array.from(w.dataSync(), Math.abs)) <= bound + 1e-7);
    }
  } finally {
    net.dispose();
    net.model.dispose();
  }
});

Deno.test("vmdlsNet: output shapes, featureList = [stages…, g, μ], NCM logits, no leaks", () => {
  const net = toyNet();
  const x = input(3);
  try {
    assert.deepEqual(net.featureListDims, [10, 10, 10, 50, 4]);
    const before = tf.memory().numTensors;
    const { mu, logVar } = net.forward(x, { training: true });
    assert.deepEqual(mu.shape, [3, 4]);
    assert.deepEqual(logVar.shape, [3, 4]);
    tf.dispose([mu, logVar]);
    const g = net.features(x), m = net.embed(x), list = net.featureList(x), logits = net.logits(x);
    const headLogits = net.head(g);
    assert.deepEqual(g.shape, [3, 50]);
    assert.deepEqual(logits.shape, [3, 2]);
    assert.deepEqual(list.map((t) => t.shape), net.featureListDims.map((d) => [3, d]));
    assertClose(list[3]!.dataSync(), g.dataSync(), 1e-6, "featureList[3] = g");
    assertClose(list[4]!.dataSync(), m.dataSync(), 1e-6, "featureList[4] = μ");
    assertClose(headLogits.dataSync(), logits.dataSync(), 1e-5, "head(features) = logits");
    assertClose(
      logits.dataSync(),
      new Array(6).fill(0).map((_, i) => {
        const r = Math.floor(i / 2);
        return -0.5 * Array.from(m.dataSync().slice(r * 4, r * 4 + 4)).reduce((s, v) => s + v * v, 0);
      }),
      1e-5,
      "class means 0: −½‖μ‖²",
    );
    net.setClassMeans([1, 0, 0, 0, 0, -1, 0, 2]);
    const l2 = net.logits(x), md = m.dataSync(), cm = [[1, 0, 0, 0], [0, -1, 0, 2]];
    const expected = [0, 1, 2].flatMap((r) =>
      cm.map((c) => -0.5 * c.reduce((s, v, j) => s + (md[r * 4 + j]! - v) ** 2, 0))
    );
    assertClose(l2.dataSync(), expected, 1e-5, "−½‖μ − m_c‖²");
    tf.dispose([g, m, ...list, logits, headLogits, l2]);
    assert.equal(tf.memory().numTensors, before, "tensors leaked");
    assert.throws(() => net.setClassMeans([1, 2]), /values for 2 × 4/);
  } finally {
    x.dispose();
    net.dispose();
    net.model.dispose();
  }
});

Deno.test("reparameterize: z = μ + exp(½ log σ²)·ε; moments on a seed; deterministic; no leaks", () => {
  const n = 4000;
  const mu = tf.tile(tf.tensor2d([[1, -2]]), [n, 1]) as tf.Tensor2D;
  const logVar = tf.tile(tf.tensor2d([[Math.log(4), Math.log(0.25)]]), [n, 1]) as tf.Tensor2D;
  try {
    const before = tf.memory().numTensors;
    const z = reparameterize(mu, logVar, new Rng(7));
    const v = z.dataSync();
    for (const [j, m, s] of [[0, 1, 2], [1, -2, 0.5]] as const) {
      let sum = 0, sq = 0;
      for (let i = 0; i < n; i++) sum += v[i * 2 + j]!;
      const mean = sum / n;
      for (let i = 0; i < n; i++) sq += (v[i * 2 + j]! - mean) ** 2;
      const variance = sq / (n - 1);
      assert.ok(Math.abs(mean - m) < 4 * s / Math.sqrt(n), `dim ${j}: mean ${mean} vs ${m}`);
      assert.ok(Math.abs(variance / (s * s) - 1) < 4 * Math.sqrt(2 / n), `dim ${j}: variance ${variance} vs ${s * s}`);
    }
    const again = reparameterize(mu, logVar, new Rng(7));
    assert.deepEqual(again.dataSync(), v, "same seed, same z");
    const other = reparameterize(mu, logVar, new Rng(8));
    assert.notDeepEqual(other.dataSync(), v);
    const one = tf.tidy(() =>
      reparameterize(tf.tensor2d([[0.5, 0]]), tf.tensor2d([[0, Math.log(9)]]), tf.tensor2d([[1, 2]]))
    );
    assertClose(one.dataSync(), [1.5, 6], 1e-6, "explicit ε");
    tf.dispose([z, again, other, one]);
    assert.equal(tf.memory().numTensors, before, "tensors leaked");
    assert.throws(() => tf.tidy(() => reparameterize(mu, tf.zeros([2, 2]), new Rng(0))), /log σ²/);
  } finally {
    tf.dispose([mu, logVar]);
  }
});

Deno.test("vmdlsNet: the experiment layer extracts its logits, features and feature ensemble", async () => {
  const net = toyNet();
  try {
    const ds = toyDataset(7, 5);
    const before = tf.memory().numTensors;
    const out = await extractOutputs(net, ds, { batchSize: 4, featureList: true });
    assert.equal(tf.memory().numTensors, before, "tensors leaked");
    assert.equal(out.n, 7);
    assert.equal(out.logits.dim, 2);
    assert.equal(out.features.dim, 50);
    assert.deepEqual(out.featureList!.map((m) => m.dim), [...net.featureListDims]);
    assert.deepEqual(out.featureList![3]!.data, out.features.data, "the ensemble's g is the features");
  } finally {
    net.dispose();
    net.model.dispose();
  }
});

Deno.test("disposeVmdlsNet() frees every weight: class means, backbone, heads and the backbone's unused head", () => {
  const before = tf.memory().numTensors;
  const net = vmdlsNet(createBackbone("mnist_conv", { numClasses: 3, width: 0.05 }), { latentDim: 4 });
  disposeVmdlsNet(net);
  assert.equal(tf.memory().numTensors, before);
});
