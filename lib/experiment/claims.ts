/**
 * Claims and deviations as data (conventions C13): a claim compares two groups of result rows on one metric —
 * the per-seed average over OOD sets, its mean and sample std over seeds, and how many paired seeds agree; a
 * deviation says what the paper (or its code) does and what this run does. Both render with shared views.
 * @module
 */
import type { ResultRow, Variant } from "../report/results.ts";
import type { MetricColumn } from "../report/results.ts";
import { formatNumber, METRIC_INFO } from "../report/table.ts";
import { Table } from "../report/html_table.ts";
import { type Displayable, markdownView } from "../report/jupyter.ts";

/** Which rows a side of a claim takes. `score` may list several scores: the best of them (by mean) is used. */
export interface RowFilter {
  method: string;
  /** Default: any variant (a variant-free method has `none`). */
  variant?: Variant;
  /** A score key, or several of which the best is taken; default: each score both sides share (one check each). */
  score?: string | readonly string[];
}

/** A claim of a paper, checked on the rows of a run. */
export interface ClaimSpec {
  /** Short id. */
  id: string;
  /** The claim in words, e.g. "UM lowers FPR95 of the pretrained model". */
  text: string;
  /** The baseline. */
  before: RowFilter;
  /** The paper's method. */
  after: RowFilter;
  /** Metric compared; its better direction comes from `METRIC_INFO`. */
  metric: MetricColumn;
  /** Only rows with this FPR rule; default: the first rule in the rows. */
  fprRule?: string;
}

/** One checked claim for one setting (ID dataset · backbone) and score. */
export interface ClaimResult {
  id: string;
  text: string;
  setting: string;
  metric: MetricColumn;
  /** Display label of the baseline side (label + score). */
  before: string;
  after: string;
  beforeMean: number;
  beforeStd: number | null;
  afterMean: number;
  afterStd: number | null;
  /** after − before. */
  delta: number;
  /** The claim holds on the means. */
  holds: boolean;
  /** Paired seeds on which `after` is better, and seeds compared. */
  seedsAgree: number;
  seeds: number;
  /** |delta| is below the sum of the two stds (null with a single seed). */
  withinNoise: boolean | null;
}

const mean = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const std = (v: readonly number[]) =>
  v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean(v)) ** 2, 0) / (v.length - 1)) : null;

/** seed → mean of `metric` over the OOD sets, for the rows of one side and score. */
function perSeed(rows: readonly ResultRow[], metric: MetricColumn): Map<number, number> {
  const by = new Map<number, number[]>();
  for (const r of rows) {
    const v = r[metric];
    if (v === null) continue;
    by.set(r.seed, [...(by.get(r.seed) ?? []), v]);
  }
  return new Map([...by].map(([s, v]) => [s, mean(v)]));
}

function matches(r: ResultRow, f: RowFilter): boolean {
  return r.method === f.method && (f.variant === undefined || r.variant === f.variant);
}

/**
 * Evaluates each claim on `rows`, per setting (ID dataset · backbone) and score. With `score` unset on both sides,
 * one result per score the two sides share; with a list, the best-mean score of the list.
 * @example Usage
 * ```ts ignore
 * evaluateClaims(rows, [{ id: "um", text: "UM lowers FPR95", before: { method: "ce" }, after: { method: "um" }, metric: "fpr95" }]);
 * ```
 */
export function evaluateClaims(rows: readonly ResultRow[], claims: readonly ClaimSpec[]): ClaimResult[] {
  const out: ClaimResult[] = [];
  const settings = [...new Set(rows.map((r) => `${r.idDataset} · ${r.backbone}`))];
  for (const claim of claims) {
    const higher = METRIC_INFO[claim.metric].better === "higher";
    const better = (a: number, b: number) => higher ? a > b : a < b;
    const rule = claim.fprRule ?? rows[0]?.fprRule;
    for (const setting of settings) {
      const mine = rows.filter((r) => `${r.idDataset} · ${r.backbone}` === setting && r.fprRule === rule);
      const side = (f: RowFilter, score: string) => mine.filter((r) => matches(r, f) && r.score === score);
      const scoresOf = (f: RowFilter) => [...new Set(mine.filter((r) => matches(r, f)).map((r) => r.score))];
      /** The side's score(s): the best-mean one of a list, the one given, or each shared score. */
      const pick = (f: RowFilter, shared: string): string | null => {
        if (f.score === undefined) return shared;
        const list = typeof f.score === "string" ? [f.score] : f.score;
        const avail = list.filter((s) => side(f, s).length > 0);
        const m = (s: string) => mean([...perSeed(side(f, s), claim.metric).values()]);
        return avail.sort((a, b) => better(m(a), m(b)) ? -1 : better(m(b), m(a)) ? 1 : 0)[0] ?? null;
      };
      const shared = claim.before.score === undefined && claim.after.score === undefined
        ? scoresOf(claim.after).filter((s) => scoresOf(claim.before).includes(s))
        : [""];
      for (const s of shared) {
        const bs = pick(claim.before, s), as = pick(claim.after, s);
        if (bs === null || as === null) continue;
        const b = perSeed(side(claim.before, bs), claim.metric), a = perSeed(side(claim.after, as), claim.metric);
        const seeds = [...b.keys()].filter((k) => a.has(k));
        if (seeds.length === 0) continue;
        const fb = seeds.map((k) => b.get(k)!), fa = seeds.map((k) => a.get(k)!);
        const label = (f: RowFilter, score: string) => {
          const r = mine.find((x) => matches(x, f) && x.score === score)!;
          return `${r.label} + ${score}`;
        };
        const [mb, ma, sb, sa] = [mean(fb), mean(fa), std(fb), std(fa)];
        out.push({
          id: claim.id,
          text: claim.text,
          setting,
          metric: claim.metric,
          before: label(claim.before, bs),
          after: label(claim.after, as),
          beforeMean: mb,
          beforeStd: sb,
          afterMean: ma,
          afterStd: sa,
          delta: ma - mb,
          holds: better(ma, mb),
          seedsAgree: seeds.filter((_, i) => better(fa[i]!, fb[i]!)).length,
          seeds: seeds.length,
          withinNoise: sb === null || sa === null ? null : Math.abs(ma - mb) < sb + sa,
        });
      }
    }
  }
  return out;
}

