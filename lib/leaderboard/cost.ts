/**
 * The leaderboard's cost view (issue 16): training time, images seen and scoring time per paper entry on this
 * engine, the mean (± sample std) over seeds per (paper, ID dataset).
 * @module
 */
import { type Cell, type Column, Table } from "../report/html_table.ts";
import { finiteMeanStd } from "../report/table.ts";

/** The cost of one entry run: what `EntryResult` reports for one (paper, ID dataset, seed). */
export interface CostRecord {
  /** Paper id (`LeaderboardEntry.paper`). */
  paper: string;
  idDataset: string;
  seed: number;
  /** Wall-clock seconds of training (every network the entry trains for this seed). */
  trainSeconds: number;
  /** Training images processed (forward + backward), summed over networks and epochs. */
  imagesSeen: number;
  /** Wall-clock seconds of scoring the ID and OOD test sets (every score). */
  scoreSeconds: number;
}

/** Mean and sample std (null with one seed) of a cost over seeds. */
export interface CostStat {
  mean: number | null;
  std: number | null;
}

/** The cost of one paper on one ID dataset, over seeds. */
export interface CostSummary {
  paper: string;
  idDataset: string;
  seeds: number;
  trainSeconds: CostStat;
  imagesSeen: CostStat;
  scoreSeconds: CostStat;
}

/**
 * Mean and sample std over seeds of each cost, per (paper, ID dataset), in first-seen order. Non-finite values are
 * left out.
 */
export function summarizeCosts(costs: readonly CostRecord[]): CostSummary[] {
  const keys: string[] = [], by = new Map<string, CostRecord[]>();
  for (const c of costs) {
    const k = JSON.stringify([c.paper, c.idDataset]);
    if (!by.has(k)) keys.push(k);
    by.set(k, [...(by.get(k) ?? []), c]);
  }
  return keys.map((k) => {
    const list = by.get(k)!;
    const stat = (f: "trainSeconds" | "imagesSeen" | "scoreSeconds"): CostStat => {
      const s = finiteMeanStd(list.map((c) => c[f]));
      return { mean: s.mean, std: s.std };
    };
    return {
      paper: list[0]!.paper,
      idDataset: list[0]!.idDataset,
      seeds: new Set(list.map((c) => c.seed)).size,
      trainSeconds: stat("trainSeconds"),
      imagesSeen: stat("imagesSeen"),
      scoreSeconds: stat("scoreSeconds"),
    };
  });
}

/** Seconds as "12.3 s", "4.5 min" or "1.2 h". */
export function formatSeconds(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return "—";
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  if (s < 3600) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(2)} h`;
}

/** A count as "12 345", "1.23 M". */
export function formatCount(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return "—";
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  return Math.round(n).toLocaleString("en-US").replaceAll(",", " ");
}

function cell(stat: CostStat, format: (v: number | null) => string, seeds: number): Cell {
  return {
    text: format(stat.mean) + (stat.std === null ? "" : ` ± ${format(stat.std)}`),
    title: `mean${stat.std === null ? "" : " ± sample std"} over ${seeds} seed(s)`,
  };
}

/**
 * The cost table: per paper and ID dataset, training time, images seen and scoring time (mean ± std over seeds).
 *
 * @param costs One record per (paper, ID dataset, seed).
 * @param opts.caption Caption (default "Cost per method on this engine").
 */
export function costTable(costs: readonly CostRecord[], opts: { caption?: string } = {}): Table {
  const summary = summarizeCosts(costs);
  const multiId = new Set(summary.map((s) => s.idDataset)).size > 1;
  const columns: Column[] = [
    ...(multiId ? [{ key: "id", label: "ID", kind: "key" } as Column] : []),
    { key: "paper", label: "Paper", kind: "key" },
    { key: "train", label: "Training time" },
    { key: "images", label: "Images seen" },
    { key: "score", label: "Scoring time" },
    { key: "seeds", label: "Seeds" },
  ];
  const rows = summary.map((s) => ({
    ...(multiId ? { id: s.idDataset } : {}),
    paper: s.paper,
    train: cell(s.trainSeconds, formatSeconds, s.seeds),
    images: cell(s.imagesSeen, formatCount, s.seeds),
    score: cell(s.scoreSeconds, formatSeconds, s.seeds),
    seeds: String(s.seeds),
  }));
  const groupStarts = new Set(
    summary.map((_, i) => i).filter((i) =>
      i > 0 && multiId &&
      summary[i]!.idDataset !== summary[i - 1]!.idDataset
    ),
  );
  const notes = [
    "Wall-clock on this engine, mean ± sample std over seeds. Training: every network the entry trains for a seed; " +
    "images seen: training images processed (forward + backward) summed over networks and epochs; scoring: the ID " +
    "and every OOD test set, all of the entry's scores.",
  ];
  return new Table(columns, rows, {
    caption: opts.caption ??
      (multiId ? "Cost per method on this engine" : `Cost per method on this engine — ${summary[0]?.idDataset ?? ""}`),
    notes,
    groupStarts,
  });
}
