/**
 * Notes per method (issue 16): where each method wins and where it loses, computed from the per-set means of a
 * {@link LeaderboardSummary}, not typed.
 *
 * Per (ID dataset, OOD set) the methods are ranked on the metric's mean over seeds (competition ranks, ties
 * share); a method's relative standing on a set is q = (rank − 1)/(ranked − 1) (0 = best, 1 = worst). Its wins are
 * the `top` sets with the smallest q, its losses the `top` sets with the largest q among the others (ties in q:
 * OOD-set order, near first).
 * @module
 */
import { markdownView } from "../report/jupyter.ts";
import type { Displayable } from "../report/jupyter.ts";
import type { OodGroup } from "../report/results.ts";
import { BETTER, type LeaderboardMetric, type LeaderboardSummary, rankValues } from "./stats.ts";
import { LEADERBOARD_LABELS } from "./table.ts";

/** A method's standing on one OOD set. */
export interface SetStanding {
  oodDataset: string;
  oodGroup: OodGroup;
  /** Rank among the methods with a value on this set (1 = best). */
  rank: number;
  /** Methods ranked on this set. */
  of: number;
  /** The metric's mean over seeds (fraction). */
  value: number;
}

/** The note of one method. */
export interface MethodNote {
  idDataset: string;
  label: string;
  score: string;
  /** Rank of its near / far group average (null when it has no such group). */
  near: { rank: number; of: number } | null;
  far: { rank: number; of: number } | null;
  /** Its best sets relative to the others, best first. */
  wins: SetStanding[];
  /** Its worst sets relative to the others, worst first. */
  losses: SetStanding[];
  /** The note as one markdown line. */
  text: string;
}

/** Options of {@link methodNotes}. */
export interface MethodNotesOptions {
  /** Metric the standings use (default `auroc`). */
  metric?: LeaderboardMetric;
  /** Sets listed as wins and as losses (default 2 each). */
  top?: number;
}

/**
 * One note per (ID dataset, method): its group-average ranks (near, far), the OOD sets where it stands best
 * relative to the other methods and those where it stands worst (see the module documentation).
 *
 * @returns The notes in the summary's method order, per ID dataset.
 */
export function methodNotes(summary: LeaderboardSummary, opts: MethodNotesOptions = {}): MethodNote[] {
  const metric = opts.metric ?? "auroc", top = opts.top ?? 2;
  const label = LEADERBOARD_LABELS[metric].replace(/ [↑↓]$/, "");
  const key = (id: string, l: string, s: string) => JSON.stringify([id, l, s]);
  // Standings per set.
  const standings = new Map<string, SetStanding[]>();
  const ids = [...new Set(summary.perSet.map((s) => s.idDataset))];
  for (const id of ids) {
    const rows = summary.perSet.filter((s) => s.idDataset === id);
    for (const ood of new Set(rows.map((r) => r.oodDataset))) {
      const onSet = rows.filter((r) => r.oodDataset === ood);
      const ranks = rankValues(onSet.map((r) => r.metrics[metric]), BETTER[metric]);
      const of = ranks.filter((r) => r !== null).length;
      onSet.forEach((r, i) => {
        if (ranks[i] === null) return;
        const k = key(id, r.label, r.score);
        standings.set(k, [...(standings.get(k) ?? []), {
          oodDataset: ood,
          oodGroup: r.oodGroup,
          rank: ranks[i]!,
          of,
          value: r.metrics[metric]!,
        }]);
      });
    }
  }
  const notes: MethodNote[] = [];
  const seen = new Set<string>();
  for (const g of summary.groups) {
    const k = key(g.idDataset, g.label, g.score);
    if (seen.has(k)) continue;
    seen.add(k);
    const groupRank = (group: OodGroup) => {
      const block = summary.groups.filter((x) => x.idDataset === g.idDataset && x.group === group);
      const mine = block.find((x) => x.label === g.label && x.score === g.score);
      const rank = mine?.metrics[metric].rank ?? null;
      return rank === null ? null : { rank, of: block.filter((x) => x.metrics[metric].rank !== null).length };
    };
    const list = standings.get(k) ?? [];
    const q = (s: SetStanding) => (s.of > 1 ? (s.rank - 1) / (s.of - 1) : 0);
    const byBest = list.map((s, i) => ({ s, i })).sort((a, b) => q(a.s) - q(b.s) || a.i - b.i).map((x) => x.s);
    const wins = byBest.slice(0, Math.min(top, list.length));
    const losses = byBest.slice(wins.length).reverse().slice(0, top).filter((s) => q(s) > Math.max(...wins.map(q)));
    const near = groupRank("near"), far = groupRank("far");
    const fmt = (s: SetStanding) => `${s.oodDataset} (#${s.rank}/${s.of}, ${(s.value * 100).toFixed(1)})`;
    const groups = [near && `near #${near.rank}/${near.of}`, far && `far #${far.rank}/${far.of}`].filter(Boolean);
    const text =
      `- **${g.label} · ${g.score}** (${g.idDataset}; ${label}${groups.length ? `, ${groups.join(", ")}` : ""})` +
      (wins.length ? ` — best on ${wins.map(fmt).join(", ")}` : "") +
      (losses.length ? `; worst on ${losses.map(fmt).join(", ")}` : "") + ".";
    notes.push({ idDataset: g.idDataset, label: g.label, score: g.score, near, far, wins, losses, text });
  }
  return notes;
}

/** The notes as one markdown list (a displayable: `text/markdown`). */
export function methodNotesView(summary: LeaderboardSummary, opts: MethodNotesOptions = {}): Displayable {
  return markdownView(methodNotes(summary, opts).map((n) => n.text).join("\n"));
}
