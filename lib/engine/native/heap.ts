/**
 * Addresses of tensors that live on the TF.js wasm heap, for native kernels that read and write them in place.
 * @module
 */
import type { TensorInfo } from "../../tf.ts";
import type { AnyBackend } from "../kernels.ts";
import { heapBuffer } from "../wasm/shared.ts";

let lastBuffer: ArrayBufferLike | null = null;
let heapBase = 0n;

/**
 * The native address (a pointer-sized integer) of `t`'s first element. Call it only after every allocation of the kernel
 * (`makeOutput` may grow the heap); the base is re-read whenever the heap's buffer changed.
 */
export function addressOf(backend: AnyBackend, t: TensorInfo): bigint {
  const buffer = heapBuffer(backend);
  if (buffer !== lastBuffer) {
    lastBuffer = buffer;
    heapBase = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buffer as ArrayBuffer)));
  }
  return heapBase + BigInt(backend.dataIdMap.get(t.dataId).memoryOffset as number);
}
