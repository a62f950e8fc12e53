/**
 * `Slice`, `SplitV` and `Concat` as copies of contiguous runs. The stock wasm kernels walk the data element by
 * element: 15 ms per call for the [128, 34, 34, 16] → [128, 32, 32, 16] crop that is the gradient of a stride-2
 * convolution's explicit padding (PyTorch's padding=1 in the CIFAR ResNets), and in DenseNet-BC-100 at batch 32 the
 * channel concatenations and their gradient (`SplitV`) took 113 + 370 ms of a 1.8 s training step.
 * @module
 */
import { callOriginal, type KernelArgs, sizeOf } from "../kernels.ts";
import { type TensorInfo, tf } from "../../tf.ts";
import { heapView } from "./shared.ts";

type HeapArray = Float32Array | Int32Array | Uint8Array;

/**
 * Copies `count` runs of `run` elements: run i from `src[srcStart + i·srcStride]` to `dst[dstStart + i·dstStride]`.
 * Both arrays view the same wasm heap, so each run is one `copyWithin` on a view of the whole heap (a memmove, no
 * view allocated per run).
 */
function copyRuns(
  src: HeapArray,
  srcStart: number,
  srcStride: number,
  dst: HeapArray,
  dstStart: number,
  dstStride: number,
  run: number,
  count: number,
): void {
  const bytes = src.BYTES_PER_ELEMENT;
  const heap = bytes === 1 ? new Uint8Array(src.buffer) : new Int32Array(src.buffer);
  const s0 = src.byteOffset / bytes + srcStart, d0 = dst.byteOffset / bytes + dstStart;
  if (run === srcStride && run === dstStride) {
    heap.copyWithin(d0, s0, s0 + run * count);
    return;
  }
  for (let i = 0, s = s0, d = d0; i < count; i++, s += srcStride, d += dstStride) heap.copyWithin(d, s, s + run);
}

const copyable = (t: TensorInfo) => t.dtype === "float32" || t.dtype === "int32" || t.dtype === "bool";

/** A new tensor with the window `begin`/`size` of `x` (validated), copied run by run. */
function sliceWindow(backend: KernelArgs["backend"], x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  const out = backend.makeOutput(size, x.dtype) as TensorInfo;
  if (sizeOf(size) === 0) return out;
  const src = heapView(backend, x), dst = heapView(backend, out);
  const shape = x.shape;
  // The trailing axes taken whole and the last axis taken in part form one contiguous run per index of the
  // axes before it.
  let axis = shape.length - 1, inner = 1;
  while (axis >= 0 && begin[axis] === 0 && size[axis] === shape[axis]) inner *= shape[axis--]!;
  if (axis < 0) {
    dst.set(src);
    return out;
  }
  const strides = shape.map((_, i) => sizeOf(shape.slice(i + 1)));
  const run = size[axis]! * inner;
  if (axis === 0) {
    copyRuns(src, begin[0]! * strides[0]!, run, dst, 0, run, run, 1);
    return out;
  }
  // Runs along the axis just before `axis` are evenly spaced: copy them in one call per index of the axes before.
  const lastOuter = axis - 1;
  const outer = sizeOf(size.slice(0, lastOuter));
  const index = new Array<number>(lastOuter).fill(0);
  for (let o = 0; o < outer; o++) {
    let from = begin[axis]! * strides[axis]! + begin[lastOuter]! * strides[lastOuter]!;
    for (let i = 0; i < lastOuter; i++) from += (begin[i]! + index[i]!) * strides[i]!;
    copyRuns(src, from, strides[lastOuter]!, dst, o * size[lastOuter]! * run, run, run, size[lastOuter]!);
    for (let i = lastOuter - 1; i >= 0 && ++index[i]! === size[i]!; i--) index[i] = 0;
  }
  return out;
}

/** `Slice` of numeric and bool tensors; strings go to the stock kernel. */
export function slice(args: KernelArgs): TensorInfo {
  const { x } = args.inputs as { x: TensorInfo };
  if (!copyable(x)) return callOriginal("Slice", args) as TensorInfo;
  const attrs = args.attrs as { begin: number | number[]; size: number | number[] };
  const [begin, size] = tf.slice_util.parseSliceParams(x, attrs.begin, attrs.size) as [number[], number[]];
  tf.slice_util.assertParamsValid(x, begin, size);
  return sliceWindow(args.backend, x, begin, size);
}

/** `SplitV` (the gradient of `Concat`): one window per split along `axis`. */
export function splitV(args: KernelArgs): TensorInfo[] {
  const { x } = args.inputs as { x: TensorInfo };
  if (!copyable(x)) return callOriginal("SplitV", args) as TensorInfo[];
  const attrs = args.attrs as { numOrSizeSplits: number | number[]; axis: number };
  const axis = tf.util.parseAxisParam(attrs.axis, x.shape)[0]!;
  const sizes = tf.backend_util.prepareSplitSize(x, attrs.numOrSizeSplits, axis);
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((s) => {
    const size = x.shape.slice();
    size[axis] = s;
    const out = sliceWindow(args.backend, x, begin, size);
    begin[axis]! += s;
    return out;
  });
}

/** `Concat` of numeric or bool tensors of one dtype along `axis`; anything else goes to the stock kernel. */
export function concat(args: KernelArgs): TensorInfo {
  const xs = args.inputs as unknown as TensorInfo[];
  const dtype = xs[0]!.dtype;
  if (!xs.every((x) => copyable(x) && x.dtype === dtype)) return callOriginal("Concat", args) as TensorInfo;
  const axis = tf.util.parseAxisParam((args.attrs as { axis: number }).axis, xs[0]!.shape)[0]!;
  const outShape = tf.backend_util.computeOutShape(xs.map((x) => x.shape), axis);
  const out = args.backend.makeOutput(outShape, dtype) as TensorInfo;
  if (sizeOf(outShape) === 0) return out;
  const dst = heapView(args.backend, out);
  const outer = sizeOf(outShape.slice(0, axis)), outRun = sizeOf(outShape.slice(axis));
  let offset = 0;
  for (const x of xs) {
    const run = sizeOf(x.shape.slice(axis));
    if (run === 0) continue;
    copyRuns(heapView(args.backend, x), 0, run, dst, offset, outRun, run, outer);
    offset += run;
  }
  return out;
}
