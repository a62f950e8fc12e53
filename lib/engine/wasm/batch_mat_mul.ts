/**
 * `BatchMatMul` and `_FusedMatMul` with transposed operands. The wasm C++ only takes the XNNPACK path when neither
 * operand is transposed and the batch is 1; otherwise it runs a naive loop, and every dense-layer gradient is a
 * transposed matmul (LeNet at batch 128: 221 ms in 5 calls, 25 ms after transposing explicitly).
 * @module
 */
import { callOriginal, type KernelArgs, KernelCtx, sizeOf } from "../kernels.ts";
import type { TensorInfo } from "../../tf.ts";

type MatMulKernel = "BatchMatMul" | "_FusedMatMul";

/** Transposes the last two axes of a batch-1 matrix and returns it as [1, cols, rows]. */
function transposed(c: KernelCtx, m: TensorInfo): TensorInfo {
  const [rows, cols] = m.shape.slice(-2) as [number, number];
  return c.reshape(c.transpose(c.reshape(m, [rows, cols]), [1, 0]), [1, cols, rows]);
}

/**
 * The kernel function for `name`: with `transposeA`/`transposeB` and a batch of 1, transposes the operand(s)
 * explicitly and runs the stock kernel untransposed (XNNPACK); the output keeps the stock kernel's shape.
 * Batched products (batch > 1) and untransposed ones go to the stock kernel unchanged.
 */
export function matMulKernel(name: MatMulKernel): (args: KernelArgs) => TensorInfo {
  return (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const batch = (t: TensorInfo) => sizeOf(t.shape.slice(0, -2));
    if ((!transposeA && !transposeB) || batch(a) !== 1 || batch(b) !== 1) {
      return callOriginal(name, args) as TensorInfo;
    }
    const c = new KernelCtx(args.backend, "wasm");
    const product = c.track(callOriginal(name, {
      ...args,
      inputs: { ...args.inputs, a: transposeA ? transposed(c, a) : a, b: transposeB ? transposed(c, b) : b },
      attrs: { ...args.attrs, transposeA: false, transposeB: false },
    }) as TensorInfo);
    const m = a.shape[a.shape.length - (transposeA ? 1 : 2)]!;
    const n = b.shape[b.shape.length - (transposeB ? 2 : 1)]!;
    const rank = Math.max(a.shape.length, b.shape.length);
    return c.finish(c.reshape(product, [...new Array<number>(rank - 2).fill(1), m, n]));
  };
}
