/**
 * Displays of the Unleashing Mask notebook: the loss-constraint estimate, the pretraining curve against the UM
 * level (with OOD detection along the run), the fine-tuning curves, the Mahalanobis tuning, the claims check and
 * the run times. All return `Symbol.for("Jupyter.display")` objects (conventions C14).
 * @module
 */
import * as Plot from "@observablehq/plot";
import pl from "nodejs-polars";
import { type Column, Table } from "../../report/html_table.ts";
import { type Displayable, htmlView, markdownView } from "../../report/jupyter.ts";
import { type Figure, figure, plotFigure } from "../../report/plot.ts";
import { AVERAGE, formatNumber, metricTable } from "../../report/table.ts";
import type { ClaimRow } from "./rows.ts";
import type { Variant } from "./config.ts";
import type { Quirk } from "./notes.ts";
import type { SeedRun } from "./run.ts";

const pct = (v: number | null | undefined, digits = 2) => formatNumber(v ?? null, 100, digits);
const num = (v: number | null | undefined, digits = 4) => v == null || !Number.isFinite(v) ? "—" : v.toFixed(digits);

/** The loss-constraint estimate of every seed: each random mask's mean CE, their mean ± std, and the UM used. */
export function estimateTable(runs: readonly SeedRun[]): Table {
  const columns: Column[] = [
    { key: "seed", label: "Seed", kind: "key" },
    { key: "draws", label: "Mean CE per random mask", kind: "key" },
    { key: "mean", label: "Mean ± std" },
    { key: "acc", label: "Train acc. (masked) %" },
    { key: "unmasked", label: "Unmasked CE" },
    { key: "used", label: "UM used" },
    { key: "how", label: "How", kind: "key" },
  ];
  const rows = runs.map((r) => ({
    seed: String(r.seed),
    draws: r.estimate.draws.map((d) => d.toFixed(4)).join(", "),
    mean: `${num(r.estimate.mean)} ± ${num(r.estimate.std)}`,
    acc: pct(r.estimate.accuracies.reduce((a, b) => a + b, 0) / r.estimate.accuracies.length),
    unmasked: num(r.estimate.unmasked),
    used: num(r.constraint.value),
    how: r.constraint.how,
  }));
  const first = runs[0]?.estimate;
  return new Table(columns, rows, {
    caption: "Loss constraint UM (estimate_loss.py)",
    notes: [
      `Each random mask keeps ${first?.keepRate ?? "?"} of every conv/dense layer's weights; CE is the mean over ` +
      `${first?.images ?? "?"} training images in inference mode. std: sample std over masks.`,
    ],
  });
}

/**
 * The pretraining run against the UM level: training loss (training mode, with augmentation) and inference-mode
 * training loss per epoch, with horizontal rules at the UM value used; and, beside it, OOD detection of the model
 * at each epoch (FPR95 of Energy and MSP averaged over the OOD sets, ID test accuracy) — the paper's observation
 * that an intermediate stage of training detects OOD better than the final one.
 */
