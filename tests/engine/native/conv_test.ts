import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { assertMatchesCpu, input } from "../_compare.ts";
import { nativeTest } from "./_native.ts";

type Pad = "same" | "valid" | [[0, 0], [number, number], [number, number], [0, 0]];

/** y, ∂x and ∂w of Σ conv2d(x, w) ⊙ g on both backends. */
async function checkConv(label: string, xShape: number[], wShape: number[], stride: number, pad: Pad) {
  type Shape4 = [number, number, number, number];
  const probe = tf.conv2d(
    tf.zeros(xShape as Shape4) as tf.Tensor4D,
    tf.zeros(wShape as Shape4) as tf.Tensor4D,
    stride,
    pad,
  );
  const inputs = { x: input(xShape, 1), w: input(wShape, 2), g: input(probe.shape, 3) };
  probe.dispose();
  await assertMatchesCpu(label, "wasm", inputs, (t) => {
    const f = (x: tf.Tensor, w: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, pad), t.g!));
    const [dx, dw] = tf.grads(f)([t.x!, t.w!]);
    return [tf.conv2d(t.x as tf.Tensor4D, t.w as tf.Tensor4D, stride, pad), dx!, dw!];
  });
}

nativeTest(
  "conv2d forward, input and filter gradients match cpu for kernels 1/3/5/7, strides 1/2/3, same/valid",
  async () => {
    for (const k of [1, 3, 5, 7]) {
      for (const s of [1, 2, 3]) {
        for (const pad of ["same", "valid"] as const) {
          await checkConv(`k${k} s${s} ${pad}`, [2, 9, 8, 3], [k, k, 3, 5], s, pad);
        }
      }
    }
  },
);

nativeTest("conv2d matches cpu for batch 1, one channel, odd sizes and explicit asymmetric padding", async () => {
  await checkConv("batch 1, C=1", [1, 7, 7, 1], [3, 3, 1, 4], 1, "same");
  await checkConv("odd channels", [3, 11, 5, 7], [3, 2, 7, 9], 2, "same");
  await checkConv("explicit pad", [2, 6, 7, 2], [3, 3, 2, 3], 1, [[0, 0], [1, 2], [2, 0], [0, 0]]);
  await checkConv("1x1 stride 2", [2, 8, 8, 4], [1, 1, 4, 6], 2, "same");
});

nativeTest("fused conv2d with bias and each native activation matches cpu, PReLU falls back", async () => {
  for (const activation of ["linear", "relu", "relu6", "elu", "sigmoid", "leakyrelu", "prelu"] as const) {
    const inputs = {
      x: input([2, 7, 6, 3], 4, (v) => v * 4),
      w: input([3, 3, 3, 5], 5),
      b: input([5], 6),
      a: input([5], 7),
    };
    await assertMatchesCpu(`fused ${activation}`, "wasm", inputs, (t) =>
      tf.fused.conv2d({
        x: t.x as tf.Tensor4D,
        filter: t.w as tf.Tensor4D,
        strides: 2,
        pad: "same",
        bias: t.b,
        activation,
        preluActivationWeights: activation === "prelu" ? t.a : undefined,
        leakyreluAlpha: 0.1,
      }));
  }
});

nativeTest("the gradient of a fused conv2d + bias + relu matches cpu", async () => {
  const inputs = { x: input([2, 6, 6, 3], 8), w: input([3, 3, 3, 4], 9), b: input([4], 10) };
  await assertMatchesCpu("fused relu grads", "wasm", inputs, (t) => {
    const f = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
      tf.sum(
        tf.square(
          tf.fused.conv2d({
            x: x as tf.Tensor4D,
            filter: w as tf.Tensor4D,
            strides: 1,
            pad: "same",
            bias: b,
            activation: "relu",
          }),
        ),
      );
    return tf.grads(f)([t.x!, t.w!, t.b!]);
  });
});

nativeTest("dilated conv2d forward and conv2dTranspose (with gradients) match cpu", async () => {
  await assertMatchesCpu(
    "dilation 2",
    "wasm",
    { x: input([2, 9, 9, 2], 11), w: input([3, 3, 2, 3], 12) },
    (t) => tf.conv2d(t.x as tf.Tensor4D, t.w as tf.Tensor4D, 1, "same", "NHWC", 2),
  );
  const inputs = { z: input([2, 4, 4, 5], 13), w: input([3, 3, 2, 5], 14) };
  await assertMatchesCpu("conv2dTranspose s2", "wasm", inputs, (t) => {
    const f = (z: tf.Tensor, w: tf.Tensor) =>
      tf.sum(tf.square(tf.conv2dTranspose(z as tf.Tensor4D, w as tf.Tensor4D, [2, 8, 8, 2], 2, "same")));
    return [
      tf.conv2dTranspose(t.z as tf.Tensor4D, t.w as tf.Tensor4D, [2, 8, 8, 2], 2, "same"),
      ...tf.grads(f)([t.z!, t.w!]),
    ];
  });
});

nativeTest("NCHW convolutions go to the wasm kernel, which refuses them with a clear error", () => {
  const x = tf.zeros([2, 3, 6, 6]) as tf.Tensor4D, w = tf.zeros([3, 3, 3, 4]) as tf.Tensor4D;
  assert.throws(() => tf.conv2d(x, w, 1, "same", "NCHW"), /does not support dataFormat:'channelsFirst'/);
  tf.dispose([x, w]);
});

nativeTest(
  "repeated calls give the same, correct filter gradient (regression: strided 1x1 in oneDNN 2.6)",
  async () => {
    for (
      const [xShape, wShape, stride] of [[[2, 8, 8, 4], [1, 1, 4, 6], 2], [[4, 8, 8, 8], [3, 3, 8, 8], 2]] as const
    ) {
      for (let rep = 0; rep < 10; rep++) {
        await checkConv(`${wShape} s${stride} call ${rep}`, [...xShape], [...wShape], stride, "same");
      }
    }
  },
);
