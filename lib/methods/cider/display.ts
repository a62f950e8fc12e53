/**
 * What the CIDER notebook displays, as `Symbol.for("Jupyter.display")` objects (conventions C14): the data and
 * run tables, training curves of every method, the per-OOD-set metric table with CIDER's FPR95 rule and ours,
 * the embedding measures, KNN score histograms, the paper-vs-ours comparison and the closing claims check.
 * Numbers stay fractions until they are formatted here.
 * @module
 */
import pl from "nodejs-polars";
import { type Cell, type Column, escapeHtml, Table } from "../../report/html_table.ts";
import { type Displayable, markdownView } from "../../report/jupyter.ts";
import { comparePaper, formatNumber, summarize } from "../../report/table.ts";
import type { PaperNumbers } from "../../report/paper_numbers.ts";
import type { ResultRow } from "../../report/results.ts";
import { type Figure, figure, scoreHistograms, vegaLiteFigure } from "../../report/plot.ts";
import { ciderLr } from "../../train/schedules.ts";
import type { CiderTrainRecipe } from "./config.ts";
import type { CiderData } from "./data.ts";
import type { MethodRun } from "./run.ts";

const mean = (v: readonly number[]) => v.reduce((s, x) => s + x, 0) / v.length;
const std = (v: readonly number[]) => {
  if (v.length < 2) return null;
  const m = mean(v);
  return Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / (v.length - 1));
};
/** `mean ± std` of fractions ×100 (or raw values with `scale: 1`). */
function pm(v: readonly number[], scale = 100, digits = 2): string {
  const s = std(v);
  return formatNumber(mean(v), scale, digits) + (s === null ? "" : ` ± ${formatNumber(s, scale, digits)}`);
}

/** The setting label of a run: `ID · backbone`. */
export function settingLabel(r: Pick<MethodRun, "setting" | "backbone">): string {
  return `${r.setting.idDataset} · ${r.backbone}`;
}

/** One line per dataset of each setting: role, name, images, shape. */
export function dataTable(data: readonly CiderData[]): Table {
  const rows = data.flatMap((d) =>
    [
      { role: "ID train (KNN bank, probe)", ds: d.train },
      { role: "ID test", ds: d.test },
      ...Object.values(d.ood).map((ds) => ({ role: "OOD", ds })),
    ].map(({ role, ds }) => ({
      setting: d.id,
      role,
      dataset: ds.name,
      images: String(ds.shape[0]),
      shape: ds.shape.slice(1).join("×"),
    }))
  );
  const norm = data.map((d) =>
    `${d.id}: mean ${d.normalization.mean.map((v) => v.toFixed(4)).join("/")}, std ${
      d.normalization.std.map((v) => v.toFixed(4)).join("/")
    }`
  );
  return new Table(
    [
      { key: "setting", label: "Setting", kind: "key" },
      { key: "role", label: "Role", kind: "key" },
      { key: "dataset", label: "Dataset", kind: "key" },
      { key: "images", label: "Images" },
      { key: "shape", label: "Shape", kind: "key" },
    ],
    rows,
    { caption: "Data", notes: [`Input normalization: ${norm.join("; ")}.`] },
  );
}

/** One line per run: steps, wall time of training and evaluation, last loss, probe and `fc` accuracy. */
export function runsTable(runs: readonly MethodRun[]): Table {
  const rows = runs.map((r) => ({
    setting: settingLabel(r),
    method: r.label,
    seed: String(r.seed),
    steps: String(r.train.steps),
    train: r.train.seconds.toFixed(1),
    evals: r.eval.seconds.toFixed(1),
    loss: (r.train.history.at(-1)?.loss ?? NaN).toFixed(3),
    probe: formatNumber(r.eval.probeAccuracy),
    fc: r.eval.fcAccuracy === null ? "—" : formatNumber(r.eval.fcAccuracy),
  }));
  return new Table(
    [
      { key: "setting", label: "Setting", kind: "key" },
      { key: "method", label: "Method", kind: "key" },
      { key: "seed", label: "Seed" },
      { key: "steps", label: "Steps" },
      { key: "train", label: "Train s" },
      { key: "evals", label: "Eval s" },
      { key: "loss", label: "Last loss" },
      { key: "probe", label: "Probe acc. %" },
      { key: "fc", label: "fc acc. %" },
    ],
    rows,
    {
      caption: "Runs",
      notes: [
        "Probe: linear probe on frozen penultimate features (the paper's ID-accuracy protocol). fc: the backbone's own " +
        "classifier, trained only by CE.",
      ],
    },
  );
}

