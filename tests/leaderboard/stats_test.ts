import assert from "node:assert/strict";
import {
  accuracyInterval,
  bootstrapGroupAverage,
  markBest,
  normalQuantile,
  PairSweeper,
  rankValues,
  summarizeLeaderboard,
  sweepMetrics,
} from "@lib/leaderboard/stats.ts";
import { metricsFromSweep } from "@lib/metrics/evaluate.ts";
import { orientCurve, sortScores, sweepSorted } from "@lib/metrics/roc.ts";
import { auroc } from "@lib/metrics/auroc.ts";
import { fprAtTpr } from "@lib/metrics/fpr.ts";
import { row } from "../report/_fixtures.ts";
import { synthetic } from "./_board_fixtures.ts";

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} ≉ ${b}`);

Deno.test("rankValues: competition ranks, ties share a rank, both directions", () => {
  assert.deepEqual(rankValues([0.9, 0.8, 0.9, null, 0.7], "higher"), [1, 3, 1, null, 4]);
  assert.deepEqual(rankValues([0.1, 0.2, 0.1, NaN], "lower"), [1, 3, 1, null]);
  // Within the tolerance counts as a tie.
  assert.deepEqual(rankValues([0.5, 0.5 + 1e-12, 0.4], "higher"), [1, 1, 3]);
});

Deno.test("markBest: marked only when the best's CI is separated from the runner-up's", () => {
  const ci = (lower: number, upper: number) => ({ lower, upper });
  // Separated: 0.88 > 0.83.
  assert.equal(markBest([{ value: 0.8, ci: ci(0.78, 0.83) }, { value: 0.9, ci: ci(0.88, 0.92) }], "higher"), 1);
  // Overlapping: 0.82 < 0.83.
  assert.equal(markBest([{ value: 0.8, ci: ci(0.78, 0.83) }, { value: 0.9, ci: ci(0.82, 0.95) }], "higher"), -1);
  // Only the runner-up counts: the third has a wide CI, the runner-up (0.8) is separated.
  assert.equal(
    markBest([
      { value: 0.9, ci: ci(0.88, 0.92) },
      { value: 0.8, ci: ci(0.78, 0.83) },
      { value: 0.7, ci: ci(0.2, 0.95) },
    ], "higher"),
    0,
  );
  // Lower is better (FPR95): 0.12 < 0.2.
  assert.equal(markBest([{ value: 0.3, ci: ci(0.2, 0.4) }, { value: 0.1, ci: ci(0.08, 0.12) }], "lower"), 1);
  assert.equal(markBest([{ value: 0.3, ci: ci(0.2, 0.4) }, { value: 0.1, ci: ci(0.08, 0.25) }], "lower"), -1);
  // Tie at rank 1, a single method, a missing CI: never marked.
  assert.equal(markBest([{ value: 0.9, ci: ci(0.89, 0.91) }, { value: 0.9, ci: ci(0.89, 0.91) }], "higher"), -1);
  assert.equal(markBest([{ value: 0.9, ci: ci(0.89, 0.91) }], "higher"), -1);
  assert.equal(markBest([{ value: 0.9, ci: null }, { value: 0.1, ci: ci(0, 0.2) }], "higher"), -1);
});

Deno.test("bootstrapGroupAverage: hand-checked estimate, CI brackets it, reproducible with a seed", () => {
  // Set A: AUROC 5/6 (module example); set B: only 0.9 beats both OOD scores → 1/6. Group average 1/2.
  const id = [0.9, 0.8, 0.4], a = [0.5, 0.1], b = [0.95, 0.85];
  const r = bootstrapGroupAverage([{ id, ood: [a, b] }], { resamples: 300, seed: 7 });
  close(r.auroc.estimate, 0.5);
  close(r.auroc.estimate, (auroc(id, a) + auroc(id, b)) / 2);
  // FPR95, ID positive: keeping all ID needs t = 0.4 → A: 1/2 accepted, B: 2/2. OOD positive: A flags ≤ 0.5 → 1/3
  // of ID; B flags ≤ 0.95 → all ID. Averages 3/4 and 2/3.
  close(r.fpr95.estimate, 0.75);
  close(r.fpr95OodPositive.estimate, 2 / 3);
  for (const k of ["auroc", "fpr95", "fpr95OodPositive", "auprIn", "auprOut"] as const) {
    assert.ok(r[k].lower <= r[k].estimate && r[k].estimate <= r[k].upper, `${k}: ${JSON.stringify(r[k])}`);
  }
  assert.deepEqual(bootstrapGroupAverage([{ id, ood: [a, b] }], { resamples: 300, seed: 7 }), r);
  const other = bootstrapGroupAverage([{ id, ood: [a, b] }], { resamples: 300, seed: 8 });
  assert.equal(other.auroc.estimate, r.auroc.estimate);
});

Deno.test("bootstrapGroupAverage: a set paired with its own ID scores (per-set selection) uses them", () => {
  const idA = [0.9, 0.8, 0.4], idB = [0.99, 0.97, 0.96], a = [0.5, 0.1], b = [0.95, 0.85];
  const r = bootstrapGroupAverage([{ id: idA, ood: [a, b], idPerSet: [idA, idB] }], { resamples: 100, seed: 1 });
  // A against its ID: 5/6; B against idB: every ID score beats both → 1. Average 11/12.
  close(r.auroc.estimate, (auroc(idA, a) + auroc(idB, b)) / 2);
  close(r.auroc.estimate, 11 / 12);
  assert.ok(r.auroc.lower <= r.auroc.estimate && r.auroc.estimate <= r.auroc.upper);
  // Without idPerSet the shared ID gives the other number (1/2).
  close(bootstrapGroupAverage([{ id: idA, ood: [a, b] }], { resamples: 10 }).auroc.estimate, 0.5);
});

Deno.test("bootstrapGroupAverage: both FPR95 definitions match the metric functions and differ", () => {
  const { scores } = synthetic({
    methods: [{ label: "A", score: "msp", paper: "p", shift: 1.5 }],
    sets: [{ name: "x", group: "far", shift: 0 }, { name: "y", group: "far", shift: 0.5 }],
    seeds: [0, 1],
  });
  const seeds = scores.map((s) => ({ id: s.sets.id, ood: [s.sets.ood.x!, s.sets.ood.y!] }));
  const r = bootstrapGroupAverage(seeds, { resamples: 50 });
  const avg = (f: (id: ArrayLike<number>, ood: ArrayLike<number>) => number) =>
    seeds.reduce((s, x) => s + (f(x.id, x.ood[0]!) + f(x.id, x.ood[1]!)) / 2, 0) / seeds.length;
  close(r.fpr95.estimate, avg((i, o) => fprAtTpr(i, o)));
  close(r.fpr95OodPositive.estimate, avg((i, o) => fprAtTpr(i, o, { positive: "ood" })));
  assert.ok(Math.abs(r.fpr95.estimate - r.fpr95OodPositive.estimate) > 1e-3);
  // The hendrycks rule is used when asked.
  const h = bootstrapGroupAverage(seeds, { resamples: 10, fprRule: "hendrycks" });
  close(h.fpr95.estimate, avg((i, o) => fprAtTpr(i, o, { rule: "hendrycks" })));
});

Deno.test("bootstrapGroupAverage: the CI narrows with more samples", () => {
  const width = (n: number) => {
    const { scores } = synthetic({
      methods: [{ label: "A", score: "msp", paper: "p", shift: 1 }],
      sets: [{ name: "x", group: "far", shift: 0 }],
      seeds: [0],
      nId: n,
      nOod: n,
    });
    const r = bootstrapGroupAverage([{ id: scores[0]!.sets.id, ood: [scores[0]!.sets.ood.x!] }], {
      resamples: 200,
    });
    return r.auroc.upper - r.auroc.lower;
  };
  const small = width(50), large = width(800);
  // The standard error scales as 1/√n: 16× the samples → about 1/4 the width.
  assert.ok(large < small / 2.5, `width n=50: ${small}, n=800: ${large}`);
});

Deno.test("normalQuantile and accuracyInterval: Wald interval by hand", () => {
  close(normalQuantile(0.975), 1.959963984540054, 1e-8);
  close(normalQuantile(0.5), 0, 1e-12);
  // Two seeds, a = 0.9, n = 100: se = √(2·0.09/100)/2 = 0.0670820…; ± 1.96·se.
  const ci = accuracyInterval([{ accuracy: 0.9, n: 100 }, { accuracy: 0.9, n: 100 }])!;
  close(ci.lower, 0.9 - 1.959963984540054 * Math.sqrt(0.0018) / 2, 1e-8);
  close(ci.upper, 0.9 + 1.959963984540054 * Math.sqrt(0.0018) / 2, 1e-8);
  assert.equal(accuracyInterval([]), null);
});

Deno.test("summarizeLeaderboard: group averages over sets then seeds, mean ± std, ranks, FPR rule chosen", () => {
  // Method A: near set u (0.8, 0.9 over seeds 0, 1); far sets x, y: seed 0 (0.9, 0.7) → 0.8, seed 1 (1.0, 0.8) → 0.9.
  // Method B: near 0.8 both seeds; far 0.8 both seeds. A hendrycks row of A with other numbers must be ignored.
  const r = (
    label: string,
    oodDataset: string,
    oodGroup: "near" | "far",
    seed: number,
    a: number,
    fprRule = "sklearn",
  ) =>
    row({ label, score: "msp", oodDataset, oodGroup, seed, fprRule }, {
      auroc: a,
      fpr95: 1 - a,
      idAccuracy: label === "A" ? 0.95 : 0.9,
    });
  const rows = [
    r("A", "u", "near", 0, 0.8),
    r("A", "u", "near", 1, 0.9),
    r("A", "x", "far", 0, 0.9),
    r("A", "y", "far", 0, 0.7),
    r("A", "x", "far", 1, 1.0),
    r("A", "y", "far", 1, 0.8),
    r("A", "x", "far", 1, 0.1, "hendrycks"),
    r("B", "u", "near", 0, 0.8),
    r("B", "u", "near", 1, 0.8),
    r("B", "x", "far", 0, 0.8),
    r("B", "x", "far", 1, 0.8),
  ];
  const s = summarizeLeaderboard(rows, [], { resamples: 0 });
  assert.deepEqual(s.groups.map((g) => `${g.group}:${g.label}`), ["near:A", "near:B", "far:A", "far:B"]);
  const farA = s.groups[2]!.metrics.auroc;
  close(farA.mean!, 0.85);
  close(farA.std!, Math.SQRT1_2 / 10);
  assert.deepEqual(farA.perSeed.map((v) => Math.round(v * 100) / 100), [0.8, 0.9]);
  assert.equal(farA.rank, 1);
  assert.equal(s.groups[3]!.metrics.auroc.rank, 2);
  assert.equal(s.groups[2]!.fprRule, "sklearn");
  // FPR95 lower is better: A 0.15 → rank 1. Near: A 0.85 vs B 0.8.
  assert.equal(s.groups[2]!.metrics.fpr95.rank, 1);
  assert.equal(s.groups[0]!.metrics.auroc.rank, 1);
  // No scores, no CI, nothing marked. ID accuracy still gets its Wald CI: 0.95 vs 0.9 on n = 10 images overlap.
  assert.equal(farA.ci, null);
  assert.equal(farA.best, false);
  const acc = s.groups[2]!.metrics.idAccuracy;
  assert.ok(acc.ci !== null && acc.ci.lower < 0.9 && acc.rank === 1 && !acc.best);
  // Per set, near first.
  assert.deepEqual(s.perSet.filter((p) => p.label === "A").map((p) => p.oodDataset), ["u", "x", "y"]);
  close(s.perSet.find((p) => p.label === "A" && p.oodDataset === "x")!.metrics.auroc!, 0.95);
  // The other rule when asked.
  const h = summarizeLeaderboard(rows, [], { resamples: 0, fprRule: "hendrycks" });
  assert.deepEqual(h.groups.map((g) => `${g.group}:${g.label}`), ["far:A"]);
});

Deno.test("summarizeLeaderboard: bootstrap CIs from scores; best marked only when separated", () => {
  const sets = [
    { name: "mnist:unseen", group: "near" as const, shift: 0.5 },
    { name: "noise", group: "far" as const, shift: 0 },
    { name: "kmnist", group: "far" as const, shift: 0.3 },
  ];
  // Far: Strong ≫ Twin1 ≈ Twin2 → Strong marked on AUROC; near: Twin1 vs Twin2 only (Strong has no near rows).
  const { rows, scores } = synthetic({
    methods: [
      { label: "Strong", score: "knn", paper: "p1", shift: 3 },
      { label: "Twin1", score: "msp", paper: "p2", shift: 1 },
      { label: "Twin2", score: "energy", paper: "p2", shift: 1.02 },
    ],
    sets,
    seeds: [0, 1],
    nId: 300,
    nOod: 150,
  });
  const kept = rows.filter((r) => !(r.label === "Strong" && r.oodGroup === "near"));
  const s = summarizeLeaderboard(kept, scores, { resamples: 200, seed: 3 });
  for (const g of s.groups) {
    assert.ok(g.bootstrapped);
    for (const m of ["auroc", "fpr95", "fpr95OodPositive", "auprIn", "auprOut"] as const) {
      const st = g.metrics[m];
      assert.ok(st.ci!.lower <= st.mean! + 1e-12 && st.mean! <= st.ci!.upper + 1e-12, `${g.label} ${m}`);
    }
  }
  const far = s.groups.filter((g) => g.group === "far");
  const strong = far.find((g) => g.label === "Strong")!;
  assert.equal(strong.metrics.auroc.rank, 1);
  assert.equal(strong.metrics.auroc.best, true);
  assert.equal(strong.metrics.fpr95.best, true);
  const near = s.groups.filter((g) => g.group === "near");
  assert.equal(near.length, 2);
  assert.ok(near.every((g) => !g.metrics.auroc.best), "overlapping twins: no best mark");
  // Reproducible.
  assert.deepEqual(summarizeLeaderboard(kept, scores, { resamples: 200, seed: 3 }), s);
  // A method whose scores are missing gets no score CI.
  const partial = summarizeLeaderboard(kept, scores.filter((x) => x.label !== "Twin2"), { resamples: 20 });
  assert.ok(partial.groups.filter((g) => g.label === "Twin2").every((g) => !g.bootstrapped && !g.metrics.auroc.ci));
});

Deno.test("PairSweeper: equals sweepSorted and orientCurve, with ties and zero weights", () => {
  const sorted = sortScores([0.9, 0.5, 0.5, 0.2, 0.7], [0.5, 0.1, 0.7, 0.7, 0.3, 0.95]);
  const sweeper = new PairSweeper(sorted);
  const plain = (x: { thresholds: Float64Array; tp: Float64Array; fp: Float64Array; nId: number; nOod: number }) => ({
    thresholds: [...x.thresholds],
    tp: [...x.tp],
    fp: [...x.fp],
    nId: x.nId,
    nOod: x.nOod,
  });
  assert.deepEqual(plain(sweeper.sweep()), plain(sweepSorted(sorted)));
  // Weights with zeros on tied scores: the 0.5 threshold keeps only OOD weight, 0.7 none of the ID.
  const id = Float64Array.of(2, 0, 0, 1, 0), ood = Float64Array.of(0, 3, 1, 0, 1, 0);
  const ref = sweepSorted(sorted, { id, ood });
  const got = sweeper.sweep(id, ood);
  assert.deepEqual(plain(got), plain(ref));
  const oc = sweeper.oodCurve(got), rc = orientCurve(ref, "ood");
  assert.deepEqual([[...oc.pos], [...oc.neg], oc.nPos, oc.nNeg], [[...rc.pos], [...rc.neg], rc.nPos, rc.nNeg]);
  // The metrics match evaluate's.
  const m = sweepMetrics(got, { fprRule: "hendrycks" }, oc), e = metricsFromSweep(ref, { fprRule: "hendrycks" });
  for (const k of ["auroc", "fpr95", "fpr95OodPositive", "auprIn", "auprOut"] as const) close(m[k], e[k]);
});
