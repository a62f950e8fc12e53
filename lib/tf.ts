/**
 * The only module that imports TensorFlow.js. Everything else imports `tf` from here.
 *
 * It also owns the choice of compute engine. `initBackend()` (or the `OOD_BACKEND` environment variable)
 * selects one of:
 *
 * | name | what runs | when `auto` takes it |
 * |---|---|---|
 * | `tensorflow` | `@tensorflow/tfjs-node-gpu`, else `@tensorflow/tfjs-node` (libtensorflow) | the native addon loads |
 * | `native` | the wasm backend with our oneDNN/C kernels (`native/`, Deno FFI) | the library is built and FFI is allowed |
 * | `webgpu` | `@tensorflow/tfjs-backend-webgpu` | the adapter is real hardware, not a software/fallback one |
 * | `wasm` | the wasm backend, multithreaded, with our training kernels | always (needs `--allow-read`) |
 * | `cpu` | the pure-JS reference backend | last resort |
 *
 * `auto` tries them in that order; the absence of each is normal and reported once with its reason. `native`
 * comes before `webgpu` because TF.js-WebGPU trains BatchNorm networks slowly even on a data-centre GPU
 * (ResNet-20 at batch 128: 15 img/s on an H100 against ~360 img/s for `native` on 2 CPU cores; measured).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import * as tfwasm from "@tensorflow/tfjs-backend-wasm";
import { EngineUnavailable } from "./engine/errors.ts";

// The cpu backend prints a "looks like you are running TensorFlow.js in Node.js" banner on first use unless PROD.
tf.env().set("PROD", true);

export { tf, tfwasm };
export type { Rank, Scalar, Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor4D, TensorInfo } from "@tensorflow/tfjs";

/** Engine names accepted by `initBackend` and `OOD_BACKEND`. */
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
/** Loads `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node` (registers the "tensorflow" backend). */
export function importTfjsNode(flavour: "gpu" | "cpu"): Promise<unknown> {
  return flavour === "gpu" ? import("@tensorflow/tfjs-node-gpu") : import("@tensorflow/tfjs-node");
}

/** Loads `@tensorflow/tfjs-backend-webgpu` (registers the "webgpu" backend). */
export function importWebgpuBackend(): Promise<unknown> {
  return import("@tensorflow/tfjs-backend-webgpu");
}

type EngineModule = { start(opts: EngineStartOptions): Promise<EngineStart> };
const ENGINE_MODULES: Record<EngineName, () => Promise<EngineModule>> = {
  tensorflow: () => import("./engine/tensorflow.ts"),
  webgpu: () => import("./engine/webgpu/mod.ts"),
  native: () => import("./engine/native/mod.ts"),
  wasm: () => import("./engine/wasm/mod.ts"),
  cpu: () => import("./engine/cpu.ts"),
};

let active: BackendReport | null = null;
let pending: Promise<BackendReport> | null = null;

/** Parses an engine choice, throwing an error that lists the valid names. */
export function parseBackendChoice(value: string, source = "backend"): BackendChoice {
  const v = value.trim().toLowerCase();
  if ((BACKEND_CHOICES as readonly string[]).includes(v)) return v as BackendChoice;
  throw new Error(`Unknown ${source} "${value}". Valid names: ${BACKEND_CHOICES.join(", ")}.`);
}

function envOrUndefined(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined; // no --allow-env: behave as if unset
  }
}

/** Threads for CPU engines: the explicit value, else `OOD_THREADS`, else the number of logical cores. */
export function resolveThreads(explicit?: number): number {
  const fromEnv = envOrUndefined("OOD_THREADS");
  const n = explicit ?? (fromEnv !== undefined ? Number(fromEnv) : navigator.hardwareConcurrency || 1);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`OOD_THREADS must be a positive integer, got "${explicit ?? fromEnv}".`);
  }
  return n;
}

/**
 * Selects and starts the compute engine once per process; later calls return the same report.
 * Asking for a different engine after one has started is an error (the wasm-based engines cannot
 * be swapped inside one process).
 */
export async function initBackend(opts: InitBackendOptions = {}): Promise<BackendReport> {
  const fromEnv = envOrUndefined("OOD_BACKEND");
  const choice = opts.backend ?? (fromEnv !== undefined ? parseBackendChoice(fromEnv, "OOD_BACKEND") : "auto");
  if (!BACKEND_CHOICES.includes(choice)) parseBackendChoice(String(choice));
  if (active) return checkSame(active, choice);
  if (pending) return checkSame(await pending, choice);
  const log = opts.log === undefined ? (line: string) => console.error(line) : opts.log;
  // Set before the first await, so concurrent callers share one selection.
  pending = selectEngine(choice, resolveThreads(opts.threads), opts.hardwareOnly ?? false).then((report) => {
    active = report;
    log?.(formatReport(report));
    return report;
  }).finally(() => {
    pending = null;
  });
  return await pending;
}

function checkSame(report: BackendReport, choice: BackendChoice): BackendReport {
  if (choice !== "auto" && choice !== report.engine) {
    throw new Error(
      `The ${report.engine} engine is already running in this process; ${choice} cannot replace it. ` +
        `Set OOD_BACKEND=${choice} before starting.`,
    );
  }
  return report;
}

async function selectEngine(choice: BackendChoice, threads: number, hardwareOnly: boolean): Promise<BackendReport> {
  const order: readonly EngineName[] = choice === "auto" ? ENGINE_NAMES : [choice];
  const skipped: BackendReport["skipped"] = [];
  for (const engine of order) {
    try {
      const mod = await ENGINE_MODULES[engine]();
      const start = await mod.start({ threads, requested: choice !== "auto" && !hardwareOnly });
      const reason = choice === "auto" ? "first available engine (auto)" : "requested";
      return { engine, reason, skipped, ...start };
    } catch (e) {
      const reason = e instanceof EngineUnavailable ? e.reason : `failed to start: ${(e as Error).message}`;
      if (choice !== "auto") throw new Error(`The ${engine} engine is not available: ${reason}`);
      skipped.push({ engine, reason });
    }
  }
  throw new Error(`No engine could start: ${skipped.map((s) => `${s.engine}: ${s.reason}`).join("; ")}`);
}

/** The report of the running engine, or null before `initBackend`. */
export function backendReport(): BackendReport | null {
  return active;
}

/** One line: the engine, what it is, and why the ones before it were passed over. */
export function formatReport(r: BackendReport): string {
  const skipped = r.skipped.length
    ? `; passed over: ${r.skipped.map((s) => `${s.engine} (${s.reason})`).join("; ")}`
    : "";
  return `[ood] engine ${r.engine}: ${r.description}, ${r.threads} thread(s) — ${r.reason}${skipped}`;
}
