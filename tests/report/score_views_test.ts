import assert from "node:assert/strict";
import { bundleOf } from "@lib/report/jupyter.ts";
import { figure } from "@lib/report/plot.ts";
import {
  histogramScale,
  projectionSample,
  rocByScore,
  scoreHistogramFigure,
  scoreMatrixTable,
  scoreMatrixTables,
  setsTable,
  sideBySide,
  stacked,
} from "@lib/report/score_views.ts";
import { markdownView } from "@lib/report/jupyter.ts";
import { summarize } from "@lib/report/table.ts";
import { toRows } from "@lib/experiment/rows.ts";

const key = { paper: "baselines", method: "ce", backbone: "lenet" };
const id = Float32Array.of(3, 2, 1);

function summary() {
  const rows = [0, 1].flatMap((seed) => [
    ...toRows({ ...key, idDataset: "mnist", seed }, {
      msp: { id, ood: { gaussian: Float32Array.of(0), fashion_mnist: Float32Array.of(2.5 - seed) } },
      knn: { id, ood: { gaussian: Float32Array.of(5), fashion_mnist: Float32Array.of(0) } },
    }),
    ...toRows({ ...key, idDataset: "fashion_mnist", seed }, {
      msp: { id, ood: { mnist: Float32Array.of(0), gaussian: Float32Array.of(0) } },
    }),
  ]);
  return summarize(rows, { by: ["paper", "method", "backbone", "idDataset", "score"] });
}

Deno.test("scoreMatrixTable() puts the real OOD datasets first, Average last, and bolds the best score per column", () => {
  const t = scoreMatrixTable(summary(), "auroc");
  assert.deepEqual(t.columns.map((c) => c.label), ["ID", "Score", "fashion_mnist", "mnist", "gaussian", "Average"]);
  assert.deepEqual(t.rows.map((r) => [r.idDataset, r.score]), [["mnist", "msp"], ["mnist", "knn"], [
    "fashion_mnist",
    "msp",
  ]]);
  // vs fashion_mnist: msp has AUROC 1/3 (seed 0) and 2/3 (seed 1), mean 0.5; knn has 1, so knn is bold.
  assert.equal(t.cell(0, "fashion_mnist").text, "50.0 ± 23.6");
  assert.equal(t.cell(1, "fashion_mnist").best, true);
  assert.equal(t.cell(0, "fashion_mnist").best, false);
  assert.equal(t.cell(1, "gaussian").text, "0.0 ± 0.0", "knn ranks the Gaussian OOD point above every ID point");
  assert.equal(t.cell(0, "gaussian").text, "100.0 ± 0.0");
  assert.equal(t.cell(0, "mnist").text, "—", "mnist is not an OOD set of mnist");
  assert.equal(t.cell(2, "fashion_mnist").text, "—");
  assert.equal(t.cell(2, "mnist").best, false, "a single score per ID dataset is not marked");
  assert.ok(t.options.groupStarts?.has(2), "a rule between ID datasets");
  assert.match(t.toHTML(), /<caption>AUROC % \(higher is better\) per OOD set<\/caption>/);
  assert.match(t.toText(), /mean ± sample std over seeds/);
  const fpr = scoreMatrixTable(summary(), "fpr95", { percent: false, digits: 2, showStd: false });
  assert.equal(fpr.cell(1, "gaussian").text, "1.00");
  assert.throws(() => scoreMatrixTable(summary().drop("fpr95_mean"), "fpr95"), /no column fpr95_mean/);
  const one = scoreMatrixTable(summary(), "auroc", { idDataset: "fashion_mnist" });
  assert.deepEqual(one.columns.map((c) => c.label), ["Score", "mnist", "gaussian", "Average"], "its own OOD sets only");
  assert.equal(one.options.caption, "ID fashion_mnist: AUROC % (higher is better) per OOD set");
  assert.throws(() => scoreMatrixTable(summary(), "auroc", { idDataset: "svhn" }), /no rows for ID dataset "svhn"/);
  const both = bundleOf(scoreMatrixTables(summary(), "auroc"));
  const html = String(both["text/html"]);
  assert.ok(html.indexOf("ID mnist: AUROC") < html.indexOf("ID fashion_mnist: AUROC"), "one table per ID dataset");
  assert.match(String(both["text/plain"]), /ID mnist: AUROC[\s\S]*\n\nID fashion_mnist: AUROC/);
});

