/**
 * The compute engine: `initBackend()` selects and starts it once per process, `backendReport()` says which runs.
 * Import engine selection from here; TF.js itself comes from `lib/tf.ts`.
 * @module
 */
export * from "./select.ts";
export * from "./types.ts";
export { EngineUnavailable } from "./errors.ts";
