/**
 * `OneHot` with its `dtype`, `onValue` and `offValue` honoured. The stock wasm kernel writes integers into the
 * output whatever its dtype: `tf.oneHot(i, 3, 1, 0, "float32")` gave 1.4e-45 (the bit pattern of int 1) instead of
 * 1, and fractional on/off values (label smoothing) came out as 0. That silently zeroed ODIN's input gradient.
 * @module
 */
import { type KernelArgs, sizeOf } from "../kernels.ts";
import type { TensorInfo } from "../../tf.ts";
import { heapView } from "./shared.ts";

/** out[..., j] = onValue where j == indices[...] (in range), else offValue; written straight onto the heap. */
export function oneHot({ inputs, attrs, backend }: KernelArgs): TensorInfo {
  const { indices } = inputs as { indices: TensorInfo };
  const depth = attrs.depth as number;
  const dtype = (attrs.dtype as "float32" | "int32" | undefined) ?? "int32";
  const onValue = (attrs.onValue as number | undefined) ?? 1, offValue = (attrs.offValue as number | undefined) ?? 0;
  const out = backend.makeOutput([...indices.shape, depth], dtype) as TensorInfo;
  const values = heapView(backend, out);
  const idx = heapView(backend, indices);
  values.fill(offValue);
  for (let i = 0, n = sizeOf(indices.shape); i < n; i++) {
    const j = idx[i]!;
    if (j >= 0 && j < depth) values[i * depth + j] = onValue;
  }
  return out;
}
