/**
 * The HTML reports in a real browser: `deno task reproduce … --screenshots` runs two fast notebooks (the demo
 * notebook and ELOC at the smoke profile) into a temporary reports folder, then every page opens in
 * headless Chromium without console errors or failed requests, with sized SVG figures and tables, the index links
 * resolve, the pages fit a 400 px screen, and the screenshots are written next to the reports. A hand-made folder
 * shows that the check catches each kind of problem. The index page itself (headline tables, leaderboard slot) is
 * tested without a browser.
 *
 * The browser tests skip, saying why, only where Chromium is not installed (`browserUnavailable()`).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { browserUnavailable } from "../../tools/browser.ts";
import {
  type NotebookRun,
  parseNotebookArgs,
  REPORT_CSS,
  reproduceNotebooks,
  writeIndex,
} from "../../tools/notebooks.ts";
import { checkReports, NARROW_WIDTH, pageProblems } from "../../tools/report_check.ts";
import { type ResultRow, type RunManifest, writeResults } from "@lib/report/results.ts";
import { row } from "../report/_fixtures.ts";

const unavailable = browserUnavailable();
const skipped = unavailable ? ` (SKIPPED: ${unavailable})` : "";

/** Width and height of a PNG file, from its IHDR chunk. */
async function pngSize(path: string): Promise<{ width: number; height: number }> {
  const b = await Deno.readFile(path);
  assert.deepEqual([...b.subarray(1, 4)], [0x50, 0x4e, 0x47], `${path} is a PNG`);
  const v = new DataView(b.buffer, b.byteOffset);
  return { width: v.getUint32(16), height: v.getUint32(20) };
}

Deno.test({
  name: `reproduce --screenshots: the demo and ELOC reports and the index open in headless Chromium, ` +
    `self-contained, with figures, tables, working links, a 400 px layout and screenshots${skipped}`,
  ignore: unavailable !== null,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "reports-browser-" });
    const lines: string[] = [];
    const rc = await reproduceNotebooks(
      ["demo", "eloc", "--profile", "smoke", "--out", dir, "--screenshots"],
      (l) => lines.push(l),
    );
    const log = lines.join("\n");
    assert.equal(rc, 0, log);
    for (const page of ["index.html", "smoke/demo.html", "smoke/eloc.html"]) {
      assert.ok(lines.some((l) => l.startsWith(`✔ ${page}: `)), `one ✔ line for ${page}:\n${log}`);
    }
    assert.match(log, /^screenshots: .*index-400\.png/m);
    // Every report carries the shared phone-width CSS (nbrun.py inlines tools/report.css).
    const css = await Deno.readTextFile(REPORT_CSS);
    for (const page of ["smoke/demo.html", "smoke/eloc.html"]) {
      assert.ok((await Deno.readTextFile(join(dir, page))).includes(css), `${page} inlines tools/report.css`);
    }
    assert.equal((await pngSize(join(dir, "index.png"))).width, 1280);
    assert.equal((await pngSize(join(dir, "smoke", "demo.png"))).width, 1280);
    assert.equal((await pngSize(join(dir, "smoke", "eloc.png"))).width, 1280);
    assert.equal((await pngSize(join(dir, `index-${NARROW_WIDTH}.png`))).width, NARROW_WIDTH);

    // The same check, for its details (no screenshots this time).
    const check = await checkReports(dir, { screenshots: false });
    assert.deepEqual(check.problems, []);
    assert.deepEqual(check.pages.map((p) => p.page), ["index.html", "smoke/demo.html", "smoke/eloc.html"]);
    const [index, demo, eloc] = check.pages;
    for (const p of check.pages) {
      assert.deepEqual(p.consoleErrors, [], `${p.page}: console errors`);
      assert.deepEqual(p.failedRequests, [], `${p.page}: failed requests`);
      assert.equal(p.zeroSizeSvgs, 0, `${p.page}: every SVG has a size`);
      assert.ok(p.tables > 0, `${p.page}: tables`);
      assert.ok(p.narrow.scrollWidth <= NARROW_WIDTH, `${p.page}: no sideways scrolling at ${NARROW_WIDTH} px`);
      assert.deepEqual(p.narrow.overflow, [], `${p.page}: tables scroll in their wrapper, figures fit`);
    }
    assert.ok(demo!.svgs >= 4, "the demo report's four figures");
    assert.ok(eloc!.svgs >= 4, "the ELOC report's figures");
    assert.equal(index!.title, "ood-notebooks reports");
    assert.ok(index!.tables >= 3, "the run table and one headline table per notebook");
    const hrefs = Object.keys(index!.links);
    for (
      const h of [
        "smoke/demo.html",
        "smoke/demo.ipynb",
        "smoke/results/demo.csv",
        "smoke/eloc.html",
        "smoke/eloc.ipynb",
        "smoke/results/eloc.csv",
        "#nb-smoke-demo",
        "#nb-smoke-eloc",
      ]
    ) assert.ok(hrefs.includes(h), `the index links ${h}: ${hrefs.join(", ")}`);
    assert.ok(Object.values(index!.links).every((why) => why === null), JSON.stringify(index!.links));

    const html = await Deno.readTextFile(join(dir, "index.html"));
    assert.match(html, /<th class="key">Engine<\/th>/);
    assert.match(html, /<td class="key">cpu<\/td>/, "the demo's engine");
    assert.match(html, /demo: average over OOD sets/);
    assert.match(html, /eloc: average over OOD sets/);
    assert.doesNotMatch(html, /id="leaderboard"/, "no leaderboard without a leaderboard run");
  },
});

