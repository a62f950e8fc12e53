/**
 * Kernel-level comparison against the `cpu` backend (the numerical reference).
 *
 * Error measure: max |got − ref| / max |ref| over all outputs of one call (a relative error that does not
 * blow up on entries near zero). Kernels are compared one call at a time, never whole models: XNNPACK and
 * the cpu backend round differently, which can flip a ReLU mask deep in a network.
 */
import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";

/** Deterministic pseudo-random float32 data in [-1, 1) from a seed (no tfjs RNG involved). */
export function randomData(size: number, seed: number): Float32Array {
  let s = (seed * 2654435761) >>> 0 || 1;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s / 2147483648 - 1;
  }
  return out;
}

export interface Inputs {
  [name: string]: { shape: number[]; data: Float32Array | Int32Array; dtype?: "float32" | "int32" | "bool" };
}

/** Makes an input spec with random data. */
export function input(shape: number[], seed: number, transform?: (v: number) => number): Inputs[string] {
  const data = randomData(shape.reduce((a, b) => a * b, 1), seed);
  if (transform) { for (let i = 0; i < data.length; i++) data[i] = transform(data[i]!); }
  return { shape, data };
}

/** Runs `f` on `backendName` with fresh tensors made from `inputs`; returns every output's values and shape. */
export async function runOn(
  backendName: string,
  inputs: Inputs,
  f: (t: Record<string, tf.Tensor>) => tf.Tensor | tf.Tensor[],
): Promise<{ shape: number[]; values: Float32Array }[]> {
  const prev = tf.getBackend();
  await tf.setBackend(backendName);
  try {
    const tensors: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(inputs)) tensors[k] = tf.tensor(v.data, v.shape, v.dtype ?? "float32");
    const out = f(tensors);
    const outs = Array.isArray(out) ? out : [out];
    const res = [];
    for (const o of outs) {
      res.push({ shape: o.shape.slice(), values: Float32Array.from(await o.data() as ArrayLike<number>) });
    }
    tf.dispose([...outs, ...Object.values(tensors)]);
    return res;
  } finally {
    await tf.setBackend(prev);
  }
}

/** max|a−b| / max|a| (0 when both are all zero). */
export function relativeError(ref: Float32Array, got: Float32Array): number {
  assert.equal(got.length, ref.length, "output sizes differ");
  let diff = 0, scale = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(ref[i]! - got[i]!);
    if (!(d <= diff)) diff = d; // also catches NaN
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}

/**
 * Asserts that `f` gives the same result on `backendName` as on `cpu`, within `tolerance`
 * (relative error as defined above). Returns the worst error seen.
 */
export async function assertMatchesCpu(
  label: string,
  backendName: string,
  inputs: Inputs,
  f: (t: Record<string, tf.Tensor>) => tf.Tensor | tf.Tensor[],
  tolerance = 1e-5,
): Promise<number> {
  const ref = await runOn("cpu", inputs, f);
  const got = await runOn(backendName, inputs, f);
  assert.equal(got.length, ref.length, `${label}: number of outputs`);
  let worst = 0;
  for (let i = 0; i < ref.length; i++) {
    assert.deepEqual(got[i]!.shape, ref[i]!.shape, `${label}: shape of output ${i}`);
    const err = relativeError(ref[i]!.values, got[i]!.values);
    worst = Math.max(worst, err);
    assert.ok(err <= tolerance, `${label}: output ${i} relative error ${err.toExponential(2)} > ${tolerance}`);
  }
  return worst;
}
