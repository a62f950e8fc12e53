/**
 * The notebooks in a real Jupyter: the classic Notebook server (Debian's jupyter-notebook) on 127.0.0.1 with a
 * token, its UI in headless Chromium (tools/browser.ts), the notebook's own kernel (`deno`, registered by
 * `deno jupyter --install` in tools/setup.sh). Each test opens a copy of a notebook (in a temporary folder inside
 * the repository, so that the kernel finds deno.json and its import map, removed afterwards; results go to that
 * folder too), clicks Cell → Run All, waits until every cell has run and the kernel is idle, and checks the page's
 * DOM: every code cell shows an output, tables and SVG figures rendered, no error output, the progress bar is one
 * output redrawn in place. Then Run All again in the same kernel: no error (no "already declared"), the same
 * outputs, the same engine (not started twice), no more live tensors than after the first run.
 * Full-page screenshots go to tests/out/jupyter/ (`<notebook>-run1.png`, `<notebook>-run2.png`).
 * Skipped, with the reason, where Chromium or `jupyter notebook` is not installed.
 */
import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { browserUnavailable, withBrowser } from "../../tools/browser.ts";
import {
  notebookServerUnavailable,
  pidsWithArg,
  processAlive,
  withNotebookServer,
} from "../../tools/jupyter_server.ts";
import {
  insertCodeCell,
  kernelEval,
  kernelName,
  openNotebook,
  type OutputWatch,
  readCells,
  readWatch,
  runAllFromMenu,
  screenshot,
  stripAnsi,
  type UiCell,
  waitForRunAll,
  watchOutputs,
} from "../../tools/jupyter_ui.ts";
import { NOTEBOOKS_DIR, ROOT } from "../../tools/notebooks.ts";

const SKIP = browserUnavailable() ?? notebookServerUnavailable();
if (SKIP) console.warn(`jupyter_ui_test: skipped: ${SKIP}`);

/** Where the screenshots go. */
const OUT = join(ROOT, "tests", "out", "jupyter");

/** A probe run in the kernel after each Run All: the engine (and whether it is the same one), live tensors. */
const PROBE = `await (async () => {
  const { backendReport } = await import("@lib/engine/mod.ts");
  const { tf } = await import("@lib/tf.ts");
  const report = backendReport();
  const g = globalThis as { __oodUiEngine?: unknown };
  g.__oodUiEngine ??= report;
  return [report?.engine ?? "none", g.__oodUiEngine === report ? "same" : "restarted", tf.memory().numTensors].join(" ");
})()`;

interface Probe {
  engine: string;
  same: boolean;
  tensors: number;
}

