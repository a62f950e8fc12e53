/**
 * Fetching and installing the downloadable datasets (`deno task data <name…>`).
 *
 * For each file of a manifest entry: stream it to `data/.downloads/<file>.part` (resuming a partial file with
 * an HTTP `Range` request, and retrying dropped connections from where they stopped), then check its size and
 * checksums. A file with a wrong size or checksum is deleted and reported; a file that no published checksum
 * covers is refused unless `trustUnverified` (its SHA-256 is printed either way). Archives are then extracted
 * (safely, see `archive.ts`) into a staging folder `data/.staging-<name>-<uuid>/`, which is renamed to
 * `data/<name>/` only when complete, so a dataset folder is never half-written.
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { Rng } from "../data/rng.ts";
import { type ArchiveFormat, extractArchive, listArchive } from "./archive.ts";
import { DownloadError } from "./errors.ts";
import { isDownloadable, MANIFEST, type ManifestEntry, type RemoteFile } from "./manifest.ts";
import { dataRoot } from "./paths.ts";

/** Options of {@linkcode downloadDataset}. */
export interface DownloadOptions {
  /** Data root (default: `OOD_DATA_DIR` or `<repo>/data`). */
  root?: string;
  /** Accept files that no known checksum covers (prints their SHA-256). Default false. */
  trustUnverified?: boolean;
  /** Reinstall even if `data/<name>/` exists. Default false. */
  force?: boolean;
  /** Keep the downloaded archives in `data/.downloads/` after installing. Default false. */
  keepArchive?: boolean;
  /** Connection attempts per file (each resumes where the previous stopped). Default 5. */
  attempts?: number;
  /** Pause between attempts in ms. Default 1000. */
  retryDelayMs?: number;
  /** Progress lines; default `console.error`, `null` for silence. */
  log?: ((line: string) => void) | null;
  /** Use this entry instead of the built-in manifest (tests, mirrors). */
  manifest?: ManifestEntry;
  /** `fetch` to use (tests). */
  fetch?: typeof fetch;
}

/** How a downloaded file was accepted. */
export type Verification = "sha256" | "md5" | "trusted";

/** What {@linkcode downloadDataset} did. */
export interface InstallReport {
  /** Dataset name. */
  name: string;
  /** The dataset folder, `<root>/<name>`. */
  path: string;
  /** False when the dataset was already installed and `force` was not given. */
  installed: boolean;
  /** Each downloaded file, its SHA-256, and how it was accepted. */
  files: { filename: string; size: number; sha256: string; verified: Verification }[];
  /** Images found after extraction (image-folder sets). */
  images?: number;
  /** Non-fatal findings (e.g. an unexpected image count). */
  warnings: string[];
}

/** Size, SHA-256 and MD5 of a file on disk (streamed). */
export async function hashFile(path: string): Promise<{ size: number; sha256: string; md5: string }> {
  const sha = createHash("sha256");
  const md5 = createHash("md5");
  let size = 0;
  const f = await Deno.open(path);
  for await (const chunk of f.readable) {
    sha.update(chunk);
    md5.update(chunk);
    size += chunk.length;
  }
  return { size, sha256: sha.digest("hex"), md5: md5.digest("hex") };
}

/**
 * Checks a file against the sizes/checksums known for it.
 * @returns How it was verified, or `null` if nothing known covers it (the caller decides whether to trust it).
 * @throws DownloadError on any mismatch.
 */
export function checkDigests(
  file: RemoteFile,
  got: { size: number; sha256: string; md5: string },
  label: string,
): Verification | null {
  if (file.size !== null && got.size !== file.size) {
    throw new DownloadError(label, `size is ${got.size} bytes, expected ${file.size}`);
  }
  if (file.sha256 !== null && got.sha256 !== file.sha256.toLowerCase()) {
    throw new DownloadError(label, `SHA-256 mismatch: got ${got.sha256}, expected ${file.sha256}`);
  }
  if (file.md5 !== undefined && got.md5 !== file.md5.toLowerCase()) {
    throw new DownloadError(label, `MD5 mismatch: got ${got.md5}, expected ${file.md5}`);
  }
  return file.sha256 !== null ? "sha256" : file.md5 !== undefined ? "md5" : null;
}

