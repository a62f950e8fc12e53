/**
 * `Sum` and `Mean` over leading axes (BatchNorm statistics and gradients reduce [N, H, W, C] over N, H, W).
 * The stock kernels first move the reduced axes last with the generic wasm transpose: 71.5 ms for
 * [128,32,32,64], against 4.8 ms for the XNNPACK average pool used here.
 * @module
 */
import { callOriginal, type KernelArgs, KernelCtx, sizeOf } from "../kernels.ts";
import { type TensorInfo, tf } from "../../tf.ts";

type ReduceKernel = "Sum" | "Mean";

/** Below this many reduced positions the stock kernel is as fast and the pool setup is not worth it. */
const MIN_REDUCED = 64;

/**
 * The kernel function for `name`: a float32 reduction over the first k < rank axes is one XNNPACK `AvgPool`
 * with a single window over x viewed as [1, A₁, A₂, Q] (A₁·A₂ = the reduced size); `Sum` = mean · A.
 * Any other reduction (trailing or interleaved axes, all axes, small, non-float32) goes to the stock kernel.
 */
export function leadingReduceKernel(name: ReduceKernel): (args: KernelArgs) => TensorInfo {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    const rank = x.shape.length;
    const axes = [...tf.util.parseAxisParam(axis, x.shape)].sort((p, q) => p - q);
    const k = axes.length;
    const leading = k > 0 && k < rank && axes.every((a, i) => a === i);
    const reduced = sizeOf(x.shape.slice(0, k));
    if (!leading || x.dtype !== "float32" || reduced < MIN_REDUCED) return callOriginal(name, args) as TensorInfo;
    const kept = x.shape.slice(k);
    const a2 = x.shape[k - 1]!, a1 = reduced / a2;
    const c = new KernelCtx(args.backend, "wasm");
    let out = c.run("AvgPool", { x: c.reshape(x, [1, a1, a2, sizeOf(kept)]) }, {
      filterSize: [a1, a2],
      strides: [1, 1],
      pad: "valid",
      dimRoundingMode: undefined,
    });
    if (name === "Sum") out = c.run("Multiply", { a: out, b: c.fill([], reduced) });
    return c.finish(c.reshape(out, keepDims ? [...new Array<number>(k).fill(1), ...kept] : kept));
  };
}
