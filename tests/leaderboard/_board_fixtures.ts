import type { CostRecord } from "@lib/leaderboard/cost.ts";
import type { ScoreRecord } from "@lib/leaderboard/types.ts";
import { Rng } from "@lib/data/rng.ts";
import { evaluate } from "@lib/metrics/evaluate.ts";
import type { OodGroup, ResultRow } from "@lib/report/results.ts";
import { row } from "../report/_fixtures.ts";

/** A method of the synthetic leaderboard: ID scores ~ N(shift, 1), OOD set o's ~ N(set shift − perSet[o], 1). */
export interface FakeMethod {
  label: string;
  score: string;
  paper: string;
  shift: number;
  /** Per-set advantage (the set's OOD scores moved down), so a method can win on one set and lose on another. */
  perSet?: Record<string, number>;
  idAccuracy?: number;
}

/** An OOD set of the synthetic leaderboard. */
export interface FakeSet {
  name: string;
  group: OodGroup;
  shift: number;
}

function gaussians(rng: Rng, n: number, mu: number): Float64Array {
  return Float64Array.from({ length: n }, () => {
    const u = 1 - rng.float(), v = rng.float();
    return mu + Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  });
}

/**
 * Rows (from `evaluate` on the scores, so rows and scores agree), scores and costs of a synthetic leaderboard.
 * Per seed a method's ID scores ~ N(shift, 1) are shared by its sets; set o's OOD scores are the set's draws
 * ~ N(set shift, 1) (shared by the methods) moved down by the method's perSet[o]. Training time 10·(1 + shift) + seed.
 */
export function synthetic(opts: {
  methods: readonly FakeMethod[];
  sets: readonly FakeSet[];
  seeds?: readonly number[];
  nId?: number;
  nOod?: number;
  idDataset?: string;
}): { rows: ResultRow[]; scores: ScoreRecord[]; costs: CostRecord[] } {
  const seeds = opts.seeds ?? [0, 1], nId = opts.nId ?? 200, nOod = opts.nOod ?? 100;
  const idDataset = opts.idDataset ?? "mnist";
  const rows: ResultRow[] = [], scores: ScoreRecord[] = [], costs: CostRecord[] = [];
  for (const seed of seeds) {
    const rng = new Rng(1000 + seed);
    const oodScores = Object.fromEntries(opts.sets.map((s) => [s.name, gaussians(rng, nOod, s.shift)]));
    for (const m of opts.methods) {
      const base = gaussians(rng, nId, m.shift);
      const ood: Record<string, Float64Array> = {};
      for (const s of opts.sets) {
        ood[s.name] = oodScores[s.name]!.map((v) => v - (m.perSet?.[s.name] ?? 0));
        const r = evaluate(base, ood[s.name]!);
        rows.push(row({
          paper: m.paper,
          method: m.label.toLowerCase(),
          label: m.label,
          score: m.score,
          idDataset,
          oodDataset: s.name,
          oodGroup: s.group,
          seed,
        }, {
          auroc: r.auroc,
          auprIn: r.auprIn,
          auprOut: r.auprOut,
          fpr95: r.fpr95,
          fpr95OodPositive: r.fpr95OodPositive,
          detectionError: r.detectionError,
          idAccuracy: m.idAccuracy ?? 0.9,
          nId,
          nOod,
          trainSeconds: 10 * (1 + m.shift) + seed,
          scoreSeconds: 1,
        }));
      }
      scores.push({ label: m.label, score: m.score, idDataset, seed, sets: { id: base, ood } });
    }
    for (const paper of new Set(opts.methods.map((m) => m.paper))) {
      costs.push({ paper, idDataset, seed, trainSeconds: 10 + seed, imagesSeen: 60_000, scoreSeconds: 2 });
    }
  }
  return { rows, scores, costs };
}
