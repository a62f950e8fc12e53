import assert from "node:assert/strict";
import { costTable, formatCount, formatSeconds, summarizeCosts } from "@lib/leaderboard/cost.ts";
import { methodNotes, methodNotesView } from "@lib/leaderboard/notes.ts";
import { summarizeLeaderboard } from "@lib/leaderboard/stats.ts";
import { leaderboardTable, leaderboardTables } from "@lib/leaderboard/table.ts";
import { aurocHeatmap, paretoFront, paretoPlot, paretoPoints } from "@lib/leaderboard/views.ts";
import { bundleOf } from "@lib/report/jupyter.ts";
import { row } from "../report/_fixtures.ts";
import { synthetic } from "./_board_fixtures.ts";

const SETS = [
  { name: "mnist:unseen", group: "near" as const, shift: 0.5 },
  { name: "noise", group: "far" as const, shift: 0 },
  { name: "kmnist", group: "far" as const, shift: 0.3 },
];

function board() {
  return synthetic({
    methods: [
      { label: "Strong", score: "knn", paper: "cider", shift: 3 },
      { label: "CE", score: "msp", paper: "baselines", shift: 1, perSet: { kmnist: 3 } },
      { label: "CE", score: "energy", paper: "baselines", shift: 1.02 },
    ],
    sets: SETS,
    seeds: [0, 1],
    nId: 200,
    nOod: 100,
  });
}

