/**
 * The `wasm` engine: TF.js's wasm backend (XNNPACK), multithreaded in Deno, with replacement kernels that make
 * it train conv nets at a usable speed. The stock backend lacks `Conv2DBackpropFilter` and several of its
 * training kernels are naive loops; see the kernel modules for the measured reasons.
 * @module
 */
import { type KernelImpl, replaceKernel } from "../kernels.ts";
import { registerFusedKernels } from "../fused/mod.ts";
import { tf, tfwasm } from "../../tf.ts";
import type { EngineStart, EngineStartOptions } from "../types.ts";
import { avgPoolGrad } from "./avg_pool_grad.ts";
import { concat, slice, splitV } from "./block_copies.ts";
import { matMulKernel } from "./batch_mat_mul.ts";
import { cast } from "./cast.ts";
import { conv2DBackpropFilter } from "./conv2d_backprop_filter.ts";
import { conv2DBackpropInput } from "./conv2d_backprop_input.ts";
import { identity } from "./identity.ts";
import { leadingReduceKernel } from "./leading_reduce.ts";
import { maxPoolGrad } from "./max_pool_grad.ts";
import { oneHot } from "./one_hot.ts";
import { installThreadedWasm, WASM_PRIORITY } from "./threads.ts";
import { tile } from "./tile.ts";

/** Every kernel this engine replaces (or adds) on backend "wasm". */
export const WASM_TRAINING_KERNELS: Readonly<Record<string, KernelImpl>> = {
  Conv2DBackpropFilter: conv2DBackpropFilter,
  Conv2DBackpropInput: conv2DBackpropInput,
  BatchMatMul: matMulKernel("BatchMatMul"),
  _FusedMatMul: matMulKernel("_FusedMatMul"),
  Tile: tile,
  Sum: leadingReduceKernel("Sum"),
  Mean: leadingReduceKernel("Mean"),
  Identity: identity,
  Cast: cast,
  MaxPoolGrad: maxPoolGrad,
  AvgPoolGrad: avgPoolGrad,
  OneHot: oneHot,
  Slice: slice,
  SplitV: splitV,
  Concat: concat,
};

let registered = false;

/**
 * Registers the training kernels on backend "wasm" (either wasm build; the `native` engine layers its own kernels
 * on top). Idempotent. Stock kernels stay reachable through `callOriginal` for the cases a replacement hands back.
 */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  for (const [name, impl] of Object.entries(WASM_TRAINING_KERNELS)) replaceKernel(name, "wasm", impl);
  registered = true;
}

/**
 * Starts the engine: the threaded-SIMD build when `opts.threads > 1` (else the stock loader, single-threaded),
 * the training kernels, the fused kernels, then `tf.setBackend("wasm")`. Throws with the reason when the backend
 * does not start.
 */
export async function start(opts: EngineStartOptions): Promise<EngineStart> {
  if (opts.threads > 1) installThreadedWasm(opts.threads);
  else tfwasm.setThreadsCount(1);
  registerWasmTrainingKernels();
  registerFusedKernels("wasm");
  const failure = recordFactoryFailure();
  let ok = false;
  try {
    ok = await tf.setBackend("wasm");
  } catch (e) {
    failure.reason ??= errorMessage(e);
  }
  if (!ok) throw new Error(`tf.setBackend("wasm") failed: ${failure.reason ?? "the backend did not initialise"}`);
  await tf.ready();
  const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
  const build = opts.threads > 1 ? "threaded SIMD build" : simd ? "SIMD build" : "build without SIMD";
  return {
    tfBackend: "wasm",
    threads: tfwasm.getThreadsCount(),
    description: `TF.js wasm (${build}, XNNPACK) + ood training kernels`,
  };
}

/**
 * Wraps the registered "wasm" factory so that its error is kept: `tf.setBackend` only logs a failed factory and
 * returns false, and the caller wants the reason in its exception.
 */
function recordFactoryFailure(): { reason: string | null } {
  const failure: { reason: string | null } = { reason: null };
  const factory = tf.findBackendFactory("wasm");
  if (!factory) {
    failure.reason = "no wasm backend factory is registered";
    return failure;
  }
  tf.removeBackend("wasm");
  tf.registerBackend("wasm", async () => {
    try {
      return await factory();
    } catch (e) {
      failure.reason = errorMessage(e);
      throw e;
    }
  }, WASM_PRIORITY);
  return failure;
}

function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === "object" && e !== null && "message" in e) return String(e.message);
  return String(e);
}
