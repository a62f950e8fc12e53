/**
 * Result rows: tidy numbers from one writer (conventions C13).
 *
 * One row per (paper, method, variant, score, backbone, ID set, OOD set, FPR rule, seed, profile) with every metric as a fraction
 * in [0, 1] (never ×100, never "x ± y" strings: formatting happens only at display, in `table.ts`). A run writes
 * its rows as `<name>.parquet` and `<name>.csv` plus `<name>.manifest.json` (config, git commit, Deno/TF.js
 * versions, engine report, dataset hashes, timings) into the results folder, each file atomically.
 *
 * Where results go: `OOD_RESULTS_DIR`, else `<OOD_REPORTS_DIR>/results`, else `reports/<profile>/results/`
 * (git-ignored; each profile has its own folder, so a smoke run never replaces a default run's rows). The notebook
 * runner sets `OOD_RESULTS_DIR` (a staging folder it moves into `reports/<profile>/` when the run completes),
 * `OOD_NOTEBOOK` (the default `name`) and `OOD_PROFILE`.
 *
 * Polars is a napi addon: under `deno run` / `deno test` it needs `--allow-sys --allow-ffi --allow-read`
 * (the kernel has all permissions).
 * @module
 */
import pl from "nodejs-polars";
import { isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "../io/atomic.ts";
import type { EvaluateResult } from "../metrics/evaluate.ts";
import { currentProfile, type Profile } from "./profile.ts";

/** The metric columns of a result row, in table order. All fractions; `null` when not measured. */
export const METRIC_COLUMNS = [
  "auroc",
  "auprIn",
  "auprOut",
  "fpr95",
  "fpr95OodPositive",
  "detectionError",
  "idAccuracy",
  "macroF1",
  "openSetAccuracy",
] as const;

/** A metric column name. */
export type MetricColumn = typeof METRIC_COLUMNS[number];

/**
 * The string key columns of a result row, in file order (one schema for every paper: the results of all
 * notebooks concatenate into one frame without renaming).
 */
export const KEY_COLUMNS = [
  "paper",
  "method",
  "variant",
  "label",
  "score",
  "backbone",
  "idDataset",
  "oodDataset",
  "oodGroup",
  "profile",
  "selection",
  "fprRule",
] as const;

/** `faithful` (the authors' code, quirks included), `clean` (the quirks fixed), or `none` (no such split). */
export type Variant = "faithful" | "clean" | "none";

/** Near-OOD (held-out classes of the ID dataset) or far-OOD (other datasets, noise, transformed images). */
export type OodGroup = "near" | "far";

/** How the reported checkpoint or hyper-parameter was chosen. */
export type Selection = "last" | "best-val" | "best-test";

/** What identifies a result row (everything but the numbers). */
export interface ResultKey {
  /** Paper / notebook id, e.g. `"cider"`, `"baselines"`. */
  paper: string;
  /** Training method, a registry id of its paper (e.g. `"ce"`, `"supcon"`, `"cider"`, `"um"`). */
  method: string;
  /** `faithful` / `clean` / `none`; default `none`. */
  variant?: Variant;
  /** Display label; default {@link displayLabel}(method, variant). */
  label?: string;
  /** Detector id (or a spec's `as` name), e.g. `"msp"`, `"knn"`. */
  score: string;
  /** Backbone registry name, e.g. `"lenet"`, `"resnet18"`. */
  backbone: string;
  /** Width multiplier of the backbone; default 1. */
  width?: number;
  /** In-distribution dataset. */
  idDataset: string;
  /** OOD dataset. */
  oodDataset: string;
  /** Default `far`. */
  oodGroup?: OodGroup;
  /** Seed of the run. */
  seed: number;
  /** Profile the run used; default {@link currentProfile}(). */
  profile?: Profile;
  /** Default `last`; `best-test` = selected on the test set (labelled so, as in CMG's published code). */
  selection?: Selection;
  /** Seconds spent training the model the row scores; default null. */
  trainSeconds?: number | null;
  /** Seconds spent fitting and running this score on every set; default null. */
  scoreSeconds?: number | null;
}

/** The display label of a method: its name, with the variant in parentheses unless it is `none`. */
export function displayLabel(method: string, variant: Variant = "none"): string {
  return variant === "none" ? method : `${method} (${variant})`;
}

/** One tidy result row: the key, every metric (fractions or null), and how the metrics were computed. */
export interface ResultRow extends Required<Omit<ResultKey, "trainSeconds" | "scoreSeconds">> {
  /** FPR@95 rule used for `fpr95`: `sklearn`, `hendrycks` or `odin` (a key: a second reading is more rows). */
  fprRule: string;
  /** AUROC (Mann–Whitney, ties ½). */
  auroc: number | null;
  /** AUPR with ID positive. */
  auprIn: number | null;
  /** AUPR with OOD positive. */
  auprOut: number | null;
  /** FPR of OOD at 95 % ID TPR, with the rule in `fprRule`. */
  fpr95: number | null;
  /** OpenOOD v1.5 / pytorch-ood reading: ID flagged as OOD at 95 % OOD recall. */
  fpr95OodPositive: number | null;
  /** min over thresholds of ½(1 − TPR) + ½·FPR. */
  detectionError: number | null;
  /** Classification accuracy on the ID test set, or null. */
  idAccuracy: number | null;
  /** Open-set macro-F1 over K + 1 classes (OOD = class K) at the 95 %-TPR threshold, or null. */
  macroF1: number | null;
  /** Open-set accuracy over ID and OOD images at the same threshold, or null. */
  openSetAccuracy: number | null;
  /** Number of ID scores. */
  nId: number;
  /** Number of OOD scores. */
  nOod: number;
  /** AUPR estimator used: `ap` or `trapezoid`. */
  auprEstimator: string;
  /** Seconds spent training the scored model, or null. */
  trainSeconds: number | null;
  /** Seconds spent fitting and running the score, or null. */
  scoreSeconds: number | null;
}

/** Every column of the results table, in file order. */
export const RESULT_COLUMNS = [
  ...KEY_COLUMNS,
  "seed",
  "width",
  ...METRIC_COLUMNS,
  "nId",
  "nOod",
  "auprEstimator",
  "trainSeconds",
  "scoreSeconds",
] as const;

/** Open-set classification metrics of a row (computed by `lib/experiment/rows.ts`). */
export interface OpenSetMetrics {
  macroF1: number | null;
  openSetAccuracy: number | null;
}

/**
 * A result row from a key and an `evaluate()` result (metrics copied as fractions).
 *
 * @param key What the numbers are about.
 * @param r The output of `evaluate(id, ood, opts)` from `lib/metrics`.
 * @param openSet Open-set metrics, when the row's method classifies.
 * @example Usage
 * ```ts ignore
 * const row = resultRow({ paper: "baselines", method: "ce", score: "msp", backbone: "lenet",
 *   idDataset: "mnist", oodDataset: "fashion_mnist", seed: 0 }, evaluate(idScores, oodScores));
 * ```
 */
export function resultRow(key: ResultKey, r: EvaluateResult, openSet?: OpenSetMetrics): ResultRow {
  const variant = key.variant ?? "none";
  return {
    paper: key.paper,
    method: key.method,
    variant,
    label: key.label ?? displayLabel(key.method, variant),
    score: key.score,
    backbone: key.backbone,
    idDataset: key.idDataset,
    oodDataset: key.oodDataset,
    oodGroup: key.oodGroup ?? "far",
    profile: key.profile ?? currentProfile(),
    selection: key.selection ?? "last",
    fprRule: r.settings.fprRule,
    seed: key.seed,
    width: key.width ?? 1,
    auroc: r.auroc,
    auprIn: r.auprIn,
    auprOut: r.auprOut,
    // The ODIN rule's FPR95 is NaN when no threshold has its TPR in [0.9495, 0.9505] (calMetric.py raises): no value.
    fpr95: Number.isNaN(r.fpr95) ? null : r.fpr95,
    fpr95OodPositive: r.fpr95OodPositive,
    detectionError: r.detectionError,
    idAccuracy: r.idAccuracy ?? null,
    macroF1: openSet?.macroF1 ?? null,
    openSetAccuracy: openSet?.openSetAccuracy ?? null,
    nId: r.nId,
    nOod: r.nOod,
    auprEstimator: r.settings.auprEstimator,
    trainSeconds: key.trainSeconds ?? null,
    scoreSeconds: key.scoreSeconds ?? null,
  };
}

/**
 * The rows as a Polars DataFrame with a fixed schema (strings; `seed`, `nId`, `nOod` Int32; `width`, metrics
 * and seconds Float64 with nulls), so that an empty result set has the same columns.
 *
 * @throws Error when a metric is outside [0, 1] or NaN (a ×100 value slipped in), naming the row.
 */
export function resultsFrame(rows: readonly ResultRow[]): pl.DataFrame {
  rows.forEach((row, i) => {
    for (const m of METRIC_COLUMNS) {
      const v = row[m];
      if (v !== null && !(v >= 0 && v <= 1)) {
        throw new Error(
          `Result row ${i} (${row.label}/${row.score}/${row.oodDataset}): ${m} = ${v} is not a fraction in [0, 1].`,
        );
      }
    }
  });
  const str = (k: keyof ResultRow) => pl.Series(k, rows.map((r) => String(r[k])), pl.Utf8);
  const int = (k: keyof ResultRow) => pl.Series(k, rows.map((r) => r[k] as number), pl.Int32);
  const num = (k: keyof ResultRow) => pl.Series(k, rows.map((r) => r[k] as number | null), pl.Float64);
  return pl.DataFrame([
    ...KEY_COLUMNS.map(str),
    int("seed"),
    num("width"),
    ...METRIC_COLUMNS.map(num),
    int("nId"),
    int("nOod"),
    str("auprEstimator"),
    num("trainSeconds"),
    num("scoreSeconds"),
  ]);
}

/** The run manifest written next to the rows. */
export interface RunManifest {
  /** Paper / notebook id. */
  paper: string;
  /** Name of the result files (the notebook's name under the runner). */
  name: string;
  /** Profile of the run. */
  profile: Profile;
  /** ISO time the manifest was made. */
  createdAt: string;
  /** The notebook's typed config object, as given. */
  config: unknown;
  /** `git rev-parse HEAD` and whether the work tree had changes; null outside a repository or without commits. */
  git: { commit: string; dirty: boolean } | null;
  /** Deno, V8, TypeScript and TF.js versions. */
  versions: { deno: string; v8: string; typescript: string; tfjs: string | null };
  /** The compute engine's report (`backendReport()` from `lib/engine/mod.ts`), or null when no engine was started. */
  engine: {
    engine: string;
    description: string;
    threads: number;
    reason: string;
    /** The engines tried before it and the full reason each was passed over (absent in older manifests). */
    skipped?: { engine: string; reason: string }[];
  } | null;
  /** Dataset name → SHA-256 (or any fingerprint) the run read. */
  datasets: Record<string, string>;
  /** Stage → seconds. */
  timings: Record<string, number>;
  /** Number of result rows written with this manifest (set by {@link writeResults}). */
  rows?: number;
}

/** Options of {@link runManifest}. */
export interface ManifestOptions {
  /** Paper / notebook id. */
  paper: string;
  /** The notebook's config object. */
  config: unknown;
  /** Name of the result files; default `OOD_NOTEBOOK`, else `paper`. */
  name?: string;
  /** Default {@link currentProfile}(). */
  profile?: Profile;
  /** Dataset name → SHA-256 of what the run read. */
  datasets?: Record<string, string>;
  /** Stage → seconds, or a {@link Timings}. */
  timings?: Record<string, number> | Timings;
}

/**
 * Collects a run manifest: the config, the git commit (if any), Deno and TF.js versions and the engine report
 * (read from `lib/engine/mod.ts` and `lib/tf.ts`, imported lazily), dataset hashes and timings as given.
 */
export async function runManifest(opts: ManifestOptions): Promise<RunManifest> {
  const [{ tf }, { backendReport }] = await Promise.all([import("../tf.ts"), import("../engine/mod.ts")]);
  const engine = backendReport();
  return {
    paper: opts.paper,
    name: opts.name ?? env("OOD_NOTEBOOK") ?? opts.paper,
    profile: opts.profile ?? currentProfile(),
    createdAt: new Date().toISOString(),
    config: opts.config,
    git: await gitState(),
    versions: { ...Deno.version, tfjs: tf.version?.["tfjs-core"] ?? null },
    engine: engine && {
      engine: engine.engine,
      description: engine.description,
      threads: engine.threads,
      reason: engine.reason,
      skipped: engine.skipped.map((s) => ({ ...s })),
    },
    datasets: { ...opts.datasets },
    timings: opts.timings instanceof Timings ? opts.timings.toJSON() : { ...opts.timings },
  };
}

/** Wall-clock timings of named stages, for the manifest. */
export class Timings {
  #t: Record<string, number> = {};
  /** Runs `fn`, adds its duration (seconds) to `name`, and returns its result. */
  async time<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.add(name, (performance.now() - t0) / 1000);
    }
  }
  /** Adds `seconds` to the stage `name`. */
  add(name: string, seconds: number): void {
    this.#t[name] = (this.#t[name] ?? 0) + seconds;
  }
  /** Stage → seconds (rounded to ms). */
  toJSON(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.#t).map(([k, v]) => [k, Math.round(v * 1000) / 1000]));
  }
}

