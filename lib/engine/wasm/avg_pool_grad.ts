/**
 * `AvgPoolGrad` as a JavaScript loop over the wasm heap. The stock wasm kernel takes ~5x a copy (47.6 ms for
 * [128,28,28,32] 2x2/2); DenseNet transitions call it on every step.
 * @module
 */
import { type KernelArgs, sizeOf } from "../kernels.ts";
import { type TensorInfo, tf } from "../../tf.ts";
import { heapF32 } from "./shared.ts";

interface Attrs {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
}

/**
 * dx = Σ over windows of dy / (filterHeight · filterWidth), spread over the window's in-bounds positions. The
 * divisor is the full window even where padding cuts it, as in the cpu and stock wasm kernels (TF.js's
 * reference semantics). Every attribute combination is handled.
 */
export function avgPoolGrad({ inputs, attrs, backend }: KernelArgs): TensorInfo {
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  const a = attrs as unknown as Attrs;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    a.filterSize,
    a.strides,
    1,
    a.pad,
  );
  const out = backend.makeOutput(input.shape, "float32") as TensorInfo;
  const dx = heapF32(backend, out);
  dx.fill(0);
  if (sizeOf(input.shape) > 0) spread(heapF32(backend, dy), dx, info);
  return out;
}

function spread(dy: Float32Array, dx: Float32Array, info: tf.backend_util.Conv2DInfo): void {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ch, outHeight: oh, outWidth: ow } = info;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const scale = 1 / (fh * fw);
  const g = new Float32Array(ch);
  let d = 0;
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < oh; r++) {
      const r0 = Math.max(0, r * sh - top), r1 = Math.min(h, r * sh - top + fh);
      for (let col = 0; col < ow; col++, d += ch) {
        const c0 = Math.max(0, col * sw - left), c1 = Math.min(w, col * sw - left + fw);
        for (let k = 0; k < ch; k++) g[k] = dy[d + k]! * scale;
        for (let xr = r0; xr < r1; xr++) {
          for (let xc = c0; xc < c1; xc++) {
            const base = ((b * h + xr) * w + xc) * ch;
            for (let k = 0; k < ch; k++) dx[base + k] = dx[base + k]! + g[k]!;
          }
        }
      }
    }
  }
}
