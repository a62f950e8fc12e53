import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { checkWidth, conv, scaled } from "@lib/backbones/_blocks.ts";

await initBackend({ backend: "native", log: null });

Deno.test("scaled() rounds like Math.round and keeps at least one channel", () => {
  assert.deepEqual([scaled(64, 1), scaled(64, 0.25), scaled(6, 0.25), scaled(12, 1 / 6), scaled(16, 0.01)], [
    64,
    16,
    2,
    2,
    1,
  ]);
});

Deno.test("checkWidth() defaults to 1 and rejects widths that are not positive and finite", () => {
  assert.equal(checkWidth(undefined), 1);
  for (const bad of [0, -1, NaN, Infinity]) assert.throws(() => checkWidth(bad), RangeError);
});

Deno.test("conv() with stride 2 and padding 1 samples the pixels PyTorch's Conv2d(padding=1, stride=2) samples", async () => {
  const input = tf.input({ shape: [4, 4, 1] });
  const model = tf.model({ inputs: input, outputs: conv(input, { filters: 1, kernelSize: 3, strides: 2 }) });
  // A kernel that picks the window's centre: the output is the input at the centres.
  model.layers.at(-1)!.setWeights([tf.tensor4d([0, 0, 0, 0, 1, 0, 0, 0, 0], [3, 3, 1, 1])]);
  const x = tf.tensor4d([...Array(16).keys()], [1, 4, 4, 1]);
  const y = model.predict(x) as tf.Tensor;
  // PyTorch pads one pixel on every side, so windows are centred on rows/columns 0 and 2 (TF's "same" would
  // pad only bottom/right and centre them on 1 and 3).
  assert.deepEqual(Array.from(await y.data()), [0, 2, 8, 10]);
  tf.dispose([x, y]);
  model.dispose();
});
