/**
 * NumPy values inside checkpoints: training scripts often store a metric computed with NumPy or scikit-learn
 * (`best_acc`, an AUROC: a `numpy.float64`) or a small array (class means, a permutation) next to the weights.
 * Pickle writes them through four NumPy globals, which are read here as data: a scalar becomes a number (bigint
 * beyond 2^53, boolean for `bool_`), a numeric array a {@link TorchTensor} of the same element type. Object and
 * string arrays, and element types a tensor cannot hold, are refused.
 * @module
 */
import type { AllowedGlobal, GlobalContext } from "./globals.ts";
import { decodeElements } from "./tensor.ts";
import {
  type PickledObject,
  type PickleValue,
  TorchCheckpointError,
  type TorchDType,
  type TorchTensor,
  type TorchTensorData,
} from "./types.ts";

const NUMPY_DTYPES: Readonly<Record<string, TorchDType>> = {
  f2: "float16",
  f4: "float32",
  f8: "float64",
  i1: "int8",
  i2: "int16",
  i4: "int32",
  i8: "int64",
  u1: "uint8",
  b1: "bool",
};

const fail = (ctx: GlobalContext, problem: string): never => {
  throw new TorchCheckpointError(ctx.file, problem);
};

function isRecord(v: PickleValue | undefined, className: string): v is PickledObject {
  return typeof v === "object" && v !== null && (v as PickledObject).kind === "object" &&
    (v as PickledObject).className === className;
}

/** A `numpy.dtype` record → element type and whether it is big-endian. */
function elementType(dtype: PickleValue | undefined, ctx: GlobalContext): { dtype: TorchDType; bigEndian: boolean } {
  if (!isRecord(dtype, "numpy.dtype")) return fail(ctx, "corrupt: a NumPy value without a dtype");
  const code = String(dtype.args[0]);
  const torch = NUMPY_DTYPES[code];
  if (!torch) return fail(ctx, `unsupported: NumPy values of dtype "${code}"`);
  const state = dtype.state;
  const order = Array.isArray(state) ? (state as PickleValue[])[1] : "<";
  return { dtype: torch, bigEndian: order === ">" };
}

function rawBytes(v: PickleValue | undefined, ctx: GlobalContext, what: string): Uint8Array {
  if (v instanceof Uint8Array) return v;
  // Protocol 0–2 may write the buffer as Latin-1 text.
  if (typeof v === "string") return Uint8Array.from(v, (c) => c.charCodeAt(0) & 0xff);
  return fail(ctx, `unsupported: ${what} holds Python objects, not numbers`);
}

/** Unsigned scalar codes a tensor has no element type for, read directly. */
const UNSIGNED_SCALARS: Readonly<Record<string, number>> = { u2: 2, u4: 4, u8: 8 };

function unsignedScalar(dtype: PickledObject, raw: Uint8Array, ctx: GlobalContext): number | bigint {
  const size = UNSIGNED_SCALARS[String(dtype.args[0])]!;
  if (raw.length !== size) fail(ctx, "corrupt: a NumPy scalar of the wrong size");
  const le = !Array.isArray(dtype.state) || (dtype.state as PickleValue[])[1] !== ">";
  const v = new DataView(raw.buffer, raw.byteOffset, size);
  if (size === 2) return v.getUint16(0, le);
  if (size === 4) return v.getUint32(0, le);
  const big = v.getBigUint64(0, le);
  return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

/** `numpy.core.multiarray.scalar(dtype, bytes)` → a number. */
const scalar: AllowedGlobal = {
  call: (args, ctx) => {
    if (isRecord(args[0], "numpy.dtype") && String(args[0].args[0]) in UNSIGNED_SCALARS) {
      return unsignedScalar(args[0], rawBytes(args[1], ctx, "a NumPy scalar"), ctx);
    }
    const { dtype, bigEndian } = elementType(args[0], ctx);
    const data = decodeElements(rawBytes(args[1], ctx, "a NumPy scalar"), dtype, bigEndian, ctx.file);
    if (data.length !== 1) fail(ctx, "corrupt: a NumPy scalar of the wrong size");
    const v = data[0]!;
    if (dtype === "bool") return v !== 0;
    if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v;
    return v;
  },
};

/** `numpy.dtype(code, align, copy)`: a record whose BUILD state carries the byte order. */
const dtypeGlobal: AllowedGlobal = {
  call: (args) => ({ kind: "object", className: "numpy.dtype", args: Object.freeze([...args]), state: null }),
};

/** `_reconstruct(ndarray, (0,), b"b")`: an empty record that BUILD turns into a tensor. */
const reconstruct: AllowedGlobal = {
  call: (args, ctx) => {
    const cls = args[0] as { kind?: string; name?: string } | undefined;
    if (cls?.kind !== "global" || cls.name !== "numpy.ndarray") fail(ctx, "unsupported: a NumPy array subclass");
    return { kind: "object", className: "numpy.ndarray", args: Object.freeze([]), state: null };
  },
};

/** BUILD of an ndarray: `(version, shape, dtype, is_fortran, raw)` → a row-major tensor. */
const ndarray: AllowedGlobal = {
  build: (_obj, state, ctx) => {
    if (!Array.isArray(state) || state.length < 5) return fail(ctx, "corrupt: NumPy array state");
    const [, shape, dtypeRecord, fortran, raw] = state as PickleValue[];
    if (!Array.isArray(shape) || !shape.every((n) => Number.isSafeInteger(n) && (n as number) >= 0)) {
      return fail(ctx, "corrupt: NumPy array shape");
    }
    const { dtype, bigEndian } = elementType(dtypeRecord, ctx);
    const dims = shape as number[];
    const count = dims.reduce((a, n) => a * n, 1);
    const data = decodeElements(rawBytes(raw, ctx, "a NumPy array"), dtype, bigEndian, ctx.file);
    if (data.length !== count) fail(ctx, `corrupt: NumPy array of shape [${dims.join(", ")}] holds ${data.length}`);
    const t: TorchTensor = { kind: "tensor", dtype, shape: dims, data: fortran ? fromColumnMajor(data, dims) : data };
    return t;
  },
};

/** Column-major (Fortran-order) values → row-major. */
function fromColumnMajor(data: TorchTensorData, shape: readonly number[]): TorchTensorData {
  const out = data.slice() as TorchTensorData;
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  // Column-major strides: the first dimension is contiguous.
  const strides = shape.map((_, d) => shape.slice(0, d).reduce((a, n) => a * n, 1));
  for (let i = 0; i < data.length; i++) {
    // deno-lint-ignore no-explicit-any
    (out as any)[i] = (data as any)[idx.reduce((a, x, d) => a + x * strides[d]!, 0)];
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** The NumPy globals (both `numpy.core` and NumPy 2's `numpy._core` spellings). */
export const NUMPY_GLOBALS: ReadonlyArray<readonly [string, AllowedGlobal]> = [
  ["numpy.dtype", dtypeGlobal],
  ["numpy.ndarray", ndarray],
  ...["numpy.core", "numpy._core"].flatMap((m) =>
    [
      [`${m}.multiarray.scalar`, scalar],
      [`${m}.multiarray._reconstruct`, reconstruct],
    ] as const
  ),
];
