import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { assertMatchesCpu, input } from "./_compare.ts";
import { chunkLength } from "@lib/engine/webgpu/conv2d_backprop_filter.ts";

// Named explicitly, the webgpu engine accepts a software adapter: Mesa's lavapipe (Debian mesa-vulkan-drivers).
const report = await initBackend({ backend: "webgpu", log: null });

Deno.test("the webgpu engine runs on a real WebGPU adapter and reports it", () => {
  assert.equal(tf.getBackend(), "webgpu");
  assert.match(report.description, /^WebGPU on /);
});

Deno.test("ops and their gradients on webgpu match cpu (matMul, conv2d, relu, softmax, batchNorm, pooling)", async () => {
  const tol = 2e-5;
  await assertMatchesCpu("matMul + grads", "webgpu", { a: input([17, 9], 1), b: input([9, 5], 2) }, (t) => {
    const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.matMul(a, b)));
    return [tf.matMul(t.a!, t.b!), ...tf.grads(f)([t.a!, t.b!])];
  }, tol);
  await assertMatchesCpu(
    "conv2d s2 + grads",
    "webgpu",
    { x: input([2, 9, 9, 3], 3), w: input([3, 3, 3, 4], 4) },
    (t) => {
      const f = (x: tf.Tensor, w: tf.Tensor) =>
        tf.sum(tf.square(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, "same")));
      return [tf.conv2d(t.x as tf.Tensor4D, t.w as tf.Tensor4D, 2, "same"), ...tf.grads(f)([t.x!, t.w!])];
    },
    tol,
  );
  await assertMatchesCpu("relu/softmax/logSoftmax + grad", "webgpu", { x: input([6, 10], 5, (v) => 4 * v) }, (t) => {
    const f = (x: tf.Tensor) => tf.sum(tf.mul(tf.logSoftmax(tf.relu(x)), tf.softmax(x)));
    return [tf.relu(t.x!), tf.softmax(t.x!), tf.grad(f)(t.x!)];
  }, tol);
  const bnInputs = { x: input([4, 5, 5, 3], 6), s: input([3], 7), o: input([3], 8), g: input([4, 5, 5, 3], 10) };
  await assertMatchesCpu("moments + batchNorm + grads", "webgpu", bnInputs, (t) => {
    const bn = (x: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => {
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      return tf.batchNorm(x, mean, variance, o as tf.Tensor1D, s as tf.Tensor1D, 1e-3);
    };
    const loss = (x: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => tf.sum(tf.mul(bn(x, s, o), t.g!));
    return [bn(t.x!, t.s!, t.o!), ...tf.grads(loss)([t.x!, t.s!, t.o!])];
  }, 1e-4); // ∂x of batch norm is a difference of nearly equal sums; GPU reduction order shows at ~5e-5
  await assertMatchesCpu("maxPool/avgPool + grads", "webgpu", { x: input([2, 8, 8, 3], 9) }, (t) => {
    const f = (x: tf.Tensor) =>
      tf.add(
        tf.sum(tf.square(tf.maxPool(x as tf.Tensor4D, 2, 2, "valid"))),
        tf.sum(tf.avgPool(x as tf.Tensor4D, 3, 1, "same")),
      );
    return [tf.maxPool(t.x as tf.Tensor4D, 2, 2, "valid"), tf.grad(f)(t.x!)];
  }, tol);
});

Deno.test("the split-K filter gradient on webgpu matches cpu for kernels 1/3/5, strides 1/2, same/valid, odd sizes", async () => {
  type Shape4 = [number, number, number, number];
  for (
    const [xShape, k, s, pad] of [
      [[2, 9, 8, 3], 3, 1, "same"],
      [[2, 9, 8, 3], 3, 2, "same"],
      [[1, 7, 7, 1], 5, 1, "valid"],
      [[3, 8, 8, 4], 1, 2, "same"],
      [[2, 11, 10, 5], 5, 2, "valid"],
    ] as [Shape4, number, number, "same" | "valid"][]
  ) {
    const inputs = { x: input(xShape, 11), w: input([k, k, xShape[3], 4], 12) };
    await assertMatchesCpu(
      `dW k${k} s${s} ${pad}`,
      "webgpu",
      inputs,
      (t) =>
        tf.grad((w: tf.Tensor) => tf.sum(tf.square(tf.conv2d(t.x as tf.Tensor4D, w as tf.Tensor4D, s, pad))))(t.w!),
      2e-5,
    );
  }
});

Deno.test("chunkLength picks the largest divisor up to the cap", () => {
  assert.equal(chunkLength(131072), 1024);
  assert.equal(chunkLength(2 * 9 * 8), 144);
  assert.equal(chunkLength(1031 * 2, 1024), 2);
  assert.equal(chunkLength(1), 1);
});
