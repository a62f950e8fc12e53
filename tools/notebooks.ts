/**
 * Runs notebooks headless in the Deno Jupyter kernel and writes their reports.
 *
 * `deno run -A tools/notebooks.ts [notebook...] [--profile smoke|default|paper] [--out DIR] [--timeout S]
 *   [--no-input] [--screenshots] [--verbose]` (also reached through `deno task reproduce [notebook...] [--profile …]`):
 * for each notebook (named by its file name without extension; default: every notebook directly in
 * `notebooks/`) it writes, into the profile's folder of the reports folder (default `reports/<profile>/`,
 * git-ignored; the profile is `--profile`, else `OOD_PROFILE`, else `default`):
 * - `<name>.ipynb`: the executed notebook, outputs included (open it in Jupyter);
 * - `<name>.html`: a self-contained HTML report (no scripts; tables and SVG figures inline);
 * - `<name>.run.json`: status, failing cell, timings, the engine (with the reasons others were passed over);
 * - `results/<name>.parquet|csv|manifest.json`: the result rows, written by the notebook itself
 *   (`writeResults` in lib/report/results.ts);
 * and then `reports/index.html`, the front page: every profile's runs with status, engine and time, links, and each
 * notebook's headline table (see {@link writeIndex}). With `--screenshots` it then opens every report in headless
 * Chromium, checks it and saves `<profile>/<name>.png`, `index.png` and `index-400.png` (`tools/report_check.ts`;
 * skipped with a message where Chromium is not installed); a page that fails the check makes the exit status 1.
 * While a notebook runs it shows the running cell, its progress bar and the elapsed time (`tools/terminal.ts`).
 *
 * Profiles never overwrite each other (a smoke run leaves a default run's report alone), and a run replaces its
 * profile's previous report only when it completes: it is written into `reports/.staging/…` and moved into place
 * at the end; a run that fails or is interrupted after a complete one goes to `reports/<profile>/failed/` instead,
 * and the index links it next to the report it did not replace.
 *
 * SIGTERM, SIGINT and SIGHUP stop the run: the kernel and everything it started are killed, the notebook's
 * outputs so far and a `run.json` with status `interrupted` are written, the index is updated, and the exit status
 * is 128 + the signal's number.
 *
 * The kernel is run by `tools/nbrun.py` (Debian's /usr/bin/python3 with jupyter_client), which keeps reading
 * outputs that the Deno kernel publishes after it reports a cell done, kills a cell that exceeds the timeout,
 * and turns asynchronous errors (unhandled rejections, throws in timers) into a failure of the cell that was
 * running. The kernelspec is the project's own (`.jupyter/kernels/ood-deno`, found through `JUPYTER_PATH`), so
 * no `deno jupyter --install` is needed; it runs the `deno` that runs this script.
 * @module
 */
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "@lib/io/atomic.ts";
import { escapeHtml, Table, TABLE_CSS } from "@lib/report/html_table.ts";
import { parseProfile, type Profile, PROFILES } from "@lib/report/profile.ts";
import { debugErrors, formatError, isUserError, USER_ERROR_NAMES, UserError } from "@lib/user_error.ts";
import {
  DEFAULT_REPORTS_DIR,
  METRIC_COLUMNS,
  type MetricColumn,
  readManifest,
  readResults,
  resultFiles,
  type RunManifest,
} from "@lib/report/results.ts";
import { AVERAGE, metricTable, summarize } from "@lib/report/table.ts";
import pl from "nodejs-polars";
import { type NotebookEvent, NotebookTerminal, readEvents } from "./terminal.ts";

/** The repository root. */
export const ROOT: string = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** Where the paper notebooks live. */
export const NOTEBOOKS_DIR: string = join(ROOT, "notebooks");
/** Default reports folder (git-ignored): `<profile>/` folders, `index.html`. */
export const REPORTS_DIR: string = DEFAULT_REPORTS_DIR;
/** Where, in a profile's folder, a run that did not complete goes when it must not replace a complete one. */
export const FAILED_DIR = "failed";
/** Where runs are written before they are moved into place (inside the reports folder: renames stay atomic). */
export const STAGING_DIR = ".staging";

/** The folder of one profile's reports: `<reports>/<profile>`. */
export function profileDir(reportsRoot: string, profile: Profile): string {
  return join(reportsRoot, profile);
}
/**
 * CSS shared by every HTML report: the notebook reports (`tools/nbrun.py` includes it) and `index.html` (phone-width
 * layout, tables that scroll, figures that scale).
 */
export const REPORT_CSS: string = join(ROOT, "tools", "report.css");
/** The Python that has Debian's jupyter_client / nbformat / nbconvert (not a pyenv shim). */
export const PYTHON: string = Deno.env.get("OOD_PYTHON") ?? "/usr/bin/python3";
/** Kernelspec name of the project kernel (`.jupyter/kernels/ood-deno`). */
export const KERNEL = "ood-deno";

/** Per-cell timeout by profile, in seconds. */
export const CELL_TIMEOUT_S: Readonly<Record<Profile, number>> = { smoke: 180, default: 3600, paper: 48 * 3600 };

/**
 * The notebooks the main job and the tests run: every `*.ipynb` directly in `dir`, sorted by name (subfolders
 * such as `notebooks/demo/` hold notebooks that run only when named).
 */
