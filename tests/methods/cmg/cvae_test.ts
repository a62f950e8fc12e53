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
