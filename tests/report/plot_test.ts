import assert from "node:assert/strict";
import { Rng } from "@lib/data/rng.ts";
import { rocCurve } from "@lib/metrics/roc.ts";
import { bundleOf } from "@lib/report/jupyter.ts";
import {
  histogram,
  pca2,
  plotFigure,
  projectionPlot,
  rocCurves,
  rocPlot,
  scoreHistograms,
  thinCurve,
  trainingCurves,
  vegaLiteFigure,
} from "@lib/report/plot.ts";

/** Deterministic normal samples. */
function normals(seed: string, n: number, mean: number, std = 1): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: n }, () => rng.normal(mean, std));
}

const ID = normals("id", 200, 2), OOD = { near: normals("near", 150, 1), far: normals("far", 150, -1) };

Deno.test("figures are emitted as text/html (nbconvert strips image/svg+xml) with a text fallback", () => {
  const f = plotFigure({ marks: [] }, "[empty]");
  const b = bundleOf(f);
  assert.deepEqual(Object.keys(b).sort(), ["text/html", "text/plain"]);
  assert.equal(b["text/html"], f.html);
  assert.match(f.html, /^<svg/);
});

Deno.test("scoreHistograms() draws one panel per OOD set, ID and OOD overlaid, and is deterministic", async (t) => {
  const f = scoreHistograms(ID, OOD, { bins: 12, title: "MSP" });
  assert.match(f.html, /^<figure/);
  assert.ok((f.html.match(/<rect /g) ?? []).length >= 2 * 2 * 12, "2 sets × 2 panels × 12 bins");
  assert.match(f.html, />near</);
  assert.match(f.html, />far</);
  assert.equal(scoreHistograms(ID, OOD, { bins: 12, title: "MSP" }).html, f.html);
  await t.assertSnapshot(f.html);
  assert.throws(() => scoreHistograms(ID, {}), /no OOD sets/);
});

Deno.test("histogram() gives fractions per bin, counts outliers in the end bins and drops non-finite values", () => {
  assert.deepEqual([...histogram([0, 0.1, 0.6, 5, -3, NaN, Infinity], 0, 1, 2)], [0.6, 0.4]);
});

Deno.test("rocPlot() draws each ROC curve with the chance diagonal and the TPR 95 % level", async (t) => {
  const curves = rocCurves(ID, OOD);
  assert.deepEqual(curves.near, rocCurve(ID, OOD.near));
  const f = rocPlot(curves, { title: "ROC" });
  assert.match(f.html, /FPR \(OOD accepted\)/);
  await t.assertSnapshot(f.html);
});

Deno.test("thinCurve() keeps both ends and at most about maxPoints points", () => {
  const n = 10001,
    c = {
      fpr: Float64Array.from({ length: n }, (_, i) => i / (n - 1)),
      tpr: Float64Array.from({ length: n }, (_, i) => Math.sqrt(i / (n - 1))),
    };
  const t = thinCurve(c, 100);
  assert.equal(t.fpr[0], 0);
  assert.equal(t.fpr.at(-1), 1);
  assert.equal(t.tpr.at(-1), 1);
  assert.ok(t.fpr.length <= 2 * 100 + 2 && t.fpr.length > 50, `${t.fpr.length} points`);
});

Deno.test("pca2() finds the dominant directions of an anisotropic cloud and their share of the variance", () => {
  const rng = new Rng("pca"), n = 500;
  // x = 3·a·u + 1·b·v + 0.1·noise, u = (1,1,0,0)/√2, v = (0,0,1,-1)/√2.
  const rows = Array.from({ length: n }, () => {
    const a = rng.normal() * 3, b = rng.normal(), e = () => rng.normal() * 0.1;
    return [a / Math.SQRT2 + e(), a / Math.SQRT2 + e(), b / Math.SQRT2 + e(), -b / Math.SQRT2 + e()];
  });
  const p = pca2(rows);
  const corr = (x: Float64Array, col: (r: number[]) => number) => {
    const ys = rows.map(col), mx = x.reduce((s, v) => s + v, 0) / n, my = ys.reduce((s, v) => s + v, 0) / n;
    let sxy = 0, sxx = 0, syy = 0;
    x.forEach((v, i) => (sxy += (v - mx) * (ys[i]! - my), sxx += (v - mx) ** 2, syy += (ys[i]! - my) ** 2));
    return sxy / Math.sqrt(sxx * syy);
  };
  assert.ok(corr(p.x, (r) => r[0]! + r[1]!) > 0.999, "PC1 is u, signed so its largest loading is positive");
  assert.ok(Math.abs(corr(p.y, (r) => r[2]! - r[3]!)) > 0.999, "PC2 is v");
  assert.ok(p.explained[0] > 0.85 && p.explained[0] < 0.95, `PC1 explains ~9/10.04: ${p.explained[0]}`);
  assert.ok(p.explained[1] > 0.08 && p.explained[1] < 0.12);
  const flat = rows.flat();
  assert.deepEqual(pca2({ data: Float64Array.from(flat), dim: 4 }), p, "row-major buffer input gives the same result");
  assert.throws(() => pca2([[1, 2]]), /need at least 2 rows/);
});

Deno.test("projectionPlot() colours each group and labels the axes with the explained variance", async (t) => {
  const rng = new Rng("proj");
  const rows = Array.from(
    { length: 60 },
    (_, i) => Array.from({ length: 5 }, (_, j) => rng.normal() + (i < 30 ? 0 : j === 0 ? 4 : 0)),
  );
  const groups = rows.map((_, i) => (i < 30 ? "ID" : "OOD"));
  const f = projectionPlot(rows, groups, { title: "features" });
  assert.equal((f.html.match(/<circle /g) ?? []).length, 60);
  assert.match(f.html, /PC1 \(\d+\.\d %\)/);
  assert.equal(projectionPlot(rows, groups, { maxPoints: 20 }).html.match(/<circle /g)?.length, 20);
  assert.throws(() => projectionPlot(rows, ["ID"]), /60 feature rows but 1 group names/);
  await t.assertSnapshot(f.html);
});

Deno.test("trainingCurves() renders one vega-lite panel per metric with train and validation lines", async (t) => {
  const history = [1, 2, 3, 4].map((epoch) => ({
    epoch,
    loss: 2 / epoch,
    val_loss: 2.2 / epoch,
    acc: 1 - 0.5 / epoch,
  }));
  const f = await trainingCurves(history, { logScale: ["loss"] });
  assert.match(f.html, /^<svg/);
  assert.match(f.html, />loss</);
  assert.match(f.html, />acc</);
  assert.match(f.html, />validation</);
  assert.equal((await trainingCurves(history, { logScale: ["loss"] })).html, f.html);
  await t.assertSnapshot(f.html);
});

Deno.test("vegaLiteFigure() renders any vega-lite spec to SVG without a DOM", async () => {
  const f = await vegaLiteFigure({
    data: { values: [{ a: "x", b: 1 }, { a: "y", b: 2 }] },
    mark: "bar",
    encoding: { x: { field: "a", type: "nominal" }, y: { field: "b", type: "quantitative" } },
  });
  assert.ok((f.html.match(/<path /g) ?? []).length >= 2);
});
