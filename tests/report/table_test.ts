import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { escapeHtml, Table } from "@lib/report/html_table.ts";
import { parsePaperNumbers } from "@lib/report/paper_numbers.ts";
import {
  AVERAGE,
  comparePaper,
  finiteMeanStd,
  formatNumber,
  meanStdCell,
  metricTable,
  paperTable,
  summarize,
} from "@lib/report/table.ts";
import { twoScoresTwoSets } from "./_fixtures.ts";

const close = (a: unknown, b: number, msg?: string) =>
  assert.ok(Math.abs((a as number) - b) < 1e-12, `${msg ?? ""} ${a} ≉ ${b}`);

function byKey(df: pl.DataFrame): Map<string, Record<string, unknown>> {
  return new Map((df.toRecords() as Record<string, unknown>[]).map((r) => [`${r.score}/${r.oodDataset}`, r]));
}

Deno.test("summarize() gives mean and sample std over seeds per OOD set, and the Average over sets within each seed", () => {
  const s = summarize(twoScoresTwoSets(), { metrics: ["auroc", "fpr95"] });
  assert.deepEqual(
    (s.toRecords() as Record<string, unknown>[]).map((r) => `${r.score}/${r.oodDataset}`),
    ["msp/fashion", "msp/noise", `msp/${AVERAGE}`, "energy/fashion", "energy/noise", `energy/${AVERAGE}`],
    "groups and OOD sets in first-appearance order, Average last",
  );
  const r = byKey(s);
  close(r.get("msp/fashion")!.auroc_mean, 0.91);
  close(r.get("msp/fashion")!.auroc_std, Math.SQRT2 * 0.01);
  close(r.get("msp/Average")!.auroc_mean, (0.85 + 0.88) / 2, "per-seed average first");
  close(r.get("msp/Average")!.auroc_std, Math.SQRT2 * 0.015);
  close(r.get("energy/Average")!.fpr95_mean, 0.425);
  assert.equal(r.get("msp/noise")!.seeds, 2);
  assert.ok(!s.columns.includes("idAccuracy_mean"), "only the metrics asked for");
  assert.ok(!summarize(twoScoresTwoSets(), { average: false }).toRecords().some((x) => x.oodDataset === AVERAGE));
});

Deno.test("summarize() gives a null std for a single seed and ignores null metrics", () => {
  const rows = twoScoresTwoSets().filter((r) => r.seed === 0);
  const r = byKey(summarize(rows));
  assert.equal(r.get("msp/fashion")!.auroc_std, null);
  assert.equal(r.get("msp/fashion")!.auprIn_mean, null);
  close(r.get("msp/fashion")!.idAccuracy_mean, 0.99);
});

Deno.test("metricTable() shows ×100 mean ± std, marks the best per OOD set in its direction, and never a tie", async (t) => {
  const table = metricTable(summarize(twoScoresTwoSets()), { metrics: ["fpr95", "auroc", "idAccuracy"] });
  const best = (row: number, key: string) => table.cell(row, key).best ?? false;
  assert.equal(table.cell(0, "auroc").text, "91.00 ± 1.41");
  assert.deepEqual([best(0, "fpr95"), best(3, "fpr95")], [false, true], "fashion: energy has the lower FPR95");
  assert.deepEqual([best(1, "fpr95"), best(4, "fpr95")], [true, false], "noise: msp has the lower FPR95");
  assert.deepEqual([best(1, "auroc"), best(4, "auroc")], [false, false], "noise: AUROC tie, nothing marked");
  assert.deepEqual([best(2, "auroc"), best(5, "auroc")], [false, true], "Average: energy has the higher AUROC");
  assert.ok(!best(0, "idAccuracy") && !best(3, "idAccuracy"), "equal ID accuracy is not marked");
  assert.equal(
    table.options.caption,
    "Paper: t · Method: CE · Backbone: lenet · ID: mnist · OOD group: far · Profile: smoke · Selection: last · " +
      "FPR rule: sklearn",
  );
  assert.deepEqual(table.frame.columns, ["Score", "OOD", "FPR95 %", "AUROC %", "ID acc. %"]);
  await t.assertSnapshot(table.toText());
  await t.assertSnapshot(table.toHTML());
});

Deno.test("metricTable() can show fractions without std and refuses a metric that the summary lacks", () => {
  const s = summarize(twoScoresTwoSets(), { metrics: ["auroc"] });
  const table = metricTable(s, { percent: false, digits: 3, showStd: false });
  assert.equal(table.cell(0, "auroc").text, "0.910");
  assert.throws(() => metricTable(s, { metrics: ["fpr95"] }), /the summary has no column fpr95_mean/);
});

