/**
 * BatchMatMul and _FusedMatMul (bias + activation) on oneDNN's sgemm, transposes included, with a batch
 * operand of size 1 broadcast. Other broadcasts and PReLU go to the kernel registered before.
 * @module
 */
import type { TensorInfo } from "../../../tf.ts";
import { currentKernel, type KernelArgs, replaceKernel, sizeOf } from "../../kernels.ts";
import { addressOf } from "../heap.ts";
import type { NativeLibrary } from "../library.ts";
import { activationCode } from "./activation.ts";

interface Plan {
  batch: number;
  m: number;
  n: number;
  k: number;
  strideA: number;
  strideB: number;
  outShape: number[];
}

function plan(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): Plan | null {
  if (a.dtype !== "float32" || b.dtype !== "float32") return null;
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const m = transposeA ? ac : ar, k = transposeA ? ar : ac, n = transposeB ? br : bc;
  if ((transposeB ? bc : br) !== k) return null;
  const batchA = sizeOf(a.shape.slice(0, -2)), batchB = sizeOf(b.shape.slice(0, -2));
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return null;
  const lead = (batchA >= batchB ? a : b).shape.slice(0, -2);
  const rank = Math.max(a.shape.length, b.shape.length);
  const batchShape = lead.length === rank - 2 ? lead : [...Array(rank - 2 - lead.length).fill(1), ...lead];
  const batch = Math.max(batchA, batchB);
  return {
    batch,
    m,
    n,
    k,
    strideA: batchA === 1 ? 0 : m * k,
    strideB: batchB === 1 ? 0 : k * n,
    outShape: [...batchShape, m, n],
  };
}

/** Registers both matmul kernels on the wasm backend. */
export function registerMatMulKernels(lib: NativeLibrary): void {
  for (const name of ["BatchMatMul", "_FusedMatMul"] as const) {
    const previous = currentKernel(name, "wasm")!;
    replaceKernel(name, "wasm", (args: KernelArgs) => {
      const { a, b, bias } = args.inputs as { a: TensorInfo; b: TensorInfo; bias?: TensorInfo };
      const transposeA = args.attrs.transposeA === true, transposeB = args.attrs.transposeB === true;
      const p = plan(a, b, transposeA, transposeB);
      const act = name === "_FusedMatMul" ? activationCode(args.attrs.activation) : 0;
      const biasOk = !bias || (bias.shape.length === 1 && bias.shape[0] === p?.n);
      if (!p || act === null || !biasOk || args.inputs.preluActivationWeights) return previous(args);
      const out = args.backend.makeOutput(p.outShape, "float32") as TensorInfo;
      const be = args.backend;
      lib.check(lib.symbols.ood_matmul(
        p.batch,
        transposeA ? 1 : 0,
        transposeB ? 1 : 0,
        p.m,
        p.n,
        p.k,
        addressOf(be, a),
        BigInt(p.strideA),
        addressOf(be, b),
        BigInt(p.strideB),
        addressOf(be, out),
        bias ? addressOf(be, bias) : 0n,
        act,
        (args.attrs.leakyreluAlpha as number | undefined) ?? 0.2,
      ));
      return out;
    });
  }
}