Deno.test({
  name: `checkReports reports console errors, failed requests, empty SVGs, missing tables, broken links and ` +
    `pages too wide for a phone${skipped}`,
  ignore: unavailable !== null,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "reports-bad-" });
    await Deno.mkdir(join(dir, "results"));
    await Deno.writeTextFile(join(dir, "results", "ok.csv"), "a,b\n1,2\n");
    await Deno.writeTextFile(
      join(dir, "index.html"),
      `<!DOCTYPE html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>t</title></head><body>
<a href="good.html">good</a> <a href="results/ok.csv">csv</a> <a href="missing.html">missing</a>
<a href="https://example.com/">outside</a> <a href="#here">here</a> <a href="#nowhere">nowhere</a>
<h2 id="here">here</h2><table style="width:900px"><tr><td>a table wider than a phone, not in a wrapper</td></tr></table>
</body></html>`,
    );
    await Deno.writeTextFile(
      join(dir, "good.html"),
      `<!DOCTYPE html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>good</title></head>
<body><div style="overflow-x:auto"><table style="width:900px"><tr><td>scrolls inside its wrapper</td></tr></table></div>
<svg viewBox="0 0 800 100" width="800" height="100" style="max-width:100%;height:auto"><rect width="800" height="100"/></svg>
</body></html>`,
    );
    await Deno.writeTextFile(
      join(dir, "bad.html"),
      `<!DOCTYPE html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>bad</title></head>
<body><img src="https://example.com/logo.png" alt=""><img src="nothere.png" alt="">
<script>console.error("boom"); setTimeout(() => { throw new Error("late boom"); });</script>
<svg width="0" height="0"></svg><svg width="800" height="50"><rect width="800" height="50"/></svg>
</body></html>`,
    );
    // Pages named: a hand-made folder, not the runner's `<profile>/` layout that the default list reads.
    const check = await checkReports(dir, { screenshots: false, pages: ["index.html", "bad.html", "good.html"] });
    const problems = check.problems.join("\n");
    assert.deepEqual(check.pages.map((p) => p.page), ["index.html", "bad.html", "good.html"]);
    assert.deepEqual(pageProblems(check.pages[2]!), [], "the good page passes");
    for (
      const expected of [
        /^index\.html: link missing\.html: HTTP 404$/m,
        /^index\.html: link https:\/\/example\.com\/: points outside the reports folder$/m,
        /^index\.html: link #nowhere: no element with that id on the page$/m,
        /^index\.html: at 400 px the page scrolls sideways/m,
        /^index\.html: at 400 px: <table> 9\d\d px wide does not scroll inside a wrapper that fits the screen$/m,
        /^bad\.html: console error: boom$/m,
        /^bad\.html: console error: uncaught: late boom$/m,
        /^bad\.html: failed request: https:\/\/example\.com\/logo\.png \(net::ERR_NAME_NOT_RESOLVED\)$/m,
        /^bad\.html: failed request: http:\/\/127\.0\.0\.1:\d+\/nothere\.png \(HTTP 404\)$/m,
        /^bad\.html: 1 of 2 SVG figures have no size on the page$/m,
        /^bad\.html: no table on the page$/m,
        /^bad\.html: at 400 px: <svg> 800×50 px does not fit the 400 px screen$/m,
      ]
    ) assert.match(problems, expected);
    assert.doesNotMatch(problems, /good\.html|ok\.csv|#here/);
    assert.deepEqual(check.screenshots, []);
  },
});

/** A run record as runNotebook writes it. */
function fakeRun(dir: string, name: string, ok = true): NotebookRun {
  return {
    name,
    notebook: `notebooks/${name}.ipynb`,
    profile: "smoke",
    ok,
    status: ok ? "ok" : "error",
    cell: ok ? null : 3,
    executionCount: ok ? null : 2,
    ename: ok ? null : "Error",
    evalue: ok ? null : "boom",
    traceback: [],
    message: ok ? "ok" : "cell 3 [2]: Error: boom",
    startedAt: "2026-01-02T03:04:05.000Z",
    seconds: 12.3,
    lateOutputs: 0,
    ipynb: join(dir, `${name}.ipynb`),
    html: join(dir, `${name}.html`),
    results: ok ? join(dir, "results", `${name}.parquet`) : null,
    stderr: "",
  };
}

