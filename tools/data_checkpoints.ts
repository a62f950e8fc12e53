/**
 * `deno task data checkpoints <paper> [<id>…]`: the authors' released weights.
 *
 * ```
 * deno task data checkpoints                       # the papers with released weights
 * deno task data checkpoints eloc --list           # the files: URL, direct or by hand, size, checksum, installed
 * deno task data checkpoints eloc                  # list, then fetch every file a program can download
 * deno task data checkpoints unleashing_mask um_cifar10_last   # fetch one file
 * deno task data checkpoints cider cider_cifar10_resnet18 --import ~/Downloads/checkpoint_500.pth.tar
 * ```
 * Options: `--import FILE` (a file downloaded by hand; with one id, or matched by file name), `--trust-unverified`
 * (accept a file the authors publish no checksum for; its SHA-256 is printed), `--force`, `--root DIR` (default
 * `OOD_RELEASED_DIR` or `<repo>/checkpoints/released`), `--list`. Every file is verified and read with the safe
 * checkpoint reader before it is installed (lib/checkpoints/released/install.ts).
 * @module
 */
import { basename } from "node:path";
import {
  installReleased,
  isReleasedPaper,
  RELEASED,
  releasedFetchCommand,
  releasedFile,
  releasedPaperDir,
  releasedPresent,
} from "../lib/checkpoints/released/mod.ts";
import type { ReleasedFile, ReleasedPaper } from "../lib/checkpoints/released/types.ts";

/** Parsed arguments of the `checkpoints` subcommand. */
export interface CheckpointArgs {
  /** The paper, absent = list the papers. */
  paper?: string;
  /** File ids; empty = every file of the paper. */
  ids: string[];
  /** `--import FILE`. */
  importFile?: string;
  trustUnverified: boolean;
  force: boolean;
  list: boolean;
  root?: string;
}

/** Parses the arguments after `checkpoints`; throws on an unknown flag or a flag without its value. */
export function parseCheckpointArgs(args: readonly string[]): CheckpointArgs {
  const out: CheckpointArgs = { ids: [], trustUnverified: false, force: false, list: false };
  const value = (i: number, flag: string) => {
    const v = args[i];
    if (!v || v.startsWith("--")) throw new Error(`${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--trust-unverified") out.trustUnverified = true;
    else if (a === "--force") out.force = true;
    else if (a === "--list") out.list = true;
    else if (a === "--import") out.importFile = value(++i, a);
    else if (a.startsWith("--import=")) out.importFile = a.slice(9);
    else if (a === "--root") out.root = value(++i, a);
    else if (a.startsWith("--root=")) out.root = a.slice(7);
    else if (a.startsWith("-")) throw new Error(`unknown option ${a} for checkpoints`);
    else if (out.paper === undefined) out.paper = a;
    else out.ids.push(a);
  }
  return out;
}

function describeChecksum(e: ReleasedFile): string {
  const c = e.checksum;
  if (!c) return "no published checksum (import needs --trust-unverified)";
  const parts = [
    c.size !== undefined ? `${c.size} bytes` : "",
    c.sha256 ? `sha256 ${c.sha256}` : "",
    c.gitBlobSha1 ? `git blob ${c.gitBlobSha1}` : "",
  ].filter(Boolean);
  return `${parts.join(", ")} (${c.source})`;
}

/** The table of one paper's released files. */
export async function listReleased(paper: ReleasedPaper, root?: string): Promise<string> {
  const lines = [`${paper}: released weights, installed under ${releasedPaperDir(paper, root)}`];
  for (const e of RELEASED[paper]) {
    const installed = await releasedPresent(e, root);
    lines.push(
      `  ${e.id} [${installed ? "installed" : "not installed"}] ${e.description}`,
      `    ${e.download === "direct" ? "direct download" : "download by hand"}: ${e.url}`,
      `    ${describeChecksum(e)}`,
      ...(e.members ? [`    archive members: ${e.members.join(", ")}`] : []),
      ...(installed ? [] : [`    ${releasedFetchCommand(e)}`]),
    );
  }
  return lines.join("\n");
}

function usage(): string {
  return [
    "usage: deno task data checkpoints <paper> [<id>…] [--import FILE] [--trust-unverified] [--force] [--root DIR]",
    "       deno task data checkpoints <paper> --list",
    `papers: ${Object.keys(RELEASED).join(", ")}`,
  ].join("\n");
}

/** Picks the entry a hand-downloaded file is for: the one id given, or the entry whose file name it has. */
function importTarget(paper: ReleasedPaper, ids: readonly string[], file: string): ReleasedFile {
  if (ids.length === 1) return releasedFile(paper, ids[0]!);
  if (ids.length > 1) throw new Error("--import takes one file for one id");
  const byName = RELEASED[paper].filter((e) => e.filename === basename(file));
  if (byName.length === 1) return byName[0]!;
  throw new Error(
    `${file}: say which released file it is: deno task data checkpoints ${paper} <id> --import ${file} ` +
      `(ids: ${RELEASED[paper].map((e) => e.id).join(", ")})`,
  );
}

/**
 * Runs the subcommand; returns the exit code (0 ok, 1 a file failed, 2 usage).
 * @param args The arguments after `checkpoints`.
 * @param log Where lines go (tests capture them).
 */
export async function checkpointsMain(
  args: readonly string[],
  log: { out: (l: string) => void; err: (l: string) => void } = { out: console.log, err: console.error },
): Promise<number> {
  let a: CheckpointArgs;
  try {
    a = parseCheckpointArgs(args);
  } catch (e) {
    log.err(`${(e as Error).message}\n${usage()}`);
    return 2;
  }
  if (a.paper === undefined) {
    log.out(usage());
    return 0;
  }
  if (!isReleasedPaper(a.paper)) {
    log.err(`no released weights for "${a.paper}".\n${usage()}`);
    return 2;
  }
  const paper = a.paper;
  let entries: ReleasedFile[];
  try {
    entries = a.importFile
      ? [importTarget(paper, a.ids, a.importFile)]
      : a.ids.length > 0
      ? a.ids.map((id) => releasedFile(paper, id))
      : [...RELEASED[paper]];
  } catch (e) {
    log.err((e as Error).message);
    return 2;
  }
  if (a.list || (a.ids.length === 0 && !a.importFile)) log.out(await listReleased(paper, a.root));
  if (a.list) return 0;
  let failed = 0;
  for (const e of entries) {
    if (e.download === "manual" && !a.importFile) {
      if (a.ids.length > 0) {
        log.err(`${e.id}: download it in a browser from ${e.url}, then: ${releasedFetchCommand(e)}`);
        failed++;
      }
      continue;
    }
    try {
      await installReleased(e, {
        root: a.root,
        importFile: a.importFile,
        trustUnverified: a.trustUnverified,
        force: a.force,
        log: log.err,
      });
    } catch (err) {
      log.err(`${e.id}: FAILED — ${(err as Error).message}`);
      failed++;
    }
  }
  return failed ? 1 : 0;
}