function fileSize(path: string): number {
  try {
    return Deno.statSync(path).size;
  } catch {
    return 0;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Streams `url` to `part`, resuming from the bytes already there. Retries interrupted transfers.
 * Resolves when the server has sent the whole file (as far as its headers tell).
 */
export async function fetchToFile(
  url: string,
  part: string,
  opts: {
    attempts?: number;
    retryDelayMs?: number;
    expectedSize?: number | null;
    log?: (l: string) => void;
    fetch?: typeof fetch;
  } = {},
): Promise<void> {
  const attempts = opts.attempts ?? 5;
  const doFetch = opts.fetch ?? fetch;
  const log = opts.log ?? (() => {});
  let lastError = "";
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) await sleep(opts.retryDelayMs ?? 1000);
    let have = fileSize(part);
    if (opts.expectedSize != null && have > opts.expectedSize) {
      Deno.removeSync(part);
      have = 0;
    }
    if (opts.expectedSize != null && have === opts.expectedSize) return;
    let resp: Response;
    try {
      resp = await doFetch(url, { headers: have > 0 ? { Range: `bytes=${have}-` } : {}, redirect: "follow" });
    } catch (e) {
      lastError = `connection failed (${(e as Error).message})`;
      log(`${url}: ${lastError}; attempt ${attempt}/${attempts}`);
      continue;
    }
    if (resp.status === 416 && have > 0) { // nothing left to send: the part file is complete
      await resp.body?.cancel();
      return;
    }
    let total: number | null = null;
    let append = false;
    if (resp.status === 206) {
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(resp.headers.get("content-range") ?? "");
      if (m && Number(m[1]) === have) {
        append = true;
        total = m[3] === "*" ? null : Number(m[3]);
      } else {
        await resp.body?.cancel();
        lastError = `server answered the range request with an unexpected Content-Range "${
          resp.headers.get("content-range")
        }"`;
        log(`${url}: ${lastError}; restarting from 0`);
        Deno.removeSync(part);
        continue;
      }
    } else if (resp.status === 200) {
      if (have > 0) log(`${url}: server does not support resuming; restarting from 0`);
      const len = resp.headers.get("content-length");
      total = len !== null ? Number(len) : null;
    } else {
      await resp.body?.cancel();
      lastError = `HTTP ${resp.status} ${resp.statusText}`;
      if (resp.status >= 400 && resp.status < 500 && resp.status !== 408 && resp.status !== 429) {
        throw new DownloadError(url, lastError);
      }
      log(`${url}: ${lastError}; attempt ${attempt}/${attempts}`);
      continue;
    }
    if (!resp.body) throw new DownloadError(url, "response has no body");
    const f = await Deno.open(part, { write: true, create: true, append, truncate: !append });
    let written = append ? have : 0;
    let lastLog = Date.now();
    try {
      for await (const chunk of resp.body) {
        let o = 0;
        while (o < chunk.length) o += await f.write(chunk.subarray(o));
        written += chunk.length;
        if (Date.now() - lastLog > 5000) {
          lastLog = Date.now();
          log(`${url}: ${(written / 1e6).toFixed(1)} MB${total ? ` of ${(total / 1e6).toFixed(1)} MB` : ""}`);
        }
      }
    } catch (e) {
      lastError = `connection dropped after ${written} bytes (${(e as Error).message})`;
      log(`${url}: ${lastError}; will resume (attempt ${attempt}/${attempts})`);
      continue;
    } finally {
      f.close();
    }
    const expected = total ?? opts.expectedSize ?? null;
    if (expected !== null && written < expected) {
      lastError = `transfer ended after ${written} of ${expected} bytes`;
      log(`${url}: ${lastError}; will resume (attempt ${attempt}/${attempts})`);
      continue;
    }
    return;
  }
  throw new DownloadError(url, `download failed after ${attempts} attempts: ${lastError}`);
}

/** Downloads (or reuses) one manifest file into `downloads/`, verified. Returns its path and digest. */
async function obtainFile(
  file: RemoteFile,
  downloads: string,
  opts: DownloadOptions,
  log: (l: string) => void,
): Promise<{ path: string; size: number; sha256: string; verified: Verification }> {
  const done = join(downloads, file.filename);
  const part = `${done}.part`;
  if (fileSize(done) === 0) {
    log(`downloading ${file.url}`);
    await fetchToFile(file.url, part, {
      attempts: opts.attempts,
      retryDelayMs: opts.retryDelayMs,
      expectedSize: file.size,
      log,
      fetch: opts.fetch,
    });
    Deno.renameSync(part, done);
  } else {
    log(`reusing ${done}`);
  }
  const got = await hashFile(done);
  let verified: Verification | null;
  try {
    verified = checkDigests(file, got, `${done} (from ${file.url})`);
  } catch (e) {
    Deno.removeSync(done); // a corrupt file is never kept: the next run downloads afresh
    throw e;
  }
  if (verified === null) {
    if (!opts.trustUnverified) {
      throw new DownloadError(
        done,
        `no published checksum covers this file, so it was not installed. Its SHA-256 is ${got.sha256} ` +
          `(${got.size} bytes). Check it against a trusted source, then re-run with --trust-unverified to accept it ` +
          `(the file is kept, nothing is downloaded again).`,
      );
    }
    log(
      `WARNING: ${file.filename} is not covered by a published checksum; accepted because of --trust-unverified. ` +
        `SHA-256 ${got.sha256}, ${got.size} bytes.`,
    );
    verified = "trusted";
  } else {
    log(`verified ${file.filename} (${verified}); SHA-256 ${got.sha256}`);
  }
  return { path: done, size: got.size, sha256: got.sha256, verified };
}

