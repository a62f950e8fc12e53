/**
 * `deno task data <name…>`: fetch, verify and install datasets into `data/<name>/`.
 *
 * ```
 * deno task data cifar10 svhn            # fetch two sets
 * deno task data --list                  # what exists, what is installed, how each is verified
 * deno task data lsun_crop --trust-unverified   # accept a file no published checksum covers
 * deno task data checkpoints eloc         # the authors' released weights (tools/data_checkpoints.ts)
 * ```
 * Options: `--root DIR` (default `OOD_DATA_DIR` or `<repo>/data`), `--force` (reinstall), `--keep-archive`,
 * `--trust-unverified`, `--list`, `--help`. Embedded (MNIST, Fashion-MNIST) and synthetic sets need no download.
 * @module
 */
import { downloadDataset } from "../lib/datasets/download.ts";
import { isDownloadable, MANIFEST, type ManifestEntry } from "../lib/datasets/manifest.ts";
import { dataRoot } from "../lib/datasets/paths.ts";
import { type DatasetEntry, DATASETS } from "../lib/datasets/registry.ts";
import { checkpointsMain } from "./data_checkpoints.ts";
import { runCli } from "./cli.ts";

const ENTRIES: [string, DatasetEntry][] = Object.entries(DATASETS);
const EMBEDDED = ENTRIES.filter(([, e]) => e.kind === "embedded").map(([n]) => n);
const SYNTHETIC = ENTRIES.filter(([, e]) => e.kind === "synthetic").map(([n]) => n);

/** Parsed command line. */
export interface DataArgs {
  /** Dataset names to fetch. */
  names: string[];
  /** `--root`: data root. */
  root?: string;
  /** `--force`: reinstall. */
  force: boolean;
  /** `--keep-archive`: keep downloads. */
  keepArchive: boolean;
  /** `--trust-unverified`: accept files no checksum covers. */
  trustUnverified: boolean;
  /** `--list`: print the manifest table. */
  list: boolean;
  /** `--help`. */
  help: boolean;
}

/** Parses the arguments of `tools/data.ts`; throws on unknown flags. */
export function parseDataArgs(args: readonly string[]): DataArgs {
  const out: DataArgs = {
    names: [],
    force: false,
    keepArchive: false,
    trustUnverified: false,
    list: false,
    help: false,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--force") out.force = true;
    else if (a === "--keep-archive") out.keepArchive = true;
    else if (a === "--trust-unverified") out.trustUnverified = true;
    else if (a === "--list") out.list = true;
    else if (a === "--help" || a === "-h") out.help = true;
    else if (a === "--root") {
      const v = args[++i];
      if (!v) throw new Error("--root needs a directory");
      out.root = v;
    } else if (a.startsWith("--root=")) out.root = a.slice(7);
    else if (a.startsWith("-")) throw new Error(`unknown option ${a} (see --help)`);
    else out.names.push(a);
  }
  return out;
}

function verification(e: ManifestEntry): string {
  const f = e.files[0];
  if (!f) return "installed by hand (see deno task data <name>)";
  return f.sha256 ? "sha256" : f.md5 ? "md5 only (sha256 null)" : "none (needs --trust-unverified)";
}

function usage(): string {
  return [
    "usage: deno task data <name…> [--root DIR] [--force] [--keep-archive] [--trust-unverified]",
    "       deno task data --list",
    "       deno task data checkpoints <paper> [<id>…] [--import FILE]   (the authors' released weights)",
    "",
    `downloadable: ${Object.keys(MANIFEST).join(", ")}`,
    `embedded (no download needed): ${EMBEDDED.join(", ")}`,
    `synthetic (generated): ${SYNTHETIC.join(", ")}`,
  ].join("\n");
}

function list(root: string): string {
  const rows = Object.entries(MANIFEST).map(([name, e]) => {
    let installed = false;
    try {
      installed = Deno.statSync(`${root}/${name}`).isDirectory;
    } catch { /* not installed */ }
    const size = e.files.reduce((s, f) => s + (f.size ?? 0), 0);
    const sz = e.files.length && e.files.every((f) => f.size !== null)
      ? `${(size / 1e6).toFixed(0)} MB`
      : "size unknown";
    return `${name.padEnd(12)} ${(installed ? "installed" : "-").padEnd(10)} ${sz.padEnd(13)} ${verification(e)}`;
  });
  return [`data root: ${root}`, ...rows].join("\n");
}

/** Runs the CLI; returns the process exit code. */
export async function main(args: readonly string[]): Promise<number> {
  if (args[0] === "checkpoints") return await checkpointsMain(args.slice(1));
  let parsed: DataArgs;
  try {
    parsed = parseDataArgs(args);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  if (parsed.help || (!parsed.list && parsed.names.length === 0)) {
    console.log(usage());
    return parsed.help ? 0 : 2;
  }
  const root = dataRoot(parsed.root);
  if (parsed.list) {
    console.log(list(root));
    if (parsed.names.length === 0) return 0;
  }
  let failed = 0;
  for (const name of parsed.names) {
    if (EMBEDDED.includes(name) || SYNTHETIC.includes(name)) {
      console.error(`${name}: ${EMBEDDED.includes(name) ? "embedded" : "synthetic"}, nothing to download`);
      continue;
    }
    if (!isDownloadable(name)) {
      console.error(`${name}: unknown dataset.\n${usage()}`);
      failed++;
      continue;
    }
    try {
      await downloadDataset(name, {
        root,
        force: parsed.force,
        keepArchive: parsed.keepArchive,
        trustUnverified: parsed.trustUnverified,
      });
    } catch (e) {
      console.error(`${name}: FAILED — ${(e as Error).message}`);
      failed++;
    }
  }
  return failed ? 1 : 0;
}

// A user error that escapes main (a damaged or missing file, a bad option of a subcommand) prints as its message
// and what to do, without a stack trace unless OOD_DEBUG=1 (tools/cli.ts).
if (import.meta.main) Deno.exit(await runCli(() => main(Deno.args)));
