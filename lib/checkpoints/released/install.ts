/**
 * Installing the authors' released weights into `checkpoints/released/<paper>/`: downloaded when a program can
 * fetch them, imported from a file the user downloaded by hand otherwise (Google Drive).
 *
 * Every file is verified before it is installed: its size and checksums where the authors publish them (a file
 * committed to their repository is checked against its git blob id), and it must read as a safe PyTorch
 * checkpoint (`lib/io/torch`: no pickle is executed; a file whose pickle calls anything but the allowed data
 * constructors is refused). A file no published checksum covers is refused unless `trustUnverified`; its SHA-256
 * is printed either way. An archive (ELOC's Dropbox `.tar.gz`) is extracted safely into a staging folder and its
 * expected members checked the same way. Nothing is written into the paper's folder until every check passed,
 * and each file lands there by an atomic rename.
 * @module
 */
import { createHash } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { extractArchive } from "../../datasets/archive.ts";
import { fetchToFile } from "../../datasets/download.ts";
import { DownloadError } from "../../datasets/errors.ts";
import { readTorchCheckpoint } from "../../io/torch/mod.ts";
import { releasedFetchCommand, releasedPaperDir, releasedPresent, releasedTargets } from "./paths.ts";
import type { ReleasedFile } from "./types.ts";

/** Options of {@link installReleased}. */
export interface InstallReleasedOptions {
  /** Released-weights root (default `OOD_RELEASED_DIR` or `<repo>/checkpoints/released`). */
  root?: string;
  /** A file the user downloaded by hand: it is verified and copied in (it is not moved or changed). */
  importFile?: string;
  /** Accept a file no published checksum covers. Default false. */
  trustUnverified?: boolean;
  /** Reinstall when present. Default false. */
  force?: boolean;
  /** Progress lines; default `console.error`, `null` for silence. */
  log?: ((line: string) => void) | null;
  /** `fetch` to use (tests). */
  fetch?: typeof fetch;
  /** Connection attempts (each resumes where the previous stopped). Default 5. */
  attempts?: number;
  /** Pause between attempts in ms. Default 1000. */
  retryDelayMs?: number;
}

/** What {@link installReleased} did. */
export interface InstallReleasedReport {
  /** The entry's id. */
  id: string;
  /** False when it was already installed and `force` was not given. */
  installed: boolean;
  /** The checkpoint files now in place. */
  paths: string[];
  /** Size and SHA-256 of the downloaded or imported file. */
  size: number;
  sha256: string;
  /** How the file was accepted. */
  verified: "checksum" | "git blob id" | "trusted";
}

/** Size, SHA-256 and git blob id (SHA-1 of `"blob <size>\0" + content`) of a file, streamed. */
export async function releasedDigests(path: string): Promise<{ size: number; sha256: string; gitBlobSha1: string }> {
  const size = (await Deno.stat(path)).size;
  const sha = createHash("sha256");
  const blob = createHash("sha1").update(`blob ${size}\0`);
  const f = await Deno.open(path);
  for await (const chunk of f.readable) {
    sha.update(chunk);
    blob.update(chunk);
  }
  return { size, sha256: sha.digest("hex"), gitBlobSha1: blob.digest("hex") };
}

/**
 * Checks a file against what the entry publishes.
 * @returns How it was verified, or null when nothing published covers it.
 * @throws DownloadError naming the file on a mismatch.
 */