function noiseNote(c: ClaimResult): string {
  return c.withinNoise === null ? " (single seed)" : c.withinNoise ? " (within seed noise)" : "";
}

/** The claims check as a table: one line per claim, setting and score, with the seeds that agree. */
export function claimsTable(results: readonly ClaimResult[], opts: { caption?: string } = {}): Table {
  const f = (v: number, s: number | null) => formatNumber(v) + (s === null ? "" : ` ± ${formatNumber(s)}`);
  return new Table(
    [
      { key: "setting", label: "Setting", kind: "key" },
      { key: "text", label: "Claim", kind: "key" },
      { key: "after", label: "Method", kind: "key" },
      { key: "before", label: "Baseline", kind: "key" },
      { key: "metric", label: "Metric", kind: "key" },
      { key: "afterMean", label: "Method %" },
      { key: "beforeMean", label: "Baseline %" },
      { key: "answer", label: "Holds here?", kind: "key" },
      { key: "agree", label: "Seeds agreeing" },
    ],
    results.map((c) => ({
      setting: c.setting,
      text: c.text,
      after: c.after,
      before: c.before,
      metric: METRIC_INFO[c.metric].label,
      afterMean: f(c.afterMean, c.afterStd),
      beforeMean: f(c.beforeMean, c.beforeStd),
      answer: { text: `${c.holds ? "yes" : "no"}${noiseNote(c)}`, best: c.holds },
      agree: `${c.seedsAgree}/${c.seeds}`,
    })),
    {
      caption: opts.caption ?? "Claims check (average over OOD sets)",
      notes: [
        '×100; mean ± sample std over seeds of the per-seed average over OOD sets. "within seed noise": the ' +
        'difference is smaller than the sum of the two stds; "single seed": no spread to judge it by. Seeds ' +
        "agreeing: paired seeds on which the method is better. A profile with one or two seeds and small data " +
        "cannot confirm or refute the paper's claim; it checks that the pipeline runs.",
      ],
    },
  );
}

/** The claims check as one markdown sentence per result. */
export function claimsMarkdown(results: readonly ClaimResult[]): Displayable {
  const lines = results.map((c) =>
    `- **${c.setting}: ${c.text} (${c.after} vs ${c.before})? ${c.holds ? "Yes" : "No"}**${noiseNote(c)} — ` +
    `${METRIC_INFO[c.metric].label} ${formatNumber(c.afterMean)} % vs ${formatNumber(c.beforeMean)} %; ` +
    `better on ${c.seedsAgree} of ${c.seeds} seeds.`
  );
  return markdownView(lines.join("\n") || "_No runs to check the claims on._");
}

/** A deviation of a run from the paper or its code. */
export interface Deviation {
  /** Short id. */
  id: string;
  /** What the paper or the authors' code does (with the file where it matters). */
  paper: string;
  /** What this run does. */
  ours: string;
  /** The variant it concerns; default both / not variant-specific. */
  variant?: Variant;
}

/** Deviations as a table (id, paper, ours, variant). */
export function deviationsView(list: readonly Deviation[], opts: { caption?: string } = {}): Table {
  return new Table(
    [
      { key: "id", label: "", kind: "key" },
      { key: "paper", label: "Paper / reference code", kind: "key" },
      { key: "ours", label: "This run", kind: "key" },
      { key: "variant", label: "Variant", kind: "key" },
    ],
    list.map((d) => ({ id: d.id, paper: d.paper, ours: d.ours, variant: d.variant ?? "all" })),
    { caption: opts.caption ?? "Deviations from the paper" },
  );
}
