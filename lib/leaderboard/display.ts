/**
 * The leaderboard notebook's composite displays: every table (per ID dataset, near then far) under its heading,
 * the AUROC heatmaps of every ID dataset, and the entries' notes (what each changed to run under the protocol).
 * The parts are in `table.ts`, `views.ts`, `cost.ts` and `notes.ts`.
 * @module
 */
import { type Displayable, markdownView } from "../report/jupyter.ts";
import { stacked } from "../report/score_views.ts";
import type { LeaderboardSummary } from "./stats.ts";
import { type LeaderboardTableOptions, leaderboardTables } from "./table.ts";
import { aurocHeatmap } from "./views.ts";

/** Every leaderboard table (ID dataset × near / far), each under a heading. */
export function leaderboardView(summary: LeaderboardSummary, opts: LeaderboardTableOptions = {}): Displayable {
  const tables = leaderboardTables(summary, opts);
  if (tables.length === 0) return markdownView("No leaderboard row: no entry produced results.");
  return stacked(tables.flatMap(({ idDataset, group, table }) => [
    markdownView(`### ID ${idDataset}: ${group === "near" ? "near-OOD (held-out classes)" : "far-OOD"}`),
    table,
  ]));
}

/** The AUROC heatmap of every ID dataset of the summary. */
export function heatmapsView(summary: LeaderboardSummary): Displayable {
  const ids = [...new Set(summary.perSet.map((s) => s.idDataset))];
  return stacked(ids.map((idDataset) => aurocHeatmap(summary, { idDataset })));
}

/** The entries' notes as markdown: per paper, what it changed from the protocol or its paper to run here. */
export function entryNotesView(notes: Readonly<Record<string, readonly string[]>>): Displayable {
  const lines = Object.entries(notes).flatMap(([paper, list]) =>
    list.length ? [`**${paper}**`, "", ...list.map((n) => `- ${n}`), ""] : []
  );
  return markdownView(lines.length ? lines.join("\n") : "No entry reported a change.");
}