async function gitState(): Promise<RunManifest["git"]> {
  try {
    const git = (args: string[]) =>
      new Deno.Command("git", { args, cwd: REPO_ROOT, stdout: "piped", stderr: "null" }).output();
    const head = await git(["rev-parse", "HEAD"]);
    if (!head.success) return null;
    const status = await git(["status", "--porcelain", "--untracked-files=no"]);
    return { commit: new TextDecoder().decode(head.stdout).trim(), dirty: status.stdout.length > 0 };
  } catch {
    return null; // no git, or no --allow-run
  }
}

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}

/** The repository root (two levels above this file). */
export const REPO_ROOT: string = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");

/** A config's folder: as is when absolute, else relative to the repository root (e.g. `runDir: "checkpoints/x"`). */
export function repoPath(dir: string): string {
  return isAbsolute(dir) ? dir : join(REPO_ROOT, dir);
}

/** The default reports folder, `<repo>/reports` (git-ignored): one folder per profile, and `index.html`. */
export const DEFAULT_REPORTS_DIR: string = join(REPO_ROOT, "reports");

/**
 * Where this run's reports go: `OOD_REPORTS_DIR` (the runner's staging folder), else the profile's folder
 * `<DEFAULT_REPORTS_DIR>/<profile>` ({@link currentProfile}), so that runs of different profiles never overwrite
 * each other.
 */
