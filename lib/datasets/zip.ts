/**
 * Zip reader (PKWARE APPNOTE: end-of-central-directory, central directory, local headers; stored and deflated
 * entries; CRC-32 checked). The archive is read into memory (the manifest's zip files are small). Encrypted and
 * zip64 archives are refused; Unix modes mark symlinks and device files.
 * @module
 */
import { inflateRawSync } from "node:zlib";
import { DownloadError } from "./errors.ts";
import { type ArchiveEntry, type ExtractOptions, safeEntryPath, type SafeWriter } from "./safe_writer.ts";

const dec = new TextDecoder();

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3), as zip and gzip use it. */
export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

interface ZipEntry extends ArchiveEntry {
  raw: string;
  method: number;
  crc: number;
  compSize: number;
  offset: number;
  mode: number;
}

function zipEntries(b: Uint8Array, archive: string): ZipEntry[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let eocd = -1;
  for (let i = b.length - 22; i >= Math.max(0, b.length - 22 - 65535); i--) {
    if (v.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new DownloadError(archive, "not a zip file, or truncated (no end-of-central-directory record)");
  const count = v.getUint16(eocd + 10, true);
  const cdSize = v.getUint32(eocd + 12, true);
  const cdOff = v.getUint32(eocd + 16, true);
  if (count === 0xffff || cdOff === 0xffffffff) throw new DownloadError(archive, "zip64 archives are not supported");
  if (cdOff + cdSize > eocd) throw new DownloadError(archive, "corrupt zip: central directory lies outside the file");
  const out: ZipEntry[] = [];
  let p = cdOff;
  for (let i = 0; i < count; i++) {
    if (p + 46 > b.length || v.getUint32(p, true) !== 0x02014b50) {
      throw new DownloadError(archive, `corrupt zip: bad central directory record ${i}`);
    }
    const host = v.getUint8(p + 5);
    const flags = v.getUint16(p + 8, true);
    const method = v.getUint16(p + 10, true);
    const crc = v.getUint32(p + 16, true);
    const compSize = v.getUint32(p + 20, true);
    const size = v.getUint32(p + 24, true);
    const nameLen = v.getUint16(p + 28, true);
    const extraLen = v.getUint16(p + 30, true);
    const commentLen = v.getUint16(p + 32, true);
    const ext = v.getUint32(p + 38, true);
    const offset = v.getUint32(p + 42, true);
    const raw = dec.decode(b.subarray(p + 46, p + 46 + nameLen));
    if (flags & 1) throw new DownloadError(archive, `refusing entry "${raw}": encrypted entries are not supported`);
    const mode = host === 3 ? ext >>> 16 : 0;
    const kind = mode & 0o170000;
    if (kind === 0o020000 || kind === 0o060000 || kind === 0o010000 || kind === 0o140000) {
      throw new DownloadError(archive, `refusing entry "${raw}": device files, FIFOs and sockets are not allowed`);
    }
    const type = raw.endsWith("/") || kind === 0o040000 ? "directory" : kind === 0o120000 ? "symlink" : "file";
    out.push({ raw, path: safeEntryPath(raw, archive), type, size, method, crc, compSize, offset, mode });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

function zipData(b: Uint8Array, e: ZipEntry, archive: string): Uint8Array {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (e.offset + 30 > b.length || v.getUint32(e.offset, true) !== 0x04034b50) {
    throw new DownloadError(archive, `corrupt zip: bad local header for "${e.raw}"`);
  }
  const start = e.offset + 30 + v.getUint16(e.offset + 26, true) + v.getUint16(e.offset + 28, true);
  if (start + e.compSize > b.length) {
    throw new DownloadError(archive, `truncated: data of "${e.raw}" runs past the end`);
  }
  const comp = b.subarray(start, start + e.compSize);
  let data: Uint8Array;
  if (e.method === 0) data = comp;
  else if (e.method === 8) {
    try {
      data = new Uint8Array(inflateRawSync(comp));
    } catch (err) {
      throw new DownloadError(archive, `corrupt deflate data in "${e.raw}" (${(err as Error).message})`);
    }
  } else throw new DownloadError(archive, `"${e.raw}" uses unsupported compression method ${e.method}`);
  if (data.length !== e.size || crc32(data) !== e.crc) {
    throw new DownloadError(archive, `corrupt entry "${e.raw}" (size or CRC-32 mismatch)`);
  }
  return data;
}

/** Extracts every entry of a zip file through `w` (regular files only if `opts.filter` passes). */
export async function extractZip(archive: string, w: SafeWriter, opts: ExtractOptions): Promise<void> {
  const b = Deno.readFileSync(archive);
  const entries = zipEntries(b, archive);
  for (const e of entries) {
    if (e.type === "directory") w.dir(e.path);
    else if (e.type === "symlink") w.symlink(e.path, dec.decode(zipData(b, e, archive)));
    else if (!opts.filter || opts.filter(e.path)) await w.file(e.path, zipData(b, e, archive));
  }
}

/** Lists the entries of a zip file (paths validated). */
export function listZip(archive: string): ArchiveEntry[] {
  return zipEntries(Deno.readFileSync(archive), archive).map((e) => ({ path: e.path, type: e.type, size: e.size }));
}

/** One member of a zip held in memory: validated path, kind, size, and its bytes read (CRC-checked) on demand. */
export interface ZipMember extends ArchiveEntry {
  /** The member's data (a view into the archive for stored entries); throws `DownloadError` when corrupt. */
  read(): Uint8Array;
}

/**
 * The members of a zip already in memory (e.g. a PyTorch checkpoint), paths validated as for extraction: an
 * entry with `..` or an absolute path throws `DownloadError`. Data is only read and checked when asked for.
 * @param bytes The whole archive.
 * @param archive The archive's name, for messages.
 */
export function zipMembers(bytes: Uint8Array, archive: string): ZipMember[] {
  return zipEntries(bytes, archive).map((e) => ({
    path: e.path,
    type: e.type,
    size: e.size,
    read: () => zipData(bytes, e, archive),
  }));
}
