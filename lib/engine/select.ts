/**
 * Engine selection: `initBackend()` (or the `OOD_BACKEND` environment variable) starts one of
 *
 * | name | what runs | when `auto` takes it |
 * |---|---|---|
 * | `tensorflow` | `@tensorflow/tfjs-node-gpu`, else `@tensorflow/tfjs-node` (libtensorflow) | the native addon loads |
 * | `native` | the wasm backend with our oneDNN/C kernels (`native/`, Deno FFI) | the library is built and FFI is allowed |
 * | `webgpu` | `@tensorflow/tfjs-backend-webgpu` | the adapter is real hardware, not a software/fallback one |
 * | `wasm` | the wasm backend, multithreaded, with our training kernels | always (needs `--allow-read`) |
 * | `cpu` | the pure-JS reference backend | last resort |
 *
 * `auto` tries them in that order; the absence of each is normal: the one engine line names the engines passed
 * over, and their full reasons (long native-addon paths, say) go to the run's manifest and, with `OOD_VERBOSE=1`
 * (`deno task reproduce --verbose`), to that line. `native`
 * comes before `webgpu` because TF.js-WebGPU trains BatchNorm networks slowly even on a data-centre GPU
 * (ResNet-20 at batch 128: 15 img/s on an H100 against ~360 img/s for `native` on 2 CPU cores; measured).
 *
 * The engine modules are loaded lazily, so this module imports neither TF.js nor any engine statically; they
 * import TF.js from `lib/tf.ts` and the shared types from `./types.ts`.
 * @module
 */
import { EngineUnavailable } from "./errors.ts";
import { UserError } from "../user_error.ts";
import {
  BACKEND_CHOICES,
  type BackendChoice,
  type BackendReport,
  ENGINE_NAMES,
  type EngineName,
  type EngineStart,
  type EngineStartOptions,
  type InitBackendOptions,
} from "./types.ts";

type EngineModule = { start(opts: EngineStartOptions): Promise<EngineStart> };
const ENGINE_MODULES: Record<EngineName, () => Promise<EngineModule>> = {
  tensorflow: () => import("./tensorflow.ts"),
  webgpu: () => import("./webgpu/mod.ts"),
  native: () => import("./native/mod.ts"),
  wasm: () => import("./wasm/mod.ts"),
  cpu: () => import("./cpu.ts"),
};

let active: BackendReport | null = null;
let pending: Promise<BackendReport> | null = null;

/** Parses an engine choice, throwing an error that lists the valid names. */
export function parseBackendChoice(value: string, source = "backend"): BackendChoice {
  const v = value.trim().toLowerCase();
  if ((BACKEND_CHOICES as readonly string[]).includes(v)) return v as BackendChoice;
  throw new UserError(`Unknown ${source} "${value}". Valid names: ${BACKEND_CHOICES.join(", ")}.`);
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
      if (choice !== "auto") {
        throw new UserError(
          `The ${engine} engine is not available: ${reason}`,
          `Unset OOD_BACKEND (or set it to auto) to use the best engine that starts here.`,
        );
      }
      skipped.push({ engine, reason });
    }
  }
  throw new UserError(`No engine could start: ${skipped.map((s) => `${s.engine}: ${s.reason}`).join("; ")}`);
}

/** The report of the running engine, or null before `initBackend`. */
export function backendReport(): BackendReport | null {
  return active;
}

/** Whether `OOD_VERBOSE=1` asks for the long engine line (set by `deno task reproduce --verbose`). */
export function verboseEngineLine(): boolean {
  return envOrUndefined("OOD_VERBOSE") === "1";
}

/**
 * One line: the engine, what it is, why it runs, and the engines passed over. Their reasons (a native addon's
 * library paths run to hundreds of characters) only when `verbose`; they are always in `report.skipped`, which
 * the run's manifest records.
 *
 * @param verbose Default {@link verboseEngineLine}().
 */
export function formatReport(r: BackendReport, verbose: boolean = verboseEngineLine()): string {
  const skipped = !r.skipped.length
    ? ""
    : verbose
    ? `; passed over: ${r.skipped.map((s) => `${s.engine} (${s.reason})`).join("; ")}`
    : `; passed over: ${r.skipped.map((s) => s.engine).join(", ")} (why: --verbose or the run's manifest)`;
  return `[ood] engine ${r.engine}: ${r.description}, ${r.threads} thread(s) — ${r.reason}${skipped}`;
}