export function discoverNotebooks(dir: string = NOTEBOOKS_DIR): string[] {
  try {
    return [...Deno.readDirSync(dir)]
      .filter((e) => e.isFile && e.name.endsWith(".ipynb"))
      .map((e) => join(dir, e.name))
      .sort();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}

/**
 * Finds a notebook by name (file name without extension) in `dir` or one folder below it (e.g.
 * `notebooks/demo/demo.ipynb`), or by path. A numbered notebook also answers to its name without the number:
 * `baselines` finds `notebooks/00_baselines.ipynb`.
 *
 * @throws UserError listing the notebooks that exist when there is no such notebook.
 */
export function resolveNotebook(nameOrPath: string, dir: string = NOTEBOOKS_DIR): string {
  if (nameOrPath.endsWith(".ipynb")) {
    const p = resolve(nameOrPath);
    Deno.statSync(p);
    return p;
  }
  const candidates = [join(dir, `${nameOrPath}.ipynb`)];
  for (const e of safeReadDir(dir)) {
    if (e.isDirectory) candidates.push(join(dir, e.name, `${nameOrPath}.ipynb`));
  }
  const found = candidates.find((p) => exists(p)) ??
    discoverNotebooks(dir).find((p) => basename(p, ".ipynb").replace(/^\d+_/, "") === nameOrPath);
  if (found) return found;
  const known = [
    ...discoverNotebooks(dir),
    ...safeReadDir(dir).filter((e) => e.isDirectory).flatMap((e) =>
      safeReadDir(join(dir, e.name)).filter((f) => f.name.endsWith(".ipynb")).map((f) => join(dir, e.name, f.name))
    ),
  ].map((p) => basename(p, ".ipynb"));
  throw new UserError(`Unknown notebook "${nameOrPath}". Notebooks: ${known.join(", ") || "(none)"}.`);
}

function safeReadDir(dir: string): Deno.DirEntry[] {
  try {
    return [...Deno.readDirSync(dir)];
  } catch {
    return [];
  }
}

function exists(p: string): boolean {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
}

/** Options of {@link runNotebook}. */
export interface RunNotebookOptions {
  profile: Profile;
  /** Reports folder; default `reports/`. The run goes to its `<profile>/` folder. */
  outDir?: string;
  /** Seconds per cell; default {@link CELL_TIMEOUT_S} of the profile. */
  cellTimeoutS?: number;
  /** Write the HTML report (default true). */
  html?: boolean;
  /** HTML report without code cells (default false). */
  noInput?: boolean;
  /** Extra environment variables for the kernel. */
  env?: Record<string, string>;
  /** Quiet seconds on IOPub after a cell reports idle (default 0.03). */
  graceS?: number;
  /** Live events: a cell starts, a progress display is updated, a cell ends (see `tools/terminal.ts`). */
  onEvent?: (e: NotebookEvent) => void;
  /** Stops the run (the kernel and its children), keeping the outputs so far; the run's status is `interrupted`. */
  signal?: AbortSignal;
  /** Sets `OOD_VERBOSE=1` in the kernel: the engine line lists why each engine was passed over. */
  verbose?: boolean;
}

/** The outcome of one notebook run (also written as `<name>.run.json`). */
export interface NotebookRun {
  name: string;
  notebook: string;
  profile: Profile;
  ok: boolean;
  /** `ok`, `error` (a cell threw), `async-error`, `timeout`, `kernel-died`, `kernel-start`, `interrupted`. */
  status: string;
  /** 0-based index in the notebook's cells of the failing cell, and its execution count. */
  cell: number | null;
  executionCount: number | null;
  ename: string | null;
  evalue: string | null;
  traceback: string[];
  /** One line for humans: `cell 3 [2]: Error: boom`. */
  message: string;
  startedAt: string;
  seconds: number;
  /** Outputs that arrived after their cell was done (kept). */
  lateOutputs: number;
  /** Paths written (absolute). */
  ipynb: string;
  html: string | null;
  /** The notebook's result rows, when it wrote some. */
  results: string | null;
  /** The runner's stderr (the kernel's own log is discarded unless the kernel dies). */
  stderr: string;
  /**
   * The engine the notebook ran on, from its result manifest, with every engine passed over and the full reason
   * (null when the notebook wrote no results; absent in run.json files of older runners).
   */
  engine?: RunManifest["engine"];
  /**
   * True when this run did not complete and its profile's previous, complete report was left in place: this run's
   * files are in the profile's `failed/` folder.
   */
  kept?: boolean;
}

/**
 * Executes a notebook headless with `OOD_PROFILE` set and writes `<name>.ipynb`, `.html`, `.run.json` and the
 * notebook's `results/<name>.*` into `<outDir>/<profile>/`. Never throws for a failing notebook: the result says
 * which cell failed and why.
 *
 * The run is written into a staging folder (`<outDir>/.staging/…`) and its files are moved into the profile's
 * folder when it ends, `run.json` last. A run that did not complete while the profile's previous run of the
 * notebook did goes to `<profile>/failed/` instead (`kept` is then true), so a failed or interrupted rerun never
 * replaces a complete report. When `opts.signal` aborts, the runner (`nbrun.py`) is sent SIGTERM: it kills the
 * kernel's process group and writes what ran so far; should it not end within 20 s, it and the kernel's group are
 * killed.
 *
 * The kernel gets `OOD_PROFILE`, `OOD_NOTEBOOK` (the name), `OOD_REPORTS_DIR` (the staging folder),
 * `OOD_RESULTS_DIR` (its `results/`), `NO_COLOR=1`, `OOD_VERBOSE=1` with `verbose`, and runs in the notebook's
 * folder.
 */
export async function runNotebook(notebook: string, opts: RunNotebookOptions): Promise<NotebookRun> {
  const root = resolve(opts.outDir ?? REPORTS_DIR);
  const name = basename(notebook, ".ipynb");
  const dest = profileDir(root, opts.profile);
  const staging = join(root, STAGING_DIR, `${opts.profile}-${name}-${Deno.pid}-${Date.now()}`);
  await Deno.mkdir(join(staging, "results"), { recursive: true });
  const ipynb = join(staging, `${name}.ipynb`), html = join(staging, `${name}.html`);
  const summaryPath = join(staging, `.${name}.nbrun.json`);
  const timeout = opts.cellTimeoutS ?? CELL_TIMEOUT_S[opts.profile];
  const args = [
    join(ROOT, "tools", "nbrun.py"),
    notebook,
    ipynb,
    "--kernel",
    KERNEL,
    "--timeout",
    String(timeout),
    "--grace",
    String(opts.graceS ?? 0.03),
    "--summary",
    summaryPath,
    "--events",
    "-",
    ...(opts.html ?? true ? ["--html", html] : []),
    ...(opts.noInput ? ["--no-input"] : []),
  ];
  const inherited = Deno.env.toObject();
  const env: Record<string, string> = {
    ...inherited,
    PATH: `${dirname(Deno.execPath())}:${inherited.PATH ?? "/usr/bin:/bin"}`,
    JUPYTER_PATH: [join(ROOT, ".jupyter"), inherited.JUPYTER_PATH].filter(Boolean).join(":"),
    NO_COLOR: "1",
    OOD_PROFILE: opts.profile,
    OOD_NOTEBOOK: name,
    OOD_REPORTS_DIR: staging,
    OOD_RESULTS_DIR: join(staging, "results"),
    ...(opts.verbose ? { OOD_VERBOSE: "1" } : {}),
    ...opts.env,
  };
  const startedAt = new Date().toISOString(), t0 = performance.now();
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(PYTHON, { args, env, clearEnv: true, stdout: "piped", stderr: "piped" }).spawn();
  } catch (e) {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    throw new UserError(
      `Cannot run ${PYTHON}: ${(e as Error).message}`,
      "Run `bash tools/setup.sh` to install Jupyter, or set OOD_PYTHON to a Python that has jupyter_client.",
    );
  }
  let kernelPid: number | null = null, forceTimer: ReturnType<typeof setTimeout> | undefined;
  const stop = () => {
    signalChild(child, "SIGTERM");
    // nbrun.py stops the kernel and writes its files in a second or two; past this it is stuck, and the kernel's
    // process group (its own session: no signal to ours reaches it) is killed from here.
    forceTimer = setTimeout(() => {
      signalChild(child, "SIGKILL");
      killGroup(kernelPid);
    }, 20_000);
  };
  if (opts.signal?.aborted) stop();
  else opts.signal?.addEventListener("abort", stop, { once: true });
  // nbrun.py writes its events on stdout (one JSON line each); anything else there joins its stderr.
  const [errText, otherStdout, out] = await Promise.all([
    new Response(child.stderr).text(),
    readEvents(child.stdout, (e) => {
      if (e.event === "kernel") kernelPid = e.pid;
      opts.onEvent?.(e);
    }),
    child.status,
  ]).finally(() => {
    clearTimeout(forceTimer);
    opts.signal?.removeEventListener("abort", stop);
  });
  // nbrun.py stops the kernel's group itself; killed (by us after the grace time, or by the OOM killer), it cannot.
  if (out.signal !== null) killGroup(kernelPid);
  const stderr = errText + otherStdout;
  let s: Record<string, unknown> = {};
  try {
    s = JSON.parse(await Deno.readTextFile(summaryPath));
    await Deno.remove(summaryPath);
  } catch {
    s = opts.signal?.aborted
      ? {
        status: "interrupted",
        ok: false,
        ename: "Interrupted",
        evalue: `the run was stopped (${opts.signal.reason})`,
      }
      : {
        status: "runner-failed",
        ok: false,
        evalue: `nbrun.py exited with ${out.code}: ${stderr.trim().split("\n").slice(-3).join(" | ")}`,
      };
  }
  const ok = out.code === 0 && s.ok === true;
  const cell = (s.cell as number | null) ?? null, ec = (s.executionCount as number | null) ?? null;
  const where = cell === null ? "" : `cell ${cell}${ec ? ` [${ec}]` : ""}: `;
  const message = ok ? "ok" : `${where}${s.ename ?? s.status}: ${s.evalue ?? ""}`.trim();

  // Into place, or, when a complete run of this notebook is there and this one is not complete, next to it.
  const previous = readRun(join(dest, `${name}.run.json`));
  const kept = !ok && previous?.ok === true;
  const target = kept ? join(dest, FAILED_DIR) : dest;
  const moved = await moveRunFiles(staging, target, name);
  if (!kept) await removeRunFiles(join(dest, FAILED_DIR), name); // an older failed attempt is superseded
  await Deno.remove(staging, { recursive: true }).catch(() => {});
  await Deno.remove(join(root, STAGING_DIR)).catch(() => {}); // only when empty: another run may be staging there
  const results = moved.has(`results/${name}.parquet`) ? resultFiles(name, join(target, "results")) : null;
  let engine: RunManifest["engine"] = null;
  try {
    if (results && moved.has(`results/${name}.manifest.json`)) engine = (await readManifest(results.manifest)).engine;
  } catch { /* an unreadable manifest: the index says so */ }
  const run: NotebookRun = {
    name,
    notebook: relative(ROOT, notebook),
    profile: opts.profile,
    ok,
    status: ok ? "ok" : String(s.status ?? "error"),
    cell,
    executionCount: ec,
    ename: (s.ename as string) ?? null,
    evalue: (s.evalue as string) ?? null,
    traceback: (s.traceback as string[]) ?? [],
    message,
    startedAt,
    seconds: Math.round(performance.now() - t0) / 1000,
    lateOutputs: Number(s.lateOutputs ?? 0),
    ipynb: join(target, `${name}.ipynb`),
    html: (opts.html ?? true) && moved.has(`${name}.html`) ? join(target, `${name}.html`) : null,
    results: results?.parquet ?? null,
    stderr,
    engine,
    kept,
  };
  await writeFileAtomic(join(target, `${name}.run.json`), JSON.stringify(run, null, 1) + "\n");
  return run;
}

