/** Leak checks for the wasm engine's kernels: TF.js tensors and wasm heap buffers. */
import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";

/** Number of live buffers on the wasm heap (`BackendWasm.numDataIds()`). */
export function heapBuffers(): number {
  return (tf.engine().findBackend("wasm") as unknown as { numDataIds(): number }).numDataIds();
}

/**
 * Runs `f` on the wasm backend and asserts that, once its outputs are disposed, exactly as many tensors and
 * wasm heap buffers are alive as before: the kernels freed every intermediate they made.
 */
export async function assertNoLeaks(label: string, f: () => tf.Tensor | tf.Tensor[]): Promise<void> {
  await tf.setBackend("wasm");
  const tensors = tf.memory().numTensors, buffers = heapBuffers();
  const out = f();
  for (const t of Array.isArray(out) ? out : [out]) await t.data();
  tf.dispose(out);
  assert.equal(tf.memory().numTensors, tensors, `${label}: tensors leaked`);
  assert.equal(heapBuffers(), buffers, `${label}: wasm heap buffers leaked`);
}

/** Fresh tensors on the current backend from `_compare.ts` input specs. */
export function tensorsOf(inputs: Record<string, { shape: number[]; data: Float32Array | Int32Array }>) {
  const out: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(inputs)) out[k] = tf.tensor(v.data, v.shape);
  return out;
}
