import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { spatialDropout2d } from "@lib/layers/spatial_dropout.ts";
import { seedEverything } from "@lib/train/seed.ts";

await initBackend({ backend: "native", log: null });
seedEverything(1);

/** The distinct values of an NHWC tensor, checking that each (sample, channel) map is constant. */
async function channelValues(t: tf.Tensor): Promise<Set<number>> {
  const [n, h, w, c] = t.shape as [number, number, number, number];
  const v = await t.data();
  const seen = new Set<number>();
  for (let s = 0; s < n; s++) {
    for (let ch = 0; ch < c; ch++) {
      const at = (i: number, j: number) => v[((s * h + i) * w + j) * c + ch]!;
      seen.add(at(0, 0));
      for (let i = 0; i < h; i++) {
        for (let j = 0; j < w; j++) assert.equal(at(i, j), at(0, 0), `sample ${s} channel ${ch}`);
      }
    }
  }
  return seen;
}

Deno.test("spatialDropout2d() zeroes whole channels per sample in training mode and scales the rest by 1/(1-rate)", async () => {
  const x = tf.ones([6, 3, 4, 8]);
  const y = spatialDropout2d({ rate: 0.5 }).apply(x, { training: true }) as tf.Tensor;
  assert.deepEqual([...await channelValues(y)].sort(), [0, 2]);
  tf.dispose([x, y]);
});

Deno.test("spatialDropout2d() is the identity in inference mode", async () => {
  const x = tf.randomNormal([2, 3, 3, 4]);
  const y = spatialDropout2d({ rate: 0.3 }).apply(x) as tf.Tensor;
  assert.deepEqual(await y.data(), await x.data());
  tf.dispose([x, y]);
});

Deno.test("spatialDropout2d() serialises as a stock Dropout with noise shape [null, 1, 1, null] and reloads", async () => {
  const input = tf.input({ shape: [4, 4, 2] });
  const layer = spatialDropout2d({ rate: 0.5, name: "drop" });
  const model = tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor });
  const json = JSON.stringify(model.toJSON(null, false));
  assert.match(json, /"class_name":"Dropout"/);
  assert.match(json, /"noise_shape":\[null,1,1,null\]/);
  const restored = await tf.models.modelFromJSON({ modelTopology: JSON.parse(json) });
  const x = tf.ones([5, 4, 4, 2]);
  const y = restored.getLayer("drop").apply(x, { training: true }) as tf.Tensor;
  assert.deepEqual([...await channelValues(y)].sort(), [0, 2]);
  tf.dispose([x, y]);
  restored.dispose();
  model.dispose();
});

Deno.test("spatialDropout2d() rejects a rate outside [0, 1)", () => {
  assert.throws(() => spatialDropout2d({ rate: 1 }), RangeError);
  assert.throws(() => spatialDropout2d({ rate: -0.1 }), RangeError);
});
