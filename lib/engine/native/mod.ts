/**
 * The `native` engine: the TF.js wasm backend (single-threaded build; tensors stay on its heap) with the hot
 * kernels replaced by C++ ones built on oneDNN and OpenMP (`native/`), called in place through Deno FFI.
 * Kernels the native library does not cover run on the wasm engine's kernels.
 * @module
 */
import { tf, tfwasm } from "../../tf.ts";
import type { EngineStart, EngineStartOptions } from "../types.ts";
import { registerFusedKernels } from "../fused/mod.ts";
import { registerWasmTrainingKernels } from "../wasm/mod.ts";
import { registerBatchNormKernels } from "./kernels/batch_norm.ts";
import { registerConvKernels } from "./kernels/conv.ts";
import { registerReluGrad } from "./kernels/relu_grad.ts";
import { registerMatMulKernels } from "./kernels/matmul.ts";
import { registerPoolKernels } from "./kernels/pool.ts";
import { registerReduceKernels } from "./kernels/reduce.ts";
import { loadNativeLibrary } from "./library.ts";

export async function start(opts: EngineStartOptions): Promise<EngineStart> {
  const lib = loadNativeLibrary(opts.threads);
  // The wasm side stays single-threaded: its threads would compete with OpenMP's for the same cores.
  tfwasm.setThreadsCount(1);
  registerWasmTrainingKernels();
  registerFusedKernels("wasm");
  registerConvKernels(lib);
  registerMatMulKernels(lib);
  registerBatchNormKernels(lib);
  registerPoolKernels(lib);
  registerReduceKernels(lib);
  registerReluGrad(lib);
  if (!(await tf.setBackend("wasm"))) throw new Error("tf.setBackend('wasm') returned false");
  await tf.ready();
  return {
    tfBackend: "wasm",
    threads: opts.threads,
    description: `TF.js wasm heap + native kernels (oneDNN ${lib.dnnlVersion}, OpenMP)`,
  };
}
