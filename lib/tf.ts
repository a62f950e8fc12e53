/**
 * The only module that imports TensorFlow.js. Everything else imports `tf` from here; the engine that runs it
 * is chosen in `lib/engine/` (`initBackend` and `backendReport` from `lib/engine/mod.ts`).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import * as tfwasm from "@tensorflow/tfjs-backend-wasm";

// The cpu backend prints a "looks like you are running TensorFlow.js in Node.js" banner on first use unless PROD.
tf.env().set("PROD", true);

export { tf, tfwasm };
export type { Rank, Scalar, Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor4D, TensorInfo } from "@tensorflow/tfjs";

/** Loads `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node` (registers the "tensorflow" backend). */
export function importTfjsNode(flavour: "gpu" | "cpu"): Promise<unknown> {
  return flavour === "gpu" ? import("@tensorflow/tfjs-node-gpu") : import("@tensorflow/tfjs-node");
}

/** Loads `@tensorflow/tfjs-backend-webgpu` (registers the "webgpu" backend). */
export function importWebgpuBackend(): Promise<unknown> {
  return import("@tensorflow/tfjs-backend-webgpu");
}
