/**
 * Notebooks run headless in the real Deno Jupyter kernel (tools/nbrun.py through tools/notebooks.ts): every
 * notebook directly in notebooks/ at the smoke profile, the demo notebook, and fixtures that must fail
 * (a throwing cell, asynchronous errors, a hung cell) or must not lose outputs.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import pl from "nodejs-polars";
import {
  discoverNotebooks,
  type ExecutedCell,
  isNotebookInvocation,
  type NotebookRun,
  parseNotebookArgs,
  readExecuted,
  reproduceNotebooks,
  resolveNotebook,
  runNotebook,
} from "../../tools/notebooks.ts";
import { METRIC_COLUMNS, RESULT_COLUMNS } from "@lib/report/results.ts";

const TESTDATA = new URL("./testdata/", import.meta.url).pathname;

/** Text of every output of a cell, all MIME types and streams joined. */
function outputText(cell: ExecutedCell): string {
  return cell.outputs.map((o) =>
    [
      o.text ?? "",
      o.evalue ?? "",
      ...Object.values(o.data ?? {}).map((v) => typeof v === "string" ? v : JSON.stringify(v)),
    ]
      .join("\n")
  ).join("\n");
}

/** What every notebook must satisfy at the smoke profile: it ran, no error output, a table, finite metrics. */
async function assertHealthyRun(run: NotebookRun): Promise<ExecutedCell[]> {
  assert.ok(run.ok, `${run.name} failed: ${run.message}\n${run.traceback.join("\n")}\n${run.stderr}`);
  const cells = await readExecuted(run.ipynb);
  const errors = cells.flatMap((c) =>
    c.outputs.filter((o) => o.output_type === "error").map((o) => `cell ${c.index}: ${o.evalue}`)
  );
  assert.deepEqual(errors, [], "no error outputs");
  const empty = cells.filter((c) => c.source.trim() && c.outputs.length === 0 && !/;\s*$/.test(c.source.trim()));
  assert.ok(empty.length < cells.length, "cells have outputs");
  assert.ok(
    cells.some((c) =>
      c.outputs.some((o) =>
        o.data?.["application/vnd.dataresource+json"] || /<table/.test(String(o.data?.["text/html"] ?? ""))
      )
    ),
    "at least one table is displayed",
  );
  if (run.results) {
    const rows = pl.readParquet(run.results);
    assert.ok(rows.height > 0, "result rows were written");
    assert.deepEqual(rows.columns, [...RESULT_COLUMNS], "one result schema: every notebook's rows concatenate");
    for (const m of METRIC_COLUMNS) {
      for (const v of rows.getColumn(m).toArray() as (number | null)[]) {
        assert.ok(v === null || (Number.isFinite(v) && v >= 0 && v <= 1), `${m} = ${v} is a finite fraction`);
      }
    }
  }
  if (run.html) {
    const html = await Deno.readTextFile(run.html);
    assert.doesNotMatch(html, /<script\b[^>]*\bsrc=/, "the HTML report loads no external script");
  }
  return cells;
}

for (const path of discoverNotebooks()) {
  const name = path.split("/").at(-1)!.replace(/\.ipynb$/, "");
  Deno.test(`notebook ${name} runs at the smoke profile in the Deno kernel without errors, with tables and finite metrics`, async () => {
    const outDir = await Deno.makeTempDir({ prefix: `nb-${name}-` });
    await assertHealthyRun(await runNotebook(path, { profile: "smoke", outDir }));
  });
}