export function reportsDir(): string {
  return env("OOD_REPORTS_DIR") ?? join(DEFAULT_REPORTS_DIR, currentProfile());
}

/** Where result rows go: `OOD_RESULTS_DIR`, else `<reportsDir()>/results`. */
export function resultsDir(): string {
  return env("OOD_RESULTS_DIR") ?? join(reportsDir(), "results");
}

/** Paths of one result set. */
export interface ResultFiles {
  /** `<name>.parquet`: the rows with their dtypes. */
  parquet: string;
  /** `<name>.csv`: the same rows as text. */
  csv: string;
  /** `<name>.manifest.json`: the run manifest. */
  manifest: string;
}

/** The file paths of result set `name` in `dir`. */
export function resultFiles(name: string, dir: string = resultsDir()): ResultFiles {
  if (!/^[\w.-]+$/.test(name)) throw new Error(`Result name "${name}" must be letters, digits, "_", "-" or ".".`);
  return {
    parquet: join(dir, `${name}.parquet`),
    csv: join(dir, `${name}.csv`),
    manifest: join(dir, `${name}.manifest.json`),
  };
}

/**
 * Writes the rows (Parquet and CSV) and the manifest, each atomically, replacing a previous result set of the
 * same name. The manifest is written last, so a manifest always describes complete row files.
 *
 * @param rows Tidy rows (see {@link resultRow}).
 * @param manifest From {@link runManifest}; its `name` names the files.
 * @param opts.dir Default {@link resultsDir}().
 * @returns The paths written.
 */