/**
 * Training curves of every method for one seed and setting (vega-lite, one line per method): the loss, the
 * learning rate (the faithful warm-up goes negative in the first epoch) and CIDER's two loss terms.
 */
export async function trainingCurvesFigure(runs: readonly MethodRun[], opts: { seed?: number } = {}): Promise<Figure> {
  const seed = opts.seed ?? runs[0]?.seed;
  const chosen = runs.filter((r) => r.seed === seed);
  const values = chosen.flatMap((r) =>
    r.train.history.flatMap((p) =>
      [
        ["loss", p.loss],
        ["learning rate", p.lr],
        ["L_comp (CIDER)", p.compactness],
        ["L_dis (CIDER)", p.dispersion],
      ].filter(([, v]) => v !== undefined && Number.isFinite(v)).map(([metric, value]) => ({
        epoch: p.epoch,
        metric,
        value,
        method: settingLabel(r) === settingLabel(chosen[0]!) ? r.label : `${r.label} · ${settingLabel(r)}`,
      }))
    )
  );
  const metrics = [...new Set(values.map((v) => v.metric as string))];
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: `Training curves (seed ${seed}; window means every logEvery steps)`,
    data: { values },
    hconcat: metrics.map((m) => ({
      transform: [{ filter: { field: "metric", equal: m } }],
      width: 210,
      height: 150,
      title: m,
      mark: { type: "line", point: { size: 12 } },
      encoding: {
        x: { field: "epoch", type: "quantitative", title: "epoch" },
        y: { field: "value", type: "quantitative", title: null, scale: { zero: m === "learning rate" } },
        color: { field: "method", type: "nominal", title: null },
      },
    })),
    resolve: { scale: { color: "shared" } },
    config: { font: "sans-serif", view: { stroke: "#ddd" } },
  };
  return await vegaLiteFigure(spec as Parameters<typeof vegaLiteFigure>[0], `[training curves: ${metrics.join(", ")}]`);
}

/**
 * The learning rate of every optimizer step under CIDER's schedule, faithful (the reference's (epoch − 1) warm-up)
 * and fixed, for a recipe, a peak rate and the number of steps per epoch; the dashed line is 0.
 */
export async function scheduleFigure(recipe: CiderTrainRecipe, lr: number, stepsPerEpoch: number): Promise<Figure> {
  const values: { epoch: number; lr: number; variant: string }[] = [];
  for (const variant of ["faithful", "fixed"] as const) {
    const schedule = ciderLr({
      lr,
      epochs: recipe.epochs,
      decayRate: recipe.decayRate,
      warm: recipe.warmup.enabled,
      warmEpochs: recipe.warmup.epochs,
      warmupFrom: recipe.warmup.from,
      variant,
    });
    for (let step = 0; step < recipe.epochs * stepsPerEpoch; step++) {
      const epoch = Math.floor(step / stepsPerEpoch), stepInEpoch = step % stepsPerEpoch;
      values.push({ epoch: step / stepsPerEpoch, lr: schedule({ epoch, stepInEpoch, stepsPerEpoch, step }), variant });
    }
  }
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: `Learning rate per step (peak ${lr}, ${stepsPerEpoch} steps/epoch)`,
    width: 520,
    height: 180,
    layer: [
      {
        data: { values },
        mark: { type: "line" },
        encoding: {
          x: { field: "epoch", type: "quantitative", title: "epoch" },
          y: { field: "lr", type: "quantitative", title: "learning rate" },
          color: {
            field: "variant",
            type: "nominal",
            title: null,
            scale: { domain: ["faithful", "fixed"], range: ["#e15759", "#4e79a7"] },
          },
        },
      },
      {
        mark: { type: "rule", strokeDash: [4, 4], color: "#888" },
        encoding: { y: { datum: 0, type: "quantitative" } },
      },
    ],
    config: { font: "sans-serif", view: { stroke: "#ddd" } },
  };
  return await vegaLiteFigure(
    spec as Parameters<typeof vegaLiteFigure>[0],
    "[learning-rate schedule: faithful vs fixed]",
  );
}

