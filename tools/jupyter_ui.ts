/**
 * Driving the classic Jupyter Notebook UI (Notebook 6.4) in headless Chromium, as a user would: open a notebook,
 * "Cell → Run All" from the menu, wait until every cell has run and the kernel is idle, and read back what each
 * code cell shows (its outputs, tables, SVG figures, progress bars, errors) from the page's DOM.
 * Used by `tests/tools/jupyter_ui_test.ts` with {@linkcode withNotebookServer} and `withBrowser`.
 * @module
 */
import type { Page } from "puppeteer-core";
import type { NotebookServer } from "./jupyter_server.ts";

/** What one code cell shows in the page. */
export interface UiCell {
  /** 0-based index among all cells of the notebook. */
  index: number;
  /** First line of its source. */
  line: string;
  /** Whether the source is empty. */
  empty: boolean;
  /** Whether the source ends with `;` (its last statement shows no result, so the cell may have no output). */
  quiet: boolean;
  /** The input prompt's number ("" before it ran, "*" while it runs). */
  prompt: string;
  /** Number of output areas (one per output; a stream is one output). */
  outputs: number;
  /** Output types by their DOM classes: `text`, `html`, `markdown`, `svg`, `error`, `stderr`, ... */
  kinds: string[];
  tables: number;
  svgs: number;
  /** `<progress>` elements. */
  progress: number;
  /** Text of its error outputs (ename: evalue, first lines). */
  errors: string[];
  /** Visible text of its outputs (first 2 000 characters). */
  text: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Opens `path` (relative to the server's notebook folder) and waits until its kernel is connected and idle. */
export async function openNotebook(page: Page, server: NotebookServer, path: string, timeoutMs = 60_000) {
  await page.goto(`${server.url}/notebooks/${path}?token=${server.token}`, { waitUntil: "load" });
  await page.waitForFunction(
    () => {
      // deno-lint-ignore no-explicit-any
      const nb = (globalThis as any).Jupyter?.notebook;
      return nb?.kernel?.is_connected?.() && document.querySelector("#kernel_indicator_icon.kernel_idle_icon");
    },
    { timeout: timeoutMs, polling: 200 },
  );
}

/** The kernel's name as the page shows it (the kernel indicator) and as the notebook's session uses it. */
export function kernelName(page: Page): Promise<{ name: string; display: string }> {
  return page.evaluate(() => {
    // deno-lint-ignore no-explicit-any
    const nb = (globalThis as any).Jupyter.notebook;
    return {
      name: String(nb.kernel?.name ?? ""),
      display: document.querySelector(".kernel_indicator_name")?.textContent ?? "",
    };
  });
}

/** Clicks "Cell → Run All" in the menu bar (opening the menu first, as a user does). */
export async function runAllFromMenu(page: Page): Promise<void> {
  await page.click("#celllink");
  await page.waitForSelector("#run_all_cells > a", { visible: true, timeout: 5_000 });
  await page.click("#run_all_cells > a");
}

/**
 * Waits until every non-empty code cell has an execution number (none shows `*`), the kernel indicator is idle,
 * and the outputs have not changed for `quietMs` (the Deno kernel can publish outputs after it reports idle).
 * @throws Error naming the cells still running when `timeoutMs` passes.
 */
export async function waitForRunAll(page: Page, opts: { timeoutMs: number; quietMs?: number; after?: number }) {
  const deadline = performance.now() + opts.timeoutMs, quietMs = opts.quietMs ?? 1500;
  let lastSig = "", since = performance.now();
  for (;;) {
    const state = await page.evaluate((after: number) => {
      const cells = [...document.querySelectorAll("#notebook-container .cell.code_cell")];
      const prompts = cells.map((c) => {
        const t = c.querySelector(".input_prompt")?.textContent ?? "";
        const m = t.match(/\[(.*?)\]/);
        return m ? m[1]!.trim() : "";
      });
      const sources = cells.map((c) =>
        // deno-lint-ignore no-explicit-any
        ((c as any).querySelector(".CodeMirror")?.CodeMirror?.getValue?.() ?? "") as string
      );
      const pending = prompts.flatMap((p, i) =>
        sources[i]!.trim() && (p === "" || p === "*" || Number(p) <= after) ? [i] : []
      );
      const idle = !!document.querySelector("#kernel_indicator_icon.kernel_idle_icon");
      const sig = cells.map((c) => (c.querySelector(".output")?.innerHTML.length ?? 0)).join(",") + prompts.join(",");
      return { pending, idle, sig, prompts };
    }, opts.after ?? 0);
    const now = performance.now();
    if (state.sig !== lastSig) {
      lastSig = state.sig;
      since = now;
    }
    if (state.pending.length === 0 && state.idle && now - since >= quietMs) return;
    if (now > deadline) {
      throw new Error(
        `Run All did not finish within ${opts.timeoutMs} ms: code cells still pending ${
          JSON.stringify(state.pending)
        }, ` +
          `prompts ${JSON.stringify(state.prompts)}, kernel ${state.idle ? "idle" : "busy"}`,
      );
    }
    await sleep(250);
  }
}

/** What every code cell shows (see {@linkcode UiCell}). */
export function readCells(page: Page): Promise<UiCell[]> {
  return page.evaluate(() => {
    const all = [...document.querySelectorAll("#notebook-container .cell")];
    return all.flatMap((c, index) => {
      if (!c.classList.contains("code_cell")) return [];
      // deno-lint-ignore no-explicit-any
      const src: string = (c as any).querySelector(".CodeMirror")?.CodeMirror?.getValue?.() ?? "";
      const promptText = c.querySelector(".input_prompt")?.textContent ?? "";
      const areas = [...c.querySelectorAll(".output_wrapper .output > .output_area")];
      const kinds = new Set<string>();
      for (const a of areas) {
        const sub = a.querySelector(".output_subarea");
        for (const k of sub?.classList ?? []) {
          if (k.startsWith("output_") && k !== "output_subarea") kinds.add(k.slice(7));
        }
      }
      const out = c.querySelector(".output_wrapper .output");
      return [{
        index,
        line: src.split("\n").find((l) => l.trim())?.trim() ?? "",
        empty: !src.trim(),
        quiet: /;\s*$/.test(src),
        prompt: promptText.match(/\[(.*?)\]/)?.[1]?.trim() ?? "",
        outputs: areas.length,
        kinds: [...kinds].sort(),
        tables: out?.querySelectorAll("table").length ?? 0,
        svgs: out?.querySelectorAll("svg").length ?? 0,
        progress: out?.querySelectorAll("progress").length ?? 0,
        errors: [...(out?.querySelectorAll(".output_error") ?? [])].map((e) =>
          (e.textContent ?? "").trim().split("\n").slice(0, 3).join(" ")
        ),
        text: ((out as HTMLElement | null)?.innerText ?? "").slice(0, 2000),
      }];
    });
  });
}

/**
 * Runs `code` in the page's kernel (through the notebook's kernel connection, not as a cell) and returns the
 * `text/plain` of its result, e.g. `"42"`.
 */
export function kernelEval(page: Page, code: string, timeoutMs = 30_000): Promise<string> {
  return page.evaluate(
    (code: string, timeoutMs: number) =>
      new Promise<string>((resolve, reject) => {
        type Msg = { content: { status?: string; ename?: string; evalue?: string; data?: Record<string, unknown> } };
        // deno-lint-ignore no-explicit-any
        const kernel = (globalThis as any).Jupyter.notebook.kernel;
        let result = "";
        const timer = setTimeout(() => reject(new Error(`no result within ${timeoutMs} ms from ${code}`)), timeoutMs);
        const poll = setInterval(() => {
          // The reply can come before the result (the Deno kernel publishes some outputs late).
          if (!result) return;
          clearInterval(poll);
          clearTimeout(timer);
          resolve(result);
        }, 50);
        kernel.execute(code, {
          shell: {
            reply: (msg: Msg) => {
              if (msg.content.status === "ok") return;
              clearInterval(poll);
              clearTimeout(timer);
              reject(new Error(`${msg.content.ename}: ${msg.content.evalue}`));
            },
          },
          iopub: {
            output: (msg: Msg) => {
              const t = msg.content.data?.["text/plain"];
              if (t !== undefined) result = String(t);
            },
            clear_output: () => {},
          },
        }, { silent: false, store_history: false });
      }),
    code,
    timeoutMs,
  );
}

/** Saves the whole page (every cell, not only the viewport) as a PNG. */
export async function screenshot(page: Page, path: string): Promise<void> {
  // The notebook scrolls inside #site; let the page grow to its content so that a full-page shot has every cell.
  await page.addStyleTag({ content: "#site { height: auto !important; overflow: visible !important; }" });
  await sleep(300);
  await page.screenshot({ path: path as `${string}.png`, fullPage: true });
}

/** What {@linkcode readWatch} reports per code cell (by its 0-based index among all cells) since the last read. */
export interface OutputWatch {
  /** The most output areas the cell had at any moment (a progress bar redrawn in place keeps this at 1). */
  maxOutputs: Record<number, number>;
  /** The distinct texts of the cell's `<progress>` output seen (at most 200). */
  progressStates: Record<number, string[]>;
}

/**
 * Watches the notebook's outputs from now on (a MutationObserver in the page): how many output areas each code
 * cell had at most, and the distinct states of its progress bar. Read it with {@linkcode readWatch}.
 */
export async function watchOutputs(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = { maxOutputs: {} as Record<number, number>, progressStates: {} as Record<number, string[]> };
    // deno-lint-ignore no-explicit-any
    (globalThis as any).__oodWatch = w;
    const scan = () => {
      [...document.querySelectorAll("#notebook-container .cell")].forEach((c, i) => {
        if (!c.classList.contains("code_cell")) return;
        const n = c.querySelectorAll(".output_wrapper .output > .output_area").length;
        w.maxOutputs[i] = Math.max(w.maxOutputs[i] ?? 0, n);
        const p = c.querySelector(".output_wrapper .output progress");
        if (p) {
          const text = (p.closest(".output_area")?.textContent ?? "").trim();
          const seen = (w.progressStates[i] ??= []);
          if (!seen.includes(text) && seen.length < 200) seen.push(text);
        }
      });
    };
    new MutationObserver(scan).observe(document.querySelector("#notebook-container")!, {
      childList: true,
      subtree: true,
      characterData: true,
      attributes: true,
    });
  });
}

/** What the watch saw since it was installed or last read (and starts over). */
export function readWatch(page: Page): Promise<OutputWatch> {
  return page.evaluate(() => {
    // deno-lint-ignore no-explicit-any
    const w = (globalThis as any).__oodWatch as OutputWatch;
    const copy = JSON.parse(JSON.stringify(w)) as OutputWatch;
    w.maxOutputs = {};
    w.progressStates = {};
    return copy;
  });
}

/** Inserts a code cell with `source` at `index` through the notebook's own API (as the "insert cell" action does). */
export async function insertCodeCell(page: Page, index: number, source: string): Promise<void> {
  await page.evaluate(
    (index: number, source: string) => {
      // deno-lint-ignore no-explicit-any
      const cell = (globalThis as any).Jupyter.notebook.insert_cell_at_index("code", index);
      cell.set_text(source);
    },
    index,
    source,
  );
}

/** Text without ANSI escapes (the Deno kernel colours its `text/plain`). */
export function stripAnsi(s: string): string {
  // deno-lint-ignore no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, "");
}
