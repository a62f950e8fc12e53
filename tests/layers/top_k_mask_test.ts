import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { maskedCount, SubnetConv2D, SubnetDense, topKMask, toSubnetModel } from "@lib/layers/top_k_mask.ts";
import { loadCheckpoint, saveCheckpoint } from "@lib/train/checkpoint.ts";
import { seedEverything } from "@lib/train/seed.ts";

await initBackend({ backend: "cpu", log: null });

Deno.test("maskedCount() is Python's int((1 - k) * n), float rounding included", () => {
  assert.equal(maskedCount(5, 0.6), 2); // (1 − 0.6)·5 = 2.0000000000000004 → 2
  assert.equal(maskedCount(10, 0.8), 1); // (1 − 0.8)·10 = 1.9999999999999996 → 1
  assert.equal(maskedCount(100, 0.8), 19);
  assert.equal(maskedCount(1000, 0.965), 35);
  assert.equal(maskedCount(7, 1), 0);
  assert.equal(maskedCount(7, 0), 7);
  assert.throws(() => maskedCount(3, 1.5), /keepRate must be in \[0, 1\]/);
});

Deno.test("topKMask() zeroes the j smallest scores per tensor and keeps the rest", () => {
  // |s| = [0.5, 3, 0.1, 2, 0.7], k = 0.6: j = 2 → the two smallest (0.1, 0.5) become 0.
  const s = tf.tensor1d([0.5, -3, 0.1, 2, 0.7]);
  assert.deepEqual(Array.from(topKMask(tf.abs(s), 0.6).dataSync()), [0, 1, 0, 1, 1]);
  const m = topKMask(tf.tensor2d([[4, 1, 3], [2, 6, 5]]), 0.5); // j = 3: 1, 2, 3 dropped
  assert.deepEqual(m.shape, [2, 3]);
  assert.deepEqual(Array.from(m.dataSync()), [1, 0, 0, 0, 1, 1]);
  assert.deepEqual(Array.from(topKMask(s, 1).dataSync()), [1, 1, 1, 1, 1]);
  assert.deepEqual(Array.from(topKMask(s, 0).dataSync()), [0, 0, 0, 0, 0]);
});

Deno.test("topKMask() gradient is straight-through: the upstream gradient, masked entries included", () => {
  const c = tf.tensor1d([1, 2, 3, 4, 5]);
  const s = tf.tensor1d([0.5, -3, 0.1, 2, 0.7]);
  const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(topKMask(x, 0.6), c)))(s);
  assert.deepEqual(Array.from(g.dataSync()), [1, 2, 3, 4, 5]);
  // Through |s| (edge-popup's clamped_scores): ∂/∂s = c ⊙ sign(s).
  const ga = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(topKMask(tf.abs(x), 0.6), c)))(s);
  assert.deepEqual(Array.from(ga.dataSync()), [1, -2, 3, 4, 5]);
});

/** A SubnetDense 2 → 2 with hand-set kernel, bias and scores. */
function handDense(keepRate: number): SubnetDense {
  const layer = new SubnetDense({ units: 2, keepRate });
  layer.build([null, 2]);
  // Layer weights list trainable ones first: [scores, kernel, bias] when the kernel is frozen.
  layer.setWeights([tf.tensor2d([[0.1, -5], [3, 0.2]]), tf.tensor2d([[1, 2], [3, 4]]), tf.tensor1d([0.5, -0.5])]);
  return layer;
}

Deno.test("SubnetDense computes x·(W ⊙ m) + b and sends ∂L/∂s = (∂L/∂W_eff ⊙ W) ⊙ sign(s) to the scores only", () => {
  // k = 0.5, n = 4: j = 2 → |s| 0.1 and 0.2 dropped → m = [[0, 1], [1, 0]], W ⊙ m = [[0, 2], [3, 0]].
  const layer = handDense(0.5);
  assert.deepEqual(Array.from(layer.mask().dataSync()), [0, 1, 1, 0]);
  const x = tf.tensor2d([[1, 1]]);
  assert.deepEqual(Array.from((layer.apply(x) as tf.Tensor).dataSync()), [3.5, 1.5]);
  // Frozen weights (the default): only the scores are trainable.
  assert.deepEqual(layer.trainableWeights.map((w) => w.originalName.split("/").pop()), ["scores"]);
  const vars = layer.trainableWeights.map((w) => w.read() as tf.Variable);
  const { grads } = tf.variableGrads(() => tf.sum(layer.apply(x) as tf.Tensor) as tf.Scalar, vars);
  // L = Σy: ∂L/∂W_eff = xᵀ·1 = all ones; ⊙ W = [[1, 2], [3, 4]]; ⊙ sign(s) = [[1, −2], [3, 4]]
  assert.deepEqual(Array.from(grads[vars[0]!.name]!.dataSync()), [1, -2, 3, 4]);
  const open = new SubnetDense({ units: 2, freezeWeights: false });
  open.build([null, 2]);
  assert.deepEqual(open.trainableWeights.map((w) => w.originalName.split("/").pop()), ["kernel", "bias", "scores"]);
});

