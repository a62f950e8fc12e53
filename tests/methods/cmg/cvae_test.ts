import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import type { Dataset } from "@lib/datasets/types.ts";
import { Rng } from "@lib/data/rng.ts";
import { seedEverything } from "@lib/train/seed.ts";
import { createCmgCvae, cvaeLoss, trainCmgCvae } from "@lib/methods/cmg/cvae.ts";
import { assertClose, assertNoLeak } from "../../experiment/_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

Deno.test("createCmgCvae() at width 1, padding 15: the reference's 100 352-wide flatten and 109 587 233 parameters", () => {
  seedEverything(0);
  const cvae = createCmgCvae();
  try {
    assert.equal(cvae.flatDim, 100_352);
    assert.deepEqual(cvae.model.getLayer("cmg_enc_flatten").outputShape, [null, 100_352]);
    // conv1 1·64·16+64, conv2 64·128·16+128, fcE 100352·1024+1024, μ and log σ² 2·(1024·32+32), embed 10·32+32,
    // fromZ 64·1024+1024, fcD 1024·6272+6272, deconv1 128·64·16+64, deconv2 64·1·16+1.
    const expected = 1088 + 131_200 + 102_761_472 + 65_600 + 352 + 66_560 + 6_428_800 + 131_136 + 1025;
    assert.equal(cvae.model.countParams(), expected);
    assert.equal(cvae.variables.length, 20); // kernel + bias of 10 layers
  } finally {
    cvae.dispose();
  }
});

Deno.test("createCmgCvae() encodes, embeds and decodes with the right shapes for both paddings, without leaks", async () => {
  seedEverything(1);
  for (const [encoderPadding, side] of [[15, 28], [1, 7]] as const) {
    const cvae = createCmgCvae({ encoderPadding, width: 0.125, zDim: 8 });
    try {
      assert.equal(cvae.flatDim, 16 * side * side);
      assert.deepEqual(cvae.model.getLayer("cmg_enc_conv2").outputShape, [null, side, side, 16]);
      assert.deepEqual(cvae.model.getLayer("cmg_deconv1_crop").outputShape, [null, 14, 14, 8]);
      const x = tf.randomUniform([3, 28, 28, 1]) as tf.Tensor4D;
      await assertNoLeak(async () => {
        const { mu, logVar } = cvae.encode(x);
        assert.deepEqual(mu.shape, [3, 8]);
        assert.deepEqual(logVar.shape, [3, 8]);
        const eIds = cvae.embed([0, 5, 9]);
        const onehot = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 5, 9], "int32"), 10)) as tf.Tensor2D;
        const eOne = cvae.embed(onehot);
        assertClose(await eIds.data(), await eOne.data(), 1e-6, "embed(ids) vs embed(onehot)");
        assert.deepEqual(eIds.shape, [3, 8]);
        const xHat = cvae.decode(mu, eIds);
        assert.deepEqual(xHat.shape, [3, 28, 28, 1]);
        const v = await xHat.data();
        assert.ok(v.every((p) => p > 0 && p < 1), "sigmoid output in (0, 1)");
        const f = cvae.forward(x, [0, 5, 9]);
        assert.deepEqual(f.xHat.shape, [3, 28, 28, 1]);
        assertClose(await f.mu.data(), await mu.data(), 1e-5, "forward μ = encode μ");
        tf.dispose([mu, logVar, onehot, eIds, eOne, xHat, f.mu, f.logVar, f.xHat]);
      });
      x.dispose();
      // The embedding has a bias: e for an all-zero one-hot is b ≠ 0.
      const b = cvae.embed(tf.zeros([1, 10]) as tf.Tensor2D);
      assert.ok((await b.data()).some((u) => u !== 0));
      b.dispose();
    } finally {
      cvae.dispose();
    }
  }
});

