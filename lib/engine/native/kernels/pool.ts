/**
 * MaxPoolGrad and AvgPoolGrad on the native library (native/src/pool.cpp), any window, stride, padding and
 * dilation, NHWC, with the cpu backend's semantics. The forward pools stay on XNNPACK, which is fast.
 * @module
 */
import { type TensorInfo, tf } from "../../../tf.ts";
import { currentKernel, type KernelArgs, replaceKernel } from "../../kernels.ts";
import { addressOf } from "../heap.ts";
import type { NativeLibrary } from "../library.ts";

/** Pool geometry in the order native/src/pool.cpp reads it. */
function geometry(xShape: number[], attrs: Record<string, unknown>): Int32Array {
  const info = tf.backend_util.computePool2DInfo(
    xShape as [number, number, number, number],
    attrs.filterSize as [number, number] | number,
    attrs.strides as [number, number] | number,
    1,
    attrs.pad as "same",
    attrs.dimRoundingMode as "floor" | undefined,
  );
  return Int32Array.of(
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    info.padInfo.top,
    info.padInfo.left,
    info.outHeight,
    info.outWidth,
  );
}

/** Registers both pooling gradients on the wasm backend. */
export function registerPoolKernels(lib: NativeLibrary): void {
  const s = lib.symbols;
  const gradients = {
    MaxPoolGrad: (geom: Int32Array, dy: bigint, x: bigint, dx: bigint) => s.ood_max_pool_grad(geom, dy, x, dx),
    AvgPoolGrad: (geom: Int32Array, dy: bigint, _x: bigint, dx: bigint) => s.ood_avg_pool_grad(geom, dy, dx),
  };
  for (const [name, run] of Object.entries(gradients)) {
    const previous = currentKernel(name, "wasm")!;
    replaceKernel(name, "wasm", (args: KernelArgs) => {
      const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
      if (input.dtype !== "float32" || input.shape.length !== 4) return previous(args);
      const geom = geometry(input.shape, args.attrs);
      const be = args.backend;
      const dx = be.makeOutput(input.shape, "float32") as TensorInfo;
      lib.check(run(geom, addressOf(be, dy), addressOf(be, input), addressOf(be, dx)));
      return dx;
    });
  }
}
