/**
 * A minimal reader for MATLAB Level 5 MAT-files (the format of MATLAB v5–v7, e.g. SVHN's `test_32x32.mat`),
 * written from MathWorks' "MAT-File Format" specification. It returns the real numeric arrays
 * (double, single, int8…uint32, logical) of a file, in MATLAB's column-major order, and reads
 * `miCOMPRESSED` (zlib) elements. Both byte orders are accepted.
 *
 * Not supported (clear errors): v7.3 files (HDF5), Level 4 files, complex/sparse/64-bit-integer arrays that are
 * requested by name. Cell arrays, structs, char arrays and objects are skipped.
 * @module
 */
import { inflateSync } from "node:zlib";
import { DatasetFormatError } from "./errors.ts";

/** MATLAB array classes this reader can return. */
export type MatClass = "double" | "single" | "int8" | "uint8" | "int16" | "uint16" | "int32" | "uint32";

/** Typed arrays a `MatArray` can hold (one per `MatClass`). */
export type MatData =
  | Float64Array
  | Float32Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array;

/** One numeric variable: MATLAB class, dimensions, values in column-major order. */
export interface MatArray {
  /** Variable name. */
  name: string;
  /** MATLAB class (the storage type may have been narrower; values are widened to it). */
  className: MatClass;
  /** Logical arrays are stored as uint8 with this flag set. */
  logical: boolean;
  /** Dimensions, MATLAB order. */
  dims: number[];
  /** Values, column-major. */
  data: MatData;
}

// Data types (miXXX) and their item sizes.
const MI: Record<number, { name: string; size: number }> = {
  1: { name: "miINT8", size: 1 },
  2: { name: "miUINT8", size: 1 },
  3: { name: "miINT16", size: 2 },
  4: { name: "miUINT16", size: 2 },
  5: { name: "miINT32", size: 4 },
  6: { name: "miUINT32", size: 4 },
  7: { name: "miSINGLE", size: 4 },
  9: { name: "miDOUBLE", size: 8 },
  12: { name: "miINT64", size: 8 },
  13: { name: "miUINT64", size: 8 },
  14: { name: "miMATRIX", size: 0 },
  15: { name: "miCOMPRESSED", size: 0 },
  16: { name: "miUTF8", size: 1 },
  17: { name: "miUTF16", size: 2 },
  18: { name: "miUTF32", size: 4 },
};
const MI_MATRIX = 14;
const MI_COMPRESSED = 15;

// Array classes (mxXXX_CLASS).
const MX_NUMERIC: Record<number, MatClass> = {
  6: "double",
  7: "single",
  8: "int8",
  9: "uint8",
  10: "int16",
  11: "uint16",
  12: "int32",
  13: "uint32",
};
const MX_NAMES: Record<number, string> = {
  1: "cell",
  2: "struct",
  3: "object",
  4: "char",
  5: "sparse",
  14: "int64",
  15: "uint64",
  16: "function",
  17: "opaque",
};

const CTOR: Record<MatClass, new (n: number) => MatData> = {
  double: Float64Array,
  single: Float32Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
};

interface Tag {
  type: number;
  /** Payload length in bytes. */
  length: number;
  /** Offset of the payload. */
  data: number;
  /** Offset of the next element (padding included). */
  next: number;
}

