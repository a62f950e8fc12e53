/**
 * Multithreaded TF.js wasm backend for Deno.
 *
 * Deno exposes `process`, so TF.js takes it for Node and never picks the threaded build
 * (`WASM_HAS_MULTITHREAD_SUPPORT` is false). Forcing the flag does not help either: the stock loader hands the
 * pthread worker to `worker_threads` as a `blob:` URL, which Deno rejects (`ERR_WORKER_PATH`). This module
 * re-registers backend `"wasm"` with a factory that loads the threaded-SIMD emscripten build from the package
 * directory itself: the worker source goes to a temporary `.cjs` file, the glue script is named by absolute path,
 * and `BackendWasm` is built here. Kernel registrations for `"wasm"` are untouched. Measured on 2 cores:
 * 1024³ matmul 88 → 45 ms, LeNet training 413 → 545 img/s.
 * @module
 */
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { tf, tfwasm } from "../../tf.ts";

const GLUE = "wasm-out/tfjs-backend-wasm-threaded-simd.js";
const WORKER_SOURCE = "wasm-out/tfjs-backend-wasm-threaded-simd.worker.js";
const BINARY = "wasm-out/tfjs-backend-wasm-threaded-simd.wasm";
/** The stock "wasm" registration's priority (tfjs-backend-wasm `base.ts`); kept when re-registering. */
export const WASM_PRIORITY = 2;
/** Deno's worker global refuses a `location` property; the worker never reads it. */
const WORKER_LOCATION = "location:{href:__filename},";

/** The emscripten module object: the parts this loader touches (the rest passes through to `BackendWasm`). */
interface EmscriptenModule {
  cwrap(name: string, returnType: string | null, argTypes: string[]): (...args: number[]) => number | void;
  tfjs?: Record<string, unknown>;
  PThread: { runningWorkers: PthreadWorker[] };
}
/** A pthread's worker (`node:worker_threads` Worker under Deno). */
interface PthreadWorker {
  unref(): void;
}
interface FactoryConfig {
  locateFile(file: string, prefix: string): string;
  mainScriptUrlOrBlob: string;
}
type ModuleFactory = (config: FactoryConfig) => Promise<EmscriptenModule>;
type BackendModule = ConstructorParameters<typeof tfwasm.BackendWasm>[0];

/**
 * Absolute, symlink-free path of the installed `@tensorflow/tfjs-backend-wasm` package (with a trailing
 * separator), resolved the way Node would from this file, so it works wherever the repository is cloned.
 */
export function wasmPackageDir(): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve("@tensorflow/tfjs-backend-wasm/package.json");
  return Deno.realPathSync(path.dirname(manifest)) + path.sep;
}

/**
 * Writes the pthread worker script into a fresh per-process temporary directory (several processes may start
 * at once) and returns its absolute path. The directory is removed when the process unloads.
 */
function writeWorkerScript(pkgDir: string): string {
  const require = createRequire(import.meta.url);
  const { wasmWorkerContents } = require(pkgDir + WORKER_SOURCE) as { wasmWorkerContents: string };
  if (!wasmWorkerContents.includes(WORKER_LOCATION)) {
    throw new Error(`Unexpected pthread worker source in ${pkgDir + WORKER_SOURCE} (tfjs-backend-wasm version?)`);
  }
  // The source sits in a template literal, which turned its "\n" escapes into raw newlines inside string literals.
  const source = wasmWorkerContents.replace(/\n/g, "\\n").replace(WORKER_LOCATION, "");
  const dir = Deno.makeTempDirSync({ prefix: "ood-wasm-" });
  const file = path.join(dir, "tfjs-backend-wasm-threaded-simd.worker.cjs");
  Deno.writeTextFileSync(file, source);
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* already gone */ }
  });
  return file;
}

/**
 * Runs `f` while `os.cpus()` reports `2 * threads` cores. The wasm `backend.cc` creates XNNPACK's pthreadpool
 * during static initialisation with `clamp(logical_cores / 2, 1, 4)` threads (emscripten reads the core count
 * from `os.cpus()` under Node), and `init_with_threads_count` (which `BackendWasm` calls with the
 * `setThreadsCount` value) cannot grow a one-thread pool: measured, the count stays 1 without this.
 */
async function withReportedCores<T>(threads: number, f: () => Promise<T>): Promise<T> {
  const original = os.cpus;
  const patched = () => {
    const cpus = original();
    return Array.from({ length: 2 * threads }, (_, i) => cpus[i % cpus.length]!);
  };
  Object.defineProperty(os, "cpus", { value: patched, configurable: true, writable: true });
  try {
    return await f();
  } finally {
    Object.defineProperty(os, "cpus", { value: original, configurable: true, writable: true });
  }
}

/** The `module.tfjs` bridge the stock loader installs (see tfjs-backend-wasm `backend_wasm.ts` `init`). */
function addBridge(module: EmscriptenModule): void {
  module.tfjs = {
    init: module.cwrap("init", null, []),
    initWithThreadsCount: module.cwrap("init_with_threads_count", null, ["number"]),
    getThreadsCount: module.cwrap("get_threads_count", "number", []),
    registerTensor: module.cwrap("register_tensor", null, ["number", "number", "number"]),
    disposeData: module.cwrap("dispose_data", null, ["number"]),
    dispose: module.cwrap("dispose", null, []),
  };
}

/**
 * Lets the process exit while XNNPACK's pool threads wait for work. Emscripten `ref()`s the worker of every
 * running pthread under Node (the pool threads run for the life of the module), so without this a script that
 * used the threaded backend never ends. Called once the backend exists, when the pool threads have started.
 */
function releasePoolThreads(module: EmscriptenModule): void {
  for (const worker of module.PThread.runningWorkers) worker.unref();
}

/**
 * Replaces the factory of backend `"wasm"` with one that loads the threaded-SIMD build with `threads` XNNPACK
 * threads. Call before the backend is first initialised (`tf.setBackend("wasm")`); a backend already built is
 * disposed. XNNPACK gets at most 8 threads (the build pre-spawns 8 pthread workers); `tfwasm.getThreadsCount()`
 * reports what it got. Throws when the package files are missing or not the expected version.
 */
export function installThreadedWasm(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`threads must be a positive integer, got ${threads}`);
  const pkgDir = wasmPackageDir();
  const glue = pkgDir + GLUE;
  const require = createRequire(import.meta.url);
  const factory = require(glue) as ModuleFactory;
  const workerFile = writeWorkerScript(pkgDir);
  const config: FactoryConfig = {
    locateFile: (file) => {
      if (file.endsWith(".worker.js")) return workerFile;
      if (file.endsWith(".wasm")) return pkgDir + BINARY;
      return pkgDir + "wasm-out/" + file;
    },
    // Each pthread worker `importScripts` this path (read with fs), instead of a Blob of the factory's source.
    mainScriptUrlOrBlob: glue,
  };
  tfwasm.setThreadsCount(threads);
  if (tf.findBackendFactory("wasm")) tf.removeBackend("wasm");
  tf.registerBackend("wasm", async () => {
    const module = await withReportedCores(threads, () => factory(config));
    addBridge(module);
    const backend = new tfwasm.BackendWasm(module as unknown as BackendModule);
    releasePoolThreads(module);
    return backend;
  }, WASM_PRIORITY);
}
