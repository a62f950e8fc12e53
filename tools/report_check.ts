/**
 * Opens the HTML reports in headless Chromium (`tools/browser.ts`) and checks what a reader would see.
 *
 * {@linkcode checkReports} serves a reports folder on 127.0.0.1 (a tiny static server; every other host fails to
 * resolve, so a page that needs the network fails visibly) and, for `index.html` and every `<profile>/<name>.html`
 * in it:
 * - the page loads with no console error, no uncaught exception and no failed request (self-contained);
 * - every SVG has a non-zero size on the page, and the page shows at least one table;
 * - every link of the index resolves (a file of the folder that the server returns, or an anchor of the page);
 * - at a phone-width viewport (400 px) the page does not scroll sideways: tables wider than the screen scroll
 *   inside a wrapper that fits, figures (SVG, images) fit the width;
 * and saves screenshots next to the reports: `<profile>/<name>.png` and `index.png` (1280 px wide, the full page up to
 * {@linkcode MAX_SCREENSHOT_HEIGHT}), and `index-400.png` (the index at 400 px).
 *
 * Used by `tests/tools/reports_browser_test.ts` and by `deno task reproduce … --screenshots`; also a CLI:
 * `deno run -A tools/report_check.ts [DIR]` (default `reports/`) checks a folder already written, prints one line
 * per page and every problem, and exits 1 when there is one.
 * @module
 */
import { extname, join, normalize, relative, resolve } from "node:path";
import type { Page } from "puppeteer-core";
import { browserUnavailable, withBrowser } from "./browser.ts";
import { REPORTS_DIR } from "./notebooks.ts";
import { PROFILES } from "../lib/report/profile.ts";

/** Width of the phone-size viewport of the readability check, in CSS pixels. */
export const NARROW_WIDTH = 400;
/** Full-page screenshots are cut at this height (px), below Chromium's texture limit. */
export const MAX_SCREENSHOT_HEIGHT = 12_000;

/** What the check found on one page. */
export interface PageCheck {
  /** Path in the reports folder (`index.html`, `smoke/demo.html`). */
  page: string;
  /** Document title. */
  title: string;
  /** Console errors and uncaught exceptions. */
  consoleErrors: string[];
  /** Requests that failed or answered 4xx/5xx: `URL (reason)`. */
  failedRequests: string[];
  /** SVG elements (outermost ones) and how many of them have a zero width or height on the page. */
  svgs: number;
  zeroSizeSvgs: number;
  /** `<table>` elements. */
  tables: number;
  /** Links of the page (checked on the index only): href → null when it resolves, else why not. */
  links: Record<string, string | null>;
  /** At {@linkcode NARROW_WIDTH} px: the document's scroll width and what sticks out of the screen. */
  narrow: { width: number; scrollWidth: number; overflow: string[] };
  /** Screenshots written (absolute paths). */
  screenshots: string[];
}

/** The outcome of {@linkcode checkReports}. */
export interface ReportCheck {
  dir: string;
  pages: PageCheck[];
  /** One line per problem, `page: what`; empty when every page passed. */
  problems: string[];
  /** Every screenshot written (absolute paths). */
  screenshots: string[];
}

/** Options of {@linkcode checkReports}. */
export interface CheckReportsOptions {
  /** Write the screenshots (default true). */
  screenshots?: boolean;
  /** Width of the phone-size check (default {@linkcode NARROW_WIDTH}). */
  narrowWidth?: number;
  /** Pages to check (file names in the folder); default `index.html` and every other `*.html` in it. */
  pages?: readonly string[];
  /** Milliseconds to wait for a page to load (default 30 000). */
  timeoutMs?: number;
}

const MIME: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".json": "application/json",
  ".ipynb": "application/x-ipynb+json",
  ".csv": "text/csv; charset=utf-8",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".css": "text/css",
  ".js": "text/javascript",
  ".parquet": "application/octet-stream",
};

