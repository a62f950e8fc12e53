/**
 * Streaming tar reader (POSIX ustar, pax `x`/`g` headers, GNU `L`/`K` long names, base-256 sizes), plain or
 * gzipped, with header checksums verified and truncation detected. Entries go through a `SafeWriter`.
 * @module
 */
import { DownloadError } from "./errors.ts";
import { type ArchiveEntry, type ExtractOptions, safeEntryPath, type SafeWriter } from "./safe_writer.ts";

/** A pull-based byte reader over a stream, with exact reads and skips. */
class StreamReader {
  #it: AsyncIterator<Uint8Array>;
  #buf: Uint8Array = new Uint8Array(0);
  #off = 0;
  constructor(stream: ReadableStream<Uint8Array>, readonly archive: string, readonly gz: boolean) {
    this.#it = stream[Symbol.asyncIterator]();
  }

  async #fill(): Promise<boolean> {
    let r: IteratorResult<Uint8Array>;
    try {
      r = await this.#it.next();
    } catch (e) {
      const what = this.gz ? "corrupt or truncated gzip data" : "read error";
      throw new DownloadError(this.archive, `${what} (${(e as Error).message})`);
    }
    if (r.done) return false;
    this.#buf = r.value;
    this.#off = 0;
    return true;
  }

  /** Exactly `n` bytes, or null at a clean end of stream before the first byte; throws on a partial read. */
  async read(n: number, what: string): Promise<Uint8Array | null> {
    const out = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      if (this.#off >= this.#buf.length && !(await this.#fill())) {
        if (got === 0) return null;
        throw new DownloadError(this.archive, `truncated: ${what} ends after ${got} of ${n} bytes`);
      }
      const take = Math.min(n - got, this.#buf.length - this.#off);
      out.set(this.#buf.subarray(this.#off, this.#off + take), got);
      this.#off += take;
      got += take;
    }
    return out;
  }

  /** Yields the next `n` bytes in chunks; throws if the stream ends first. */
  async *chunks(n: number, what: string): AsyncGenerator<Uint8Array> {
    let left = n;
    while (left > 0) {
      if (this.#off >= this.#buf.length && !(await this.#fill())) {
        throw new DownloadError(this.archive, `truncated: ${what} ends after ${n - left} of ${n} bytes`);
      }
      const take = Math.min(left, this.#buf.length - this.#off);
      yield this.#buf.subarray(this.#off, this.#off + take);
      this.#off += take;
      left -= take;
    }
  }

  async skip(n: number, what: string): Promise<void> {
    for await (const _ of this.chunks(n, what)) { /* discard */ }
  }

  async drain(): Promise<void> {
    while (await this.#fill()) { /* discard */ }
  }

  /** Stops reading (cancels the underlying stream, which closes its file). */
  async cancel(): Promise<void> {
    await this.#it.return?.().catch(() => {});
  }
}

const dec = new TextDecoder();
function cstr(b: Uint8Array, start: number, len: number): string {
  const s = b.subarray(start, start + len);
  const z = s.indexOf(0);
  return dec.decode(z >= 0 ? s.subarray(0, z) : s);
}

function octal(b: Uint8Array, start: number, len: number): number {
  if (b[start]! & 0x80) { // GNU base-256
    let v = b[start]! & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + b[start + i]!;
    return v;
  }
  const s = cstr(b, start, len).trim();
  if (s === "") return 0;
  if (!/^[0-7]+$/.test(s)) return NaN;
  return parseInt(s, 8);
}

function parsePax(data: Uint8Array, archive: string): Map<string, string> {
  const out = new Map<string, string>();
  let pos = 0;
  while (pos < data.length) {
    const sp = data.indexOf(0x20, pos);
    if (sp < 0) break;
    const len = parseInt(dec.decode(data.subarray(pos, sp)), 10);
    if (!(len > 0) || pos + len > data.length) throw new DownloadError(archive, "corrupt pax extended header");
    const rec = dec.decode(data.subarray(sp + 1, pos + len - 1));
    const eq = rec.indexOf("=");
    if (eq > 0) out.set(rec.slice(0, eq), rec.slice(eq + 1));
    pos += len;
  }
  return out;
}

interface TarHeader {
  path: string;
  type: string;
  size: number;
  linkname: string;
}

/** Iterates the entries of a tar stream, resolving pax and GNU long-name records and verifying checksums. */
async function* tarEntries(r: StreamReader): AsyncGenerator<TarHeader & { data: StreamReader }> {
  let pax = new Map<string, string>();
  let longName: string | null = null;
  let longLink: string | null = null;
  let index = 0;
  for (;;) {
    const h = await r.read(512, `tar header ${index}`);
    if (h === null) {
      throw new DownloadError(r.archive, "truncated: the tar stream ends without its end-of-archive marker");
    }
    if (h.every((b) => b === 0)) {
      await r.drain();
      return;
    }
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    const stored = octal(h, 148, 8);
    if (stored !== sum) {
      throw new DownloadError(r.archive, `corrupt tar header ${index} (checksum ${stored} ≠ computed ${sum})`);
    }
    const type = String.fromCharCode(h[156]!);
    let size = octal(h, 124, 12);
    if (!Number.isFinite(size)) throw new DownloadError(r.archive, `corrupt tar header ${index} (bad size field)`);
    const magic = cstr(h, 257, 6);
    const prefix = magic.startsWith("ustar") ? cstr(h, 345, 155) : "";
    let path = prefix ? `${prefix}/${cstr(h, 0, 100)}` : cstr(h, 0, 100);
    let linkname = cstr(h, 157, 100);
    const what = `tar entry "${path}"`;
    if (type === "x" || type === "g" || type === "L" || type === "K") {
      const data = await r.read(size, what) ?? new Uint8Array(0);
      await r.skip((512 - (size % 512)) % 512, what);
      if (type === "x") pax = parsePax(data, r.archive);
      if (type === "L") longName = cstr(data, 0, data.length);
      if (type === "K") longLink = cstr(data, 0, data.length);
      index++;
      continue;
    }
    if (longName !== null) path = longName;
    if (longLink !== null) linkname = longLink;
    if (pax.has("path")) path = pax.get("path")!;
    if (pax.has("linkpath")) linkname = pax.get("linkpath")!;
    if (pax.has("size")) size = Number(pax.get("size"));
    pax = new Map();
    longName = longLink = null;
    yield { path, type, size, linkname, data: r };
    index++;
  }
}

async function extractTarEntries(r: StreamReader, archive: string, w: SafeWriter, opts: ExtractOptions): Promise<void> {
  for await (const e of tarEntries(r)) {
    const rel = safeEntryPath(e.path, archive);
    const what = `tar entry "${e.path}"`;
    const padding = (512 - (e.size % 512)) % 512;
    switch (e.type) {
      case "0":
      case "\0":
      case "7":
        if (opts.filter && !opts.filter(rel)) await r.skip(e.size, what);
        else await w.file(rel, r.chunks(e.size, what));
        break;
      case "5":
        w.dir(rel);
        await r.skip(e.size, what);
        break;
      case "2":
        w.symlink(rel, e.linkname);
        await r.skip(e.size, what);
        break;
      case "1":
        w.hardlink(rel, e.linkname);
        await r.skip(e.size, what);
        break;
      case "3":
      case "4":
        w.fail(e.path, "device files are not allowed");
        break;
      case "6":
        w.fail(e.path, "FIFOs are not allowed");
        break;
      default:
        w.fail(e.path, `unsupported tar entry type '${e.type}'`);
    }
    await r.skip(padding, what);
  }
}

async function openTar(archive: string, format: "tar" | "tar.gz"): Promise<StreamReader> {
  const f = await Deno.open(archive);
  const stream = format === "tar.gz" ? f.readable.pipeThrough(new DecompressionStream("gzip")) : f.readable;
  return new StreamReader(stream, archive, format === "tar.gz");
}

/** Extracts a tar or tar.gz file through `w` (the stream is cancelled, closing the file, on error). */
export async function extractTar(archive: string, gz: boolean, w: SafeWriter, opts: ExtractOptions): Promise<void> {
  const r = await openTar(archive, gz ? "tar.gz" : "tar");
  try {
    await extractTarEntries(r, archive, w, opts);
  } catch (e) {
    await r.cancel();
    throw e;
  }
}

/** Lists the entries of a tar or tar.gz without extracting (paths validated; used for subset selection). */
export async function listTar(archive: string, gz: boolean): Promise<ArchiveEntry[]> {
  const r = await openTar(archive, gz ? "tar.gz" : "tar");
  const out: ArchiveEntry[] = [];
  const types: Record<string, ArchiveEntry["type"]> = {
    "0": "file",
    "\0": "file",
    "7": "file",
    "5": "directory",
    "2": "symlink",
    "1": "hardlink",
  };
  try {
    for await (const e of tarEntries(r)) {
      const rel = safeEntryPath(e.path, archive);
      const type = types[e.type];
      if (!type) {
        throw new DownloadError(
          archive,
          `refusing entry "${e.path}": unsupported or unsafe tar entry type '${e.type}'`,
        );
      }
      out.push({ path: rel, type, size: e.size });
      await r.skip(e.size + ((512 - (e.size % 512)) % 512), `tar entry "${e.path}"`);
    }
  } catch (e) {
    await r.cancel();
    throw e;
  }
  return out;
}