/** The files of one run, relative to its folder; `run.json` is written after them. */
function runFiles(name: string): string[] {
  return [
    `results/${name}.parquet`,
    `results/${name}.csv`,
    `results/${name}.manifest.json`,
    `${name}.ipynb`,
    `${name}.html`,
  ];
}

/**
 * Moves a run's files from `from` to `to` (each an atomic rename, the result rows first) and removes the files of
 * an earlier run there that this one did not write (its result rows, its screenshot), so the folder never mixes
 * two runs. Returns the files moved.
 */
async function moveRunFiles(from: string, to: string, name: string): Promise<Set<string>> {
  await Deno.mkdir(join(to, "results"), { recursive: true });
  const moved = new Set<string>();
  for (const f of runFiles(name)) {
    if (exists(join(from, f))) {
      await Deno.rename(join(from, f), join(to, f));
      moved.add(f);
    } else await Deno.remove(join(to, f)).catch(() => {});
  }
  await Deno.remove(join(to, `${name}.png`)).catch(() => {}); // a screenshot of the run replaced
  return moved;
}

/** Removes every file of run `name` from `dir` (its run.json first, so no index shows a half-removed run). */
async function removeRunFiles(dir: string, name: string): Promise<void> {
  for (const f of [`${name}.run.json`, ...runFiles(name), `${name}.png`]) {
    await Deno.remove(join(dir, f)).catch(() => {});
  }
}