Deno.test("leaderboardTable: compact cells, ranks, best marked, notes; no NaN", () => {
  const { rows, scores } = board();
  const s = summarizeLeaderboard(rows, scores, { resamples: 100 });
  const t = leaderboardTable(s, "mnist", "far");
  assert.deepEqual(t.columns.map((c) => c.label), [
    "Method",
    "Score",
    "AUROC ↑",
    "FPR95 (ID+) ↓",
    "FPR95 (OOD+) ↓",
    "AUPR-In ↑",
    "AUPR-Out ↑",
    "ID acc. ↑",
  ]);
  assert.equal(t.options.caption, "mnist — far-OOD (noise, kmnist)");
  // Sorted by AUROC rank: Strong first, its AUROC cell "mean ± std [lo, hi] #1" and marked best.
  assert.equal(t.cell(0, "label").text, "Strong");
  const cell = t.cell(0, "auroc");
  assert.match(cell.text, /^\d+\.\d ± \d+\.\d \[\d+\.\d, \d+\.\d\] #1$/);
  assert.equal(cell.best, true);
  assert.match(cell.title!, /95 % CI \[.*\]; rank 1 of 3; 2 of 2 seed\(s\)/);
  // All three share ID accuracy 0.9 → rank 1 each, nothing marked.
  assert.deepEqual([0, 1, 2].map((i) => t.cell(i, "idAccuracy").text.endsWith("#1")), [true, true, true]);
  assert.ok([0, 1, 2].every((i) => !t.cell(i, "idAccuracy").best));
  const html = t.toHTML(), text = t.toText();
  assert.ok(!/NaN|undefined/.test(html + text));
  assert.match(html, /<strong>/);
  assert.match(text, /#1\*/);
  assert.match(text, /does not overlap the runner-up/);
  assert.match(text, /100 replicates/);
  assert.match(text, /2 seed\(s\)/);
  // Plain form: only mean ± std in the text.
  assert.match(leaderboardTable(s, "mnist", "far", { compact: false }).cell(0, "auroc").text, /^\d+\.\d ± \d+\.\d$/);
  assert.deepEqual(leaderboardTables(s).map((x) => `${x.idDataset}/${x.group}`), ["mnist/near", "mnist/far"]);
  assert.throws(() => leaderboardTable(s, "cifar10", "far"), /no far-OOD rows/);
});

Deno.test("leaderboardTable: a missing metric shows — and no CI", () => {
  const rows = [row({ label: "A", score: "msp", oodDataset: "x", seed: 0 }, { auroc: 0.9 })];
  const t = leaderboardTable(summarizeLeaderboard(rows, [], { resamples: 0 }), "mnist", "far");
  assert.equal(t.cell(0, "auroc").text, "90.0 #1");
  assert.equal(t.cell(0, "fpr95").text, "—");
  assert.ok(!/NaN/.test(t.toHTML()));
  assert.match(t.toText(), /No score-metric CI/);
});

Deno.test("costTable: mean ± std over seeds per paper, formatted", () => {
  const costs = [
    { paper: "cider", idDataset: "mnist", seed: 0, trainSeconds: 10, imagesSeen: 120_000, scoreSeconds: 1 },
    { paper: "cider", idDataset: "mnist", seed: 1, trainSeconds: 20, imagesSeen: 120_000, scoreSeconds: 3 },
    { paper: "baselines", idDataset: "mnist", seed: 0, trainSeconds: 90, imagesSeen: 2_400_000, scoreSeconds: 5 },
  ];
  const s = summarizeCosts(costs);
  assert.equal(s[0]!.trainSeconds.mean, 15);
  assert.ok(Math.abs(s[0]!.trainSeconds.std! - Math.sqrt(50)) < 1e-12);
  assert.equal(s[1]!.trainSeconds.std, null);
  const t = costTable(costs);
  assert.equal(t.cell(0, "train").text, "15.0 s ± 7.07 s");
  assert.equal(t.cell(0, "images").text, "120 000 ± 0");
  assert.equal(t.cell(1, "train").text, "1.5 min");
  assert.equal(t.cell(1, "images").text, "2.40 M");
  assert.equal(formatSeconds(7200), "2.00 h");
  assert.equal(formatCount(null), "—");
  assert.ok(!/NaN/.test(t.toHTML()));
});

Deno.test("paretoFront and paretoPoints: the cheapest-to-best staircase", () => {
  // (1, .8) and (3, .9) are on the front; (2, .7) is dominated by (1, .8); ties both on it.
  assert.deepEqual(paretoFront([{ x: 1, y: 0.8 }, { x: 2, y: 0.7 }, { x: 3, y: 0.9 }]), [true, false, true]);
  assert.deepEqual(paretoFront([{ x: 1, y: 0.8 }, { x: 1, y: 0.8 }, { x: NaN, y: 1 }]), [true, true, false]);
  const { rows, scores, costs } = board();
  const s = summarizeLeaderboard(rows, scores, { resamples: 0 });
  // Training time from the rows: 10·(1 + shift) + seed, mean over seeds 0, 1 → Strong 40.5, CE·msp 20.5, energy 20.7.
  const p = paretoPoints(s, costs);
  assert.deepEqual(p.map((x) => [x.name, Math.round(x.trainSeconds * 10) / 10]), [
    ["Strong · knn", 40.5],
    ["CE · msp", 20.5],
    ["CE · energy", 20.7],
  ]);
  assert.equal(p[0]!.front, true);
  assert.equal(p[1]!.front, true);
  // From the costs: the paper's mean (10.5 s for every method here).
  assert.ok(paretoPoints(s, costs, { time: "costs" }).every((x) => x.trainSeconds === 10.5));
});

Deno.test("paretoPlot and aurocHeatmap render SVG with values and no NaN", () => {
  const { rows, scores, costs } = board();
  const s = summarizeLeaderboard(rows, scores, { resamples: 0 });
  const fig = paretoPlot(s, costs, { group: "near" });
  assert.match(fig.html, /<svg/);
  assert.match(fig.html, /Strong · knn/);
  assert.match(fig.html, /<path/); // the step line
  assert.ok(!/NaN|undefined/.test(fig.html));
  assert.match(String(bundleOf(fig)["text/html"]), /<svg/);
  const heat = aurocHeatmap(s);
  assert.match(heat.html, /<svg/);
  assert.ok(!/NaN|undefined/.test(heat.html));
  // Printed values: the per-set mean AUROC of Strong on noise, ×100, one decimal.
  const v = s.perSet.find((x) => x.label === "Strong" && x.oodDataset === "noise")!.metrics.auroc! * 100;
  assert.ok(heat.html.includes(`>${v.toFixed(1)}<`), `value ${v.toFixed(1)} printed`);
  // Near set first on the x axis.
  assert.ok(heat.html.indexOf("mnist:unseen") < heat.html.indexOf(">noise<"));
  assert.ok((heat.html.match(/<rect/g) ?? []).length >= 9);
});

Deno.test("methodNotes: wins and losses from the per-set ranks", () => {
  const { rows, scores } = board();
  const s = summarizeLeaderboard(rows, scores, { resamples: 0 });
  const notes = methodNotes(s, { top: 1 });
  assert.equal(notes.length, 3);
  const strong = notes.find((n) => n.label === "Strong")!;
  assert.equal(strong.wins[0]!.rank, 1);
  assert.deepEqual(strong.far, { rank: 1, of: 3 });
  // CE · msp has a large advantage on kmnist only (it beats Strong there): its best set; its worst is another.
  const msp = notes.find((n) => n.score === "msp")!;
  assert.equal(msp.wins[0]!.oodDataset, "kmnist");
  assert.notEqual(msp.losses[0]?.oodDataset, "kmnist");
  assert.match(msp.text, /^- \*\*CE · msp\*\* \(mnist; AUROC, near #\d\/3, far #\d\/3\) — best on kmnist \(#\d\/3, /);
  assert.ok(notes.every((n) => !/NaN|undefined/.test(n.text)));
  assert.match(String(bundleOf(methodNotesView(s))["text/markdown"]), /Strong · knn/);
});