Deno.test("cvaeLoss() equals the reference's KL/(C·H·W) + per-pixel MSE on a hand-computed 2-image example", async () => {
  // Images 1×2×1 (C·H·W = 2), zDim 2.
  // recon: image 0 (0−0.5)² + (1−1)² → mean 0.125; image 1 (1−0)² + (0.5−0.5)² → mean 0.5; batch mean 0.3125.
  // KL_0 = −½[(1+0−1−1) + (1+0−0−1)] = 0.5; KL_1 = −½[(1+ln2−0−2) + (1+0−4−1)] = (5 − ln2)/2 ≈ 2.1534264.
  // kl = mean(0.5, 2.1534264) / 2 ≈ 0.6633566; loss ≈ 0.9758566.
  const x = tf.tensor4d([0, 1, 1, 0.5], [2, 1, 2, 1]);
  const xHat = tf.tensor4d([0.5, 1, 0, 0.5], [2, 1, 2, 1]);
  const mu = tf.tensor2d([[1, 0], [0, 2]]);
  const logVar = tf.tensor2d([[0, 0], [Math.LN2, 0]]);
  const before = tf.memory().numTensors;
  const { loss, kl, recon } = cvaeLoss(x, xHat, mu, logVar);
  assert.equal(tf.memory().numTensors, before + 3, "exactly three new scalars");
  const klExpected = (0.5 + (5 - Math.LN2) / 2) / 2 / 2;
  assertClose([(await recon.data())[0]!], [0.3125], 1e-6, "recon");
  assertClose([(await kl.data())[0]!], [klExpected], 1e-6, "kl");
  assertClose([(await loss.data())[0]!], [klExpected + 0.3125], 1e-6, "loss");
  tf.dispose([x, xHat, mu, logVar, loss, kl, recon]);
});

/** n 28×28 images of class y ∈ {0, 1}: a bright horizontal (0) or vertical (1) bar at a random offset. */
function bars(n: number, seed: number): Dataset {
  const rng = new Rng(seed), images = new Uint8Array(n * 784), labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const y = i % 2, o = 4 + rng.int(16);
    labels[i] = y;
    for (let a = 0; a < 28; a++) {
      for (let t = o; t < o + 4; t++) images[i * 784 + (y === 0 ? t * 28 + a : a * 28 + t)] = 255;
    }
  }
  return { name: "bars", images, labels, shape: [n, 28, 28, 1], classes: ["h", "v"] };
}

Deno.test("trainCmgCvae() lowers the loss on a few bar images, reports KL and recon per epoch, and leaks nothing", async () => {
  seedEverything(2);
  const cvae = createCmgCvae({ encoderPadding: 1, width: 0.0625, zDim: 4 });
  try {
    const seen: number[] = [];
    const h = await assertNoLeak(() =>
      trainCmgCvae(cvae, bars(16, 0), { epochs: 6, batchSize: 8, lr: 1e-2, seed: 0, onEpoch: (e) => void seen.push(e) })
    );
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5]);
    assert.equal(h.steps, 12);
    assert.equal(h.loss.length, 6);
    h.loss.forEach((l, i) => assertClose([l], [h.kl[i]! + h.recon[i]!], 1e-5, "loss = kl + recon"));
    assert.ok(h.loss[5]! < 0.8 * h.loss[0]!, `loss ${h.loss[0]} → ${h.loss[5]}`);
    await assert.rejects(
      () => trainCmgCvae(cvae, { ...bars(2, 0), labels: Int32Array.of(0, -1) }, { epochs: 1, seed: 0 }),
      RangeError,
    );
  } finally {
    cvae.dispose();
  }
});

Deno.test("the decoder's transposed convolutions equal PyTorch's ConvTranspose2d(k4, s2, p1) computed naively", async () => {
  seedEverything(4);
  const cvae = createCmgCvae({ encoderPadding: 1, width: 0.0625 }); // deconv2: 4 → 1 channels
  try {
    const [h, cin] = [5, 4];
    const x = tf.randomNormal([1, h, h, cin]) as tf.Tensor4D;
    const y = tf.tidy(() =>
      cvae.model.getLayer("cmg_deconv2_crop").apply(cvae.model.getLayer("cmg_deconv2").apply(x)) as tf.Tensor4D
    );
    assert.deepEqual(y.shape, [1, 2 * h, 2 * h, 1]);
    const [kernel, bias] = cvae.model.getLayer("cmg_deconv2").getWeights(); // TF kernel [kh, kw, out, in]
    const K = await kernel!.data(), b = (await bias!.data())[0]!, X = await x.data();
    // PyTorch: out[y, x] = b + Σ_{iy, ix, c, ky, kx} in[c, iy, ix]·W[c, 0, ky, kx] where y = 2·iy − 1 + ky (same in x),
    // W[c, 0, ky, kx] = kernel[ky, kx, 0, c].
    const want = new Float32Array(4 * h * h).fill(b);
    for (let iy = 0; iy < h; iy++) {
      for (let ix = 0; ix < h; ix++) {
        for (let c = 0; c < cin; c++) {
          for (let ky = 0; ky < 4; ky++) {
            for (let kx = 0; kx < 4; kx++) {
              const oy = 2 * iy - 1 + ky, ox = 2 * ix - 1 + kx;
              if (oy < 0 || ox < 0 || oy >= 2 * h || ox >= 2 * h) continue;
              want[oy * 2 * h + ox]! += X[(iy * h + ix) * cin + c]! * K[(ky * 4 + kx) * cin + c]!;
            }
          }
        }
      }
    }
    assertClose(await y.data(), want, 1e-4, "ConvTranspose2d");
    tf.dispose([x, y]);
  } finally {
    cvae.dispose();
  }
});