function readRun(path: string): NotebookRun | null {
  try {
    return JSON.parse(Deno.readTextFileSync(path)) as NotebookRun;
  } catch {
    return null;
  }
}

function signalChild(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch { /* already exited */ }
}

/** Kills a kernel's process group (the kernel runs in a session of its own: its pid is the group's id). */
function killGroup(pid: number | null): void {
  if (!pid) return;
  try {
    Deno.kill(-pid, "SIGKILL");
  } catch { /* the group is gone: nbrun.py stopped it */ }
}

/** A code cell's outputs from an executed notebook (for tests and the index). */
export interface ExecutedCell {
  index: number;
  source: string;
  outputs: { output_type: string; data?: Record<string, unknown>; text?: string; ename?: string; evalue?: string }[];
}

/** Reads the code cells of an executed `.ipynb` with their outputs (multi-line strings joined). */
export async function readExecuted(ipynb: string): Promise<ExecutedCell[]> {
  const nb = JSON.parse(await Deno.readTextFile(ipynb)) as {
    cells: { cell_type: string; source: string | string[]; outputs?: [] }[];
  };
  // nbformat stores multi-line strings as arrays of lines; join them back.
  const text = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === "string") ? v.join("") : v;
  return nb.cells.flatMap((c, index) =>
    c.cell_type === "code"
      ? [{
        index,
        source: text(c.source) as string,
        outputs: (c.outputs ?? []).map((o: ExecutedCell["outputs"][number]) => ({
          ...o,
          ...(o.text !== undefined ? { text: text(o.text) as string } : {}),
          ...(o.data ? { data: Object.fromEntries(Object.entries(o.data).map(([k, v]) => [k, text(v)])) } : {}),
        })),
      }]
      : []
  );
}

/** The notebook whose run, when present, is shown first on the index page (`<outDir>/leaderboard.run.json`). */
export const LEADERBOARD = "leaderboard";

/** Metrics a headline table shows, in this order, when the rows have them. */
export const HEADLINE_METRICS: readonly MetricColumn[] = ["auroc", "fpr95"];

