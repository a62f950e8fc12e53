/**
 * The pure-JS `cpu` backend: the numerical reference, and the engine of last resort.
 * @module
 */
import { tf } from "../tf.ts";
import type { EngineStart } from "./types.ts";
import { registerFusedKernels } from "./fused/mod.ts";

export async function start(): Promise<EngineStart> {
  registerFusedKernels("cpu");
  if (!(await tf.setBackend("cpu"))) throw new Error("tf.setBackend('cpu') returned false");
  await tf.ready();
  return { tfBackend: "cpu", threads: 1, description: "TF.js pure-JS backend" };
}
