/**
 * The names and shapes of engine selection, shared by `select.ts` and every engine module (no imports, so the
 * engine modules can use them without importing the selector that loads them).
 * @module
 */

/** Engine names accepted by `initBackend` and `OOD_BACKEND`, in the order `auto` tries them. */
export const ENGINE_NAMES = ["tensorflow", "native", "webgpu", "wasm", "cpu"] as const;
export type EngineName = typeof ENGINE_NAMES[number];
export type BackendChoice = EngineName | "auto";
export const BACKEND_CHOICES: readonly BackendChoice[] = ["auto", ...ENGINE_NAMES];

/** What an engine module reports after it has set the TF.js backend. */
export interface EngineStart {
  /** The TF.js backend name now active (`tf.getBackend()`). */
  tfBackend: string;
  /** Worker threads the engine computes with. */
  threads: number;
  /** One line for humans: library, build, adapter. */
  description: string;
}

/** The outcome of backend selection. */
export interface BackendReport extends EngineStart {
  engine: EngineName;
  /** Why this engine: requested explicitly, or the first that started under `auto`. */
  reason: string;
  /** Every engine tried before it, with the reason it was passed over. */
  skipped: { engine: EngineName; reason: string }[];
}

export interface InitBackendOptions {
  /** Engine to use; default `OOD_BACKEND` or `auto`. */
  backend?: BackendChoice;
  /** Threads for the CPU engines; default `OOD_THREADS` or the number of cores. */
  threads?: number;
  /** Where the one-line report goes; default `console.error`. Pass `null` to stay silent. */
  log?: ((line: string) => void) | null;
  /** Refuse software WebGPU adapters even when `webgpu` is named (`auto` always refuses them). */
  hardwareOnly?: boolean;
}

/** Options every engine module's `start` receives. */
export interface EngineStartOptions {
  threads: number;
  /** True when the user named this engine (not `auto`): software WebGPU adapters are then accepted. */
  requested: boolean;
}
