/**
 * The CIDER-specific displays (conventions C14); the shared views of `lib/report` and `lib/experiment` show the
 * data, the metric tables, the paper comparison, the claims and the deviations. Here: one line per run (training,
 * accuracies and the embedding measures), the training curves of every method, the faithful and clean learning-rate
 * schedules, and the KNN score histograms. Numbers stay fractions until they are formatted here.
 * @module
 */
import { Table } from "../../report/html_table.ts";
import type { Displayable } from "../../report/jupyter.ts";
import { formatNumber, metricTable, summarize } from "../../report/table.ts";
import type { ResultRow } from "../../report/results.ts";
import { type Figure, vegaLiteFigure } from "../../report/plot.ts";
import { scoreHistogramFigure, sideBySide, stacked } from "../../report/score_views.ts";
import { ciderLr } from "../../train/schedules.ts";
import { markdownView } from "../../report/jupyter.ts";
import type { PaperNumbers } from "../../report/paper_numbers.ts";
import type { CiderConfig, CiderTrainRecipe } from "./config.ts";
import type { CiderExperiment, CiderRun } from "./run.ts";
import { releasedComparisonTable } from "./released.ts";

/** The setting label of a run: `ID · backbone (width w)`. */
export function settingLabel(r: Pick<CiderRun, "setting">): string {
  const s = r.setting;
  return `${s.idDataset} · ${s.backbone}${s.width === 1 ? "" : ` (width ${s.width})`}`;
}

/**
 * One line per run: optimizer steps, wall time of training and evaluation, the last training loss, the probe's and
 * (CE only) the `fc`'s ID accuracy, and the embedding measures (`embedding.ts`).
 */
export function runsTable(runs: readonly CiderRun[]): Table {
  const deg = (v: number) => v.toFixed(1);
  const multiSetting = new Set(runs.map(settingLabel)).size > 1;
  const rows = runs.map(({ result: r, ...run }) => ({
    setting: settingLabel(run),
    method: r.label,
    seed: String(run.seed),
    steps: String(r.train.steps),
    train: r.train.seconds.toFixed(1),
    evals: r.evalSeconds.toFixed(1),
    loss: (r.train.history.at(-1)?.loss ?? NaN).toFixed(3),
    probe: formatNumber(r.probeAccuracy),
    fc: r.fcAccuracy === null ? "—" : formatNumber(r.fcAccuracy),
    dispersion: deg(r.embedding.dispersion),
    compactness: deg(r.embedding.compactness),
    separation: deg(r.embedding.separation),
  }));
  return new Table(
    [
      ...(multiSetting ? [{ key: "setting", label: "Setting", kind: "key" as const }] : []),
      { key: "method", label: "Method", kind: "key" },
      { key: "seed", label: "Seed" },
      { key: "steps", label: "Steps" },
      { key: "train", label: "Train s" },
      { key: "evals", label: "Eval s" },
      { key: "loss", label: "Last loss" },
      { key: "probe", label: "Probe acc. %" },
      { key: "fc", label: "fc acc. %" },
      { key: "dispersion", label: "Dispersion ° ↑" },
      { key: "compactness", label: "Compactness ° ↓" },
      { key: "separation", label: "ID–OOD separation ° ↑" },
    ],
    rows,
    {
      caption: "Runs",
      notes: [
        "Probe: linear probe on frozen penultimate features (the paper's ID-accuracy protocol). fc: the backbone's own " +
        "classifier, trained only by CE. On L2-normalised penultimate features, in degrees: dispersion = mean angle " +
        "between class prototypes (normalised class means of the training features); compactness = mean angle between " +
        "an ID test sample and its class prototype; separation (this notebook's own measure) = mean nearest-prototype " +
        "angle of OOD samples minus that of ID test samples.",
      ],
    },
  );
}

/** One point of a line chart: panel (`metric`), line (`series`), x = epoch. */
type Point = { epoch: number; metric: string; series: string; value: number };

/** Line charts with vega-lite, one panel per metric (a dashed zero line on the learning-rate panel). */
async function lineCharts(
  values: readonly Point[],
  title: string,
  size: [number, number],
  points = true,
): Promise<Figure> {
  const metrics = [...new Set(values.map((v) => v.metric))];
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    data: { values },
    hconcat: metrics.map((m) => ({
      transform: [{ filter: { field: "metric", equal: m } }],
      width: size[0],
      height: size[1],
      title: m,
      layer: [
        {
          mark: { type: "line", point: points ? { size: 12 } : false },
          encoding: {
            x: { field: "epoch", type: "quantitative", title: "epoch" },
            y: { field: "value", type: "quantitative", title: null, scale: { zero: m === "learning rate" } },
            color: { field: "series", type: "nominal", title: null },
          },
        },
        ...(m === "learning rate"
          ? [{ mark: { type: "rule", strokeDash: [4, 4], color: "#888" }, encoding: { y: { datum: 0 } } }]
          : []),
      ],
    })),
    resolve: { scale: { color: "shared" } },
    config: { font: "sans-serif", view: { stroke: "#ddd" } },
  };
  return await vegaLiteFigure(spec as Parameters<typeof vegaLiteFigure>[0], `[${title}: ${metrics.join(", ")}]`);
}

/**
 * Training curves of every run of one seed (one line per run): the loss, the learning rate (the faithful warm-up
 * goes negative in the first epoch) and CIDER's two loss terms.
 */
