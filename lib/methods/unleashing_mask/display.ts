/**
 * Displays of the Unleashing Mask notebook: the loss-constraint estimate, the pretraining curve against the UM
 * level (with OOD detection along the run), the fine-tuning curves, the Mahalanobis tuning, the score tables and
 * the run times. All read a {@linkcode UmExperiment} and return `Symbol.for("Jupyter.display")` objects (C14).
 * @module
 */
import * as Plot from "@observablehq/plot";
import pl from "nodejs-polars";
import { type Column, Table } from "../../report/html_table.ts";
import { type Displayable, htmlView } from "../../report/jupyter.ts";
import { type Figure, figure, plotFigure, scoreHistograms } from "../../report/plot.ts";
import type { ResultRow } from "../../report/results.ts";
import { AVERAGE, formatNumber, metricTable, summarize } from "../../report/table.ts";
import { BASE_METHOD, METHOD_LABELS } from "./config.ts";
import type { UmExperiment, UmRunResult } from "./run.ts";
import { stacked } from "../../report/score_views.ts";

type Run = UmExperiment["runs"][number];

/** The `ce` run of each (seed, variant): one per `prepare`. */
const preparedRuns = (exp: UmExperiment): Run[] => exp.runs.filter((r) => r.method === BASE_METHOD);
/** The first (seed, variant) of the grid, for the per-seed figures. */
const firstCell = (exp: UmExperiment): Run[] => {
  const f = exp.runs[0];
  return f ? exp.runs.filter((r) => r.seed === f.seed && r.variant === f.variant) : [];
};

const pct = (v: number | null | undefined, digits = 2) => formatNumber(v ?? null, 100, digits);
const num = (v: number | null | undefined, digits = 4) => v == null || !Number.isFinite(v) ? "—" : v.toFixed(digits);

/** The loss-constraint estimate of every seed and variant: each random mask's mean CE, mean ± std, and UM used. */
export function estimateTable(exp: UmExperiment): Table {
  const columns: Column[] = [
    { key: "seed", label: "Seed · variant", kind: "key" },
    { key: "draws", label: "Mean CE per random mask", kind: "key" },
    { key: "mean", label: "Mean ± std" },
    { key: "acc", label: "Train acc. (masked) %" },
    { key: "unmasked", label: "Unmasked CE" },
    { key: "used", label: "UM used" },
    { key: "how", label: "How", kind: "key" },
  ];
  const rows = preparedRuns(exp).map(({ seed, variant, result: { prepared: { estimate: e, constraint } } }) => ({
    seed: `${seed} · ${variant}`,
    draws: e.draws.map((d) => d.toFixed(4)).join(", "),
    mean: `${num(e.mean)} ± ${num(e.std)}`,
    acc: pct(e.accuracies.reduce((a, b) => a + b, 0) / e.accuracies.length),
    unmasked: num(e.unmasked),
    used: num(constraint.value),
    how: constraint.how,
  }));
  const first = preparedRuns(exp)[0]?.result.prepared.estimate;
  return new Table(columns, rows, {
    caption: "Loss constraint UM (estimate_loss.py)",
    notes: [
      `Each random mask keeps ${first?.keepRate ?? "?"} of every conv/dense layer's weights; CE is the mean over ` +
      `${first?.images ?? "?"} training images in inference mode. std: sample std over masks.`,
    ],
  });
}

/** Lines of `value` per `curve` over epochs, optionally with a dashed rule at the UM level. */
function curves(
  title: string,
  points: { epoch: number; value: number; curve: string }[],
  y: Record<string, unknown>,
  um: number | null,
  width = 420,
): Figure {
  const rule = um === null ? [] : [Plot.ruleY([um], { stroke: "#e15759", strokeDasharray: "6,3" })];
  return plotFigure({
    title,
    width,
    height: 260,
    x: { label: "epoch" },
    y: { grid: true, ...y },
    color: { legend: true },
    marks: [Plot.line(points, { x: "epoch", y: "value", stroke: "curve", z: "curve", marker: "dot" }), ...rule],
  }, `[${title}]`);
}

/**
 * The pretraining run against the UM level (dashed): training loss (training mode, with augmentation) and
 * inference-mode training loss per epoch; and, beside it, OOD detection of the model at each epoch (FPR95 of Energy
 * and MSP averaged over the OOD sets, ID test accuracy) — the paper's observation that an intermediate stage of
 * training detects OOD better than the final one.
 */
export function pretrainFigure(exp: UmExperiment): Figure {
  const { seed, result: { prepared } } = preparedRuns(exp)[0]!;
  const h = prepared.pretrain.history, um = prepared.constraint.value;
  const line = (curve: string, value: (p: typeof h[number]) => number) =>
    h.map((p) => ({ epoch: p.epoch, value: value(p), curve }));
  const left = curves(
    `Pretraining loss vs UM = ${um.toFixed(4)} (seed ${seed})`,
    [
      ...line("train loss (training mode)", (p) => p.loss),
      ...line("train loss (inference mode)", (p) => p.trainLossEval),
    ],
    { label: "cross-entropy" },
    um,
  );
  const right = curves(
    "OOD detection along the pretraining run",
    [
      ...line("Energy FPR95", (p) => p.energyFpr95),
      ...line("MSP FPR95", (p) => p.mspFpr95),
      ...line("ID test accuracy", (p) => p.testAcc),
    ],
    { label: "fraction", domain: [0, 1] },
    null,
  );
  return figure(`<div style="display:flex;gap:1em;flex-wrap:wrap">${left.html}${right.html}</div>`, "[pretraining]");
}