export function pretrainFigure(run: SeedRun): Figure {
  const h = run.pretrain.history;
  const loss = h.flatMap((p) => [
    { epoch: p.epoch, value: p.loss, curve: "train loss (training mode)" },
    { epoch: p.epoch, value: p.trainLossEval, curve: "train loss (inference mode)" },
  ]);
  const ood = h.flatMap((p) => [
    { epoch: p.epoch, value: p.energyFpr95, curve: "Energy FPR95" },
    { epoch: p.epoch, value: p.mspFpr95, curve: "MSP FPR95" },
    { epoch: p.epoch, value: p.testAcc, curve: "ID test accuracy" },
  ]);
  const um = run.constraint.value;
  const left = plotFigure({
    title: `Pretraining loss vs UM = ${um.toFixed(4)} (seed ${run.seed})`,
    width: 420,
    height: 260,
    x: { label: "epoch" },
    y: { label: "cross-entropy", grid: true },
    color: { legend: true },
    marks: [
      Plot.line(loss, { x: "epoch", y: "value", stroke: "curve", z: "curve", marker: "dot" }),
      Plot.ruleY([um], { stroke: "#e15759", strokeDasharray: "6,3" }),
      Plot.text([{ epoch: h[0]?.epoch ?? 1, um }], { x: "epoch", y: "um", text: () => "UM", dy: -8, fill: "#e15759" }),
    ],
  }, "[pretraining loss vs UM]");
  const right = plotFigure({
    title: "OOD detection along the pretraining run",
    width: 420,
    height: 260,
    x: { label: "epoch" },
    y: { label: "fraction", grid: true, domain: [0, 1] },
    color: { legend: true },
    marks: [Plot.line(ood, { x: "epoch", y: "value", stroke: "curve", z: "curve", marker: "dot" })],
  }, "[OOD detection along pretraining]");
  return figure(
    `<div style="display:flex;gap:1em;flex-wrap:wrap">${left.html}${right.html}</div>`,
    "[pretraining curves]",
  );
}

/** The batch cross-entropy per epoch of every fine-tuning run of a seed, with the UM level. */
export function stageFigure(run: SeedRun): Figure {
  const points = Object.entries(run.stages).flatMap(([method, s]) =>
    (s?.history ?? []).map((p) => ({ epoch: p.epoch, ce: p.ce, method }))
  );
  const um = run.constraint.value;
  return plotFigure({
    title: `Fine-tuning: mean batch CE on ID training images per epoch (seed ${run.seed}); dashed: UM`,
    width: 560,
    height: 260,
    x: { label: "epoch" },
    y: { label: "cross-entropy", grid: true },
    color: { legend: true },
    marks: [
      Plot.line(points, { x: "epoch", y: "ce", stroke: "method", z: "method", marker: "dot" }),
      Plot.ruleY([um], { stroke: "#e15759", strokeDasharray: "6,3" }),
    ],
  }, "[fine-tuning CE per epoch]");
}

/** The claims check: FPR95 (average over OOD sets) before and after UM, per score. */
export function claimsTable(claims: readonly ClaimRow[]): Table {
  const columns: Column[] = [
    { key: "comparison", label: "Comparison", kind: "key" },
    { key: "score", label: "Score", kind: "key" },
    { key: "before", label: "FPR95 before %" },
    { key: "after", label: "FPR95 after %" },
    { key: "delta", label: "Δ (pp)" },
    { key: "verdict", label: "UM improves FPR95?", kind: "key" },
    { key: "seeds", label: "Seeds improved" },
  ];
  const ms = (m: number, s: number | null) => `${pct(m)}${s != null ? ` ± ${pct(s)}` : ""}`;
  const rows = claims.map((c) => ({
    comparison: `${c.after} vs ${c.before}`,
    score: c.score,
    before: ms(c.fprBefore, c.fprBeforeStd),
    after: ms(c.fprAfter, c.fprAfterStd),
    delta: `${c.delta <= 0 ? "−" : "+"}${pct(Math.abs(c.delta))}`,
    verdict: { text: c.improved ? "yes" : "no", best: c.improved },
    seeds: `${c.seedsImproved}/${c.seeds}`,
  }));
  const starts = new Set(rows.map((_, i) => i).filter((i) => i > 0 && rows[i]!.comparison !== rows[i - 1]!.comparison));
  return new Table(columns, rows, {
    caption: "Claims check: does UM lower FPR95 compared with the same model without it?",
    notes: [
      "FPR95 (Hendrycks rule, ID positive) averaged over the OOD sets per seed; mean ± sample std over seeds. " +
      "yes = lower mean FPR95 with UM; seeds improved = seeds whose FPR95 went down (paired by seed).",
    ],
    groupStarts: starts,
  });
}