/**
 * A notebook's headline table: from its result rows, the `Average`-over-OOD-sets row of every method / score /
 * setting (mean ± std over seeds), with AUROC and FPR95 (or, for rows without those, every metric that has
 * values). Generic rules keep it to one table: only the first FPR rule that appears is shown (it changes FPR95
 * only), and the class-split partitions of one ID dataset (`mnist:p1`, `mnist:p2`, …) are pooled into one row per
 * method, as their papers report the mean over partitions (said in the caption).
 *
 * @returns null when there are no rows or no metric has a value.
 */
export function headlineTable(rows: pl.DataFrame, name: string): Table | null {
  if (rows.height === 0) return null;
  let df = rows;
  const captions: string[] = [];
  const rules = [...new Set(df.getColumn("fprRule").toArray() as string[])];
  if (rules.length > 1) {
    df = df.filter(pl.col("fprRule").eq(pl.lit(rules[0]!)));
    captions.push(`Other FPR rules in the result rows: ${rules.slice(1).join(", ")}`);
  }
  const ids = df.getColumn("idDataset").toArray() as string[];
  const base = ids.map((d) => d.replace(/:.*$/, ""));
  if (base.some((b, i) => b !== ids[i])) {
    df = df.withColumn(pl.Series("idDataset", base, pl.Utf8));
    const parts = [...new Set(ids.filter((d) => d.includes(":")))];
    captions.push(`Mean over the ID partitions ${parts.join(", ")}`);
  }
  const summary = summarize(df).filter(pl.col("oodDataset").eq(pl.lit(AVERAGE)));
  const has = (m: MetricColumn) =>
    (summary.getColumn(`${m}_mean`).toArray() as (number | null)[]).some((v) => v != null);
  const metrics = HEADLINE_METRICS.filter(has);
  const available = METRIC_COLUMNS.filter(has);
  if (available.length === 0) return null;
  const t = metricTable(summary, { metrics: metrics.length ? metrics : available });
  // Every row is the Average: no OOD column. What is constant over the table (metricTable's caption) and how the
  // rows were chosen go under it, where they wrap on a narrow screen instead of scrolling with the table.
  const columns = t.columns.filter((c) => c.key !== "oodDataset");
  const constant = t.options.caption ? [`${t.options.caption}.`] : [];
  const chosen = captions.length ? [captions.map((c) => `${c}.`).join(" ")] : [];
  return new Table(columns, t.rows, {
    ...t.options,
    // Every row is an average: no row is set apart in italics.
    emphasis: new Set(),
    caption: `${name}: average over OOD sets`,
    notes: [...constant, ...chosen, ...(t.options.notes ?? [])],
  });
}

/**
 * The index's anchor of a run's section: `leaderboard` for the leaderboard shown first, `nb-<profile>-<name>` for
 * the others.
 */
function anchorOf(run: NotebookRun, board: NotebookRun | undefined): string {
  return run === board ? LEADERBOARD : `nb-${escapeHtml(run.profile)}-${escapeHtml(run.name)}`;
}

/** What the index shows of one run: the run, its manifest (when the notebook wrote results) and headline. */
interface IndexEntry {
  run: NotebookRun;
  manifest: RunManifest | null;
  headline: string;
  /** A later run of the same notebook and profile that did not complete (in `failed/`), if any. */
  failed: NotebookRun | null;
}

function engineText(m: RunManifest | null, long = false): string {
  const e = m?.engine;
  if (!e) return "—";
  return long ? `${e.engine} (${e.description}, ${e.threads} thread${e.threads === 1 ? "" : "s"})` : e.engine;
}

async function indexEntry(outDir: string, run: NotebookRun): Promise<IndexEntry> {
  const dir = profileDir(outDir, run.profile);
  const failed = readRun(join(dir, FAILED_DIR, `${run.name}.run.json`));
  const files = resultFiles(run.name, join(dir, "results"));
  let manifest: RunManifest | null = null, headline = "";
  try {
    if (exists(files.manifest)) manifest = await readManifest(files.manifest);
    if (exists(files.parquet)) {
      const table = headlineTable(readResults(files.parquet), run.name);
      headline = table
        ? table.toHTML()
        : `<p class="meta">${escapeHtml(run.name)} wrote no metric values (results/${escapeHtml(run.name)}.csv).</p>`;
    } else headline = `<p class="meta">no result rows${run.ok ? "" : " (the run failed)"}</p>`;
  } catch (e) {
    headline = `<p class="fail">results unreadable: ${escapeHtml((e as Error).message)}</p>`;
  }
  return { run, manifest, headline, failed: failed && failed.startedAt > run.startedAt ? failed : null };
}

/** Every run of `outDir`, profile by profile (smallest first), by name within a profile. */
function profileRuns(outDir: string): NotebookRun[] {
  return PROFILES.flatMap((profile) =>
    safeReadDir(profileDir(outDir, profile)).filter((e) => e.isFile && e.name.endsWith(".run.json"))
      .map((e) => e.name).sort()
      .map((f) => readRun(join(profileDir(outDir, profile), f)))
      .filter((r): r is NotebookRun => r !== null && r.profile === profile)
  );
}

/**
 * Moves the reports of the old flat layout (`<outDir>/<name>.run.json`, `<name>.ipynb|html|png`,
 * `results/<name>.*`) into their profile's folder, unless that folder already has a run of the notebook, so that
 * the index keeps showing them. Returns the names moved.
 */
