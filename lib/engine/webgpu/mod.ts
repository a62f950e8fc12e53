/**
 * `@tensorflow/tfjs-backend-webgpu` on Deno's WebGPU. Under `auto` only a hardware adapter is accepted:
 * software adapters (Mesa lavapipe/llvmpipe, SwiftShader) are orders of magnitude slower than the CPU
 * engines. Naming `webgpu` explicitly accepts them (the correctness test runs on lavapipe).
 * @module
 */
import { importWebgpuBackend, tf } from "../../tf.ts";
import type { EngineStart, EngineStartOptions } from "../types.ts";
import { EngineUnavailable } from "../errors.ts";
import { replaceKernel } from "../kernels.ts";
import { conv2DBackpropFilter } from "./conv2d_backprop_filter.ts";

/** What we learn about the adapter before committing to it. */
export interface AdapterSummary {
  description: string;
  software: boolean;
}

const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|swiftshader|software|basic render|warp/i;

/** Asks Deno for a WebGPU adapter and classifies it; null when there is none. */
export async function probeAdapter(): Promise<AdapterSummary | null> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return null;
  try {
    // Without it Mesa prints "XDG_RUNTIME_DIR is invalid or not set" twice.
    if (!Deno.env.get("XDG_RUNTIME_DIR")) Deno.env.set("XDG_RUNTIME_DIR", "/tmp");
  } catch { /* no --allow-env: harmless noise */ }
  const adapter = await gpu.requestAdapter();
  if (!adapter) return null;
  const info = adapter.info;
  const description = info.description || [info.vendor, info.architecture, info.device].filter(Boolean).join(" ") ||
    "unnamed adapter";
  const fallback = (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  return { description, software: fallback || SOFTWARE_ADAPTER.test(description) };
}

export async function start(opts: EngineStartOptions): Promise<EngineStart> {
  const adapter = await probeAdapter();
  if (!adapter) {
    throw new EngineUnavailable("webgpu", "no WebGPU adapter (navigator.gpu missing or no Vulkan/Metal driver)");
  }
  if (adapter.software && !opts.requested) {
    throw new EngineUnavailable("webgpu", `software adapter only (${adapter.description})`);
  }
  await importWebgpuBackend();
  replaceKernel("Conv2DBackpropFilter", "webgpu", conv2DBackpropFilter);
  if (!(await tf.setBackend("webgpu"))) throw new Error("tf.setBackend('webgpu') returned false");
  await tf.ready();
  return {
    tfBackend: "webgpu",
    threads: 1,
    description: `WebGPU on ${adapter.description}${adapter.software ? " (software)" : ""}`,
  };
}
