/**
 * `Tile` for broadcasts. The wasm C++ tile is ~20x slower than a copy (712 ms for [1,1,1,64] → [128,32,32,64]),
 * and the BatchNorm gradient tiles per-channel vectors to the activation shape on every step.
 * @module
 */
import { callOriginal, type KernelArgs, KernelCtx, sizeOf } from "../kernels.ts";
import type { TensorInfo } from "../../tf.ts";

/**
 * A tile that only repeats axes of size 1 is a broadcast. Repeating leading axes only becomes the K=1 XNNPACK
 * GEMM ones[A, 1] @ x[1, Q]; other broadcasts a broadcasting `Add` onto zeros. Tiles that repeat an axis longer
 * than 1, and non-float32 tensors, go to the stock kernel.
 */
export function tile(args: KernelArgs): TensorInfo {
  const { x } = args.inputs as { x: TensorInfo };
  const { reps } = args.attrs as { reps: number[] };
  const broadcastOnly = x.dtype === "float32" && x.shape.every((d, i) => d === 1 || reps[i] === 1);
  if (!broadcastOnly) return callOriginal("Tile", args) as TensorInfo;
  const outShape = x.shape.map((d, i) => d * reps[i]!);
  const c = new KernelCtx(args.backend, "wasm");
  // k = number of leading repeated axes; the GEMM needs every axis after them unrepeated.
  const k = reps.indexOf(1) === -1 ? reps.length : reps.indexOf(1);
  const leadingOnly = reps.slice(k).every((r) => r === 1);
  if (k > 0 && k < reps.length && leadingOnly) {
    const ones = c.fill([1, sizeOf(outShape.slice(0, k)), 1], 1);
    const rows = c.run("BatchMatMul", { a: ones, b: c.reshape(x, [1, 1, sizeOf(x.shape.slice(k))]) }, {
      transposeA: false,
      transposeB: false,
    });
    return c.finish(c.reshape(rows, outShape));
  }
  return c.finish(c.run("Add", { a: c.fill(outShape, 0), b: x }));
}