/** The Mahalanobis tuning of every model: the magnitude chosen and the validation FPR95 of each magnitude. */
export function mahalanobisTable(runs: readonly SeedRun[]): Table {
  const rows = runs.flatMap((r) =>
    Object.entries(r.models).flatMap(([method, m]) =>
      m.mahalanobis
        ? [{
          seed: String(r.seed),
          method,
          magnitude: String(m.mahalanobis.magnitude),
          weights: m.mahalanobis.regression.weights.map((w) => w.toPrecision(3)).join(", "),
          C: m.mahalanobis.regression.C.toPrecision(3),
          search: m.mahalanobis.search.map((s) => `${s.magnitude}: ${pct(s.fpr95, 1)}`).join(" · "),
        }]
        : []
    )
  );
  return new Table(
    [
      { key: "seed", label: "Seed", kind: "key" },
      { key: "method", label: "Model", kind: "key" },
      { key: "magnitude", label: "Magnitude" },
      { key: "weights", label: "Layer weights", kind: "key" },
      { key: "C", label: "C" },
      { key: "search", label: "Validation FPR95 % per magnitude", kind: "key" },
    ],
    rows,
    {
      caption: "Mahalanobis tuning (logistic regression ID vs FGSM images, magnitude by validation FPR95)",
    },
  );
}

/** Seconds per stage and seed (pretraining marked when it came from the cache). */
export function timingTable(runs: readonly SeedRun[]): Table {
  const stages = [...new Set(runs.flatMap((r) => Object.keys(r.timings)))];
  const columns: Column[] = [
    { key: "seed", label: "Seed", kind: "key" },
    ...stages.map((s): Column => ({ key: s, label: `${s} s` })),
  ];
  const rows = runs.map((r) => ({
    seed: `${r.seed}${r.pretrain.cached ? " (pretrained model from cache)" : ""}`,
    ...Object.fromEntries(stages.map((s) => [s, r.timings[s]?.toFixed(1) ?? "—"])),
  }));
  return new Table(columns, rows, { caption: "Wall time per stage" });
}

/** A markdown list as a display (for the deviations and quirks sections). */
export function bulletList(title: string, items: readonly string[]): Displayable {
  return markdownView(`**${title}**\n\n${items.map((i) => `- ${i}`).join("\n")}\n`);
}

/**
 * The quirks of the authors' code and how each variant handles them, as a markdown table (long text wraps); the
 * variants this run executed are marked.
 */
export function quirksView(quirks: readonly Quirk[], ran: readonly Variant[]): Displayable {
  const cell = (t: string) => t.replace(/\|/g, "\\|").replace(/\n/g, " ");
  const mark = (v: Variant) => ran.includes(v) ? `${v} (run here)` : v;
  const lines = [
    `| Quirk | What the code does | ${mark("faithful")} | ${mark("clean")} |`,
    "|---|---|---|---|",
    ...quirks.map((q) => `| \`${q.id}\` | ${cell(q.what)} | ${cell(q.faithful)} | ${cell(q.clean)} |`),
  ];
  return markdownView(lines.join("\n") + "\n");
}

/**
 * One table per score: every model (the pretrained `CE`, the controls and UM/UMAP/OE variants) with FPR95,
 * AUROC, AUPR-In and ID accuracy averaged over the OOD sets, mean ± std over seeds (from `summarize`).
 */
export function scoreTables(summary: pl.DataFrame, scores: readonly string[]): Displayable {
  const avg = summary.filter(pl.col("oodDataset").eq(pl.lit(AVERAGE)));
  const html = scores.map((score) =>
    metricTable(avg.filter(pl.col("score").eq(pl.lit(score))), {
      metrics: ["fpr95", "auroc", "auprIn", "idAccuracy"],
      compare: ["method"],
      caption: `${score}: average over OOD sets`,
    }).toHTML()
  ).join("\n");
  return htmlView(html, `[${scores.length} score tables]`);
}