export function trainingCurvesFigure(runs: readonly CiderRun[], opts: { seed?: number } = {}): Promise<Figure> {
  const seed = opts.seed ?? runs[0]?.seed;
  const chosen = runs.filter((r) => r.seed === seed);
  const values = chosen.flatMap((r) =>
    r.result.train.history.flatMap((p) =>
      ([["loss", p.loss], ["learning rate", p.lr], ["L_comp (CIDER)", p.compactness], [
        "L_dis (CIDER)",
        p.dispersion,
      ]] as const).filter(([, v]) => v !== undefined && Number.isFinite(v)).map(([metric, value]) => ({
        epoch: p.epoch,
        metric,
        value: value!,
        series: settingLabel(r) === settingLabel(chosen[0]!)
          ? r.result.label
          : `${r.result.label} · ${settingLabel(r)}`,
      }))
    )
  );
  return lineCharts(values, `Training curves (seed ${seed}; window means every logEvery steps)`, [210, 150]);
}

/**
 * The learning rate of every optimizer step under CIDER's schedule, faithful (the reference's (epoch − 1) warm-up)
 * and clean (the fixed ramp), for a recipe, a peak rate and the number of steps per epoch; the dashed line is 0.
 */
export function scheduleFigure(recipe: CiderTrainRecipe, lr: number, stepsPerEpoch: number): Promise<Figure> {
  const values: Point[] = [];
  for (const [series, variant] of [["faithful", "faithful"], ["clean", "fixed"]] as const) {
    const { epochs, decayRate, warmup } = recipe;
    const schedule = ciderLr({
      lr,
      epochs,
      decayRate,
      warm: warmup.enabled,
      warmEpochs: warmup.epochs,
      warmupFrom: warmup.from,
      variant,
    });
    for (let step = 0; step < epochs * stepsPerEpoch; step++) {
      const epoch = Math.floor(step / stepsPerEpoch), stepInEpoch = step % stepsPerEpoch;
      const value = schedule({ epoch, stepInEpoch, stepsPerEpoch, step });
      values.push({ epoch: step / stepsPerEpoch, metric: "learning rate", series, value });
    }
  }
  return lineCharts(values, `Learning rate per step (peak ${lr}, ${stepsPerEpoch} steps/epoch)`, [520, 180], false);
}

/** KNN score histograms (ID vs each OOD set) of every run of one seed, side by side. */
export function knnHistograms(runs: readonly CiderRun[], opts: { seed?: number; score?: string } = {}): Displayable {
  const seed = opts.seed ?? runs[0]?.seed, score = opts.score ?? "knn";
  return sideBySide(
    runs.filter((r) => r.seed === seed && r.result.scores[score]).map((r) => ({
      title: `${r.result.label} (${settingLabel(r)}), seed ${seed}`,
      figure: scoreHistogramFigure("−(squared distance to K-th neighbour)", r.result.scores[score]!, {
        width: 400,
        facetHeight: 70,
      }),
    })),
  );
}

/**
 * The per-OOD-set metrics with CIDER's FPR95 rule (Hendrycks' "nearest" threshold: FPR95, AUROC, AUPR-In, probe ID
 * accuracy), then FPR95 with ours (first threshold with ID TPR ≥ 95 %): the shared `metricTable` of each rule's rows.
 */
export function metricsTables(rows: readonly ResultRow[]): Displayable {
  const rule = (r: string) => summarize(rows.filter((x) => x.fprRule === r));
  return stacked([
    metricTable(rule("hendrycks"), {
      metrics: ["fpr95", "auroc", "auprIn", "idAccuracy"],
      caption: "OOD detection, CIDER's FPR95 rule (hendrycks); AUPR-In = average precision, ID positive",
    }),
    metricTable(rule("sklearn"), { metrics: ["fpr95"], caption: "FPR95 with our rule (sklearn)" }),
  ]);
}

/**
 * The learning-rate schedules and the training curves of a training run (the notebook's figures cell); in a
 * `released` run, which trains nothing, a one-line note instead.
 */
export async function trainingFigures(
  cfg: Pick<CiderConfig, "weights" | "train" | "cider">,
  exp: CiderExperiment,
): Promise<Displayable> {
  if (cfg.weights === "released" || exp.sets.length === 0) {
    return markdownView('No training in this run (`weights: "released"`): no schedules or training curves.');
  }
  return stacked([
    await scheduleFigure(cfg.train, cfg.cider.lr, Math.ceil(exp.sets[0]!.train.shape[0] / cfg.train.batchSize)),
    await trainingCurvesFigure(exp.runs),
  ]);
}

/**
 * The released-weights section: in a training run, one line saying how to evaluate the authors' weights instead;
 * in a `released` run, what to download when files or data are absent, then the side-by-side table (paper Table 6,
 * the authors' sample run, ours; `releasedComparisonTable`) and the KNN histograms of the evaluated networks.
 *
 * @param exp `runCider(cfg)`'s result.
 * @param paper `loadPaperNumbers("cider")`.
 */
export function releasedView(exp: CiderExperiment, paper: PaperNumbers): Displayable {
  const out = exp.released;
  if (!out) {
    return markdownView(
      "Weights: trained in this run. `OOD_WEIGHTS=released` evaluates the authors' CIFAR checkpoints instead " +
        "(`deno task data checkpoints cider` lists them).",
    );
  }
  const parts: Displayable[] = [];
  if (out.missing) {
    parts.push(markdownView("**Not run here: files to download.**\n\n```\n" + out.missing + "\n```"));
  }
  parts.push(releasedComparisonTable(out, paper));
  if (out.evaluations.length > 0) {
    parts.push(sideBySide(out.evaluations.map((e) => ({
      title: `authors' weights: ${e.network.idDataset} · ${e.network.backbone} (K = ${e.k})`,
      figure: scoreHistogramFigure("−(squared distance to K-th neighbour)", e.scores.knn!, {
        width: 400,
        facetHeight: 70,
      }),
    }))));
  }
  return stacked(parts);
}
