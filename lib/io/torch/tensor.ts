/**
 * Tensors from storages. A checkpoint's pickle refers to storages by key and describes each tensor as a view
 * (offset, size, stride) of one; the storage bytes may only come later in the file (the legacy format writes them
 * after the pickle). So the unpickler gets placeholder tensors from a {@link TensorAssembler}, which checks each
 * view against its storage's length at once and fills in the values when the bytes are read.
 * @module
 */
import {
  type PickleValue,
  TorchCheckpointError,
  type TorchDType,
  type TorchTensor,
  type TorchTensorData,
} from "./types.ts";

/** Bytes per element of each storage type as stored in the file. */
export const ELEMENT_SIZE: Readonly<Record<TorchDType, number>> = {
  float32: 4,
  float16: 2,
  float64: 8,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/** The most elements a view may have beyond its storage's (expanded tensors are rare in checkpoints). */
const MAX_EXPANDED_ELEMENTS = 2 ** 26;

interface StorageInfo {
  readonly key: string;
  readonly dtype: TorchDType;
  readonly numel: number;
}

interface PendingView {
  readonly tensor: TorchTensor;
  readonly storage: TorchTensor;
  readonly offset: number;
  readonly size: readonly number[];
  readonly stride: readonly number[];
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/** Collects the storages and tensor views of one file, then fills in their values from the storage bytes. */
export class TensorAssembler {
  private readonly storages = new Map<TorchTensor, StorageInfo>();
  private readonly byKey = new Map<string, TorchTensor>();
  private readonly views: PendingView[] = [];

  /** @param file The file, for messages. */
  constructor(private readonly file: string) {}

  /**
   * The storage `key` of `numel` elements, as a one-dimensional tensor whose values arrive with
   * {@link materialize} (a storage saved on its own is read as such a tensor). The same key gives the same object.
   */
  storage(key: string, dtype: TorchDType, numel: number): TorchTensor {
    const known = this.byKey.get(key);
    if (known) {
      const info = this.storages.get(known)!;
      if (info.dtype !== dtype || info.numel !== numel) {
        this.fail(`corrupt: storage "${key}" is described twice with different types or sizes`);
      }
      return known;
    }
    if (!Number.isSafeInteger(numel) || numel < 0) this.fail(`corrupt: storage "${key}" has size ${numel}`);
    const t: TorchTensor = { kind: "tensor", dtype, shape: [numel], data: emptyData(dtype) };
    this.storages.set(t, { key, dtype, numel });
    this.byKey.set(key, t);
    return t;
  }

  /** The storage keys met so far, in order of first use. */
  keys(): string[] {
    return [...this.byKey.keys()];
  }

  /** The element type and count of storage `key` (undefined if the pickle never named it). */
  info(key: string): { dtype: TorchDType; numel: number } | undefined {
    const t = this.byKey.get(key);
    return t && this.storages.get(t);
  }

  /**
   * A tensor viewing `storage` from element `offset` with `size` and `stride` (in elements), checked to lie
   * inside the storage; its values are copied out contiguous by {@link materialize}.
   */
  view(storage: PickleValue, offset: number, size: readonly number[], stride: readonly number[]): TorchTensor {
    const info = this.storages.get(storage as TorchTensor);
    if (!info) this.fail("corrupt: a tensor is built on something that is not a storage of this file");
    if (offset < 0 || size.some((n) => n < 0) || stride.some((s) => s < 0)) {
      this.fail(`corrupt: tensor on storage "${info.key}" has a negative offset, size or stride`);
    }
    const count = size.reduce((a, n) => a * n, 1);
    // Stride-0 views (expand) may legitimately outgrow their storage, but not into an allocation bomb.
    if (count > info.numel && count > MAX_EXPANDED_ELEMENTS) {
      this.fail(`corrupt: a view of storage "${info.key}" expands ${info.numel} elements to ${count}`);
    }
    if (count > 0) {
      const last = offset + size.reduce((a, n, i) => a + (n - 1) * stride[i]!, 0);
      if (!(last < info.numel)) {
        this.fail(
          `corrupt: tensor of size [${size.join(", ")}], stride [${stride.join(", ")}] at offset ${offset} ` +
            `reaches element ${last} of storage "${info.key}", which has ${info.numel} elements`,
        );
      }
    }
    const tensor: TorchTensor = { kind: "tensor", dtype: info.dtype, shape: [...size], data: emptyData(info.dtype) };
    this.views.push({ tensor, storage: storage as TorchTensor, offset, size, stride });
    return tensor;
  }

  /**
   * Fills every storage and view with values.
   * @param read The raw bytes of storage `key` (at least numel × element size).
   * @param bigEndian Whether multi-byte elements are stored big-endian (zip files written on such machines).
   */
  materialize(read: (key: string, bytes: number) => Uint8Array, bigEndian = false): void {
    for (const [t, info] of this.storages) {
      const want = info.numel * ELEMENT_SIZE[info.dtype];
      const raw = read(info.key, want);
      if (raw.length < want) {
        this.fail(`truncated or corrupt: storage "${info.key}" holds ${raw.length} bytes, ${want} expected`);
      }
      (t as Writable<TorchTensor>).data = decodeElements(raw.subarray(0, want), info.dtype, bigEndian, this.file);
    }
    for (const v of this.views) (v.tensor as Writable<TorchTensor>).data = gather(v);
  }

  private fail(problem: string): never {
    throw new TorchCheckpointError(this.file, problem);
  }
}

function emptyData(dtype: TorchDType): TorchTensorData {
  return makeData(dtype, 0);
}

function makeData(dtype: TorchDType, n: number): TorchTensorData {
  switch (dtype) {
    case "float32":
    case "float16":
      return new Float32Array(n);
    case "float64":
      return new Float64Array(n);
    case "int64":
      return new BigInt64Array(n);
    case "int32":
      return new Int32Array(n);
    case "int16":
      return new Int16Array(n);
    case "int8":
      return new Int8Array(n);
    case "uint8":
    case "bool":
      return new Uint8Array(n);
  }
}

/**
 * Raw element bytes → typed array (little-endian unless `bigEndian`; float16 widened to float32).
 * @throws TorchCheckpointError naming `file` when the length is not a whole number of elements.
 */
export function decodeElements(raw: Uint8Array, dtype: TorchDType, bigEndian: boolean, file: string): TorchTensorData {
  const size = ELEMENT_SIZE[dtype];
  const n = raw.length / size;
  if (!Number.isInteger(n)) throw new TorchCheckpointError(file, `corrupt: ${raw.length} bytes of ${dtype}`);
  if (dtype !== "float16" && dtype !== "bool" && (size === 1 || bigEndian === HOST_BIG_ENDIAN)) {
    // Byte order matches the machine's: one copy into an aligned buffer, viewed as the element type.
    return viewAs(dtype, raw.slice().buffer);
  }
  const le = !bigEndian;
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = makeData(dtype, n);
  // DataView reads are alignment-free and endian-explicit, so no copy to an aligned buffer is needed.
  switch (dtype) {
    case "float32":
      for (let i = 0; i < n; i++) (out as Float32Array)[i] = v.getFloat32(4 * i, le);
      break;
    case "float16":
      for (let i = 0; i < n; i++) (out as Float32Array)[i] = halfToFloat(v.getUint16(2 * i, le));
      break;
    case "float64":
      for (let i = 0; i < n; i++) (out as Float64Array)[i] = v.getFloat64(8 * i, le);
      break;
    case "int64":
      for (let i = 0; i < n; i++) (out as BigInt64Array)[i] = v.getBigInt64(8 * i, le);
      break;
    case "int32":
      for (let i = 0; i < n; i++) (out as Int32Array)[i] = v.getInt32(4 * i, le);
      break;
    case "int16":
      for (let i = 0; i < n; i++) (out as Int16Array)[i] = v.getInt16(2 * i, le);
      break;
    case "int8":
      (out as Int8Array).set(new Int8Array(raw.buffer, raw.byteOffset, n));
      break;
    case "uint8":
      (out as Uint8Array).set(raw);
      break;
    case "bool":
      for (let i = 0; i < n; i++) (out as Uint8Array)[i] = raw[i] ? 1 : 0;
      break;
  }
  return out;
}

const HOST_BIG_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 0;

function viewAs(dtype: Exclude<TorchDType, "float16" | "bool">, buffer: ArrayBuffer): TorchTensorData {
  switch (dtype) {
    case "float32":
      return new Float32Array(buffer);
    case "float64":
      return new Float64Array(buffer);
    case "int64":
      return new BigInt64Array(buffer);
    case "int32":
      return new Int32Array(buffer);
    case "int16":
      return new Int16Array(buffer);
    case "int8":
      return new Int8Array(buffer);
    case "uint8":
      return new Uint8Array(buffer);
  }
}

/** IEEE half-precision bits → number (subnormals, infinities and NaN included). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** A view's elements copied out in row-major order. */
function gather(v: PendingView): TorchTensorData {
  const src = v.storage.data;
  const count = v.size.reduce((a, n) => a * n, 1);
  const out = makeData(v.tensor.dtype, count);
  if (count === 0) return out;
  if (isContiguous(v.size, v.stride)) {
    // deno-lint-ignore no-explicit-any
    (out as any).set((src as any).subarray(v.offset, v.offset + count));
    return out;
  }
  const rank = v.size.length;
  const idx = new Array<number>(rank).fill(0);
  let at = v.offset;
  for (let i = 0; i < count; i++) {
    // deno-lint-ignore no-explicit-any
    (out as any)[i] = (src as any)[at];
    // Odometer over the index, innermost dimension fastest.
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < v.size[d]!) {
        at += v.stride[d]!;
        break;
      }
      at -= (v.size[d]! - 1) * v.stride[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

/** Row-major contiguous (dimensions of size 1 may have any stride). */
function isContiguous(size: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let d = size.length - 1; d >= 0; d--) {
    if (size[d] !== 1 && stride[d] !== expected) return false;
    expected *= size[d]!;
  }
  return true;
}
