import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { batchToTensor } from "@lib/data/tensors.ts";
import { classDistances, DETECTORS, fitMahalanobis } from "@lib/scores/mod.ts";
import { combineLayers, fgsm, layerScores, toFloat32Scores } from "@lib/scores/um_mahalanobis.ts";
import { scoreAll } from "@lib/experiment/score.ts";
import { crossEntropy } from "@lib/methods/unleashing_mask/loss.ts";
import { seedEverything } from "@lib/train/seed.ts";
import { tinyDataset, tinyNet } from "../methods/unleashing_mask/_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

const norm = { mean: [0.5], std: [0.25] };

Deno.test("fgsm() steps 0.05 in [0, 1]-pixel space along the CE gradient sign, clipped to [0, 1], and raises the loss", () => {
  seedEverything(1);
  const net = { ...tinyNet(), normalization: norm };
  const ds = tinyDataset(12, 3);
  const x = batchToTensor(ds.images, ds.shape, norm) as tf.Tensor4D, y = tf.tensor1d(ds.labels, "int32");
  const adv = fgsm(net, x, y, 0.05);
  const px = tf.add(tf.mul(x, 0.25), 0.5), pa = tf.add(tf.mul(adv, 0.25), 0.5);
  const step = tf.abs(tf.sub(pa, px)).dataSync();
  const pixels = pa.dataSync();
  for (let i = 0; i < step.length; i++) {
    assert.ok(step[i]! <= 0.05 + 1e-6, "at most one step");
    assert.ok(pixels[i]! >= -1e-6 && pixels[i]! <= 1 + 1e-6, "inside [0, 1]");
  }
  const before = crossEntropy(net.logits(x), y).dataSync()[0]!, after = crossEntropy(net.logits(adv), y).dataSync()[0]!;
  assert.ok(after > before, `CE ${before} → ${after}`);
});

Deno.test("layerScores() at magnitude 0 is Lee's max_c −½ D per layer; combineLayers() is −σ(z) or −z", () => {
  seedEverything(2);
  // Without featureList the network has one layer: its penultimate features.
  const { featureList: _list, featureListDims: _dims, ...net } = tinyNet();
  const train = tinyDataset(30, 4);
  const xt = batchToTensor(train.images, train.shape, net.normalization) as tf.Tensor4D;
  const state = fitMahalanobis(net.features(xt), train.labels, { numClasses: 3 });
  const x = xt.slice([0, 0, 0, 0], [5, -1, -1, -1]);
  const rows = layerScores(net, [state], x, 0, 4);
  const d = classDistances(state, net.features(x)).arraySync();
  rows.forEach((r, i) => assert.ok(Math.abs(r[0]! + 0.5 * Math.min(...d[i]!)) < 1e-3 * (1 + Math.abs(r[0]!))));
  const reg = { weights: [-2], intercept: 1, C: 1 };
  const p = combineLayers({ regression: reg, output: "probability" }, [[0.5], [-3]]);
  assert.ok(Math.abs(p[0]! + 1 / (1 + Math.exp(-(1 - 1)))) < 1e-12);
  assert.deepEqual(Array.from(combineLayers({ regression: reg, output: "logit" }, [[0.5], [-3]])), [-0, -7]);
});

Deno.test("umMahalanobis searches the magnitudes in order, tunes on test or held-out images, scores the first `limit`; no tensors kept", async () => {
  seedEverything(3);
  const net = tinyNet();
  const sets = {
    train: tinyDataset(30, 5),
    test: tinyDataset(20, 6),
    heldOut: tinyDataset(20, 9),
    ood: { checker: tinyDataset(7, 8, "checker", true) },
  };
  const before = tf.memory().numTensors;
  const opts = { magnitudes: [0, 0.01], tuneSamples: 8, fitLimit: 24, output: "logit", limit: 5 } as const;
  const table = await scoreAll(net, sets, [
    { use: "umMahalanobis", opts: { ...opts, tuneOn: "heldOut" } },
    {
      use: "umMahalanobis",
      opts: { ...opts, tuneOn: "test", augment: [{ op: "horizontalFlip" }], output: "probability" },
      as: "faithful",
    },
  ], { batchSize: 8, seed: 0 });
  assert.equal(tf.memory().numTensors, before);
  const state = table.states.umMahalanobis as Awaited<ReturnType<NonNullable<typeof DETECTORS.umMahalanobis.fit>>>;
  assert.deepEqual(state.search.map((s) => s.magnitude), [0, 0.01]);
  const best = Math.min(...state.search.map((s) => s.fpr95));
  assert.equal(state.search.find((s) => s.fpr95 === best)!.magnitude, state.magnitude, "first best magnitude");
  assert.equal(state.regression.weights.length, 3, "one weight per lenet stage: both conv blocks and the features");
  assert.equal(state.layers[0]!.counts.reduce((a, b) => a + b, 0), 24, "class statistics of the first fitLimit images");
  for (const key of ["umMahalanobis", "faithful"]) {
    const s = table.scores[key]!;
    assert.equal(s.id.length, 5);
    assert.equal(s.ood.checker!.length, 5);
    assert.ok([...s.id, ...s.ood.checker!].every(Number.isFinite));
  }
  await assert.rejects(
    scoreAll(net, { ...sets, heldOut: undefined }, [{ use: "umMahalanobis", opts: { ...opts, tuneOn: "heldOut" } }], {
      batchSize: 8,
      seed: 0,
    }),
    /no held-out images/,
  );
  net.model.dispose();
});

Deno.test("toFloat32Scores() keeps the order and the ties of float64 −σ(z), which plain float32 would merge", () => {
  const z = Float64Array.of(-2, 0, 20, 20.5, 37, 38, -100, -100.5, -800, -900);
  const negP = Float64Array.from(z, (v) => -1 / (1 + Math.exp(-v)));
  const s = toFloat32Scores({ output: "probability" }, z);
  const order = (v: ArrayLike<number>) => Array.from(v, (_, i) => i).sort((a, b) => v[a]! - v[b]! || a - b);
  assert.deepEqual(order(s), order(negP));
  for (let i = 0; i < z.length; i++) {
    for (let j = 0; j < z.length; j++) assert.equal(s[i] === s[j], negP[i] === negP[j], `tie ${i}, ${j}`);
  }
  const plain = Float32Array.from(negP);
  assert.ok(plain[2] === plain[3] || plain[6] === plain[7], "plain float32 merges some of them");
  assert.ok(s.every(Number.isFinite));
  assert.deepEqual(Array.from(toFloat32Scores({ output: "logit" }, Float64Array.of(-3, 2))), [3, -2]);
});
