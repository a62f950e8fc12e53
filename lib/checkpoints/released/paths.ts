/**
 * Where the authors' released weights live on disk and what to tell a user when they are not there.
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { ReleasedFile, ReleasedPaper } from "./types.ts";

/**
 * The folder of released weights: `root` if given, else `OOD_RELEASED_DIR`, else `<repo>/checkpoints/released`.
 */
export function releasedRoot(root?: string): string {
  if (root) return resolve(root);
  let env: string | undefined;
  try {
    env = Deno.env.get("OOD_RELEASED_DIR") || undefined;
  } catch { /* no --allow-env */ }
  return env
    ? resolve(env)
    : resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "checkpoints", "released");
}

/** The folder of one paper's released files: `<root>/<paper>`. */
export function releasedPaperDir(paper: ReleasedPaper, root?: string): string {
  return join(releasedRoot(root), paper);
}

/**
 * The path of a released checkpoint: the file itself, or for an archive one of its `members` (extracted next to
 * it, under the paper's folder).
 */
export function releasedFilePath(entry: ReleasedFile, member?: string, root?: string): string {
  if (member !== undefined) {
    if (!entry.members?.includes(member)) {
      throw new Error(`${entry.id}: "${member}" is not one of its archive's members (${entry.members?.join(", ")})`);
    }
    return join(releasedPaperDir(entry.paper, root), member);
  }
  return join(releasedPaperDir(entry.paper, root), entry.filename);
}

/**
 * The command that fetches or imports a released file. For a file the authors publish no checksum for it carries
 * `--trust-unverified` (the file is still read with the safe reader before it is installed, and its SHA-256 is
 * printed).
 */
export function releasedFetchCommand(entry: ReleasedFile): string {
  const trust = entry.checksum ? "" : " --trust-unverified";
  return entry.download === "direct"
    ? `deno task data checkpoints ${entry.paper} ${entry.id}${trust}`
    : `deno task data checkpoints ${entry.paper} ${entry.id} --import <the downloaded file>${trust}`;
}

/**
 * What to do to get released files that are absent: one line per file with its URL and the command.
 *
 * @param entries The missing files.
 * @param root The released-weights root they were looked for in (default {@link releasedRoot}).
 */
export function missingReleasedMessage(entries: readonly ReleasedFile[], root?: string): string {
  return entries.map((e) =>
    `${e.id} (${e.description}) is not in ${releasedPaperDir(e.paper, root)}. ` +
    (e.download === "direct"
      ? `Fetch it with: ${releasedFetchCommand(e)}`
      : `Download it in a browser from ${e.url}, then: ${releasedFetchCommand(e)}`)
  ).join("\n");
}

/** The checkpoint paths a released entry installs: the file itself, or every archive member. */
export function releasedTargets(entry: ReleasedFile, root?: string): string[] {
  return entry.members
    ? entry.members.map((m) => releasedFilePath(entry, m, root))
    : [releasedFilePath(entry, undefined, root)];
}

/** True when the file (or every archive member) is on disk. */
export async function releasedPresent(entry: ReleasedFile, root?: string): Promise<boolean> {
  for (const p of releasedTargets(entry, root)) {
    try {
      if (!(await Deno.stat(p)).isFile) return false;
    } catch {
      return false;
    }
  }
  return true;
}