// ---- CIFAR-10 ---------------------------------------------------------------------------------------------------

/** The torch fixture of testdata/make_cifar_cvae_fixture.py (closed-form weights, PyTorch's outputs). */
interface CifarFixture {
  torch: string;
  width: number;
  zDim: number;
  numClasses: number;
  labels: number[];
  n: number;
  width1: { trainableParams: number; bnBuffers: number };
  resBlockQuirk: { maxAbsDiffReluPlusBlock: number; maxAbsDiffXPlusBlock: number };
  tensors: { name: string; shape: number[]; base: number; scale: number; offset: number }[];
  eval: { mu: number[]; logVar: number[]; xHat: number[] };
  train: { mu: number[]; xHat: number[] };
}
const fixture = JSON.parse(
  await Deno.readTextFile(new URL("testdata/cifar_cvae_fixture.json", import.meta.url)),
) as CifarFixture;

/** base + scale·sin(offset + step·i) over i < n, in float64 then rounded to float32 (as the fixture script does). */
function closedForm(n: number, base: number, scale: number, offset: number, step = 0.37): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = base + scale * Math.sin(offset + step * i);
  return out;
}

/** Every layer of a model, nested models' layers included. */
function allLayers(model: tf.LayersModel): tf.layers.Layer[] {
  return model.layers.flatMap((l) => l instanceof tf.LayersModel ? [l, ...allLayers(l)] : [l]);
}

Deno.test("createCmgCvae({ dataset: 'cifar10' }) at width 1: PyTorch's 33 888 739 trainable parameters + 15 744 BN statistics", () => {
  seedEverything(5);
  const cvae = createCmgCvae({ dataset: "cifar10" });
  try {
    assert.equal(cvae.dataset, "cifar10");
    assert.equal(cvae.encoderPadding, null);
    assert.deepEqual(cvae.inputShape, [32, 32, 3]);
    assert.equal(cvae.flatDim, 512);
    const enc = cvae.model.getLayer("cmg_encoder") as tf.LayersModel;
    const dec = cvae.model.getLayer("cmg_decoder") as tf.LayersModel;
    assert.deepEqual(enc.getLayer("cmg_convE_layer4_1_add").outputShape, [null, 4, 4, 512]);
    assert.deepEqual(enc.getLayer("cmg_enc_flatten").outputShape, [null, 512]);
    assert.deepEqual(dec.getLayer("cmg_dec_hwc").outputShape, [null, 4, 4, 512]);
    assert.deepEqual(dec.getLayer("cmg_convD_decoder_3_crop").outputShape, [null, 8, 8, 512]);
    assert.deepEqual(dec.getLayer("cmg_convD_decoder_6_crop").outputShape, [null, 16, 16, 512]);
    assert.deepEqual(dec.outputs[0]!.shape, [null, 32, 32, 3]);
    // `sum(p.numel() for p in ConditionalVAE(image_channels=3, image_size=32, dataset='cifar10').parameters())`
    // with the reference's own models/vae.py and nets.py (torch 1.13), recorded by the fixture script.
    assert.equal(fixture.width1.trainableParams, 33_888_739);
    const trainable = cvae.variables.reduce((a, v) => a + v.size, 0);
    assert.equal(trainable, fixture.width1.trainableParams);
    // By hand: ResNet-18 11 168 832; fcE 512·1024+1024; μ, log σ² 2·(1024·32+32); embed 10·32+32; fromZ 64·1024+1024;
    // fcD 1024·8192+8192; DeconvResnet 2·(512·512·9+512 + 512·512+512 + 4·512) + 2·(512·512·16+512 + 2·512)
    // + 512·3·16+3 = 13 665 283.
    const resnet18 = 3 * 64 * 9 + 128 + 4 * (64 * 64 * 9 + 128) + // conv1+bn1, layer1
      (64 * 128 * 9 + 128 * 128 * 9 + 64 * 128 + 3 * 256) + 2 * (128 * 128 * 9 + 256) + // layer2
      (128 * 256 * 9 + 256 * 256 * 9 + 128 * 256 + 3 * 512) + 2 * (256 * 256 * 9 + 512) + // layer3
      (256 * 512 * 9 + 512 * 512 * 9 + 256 * 512 + 3 * 1024) + 2 * (512 * 512 * 9 + 1024); // layer4
    assert.equal(resnet18, 11_168_832);
    const deconvResnet = 2 * (512 * 512 * 9 + 512 + 512 * 512 + 512 + 4 * 512) + 2 * (512 * 512 * 16 + 512 + 2 * 512) +
      512 * 3 * 16 + 3;
    assert.equal(deconvResnet, 13_665_283);
    const encoderCount = resnet18 + 525_312 + 65_600, decoderCount = 66_560 + 8_396_800 + deconvResnet;
    assert.equal(encoderCount + 352 + decoderCount, trainable);
    // countParams also counts the BN moving means and variances (non-trainable, PyTorch's buffers).
    assert.equal(fixture.width1.bnBuffers, 15_744);
    assert.equal(cvae.model.countParams(), trainable + 15_744);
    assert.equal(enc.countParams(), encoderCount + 2 * 4800);
    assert.equal(dec.countParams(), decoderCount + 2 * 3072);
    // Every weight of the nested models is in the outer model's weight list and its trainable variables.
    assert.equal(
      cvae.model.getWeights().length,
      allLayers(cvae.model).filter((l) => !(l instanceof tf.LayersModel))
        .reduce((a, l) => a + l.getWeights().length, 0),
    );
    assert.equal(cvae.variables.length, 98);
  } finally {
    cvae.dispose();
  }
});