/** Serves the files of `dir` (read-only, nothing outside it) on 127.0.0.1 at a free port. */
export function serveFolder(dir: string): { origin: string; close: () => Promise<void> } {
  const root = resolve(dir);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = decodeURIComponent(new URL(req.url).pathname);
    const file = normalize(join(root, path.endsWith("/") ? `${path}index.html` : path));
    if (relative(root, file).startsWith("..")) return new Response("forbidden", { status: 403 });
    try {
      const body = await Deno.readFile(file);
      return new Response(req.method === "HEAD" ? null : body, {
        headers: { "content-type": MIME[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" },
      });
    } catch {
      // Chromium asks an http:// page for /favicon.ico by itself (a reader's file:// page does not): not the report's.
      if (path === "/favicon.ico") return new Response(null, { status: 204 });
      return new Response("not found", { status: 404 });
    }
  });
  const addr = server.addr as Deno.NetAddr;
  return { origin: `http://127.0.0.1:${addr.port}`, close: () => server.shutdown() };
}

/**
 * The report pages of a reports folder: `index.html` first, then every `<profile>/*.html`, profile by profile
 * (smallest first), by name. The partial reports of runs that did not complete (`<profile>/failed/`) are not
 * checked as reports; the index's links to them are.
 */
export function reportPages(dir: string): string[] {
  const html = (sub: string) => {
    try {
      return [...Deno.readDirSync(join(dir, sub))].filter((e) => e.isFile && e.name.endsWith(".html"))
        .map((e) => sub ? `${sub}/${e.name}` : e.name).sort();
    } catch {
      return [];
    }
  };
  return [...html("").filter((n) => n === "index.html"), ...PROFILES.flatMap((p) => html(p))];
}

/** Records console errors, uncaught exceptions and failed requests of a page. */
function watch(page: Page): { errors: string[]; failed: string[] } {
  const errors: string[] = [], failed: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(`uncaught: ${(e as Error).message ?? String(e)}`));
  page.on("requestfailed", (r) => failed.push(`${r.url()} (${r.failure()?.errorText ?? "failed"})`));
  page.on("response", (r) => {
    if (r.status() >= 400) failed.push(`${r.url()} (HTTP ${r.status()})`);
  });
  return { errors, failed };
}

/** In the page: outermost SVGs and their sizes, and the number of tables. */
function measure(page: Page): Promise<{ title: string; svgs: number[][]; tables: number }> {
  return page.evaluate(() => {
    const svgs = [...document.querySelectorAll("svg")].filter((s) => !s.parentElement?.closest("svg")).map((s) => {
      const r = s.getBoundingClientRect();
      return [r.width, r.height];
    });
    return { title: document.title, svgs, tables: document.querySelectorAll("table").length };
  });
}

/**
 * In the page, at the current (narrow) viewport: the document's scroll width, and the tables and figures that
 * stick out of the screen. A table wider than the screen is fine inside an ancestor that fits the screen and
 * scrolls sideways (`overflow-x: auto|scroll`); a figure must fit the screen (scale down).
 */