export function checkReleasedDigests(
  entry: ReleasedFile,
  got: { size: number; sha256: string; gitBlobSha1: string },
  label: string,
): InstallReleasedReport["verified"] | null {
  const c = entry.checksum;
  if (!c) return null;
  if (c.size !== undefined && got.size !== c.size) {
    throw new DownloadError(label, `size is ${got.size} bytes, ${entry.id} is ${c.size} bytes (${c.source})`);
  }
  if (c.sha256 !== undefined && got.sha256 !== c.sha256.toLowerCase()) {
    throw new DownloadError(label, `SHA-256 mismatch: got ${got.sha256}, expected ${c.sha256} (${c.source})`);
  }
  if (c.gitBlobSha1 !== undefined && got.gitBlobSha1 !== c.gitBlobSha1.toLowerCase()) {
    throw new DownloadError(
      label,
      `git blob id mismatch: got ${got.gitBlobSha1}, the authors' repository has ${c.gitBlobSha1} (${c.source})`,
    );
  }
  return c.sha256 !== undefined ? "checksum" : c.gitBlobSha1 !== undefined ? "git blob id" : null;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Reads a checkpoint with the safe reader, so a damaged or malicious file is refused before it is installed. */
async function checkReadable(path: string, label: string): Promise<void> {
  try {
    await readTorchCheckpoint(path);
  } catch (e) {
    throw new DownloadError(label, `not a readable PyTorch checkpoint: ${(e as Error).message}`);
  }
}

/**
 * Downloads (direct entries) or imports (`importFile`) one released file, verifies it, and installs it.
 *
 * @param entry The released file.
 * @param opts Where, what to import, and how strict.
 * @throws DownloadError naming the file on a failed download, a checksum mismatch, an unverified file without
 * `trustUnverified`, a manual entry without `importFile`, an unreadable checkpoint or a missing archive member.
 */
export async function installReleased(
  entry: ReleasedFile,
  opts: InstallReleasedOptions = {},
): Promise<InstallReleasedReport> {
  const log = opts.log === null ? () => {} : opts.log ?? ((l: string) => console.error(l));
  const dir = releasedPaperDir(entry.paper, opts.root);
  const targets = releasedTargets(entry, opts.root);
  if (!opts.force && !opts.importFile && await releasedPresent(entry, opts.root)) {
    log(`${entry.id}: already installed in ${dir}`);
    return { id: entry.id, installed: false, paths: targets, size: 0, sha256: "", verified: "checksum" };
  }
  if (entry.download === "manual" && !opts.importFile) {
    throw new DownloadError(
      entry.id,
      `a program cannot download it. Download it in a browser from ${entry.url}, then run: ${
        releasedFetchCommand(entry)
      }`,
    );
  }
  await Deno.mkdir(dir, { recursive: true });
  const staging = await Deno.makeTempDir({ dir, prefix: `.staging-${entry.id}-` });
  try {
    let file: string;
    if (opts.importFile) {
      if (!(await exists(opts.importFile))) throw new DownloadError(opts.importFile, "no such file");
      file = opts.importFile;
      log(`${entry.id}: importing ${opts.importFile}`);
    } else {
      // A stable name outside the staging folder, so an interrupted download resumes on the next run.
      await Deno.mkdir(join(dir, ".downloads"), { recursive: true });
      file = join(dir, ".downloads", `${entry.filename}.part`);
      log(`${entry.id}: downloading ${entry.url}`);
      await fetchToFile(entry.url, file, {
        attempts: opts.attempts,
        retryDelayMs: opts.retryDelayMs,
        expectedSize: entry.checksum?.size ?? null,
        log,
        fetch: opts.fetch,
      });
    }
    const got = await releasedDigests(file);
    // A download that fails verification is deleted, so the next run fetches it afresh.
    const discard = () => opts.importFile ? Promise.resolve() : Deno.remove(file).catch(() => {});
    const label = opts.importFile ?? entry.url;
    let verified: InstallReleasedReport["verified"] | null;
    try {
      verified = checkReleasedDigests(entry, got, label);
    } catch (e) {
      await discard();
      throw e;
    }
    if (verified === null) {
      if (!opts.trustUnverified) {
        throw new DownloadError(
          label,
          `the authors publish no checksum for ${entry.id}; its SHA-256 is ${got.sha256} (${got.size} bytes). ` +
            "Rerun with --trust-unverified to accept it.",
        );
      }
      log(`${entry.id}: no published checksum; accepted on --trust-unverified (SHA-256 ${got.sha256})`);
      verified = "trusted";
    } else {
      log(`${entry.id}: verified by ${verified} (SHA-256 ${got.sha256})`);
    }
    const ready: [string, string][] = [];
    if (entry.format === "tar.gz") {
      const out = join(staging, "extracted");
      await Deno.mkdir(out);
      await extractArchive(file, "tar.gz", out);
      if (!opts.importFile) await Deno.remove(file);
      for (const [i, member] of (entry.members ?? []).entries()) {
        const src = join(out, member);
        if (!(await exists(src))) {
          throw new DownloadError(label, `the archive has no ${member}, which ${entry.id} should hold`);
        }
        await checkReadable(src, `${label}: ${member}`);
        ready.push([src, targets[i]!]);
      }
    } else {
      await checkReadable(file, label);
      const staged = join(staging, `${basename(targets[0]!)}.verified`);
      if (opts.importFile) await Deno.copyFile(file, staged);
      else await Deno.rename(file, staged);
      ready.push([staged, targets[0]!]);
    }
    for (const [src, dst] of ready) {
      await Deno.mkdir(dirname(dst), { recursive: true });
      await Deno.rename(src, dst);
    }
    log(`${entry.id}: installed ${targets.join(", ")}`);
    return { id: entry.id, installed: true, paths: targets, size: got.size, sha256: got.sha256, verified };
  } finally {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
  }
}