Deno.test("createCmgCvae({ dataset: 'cifar10' }) rejects an encoder padding and unknown datasets", () => {
  assert.throws(() => createCmgCvae({ dataset: "cifar10", encoderPadding: 1 }), /MNIST CVAE only/);
  assert.throws(() => createCmgCvae({ dataset: "svhn" as "mnist" }), /dataset must be/);
});

Deno.test("the CIFAR-10 CVAE encodes, embeds, decodes and runs forward with the right shapes, without leaks", async () => {
  seedEverything(6);
  const cvae = createCmgCvae({ dataset: "cifar10", width: 0.0625, zDim: 8 });
  try {
    assert.equal(cvae.flatDim, 32);
    const x = tf.randomUniform([3, 32, 32, 3]) as tf.Tensor4D;
    await assertNoLeak(async () => {
      const { mu, logVar } = cvae.encode(x);
      assert.deepEqual(mu.shape, [3, 8]);
      assert.deepEqual(logVar.shape, [3, 8]);
      const e = cvae.embed([0, 5, 9]);
      assert.deepEqual(e.shape, [3, 8]);
      const xHat = cvae.decode(mu, e);
      assert.deepEqual(xHat.shape, [3, 32, 32, 3]);
      assert.ok((await xHat.data()).every((p) => p > 0 && p < 1), "sigmoid output in (0, 1)");
      const again = cvae.decode(mu, e); // inference mode: deterministic
      assertClose(await again.data(), await xHat.data(), 0, "decode twice");
      const f = cvae.forward(x, [0, 5, 9]);
      assert.deepEqual(f.xHat.shape, [3, 32, 32, 3]);
      assertClose(await f.mu.data(), await mu.data(), 1e-5, "forward μ = encode μ");
      assertClose(await f.logVar.data(), await logVar.data(), 1e-5, "forward log σ² = encode log σ²");
      tf.dispose([mu, logVar, e, xHat, again, f.mu, f.logVar, f.xHat]);
    });
    x.dispose();
  } finally {
    cvae.dispose();
  }
});