function narrowLayout(page: Page): Promise<{ width: number; scrollWidth: number; overflow: string[] }> {
  return page.evaluate(() => {
    const vw = document.documentElement.clientWidth;
    const fits = (r: DOMRect) => r.left >= -1 && r.right <= vw + 1;
    const name = (e: Element) => {
      const cls = typeof e.className === "string" && e.className ? `.${e.className.trim().split(/\s+/)[0]}` : "";
      return `<${e.tagName.toLowerCase()}${cls}>`;
    };
    // A wide table is readable when some ancestor that fits the screen scrolls sideways (auto / scroll) and no
    // ancestor below that one cuts it off (hidden / clip).
    const scrolls = (e: Element): boolean => {
      // Not the body or the page itself: a page that scrolls sideways is what this check is against.
      for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
        const o = getComputedStyle(a).overflowX;
        if (o === "hidden" || o === "clip") return false;
        if ((o === "auto" || o === "scroll") && fits(a.getBoundingClientRect())) return true;
      }
      return false;
    };
    const overflow: string[] = [];
    for (const t of document.querySelectorAll("table")) {
      const r = t.getBoundingClientRect();
      if (r.width > 0 && !fits(r) && !scrolls(t)) {
        overflow.push(
          `${name(t)} ${Math.round(r.width)} px wide does not scroll inside a wrapper that fits the screen`,
        );
      }
    }
    const figures = [...document.querySelectorAll("svg, img")].filter((e) => !e.parentElement?.closest("svg"));
    for (const f of figures) {
      const r = f.getBoundingClientRect();
      if (r.width > 0 && !fits(r)) {
        overflow.push(`${name(f)} ${Math.round(r.width)}×${Math.round(r.height)} px does not fit the ${vw} px screen`);
      }
    }
    // nbconvert's body scrolls itself (`overflow: auto`): its scroll width counts as the page's.
    const scrollWidth = Math.max(document.documentElement.scrollWidth, document.body.scrollWidth);
    return { width: vw, scrollWidth, overflow };
  });
}

