import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { maskedCount, SubnetConv2D, SubnetDense } from "@lib/layers/top_k_mask.ts";
import { cloneBackbone, maskSummary, subnetBackbone } from "@lib/methods/unleashing_mask/umap.ts";
import { createBackbone } from "@lib/backbones/mod.ts";
import { stageLoss } from "@lib/methods/unleashing_mask/finetune.ts";
import { seedEverything } from "@lib/train/seed.ts";
import { batchToTensor } from "@lib/data/tensors.ts";
import { tinyDataset, tinyNet } from "./_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

type Subnet = SubnetConv2D | SubnetDense;
const subnetLayers = (m: tf.LayersModel) =>
  m.layers.filter((l): l is Subnet => l instanceof SubnetConv2D || l instanceof SubnetDense);
const weightOf = (l: tf.layers.Layer, name: string) => l.weights.find((w) => w.originalName.endsWith(`/${name}`))!;

function batch(n: number, seed: number) {
  const ds = tinyDataset(n, seed);
  return {
    x: batchToTensor(ds.images, ds.shape, { mean: [0.5], std: [0.25] }) as tf.Tensor4D,
    y: tf.tensor1d(ds.labels, "int32"),
  };
}

Deno.test("subnetBackbone() keeps the top-k |scores| of every conv/dense layer, the original weights, and trains only the scores", async () => {
  seedEverything(3);
  const net = tinyNet();
  const sub = await subnetBackbone(net, { keepRate: 0.8, freezeWeights: true });
  const layers = subnetLayers(sub.model);
  assert.equal(layers.length, 4, "2 convs, the feature dense layer and the head");
  for (const l of layers) {
    const s = Array.from(tf.abs(l.scores!.read()).dataSync());
    const m = Array.from(l.mask().dataSync());
    assert.equal(m.filter((v) => v === 1).length, s.length - maskedCount(s.length, 0.8), l.name);
    const minKept = Math.min(...s.filter((_, i) => m[i] === 1)),
      maxDropped = Math.max(...s.filter((_, i) => m[i] === 0));
    assert.ok(minKept >= maxDropped, `${l.name}: kept |s| ≥ dropped |s|`);
    const orig = net.model.getLayer(l.name);
    assert.deepEqual(weightOf(l, "kernel").read().dataSync(), weightOf(orig, "kernel").read().dataSync());
  }
  assert.ok(sub.model.trainableWeights.every((w) => w.originalName.endsWith("/scores")), "only scores train");
  assert.deepEqual(
    maskSummary(sub.model).map((r) => r.total - r.kept),
    layers.map((l) => maskedCount(l.scores!.read().size, 0.8)),
  );
  const open = await subnetBackbone(net, { keepRate: 0.8, freezeWeights: false });
  assert.ok(
    open.model.trainableWeights.some((w) => w.originalName.endsWith("/kernel")),
    "CIFAR-100 UMAP: weights train too",
  );
  sub.model.dispose();
  open.model.dispose();
});

Deno.test("UMAP's UM loss reaches the scores straight through the mask: ∂L/∂s = (∂L/∂W_eff ⊙ W) ⊙ sign(s), sign flipping below UM", async () => {
  seedEverything(5);
  const net = tinyNet();
  const sub = await subnetBackbone(net, { keepRate: 0.5, freezeWeights: true });
  // The reference: a dense copy whose kernels are W ⊙ m, differentiated with respect to those kernels.
  const dense = await cloneBackbone(net);
  const layers = subnetLayers(sub.model);
  for (const l of layers) {
    const k = weightOf(dense.model.getLayer(l.name), "kernel");
    k.write(tf.mul(weightOf(l, "kernel").read(), l.mask()));
  }
  const b = batch(6, 9);
  const scoreVars = sub.model.trainableWeights.map((w) => w.read() as tf.Variable);
  const kernelVars = layers.map((l) => weightOf(dense.model.getLayer(l.name), "kernel").read() as tf.Variable);
  const gradsFor = (um: number) => {
    const crit = { kind: "um" as const, um };
    const gs = tf.variableGrads(() => stageLoss(sub, crit, 0)(b).loss, scoreVars);
    const gk = tf.variableGrads(() => stageLoss(dense, crit, 0)(b).loss, kernelVars);
    return { gs, gk };
  };
  const low = gradsFor(0); // CE > UM = 0: descent
  for (const [i, l] of layers.entries()) {
    const s = l.scores!.read() as tf.Variable, w = weightOf(l, "kernel").read();
    const expected = tf.mul(tf.mul(low.gk.grads[kernelVars[i]!.name]!, w), tf.sign(s));
    const got = low.gs.grads[s.name]!;
    const diff = tf.max(tf.abs(tf.sub(got, expected))).dataSync()[0]!;
    const scale = tf.max(tf.abs(expected)).dataSync()[0]!;
    assert.ok(scale > 0 && diff <= 1e-5 * Math.max(1, scale), `${l.name}: max |Δ| = ${diff} (scale ${scale})`);
  }
  const high = gradsFor(100); // CE < UM: ascent, the same gradient negated
  for (const v of scoreVars) {
    const diff = tf.max(tf.abs(tf.add(high.gs.grads[v.name]!, low.gs.grads[v.name]!))).dataSync()[0]!;
    assert.ok(diff < 1e-6, `${v.name}: below UM the gradient is negated`);
  }
  sub.model.dispose();
  dense.model.dispose();
});

Deno.test("cloneBackbone() copies the weights into new variables", async () => {
  seedEverything(2);
  const net = tinyNet();
  const copy = await cloneBackbone(net);
  const b = batch(3, 1);
  const a = net.logits(b.x).dataSync(), c = copy.logits(b.x).dataSync();
  assert.deepEqual(Array.from(c), Array.from(a));
  const k = copy.model.trainableWeights[0]!;
  k.write(tf.zerosLike(k.read()));
  assert.notDeepEqual(Array.from(net.model.trainableWeights[0]!.read().dataSync()), Array.from(k.read().dataSync()));
  copy.model.dispose();
});

Deno.test("UM's DenseNet with non-affine BatchNorm can be differentiated with respect to its input (ODIN, Mahalanobis)", () => {
  seedEverything(4);
  const net = createBackbone("densenet_bc_100", {
    numClasses: 3,
    inputShape: [8, 8, 1],
    width: 0.25,
    depth: 10,
    dropRate: 0.3,
    affineBatchNorm: false,
    normalization: { mean: [0.5], std: [0.25] },
  });
  const b = batch(4, 3);
  // Give the moving statistics non-trivial values first.
  net.logits(b.x, { training: true }).dispose();
  const g = tf.grad((x: tf.Tensor) => tf.sum(net.logits(x as tf.Tensor4D)))(b.x);
  assert.deepEqual(g.shape, b.x.shape);
  assert.ok(g.dataSync().every(Number.isFinite));
  assert.ok(g.dataSync().some((v) => v !== 0));
  tf.dispose([g, b.x, b.y]);
  net.model.dispose();
});