/** Key of a summary row without the method/score (the group whose best value is marked). */
function groupOf(r: Record<string, unknown>): string {
  return JSON.stringify([r.idDataset, r.backbone, r.oodDataset]);
}

/**
 * The per-OOD-set metric table: FPR95 with CIDER's rule (Hendrycks "nearest", ID positive) and with ours
 * (first threshold with ID TPR ≥ 95 %), AUROC, AUPR (average precision, ID positive = CIDER's "AUPR") and the
 * linear-probe ID accuracy; mean ± sample std over seeds, ×100; best per OOD set in bold.
 * @param rows Rows with `fprRule: "hendrycks"`.
 * @param rowsOurs The same rows with `fprRule: "sklearn"`.
 */
export function metricsTable(rows: readonly ResultRow[], rowsOurs: readonly ResultRow[]): Table {
  const a = summarize(rows).toRecords() as Record<string, unknown>[];
  const b = summarize(rowsOurs).toRecords() as Record<string, unknown>[];
  const key = (r: Record<string, unknown>) =>
    JSON.stringify([r.method, r.score, r.backbone, r.idDataset, r.oodDataset]);
  const ours = new Map(b.map((r) => [key(r), r]));
  const metrics = [
    { col: "fpr95", label: "FPR95 % (CIDER rule) ↓", higher: false, from: "cider" },
    { col: "fpr95", label: "FPR95 % (ours) ↓", higher: false, from: "ours" },
    { col: "auroc", label: "AUROC % ↑", higher: true, from: "cider" },
    { col: "auprIn", label: "AUPR % ↑", higher: true, from: "cider" },
    { col: "idAccuracy", label: "ID acc. % (probe)", higher: true, from: "cider" },
  ] as const;
  const value = (r: Record<string, unknown>, m: typeof metrics[number], stat: "mean" | "std") => {
    const src = m.from === "ours" ? ours.get(key(r)) : r;
    return (src?.[`${m.col}_${stat}`] ?? null) as number | null;
  };
  const best = new Map<string, number>();
  metrics.forEach((m, j) => {
    if (m.col === "idAccuracy") return;
    for (const r of a) {
      const v = value(r, m, "mean");
      if (v === null) continue;
      const k = `${j}|${groupOf(r)}`, prev = best.get(k);
      if (prev === undefined || (m.higher ? v > prev : v < prev)) best.set(k, v);
    }
  });
  const multiSetting = new Set(a.map((r) => `${r.idDataset}|${r.backbone}`)).size > 1;
  const tableRows = a.map((r) => {
    const row: Record<string, Cell | string> = {
      setting: `${r.idDataset} · ${r.backbone}`,
      method: String(r.method),
      score: String(r.score),
      ood: String(r.oodDataset),
    };
    metrics.forEach((m, j) => {
      const mu = value(r, m, "mean"), sd = value(r, m, "std");
      row[`m${j}`] = {
        text: formatNumber(mu) + (sd === null ? "" : ` ± ${formatNumber(sd)}`),
        best: mu !== null && best.get(`${j}|${groupOf(r)}`) === mu,
        title: `${r.seeds} seed(s)`,
      };
    });
    return row;
  });
  const columns: Column[] = [
    ...(multiSetting ? [{ key: "setting", label: "Setting", kind: "key" as const }] : []),
    { key: "method", label: "Method", kind: "key" },
    { key: "score", label: "Score", kind: "key" },
    { key: "ood", label: "OOD", kind: "key" },
    ...metrics.map((m, j): Column => ({ key: `m${j}`, label: m.label })),
  ];
  const groupStarts = new Set(
    tableRows.map((_, i) => i).filter((i) =>
      i > 0 && (tableRows[i]!.method !== tableRows[i - 1]!.method || tableRows[i]!.score !== tableRows[i - 1]!.score)
    ),
  );
  const emphasis = new Set(tableRows.map((r, i) => (r.ood === "Average" ? i : -1)).filter((i) => i >= 0));
  const seeds = [...new Set(a.map((r) => Number(r.seeds)))].join("/");
  return new Table(columns, tableRows, {
    caption: multiSetting ? "OOD detection per OOD set" : `OOD detection per OOD set — ${tableRows[0]?.setting ?? ""}`,
    groupStarts,
    emphasis,
    notes: [
      `×100; mean ± sample std over ${seeds} seed(s); bold: best per OOD set. FPR95 (CIDER rule): Hendrycks' ` +
      `"nearest" threshold (fpr_and_fdr_at_recall, ID positive); FPR95 (ours): first threshold with ID TPR ≥ 95 %. ` +
      `AUPR: average precision with ID positive (CIDER's AUPR). Average: mean over OOD sets per seed, then over seeds.`,
    ],
  });
}

