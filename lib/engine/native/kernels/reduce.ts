/**
 * Sum and Mean of float32 tensors over one contiguous run of axes (leading axes for BatchNorm-style
 * statistics and bias gradients, the spatial axes for global average pooling), multithreaded with double
 * accumulators. Other axis sets and dtypes go to the kernel registered before.
 * @module
 */
import { type TensorInfo, tf } from "../../../tf.ts";
import { currentKernel, type KernelArgs, replaceKernel, sizeOf } from "../../kernels.ts";
import { addressOf } from "../heap.ts";
import type { NativeLibrary } from "../library.ts";

interface Split {
  outer: number;
  reduced: number;
  inner: number;
  outShape: number[];
}

/** [outer, reduced, inner] view of `shape` when `axis` is one contiguous run; null otherwise. */
export function contiguousSplit(shape: number[], axis: unknown, keepDims: boolean): Split | null {
  const axes = tf.util.parseAxisParam(axis as number | number[], shape).slice().sort((a, b) => a - b);
  if (axes.length === 0) return null;
  const first = axes[0]!, last = axes[axes.length - 1]!;
  if (last - first + 1 !== axes.length) return null;
  const reduced = sizeOf(shape.slice(first, last + 1));
  if (reduced === 0) return null;
  const outShape = keepDims
    ? shape.map((d, i) => (i >= first && i <= last ? 1 : d))
    : shape.filter((_, i) => i < first || i > last);
  return { outer: sizeOf(shape.slice(0, first)), reduced, inner: sizeOf(shape.slice(last + 1)), outShape };
}

/** Registers Sum and Mean on the wasm backend. */
export function registerReduceKernels(lib: NativeLibrary): void {
  for (const name of ["Sum", "Mean"] as const) {
    const previous = currentKernel(name, "wasm")!;
    replaceKernel(name, "wasm", (args: KernelArgs) => {
      const { x } = args.inputs as { x: TensorInfo };
      const split = x.dtype === "float32"
        ? contiguousSplit(x.shape, args.attrs.axis, args.attrs.keepDims === true)
        : null;
      if (!split) return previous(args);
      const be = args.backend;
      const out = be.makeOutput(split.outShape, "float32") as TensorInfo;
      const scale = name === "Mean" ? 1 / split.reduced : 1;
      lib.check(lib.symbols.ood_reduce_sum(
        addressOf(be, x),
        BigInt(split.outer),
        BigInt(split.reduced),
        BigInt(split.inner),
        scale,
        addressOf(be, out),
      ));
      return out;
    });
  }
}