export async function migrateFlatReports(outDir: string): Promise<string[]> {
  const movedNames: string[] = [];
  for (const e of safeReadDir(outDir)) {
    if (!e.isFile || !e.name.endsWith(".run.json")) continue;
    const run = readRun(join(outDir, e.name));
    if (!run || !(PROFILES as readonly string[]).includes(run.profile)) continue;
    const dest = profileDir(outDir, run.profile);
    if (exists(join(dest, e.name))) continue;
    await Deno.mkdir(join(dest, "results"), { recursive: true });
    for (const f of [...runFiles(run.name), `${run.name}.png`]) {
      if (exists(join(outDir, f))) await Deno.rename(join(outDir, f), join(dest, f));
    }
    const moved: NotebookRun = {
      ...run,
      ipynb: join(dest, `${run.name}.ipynb`),
      html: run.html ? join(dest, `${run.name}.html`) : null,
      results: run.results ? join(dest, "results", `${run.name}.parquet`) : null,
    };
    await writeFileAtomic(join(dest, e.name), JSON.stringify(moved, null, 1) + "\n");
    await Deno.remove(join(outDir, e.name));
    movedNames.push(run.name);
  }
  return movedNames;
}

/**
 * Writes `<outDir>/index.html`, the page a reader opens first: a table of every run of every profile
 * (`<outDir>/<profile>/<name>.run.json`: status, profile, engine, time, links to the HTML report, the executed
 * notebook and the result CSV; a later run that did not complete and so did not replace the report is linked next
 * to it), then per run its headline table ({@link headlineTable}) with profile, engine and commit. When a
 * {@link LEADERBOARD} run exists, its section comes first (of the largest profile that has one). Self-contained
 * (no scripts, no external requests) and readable on a phone: tables scroll inside their wrapper, figures scale to
 * the width.
 *
 * @returns The path written.
 */