/** Every link of the page: href → null when it resolves, else why not. */
async function checkLinks(page: Page, origin: string): Promise<Record<string, string | null>> {
  const links = await page.evaluate(() =>
    [...document.querySelectorAll("a[href]")].map((a) => {
      const href = a.getAttribute("href")!, url = new URL(href, document.baseURI);
      const sameDoc = url.origin === location.origin && url.pathname === location.pathname && !!url.hash;
      const id = sameDoc ? decodeURIComponent(url.hash.slice(1)) : "";
      return { href, url: url.href, anchorOk: sameDoc ? !!document.getElementById(id) : null };
    })
  );
  const out: Record<string, string | null> = {};
  for (const l of links) {
    if (l.anchorOk !== null) out[l.href] = l.anchorOk ? null : "no element with that id on the page";
    else if (!l.url.startsWith(`${origin}/`)) out[l.href] = "points outside the reports folder";
    else {
      const res = await fetch(l.url.replace(/#.*$/, ""));
      await res.body?.cancel();
      out[l.href] = res.ok ? null : `HTTP ${res.status}`;
    }
  }
  return out;
}

/**
 * Opens every report page of `dir` in headless Chromium, checks it (see the module doc), and saves the
 * screenshots next to the reports. Never throws for a bad page: every problem is a line of `problems`.
 * @throws Error when Chromium is not installed (see `browserUnavailable()`).
 */
export async function checkReports(dir: string = REPORTS_DIR, opts: CheckReportsOptions = {}): Promise<ReportCheck> {
  const root = resolve(dir);
  const pages = opts.pages ?? reportPages(root);
  const shots = opts.screenshots ?? true, narrowWidth = opts.narrowWidth ?? NARROW_WIDTH;
  const timeout = opts.timeoutMs ?? 30_000;
  const server = serveFolder(root);
  const result: ReportCheck = { dir: root, pages: [], problems: [], screenshots: [] };
  try {
    await withBrowser(async (browser) => {
      for (const name of pages) {
        const stem = name.replace(/\.html$/, "");
        const check: PageCheck = {
          page: name,
          title: "",
          consoleErrors: [],
          failedRequests: [],
          svgs: 0,
          zeroSizeSvgs: 0,
          tables: 0,
          links: {},
          narrow: { width: narrowWidth, scrollWidth: 0, overflow: [] },
          screenshots: [],
        };
        const page = await browser.newPage();
        const seen = watch(page);
        const url = `${server.origin}/${name.split("/").map(encodeURIComponent).join("/")}`;
        try {
          const res = await page.goto(url, { waitUntil: "load", timeout });
          if (!res?.ok()) seen.failed.push(`${url} (HTTP ${res?.status() ?? "no response"})`);
          const m = await measure(page);
          check.title = m.title;
          check.svgs = m.svgs.length;
          check.zeroSizeSvgs = m.svgs.filter(([w, h]) => !(w! > 0 && h! > 0)).length;
          check.tables = m.tables;
          if (name === "index.html") check.links = await checkLinks(page, server.origin);
          if (shots) {
            const height = await page.evaluate(() => document.documentElement.scrollHeight);
            const path = join(root, `${stem}.png`);
            const width = page.viewport()?.width ?? 1280;
            await page.screenshot({
              path,
              fullPage: height <= MAX_SCREENSHOT_HEIGHT,
              ...(height > MAX_SCREENSHOT_HEIGHT
                ? { clip: { x: 0, y: 0, width, height: MAX_SCREENSHOT_HEIGHT }, captureBeyondViewport: true }
                : {}),
            });
            check.screenshots.push(path);
          }
          await page.setViewport({ width: narrowWidth, height: 900 });
          check.narrow = await narrowLayout(page);
          if (shots && name === "index.html") {
            const path = join(root, `${stem}-${narrowWidth}.png`);
            await page.screenshot({ path, fullPage: true });
            check.screenshots.push(path);
          }
        } catch (e) {
          seen.errors.push(`could not check the page: ${(e as Error).message}`);
        } finally {
          await page.close().catch(() => {});
        }
        check.consoleErrors = seen.errors;
        check.failedRequests = seen.failed;
        result.pages.push(check);
        result.screenshots.push(...check.screenshots);
        result.problems.push(...pageProblems(check));
      }
    });
  } finally {
    await server.close();
  }
  return result;
}

/** The problems of one page, one line each (`page: what`). */
export function pageProblems(c: PageCheck): string[] {
  const p = (s: string) => `${c.page}: ${s}`;
  return [
    ...c.consoleErrors.map((e) => p(`console error: ${e}`)),
    ...c.failedRequests.map((r) => p(`failed request: ${r}`)),
    ...(c.zeroSizeSvgs ? [p(`${c.zeroSizeSvgs} of ${c.svgs} SVG figures have no size on the page`)] : []),
    ...(c.tables === 0 ? [p("no table on the page")] : []),
    ...Object.entries(c.links).filter(([, why]) => why).map(([href, why]) => p(`link ${href}: ${why}`)),
    ...(c.narrow.scrollWidth > c.narrow.width + 1
      ? [p(`at ${c.narrow.width} px the page scrolls sideways (${c.narrow.scrollWidth} px wide)`)]
      : []),
    ...c.narrow.overflow.map((o) => p(`at ${c.narrow.width} px: ${o}`)),
  ];
}

/** One line per page: `✔ demo.html: 4 SVG, 3 tables` or `✘ …: N problems`. */
export function summaryLines(check: ReportCheck): string[] {
  return check.pages.map((c) => {
    const n = pageProblems(c).length;
    const links = Object.keys(c.links).length ? `, ${Object.keys(c.links).length} links` : "";
    return `${n ? "✘" : "✔"} ${c.page}: ${c.svgs} SVG, ${c.tables} table${c.tables === 1 ? "" : "s"}${links}` +
      (n ? ` — ${n} problem${n === 1 ? "" : "s"}` : "");
  });
}

/**
 * The `--screenshots` step of the main job: checks the reports folder and writes the screenshots, logging one line
 * per page and every problem. Skipped with a message when Chromium is not installed.
 * @returns The number of problems (0 also when skipped).
 */
export async function screenshotReports(dir: string, log: (line: string) => void = console.log): Promise<number> {
  const why = browserUnavailable();
  if (why) {
    log(`screenshots skipped: ${why}`);
    return 0;
  }
  const check = await checkReports(dir);
  for (const l of summaryLines(check)) log(l);
  for (const p of check.problems) log(`  ✘ ${p}`);
  log(`screenshots: ${check.screenshots.map((s) => relative(Deno.cwd(), s)).join(", ") || "(none)"}`);
  return check.problems.length;
}

if (import.meta.main) {
  const dir = resolve(Deno.args[0] ?? REPORTS_DIR);
  Deno.exit((await screenshotReports(dir)) ? 1 : 0);
}
