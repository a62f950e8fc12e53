import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { contiguousSplit } from "@lib/engine/native/kernels/reduce.ts";
import { assertMatchesCpu, input } from "../_compare.ts";
import { nativeTest } from "./_native.ts";

nativeTest("sum and mean over contiguous axes match cpu (leading, middle, trailing, all, keepDims)", async () => {
  const x = input([6, 5, 4, 3], 1, (v) => v + 0.25);
  for (const axis of [[0], [0, 1, 2], [1, 2], [3], [2, 3], [0, 1, 2, 3], [-1]]) {
    for (const keepDims of [false, true]) {
      await assertMatchesCpu(`sum ${axis} keep=${keepDims}`, "wasm", { x }, (t) => tf.sum(t.x!, axis, keepDims));
      await assertMatchesCpu(`mean ${axis} keep=${keepDims}`, "wasm", { x }, (t) => tf.mean(t.x!, axis, keepDims));
    }
  }
  await assertMatchesCpu("non-contiguous axes fall back", "wasm", { x }, (t) => tf.sum(t.x!, [0, 2]));
  await assertMatchesCpu("large leading reduction", "wasm", { x: input([4096, 24], 2) }, (t) => tf.mean(t.x!, 0));
});

Deno.test("contiguousSplit views a tensor as [outer, reduced, inner] only for one run of axes", () => {
  assert.deepEqual(contiguousSplit([6, 5, 4, 3], [1, 2], false), { outer: 6, reduced: 20, inner: 3, outShape: [6, 3] });
  assert.deepEqual(contiguousSplit([6, 5, 4, 3], [0], true), {
    outer: 1,
    reduced: 6,
    inner: 60,
    outShape: [1, 5, 4, 3],
  });
  assert.equal(contiguousSplit([6, 5, 4, 3], [0, 2], false), null);
  assert.equal(contiguousSplit([6, 0, 4], [1], false), null);
});
