import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { L2Normalize, l2Normalize, l2NormalizeLayer } from "@lib/layers/l2_normalize.ts";
import { loadCheckpoint, saveCheckpoint } from "@lib/train/checkpoint.ts";
import { seedEverything } from "@lib/train/seed.ts";

await initBackend({ backend: "cpu", log: null });

const close = (a: ArrayLike<number>, b: number[], tol = 1e-6) =>
  Array.from(a).forEach((v, i) => assert.ok(Math.abs(v - b[i]!) <= tol, `[${i}] ${v} vs ${b[i]}`));

Deno.test("l2Normalize() divides each row by max(‖x‖₂, ε), as F.normalize", () => {
  const y = l2Normalize(tf.tensor2d([[3, 4], [0, 0], [1e-13, 0]]));
  // ‖[3,4]‖ = 5; the zero row stays zero; a row shorter than ε = 1e-12 is divided by ε.
  close(y.dataSync(), [0.6, 0.8, 0, 0, 0.1, 0]);
  close(l2Normalize(tf.tensor2d([[1, 2], [2, 2]]), 0).dataSync(), [
    1 / Math.sqrt(5),
    1 / Math.sqrt(2),
    2 / Math.sqrt(5),
    1 / Math.sqrt(2),
  ]);
});

Deno.test('l2Normalize() with the "add" guard is KNN\'s h / (‖h‖₂ + 1e-10), bit for bit', () => {
  seedEverything(3);
  const h = tf.tidy(() => tf.concat([tf.randomNormal([64, 37]), tf.zeros([1, 37]), tf.fill([1, 37], 1e-12)]));
  // The formula lib/scores/knn.ts used before it called this function, op for op.
  const knn = tf.tidy(() => tf.div(h, tf.add(tf.norm(h, "euclidean", 1, true), 1e-10)));
  assert.deepEqual(l2Normalize(h, 1, 1e-10, "add").dataSync(), knn.dataSync());
  assert.deepEqual(l2Normalize(h, -1, 1e-10, "add").dataSync(), knn.dataSync());
  // A zero row stays zero, and a tiny one is shrunk rather than blown up to unit length.
  close(l2Normalize(tf.tensor2d([[0, 0], [1e-10, 0], [3, 4]]), 1, 1e-10, "add").dataSync(), [0, 0, 0.5, 0, 0.6, 0.8]);
});

Deno.test("l2Normalize() gradient is (I − y·yᵀ)/‖x‖ times the upstream gradient, finite at 0", () => {
  // x = [3, 4], y = [0.6, 0.8], upstream 1: ([1, 1] − y·(y·[1, 1]))/5 = ([1, 1] − 1.4·y)/5 = [0.032, −0.024]
  const g = tf.grad((x: tf.Tensor) => tf.sum(l2Normalize(x)))(tf.tensor2d([[3, 4]]));
  close(g.dataSync(), [0.032, -0.024]);
  const g0 = tf.grad((x: tf.Tensor) => tf.sum(l2Normalize(x)))(tf.tensor2d([[0, 0]]));
  assert.ok(Array.from(g0.dataSync()).every(Number.isFinite));
});

Deno.test("L2Normalize layer leaks nothing and round-trips through a checkpoint", async () => {
  seedEverything(1);
  const inp = tf.input({ shape: [4] });
  const z = l2NormalizeLayer({ axis: -1 }).apply(tf.layers.dense({ units: 3 }).apply(inp)) as tf.SymbolicTensor;
  const model = tf.model({ inputs: inp, outputs: z });
  const x = tf.tensor2d([[1, 2, 3, 4], [-1, 0, 0.5, 2]]);
  const before = tf.memory().numTensors;
  const y = model.predict(x) as tf.Tensor;
  assert.equal(tf.memory().numTensors, before + 1);
  close(tf.tidy(() => tf.sum(tf.square(y), -1)).dataSync(), [1, 1]);
  const dir = await Deno.makeTempDir();
  try {
    const path = await saveCheckpoint(dir, {
      model,
      state: { epoch: 0, step: 0, mathRandom: null, streams: {}, config: null },
    });
    const loaded = await loadCheckpoint(path);
    assert.ok(loaded.model.layers.some((l) => l instanceof L2Normalize));
    assert.deepEqual((loaded.model.predict(x) as tf.Tensor).dataSync(), y.dataSync());
    loaded.model.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  tf.dispose([x, y]);
  model.dispose();
});
