/**
 * Loading `native/build/libood_native.so` (built by `deno task build:native`) through Deno FFI.
 * @module
 */
import { EngineUnavailable } from "../errors.ts";

/** Must equal `ood_abi_version()` in native/src/runtime.cpp. */
export const ABI_VERSION = 1;

const SYMBOLS = {
  ood_abi_version: { parameters: [], result: "i32" },
  ood_init: { parameters: ["i32"], result: "i32" },
  ood_last_error: { parameters: [], result: "pointer" },
  ood_dnnl_version: { parameters: [], result: "pointer" },
  ood_conv2d_forward: { parameters: ["buffer", "usize", "usize", "usize", "usize", "i32", "f32"], result: "i32" },
  ood_conv2d_backward_data: { parameters: ["buffer", "usize", "usize", "usize"], result: "i32" },
  ood_conv2d_backward_weights: { parameters: ["buffer", "usize", "usize", "usize"], result: "i32" },
  ood_conv2d_clear_cache: { parameters: [], result: "void" },
  ood_matmul: {
    parameters: [
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "usize",
      "i64",
      "usize",
      "i64",
      "usize",
      "usize",
      "i32",
      "f32",
    ],
    result: "i32",
  },
  ood_batch_norm_train: {
    parameters: ["usize", "i64", "i32", "usize", "usize", "f32", "usize", "usize", "usize"],
    result: "i32",
  },
  ood_batch_norm_train_backward: {
    parameters: ["usize", "usize", "i64", "i32", "usize", "usize", "usize", "f32", "usize", "usize", "usize"],
    result: "i32",
  },
  ood_batch_norm_infer: {
    parameters: ["usize", "i64", "i32", "usize", "i32", "usize", "i32", "usize", "i32", "usize", "i32", "f32", "usize"],
    result: "i32",
  },
  ood_max_pool_grad: { parameters: ["buffer", "usize", "usize", "usize"], result: "i32" },
  ood_avg_pool_grad: { parameters: ["buffer", "usize", "usize"], result: "i32" },
  ood_relu_grad: { parameters: ["usize", "usize", "usize", "i64"], result: "i32" },
  ood_reduce_sum: { parameters: ["usize", "i64", "i64", "i64", "f64", "usize"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

export type NativeSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** The loaded library: its symbols and a status check that turns failures into errors. */
export interface NativeLibrary {
  symbols: NativeSymbols;
  path: string;
  dnnlVersion: string;
  /** Throws the library's last error message when `status` is not 0. */
  check(status: number): void;
  /** The library's last error message. */
  lastError(): string;
}

/** Where the library is: `OOD_NATIVE_LIB`, else native/build/libood_native.so in this checkout. */
export function libraryPath(): string {
  const override = Deno.env.get("OOD_NATIVE_LIB");
  return override ?? new URL("../../../native/build/libood_native.so", import.meta.url).pathname;
}

function newestSourceMtime(): number {
  const dir = new URL("../../../native/src/", import.meta.url).pathname;
  let newest = 0;
  for (const e of Deno.readDirSync(dir)) newest = Math.max(newest, Deno.statSync(dir + e.name).mtime?.getTime() ?? 0);
  return newest;
}

/**
 * Opens the library and starts it with `threads` OpenMP threads. Throws {@link EngineUnavailable} with a
 * reason a user can act on when it is missing, stale, of another ABI version, or FFI is not permitted.
 */
export function loadNativeLibrary(threads: number): NativeLibrary {
  const path = libraryPath();
  let stat: Deno.FileInfo;
  try {
    stat = Deno.statSync(path);
  } catch {
    throw new EngineUnavailable("native", `${path} not built (run \`deno task build:native\`)`);
  }
  if (!Deno.env.get("OOD_NATIVE_LIB") && (stat.mtime?.getTime() ?? 0) < newestSourceMtime()) {
    throw new EngineUnavailable("native", `${path} is older than native/src (run \`deno task build:native\`)`);
  }
  let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
  try {
    lib = Deno.dlopen(path, SYMBOLS);
  } catch (e) {
    const msg = (e as Error).message.split("\n")[0];
    throw new EngineUnavailable(
      "native",
      e instanceof Deno.errors.NotCapable ? "FFI not permitted (--allow-ffi)" : msg!,
    );
  }
  const version = lib.symbols.ood_abi_version();
  if (version !== ABI_VERSION) {
    lib.close();
    throw new EngineUnavailable("native", `${path} has ABI ${version}, expected ${ABI_VERSION} (rebuild it)`);
  }
  const cString = (p: Deno.PointerValue) => (p ? Deno.UnsafePointerView.getCString(p) : "");
  const lastError = () => cString(lib.symbols.ood_last_error());
  const check = (status: number) => {
    if (status !== 0) throw new Error(`native kernel failed: ${lastError()}`);
  };
  check(lib.symbols.ood_init(threads));
  return { symbols: lib.symbols, path, dnnlVersion: cString(lib.symbols.ood_dnnl_version()), check, lastError };
}