export async function writeIndex(outDir: string = REPORTS_DIR): Promise<string> {
  const runs = profileRuns(outDir);
  const entries = await Promise.all(runs.map((r) => indexEntry(outDir, r)));
  // Links relative to the folder (not the absolute paths in run.json), so a copied or moved folder still works.
  const link = (file: string, label: string) =>
    exists(join(outDir, file)) ? `<a href="${file.split("/").map(encodeURIComponent).join("/")}">${label}</a>` : "";
  const links = (r: NotebookRun, dir: string = r.profile) =>
    [
      r.html ? link(`${dir}/${r.name}.html`, "report") : "",
      link(`${dir}/${r.name}.ipynb`, "notebook"),
      r.results ? link(`${dir}/results/${r.name}.csv`, "results (CSV)") : "",
    ].filter(Boolean).join(" · ");
  const statusHtml = (r: NotebookRun) =>
    r.ok ? `<span class="ok">✔ ok</span>` : `<span class="fail">✘ ${escapeHtml(r.message)}</span>`;
  const laterHtml = (f: NotebookRun | null, r: NotebookRun) => {
    if (!f) return "";
    const partial = links(f, `${r.profile}/${FAILED_DIR}`);
    return ` <span class="fail">(a later run, ${escapeHtml(f.startedAt.replace("T", " ").slice(0, 19))}, did not ` +
      `complete: ${escapeHtml(f.message)}${partial ? `; ${partial}` : ""})</span>`;
  };
  const board = [...PROFILES].reverse().map((p) =>
    entries.find((e) => e.run.name === LEADERBOARD && e.run.profile === p)
  )
    .find(Boolean);
  const rows = entries.map(({ run: r, manifest, failed }) =>
    `<tr><td class="key"><a href="#${anchorOf(r, board?.run)}">${escapeHtml(r.name)}</a></td>` +
    `<td class="key">${statusHtml(r)}${laterHtml(failed, r)}</td><td class="key">${escapeHtml(r.profile)}</td>` +
    `<td class="key">${escapeHtml(engineText(manifest))}</td><td>${r.seconds.toFixed(1)} s</td>` +
    `<td class="key">${escapeHtml(r.startedAt.replace("T", " ").slice(0, 19))}</td>` +
    `<td class="key">${links(r)}</td></tr>`
  ).join("\n");
  const section = ({ run: r, manifest, headline, failed }: IndexEntry) => {
    const meta = [
      `profile ${r.profile}`,
      `engine ${engineText(manifest, true)}`,
      `${r.seconds.toFixed(1)} s`,
      manifest?.git && `commit ${manifest.git.commit.slice(0, 10)}${manifest.git.dirty ? " (dirty)" : ""}`,
    ].filter(Boolean).join(" · ");
    const files = links(r);
    return `<section id="${anchorOf(r, board?.run)}"><h2>${escapeHtml(r.name)} <span class="meta">(${
      escapeHtml(r.profile)
    })</span> ${statusHtml(r)}</h2>` +
      `<p class="meta">${escapeHtml(meta)}${files ? ` · ${files}` : ""}${
        laterHtml(failed, r)
      }</p>\n${headline}</section>`;
  };
  const ok = runs.filter((r) => r.ok).length;
  const profiles = PROFILES.filter((p) => runs.some((r) => r.profile === p));
  const html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,"><title>ood-notebooks reports</title>
<style>body{font:14px/1.45 system-ui,-apple-system,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em}.ok{color:#1a7f37}.fail{color:#cf222e}.meta{color:#555;font-size:12px}
a{color:#0969da}
#leaderboard{border:1px solid #d0d7de;border-radius:6px;padding:0 1em 1em;background:#f6f8fa}
${TABLE_CSS}
${await Deno.readTextFile(REPORT_CSS)}</style></head>
<body class="ood-report"><h1>ood-notebooks: reports</h1>
<p class="meta">${runs.length} run${runs.length === 1 ? "" : "s"}, ${ok} ok${
    profiles.length ? ` · profiles: ${profiles.join(", ")} (each in its own folder)` : ""
  } · index written ${escapeHtml(new Date().toISOString().replace("T", " ").slice(0, 19))} UTC</p>
<!-- Leaderboard: shown here, first, once a notebook named "${LEADERBOARD}" has run (<profile>/${LEADERBOARD}.run.json). -->
${board ? section(board) : ""}
<section id="runs"><h2>Notebooks</h2>
<div class="ood-table-wrap"><table class="ood-table"><thead><tr><th class="key">Notebook</th><th class="key">Status</th><th class="key">Profile</th><th class="key">Engine</th><th>Time</th><th class="key">Started (UTC)</th><th class="key">Files</th></tr></thead>
<tbody>
${rows || `<tr><td class="key" colspan="7">no notebook has been run yet</td></tr>`}
</tbody></table></div></section>
${entries.filter((e) => e !== board).map(section).join("\n")}
</body></html>
`;
  const path = join(outDir, "index.html");
  await Deno.mkdir(outDir, { recursive: true });
  await writeFileAtomic(path, html);
  return path;
}

/** Parsed command line of the notebook runner. */
export interface NotebookArgs {
  names: string[];
  /** `--profile`, else `OOD_PROFILE`, else `default`. */
  profile: Profile;
  outDir: string;
  cellTimeoutS?: number;
  noInput: boolean;
  /** After the index: open every report in headless Chromium, check it and save screenshots (`--screenshots`). */
  screenshots: boolean;
  /** `--verbose`: the engine line says why each engine was passed over (`OOD_VERBOSE=1` in the kernel). */
  verbose: boolean;
}

/** `OOD_PROFILE` of this process, or undefined when unset, empty or unreadable. */
function envProfile(): string | undefined {
  try {
    return Deno.env.get("OOD_PROFILE") || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Parses `[notebook...] [--profile P] [--out DIR] [--timeout S] [--no-input] [--screenshots] [--verbose]`
 * (`--flag=value` also works). One rule picks the profile: `--profile` wins, else `OOD_PROFILE`, else `default`;
 * an unknown name in either is refused, even when the flag would override the variable.
 *
 * @param profileFromEnv The value of `OOD_PROFILE`; default this process's.
 * @throws UserError for an unknown flag or profile, or a flag without its value.
 */
export function parseNotebookArgs(
  args: readonly string[],
  profileFromEnv: string | undefined = envProfile(),
): NotebookArgs {
  const fromEnv = profileFromEnv === undefined ? undefined : parseProfile(profileFromEnv, "OOD_PROFILE");
  const out: NotebookArgs = {
    names: [],
    profile: fromEnv ?? "default",
    outDir: REPORTS_DIR,
    noInput: false,
    screenshots: false,
    verbose: false,
  };
  for (let i = 0; i < args.length; i++) {
    let a = args[i]!, value: string | undefined;
    if (a.startsWith("--") && a.includes("=")) [a, value] = [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)];
    const next = () => {
      const v = value ?? args[++i];
      if (v === undefined) throw new UserError(`${a} needs a value.`);
      return v;
    };
    if (a === "--profile") out.profile = parseProfile(next(), "--profile");
    else if (a === "--out") out.outDir = resolve(next());
    else if (a === "--timeout") {
      const t = Number(next());
      if (!(t > 0)) throw new UserError(`--timeout must be a positive number of seconds.`);
      out.cellTimeoutS = t;
    } else if (a === "--no-input") out.noInput = true;
    else if (a === "--screenshots") out.screenshots = true;
    else if (a === "--verbose") out.verbose = true;
    else if (a.startsWith("-")) {
      throw new UserError(
        `Unknown option ${a}. Options: --profile smoke|default|paper, --out DIR, --timeout S, --no-input, ` +
          `--screenshots, --verbose.`,
      );
    } else out.names.push(a);
  }
  return out;
}

/** Where {@link reproduceNotebooks} shows a running notebook's cells (see `tools/terminal.ts`). */
export interface LiveView {
  /** Redraw one status line in place; default: when `log` is the default and stdout is a terminal. */
  tty?: boolean;
  /** Raw output of the status line; default stdout. */
  write?: (text: string) => void;
}

/** The signals that stop a run cleanly, with their numbers (the exit status is 128 + the number). */
export const STOP_SIGNALS: Readonly<Record<"SIGHUP" | "SIGINT" | "SIGTERM", number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGTERM: 15,
};

/**
 * The notebook main job: runs the named notebooks (default: every notebook directly in `notebooks/`) in order,
 * prints one line per notebook and, while one runs, its cells (a status line redrawn in place on a terminal —
 * running cell, elapsed time, its progress bar — else one line per finished cell), writes the index (and with
 * `--screenshots` checks the reports in a browser and saves their screenshots), and returns
 * the exit status (0 when every notebook succeeded and, with `--screenshots`, every report passed the check).
 *
 * While it runs, SIGTERM, SIGINT and SIGHUP stop it: the running notebook's kernel and its children are killed, its
 * outputs so far are written with a run.json saying `interrupted`, no further notebook starts, the index is
 * written, and the exit status is 128 + the signal's number.
 */
export async function reproduceNotebooks(
  args: readonly string[],
  log: (line: string) => void = console.log,
  live: LiveView = {},
): Promise<number> {
  const a = parseNotebookArgs(args);
  const paths = a.names.length ? a.names.map((n) => resolveNotebook(n)) : discoverNotebooks();
  if (paths.length === 0) {
    log(`No notebooks to run (none named, and no notebooks in ${relative(ROOT, NOTEBOOKS_DIR)}/).`);
    return 1;
  }
  const tty = live.tty ?? (log === console.log && Deno.stdout.isTerminal());
  const encoder = new TextEncoder();
  const write = live.write ?? ((text: string) => void Deno.stdout.writeSync(encoder.encode(text)));
  const stopper = new AbortController();
  let stoppedBy: keyof typeof STOP_SIGNALS | null = null;
  const listeners = (Object.keys(STOP_SIGNALS) as (keyof typeof STOP_SIGNALS)[]).map((sig) => {
    const fn = () => {
      if (stoppedBy) return;
      stoppedBy = sig;
      stopper.abort(sig);
    };
    Deno.addSignalListener(sig, fn);
    return () => Deno.removeSignalListener(sig, fn);
  });
  let failed = 0, ran = 0;
  const shown = (p: string) => relative(Deno.cwd(), p);
  try {
    await migrateFlatReports(a.outDir);
    for (const p of paths) {
      if (stopper.signal.aborted) break;
      log(`▶ ${basename(p, ".ipynb")} (profile ${a.profile})`);
      const view = new NotebookTerminal({ tty, write, log });
      const r = await runNotebook(p, {
        profile: a.profile,
        outDir: a.outDir,
        cellTimeoutS: a.cellTimeoutS,
        noInput: a.noInput,
        verbose: a.verbose,
        signal: stopper.signal,
        onEvent: (e) => view.event(e),
      }).finally(() => view.close());
      ran++;
      const report = shown(r.html ?? r.ipynb);
      if (r.ok) log(`✔ ${r.name}: ${r.seconds.toFixed(1)} s → ${report}`);
      else {
        failed++;
        log(`${r.status === "interrupted" ? "⏹" : "✘"} ${r.name}: ${r.message}`);
        // A user error (unknown engine, missing dataset, damaged checkpoint) says what to do; its trace does not.
        const trace = !USER_ERROR_NAMES.has(r.ename ?? "") || debugErrors();
        if (r.traceback.length && trace) log(r.traceback.slice(0, 12).map((l) => `    ${l}`).join("\n"));
        const previous = join(profileDir(a.outDir, a.profile), `${r.name}.html`);
        log(
          r.kept
            ? `  the previous complete ${a.profile} report is kept (${shown(previous)}); this run's outputs: ${report}`
            : `  this run's outputs: ${report}`,
        );
      }
    }
  } finally {
    listeners.forEach((remove) => remove());
  }
  const index = await writeIndex(a.outDir);
  log(`index: ${shown(index)} (${ran - failed}/${paths.length} notebooks ok)`);
  if (stoppedBy) {
    log(
      `stopped by ${stoppedBy}: the kernel and its processes were stopped; ${paths.length - ran} notebook(s) not run`,
    );
    return 128 + STOP_SIGNALS[stoppedBy];
  }
  let problems = 0;
  if (a.screenshots) {
    // Loaded here only: the browser check pulls in puppeteer-core.
    const { screenshotReports } = await import("./report_check.ts");
    problems = await screenshotReports(a.outDir, log);
  }
  return failed || problems ? 1 : 0;
}

/**
 * Whether `deno task reproduce <args>` means the notebook job: a notebook is named, or notebooks exist
 * and no other job is named.
 */
export function isNotebookInvocation(args: readonly string[], jobs: readonly string[]): boolean {
  let names: string[];
  try {
    // Only the names matter here; the notebook job itself checks OOD_PROFILE.
    names = parseNotebookArgs(args, undefined).names;
  } catch {
    return true; // let the notebook job report the bad option
  }
  if (names.length === 1 && jobs.includes(names[0]!)) return false;
  return names.length > 0 || discoverNotebooks().length > 0;
}

/**
 * CLI entry: {@link reproduceNotebooks}; a bad argument, an unknown profile or a missing notebook is reported as
 * its message (exit 2), without a stack trace unless `OOD_DEBUG=1` (`lib/user_error.ts`).
 */
export async function notebooksMain(args: readonly string[]): Promise<number> {
  try {
    return await reproduceNotebooks(args);
  } catch (e) {
    console.error(formatError(e));
    return isUserError(e) ? 2 : 1;
  }
}

if (import.meta.main) Deno.exit(await notebooksMain(Deno.args));