/** Embedding measures and accuracies per (setting, method), mean ± std over seeds. */
export function embeddingTable(runs: readonly MethodRun[]): Table {
  const groups = new Map<string, MethodRun[]>();
  for (const r of runs) {
    const k = `${settingLabel(r)}|${r.label}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const multiSetting = new Set(runs.map(settingLabel)).size > 1;
  const rows = [...groups.values()].map((rs) => ({
    setting: settingLabel(rs[0]!),
    method: rs[0]!.label,
    dispersion: pm(rs.map((r) => r.eval.embedding.dispersion), 1, 1),
    compactness: pm(rs.map((r) => r.eval.embedding.compactness), 1, 1),
    separation: pm(rs.map((r) => r.eval.embedding.separation), 1, 1),
    probe: pm(rs.map((r) => r.eval.probeAccuracy)),
  }));
  return new Table(
    [
      ...(multiSetting ? [{ key: "setting", label: "Setting", kind: "key" as const }] : []),
      { key: "method", label: "Method", kind: "key" },
      { key: "dispersion", label: "Inter-class dispersion ° ↑" },
      { key: "compactness", label: "Intra-class compactness ° ↓" },
      { key: "separation", label: "ID–OOD separation ° ↑" },
      { key: "probe", label: "Probe acc. % ↑" },
    ],
    rows,
    {
      caption: "Embedding quality (L2-normalised penultimate features)",
      notes: [
        "Dispersion: mean angle between class prototypes (normalised class means of the training features); " +
        "compactness: mean angle between an ID test sample and its class prototype; separation (this notebook's own " +
        "measure): mean nearest-prototype angle of OOD samples minus that of ID test samples. Degrees; mean ± std " +
        "over seeds.",
      ],
    },
  );
}

/** KNN score histograms (ID vs each OOD set) of every method for one seed, side by side. */
export function knnHistograms(runs: readonly MethodRun[], opts: { seed?: number; score?: string } = {}): Figure {
  const seed = opts.seed ?? runs[0]?.seed, score = opts.score ?? "knn";
  const panels = runs.filter((r) => r.seed === seed && r.eval.scores[score]).map((r) => {
    const s = r.eval.scores[score]!;
    const fig = scoreHistograms(s.id, s.ood, {
      score: "−(squared distance to K-th neighbour)",
      width: 400,
      facetHeight: 70,
    });
    return `<div style="flex:0 0 410px"><div style="font:600 13px system-ui,sans-serif;margin:4px 0">` +
      `${escapeHtml(`${r.label} (${settingLabel(r)}), seed ${seed}`)}</div>${fig.html}</div>`;
  });
  return figure(
    `<div style="display:flex;flex-wrap:wrap;gap:16px">${panels.join("")}</div>`,
    `[${score} score histograms of ${panels.length} methods]`,
  );
}

/**
 * Our summary next to the published (or authors'-code) numbers. When some of our rows are in a setting (ID
 * dataset and backbone) that a paper number names, every such number is matched against both CIDER variants
 * (the reference code is the faithful one; the clean one is shown for the difference). Otherwise the numbers
 * are listed as cited, with an empty "ours".
 * @returns The `comparePaper` frame for `paperTable`.
 */
export function paperComparison(rows: readonly ResultRow[], paper: PaperNumbers): pl.DataFrame {
  const summary = summarize(rows);
  const ran = new Set(rows.map((r) => `${r.idDataset}|${r.backbone}`));
  const matching = paper.numbers.filter((n) => ran.has(`${n.idDataset}|${n.backbone}`));
  if (matching.length === 0) return comparePaper(summary, paper);
  const variants = ["CIDER (faithful)", "CIDER (clean)"];
  const frames = variants.map((method) =>
    comparePaper(summary, { ...paper, numbers: matching.map((n) => ({ ...n, method })) })
  );
  return pl.concat(frames, { how: "vertical" });
}

/** One claim of the closing check. */
export interface ClaimVerdict {
  setting: string;
  claim: string;
  /** CIDER variant, its average FPR95 (CIDER rule) and std over seeds. */
  cider: string;
  ciderFpr: number;
  ciderStd: number | null;
  /** The baseline, its average FPR95 and std. */
  baseline: string;
  baselineFpr: number;
  baselineStd: number | null;
  /** CIDER's FPR95 is lower (better). */
  holds: boolean;
  /** |Δ| is smaller than the sum of the two seed stds; null with a single seed (no spread to compare with). */
  withinNoise: boolean | null;
  /** OOD sets on which CIDER's mean FPR95 is lower, of all. */
  winsPerSet: [number, number];
}

/**
 * The claims check: does CIDER (each variant, KNN score) reach a lower FPR95 (CIDER's rule, averaged over the
 * OOD sets, mean over seeds) than SupCon + KNN, and than the best CE score (MSP, Energy or KNN, whichever is best
 * here)? Computed from the rows, per setting.
 */
export function claimsCheck(rows: readonly ResultRow[]): ClaimVerdict[] {
  const settings = [...new Set(rows.map((r) => `${r.idDataset}|${r.backbone}`))];
  const out: ClaimVerdict[] = [];
  for (const s of settings) {
    const mine = rows.filter((r) => `${r.idDataset}|${r.backbone}` === s);
    const sets = [...new Set(mine.map((r) => r.oodDataset))];
    /** Per seed, the average FPR95 over OOD sets; and the mean FPR95 per OOD set. */
    const stats = (method: string, score: string) => {
      const rs = mine.filter((r) => r.method === method && r.score === score);
      const seeds = [...new Set(rs.map((r) => r.seed))];
      const perSeed = seeds.map((seed) => mean(rs.filter((r) => r.seed === seed).map((r) => r.fpr95 ?? NaN)));
      const perSet = new Map(
        sets.map((o) => [o, mean(rs.filter((r) => r.oodDataset === o).map((r) => r.fpr95 ?? NaN))]),
      );
      return { n: rs.length, fpr: mean(perSeed), std: std(perSeed), perSet };
    };
    const ceScores = ["msp", "energy", "knn"].map((score) => ({ score, ...stats("CE", score) })).filter((x) => x.n > 0);
    const bestCe = ceScores.sort((x, y) => x.fpr - y.fpr)[0];
    const supcon = stats("SupCon", "knn");
    for (const variant of ["CIDER (clean)", "CIDER (faithful)"]) {
      const c = stats(variant, "knn");
      if (c.n === 0) continue;
      const baselines = [
        ...(supcon.n ? [{ claim: "beats SupCon + KNN", name: "SupCon + KNN", ...supcon }] : []),
        ...(bestCe
          ? [{ claim: "beats the best CE score", name: `CE + ${bestCe.score.toUpperCase()}`, ...bestCe }]
          : []),
      ];
      for (const b of baselines) {
        const wins = sets.filter((o) => c.perSet.get(o)! < b.perSet.get(o)!).length;
        out.push({
          setting: s.replace("|", " · "),
          claim: b.claim,
          cider: `${variant} + KNN`,
          ciderFpr: c.fpr,
          ciderStd: c.std,
          baseline: b.name,
          baselineFpr: b.fpr,
          baselineStd: b.std,
          holds: c.fpr < b.fpr,
          withinNoise: c.std === null || b.std === null ? null : Math.abs(c.fpr - b.fpr) < c.std + b.std,
          winsPerSet: [wins, sets.length],
        });
      }
    }
  }
  return out;
}

function noiseNote(v: ClaimVerdict): string {
  return v.withinNoise === null ? " (single seed)" : v.withinNoise ? " (within seed noise)" : "";
}

/** The claims check as a table. */
export function claimsTable(verdicts: readonly ClaimVerdict[]): Table {
  const f = (v: number, s: number | null) => formatNumber(v) + (s === null ? "" : ` ± ${formatNumber(s)}`);
  return new Table(
    [
      { key: "setting", label: "Setting", kind: "key" },
      { key: "cider", label: "CIDER", kind: "key" },
      { key: "claim", label: "Claim", kind: "key" },
      { key: "answer", label: "Holds here?", kind: "key" },
      { key: "ciderFpr", label: "CIDER FPR95 %" },
      { key: "baseline", label: "Baseline", kind: "key" },
      { key: "baselineFpr", label: "Baseline FPR95 %" },
      { key: "wins", label: "OOD sets won" },
    ],
    verdicts.map((v) => ({
      setting: v.setting,
      cider: v.cider,
      claim: v.claim,
      answer: { text: `${v.holds ? "yes" : "no"}${noiseNote(v)}`, best: v.holds },
      ciderFpr: f(v.ciderFpr, v.ciderStd),
      baseline: v.baseline,
      baselineFpr: f(v.baselineFpr, v.baselineStd),
      wins: `${v.winsPerSet[0]}/${v.winsPerSet[1]}`,
    })),
    {
      caption: "Claims check: lower FPR95 than the baselines? (CIDER's rule, average over OOD sets)",
      notes: [
        '×100; mean ± sample std over seeds of the per-seed average over OOD sets. "within seed noise": the ' +
        'difference is smaller than the sum of the two stds; "single seed": no spread to judge it by. Best CE ' +
        "score: the lowest average FPR95 among MSP, Energy and KNN on the CE network.",
      ],
    },
  );
}

/** The claims check as one sentence per verdict (markdown). */
export function claimsMarkdown(verdicts: readonly ClaimVerdict[]): Displayable {
  const lines = verdicts.map((v) =>
    `- **${v.setting}: ${v.cider} ${v.claim}? ${v.holds ? "Yes" : "No"}**${noiseNote(v)}` +
    ` — FPR95 ${formatNumber(v.ciderFpr)} % vs ${formatNumber(v.baselineFpr)} % (${v.baseline}); ` +
    `lower on ${v.winsPerSet[0]} of ${v.winsPerSet[1]} OOD sets.`
  );
  return markdownView(lines.join("\n") || "_No CIDER run to check._");
}
