import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { argmaxRows, fitMatrix, matrixTensor, scoreMatrix } from "@lib/scores/matrix.ts";

await initBackend({ backend: "cpu", log: null });

const m = { data: new Float32Array([1, 3, 2, 5, 5, 0]), dim: 3 };

Deno.test("matrixTensor() gives [rows, dim]; argmaxRows() keeps the first maximum", () => {
  const t = matrixTensor(m);
  assert.deepEqual(t.shape, [2, 3]);
  t.dispose();
  assert.deepEqual([...argmaxRows(m)], [1, 0]);
  assert.deepEqual([...argmaxRows({ data: new Float32Array(0), dim: 0 })], []);
});

Deno.test("scoreMatrix() and fitMatrix() read the result and dispose every tensor", async () => {
  const before = tf.memory().numTensors;
  const rowMax = await scoreMatrix(m, (t) => tf.max(t, 1) as tf.Tensor1D);
  assert.deepEqual([...rowMax], [3, 5]);
  const columns = fitMatrix(m, (t) => t.shape[1]);
  assert.equal(columns, 3);
  assert.equal(tf.memory().numTensors, before);
});