const IMAGE_EXT = /\.(png|jpe?g)$/i;

async function chooseSubset(
  archive: string,
  format: ArchiveFormat,
  rule: { count: number; seed: number },
): Promise<Set<string>> {
  const images = (await listArchive(archive, format)).filter((e) => e.type === "file" && IMAGE_EXT.test(e.path))
    .map((e) => e.path).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const perm = new Rng(rule.seed).permutation(images.length);
  return new Set(Array.from(perm.subarray(0, Math.min(rule.count, images.length)), (i) => images[i]!));
}

function countImages(dir: string): number {
  let n = 0;
  for (const e of Deno.readDirSync(dir)) {
    if (e.name.startsWith(".")) continue;
    if (e.isDirectory) n += countImages(join(dir, e.name));
    else if (e.isFile && IMAGE_EXT.test(e.name)) n++;
  }
  return n;
}

/**
 * Fetches, verifies and installs dataset `name` into `<root>/<name>/`.
 * @throws DownloadError (bad checksum, unverified without `trustUnverified`, unsafe or corrupt archive, HTTP error).
 * @example Usage
 * ```ts ignore
 * import { downloadDataset } from "@lib/datasets/download.ts";
 * await downloadDataset("cifar10"); // → data/cifar10/cifar-10-batches-bin/…
 * ```
 */
export async function downloadDataset(name: string, opts: DownloadOptions = {}): Promise<InstallReport> {
  const entry: ManifestEntry | undefined = opts.manifest ?? (isDownloadable(name) ? MANIFEST[name] : undefined);
  if (!entry) {
    throw new DownloadError(name, `no download manifest entry (downloadable: ${Object.keys(MANIFEST).join(", ")})`);
  }
  const log = opts.log === null ? () => {} : opts.log ?? ((l: string) => console.error(l));
  const root = dataRoot(opts.root);
  const target = join(root, name);
  const report: InstallReport = { name, path: target, installed: false, files: [], warnings: [] };
  if (existsDir(target)) {
    if (!opts.force) {
      log(`${name}: already installed at ${target} (use --force to reinstall)`);
      return report;
    }
  }
  if (entry.files.length === 0) {
    throw new DownloadError(name, entry.manual ?? "the manifest lists no file to download");
  }
  const downloads = join(root, ".downloads");
  Deno.mkdirSync(downloads, { recursive: true });
  const obtained = [];
  for (const file of entry.files) {
    const got = await obtainFile(file, downloads, opts, log);
    obtained.push({ file, ...got });
    report.files.push({ filename: file.filename, size: got.size, sha256: got.sha256, verified: got.verified });
  }
  const staging = join(root, `.staging-${name}-${crypto.randomUUID()}`);
  Deno.mkdirSync(staging);
  try {
    for (const o of obtained) {
      if (o.file.format === "file") {
        Deno.copyFileSync(o.path, join(staging, o.file.filename));
        continue;
      }
      const filter = entry.subset ? await chooseSubset(o.path, o.file.format, entry.subset) : null;
      log(`extracting ${o.file.filename}${filter ? ` (keeping ${filter.size} images)` : ""}`);
      const r = await extractArchive(o.path, o.file.format, staging, filter ? { filter: (p) => filter.has(p) } : {});
      if (r.files === 0) throw new DownloadError(o.path, "the archive contains no files");
    }
    if (entry.expectedImages !== undefined) {
      const isImageSet = obtained.some((o) => o.file.format !== "file");
      if (isImageSet) {
        const n = countImages(staging);
        report.images = n;
        if (n === 0) throw new DownloadError(name, "the installed archive contains no PNG/JPEG images");
        if (n !== entry.expectedImages) {
          const w = `${name}: found ${n} images, the manifest expects ${entry.expectedImages}`;
          report.warnings.push(w);
          log(`WARNING: ${w}`);
        }
      }
    }
    Deno.writeTextFileSync(
      join(staging, ".install.json"),
      JSON.stringify(
        { name, installedAt: new Date().toISOString(), files: report.files, subset: entry.subset ?? null },
        null,
        2,
      ) + "\n",
    );
    if (existsDir(target)) {
      const old = join(root, `.old-${name}-${crypto.randomUUID()}`);
      Deno.renameSync(target, old);
      Deno.renameSync(staging, target);
      Deno.removeSync(old, { recursive: true });
    } else {
      Deno.renameSync(staging, target);
    }
  } catch (e) {
    try {
      Deno.removeSync(staging, { recursive: true });
    } catch { /* already gone */ }
    throw e;
  }
  if (!opts.keepArchive) { for (const o of obtained) Deno.removeSync(o.path); }
  report.installed = true;
  log(`${name}: installed at ${target}`);
  return report;
}

function existsDir(p: string): boolean {
  try {
    return Deno.statSync(p).isDirectory;
  } catch {
    return false;
  }
}