Deno.test("histogramScale() switches to −log10(−S) only for heavy-tailed non-positive scores", () => {
  const idS = Float64Array.from({ length: 100 }, (_, i) => -1 - i / 100);
  const far = { far: Float64Array.from({ length: 100 }, (_, i) => -1000 - i) };
  const log = histogramScale("mahalanobis", idS, far);
  assert.equal(log.kind, "log");
  assert.match(log.label, /−log10\(−S\)/);
  assert.ok(log.transform(-1) > log.transform(-10), "monotone: higher stays more in-distribution");
  assert.equal(log.transform(-100), -2);
  assert.equal(histogramScale("knn", idS, { near: Float64Array.from(idS, (v) => v - 1) }).kind, "linear");
  assert.equal(histogramScale("msp", [0.9, 0.5], { x: [0.1] }).kind, "linear", "positive scores");
  const fig = scoreHistogramFigure("mahalanobis", { id: idS, ood: far });
  assert.match(fig.html, /−log10\(−S\)/);
});

Deno.test("rocByScore() gives one curve per score that has the OOD set", () => {
  const curves = rocByScore({
    msp: { id: Float32Array.of(0.9, 0.8), ood: { a: Float32Array.of(0.1), b: Float32Array.of(0.95) } },
    knn: { id: Float32Array.of(-1), ood: { b: Float32Array.of(-2) } },
  }, "b");
  assert.deepEqual(Object.keys(curves), ["msp", "knn"]);
  assert.equal(curves.msp!.fpr.length, curves.msp!.tpr.length);
  assert.throws(
    () => rocByScore({ knn: { id: Float32Array.of(1), ood: {} } }, "zzz"),
    /no score has the OOD set "zzz"/,
  );
});

Deno.test("sideBySide() lays figures out in one flex row, with titles and without figure margins", () => {
  const b = bundleOf(
    sideBySide([figure("<svg id='a'></svg>"), { title: "B <2>", figure: figure("<svg id='b'></svg>") }], {
      cellWidth: 300,
    }),
  );
  const html = String(b["text/html"]);
  assert.match(html, /display:flex/);
  assert.match(html, /\.ood-figures figure\{margin:0\}/);
  assert.ok(html.indexOf("id='a'") < html.indexOf("id='b'"));
  assert.match(html, /B &lt;2&gt;/);
  assert.equal((html.match(/width:300px/g) ?? []).length, 2);
  assert.equal(b["text/plain"], "[2 figures]");
});

Deno.test("stacked() puts displays one under the other and setsTable() lists the sets of a run", () => {
  const b = bundleOf(stacked([markdownView("a <b>"), sideBySide([figure("<svg id='x'></svg>")])]));
  assert.equal(b["text/plain"], "a <b>\n\n[1 figures]");
  assert.match(String(b["text/html"]), /^<div>a &lt;b&gt;<\/div><div><div class="ood-figures"/);
  const t = setsTable([{ setting: "mnist", role: "ID test", dataset: "mnist[30]", images: 30, shape: "28×28×1" }]);
  assert.deepEqual(t.columns.map((c) => c.label), ["Setting", "Role", "Dataset", "Images", "Shape"]);
  assert.equal(t.cell(0, "images").text, "30");
  assert.equal(t.options.caption, "Data used");
});

Deno.test("projectionSample() takes the first rows of each set, ID first", () => {
  const out = (n: number, v: number) => ({ features: { data: new Float32Array(n * 2).fill(v), dim: 2 } });
  const p = projectionSample("mnist", out(5, 1), { a: out(1, 2), b: out(4, 3) }, 2);
  assert.deepEqual(p.groups, ["ID (mnist)", "ID (mnist)", "a", "b", "b"]);
  assert.deepEqual([...p.data], [1, 1, 1, 1, 2, 2, 3, 3, 3, 3]);
  assert.equal(p.dim, 2);
});
