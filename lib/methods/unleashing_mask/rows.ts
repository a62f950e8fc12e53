/**
 * Score values → tidy result rows (conventions C13), and the claims check: does UM lower FPR95 compared with the
 * same model without it, for each score?
 * @module
 */
import { evaluate, type FprRule } from "../../metrics/mod.ts";
import { type ResultRow, resultRow } from "../../report/results.ts";
import type { Variant } from "./config.ts";
import type { ModelScores } from "./scores.ts";

/** The paper id of this notebook's result rows (= `lib/report/paper_numbers/unleashing_mask.json`). */
export const UM_PAPER = "unleashing_mask";

/** What the rows of one model are about. */
export interface ModelKey {
  method: string;
  backbone: string;
  idDataset: string;
  seed: number;
  /** How the pretrained checkpoint was chosen (`best-test` for UM's CIFAR-100 `_best` model). */
  selection?: "last" | "best-test";
}

/**
 * The rows of one variant as stored next to the primary variant's: their `method` gets the variant in
 * parentheses (`UM` → `UM (clean)`), so one results file holds both and the variants stay apart.
 */
export function labelVariant(rows: readonly ResultRow[], variant: Variant): ResultRow[] {
  return rows.map((r) => ({ ...r, method: `${r.method} (${variant})` }));
}

/**
 * One row per score and OOD set: every metric of `evaluate` (FPR95 with `fprRule`, AUROC, AUPR-In = UM's "AUPR"
 * (average precision, ID positive), …) and the model's ID test accuracy.
 */
export function modelRows(
  key: ModelKey,
  scores: ModelScores,
  opts: { fprRule: FprRule; idClassification: { labels: ArrayLike<number>; predictions: ArrayLike<number> } },
): ResultRow[] {
  const rows: ResultRow[] = [];
  for (const [score, sets] of Object.entries(scores)) {
    if (!sets) continue;
    for (const [oodDataset, ood] of Object.entries(sets.ood)) {
      const r = evaluate(sets.id, ood, { fprRule: opts.fprRule, idClassification: opts.idClassification });
      rows.push(resultRow({ paper: UM_PAPER, ...key, score, oodDataset }, r));
    }
  }
  return rows;
}

/** A comparison the claims check makes: `after` is `before` plus UM. */
export interface ClaimPair {
  before: string;
  after: string;
}

/** UM vs the pretrained model, UMAP vs the pretrained model, OE+UM vs OE, and UM vs the CE fine-tuning control. */
export const CLAIM_PAIRS: readonly ClaimPair[] = [
  { before: "CE", after: "UM" },
  { before: "CE", after: "UMAP" },
  { before: "OE", after: "OE+UM" },
  { before: "CE-FT", after: "UM" },
];

/** One line of the claims check. */
export interface ClaimRow {
  score: string;
  before: string;
  after: string;
  /** FPR95 averaged over the OOD sets, mean and sample std over seeds. */
  fprBefore: number;
  fprBeforeStd: number | null;
  fprAfter: number;
  fprAfterStd: number | null;
  /** after − before (negative = UM helps). */
  delta: number;
  /** The claim holds: mean FPR95 with UM is lower. */
  improved: boolean;
  /** Seeds where FPR95 went down (paired by seed), and seeds compared. */
  seedsImproved: number;
  seeds: number;
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const std = (v: number[]) =>
  v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean(v)) ** 2, 0) / (v.length - 1)) : null;

/**
 * For each score and pair present in `rows`: FPR95 averaged over OOD sets per seed, compared by seed.
 * `improved` is mean(after) < mean(before); `seedsImproved` counts seeds where after < before.
 * @example Usage
 * ```ts ignore
 * claimsCheck(rows).filter((c) => c.before === "CE" && c.after === "UM");
 * ```
 */
export function claimsCheck(rows: readonly ResultRow[], pairs: readonly ClaimPair[] = CLAIM_PAIRS): ClaimRow[] {
  const perSeed = new Map<string, Map<number, number[]>>();
  for (const r of rows) {
    if (r.fpr95 === null) continue;
    const k = `${r.method}|${r.score}`;
    const bySeed = perSeed.get(k) ?? new Map<number, number[]>();
    bySeed.set(r.seed, [...(bySeed.get(r.seed) ?? []), r.fpr95]);
    perSeed.set(k, bySeed);
  }
  const scores = [...new Set(rows.map((r) => r.score))];
  const out: ClaimRow[] = [];
  for (const { before, after } of pairs) {
    for (const score of scores) {
      const b = perSeed.get(`${before}|${score}`), a = perSeed.get(`${after}|${score}`);
      if (!b || !a) continue;
      const seeds = [...b.keys()].filter((s) => a.has(s));
      if (seeds.length === 0) continue;
      const fb = seeds.map((s) => mean(b.get(s)!)), fa = seeds.map((s) => mean(a.get(s)!));
      out.push({
        score,
        before,
        after,
        fprBefore: mean(fb),
        fprBeforeStd: std(fb),
        fprAfter: mean(fa),
        fprAfterStd: std(fa),
        delta: mean(fa) - mean(fb),
        improved: mean(fa) < mean(fb),
        seedsImproved: seeds.filter((_, i) => fa[i]! < fb[i]!).length,
        seeds: seeds.length,
      });
    }
  }
  return out;
}