/** Writes a fake smoke run into `<root>/smoke/` (the runner's layout: one folder per profile). */
async function writeFakeRun(root: string, name: string, rows: ResultRow[] | null, ok = true): Promise<void> {
  const dir = join(root, "smoke");
  await Deno.mkdir(join(dir, "results"), { recursive: true });
  const run = fakeRun(dir, name, ok);
  await Deno.writeTextFile(join(dir, `${name}.run.json`), JSON.stringify(run));
  await Deno.writeTextFile(run.ipynb, "{}");
  await Deno.writeTextFile(run.html!, "<!DOCTYPE html><title>r</title><table></table>");
  if (!rows) return;
  const manifest: RunManifest = {
    paper: name,
    name,
    profile: "smoke",
    createdAt: run.startedAt,
    config: {},
    git: { commit: "0123456789abcdef", dirty: false },
    versions: { deno: "2", v8: "1", typescript: "5", tfjs: null },
    engine: { engine: "native", description: "native kernels", threads: 2, reason: "auto" },
    datasets: {},
    timings: {},
  };
  await writeResults(rows, manifest, { dir: join(dir, "results") });
}

Deno.test("writeIndex: status, profile, engine, time and links per run, one headline table per notebook, and the leaderboard first only once it has run", async () => {
  const dir = await Deno.makeTempDir({ prefix: "reports-index-" });
  // Two FPR rules and two class-split partitions of MNIST: the headline keeps the first rule and pools partitions.
  const rows: ResultRow[] = [];
  for (const idDataset of ["mnist:p1", "mnist:p2"]) {
    for (const fprRule of ["sklearn", "odin"]) {
      for (const seed of [0, 1]) {
        for (const [label, auroc] of [["A", 0.9], ["B", 0.8]] as const) {
          rows.push(row(
            { label, method: label.toLowerCase(), score: "msp", idDataset, oodDataset: "mnist:unseen", fprRule, seed },
            { auroc: auroc + seed * 0.01, fpr95: fprRule === "odin" ? 0.5 : 0.3, idAccuracy: 0.99 },
          ));
        }
      }
    }
  }
  await writeFakeRun(dir, "paper_a", rows);
  await writeFakeRun(dir, "broken", null, false);
  let html = await Deno.readTextFile(await writeIndex(dir));
  assert.match(html, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
  assert.doesNotMatch(html, /<script/i);
  assert.match(html, /max-width: 100%;/, "the shared report CSS (tools/report.css) is in");
  assert.match(html, /<!-- Leaderboard: shown here, first, once a notebook named "leaderboard" has run/);
  assert.doesNotMatch(html, /id="leaderboard"/);
  assert.match(
    html,
    /<tr><td class="key"><a href="#nb-smoke-paper_a">paper_a<\/a><\/td><td class="key"><span class="ok">✔ ok<\/span><\/td><td class="key">smoke<\/td><td class="key">native<\/td><td>12\.3 s<\/td><td class="key">2026-01-02 03:04:05<\/td><td class="key"><a href="smoke\/paper_a\.html">report<\/a> · <a href="smoke\/paper_a\.ipynb">notebook<\/a> · <a href="smoke\/results\/paper_a\.csv">results \(CSV\)<\/a><\/td><\/tr>/,
  );
  assert.match(html, /✘ cell 3 \[2\]: Error: boom/);
  assert.match(html, /<td class="key">—<\/td>/, "no engine for a run without a manifest");
  assert.match(html, /engine native \(native kernels, 2 threads\)/);
  const section = html.slice(html.indexOf('<section id="nb-smoke-paper_a">'));
  assert.match(section, /<caption>paper_a: average over OOD sets<\/caption>/);
  assert.match(section, /<th class="number">AUROC %<\/th><th class="number">FPR95 %<\/th>/);
  assert.doesNotMatch(section.slice(0, section.indexOf("</table>")), /ID acc|<th class="key">OOD<\/th>/);
  // A: AUROC 90 and 91 over two seeds → 90.50 ± 0.71; FPR95 by the first rule (sklearn) only: 30.
  assert.match(section, /A<\/td><td class="number best" title="2 seed\(s\)"><strong>90\.50 ± 0\.71<\/strong><\/td>/);
  assert.match(section, /30\.00 ± 0\.00/);
  assert.doesNotMatch(section, /50\.00 ± 0\.00/);
  assert.match(section, /Other FPR rules in the result rows: odin\. Mean over the ID partitions mnist:p1, mnist:p2\./);
  assert.equal((section.match(/<tr[ >]/g) ?? []).length, 3, "header + one row per method (partitions pooled)");

  await writeFakeRun(dir, "leaderboard", [row({ score: "msp", oodDataset: "x", seed: 0 }, { auroc: 0.7 })]);
  html = await Deno.readTextFile(await writeIndex(dir));
  const board = html.indexOf('<section id="leaderboard">');
  assert.ok(board > 0 && board < html.indexOf('<section id="runs">'), "the leaderboard comes first");
  assert.match(html, /leaderboard: average over OOD sets/);
  assert.match(html, /<a href="#leaderboard">leaderboard<\/a>/, "the runs table links to the leaderboard's section");
});

Deno.test("parseNotebookArgs reads --screenshots", () => {
  assert.equal(parseNotebookArgs(["demo", "--screenshots"]).screenshots, true);
  assert.equal(parseNotebookArgs(["demo"]).screenshots, false);
});