/** The batch cross-entropy per epoch of every fine-tuning run of the first seed and variant, with the UM level. */
export function stageFigure(exp: UmExperiment): Figure {
  const runs = firstCell(exp);
  const points = runs.flatMap((r) =>
    (r.result.stage?.history ?? []).map((p) => ({ epoch: p.epoch, value: p.ce, curve: METHOD_LABELS[r.method] }))
  );
  const title = `Fine-tuning: mean batch CE on ID training images per epoch (seed ${runs[0]?.seed}, ` +
    `${runs[0]?.variant}); dashed: UM`;
  return curves(title, points, { label: "cross-entropy" }, runs[0]?.result.prepared.constraint.value ?? null, 560);
}

/** The Mahalanobis tuning of every model: the magnitude chosen and the validation FPR95 of each magnitude. */
export function mahalanobisTable(exp: UmExperiment): Table {
  const rows = exp.runs.flatMap(({ seed, variant, method, result: { mahalanobis: m } }) =>
    m
      ? [{
        seed: `${seed} · ${variant}`,
        method: METHOD_LABELS[method],
        magnitude: String(m.magnitude),
        weights: m.regression.weights.map((w) => w.toPrecision(3)).join(", "),
        C: m.regression.C.toPrecision(3),
        search: m.search.map((s) => `${s.magnitude}: ${pct(s.fpr95, 1)}`).join(" · "),
      }]
      : []
  );
  return new Table(
    [
      { key: "seed", label: "Seed · variant", kind: "key" },
      { key: "method", label: "Model", kind: "key" },
      { key: "magnitude", label: "Magnitude" },
      { key: "weights", label: "Layer weights", kind: "key" },
      { key: "C", label: "C" },
      { key: "search", label: "Validation FPR95 % per magnitude", kind: "key" },
    ],
    rows,
    { caption: "Mahalanobis tuning (logistic regression ID vs FGSM images, magnitude by validation FPR95)" },
  );
}

/** Seconds per stage, seed and variant (pretraining marked when it came from the cache). */
export function timingTable(exp: UmExperiment): Table {
  const methods = [...new Set(exp.runs.map((r) => r.method))];
  const rows = preparedRuns(exp).map(({ seed, variant, result: { prepared: p } }) => {
    const mine = exp.runs.filter((r) => r.seed === seed && r.variant === variant);
    return {
      seed: `${seed} · ${variant}${p.pretrain.cached ? " (pretrained model from cache)" : ""}`,
      pretrain: p.pretrain.seconds.toFixed(1),
      estimate: p.estimateSeconds.toFixed(1),
      ...Object.fromEntries(methods.map((m) => [m, mine.find((r) => r.method === m)?.seconds.toFixed(1) ?? "—"])),
    };
  });
  const columns: Column[] = [
    { key: "seed", label: "Seed · variant", kind: "key" },
    { key: "pretrain", label: "pretrain s" },
    { key: "estimate", label: "estimate s" },
    ...methods.map((m): Column => ({ key: m, label: `${METHOD_LABELS[m]} s` })),
  ];
  return new Table(columns, rows, { caption: "Wall time per stage (methods: training and scoring)" });
}

/**
 * One table per score: every model and variant (the pretrained `CE`, the controls and UM/UMAP/OE) with FPR95,
 * AUROC, AUPR-In and ID accuracy averaged over the OOD sets, mean ± std over seeds.
 */
export function scoreTables(rows: readonly ResultRow[], scores: readonly string[]): Displayable {
  const avg = summarize(rows).filter(pl.col("oodDataset").eq(pl.lit(AVERAGE)));
  return stacked(scores.map((score) =>
    metricTable(avg.filter(pl.col("score").eq(pl.lit(score))), {
      metrics: ["fpr95", "auroc", "auprIn", "idAccuracy"],
      caption: `${score}: average over OOD sets`,
    })
  ));
}

/** Histograms of one score of the pretrained model and of UM, first seed and variant. */
export function scoreHistogramsView(exp: UmExperiment, score = "energy"): Displayable {
  const runs = firstCell(exp).filter((r) => r.method === BASE_METHOD || r.method === "um");
  const one = (r: Run & { result: UmRunResult }) => {
    const s = r.result.scores[score]!;
    return scoreHistograms(s.id, s.ood, { title: `${score}, ${METHOD_LABELS[r.method]}, seed ${r.seed}` }).html;
  };
  return htmlView(runs.map(one).join(""), `[${score} histograms]`);
}
