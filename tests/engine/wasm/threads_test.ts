import assert from "node:assert/strict";
import { tf, tfwasm } from "@lib/tf.ts";
import { initBackend, resolveThreads } from "@lib/engine/mod.ts";

// No explicit threads: OOD_THREADS, else one per core (2 on the project machines).
const report = await initBackend({ backend: "wasm", log: null });

/** The emscripten build pre-spawns 8 pthread workers; XNNPACK's pool cannot grow past them. */
const POOL_LIMIT = 8;

Deno.test("the threaded loader gives XNNPACK one thread per core (or OOD_THREADS)", () => {
  const expected = Math.min(resolveThreads(), POOL_LIMIT);
  assert.equal(tfwasm.getThreadsCount(), expected);
  assert.equal(report.threads, expected);
  assert.equal(report.tfBackend, "wasm");
  assert.equal(tf.getBackend(), "wasm");
  if (expected > 1) assert.match(report.description, /threaded SIMD build/);
});

Deno.test("the threaded build computes a matmul large enough to use the thread pool correctly", async () => {
  const n = 96;
  const a = tf.tensor2d(Float32Array.from({ length: n * n }, (_, i) => (i % 7) - 3), [n, n]);
  const b = tf.eye(n);
  const c = tf.matMul(a, b);
  assert.deepEqual(Array.from(await c.data()), Array.from(await a.data()));
  tf.dispose([a, b, c]);
});

Deno.test("the wasm engine reports the backend that is already running to a second initBackend", async () => {
  const again = await initBackend({ backend: "wasm", log: null });
  assert.equal(again, report);
});
