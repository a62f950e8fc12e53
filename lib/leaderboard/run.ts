/**
 * The leaderboard's experiment on the shared layer: {@linkcode runLeaderboard} is one `runGrid` over the protocol's
 * ID datasets × seeds × entries. Each entry maps the protocol onto its paper's config and runs that paper's own
 * runner (`lib/leaderboard/entries/`), so every number comes from the code of the paper notebooks; the grid loads
 * the protocol's sets once per ID dataset for the "Data used" table, and keeps every entry's rows, scores (for the
 * bootstrap) and cost.
 * @module
 */
import type { DatasetName } from "../datasets/registry.ts";
import { type EvalSets, loadEvalSets } from "../experiment/eval_sets.ts";
import { type GridResult, runGrid } from "../experiment/grid.ts";
import type { LeaderboardConfig, LeaderboardPaper } from "./config.ts";
import type { CostRecord } from "./cost.ts";
import type { EntryResult, LeaderboardEntry, LeaderboardProtocol, ScoreRecord } from "./types.ts";

/** What one entry's run keeps beyond its rows. */
export interface LeaderboardRunResult {
  scores: ScoreRecord[];
  trainSeconds: number;
  imagesSeen: number;
  scoreSeconds: number;
  notes: string[];
}

/** What {@linkcode runLeaderboard} returns: the grid's runs and rows, and the scores, costs and notes gathered. */
export interface LeaderboardExperiment extends GridResult<DatasetName, LeaderboardPaper, LeaderboardRunResult> {
  /** Every entry's scores, for the bootstrap intervals. */
  scores: ScoreRecord[];
  /** One per (paper, ID dataset, seed). */
  costs: CostRecord[];
  /** Per paper, its notes (what it changed to run under the protocol), without repeats. */
  notes: Record<string, string[]>;
}

/**
 * The sets of an ID dataset under the protocol: the class split's near-OOD set, the other near-OOD datasets and the
 * far-OOD sets.
 */
export async function protocolSets(protocol: LeaderboardProtocol, idDataset: DatasetName): Promise<EvalSets> {
  const sets = await loadEvalSets({
    id: idDataset,
    dataSeed: protocol.dataSeed,
    trainLimit: protocol.trainLimit,
    testLimit: protocol.nTest,
    oodDatasets: [...protocol.farOod, ...(protocol.nearOod ?? [])],
    oodLimit: protocol.nOod,
    classSplit: { protocol: "vmdls", fold: protocol.knownClasses },
  });
  for (const name of protocol.nearOod ?? []) if (name in sets.oodGroups) sets.oodGroups[name] = "near";
  return sets;
}

/** Checks that an entry's result is whole: rows, the scores of every row's OOD set, finite costs. */
function checkEntryResult(paper: string, r: EntryResult): void {
  if (r.rows.length === 0) throw new Error(`leaderboard entry ${paper}: no result rows`);
  const have = new Set(
    r.scores.flatMap((s) =>
      Object.keys(s.sets.ood).map((o) => JSON.stringify([s.label, s.score, s.idDataset, s.seed, o]))
    ),
  );
  for (const row of r.rows) {
    if (!have.has(JSON.stringify([row.label, row.score, row.idDataset, row.seed, row.oodDataset]))) {
      throw new Error(
        `leaderboard entry ${paper}: no scores for row "${row.label}" / ${row.score} / ${row.idDataset} / ${row.oodDataset}`,
      );
    }
  }
  for (const k of ["trainSeconds", "imagesSeen", "scoreSeconds"] as const) {
    if (!(Number.isFinite(r[k]) && r[k] >= 0)) throw new Error(`leaderboard entry ${paper}: ${k} is ${r[k]}`);
  }
}

/**
 * Runs every entry of the config on every ID dataset and seed of its protocol (`runGrid`: one progress bar, the
 * protocol's sets loaded once per ID dataset for the data table; each entry loads the same seeded subsets itself).
 * @param cfg The checked config.
 * @param entries The entries by paper id (`LEADERBOARD_ENTRIES`, or test doubles).
 */
export async function runLeaderboard(
  cfg: LeaderboardConfig,
  entries: Readonly<Record<string, LeaderboardEntry>>,
): Promise<LeaderboardExperiment> {
  for (const p of cfg.papers) if (!entries[p]) throw new Error(`runLeaderboard: no entry for paper "${p}"`);
  const protocol = cfg.protocol;
  // Entries load the other near-OOD datasets with the far ones; their rows are filed under near here.
  const near = new Set<string>(protocol.nearOod ?? []);
  const entryProtocol: LeaderboardProtocol = { ...protocol, farOod: [...protocol.farOod, ...near] as DatasetName[] };
  const grid = await runGrid<DatasetName, LeaderboardPaper, LeaderboardRunResult>({
    settings: protocol.idDatasets,
    seeds: protocol.seeds,
    methods: cfg.papers,
    load: (id) => protocolSets(protocol, id),
    run: async (cell, _sets, _shared, stage) => {
      const entry = entries[cell.method]!;
      await stage(`${entry.title}`);
      const r = await entry.run(entryProtocol, cell.setting, cell.seed);
      checkEntryResult(cell.method, r);
      // One name per ID dataset across entries (a runner may tag its class split, e.g. `fashion_mnist:0-4`).
      const rows = r.rows.map((row) => ({
        ...row,
        idDataset: cell.setting,
        oodGroup: near.has(row.oodDataset) ? "near" as const : row.oodGroup,
      }));
      const scores = r.scores.map((s) => ({ ...s, idDataset: cell.setting }));
      const { rows: _rows, scores: _scores, ...cost } = r;
      return { rows, result: { ...cost, scores } };
    },
    label: "leaderboard runs",
  });
  const notes: Record<string, string[]> = {};
  for (const run of grid.runs) {
    const mine = notes[run.method] ??= [];
    for (const n of run.result.notes) if (!mine.includes(n)) mine.push(n);
  }
  return {
    ...grid,
    scores: grid.runs.flatMap((r) => r.result.scores),
    costs: grid.runs.map((r) => ({
      paper: r.method,
      idDataset: r.setting,
      seed: r.seed,
      trainSeconds: r.result.trainSeconds,
      imagesSeen: r.result.imagesSeen,
      scoreSeconds: r.result.scoreSeconds,
    })),
    notes,
  };
}
