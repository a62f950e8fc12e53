/**
 * `MaxPoolGrad` as a JavaScript loop over the wasm heap. The stock wasm kernel is slow (91 ms for
 * [128,28,28,32] 2x2/2, against 32 ms here) and wrong when the window is padded (e.g. 2x2/2 'same' on 7x7, or
 * 3x3/1 'same': gradients of border windows are dropped, relative error up to 0.4 against the cpu backend).
 * Slicing the window taps with wasm kernels (`Slice` copies the whole input through JS each time) was slower.
 * @module
 */
import { type KernelArgs, sizeOf } from "../kernels.ts";
import { type TensorInfo, tf } from "../../tf.ts";
import { heapF32 } from "./shared.ts";

interface Attrs {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: "floor" | "round" | "ceil";
}

/**
 * dx = Σ over windows of dy routed to the window's maximum, with the cpu backend's rule: the first strict
 * maximum in row-major scan order over the in-bounds positions (padding never wins; a window of NaN or −∞ only
 * routes nothing). `output` (the forward result) is not needed. Every attribute combination is handled.
 */
export function maxPoolGrad({ inputs, attrs, backend }: KernelArgs): TensorInfo {
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  const a = attrs as unknown as Attrs;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    a.filterSize,
    a.strides,
    1,
    a.pad,
    a.dimRoundingMode,
  );
  const out = backend.makeOutput(input.shape, "float32") as TensorInfo;
  const dx = heapF32(backend, out);
  dx.fill(0);
  if (sizeOf(input.shape) > 0) routeToMax(heapF32(backend, input), heapF32(backend, dy), dx, info);
  return out;
}

function routeToMax(x: Float32Array, dy: Float32Array, dx: Float32Array, info: tf.backend_util.Conv2DInfo): void {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ch, outHeight: oh, outWidth: ow } = info;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const best = new Float32Array(ch);
  const at = new Int32Array(ch);
  let d = 0; // dy is read in order
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < oh; r++) {
      const r0 = Math.max(0, r * sh - top), r1 = Math.min(h, r * sh - top + fh);
      for (let col = 0; col < ow; col++) {
        const c0 = Math.max(0, col * sw - left), c1 = Math.min(w, col * sw - left + fw);
        best.fill(-Infinity);
        at.fill(-1);
        for (let xr = r0; xr < r1; xr++) {
          for (let xc = c0; xc < c1; xc++) {
            const base = ((b * h + xr) * w + xc) * ch;
            for (let k = 0; k < ch; k++) {
              const v = x[base + k]!;
              if (v > best[k]!) {
                best[k] = v;
                at[k] = base + k;
              }
            }
          }
        }
        for (let k = 0; k < ch; k++, d++) {
          const p = at[k]!;
          if (p >= 0) dx[p] = dx[p]! + dy[d]!;
        }
      }
    }
  }
}
