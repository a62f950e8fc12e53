/**
 * Reader for the IDX format of MNIST and Fashion-MNIST (LeCun et al.): a 4-byte magic `00 00 <type> <ndim>`,
 * `ndim` big-endian uint32 dimensions, then the data in row-major order. Gzipped files (`*.gz`) are accepted.
 * Only unsigned-byte data (type 0x08) is returned; every other problem is a `DatasetFormatError` naming the file.
 * @module
 */
import { gunzipSync } from "node:zlib";
import { DatasetFormatError } from "./errors.ts";

/** A parsed IDX file: its dimensions and its bytes (a view into the input, not a copy). */
export interface IdxArray {
  /** Dimension sizes, outermost first. */
  dims: number[];
  /** The elements in row-major order. */
  data: Uint8Array;
}

const TYPE_NAMES: Record<number, string> = {
  0x08: "unsigned byte",
  0x09: "signed byte",
  0x0b: "int16",
  0x0c: "int32",
  0x0d: "float32",
  0x0e: "float64",
};

/**
 * Parses IDX bytes. `expectDims` (optional) checks the rank; `-1` entries in it match any size, others must match.
 * @param bytes File content (gzip is detected and inflated).
 * @param file Name used in error messages.
 */
export function parseIdx(bytes: Uint8Array, file: string, expectDims?: readonly number[]): IdxArray {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = new Uint8Array(gunzipSync(bytes));
    } catch (e) {
      throw new DatasetFormatError(file, `gzip data is corrupt or truncated (${(e as Error).message})`);
    }
  }
  if (bytes.length < 4) throw new DatasetFormatError(file, `too short for an IDX header (${bytes.length} bytes)`);
  const magic = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join(" ");
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DatasetFormatError(file, `bad IDX magic number ${magic} (expected 00 00 08 0N)`);
  }
  const type = bytes[2]!;
  const ndim = bytes[3]!;
  if (!(type in TYPE_NAMES)) {
    throw new DatasetFormatError(file, `bad IDX magic number ${magic}: unknown type 0x${type.toString(16)}`);
  }
  if (type !== 0x08) {
    throw new DatasetFormatError(file, `IDX element type ${TYPE_NAMES[type]} is not supported (only unsigned byte)`);
  }
  if (ndim === 0) throw new DatasetFormatError(file, `bad IDX magic number ${magic}: zero dimensions`);
  const headerLen = 4 + 4 * ndim;
  if (bytes.length < headerLen) {
    throw new DatasetFormatError(
      file,
      `truncated IDX header: ${ndim} dimensions need ${headerLen} bytes, file has ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < ndim; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    count *= d;
  }
  if (expectDims) {
    if (expectDims.length !== ndim) {
      throw new DatasetFormatError(
        file,
        `expected ${expectDims.length} IDX dimensions, found ${ndim} (${dims.join("×")})`,
      );
    }
    expectDims.forEach((e, i) => {
      if (e >= 0 && dims[i] !== e) {
        throw new DatasetFormatError(file, `IDX dimension ${i} is ${dims[i]}, expected ${e} (dims ${dims.join("×")})`);
      }
    });
  }
  const available = bytes.length - headerLen;
  if (available < count) {
    throw new DatasetFormatError(
      file,
      `truncated: header declares ${dims.join("×")} = ${count} bytes of data, only ${available} present`,
    );
  }
  if (available > count) {
    throw new DatasetFormatError(file, `${available - count} unexpected trailing bytes after ${dims.join("×")} data`);
  }
  return { dims, data: bytes.subarray(headerLen) };
}

/** Reads and parses an IDX file from disk (see {@linkcode parseIdx}). */
export function readIdxFile(path: string, expectDims?: readonly number[]): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(path);
  } catch (e) {
    throw new DatasetFormatError(path, `cannot read IDX file (${(e as Error).message})`);
  }
  return parseIdx(bytes, path, expectDims);
}