async function probe(page: Parameters<typeof kernelEval>[0]): Promise<Probe> {
  const text = stripAnsi(await kernelEval(page, PROBE)).replace(/^["'`]|["'`]$/g, "");
  const [engine, same, tensors] = text.split(" ");
  return { engine: engine!, same: same === "same", tensors: Number(tensors) };
}

/** The per-cell summary two runs must agree on. */
function shape(c: UiCell) {
  return { index: c.index, outputs: c.outputs, kinds: c.kinds, tables: c.tables, svgs: c.svgs, progress: c.progress };
}

function describe(cells: UiCell[]): string {
  return cells.map((c) =>
    `  cell ${c.index} [${c.prompt}] ${c.line.slice(0, 60)}: ${c.outputs} output(s) ${c.kinds.join(",")}` +
    (c.errors.length ? ` ERROR ${c.errors.join(" | ")}` : "")
  ).join("\n");
}

/** What every Run All must show in the page. */
function assertRendered(cells: UiCell[], watch: OutputWatch, opts: { minProgressStates: number }): void {
  const all = describe(cells);
  assert.ok(cells.length > 0, "the page shows code cells");
  const errors = cells.filter((c) => c.errors.length || c.kinds.includes("error"));
  assert.deepEqual(errors.map((c) => `cell ${c.index}: ${c.errors.join(" | ")}`), [], `no error outputs:\n${all}`);
  const silent = cells.filter((c) => !c.empty && !c.quiet && c.outputs === 0);
  assert.deepEqual(silent.map((c) => c.index), [], `every code cell has an output:\n${all}`);
  assert.ok(cells.some((c) => c.tables > 0), `a table rendered:\n${all}`);
  assert.ok(cells.some((c) => c.svgs > 0), `an SVG figure rendered:\n${all}`);
  const bars = cells.filter((c) => c.progress > 0);
  assert.ok(bars.length > 0, `a progress bar rendered:\n${all}`);
  for (const c of bars) {
    assert.equal(c.outputs, 1, `cell ${c.index}: the progress bar is the cell's one output`);
    assert.equal(c.progress, 1, `cell ${c.index}: one <progress> element`);
    assert.equal(watch.maxOutputs[c.index], 1, `cell ${c.index}: never more than one output while it ran`);
    const states = watch.progressStates[c.index] ?? [];
    assert.ok(
      states.length >= opts.minProgressStates,
      `cell ${c.index}: the bar was redrawn in place (states seen: ${JSON.stringify(states)})`,
    );
    assert.match(c.text, /100%/, `cell ${c.index}: the bar ends full (${JSON.stringify(states)})`);
  }
}

interface UiRunOptions {
  /** The notebook to copy and open. */
  notebook: string;
  /** Environment of the server (and so of the kernel). */
  env: Record<string, string>;
  /** A code cell inserted at the top through the UI before the first Run All. */
  prelude?: string;
  /** Seconds one Run All may take. */
  runTimeoutS: number;
  minProgressStates: number;
  /** More checks on the first run's cells. */
  check?: (cells: UiCell[]) => void;
}

/** Copies, opens, runs all twice through the UI and checks; stops everything and checks that nothing survived. */
async function runAllTwiceInUi(opts: UiRunOptions): Promise<void> {
  await Deno.mkdir(OUT, { recursive: true });
  const name = basename(opts.notebook, ".ipynb");
  // Inside the repository, so that the kernel (run in the notebook's folder) finds deno.json and its import map.
  const work = await Deno.makeTempDir({ dir: OUT, prefix: `work-${name}-` });
  let runtimeDir = "", serverPid = 0, killedKernels: number[] | null = null;
  const t0 = performance.now();
  const log = (s: string) => console.log(`[jupyter-ui ${name} ${((performance.now() - t0) / 1000).toFixed(1)} s] ${s}`);
  try {
    await Deno.copyFile(opts.notebook, join(work, `${name}.ipynb`));
    const env = {
      ...opts.env,
      OOD_REPORTS_DIR: join(work, "reports"),
      OOD_RESULTS_DIR: join(work, "reports", "results"),
      OOD_NOTEBOOK: name,
    };
    const onStopped = (r: { killedKernels: number[] }) => void (killedKernels = r.killedKernels);
    await withNotebookServer({ notebookDir: work, env, onStopped }, async (server) => {
      runtimeDir = server.runtimeDir;
      serverPid = server.pid;
      log(`server on ${server.url} (pid ${server.pid})`);
      const specs = await (await server.api("/api/kernelspecs")).json() as { kernelspecs: Record<string, unknown> };
      assert.ok(
        "deno" in specs.kernelspecs,
        `the notebooks' kernel "deno" is registered (tools/setup.sh runs \`deno jupyter --install\`); found: ` +
          Object.keys(specs.kernelspecs).join(", "),
      );
      await withBrowser(async (browser) => {
        const page = await browser.newPage();
        const pageErrors: string[] = [];
        page.on("pageerror", (e) => pageErrors.push(String(e)));
        await openNotebook(page, server, `${name}.ipynb`);
        const kernel = await kernelName(page);
        log(`opened; kernel ${kernel.name} ("${kernel.display}")`);
        assert.equal(kernel.name, "deno", "the notebook runs on the kernel its metadata names: deno");
        if (opts.prelude) await insertCodeCell(page, 0, opts.prelude);
        await watchOutputs(page);

        await runAllFromMenu(page);
        await waitForRunAll(page, { timeoutMs: opts.runTimeoutS * 1000 });
        const first = await readCells(page), watch1 = await readWatch(page);
        log(`Run All 1 done:\n${describe(first)}`);
        for (const [cell, states] of Object.entries(watch1.progressStates)) {
          log(`cell ${cell}: ${states.length} progress state(s) in one output, last: ${states.at(-1)}`);
        }
        assertRendered(first, watch1, opts);
        opts.check?.(first);
        const p1 = await probe(page);
        log(`after run 1: engine ${p1.engine}, ${p1.tensors} live tensor(s)`);
        await screenshot(page, join(OUT, `${name}-run1.png`));

        const lastPrompt = Math.max(...first.map((c) => Number(c.prompt) || 0));
        await runAllFromMenu(page);
        await waitForRunAll(page, { timeoutMs: opts.runTimeoutS * 1000, after: lastPrompt });
        const second = await readCells(page), watch2 = await readWatch(page);
        log(`Run All 2 done:\n${describe(second)}`);
        assertRendered(second, watch2, opts);
        assert.deepEqual(second.map(shape), first.map(shape), "the second Run All shows the same outputs");
        const p2 = await probe(page);
        log(`after run 2: engine ${p2.engine} (${p2.same ? "same" : "restarted"}), ${p2.tensors} live tensor(s)`);
        assert.ok(p2.same && p2.engine === p1.engine, "the engine is not started a second time");
        assert.ok(p2.tensors <= p1.tensors, `no tensors leak per run (${p1.tensors} → ${p2.tensors})`);
        await screenshot(page, join(OUT, `${name}-run2.png`));
        log(`screenshots: ${join(OUT, `${name}-run1.png`)}, ${join(OUT, `${name}-run2.png`)}`);
        if (pageErrors.length) log(`page errors (not failing the test): ${pageErrors.join(" | ")}`);
      });
    });
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
  assert.deepEqual(killedKernels, [], "the server shut its kernels down (none had to be killed after it)");
  const survivors = runtimeDir ? pidsWithArg(runtimeDir) : [];
  assert.deepEqual(survivors, [], "no kernel of the run survives the server");
  assert.ok(serverPid > 0 && !processAlive(serverPid), "the server is gone");
  log("server, kernels and browser stopped");
}

Deno.test({
  name: "Jupyter Notebook UI: the demo notebook, profile set from a cell, runs all twice in one kernel and renders",
  ignore: SKIP !== null,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    runAllTwiceInUi({
      notebook: join(NOTEBOOKS_DIR, "demo", "demo.ipynb"),
      // No profile in the environment: the inserted first cell sets it, as the README says.
      env: { OOD_PROFILE: "" },
      prelude: 'Deno.env.set("OOD_PROFILE", "smoke");',
      runTimeoutS: 120,
      minProgressStates: 1,
      check: (cells) => {
        const text = cells.map((c) => c.text).join("\n");
        assert.match(text, /profile: "smoke"/, "the config cell read the profile set in the first cell");
        assert.ok(cells.some((c) => c.kinds.includes("markdown")), "markdown from code rendered");
        assert.ok(cells.filter((c) => c.svgs > 0).length >= 4, "four figure cells rendered SVG");
        assert.ok(cells.filter((c) => c.tables > 0).length >= 3, "the DataFrame, metric and paper tables");
      },
    }),
});

Deno.test({
  name: "Jupyter Notebook UI: 00_baselines at the smoke profile runs all twice in one kernel and renders",
  ignore: SKIP !== null,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    runAllTwiceInUi({
      notebook: join(NOTEBOOKS_DIR, "00_baselines.ipynb"),
      env: { OOD_PROFILE: "smoke" },
      runTimeoutS: 240,
      minProgressStates: 2,
      check: (cells) => {
        assert.match(cells.map((c) => c.text).join("\n"), /profile: "smoke"/);
        assert.ok(cells.filter((c) => c.svgs > 0).length >= 4, "histogram, ROC, curve and projection figures");
      },
    }),
});
