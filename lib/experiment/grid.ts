/**
 * The one run grid: settings × seeds × variants × methods, with one progress bar, timings, and the result rows
 * of every run. A paper supplies what differs (how a setting's sets are loaded, what is shared by the methods of
 * one seed, how one method is trained and scored); notebooks call {@linkcode runGrid} once and keep no loops.
 * @module
 */
import { Progress } from "../report/progress.ts";
import { type ResultRow, Timings, type Variant } from "../report/results.ts";
import type { EvalSets } from "./eval_sets.ts";

/** Where a run sits in the grid. */
export interface GridCell<S> {
  /** The setting (e.g. an ID dataset with its backbone). */
  setting: S;
  /** Position of the setting in `settings`. */
  settingIndex: number;
  seed: number;
  /** `none` for methods without variants. */
  variant: Variant;
}

/** One method run of the grid. */
export interface GridRun<S, M extends string, R> extends GridCell<S> {
  method: M;
  /** Its result rows. */
  rows: ResultRow[];
  /** What the paper keeps for its displays (no tensors). */
  result: R;
  /** Wall time of the run, seconds. */
  seconds: number;
}

/** What a paper plugs into the grid. `Shared` is what the methods of one (setting, seed, variant) share. */
export interface GridSpec<S, M extends string, R, Shared = null> {
  /** Settings, loaded once each. */
  settings: readonly S[];
  seeds: readonly number[];
  /** Variants; default `["none"]`. */
  variants?: readonly Variant[];
  methods: readonly M[];
  /**
   * Methods whose training and scoring do not depend on the variant: they run once per (setting, seed), under
   * the variant `none`. Default: none of them.
   */
  variantFree?: readonly M[];
  /** The methods a setting runs (a subset of `methods`, kept in `methods` order); default all of them. */
  methodsOf?(setting: S): readonly M[];
  /** Loads a setting's sets. */
  load(setting: S, index: number): Promise<EvalSets>;
  /** Builds what the methods of one (setting, seed, variant) share (e.g. a pretrained classifier). */
  prepare?(cell: GridCell<S>, sets: EvalSets, stage: (label: string) => Promise<void>): Promise<Shared>;
  /** Trains and scores one method. */
  run(
    cell: GridCell<S> & { method: M },
    sets: EvalSets,
    shared: Shared,
    stage: (label: string) => Promise<void>,
  ): Promise<{ rows: ResultRow[]; result: R }>;
  /** Frees what `prepare` built (called even when a run throws). */
  release?(shared: Shared): void | Promise<void>;
  /** Progress bar label; default "runs". */
  label?: string;
  /** Describes a setting in progress lines; default `String(setting)` or its `idDataset`/`id` field. */
  describe?(setting: S): string;
}

/** What {@linkcode runGrid} returns. */
export interface GridResult<S, M extends string, R> {
  /** Each setting's sets, in `settings` order. */
  sets: EvalSets[];
  /** Every run, in execution order. */
  runs: GridRun<S, M, R>[];
  /** Every run's rows, concatenated. */
  rows: ResultRow[];
  /** Seconds per stage (`data`, `prepare`, each method). */
  timings: Timings;
}

/**
 * The stage reporter of the run in progress of an enclosing grid, if any: a grid run inside another grid's run (the
 * leaderboard runs each paper's grid) reports its stages there instead of drawing a second progress bar.
 */
let enclosingStage: ((label: string) => Promise<void>) | null = null;

function describeDefault(s: unknown): string {
  if (s && typeof s === "object") {
    const o = s as Record<string, unknown>;
    return String(o.idDataset ?? o.id ?? JSON.stringify(s));
  }
  return String(s);
}

/** The (variant, method) pairs a grid runs per (setting, seed), in order. */
export function gridPlan<M extends string>(
  variants: readonly Variant[],
  methods: readonly M[],
  variantFree: readonly M[] = [],
): { variant: Variant; methods: M[] }[] {
  return variants.map((variant, i) => ({
    variant,
    methods: methods.filter((m) => !variantFree.includes(m) || i === 0),
  }));
}

/**
 * Runs the grid: for each setting (sets loaded once), each seed, each variant — `prepare`, then every method
 * (variant-free methods only under the first variant, labelled `none`), then `release`. One progress bar counts
 * method runs and shows the stage each run reports.
 * @example Usage
 * ```ts ignore
 * const exp = await runGrid({ settings: ["mnist"], seeds: [0, 1], methods: ["ce"], load, run });
 * await writeResults(exp.rows, await runManifest({ paper: "baselines", config: cfg, timings: exp.timings }));
 * ```
 */
export async function runGrid<S, M extends string, R, Shared = null>(
  spec: GridSpec<S, M, R, Shared>,
): Promise<GridResult<S, M, R>> {
  const variants = spec.variants ?? ["none"];
  if (variants.length === 0 || spec.seeds.length === 0 || spec.methods.length === 0 || spec.settings.length === 0) {
    throw new Error("runGrid: settings, seeds, variants and methods must each be non-empty");
  }
  const planOf = (setting: S) => {
    const own = spec.methodsOf?.(setting);
    return gridPlan(variants, own ? spec.methods.filter((m) => own.includes(m)) : spec.methods, spec.variantFree);
  };
  const total = spec.settings.reduce(
    (n, s) => n + spec.seeds.length * planOf(s).reduce((k, p) => k + p.methods.length, 0),
    0,
  );
  const outer = enclosingStage;
  const progress = outer ? null : new Progress(total, spec.label ?? "runs");
  const report = (done: number, note: string) =>
    outer ? outer(`${spec.label ?? "runs"} ${done}/${total}: ${note}`) : progress!.update(done, note);
  const describe = spec.describe ?? describeDefault;
  const timings = new Timings();
  const sets: EvalSets[] = [];
  const runs: GridRun<S, M, R>[] = [];
  for (const [settingIndex, setting] of spec.settings.entries()) {
    await report(runs.length, `${describe(setting)}: loading data`);
    sets.push(await timings.time("data", () => spec.load(setting, settingIndex)));
    const data = sets[settingIndex]!;
    const plan = planOf(setting);
    for (const seed of spec.seeds) {
      for (const { variant, methods } of plan) {
        const cell: GridCell<S> = { setting, settingIndex, seed, variant };
        const where = (v: Variant) => `${describe(setting)}, seed ${seed}${v === "none" ? "" : `, ${v}`}`;
        const stageOf = (v: Variant) => (label: string) => report(runs.length, `${where(v)}: ${label}`);
        const shared = spec.prepare
          ? await timings.time("prepare", () => spec.prepare!(cell, data, stageOf(variant)))
          : null as Shared;
        try {
          for (const method of methods) {
            const runVariant: Variant = spec.variantFree?.includes(method) ? "none" : variant;
            const stage = stageOf(runVariant);
            const t0 = performance.now();
            await stage(method);
            const runStage = (l: string) => stage(`${method}: ${l}`);
            enclosingStage = runStage;
            const out = await timings.time(
              method,
              () => spec.run({ ...cell, variant: runVariant, method }, data, shared, runStage),
            )
              .finally(() => (enclosingStage = outer));
            runs.push({
              ...cell,
              variant: runVariant,
              method,
              rows: out.rows,
              result: out.result,
              seconds: (performance.now() - t0) / 1000,
            });
            await stage(`${method} done`);
          }
        } finally {
          await spec.release?.(shared);
        }
      }
    }
  }
  return { sets, runs, rows: runs.flatMap((r) => r.rows), timings };
}