export async function writeResults(
  rows: readonly ResultRow[],
  manifest: RunManifest,
  opts: { dir?: string } = {},
): Promise<ResultFiles> {
  const files = resultFiles(manifest.name, opts.dir);
  const df = resultsFrame(rows);
  await writeFileAtomic(files.parquet, new Uint8Array(df.writeParquet()));
  await writeFileAtomic(files.csv, new Uint8Array(df.writeCSV()));
  await writeFileAtomic(files.manifest, JSON.stringify({ ...manifest, rows: rows.length }, null, 1) + "\n");
  return files;
}

/**
 * Reads result rows: one `.parquet` file, or every `*.parquet` in a folder (concatenated, sorted by name).
 *
 * @param path A Parquet file or a folder; default {@link resultsDir}().
 * @returns A DataFrame with {@link RESULT_COLUMNS} (empty when the folder has none).
 */
export function readResults(path: string = resultsDir()): pl.DataFrame {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch {
    throw new Error(`No results at ${path}.`);
  }
  if (info.isFile) return pl.readParquet(path);
  const files = [...Deno.readDirSync(path)].filter((e) => e.isFile && e.name.endsWith(".parquet")).map((e) => e.name)
    .sort();
  if (files.length === 0) return resultsFrame([]);
  const frames = files.map((f) => pl.readParquet(join(path, f)).select(...RESULT_COLUMNS));
  return frames.length === 1 ? frames[0]! : pl.concat(frames, { how: "vertical" });
}

/** Reads a manifest written by {@link writeResults}. */
export async function readManifest(path: string): Promise<RunManifest> {
  return JSON.parse(await Deno.readTextFile(path)) as RunManifest;
}
