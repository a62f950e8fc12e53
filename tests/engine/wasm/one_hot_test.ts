import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";

await initBackend({ backend: "wasm", log: null });

/** oneHot on `backend` as plain numbers and dtype. */
async function oneHotOn(backend: string, dtype: "float32" | "int32", on: number, off: number) {
  await tf.setBackend(backend);
  const t = tf.oneHot(tf.tensor2d([[0, 2], [-1, 5]], [2, 2], "int32"), 3, on, off, dtype);
  const r = { dtype: t.dtype, shape: t.shape, values: Array.from(await t.data()) };
  t.dispose();
  return r;
}

Deno.test("oneHot on wasm honours dtype and fractional on/off values (out-of-range indices stay off), like cpu", async () => {
  for (const dtype of ["float32", "int32"] as const) {
    for (const [on, off] of [[1, 0], [0.9, 0.05], [5, -2]]) {
      const ref = await oneHotOn("cpu", dtype, on!, off!);
      const got = await oneHotOn("wasm", dtype, on!, off!);
      assert.deepEqual(got, ref, `${dtype} on=${on} off=${off}`);
    }
  }
  await tf.setBackend("wasm");
});