Deno.test("the demo notebook runs in the Deno kernel and its report keeps every table, figure and progress update", async () => {
  const outDir = await Deno.makeTempDir({ prefix: "nb-demo-" });
  const lines: string[] = [];
  const rc = await reproduceNotebooks(["demo", "--profile", "smoke", "--out", outDir], (l) => lines.push(l));
  assert.equal(rc, 0, lines.join("\n"));
  assert.ok(
    lines.some((l) => /^ {2}\[3\/\d+\] cell 5 +\d+\.\d s {2}const timings = new rpt\.Timings\(\);$/.test(l)),
    `one line per finished cell off a terminal:\n${lines.join("\n")}`,
  );
  const run = JSON.parse(await Deno.readTextFile(join(outDir, "smoke", "demo.run.json"))) as NotebookRun;
  const cells = await assertHealthyRun(run);
  const all = cells.map(outputText).join("\n");
  assert.match(all, /profile: "smoke"/, "the config cell read OOD_PROFILE");
  assert.match(all, /seeds \[#+\] 2\/2/, "the progress display kept its final state");
  assert.match(all, /engine: cpu/);
  assert.ok(
    cells.some((c) => c.outputs.some((o) => o.data?.["application/vnd.dataresource+json"])),
    "a Polars DataFrame",
  );
  assert.equal((all.match(/class="ood-table"/g) ?? []).length, 2, "metric table and paper-vs-ours table");
  assert.ok((all.match(/<svg/g) ?? []).length >= 4, "four SVG figures");
  assert.match(all, /Paper vs ours/);
  assert.equal(run.profile, "smoke");
  assert.ok(run.results, "results written");
  const manifest = JSON.parse(await Deno.readTextFile(join(outDir, "smoke", "results", "demo.manifest.json")));
  assert.equal(manifest.engine.engine, "cpu");
  assert.equal(manifest.profile, "smoke");
  assert.equal(manifest.rows, 8);
  assert.deepEqual(run.engine, manifest.engine, "run.json names the engine, with the engines passed over and why");
  assert.deepEqual(run.engine?.skipped, [], "cpu was requested: nothing passed over");
  const html = await Deno.readTextFile(run.html!);
  assert.match(html, /class="ood-table"/);
  assert.ok((html.match(/<svg/g) ?? []).length >= 4, "figures are inline SVG in the HTML report");
  assert.doesNotMatch(html, /<script/i, "the HTML report has no scripts at all");
  const index = await Deno.readTextFile(join(outDir, "index.html"));
  assert.match(index, /href="smoke\/demo\.html"/);
  assert.match(index, /demo: average over OOD sets/);
});

Deno.test("runNotebook fails with the cell number and error of a throwing cell, and still writes the notebook and report", async () => {
  const outDir = await Deno.makeTempDir({ prefix: "nb-fails-" });
  const run = await runNotebook(join(TESTDATA, "fails.ipynb"), { profile: "smoke", outDir });
  assert.equal(run.ok, false);
  assert.equal(run.status, "error");
  assert.equal(run.cell, 2);
  assert.equal(run.executionCount, 2);
  assert.equal(run.evalue, "boom in cell 2");
  assert.match(run.message, /^cell 2 \[2\]: Error: boom in cell 2$/);
  assert.match(run.traceback.join("\n"), /at <anonymous>:2:7/);
  const cells = await readExecuted(run.ipynb);
  assert.match(outputText(cells[1]!), /before the error/);
  // The kernel may publish the stream after the error (stdout has its own channel), so order is not asserted.
  assert.deepEqual(cells[1]!.outputs.map((o) => o.output_type).sort(), ["error", "stream"]);
  assert.equal(cells[2]!.outputs.length, 0, "later cells do not run");
  assert.match(await Deno.readTextFile(run.html!), /boom in cell 2/);
});

Deno.test("runNotebook fails on an unhandled promise rejection and names the cell that caused it", async () => {
  const outDir = await Deno.makeTempDir({ prefix: "nb-async-" });
  const run = await runNotebook(join(TESTDATA, "async_error.ipynb"), { profile: "smoke", outDir, html: false });
  assert.equal(run.ok, false, "the kernel swallows it; the runner must not");
  assert.equal(run.status, "async-error");
  assert.equal(run.cell, 1);
  assert.match(run.message, /^cell 1 \[2\]: Asynchronous Error: late async failure \(unhandled promise rejection\)$/);
  const cells = await readExecuted(run.ipynb);
  assert.match(outputText(cells[1]!), /the cell itself returns/);
  assert.ok(cells[1]!.outputs.some((o) => o.output_type === "error" && /late async failure/.test(o.evalue ?? "")));
  assert.equal(cells[2]!.outputs.length, 0, "the run stops there");
});

Deno.test("runNotebook catches an exception thrown from a timer after the last cell finished", async () => {
  const outDir = await Deno.makeTempDir({ prefix: "nb-async-last-" });
  const run = await runNotebook(join(TESTDATA, "async_last_cell.ipynb"), { profile: "smoke", outDir, html: false });
  assert.equal(run.status, "async-error");
  assert.equal(run.cell, 1);
  assert.match(run.message, /thrown from a timer \(uncaught exception\)/);
});

Deno.test("runNotebook kills a hung cell after the cell timeout and names it", async () => {
  const outDir = await Deno.makeTempDir({ prefix: "nb-hang-" });
  const t0 = performance.now();
  const run = await runNotebook(join(TESTDATA, "hangs.ipynb"), {
    profile: "smoke",
    outDir,
    cellTimeoutS: 1.5,
    html: false,
  });
  assert.ok(performance.now() - t0 < 15_000, "it does not wait for the cell");
  assert.equal(run.status, "timeout");
  assert.equal(run.cell, 1);
  assert.match(run.message, /^cell 1: CellTimeoutError: did not finish within 1\.5 s$/);
  const cells = await readExecuted(run.ipynb);
  assert.equal(cells[1]!.outputs.at(-1)!.ename, "CellTimeoutError");
});

Deno.test("runNotebook keeps every output of a 40-cell notebook (results, streams, displays published after idle)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nb-race-" });
  const sources = Array.from(
    { length: 40 },
    (_, i) =>
      i % 3 === 0
        ? `const v${i} = ${i};\nv${i}`
        : i % 3 === 1
        ? `console.log("stream ${i}")`
        : `await Deno.jupyter.display({ "text/plain": "display ${i}" }, { raw: true })`,
  );
  const nb = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: "deno", display_name: "Deno", language: "typescript" } },
    cells: sources.map((source, i) => ({
      cell_type: "code",
      id: `c${i}`,
      metadata: {},
      source,
      outputs: [],
      execution_count: null,
    })),
  };
  await Deno.writeTextFile(join(dir, "race.ipynb"), JSON.stringify(nb));
  const run = await runNotebook(join(dir, "race.ipynb"), { profile: "smoke", outDir: join(dir, "out"), html: false });
  assert.ok(run.ok, run.message);
  const cells = await readExecuted(run.ipynb);
  const expected = sources.map((_, i) => i % 3 === 0 ? String(i) : i % 3 === 1 ? `stream ${i}` : `display ${i}`);
  assert.deepEqual(cells.map((c) => outputText(c).trim()), expected);
});

