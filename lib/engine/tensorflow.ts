/**
 * libtensorflow through `@tensorflow/tfjs-node-gpu` (CUDA 11.2 + cuDNN 8.1) or `@tensorflow/tfjs-node`.
 * Their native addon is only present after `deno install --allow-scripts=...` on a machine that can
 * download libtensorflow; without it the dynamic import fails and this engine is unavailable.
 * @module
 */
import { importTfjsNode, tf } from "../tf.ts";
import type { EngineStart } from "./types.ts";
import { EngineUnavailable } from "./errors.ts";

const PACKAGES = [
  { name: "@tensorflow/tfjs-node-gpu", load: () => importTfjsNode("gpu") },
  { name: "@tensorflow/tfjs-node", load: () => importTfjsNode("cpu") },
] as const;

/** First line of an import error: the addon path or the missing library. */
function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split("\n")[0]!.trim();
}

export async function start(): Promise<EngineStart> {
  try {
    Deno.env.set("TF_CPP_MIN_LOG_LEVEL", Deno.env.get("TF_CPP_MIN_LOG_LEVEL") ?? "2"); // silence libtensorflow's banner
  } catch { /* no --allow-env: libtensorflow may log its banner */ }
  const failures: string[] = [];
  for (const pkg of PACKAGES) {
    try {
      await pkg.load();
      if (!(await tf.setBackend("tensorflow"))) throw new Error("tf.setBackend('tensorflow') returned false");
      await tf.ready();
      return {
        tfBackend: "tensorflow",
        threads: navigator.hardwareConcurrency,
        description: `${pkg.name} (libtensorflow)`,
      };
    } catch (e) {
      failures.push(`${pkg.name}: ${firstLine(e)}`);
    }
  }
  throw new EngineUnavailable("tensorflow", failures.join(" | "));
}
