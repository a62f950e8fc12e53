/**
 * The safety layer shared by the tar and zip extractors: member-path validation and a writer that refuses to
 * leave its destination folder (no `..`, no absolute paths, no links pointing out, no writes through links).
 * @module
 */
import { dirname, join } from "node:path";
import { DownloadError } from "./errors.ts";

/** Options of `extractArchive`. */
export interface ExtractOptions {
  /** Extract only regular files whose (safe, normalized) path passes; other entries are still validated. */
  filter?: (path: string) => boolean;
}

/** What was extracted. */
export interface ExtractReport {
  /** Regular files written. */
  files: number;
  /** Directory entries created. */
  directories: number;
  /** Symlinks created and hard links copied. */
  links: number;
}

/** One entry as listed by `listArchive`. */
export interface ArchiveEntry {
  /** Normalized, validated member path. */
  path: string;
  /** Entry kind. */
  type: "file" | "directory" | "symlink" | "hardlink";
  /** Data bytes (0 for directories and links). */
  size: number;
}

/**
 * Normalizes an archive member path and rejects unsafe ones: absolute, drive-letter, `..`, NUL, empty.
 * Backslashes count as separators for the check. Returns `""` for the archive root (`./`).
 */
export function safeEntryPath(raw: string, archive: string): string {
  const fail = (why: string): never => {
    throw new DownloadError(archive, `refusing entry "${raw}": ${why}`);
  };
  if (raw.includes("\0")) fail("path contains a NUL byte");
  if (raw.startsWith("/") || raw.startsWith("\\")) fail("absolute path");
  if (/^[A-Za-z]:/.test(raw)) fail("absolute path (drive letter)");
  const parts: string[] = [];
  for (const p of raw.split(/[\\/]/)) {
    if (p === "" || p === ".") continue;
    if (p === "..") fail("path contains '..'");
    parts.push(p);
  }
  return parts.join("/");
}

/** Lexically resolves a symlink target relative to the link's folder; null if it leaves the root. */
function resolveLinkTarget(linkPath: string, target: string): string | null {
  if (target.startsWith("/") || target.startsWith("\\") || /^[A-Za-z]:/.test(target)) return null;
  const parts = linkPath.split("/").slice(0, -1);
  for (const p of target.split(/[\\/]/)) {
    if (p === "" || p === ".") continue;
    if (p === "..") {
      if (parts.length === 0) return null;
      parts.pop();
    } else parts.push(p);
  }
  return parts.join("/");
}

/** Writes archive members below `dest`, enforcing the rules of the module doc; counts what it wrote. */
export class SafeWriter {
  /** Counts of what was written so far. */
  report: ExtractReport = { files: 0, directories: 0, links: 0 };
  /** Regular files written so far (hard links may only point at these). */
  readonly regular: Set<string> = new Set<string>();
  /** Destination folder (must exist). */
  readonly dest: string;
  /** Archive name used in error messages. */
  readonly archive: string;

  /**
   * Prepares to write below `dest`.
   * @param dest Existing destination folder.
   * @param archive Archive name for error messages.
   */
  constructor(dest: string, archive: string) {
    this.dest = dest;
    this.archive = archive;
  }

  /** Throws the refusal error for `entry`. */
  fail(entry: string, why: string): never {
    throw new DownloadError(this.archive, `refusing entry "${entry}": ${why}`);
  }

  /** Ensures no existing component of `rel` (parents, and the entry itself) is a symlink. */
  checkNoSymlink(rel: string): void {
    const parts = rel.split("/");
    let cur = this.dest;
    for (let i = 0; i < parts.length; i++) {
      cur = join(cur, parts[i]!);
      let info: Deno.FileInfo;
      try {
        info = Deno.lstatSync(cur);
      } catch {
        return; // does not exist yet: nothing below it can either
      }
      if (info.isSymlink) {
        this.fail(rel, `it would be written through the symlink "${parts.slice(0, i + 1).join("/")}"`);
      }
    }
  }

  /** Creates directory `rel` (and its parents). */
  dir(rel: string): void {
    if (!rel) return;
    this.checkNoSymlink(rel);
    Deno.mkdirSync(join(this.dest, rel), { recursive: true });
    this.report.directories++;
  }

  /** Writes regular file `rel` from its bytes or a stream of chunks, replacing an earlier file of that name. */
  async file(rel: string, chunks: AsyncIterable<Uint8Array> | Uint8Array): Promise<void> {
    if (!rel) this.fail(rel, "a file entry without a name");
    this.checkNoSymlink(rel);
    const path = join(this.dest, rel);
    Deno.mkdirSync(dirname(path), { recursive: true });
    try {
      const info = Deno.lstatSync(path);
      if (info.isDirectory) this.fail(rel, "a file entry replaces a directory");
      Deno.removeSync(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    const f = await Deno.open(path, { write: true, createNew: true });
    try {
      if (chunks instanceof Uint8Array) await writeAll(f, chunks);
      else for await (const c of chunks) await writeAll(f, c);
    } finally {
      f.close();
    }
    this.regular.add(rel);
    this.report.files++;
  }

  /** Creates symlink `rel` → `target` if the target stays inside the destination. */
  symlink(rel: string, target: string): void {
    if (resolveLinkTarget(rel, target) === null) {
      this.fail(rel, `symlink target "${target}" points outside the destination`);
    }
    this.checkNoSymlink(rel);
    const path = join(this.dest, rel);
    Deno.mkdirSync(dirname(path), { recursive: true });
    Deno.symlinkSync(target.replaceAll("\\", "/"), path);
    this.report.links++;
  }

  /** Materializes hard link `rel` as a copy of the already extracted regular file `target`. */
  hardlink(rel: string, target: string): void {
    let t: string;
    try {
      t = safeEntryPath(target, this.archive);
    } catch {
      this.fail(rel, `hard link target "${target}" points outside the destination`);
    }
    if (!this.regular.has(t)) this.fail(rel, `hard link target "${target}" is not a regular file extracted earlier`);
    this.checkNoSymlink(rel);
    const path = join(this.dest, rel);
    Deno.mkdirSync(dirname(path), { recursive: true });
    Deno.copyFileSync(join(this.dest, t), path);
    this.regular.add(rel);
    this.report.links++;
  }
}

async function writeAll(f: Deno.FsFile, data: Uint8Array): Promise<void> {
  let o = 0;
  while (o < data.length) o += await f.write(data.subarray(o));
}
