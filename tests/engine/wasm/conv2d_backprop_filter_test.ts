import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { assertMatchesCpu, input } from "../_compare.ts";
import { assertNoLeaks, tensorsOf } from "./_leaks.ts";
import { caseName, CONV_CASES, type ConvCase } from "./_conv_cases.ts";

await initBackend({ backend: "wasm", log: null });

function outShape(c: ConvCase): number[] {
  return tf.backend_util.computeConv2DInfo(c.x, c.w, c.strides, 1, c.pad, c.dimRoundingMode).outShape;
}

function filterGrad(c: ConvCase, t: Record<string, tf.Tensor>): tf.Tensor {
  return tf.engine().runKernel("Conv2DBackpropFilter", { x: t.x!, dy: t.dy! }, {
    strides: c.strides,
    pad: c.pad,
    dataFormat: "NHWC",
    ...(c.dimRoundingMode ? { dimRoundingMode: c.dimRoundingMode } : {}),
    filterShape: c.w,
  }) as tf.Tensor;
}

for (const [i, c] of CONV_CASES.entries()) {
  Deno.test(`Conv2DBackpropFilter kernel matches cpu: ${caseName(c)}`, async () => {
    const inputs = { x: input(c.x, 10 + i), dy: input(outShape(c), 50 + i) };
    await assertMatchesCpu(caseName(c), "wasm", inputs, (t) => filterGrad(c, t));
  });
}

for (const [i, c] of CONV_CASES.filter((c) => !c.dimRoundingMode).entries()) {
  Deno.test(`tf.grad of conv2d w.r.t. the filter matches cpu: ${caseName(c)}`, async () => {
    const inputs = { x: input(c.x, 100 + i), w: input(c.w, 200 + i), r: input(outShape(c), 300 + i) };
    await assertMatchesCpu(caseName(c), "wasm", inputs, (t) => {
      const loss = (w: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2d(t.x as tf.Tensor4D, w as tf.Tensor4D, c.strides, c.pad), t.r!));
      return tf.grad(loss)(t.w!);
    });
  });
}

Deno.test("Conv2DBackpropFilter of a ResNet-sized layer (batch 4, 16→32, stride 2) matches cpu", async () => {
  const c: ConvCase = { x: [4, 12, 12, 16], w: [3, 3, 16, 32], strides: 2, pad: "same" };
  await assertMatchesCpu(caseName(c), "wasm", { x: input(c.x, 7), dy: input(outShape(c), 8) }, (t) => filterGrad(c, t));
});

Deno.test("Conv2DBackpropFilter frees its intermediates (tensors and wasm heap)", async () => {
  const swap = CONV_CASES[2]!, cropped = CONV_CASES[21]!;
  const pointwise = CONV_CASES.find((c) => c.w[0] === 1 && c.strides === 1)!;
  const im2col = CONV_CASES.find((c) => c.w[0] === 3 && 2 * 9 * c.w[2] <= c.w[3])!;
  for (const c of [swap, cropped, pointwise, im2col]) {
    const t = tensorsOf({ x: input(c.x, 1), dy: input(outShape(c), 2) });
    await assertNoLeaks(caseName(c), () => filterGrad(c, t));
    tf.dispose(Object.values(t));
  }
});

Deno.test("Conv2DBackpropFilter rejects NCHW with an error naming the kernel and the attribute", async () => {
  await tf.setBackend("wasm");
  const x = tf.zeros([1, 3, 6, 6]), dy = tf.zeros([1, 2, 6, 6]);
  assert.throws(
    () =>
      tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, {
        strides: 1,
        pad: "same",
        dataFormat: "NCHW",
        filterShape: [3, 3, 3, 2],
      }),
    /Conv2DBackpropFilter.*NCHW/,
  );
  tf.dispose([x, dy]);
});

Deno.test("Conv2DBackpropFilter rejects dilations other than 1", async () => {
  await tf.setBackend("wasm");
  const x = tf.zeros([1, 6, 6, 3]), dy = tf.zeros([1, 6, 6, 2]);
  assert.throws(
    () =>
      tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, {
        strides: 1,
        pad: "same",
        dataFormat: "NHWC",
        dilations: 2,
        filterShape: [3, 3, 3, 2],
      }),
    /Conv2DBackpropFilter.*dilations/,
  );
  tf.dispose([x, dy]);
});