Deno.test("SubnetConv2D equals conv2d with the masked kernel; scores start as U(±1/√fan_in)", () => {
  seedEverything(4);
  const layer = new SubnetConv2D({ filters: 3, kernelSize: 3, padding: "same", keepRate: 0.8, activation: "relu" });
  const x = tf.randomNormal([2, 5, 5, 2]);
  const y = layer.apply(x) as tf.Tensor;
  const [kernel, bias, scores] = [layer.getWeights()[1]!, layer.getWeights()[2]!, layer.getWeights()[0]!];
  assert.deepEqual(scores.shape, [3, 3, 2, 3]);
  const bound = 1 / Math.sqrt(3 * 3 * 2);
  assert.ok(Array.from(scores.dataSync()).every((v) => Math.abs(v) <= bound));
  const mask = layer.mask();
  assert.equal(mask.sum().dataSync()[0], 54 - maskedCount(54, 0.8)); // 54 weights, 10 dropped
  const expected = tf.relu(tf.add(tf.conv2d(x as tf.Tensor4D, tf.mul(kernel, mask) as tf.Tensor4D, 1, "same"), bias));
  const diff = tf.max(tf.abs(tf.sub(y, expected))).dataSync()[0]!;
  assert.ok(diff < 1e-5, `max |Δ| = ${diff}`);
});

Deno.test("subnet layers round-trip through a checkpoint, masks and frozen weights included", async () => {
  seedEverything(6);
  const inp = tf.input({ shape: [6, 6, 1] });
  let h = new SubnetConv2D({ filters: 2, kernelSize: 3, keepRate: 0.7 }).apply(inp) as tf.SymbolicTensor;
  h = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
  const out = new SubnetDense({ units: 3, keepRate: 0.9, freezeWeights: false }).apply(h) as tf.SymbolicTensor;
  const model = tf.model({ inputs: inp, outputs: out });
  const x = tf.randomNormal([2, 6, 6, 1]);
  const dir = await Deno.makeTempDir();
  try {
    const path = await saveCheckpoint(dir, {
      model,
      state: { epoch: 0, step: 0, mathRandom: null, streams: {}, config: null },
    });
    const loaded = await loadCheckpoint(path);
    assert.deepEqual((loaded.model.predict(x) as tf.Tensor).dataSync(), (model.predict(x) as tf.Tensor).dataSync());
    const names = (m: tf.LayersModel) => m.trainableWeights.map((w) => w.originalName.split("/").pop());
    assert.deepEqual(names(loaded.model), names(model));
    assert.deepEqual(names(model), ["scores", "kernel", "bias", "scores"]);
    const dense = loaded.model.layers.find((l) => l instanceof SubnetDense) as SubnetDense;
    assert.equal(dense.keepRate, 0.9);
    loaded.model.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  model.dispose();
});

Deno.test("toSubnetModel() swaps Conv2D/Dense for subnet layers, keeps the weights and freezes all but the scores", async () => {
  seedEverything(9);
  const inp = tf.input({ shape: [6, 6, 1] });
  let h = tf.layers.conv2d({ filters: 2, kernelSize: 3, padding: "same" }).apply(inp) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization().apply(h) as tf.SymbolicTensor;
  h = tf.layers.flatten().apply(tf.layers.reLU().apply(h)) as tf.SymbolicTensor;
  const model = tf.model({ inputs: inp, outputs: tf.layers.dense({ units: 3 }).apply(h) as tf.SymbolicTensor });
  const x = tf.randomNormal([2, 6, 6, 1]);
  const before = tf.memory().numTensors;
  const full = await toSubnetModel(model, { keepRate: 1 });
  assert.equal(tf.memory().numTensors, before + full.weights.length, "only the copy's own variables are new");
  // k = 1 keeps every weight: the same function as the original.
  const d = tf.max(tf.abs(tf.sub(full.predict(x) as tf.Tensor, model.predict(x) as tf.Tensor))).dataSync()[0]!;
  assert.ok(d < 1e-5);
  assert.deepEqual(full.layers.map((l) => l.getClassName()).filter((n) => n.startsWith("Subnet")), [
    "SubnetConv2D",
    "SubnetDense",
  ]);
  assert.deepEqual(full.trainableWeights.map((w) => w.originalName.split("/").pop()), ["scores", "scores"]);
  const umap = await toSubnetModel(model); // k = 0.8
  const conv = umap.layers.find((l) => l instanceof SubnetConv2D) as SubnetConv2D;
  assert.equal(conv.mask().sum().dataSync()[0], 18 - maskedCount(18, 0.8));
  [model, full, umap].forEach((m) => m.dispose());
});
