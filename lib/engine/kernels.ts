/**
 * Replacing TF.js kernels on a backend, and composing new kernels from existing ones.
 *
 * Replacement kernels call other kernels' `kernelFunc`s directly (through {@link KernelCtx}), so nothing
 * they do is recorded on the autograd tape, and their temporaries are freed as soon as they return.
 * @module
 */
import { type TensorInfo, tf } from "../tf.ts";

/** The backend object handed to kernels (BackendWasm, MathBackendCPU, …); deliberately loose. */
// deno-lint-ignore no-explicit-any
export type AnyBackend = any;
/** Arguments TF.js passes to a kernel function. */
export interface KernelArgs {
  inputs: Record<string, TensorInfo | undefined>;
  attrs: Record<string, unknown>;
  backend: AnyBackend;
}
export type KernelImpl = (args: KernelArgs) => TensorInfo | TensorInfo[];

const originals = new Map<string, tf.KernelConfig | null>();
const key = (name: string, backend: string) => `${backend}/${name}`;

/** The kernel TF.js registered before any replacement (null when there was none). */
export function originalKernel(name: string, backend: string): tf.KernelConfig | null {
  const k = key(name, backend);
  if (!originals.has(k)) originals.set(k, tf.getKernel(name, backend) ?? null);
  return originals.get(k)!;
}

/** Calls the stock kernel; throws when the backend never had one. */
export function callOriginal(name: string, args: KernelArgs): TensorInfo | TensorInfo[] {
  const backendName = backendNameOf(args.backend);
  const k = originalKernel(name, backendName);
  if (!k) throw new Error(`No stock ${name} kernel on the ${backendName} backend to fall back to`);
  return (k.kernelFunc as unknown as KernelImpl)(args);
}

function backendNameOf(backend: AnyBackend): string {
  for (const name of ["wasm", "cpu", "webgpu", "tensorflow"]) {
    try {
      if (tf.engine().registry[name] === backend) return name;
    } catch { /* not initialised */ }
  }
  return tf.getBackend();
}

/**
 * Registers `kernelFunc` as `name` on `backend`, replacing (and remembering) the stock kernel. The stock
 * `setupFunc` is kept so that a backend initialised later still binds its wasm functions for fallbacks.
 */
export function replaceKernel(name: string, backend: string, kernelFunc: KernelImpl): void {
  const original = originalKernel(name, backend);
  if (tf.getKernel(name, backend)) tf.unregisterKernel(name, backend);
  tf.registerKernel({
    kernelName: name,
    backendName: backend,
    kernelFunc: kernelFunc as unknown as tf.KernelFunc,
    setupFunc: original?.setupFunc,
    disposeFunc: original?.disposeFunc,
  });
}

/**
 * The kernel now registered as `name` on `backend` (stock or an earlier replacement), as a callable; null
 * when there is none. Replacements that handle only some cases capture it first and fall back to it.
 */
export function currentKernel(name: string, backend: string): KernelImpl | null {
  const k = tf.getKernel(name, backend);
  return k ? (k.kernelFunc as unknown as KernelImpl) : null;
}

/** Puts the stock kernel back (or removes a kernel that had no stock version). */
export function restoreKernel(name: string, backend: string): void {
  const original = originalKernel(name, backend);
  if (tf.getKernel(name, backend)) tf.unregisterKernel(name, backend);
  if (original) tf.registerKernel(original);
}

/** Product of a shape's dimensions. */
export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * Runs kernels of one backend directly and frees every intermediate it produced except the result.
 * `run` uses the kernel currently registered, so compose only kernels that never call back into the caller.
 */
export class KernelCtx {
  readonly #temps: TensorInfo[] = [];
  constructor(readonly backend: AnyBackend, readonly backendName: string) {}

  run(name: string, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown> = {}): TensorInfo {
    const k = tf.getKernel(name, this.backendName);
    if (!k) throw new Error(`Kernel ${name} is not registered for ${this.backendName}`);
    const out = (k.kernelFunc as unknown as KernelImpl)({ inputs, attrs, backend: this.backend }) as TensorInfo;
    this.#temps.push(out);
    return out;
  }

  /** Like `run`, but with the stock kernel even when it has been replaced. */
  runOriginal(name: string, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown> = {}): TensorInfo {
    const out = callOriginal(name, { inputs, attrs, backend: this.backend }) as TensorInfo;
    this.#temps.push(out);
    return out;
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run("Reshape", { x }, { shape });
  }
  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run("Transpose", { x }, { perm });
  }
  pad(x: TensorInfo, paddings: [number, number][]): TensorInfo {
    return this.run("PadV2", { x }, { paddings, constantValue: 0 });
  }
  slice(x: TensorInfo, begin: number[], size: number[]): TensorInfo {
    return this.run("Slice", { x }, { begin, size });
  }
  concat(xs: TensorInfo[], axis: number): TensorInfo {
    if (xs.length === 1) return xs[0]!;
    return this.run("Concat", xs as unknown as Record<string, TensorInfo>, { axis });
  }
  fill(shape: number[], value: number, dtype: tf.DataType = "float32"): TensorInfo {
    return this.run("Fill", {}, { shape, value, dtype });
  }
  /** Registers an output made elsewhere (e.g. `backend.makeOutput`) so `finish` frees it if unused. */
  track(t: TensorInfo): TensorInfo {
    this.#temps.push(t);
    return t;
  }

  /** Frees every intermediate except `keep` and returns `keep`. */
  finish(keep: TensorInfo): TensorInfo {
    // Identity, not dataId: a Reshape shares its input's buffer but holds its own reference to it.
    for (const t of this.#temps) if (t !== keep) this.backend.disposeData(t.dataId);
    this.#temps.length = 0;
    return keep;
  }
}