class Reader {
  readonly view: DataView;
  constructor(readonly bytes: Uint8Array, readonly le: boolean, readonly file: string, readonly where: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(at: number, problem: string): never {
    throw new DatasetFormatError(this.file, `${problem} (${this.where}byte ${at})`);
  }

  tag(pos: number, end: number): Tag {
    if (pos + 8 > end) this.fail(pos, `truncated: element tag needs 8 bytes, ${end - pos} remain`);
    const first = this.view.getUint32(pos, this.le);
    if (first >>> 16 !== 0) { // small data element: 2-byte length + 2-byte type, ≤ 4 bytes of data inline
      const length = first >>> 16;
      if (length > 4) this.fail(pos, `bad small data element: length ${length} > 4`);
      return { type: first & 0xffff, length, data: pos + 4, next: pos + 8 };
    }
    const length = this.view.getUint32(pos + 4, this.le);
    if (pos + 8 + length > end) {
      this.fail(pos, `truncated: element declares ${length} bytes but only ${end - pos - 8} remain`);
    }
    const padded = first === MI_COMPRESSED ? length : Math.ceil(length / 8) * 8;
    return { type: first, length, data: pos + 8, next: Math.min(pos + 8 + padded, end) };
  }

  /** Reads `count` values of storage type `type` at `pos` into a new array of class `cls`. */
  values(type: number, pos: number, length: number, count: number, cls: MatClass): MatData {
    const mi = MI[type];
    if (!mi || mi.size === 0 || type >= 12) this.fail(pos, `unsupported numeric storage type ${mi?.name ?? type}`);
    if (length !== count * mi.size) {
      this.fail(pos, `${mi.name} data holds ${length} bytes, expected ${count} × ${mi.size} = ${count * mi.size}`);
    }
    const out = new CTOR[cls](count);
    const v = this.view;
    const le = this.le;
    if (type === 2 && cls === "uint8") {
      (out as Uint8Array).set(this.bytes.subarray(pos, pos + count));
      return out;
    }
    for (let i = 0; i < count; i++) {
      const o = pos + i * mi.size;
      switch (type) {
        case 1:
          out[i] = v.getInt8(o);
          break;
        case 2:
          out[i] = v.getUint8(o);
          break;
        case 3:
          out[i] = v.getInt16(o, le);
          break;
        case 4:
          out[i] = v.getUint16(o, le);
          break;
        case 5:
          out[i] = v.getInt32(o, le);
          break;
        case 6:
          out[i] = v.getUint32(o, le);
          break;
        case 7:
          out[i] = v.getFloat32(o, le);
          break;
        default:
          out[i] = v.getFloat64(o, le);
          break;
      }
    }
    return out;
  }
}

function parseMatrix(r: Reader, start: number, end: number, wanted: Set<string> | null): MatArray | null {
  const flagsTag = r.tag(start, end);
  if (flagsTag.type !== 6 || flagsTag.length !== 8) {
    r.fail(start, "miMATRIX does not start with an 8-byte array-flags subelement");
  }
  const flags = r.view.getUint32(flagsTag.data, r.le);
  const mxClass = flags & 0xff;
  const complex = (flags & 0x0800) !== 0;
  const logical = (flags & 0x0200) !== 0;
  const dimsTag = r.tag(flagsTag.next, end);
  if (dimsTag.type !== 5 || dimsTag.length % 4 !== 0 || dimsTag.length < 8) {
    r.fail(flagsTag.next, "miMATRIX dimensions subelement must be miINT32 with at least 2 entries");
  }
  const dims: number[] = [];
  for (let o = dimsTag.data; o < dimsTag.data + dimsTag.length; o += 4) {
    const d = r.view.getInt32(o, r.le);
    if (d < 0) r.fail(o, `negative dimension ${d}`);
    dims.push(d);
  }
  const nameTag = r.tag(dimsTag.next, end);
  if (nameTag.type !== 1 && nameTag.type !== 2) r.fail(dimsTag.next, "miMATRIX name subelement must be miINT8");
  const name = new TextDecoder().decode(r.bytes.subarray(nameTag.data, nameTag.data + nameTag.length));
  if (wanted && !wanted.has(name)) return null;
  const cls = MX_NUMERIC[mxClass];
  if (!cls) {
    if (wanted) r.fail(start, `variable "${name}" has unsupported class ${MX_NAMES[mxClass] ?? mxClass}`);
    return null;
  }
  if (complex) {
    if (wanted) r.fail(start, `variable "${name}" is complex; only real arrays are supported`);
    return null;
  }
  const count = dims.reduce((a, b) => a * b, 1);
  const realTag = r.tag(nameTag.next, end);
  const data = r.values(realTag.type, realTag.data, realTag.length, count, cls);
  return { name, className: cls, logical, dims, data };
}

function parseElements(
  r: Reader,
  start: number,
  end: number,
  wanted: Set<string> | null,
  out: Map<string, MatArray>,
  depth: number,
): void {
  let pos = start;
  while (pos < end) {
    if (end - pos < 8 && r.bytes.subarray(pos, end).every((b) => b === 0)) break; // trailing padding
    const t = r.tag(pos, end);
    if (t.type === MI_COMPRESSED) {
      if (depth > 0) r.fail(pos, "nested miCOMPRESSED element");
      let inflated: Uint8Array;
      try {
        inflated = new Uint8Array(inflateSync(r.bytes.subarray(t.data, t.data + t.length)));
      } catch (e) {
        r.fail(pos, `corrupt miCOMPRESSED element: ${(e as Error).message}`);
      }
      const inner = new Reader(inflated, r.le, r.file, `inside compressed element at byte ${pos}, `);
      parseElements(inner, 0, inflated.length, wanted, out, depth + 1);
    } else if (t.type === MI_MATRIX) {
      if (t.length > 0) {
        const arr = parseMatrix(r, t.data, t.data + t.length, wanted);
        if (arr) out.set(arr.name, arr);
      }
    } else if (!(t.type in MI)) {
      r.fail(pos, `unknown data element type ${t.type}`);
    }
    pos = t.next;
  }
}

/**
 * Parses a Level 5 MAT-file. With `variables`, only those are decoded and each must exist and be numeric.
 * @param bytes File content.
 * @param file Name used in error messages.
 * @returns Numeric variables by name.
 * @example Usage
 * ```ts ignore
 * import { readMat } from "@lib/datasets/mat.ts";
 * const vars = readMat(Deno.readFileSync("data/svhn/test_32x32.mat"), "test_32x32.mat", { variables: ["X", "y"] });
 * vars.get("X")!.dims; // [32, 32, 3, 26032]
 * ```
 */
export function readMat(
  bytes: Uint8Array,
  file: string,
  opts: { variables?: readonly string[] } = {},
): Map<string, MatArray> {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x48 && bytes[2] === 0x44 && bytes[3] === 0x46) {
    throw new DatasetFormatError(file, "is an HDF5 file (MATLAB v7.3), which is not supported; save it with -v7");
  }
  if (bytes.length < 128) throw new DatasetFormatError(file, `too short for a MAT-file header (${bytes.length} bytes)`);
  const text = new TextDecoder("latin1").decode(bytes.subarray(0, 116));
  if (text.startsWith("MATLAB 7.3 MAT-file")) {
    throw new DatasetFormatError(file, "is a MATLAB v7.3 (HDF5) MAT-file, which is not supported; save it with -v7");
  }
  if (!text.startsWith("MATLAB 5.0 MAT-file")) {
    throw new DatasetFormatError(
      file,
      "is not a MATLAB Level 5 MAT-file (header text missing; Level 4 files are not supported)",
    );
  }
  const endian = String.fromCharCode(bytes[126]!, bytes[127]!);
  if (endian !== "IM" && endian !== "MI") {
    throw new DatasetFormatError(file, `bad endian indicator "${endian}" at byte 126`);
  }
  const le = endian === "IM";
  const version = new DataView(bytes.buffer, bytes.byteOffset).getUint16(124, le);
  if (version !== 0x0100) {
    throw new DatasetFormatError(
      file,
      `unsupported MAT-file version 0x${version.toString(16).padStart(4, "0")} (expected 0x0100)`,
    );
  }
  const wanted = opts.variables ? new Set(opts.variables) : null;
  const out = new Map<string, MatArray>();
  parseElements(new Reader(bytes, le, file, ""), 128, bytes.length, wanted, out, 0);
  for (const v of opts.variables ?? []) {
    if (!out.has(v)) {
      throw new DatasetFormatError(
        file,
        `has no numeric variable "${v}" (found: ${[...out.keys()].join(", ") || "none"})`,
      );
    }
  }
  return out;
}