Deno.test("discoverNotebooks lists the notebooks directly in the folder, sorted; resolveNotebook finds one by name, without its number, or in a subfolder", async () => {
  const dir = await Deno.makeTempDir();
  for (const f of ["10_b.ipynb", "00_a.ipynb", "scratch.ipynb", "01_notes.md"]) {
    await Deno.writeTextFile(join(dir, f), "{}");
  }
  await Deno.mkdir(join(dir, "demo"));
  await Deno.writeTextFile(join(dir, "demo", "demo.ipynb"), "{}");
  assert.deepEqual(discoverNotebooks(dir).map((p) => p.slice(dir.length + 1)), [
    "00_a.ipynb",
    "10_b.ipynb",
    "scratch.ipynb",
  ]);
  assert.equal(resolveNotebook("demo", dir), join(dir, "demo", "demo.ipynb"));
  assert.equal(resolveNotebook("scratch", dir), join(dir, "scratch.ipynb"));
  assert.equal(
    resolveNotebook("b", dir),
    join(dir, "10_b.ipynb"),
    "a numbered notebook answers to its name without the number",
  );
  assert.throws(() => resolveNotebook("nope", dir), /Unknown notebook "nope"\. Notebooks: 00_a, 10_b, scratch, demo\./);
  assert.deepEqual(discoverNotebooks(join(dir, "missing")), []);
});

Deno.test("parseNotebookArgs reads names, profile, output folder and timeout, and rejects unknown options", () => {
  const a = parseNotebookArgs(["demo", "--profile", "smoke", "--out=/tmp/x", "--timeout", "30", "--no-input"]);
  assert.deepEqual(a, {
    names: ["demo"],
    profile: "smoke",
    outDir: "/tmp/x",
    cellTimeoutS: 30,
    noInput: true,
    screenshots: false,
    verbose: false,
  });
  assert.equal(parseNotebookArgs([], undefined).profile, "default");
  assert.throws(() => parseNotebookArgs(["--profile", "huge"]), /Valid profiles: smoke, default, paper/);
  assert.throws(() => parseNotebookArgs(["--fast"]), /Unknown option --fast/);
  assert.throws(() => parseNotebookArgs(["--out"]), /--out needs a value/);
});

Deno.test("reproduce dispatches to the notebooks when one is named, and keeps a named job", () => {
  assert.equal(isNotebookInvocation(["demo"], ["mnist"]), true);
  assert.equal(isNotebookInvocation(["mnist"], ["mnist"]), false);
  assert.equal(
    isNotebookInvocation(["--profile", "bogus"], ["mnist"]),
    true,
    "a bad option is reported by the notebook job",
  );
  assert.equal(isNotebookInvocation([], ["mnist"]), discoverNotebooks().length > 0);
});