Deno.test("the CIFAR-10 CVAE equals PyTorch's ConditionalVAE(dataset='cifar10') in eval and train mode (torch fixture)", async () => {
  // PyTorch's ResBlock computes relu(x) + block(x) (in-place first ReLU), which the fixture script checked:
  assert.equal(fixture.resBlockQuirk.maxAbsDiffReluPlusBlock, 0);
  assert.ok(fixture.resBlockQuirk.maxAbsDiffXPlusBlock > 0.1);
  const { n, zDim } = fixture;
  const cvae = createCmgCvae({ dataset: "cifar10", width: fixture.width, zDim, numClasses: fixture.numClasses });
  try {
    // Load the closed-form weights: torch [out, in] → TF [in, out]; [O, I, kh, kw] (Conv2d) and [I, O, kh, kw]
    // (ConvTranspose2d) → [kh, kw, I, O] / [kh, kw, O, I]: the same permutation [2, 3, 1, 0].
    const byLayer = new Map<string, Map<string, tf.Tensor>>();
    for (const t of fixture.tensors) {
      const cut = t.name.lastIndexOf(".");
      const layer = "cmg_" + t.name.slice(0, cut).replaceAll(".", "_"), leaf = t.name.slice(cut + 1);
      const size = t.shape.reduce((a, b) => a * b, 1);
      const v = tf.tensor(closedForm(size, t.base, t.scale, t.offset), t.shape);
      const perm = t.shape.length === 2 ? [1, 0] : t.shape.length === 4 ? [2, 3, 1, 0] : null;
      const w = perm && leaf === "weight" ? tf.transpose(v, perm) : v;
      if (w !== v) v.dispose();
      if (!byLayer.has(layer)) byLayer.set(layer, new Map());
      byLayer.get(layer)!.set(leaf, w);
    }
    const layers = new Map(allLayers(cvae.model).map((l) => [l.name, l]));
    let set = 0;
    for (const [name, leaves] of byLayer) {
      const layer = layers.get(name);
      assert.ok(layer, `no layer ${name}`);
      const order = layer.getClassName() === "BatchNormalization"
        ? ["weight", "bias", "running_mean", "running_var"]
        : ["weight", "bias"].filter((k) => leaves.has(k));
      assert.equal(order.length, layer.getWeights().length, name);
      layer.setWeights(order.map((k) => leaves.get(k)!));
      set += order.length;
    }
    assert.equal(set, cvae.model.getWeights().length, "every weight set from the fixture");
    byLayer.forEach((m) => m.forEach((t) => t.dispose()));

    const x = tf.tidy(() =>
      tf.transpose(tf.tensor4d(closedForm(n * 3 * 32 * 32, 0.5, 0.5, 0.3, 0.11), [n, 3, 32, 32]), [0, 2, 3, 1])
    ) as tf.Tensor4D;
    const z = tf.tensor2d(closedForm(n * zDim, 0, 1, 1, 0.23), [n, zDim]);
    const toNchw = (t: tf.Tensor4D) => tf.tidy(() => tf.transpose(t, [0, 3, 1, 2]).dataSync());
    // Eval mode: encode and decode use the BN running statistics.
    const { mu, logVar } = cvae.encode(x);
    const e = cvae.embed(fixture.labels);
    const xHat = cvae.decode(z, e);
    assertClose(await mu.data(), fixture.eval.mu, 2e-4, "eval μ"); // |μ| up to 5.5
    assertClose(await logVar.data(), fixture.eval.logVar, 2e-4, "eval log σ²");
    assertClose(toNchw(xHat), fixture.eval.xHat, 2e-5, "eval x̂"); // x + block(x) would be off by up to 0.024
    // Train mode: batch statistics.
    const f = cvae.forward(x, fixture.labels, { training: true });
    assertClose(await f.mu.data(), fixture.train.mu, 2e-5, "train μ");
    const decoder = cvae.model.getLayer("cmg_decoder");
    const xHatTrain = tf.tidy(() => decoder.apply(tf.concat([z, e], 1), { training: true }) as tf.Tensor4D);
    assertClose(toNchw(xHatTrain), fixture.train.xHat, 1e-4, "train x̂"); // the 20× last layer amplifies float32 noise
    tf.dispose([x, z, mu, logVar, e, xHat, f.mu, f.logVar, f.xHat, xHatTrain]);
  } finally {
    cvae.dispose();
  }
});

