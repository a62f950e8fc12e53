/**
 * Helpers shared by the wasm training kernels: attribute checks, window (crop/pad) arithmetic, heap views.
 * @module
 */
import { type AnyBackend, type KernelCtx, sizeOf } from "../kernels.ts";
import { type TensorInfo, tf } from "../../tf.ts";

/** The error a replacement kernel throws for an attribute it does not handle and no stock kernel can take. */
export function unsupported(kernel: string, attribute: string): Error {
  return new Error(`${kernel} on the wasm engine does not support ${attribute}`);
}

/** Attributes the conv gradient kernels share (`Conv2DBackpropFilterAttrs` / `Conv2DBackpropInputAttrs`). */
export interface ConvGradAttrs {
  strides: [number, number] | number;
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dataFormat: "NHWC" | "NCHW";
  dimRoundingMode?: "floor" | "round" | "ceil";
  /** Not a TF.js attribute of these kernels; checked because a caller passing it expects it honoured. */
  dilations?: [number, number] | number;
}

/** A `dilations` attribute other than 1, formatted for an error message; null when absent or 1. */
export function dilationProblem(attrs: ConvGradAttrs): string | null {
  const d = attrs.dilations;
  if (d === undefined) return null;
  const [dh, dw] = typeof d === "number" ? [d, d] : d;
  return dh === 1 && dw === 1 ? null : `dilations ${JSON.stringify(d)} (only 1)`;
}

/** Conv geometry for an NHWC convolution of `xShape` by an HWIO `filterShape` (dilation 1). */
export function nhwcConvInfo(
  xShape: readonly number[],
  filterShape: readonly number[],
  attrs: ConvGradAttrs,
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    "channelsLast",
  );
}

/** A range along one axis: `begin` may be negative and `begin + size` may pass the end (zeros there). */
export interface AxisWindow {
  begin: number;
  size: number;
}

/** Before/after padding (a negative amount crops) that turns an axis of length `length` into `window`. */
export function windowPadding(length: number, window: AxisWindow): [number, number] {
  return [-window.begin, window.begin + window.size - length];
}

/**
 * Crops the negative parts of `[before, after]` paddings of axes 1 and 2 of an NHWC tensor and returns the
 * cropped tensor with the non-negative remainder, ready for a conv's explicit padding or a `PadV2`.
 */
export function cropNegative(
  c: KernelCtx,
  x: TensorInfo,
  rows: [number, number],
  cols: [number, number],
): { x: TensorInfo; rows: [number, number]; cols: [number, number] } {
  const [n, h, w, ch] = x.shape as [number, number, number, number];
  const cut = (p: number) => Math.max(0, -p);
  const [rt, rb, cl, cr] = [cut(rows[0]), cut(rows[1]), cut(cols[0]), cut(cols[1])];
  const cropped = rt || rb || cl || cr ? c.slice(x, [0, rt, cl, 0], [n, h - rt - rb, w - cl - cr, ch]) : x;
  const keep = (p: number) => Math.max(0, p);
  return { x: cropped, rows: [keep(rows[0]), keep(rows[1])], cols: [keep(cols[0]), keep(cols[1])] };
}

/**
 * A Float32Array view of a float32 tensor's buffer on the wasm heap. Take it after the last allocation: a heap
 * growth detaches or (threaded build) outdates earlier views. The threaded build's `HEAPU8` is refreshed lazily
 * after a growth in another thread, so its `wasmMemory.buffer` is read instead when it is exported.
 */
export function heapF32(backend: AnyBackend, t: TensorInfo): Float32Array {
  return heapView(backend, t) as Float32Array;
}

/** The live buffer of the wasm heap (see {@link heapF32} for why not `HEAPU8.buffer` alone). */
export function heapBuffer(backend: AnyBackend): ArrayBufferLike {
  const memory = backend.wasm.wasmMemory as WebAssembly.Memory | undefined;
  return memory?.buffer ?? (backend.wasm.HEAPU8 as Uint8Array).buffer;
}

/** A view of a float32, int32 or bool tensor's data on the live wasm heap (same caveats as {@link heapF32}). */
export function heapView(backend: AnyBackend, t: TensorInfo): Float32Array | Int32Array | Uint8Array {
  const { memoryOffset } = backend.dataIdMap.get(t.dataId) as { memoryOffset: number };
  const n = sizeOf(t.shape);
  const buffer = heapBuffer(backend);
  switch (t.dtype) {
    case "float32":
      return new Float32Array(buffer, memoryOffset, n);
    case "int32":
      return new Int32Array(buffer, memoryOffset, n);
    case "bool":
      return new Uint8Array(buffer, memoryOffset, n);
    default:
      throw new Error(`no heap view for dtype ${t.dtype}`);
  }
}
