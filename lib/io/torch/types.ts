/**
 * The values a PyTorch checkpoint file holds once read by this project's reader: plain data and tensors. Nothing
 * in a file is ever executed: the unpickler builds these values itself and refuses every other global.
 * @module
 */

/** Element types of the storages a checkpoint may hold. */
export type TorchDType = "float32" | "float16" | "float64" | "int64" | "int32" | "int16" | "int8" | "uint8" | "bool";

/** The typed array a tensor's values are held in (float16 is widened to float32; int64 stays exact). */
export type TorchTensorData =
  | Float32Array
  | Float64Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array;

/** A tensor read from a checkpoint: its values copied out in row-major (C-contiguous) order, strides applied. */
export interface TorchTensor {
  readonly kind: "tensor";
  /** The storage's element type as stored in the file. */
  readonly dtype: TorchDType;
  /** PyTorch's shape, e.g. `[out, in, kh, kw]` for a convolution kernel. */
  readonly shape: readonly number[];
  /** The values, contiguous in `shape`'s row-major order. */
  readonly data: TorchTensorData;
}

/**
 * An instance of one of the few harmless classes a checkpoint may carry as data (e.g. `argparse.Namespace` of
 * training options, PyTorch Lightning's `AttributeDict`): its class name and the state it was pickled with.
 */
export interface PickledObject {
  readonly kind: "object";
  /** `module.qualname`, e.g. `"argparse.Namespace"`. */
  readonly className: string;
  /** Constructor arguments (from NEWOBJ), if any. */
  readonly args: readonly PickleValue[];
  /** The state set by BUILD (usually a Map of attribute names to values), or null. */
  readonly state: PickleValue;
}

/**
 * A reference to an allowed class or constant kept by name, never called: e.g. the storage types in a tensor's
 * persistent id, `torch.float32`, or the callback classes PyTorch Lightning 1.x uses as keys of `callbacks`.
 */
export interface PickledGlobal {
  readonly kind: "global";
  /** `module.qualname`, e.g. `"torch.FloatStorage"` (Python 2's `__builtin__`/`copy_reg` read as Python 3's). */
  readonly name: string;
}

/**
 * A value read from a pickle: None → null, bool, int (number when it fits 2^53, else bigint), float, str, bytes
 * (Uint8Array), list and tuple (arrays; tuples frozen), dict and OrderedDict (Map, insertion order kept), set
 * (Set), tensors, allowed data objects and references to allowed globals.
 */
export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | readonly PickleValue[]
  | Map<PickleValue, PickleValue>
  | Set<PickleValue>
  | TorchTensor
  | PickledObject
  | PickledGlobal;

/** A checkpoint file that cannot be read safely or is damaged. The message names the file and the problem. */
export class TorchCheckpointError extends Error {
  /** The offending file (path, or path and archive member). */
  readonly file: string;
  /** What is wrong, in words. */
  readonly problem: string;

  /**
   * Builds the message `<file>: <problem>`.
   * @param file The offending file.
   * @param problem What is wrong.
   */
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = "TorchCheckpointError";
    this.file = file;
    this.problem = problem;
  }
}

/** True for a tensor read from a checkpoint. */
export function isTorchTensor(v: unknown): v is TorchTensor {
  return typeof v === "object" && v !== null && (v as { kind?: unknown }).kind === "tensor" &&
    !(v instanceof Map) && !Array.isArray(v);
}