Deno.test("the CIFAR-10 CVAE's batch norm: a training forward updates the moving statistics, inference calls do not", async () => {
  seedEverything(7);
  const cvae = createCmgCvae({ dataset: "cifar10", width: 0.03125, zDim: 4 });
  try {
    const enc = cvae.model.getLayer("cmg_encoder") as tf.LayersModel;
    const dec = cvae.model.getLayer("cmg_decoder") as tf.LayersModel;
    const bns = [
      enc.getLayer("cmg_convE_bn1"),
      dec.getLayer("cmg_convD_decoder_0_block_2"),
      dec.getLayer("cmg_convD_decoder_7"),
    ];
    const stats = () => bns.map((l) => l.getWeights().slice(2).map((w) => Array.from(w.dataSync())));
    const x = tf.randomUniform([4, 32, 32, 3]) as tf.Tensor4D;
    const initial = stats();
    assert.deepEqual(initial[0]![0]!.slice(0, 2), [0, 0]); // moving mean 0, variance 1 (PyTorch's init)
    assert.deepEqual(initial[0]![1]!.slice(0, 2), [1, 1]);
    await assertNoLeak(async () => {
      const { mu, logVar } = cvae.encode(x);
      const e = cvae.embed([0, 1, 2, 3]);
      const xHat = cvae.decode(mu, e);
      const f = cvae.forward(x, [0, 1, 2, 3]);
      assert.deepEqual(stats(), initial, "inference mode leaves the moving statistics alone");
      const t = cvae.forward(x, [0, 1, 2, 3], { training: true });
      const after = stats();
      for (let b = 0; b < bns.length; b++) {
        for (let k = 0; k < 2; k++) assert.notDeepEqual(after[b]![k], initial[b]![k], `${bns[b]!.name} stat ${k}`);
      }
      // Batch statistics give another μ than the moving ones.
      assert.ok(!(await t.mu.data()).every((v, i) => Math.abs(v - mu.dataSync()[i]!) < 1e-6));
      tf.dispose([mu, logVar, e, xHat, f.mu, f.logVar, f.xHat, t.mu, t.logVar, t.xHat]);
    });
    x.dispose();
  } finally {
    cvae.dispose();
  }
});

/** n random 32×32×3 images with labels i mod 6. */
function cifarLike(n: number, seed: number): Dataset {
  const rng = new Rng(seed), images = new Uint8Array(n * 3072), labels = new Int32Array(n);
  for (let i = 0; i < images.length; i++) images[i] = rng.int(256);
  for (let i = 0; i < n; i++) labels[i] = i % 6;
  return { name: "cifar-like", images, labels, shape: [n, 32, 32, 3], classes: ["0", "1", "2", "3", "4", "5"] };
}

Deno.test("trainCmgCvae() trains the CIFAR-10 CVAE on 32×32×3 images and checkpoints it, without leaks", async () => {
  seedEverything(8);
  const cvae = createCmgCvae({ dataset: "cifar10", width: 0.015625, zDim: 4 });
  const runDir = await Deno.makeTempDir();
  try {
    const data = cifarLike(16, 1);
    const h = await assertNoLeak(() =>
      trainCmgCvae(cvae, data, { epochs: 2, batchSize: 8, lr: 1e-2, seed: 0, runDir })
    );
    assert.equal(h.loss.length, 2);
    assert.equal(h.steps, 4);
    assert.ok(h.loss.every(Number.isFinite), `loss ${h.loss}`);
    assert.ok(h.loss[1]! < h.loss[0]!, `loss ${h.loss[0]} → ${h.loss[1]}`);
    // The checkpoint of the nested model reloads: a fresh CVAE resumes at the end and keeps the history.
    const again = createCmgCvae({ dataset: "cifar10", width: 0.015625, zDim: 4 });
    try {
      const h2 = await trainCmgCvae(again, data, { epochs: 2, batchSize: 8, lr: 1e-2, seed: 0, runDir });
      assert.deepEqual(h2.loss, h.loss);
      const [a, b] = [cvae.model.getWeights(), again.model.getWeights()];
      for (let i = 0; i < a.length; i++) assertClose(b[i]!.dataSync(), a[i]!.dataSync(), 0, `weight ${i}`);
    } finally {
      again.dispose();
    }
    await assert.rejects(() => trainCmgCvae(cvae, bars(2, 0), { epochs: 1, seed: 0 }), /needs 32×32×3 images/);
  } finally {
    cvae.dispose();
    await Deno.remove(runDir, { recursive: true });
  }
});
