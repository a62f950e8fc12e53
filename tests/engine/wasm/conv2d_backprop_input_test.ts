import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { assertMatchesCpu, input, runOn } from "../_compare.ts";
import { assertNoLeaks, tensorsOf } from "./_leaks.ts";
import { caseName, CONV_CASES, type ConvCase } from "./_conv_cases.ts";

await initBackend({ backend: "wasm", log: null });

function outShape(c: ConvCase): number[] {
  return tf.backend_util.computeConv2DInfo(c.x, c.w, c.strides, 1, c.pad, c.dimRoundingMode).outShape;
}

function inputGrad(c: ConvCase, t: Record<string, tf.Tensor>, extra: Record<string, unknown> = {}): tf.Tensor {
  return tf.engine().runKernel("Conv2DBackpropInput", { dy: t.dy!, filter: t.w! }, {
    strides: c.strides,
    pad: c.pad,
    dataFormat: "NHWC",
    ...(c.dimRoundingMode ? { dimRoundingMode: c.dimRoundingMode } : {}),
    inputShape: c.x,
    ...extra,
  }) as tf.Tensor;
}

for (const [i, c] of CONV_CASES.entries()) {
  Deno.test(`Conv2DBackpropInput kernel matches cpu: ${caseName(c)}`, async () => {
    const inputs = { dy: input(outShape(c), 20 + i), w: input(c.w, 60 + i) };
    await assertMatchesCpu(caseName(c), "wasm", inputs, (t) => inputGrad(c, t));
  });
}

for (const [i, c] of CONV_CASES.filter((c) => !c.dimRoundingMode).entries()) {
  Deno.test(`tf.grad of conv2d w.r.t. the input matches cpu: ${caseName(c)}`, async () => {
    const inputs = { x: input(c.x, 400 + i), w: input(c.w, 500 + i), r: input(outShape(c), 600 + i) };
    await assertMatchesCpu(caseName(c), "wasm", inputs, (t) => {
      const loss = (x: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2d(x as tf.Tensor4D, t.w as tf.Tensor4D, c.strides, c.pad), t.r!));
      return tf.grad(loss)(t.x!);
    });
  });
}

/** conv2dTranspose is Conv2DBackpropInput forward; its gradients are a conv (input) and a filter gradient. */
const TRANSPOSE_CASES: { x: number[]; w: number[]; out: number[]; strides: number; pad: "same" | "valid" }[] = [
  { x: [2, 4, 4, 3], w: [3, 3, 5, 3], out: [2, 8, 8, 5], strides: 2, pad: "same" },
  { x: [1, 5, 5, 4], w: [3, 3, 1, 4], out: [1, 11, 11, 1], strides: 2, pad: "valid" },
  { x: [2, 3, 3, 2], w: [5, 5, 3, 2], out: [2, 9, 9, 3], strides: 3, pad: "same" },
  { x: [1, 6, 6, 3], w: [3, 3, 2, 3], out: [1, 6, 6, 2], strides: 1, pad: "same" },
  { x: [1, 3, 3, 3], w: [4, 4, 3, 3], out: [1, 6, 6, 3], strides: 2, pad: "same" },
];
for (const [i, c] of TRANSPOSE_CASES.entries()) {
  const name = `x${JSON.stringify(c.x)} w${c.w[0]}x${c.w[1]} s${c.strides} ${c.pad} → ${JSON.stringify(c.out)}`;
  Deno.test(`conv2dTranspose and its gradients match cpu: ${name}`, async () => {
    const inputs = { x: input(c.x, 700 + i), w: input(c.w, 800 + i), r: input(c.out, 900 + i) };
    await assertMatchesCpu(name, "wasm", inputs, (t) => {
      const f = (x: tf.Tensor, w: tf.Tensor) =>
        tf.conv2dTranspose(
          x as tf.Tensor4D,
          w as tf.Tensor4D,
          c.out as [number, number, number, number],
          c.strides,
          c.pad,
        );
      const [dx, dw] = tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(f(x, w), t.r!)))([t.x!, t.w!]);
      return [f(t.x!, t.w!), dx!, dw!];
    });
  });
}

Deno.test("Conv2DBackpropInput frees its intermediates (tensors and wasm heap)", async () => {
  for (const c of [CONV_CASES[1]!, CONV_CASES[6]!, CONV_CASES[21]!, CONV_CASES[10]!]) {
    const t = tensorsOf({ dy: input(outShape(c), 1), w: input(c.w, 2) });
    await assertNoLeaks(caseName(c), () => inputGrad(c, t));
    tf.dispose(Object.values(t));
  }
});

Deno.test("Conv2DBackpropInput with NCHW falls back to the stock kernel and matches cpu", async () => {
  const inputs = { dy: input([2, 4, 4, 4], 31), w: input([3, 3, 3, 4], 32) };
  const f = (t: Record<string, tf.Tensor>) =>
    tf.engine().runKernel("Conv2DBackpropInput", { dy: t.dy!, filter: t.w! }, {
      strides: 2,
      pad: "same",
      dataFormat: "NCHW",
      inputShape: [2, 3, 8, 8],
    }) as tf.Tensor;
  await assertMatchesCpu("NCHW", "wasm", inputs, f);
  const [got] = await runOn("wasm", inputs, f);
  assert.deepEqual(got!.shape, [2, 3, 8, 8]);
});

Deno.test("Conv2DBackpropInput rejects dilations other than 1 (the stock kernel would ignore them)", async () => {
  await tf.setBackend("wasm");
  const c = CONV_CASES[1]!;
  const t = tensorsOf({ dy: input(outShape(c), 1), w: input(c.w, 2) });
  assert.throws(() => inputGrad(c, t, { dilations: [2, 2] }), /Conv2DBackpropInput.*dilations/);
  tf.dispose(Object.values(t));
});
