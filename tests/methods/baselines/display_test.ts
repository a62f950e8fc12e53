import assert from "node:assert/strict";
import { toRows } from "@lib/experiment/rows.ts";
import { bundleOf } from "@lib/report/jupyter.ts";
import { METRIC_COLUMNS, Timings } from "@lib/report/results.ts";
import {
  BASELINE_SUMMARY_KEYS,
  type BaselinesResult,
  curveFigures,
  firstRuns,
  histogramFigures,
  projectionFigures,
  rocFigures,
  runsTable,
  summarizeBaselines,
} from "@lib/methods/baselines/mod.ts";
import { toyConfig } from "./_fixtures.ts";

const key = { paper: "baselines", method: "ce", label: "CE", backbone: "lenet", idDataset: "mnist", seed: 0 };

Deno.test("summarizeBaselines() groups by ID dataset before score and averages over OOD sets and seeds", () => {
  const mk = (seed: number, idDataset: string, shift: number) =>
    toRows({ ...key, seed, idDataset }, {
      msp: { id: Float32Array.of(3, 2, 1), ood: { a: Float32Array.of(0 + shift), b: Float32Array.of(2.5) } },
    });
  const summary = summarizeBaselines([...mk(0, "mnist", 0), ...mk(1, "mnist", 5), ...mk(0, "fashion_mnist", 0)]);
  const cols = summary.columns;
  assert.ok(cols.indexOf("idDataset") < cols.indexOf("score"), cols.join());
  for (const k of BASELINE_SUMMARY_KEYS) assert.ok(cols.includes(k), k);
  for (const m of METRIC_COLUMNS) assert.ok(cols.includes(`${m}_mean`), m);
  const recs = summary.toRecords() as Record<string, unknown>[];
  assert.deepEqual(recs.map((r) => `${r.idDataset}/${r.oodDataset}`), [
    "mnist/a",
    "mnist/b",
    "mnist/Average",
    "fashion_mnist/a",
    "fashion_mnist/b",
    "fashion_mnist/Average",
  ]);
  // mnist/a: AUROC 1 (seed 0) and 0 (seed 1, OOD 5 above every ID score) → mean 0.5, 2 seeds.
  assert.equal(recs[0]!.auroc_mean, 0.5);
  assert.equal(recs[0]!.seeds, 2);
});

/** A hand-made result of two ID datasets × two seeds. */
function fakeResult(): BaselinesResult {
  const run = (setting: "mnist" | "fashion_mnist", seed: number) => {
    const other = setting === "mnist" ? "fashion_mnist" : "mnist";
    const scores = {
      msp: { id: Float32Array.of(0.9, 0.8), ood: { [other]: Float32Array.of(0.5), gaussian: Float32Array.of(0.1) } },
      mahalanobis: {
        id: Float32Array.of(-1, -2),
        ood: { [other]: Float32Array.of(-900), gaussian: Float32Array.of(-5) },
      },
    };
    const history: Record<string, number>[] = [{ epoch: 0.5, loss: 1, acc: 0.5 }, { epoch: 1, loss: 0.5, acc: 0.8 }, {
      epoch: 1,
      val_acc: 0.9,
    }];
    const rows = toRows({ ...key, idDataset: setting, seed }, scores);
    return {
      setting,
      settingIndex: setting === "mnist" ? 0 : 1,
      seed,
      variant: "none" as const,
      method: "ce" as const,
      rows,
      seconds: 1,
      result: {
        training: { history, steps: 4, trainAccuracy: 0.8, seconds: 2.2 },
        scores,
        projection: { data: Float32Array.of(1, 0, 0, 1, 1, 1), dim: 2, groups: ["ID (mnist)", "a", "b"] },
        seconds: { extract: 0.5, msp: 0.01, mahalanobis: 0.2 },
      },
    };
  };
  const runs = [run("mnist", 3), run("mnist", 4), run("fashion_mnist", 3), run("fashion_mnist", 4)];
  return { sets: [], runs, rows: runs.flatMap((r) => r.rows), timings: new Timings() };
}

Deno.test("runsTable() has one row per run with its training and the seconds of each scoring stage", () => {
  const t = runsTable(fakeResult().runs);
  assert.deepEqual(t.columns.map((c) => c.label), [
    "ID",
    "Seed",
    "Steps",
    "Train acc. % (last epoch)",
    "Test acc. %",
    "training (s)",
    "extract (s)",
    "msp (s)",
    "mahalanobis (s)",
  ]);
  assert.deepEqual(Object.values(t.rows[0]!), ["mnist", "3", "4", "80.00", "90.00", "2.2", "0.5", "0.0", "0.2"]);
  assert.equal(t.rows.length, 4);
});

Deno.test("the figures show the first seed of each ID dataset, as one display each", async () => {
  const exp = fakeResult(), cfg = toyConfig({ oodDatasets: ["mnist", "fashion_mnist", "gaussian"] });
  assert.deepEqual(firstRuns(exp).map((r) => `${r.setting}/${r.seed}`), ["mnist/3", "fashion_mnist/3"]);
  const hist = String(bundleOf(histogramFigures(exp, cfg))["text/html"]);
  assert.deepEqual([...hist.matchAll(/ID (\w+): (\w+), seed (\d)/g)].map((m) => m.slice(1).join(" ")), [
    "mnist msp 3",
    "mnist mahalanobis 3",
    "fashion_mnist msp 3",
    "fashion_mnist mahalanobis 3",
  ]);
  assert.match(hist, /−log10\(−S\)/, "Mahalanobis on its log scale");
  const roc = String(bundleOf(rocFigures(exp, cfg))["text/html"]);
  assert.match(roc, /ID mnist vs fashion_mnist, seed 3[\s\S]*ID fashion_mnist vs mnist, seed 3/);
  assert.equal(bundleOf(projectionFigures(exp))["text/plain"], "[2 figures]");
  const curves = bundleOf(await curveFigures(exp));
  assert.equal(curves["text/plain"], "[2 figures]");
  assert.match(String(curves["text/html"]), /ID fashion_mnist, seed 3/);
});