const PAPER = parsePaperNumbers({
  paper: "t",
  citation: "Someone et al., A Paper, 2024",
  scale: "percent",
  defaults: { method: "CE" },
  numbers: [
    { score: "energy", oodDataset: "fashion", metric: "fpr95", value: 20.5, source: "Table 2" },
    { score: "msp", oodDataset: "noise", metric: "auroc", value: null, source: "Table 2", note: "not reported" },
    { score: "odin", oodDataset: "noise", metric: "auroc", value: 90, source: "Table 3" },
    { score: "energy", oodDataset: "Average", metric: "auroc", value: 89.0, source: "Table 2" },
  ],
});

Deno.test("comparePaper() pairs each paper number with our mean, keeps empty cells empty, and computes ours − paper", () => {
  const c = comparePaper(summarize(twoScoresTwoSets()), PAPER).toRecords() as Record<string, unknown>[];
  assert.equal(c.length, 4);
  close(c[0]!.paper, 0.205);
  close(c[0]!.ours, 0.25);
  close(c[0]!.delta, 0.25 - 0.205);
  assert.deepEqual([c[1]!.paper, c[1]!.delta, c[1]!.note], [null, null, "not reported"]);
  close(c[1]!.ours, 0.82);
  assert.deepEqual(
    [c[2]!.score, c[2]!.ours, c[2]!.delta, c[2]!.seeds],
    ["odin", null, null, 0],
    "a method we did not run",
  );
  close(c[3]!.ours, 0.885);
  const all = comparePaper(summarize(twoScoresTwoSets()), PAPER, { includeUnmatched: true });
  assert.equal(all.height, 4 + (6 * 2 - 3), "our rows for the paper's metrics that no number matched");
});

Deno.test("paperTable() shows paper, ours and a signed delta in points, with the source of each number", async (t) => {
  const table = paperTable(comparePaper(summarize(twoScoresTwoSets()), PAPER), PAPER);
  assert.equal(table.cell(0, "delta").text, "+4.50");
  assert.equal(table.cell(3, "delta").text, "−0.50");
  assert.equal(table.cell(1, "paper").text, "—");
  assert.equal(table.cell(0, "source").title, "");
  assert.equal(table.options.caption, "Paper vs ours — Someone et al., A Paper, 2024");
  await t.assertSnapshot(table.toText());
});

Deno.test("Table renders escaped HTML with a scoped style, aligned text, and a Polars frame of the shown strings", () => {
  const t = new Table(
    [{ key: "k", label: "Name", kind: "key" }, { key: "v", label: "Value" }],
    [{ k: "<a&b>", v: { text: "1.00", best: true } }, { k: "c", v: "22.50" }],
    { caption: "cap", notes: ["note"] },
  );
  const html = t.toHTML();
  assert.match(html, /<style>\.ood-table\{/);
  assert.match(html, /<td class="key">&lt;a&amp;b&gt;<\/td><td class="number best"><strong>1\.00<\/strong><\/td>/);
  assert.equal(t.toText(), "cap\nName   Value\n-----  -----\n<a&b>  1.00*\nc      22.50\nnote");
  assert.deepEqual(t.frame.toRecords(), [{ Name: "<a&b>", Value: "1.00" }, { Name: "c", Value: "22.50" }]);
  assert.equal(escapeHtml(`"'`), "&quot;&#39;");
  assert.deepEqual([formatNumber(null), formatNumber(NaN), formatNumber(0.12345)], ["—", "—", "12.35"]);
});

Deno.test("finiteMeanStd() gives the mean and sample std of the finite values only", () => {
  const s = finiteMeanStd([0.2, NaN, 0.4]);
  assert.ok(Math.abs(s.mean! - 0.3) < 1e-12 && Math.abs(s.std! - Math.SQRT2 * 0.1) < 1e-12);
  assert.equal(s.n, 2);
  assert.deepEqual(finiteMeanStd([NaN, NaN]), { mean: null, std: null, n: 0 });
  assert.deepEqual(finiteMeanStd([0.5]), { mean: 0.5, std: null, n: 1 });
});

Deno.test("meanStdCell() reads mean ± std ×100 and counts the seeds it used", () => {
  assert.deepEqual(meanStdCell([0.2, NaN, 0.4], 2), { text: "30.00 ± 14.14", title: "2 of 3 seed(s)" });
  assert.deepEqual(meanStdCell([0.5]), { text: "50.0", title: "1 of 1 seed(s)" });
  assert.deepEqual(meanStdCell([NaN]), { text: "—", title: "0 of 1 seed(s)" });
});
