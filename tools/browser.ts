/**
 * Headless Chromium for the browser tests (the Jupyter Notebook UI, the HTML reports), driven through the DevTools
 * protocol with npm's `puppeteer-core` pointed at the system's Chromium (Debian's `chromium`, installed by
 * `tools/setup.sh`): nothing is downloaded.
 *
 * {@linkcode findChromium} looks for the executable (`OOD_CHROMIUM`, then the usual Debian / Ubuntu paths);
 * {@linkcode withBrowser} launches it, hands a browser to the callback and closes it whatever happens.
 * @module
 */
import puppeteer, { type Browser } from "puppeteer-core";

/** Where Chromium is looked for, after `OOD_CHROMIUM`. */
export const CHROMIUM_PATHS: readonly string[] = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
  "/usr/bin/google-chrome-stable",
];

/** True when `path` is an executable file. */
function isExecutable(path: string): boolean {
  try {
    const st = Deno.statSync(path);
    return st.isFile && ((st.mode ?? 0o755) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/**
 * The Chromium executable: `OOD_CHROMIUM` when set (an error if it is not an executable file), else the first of
 * {@linkcode CHROMIUM_PATHS} that exists, else null.
 * @example Usage
 * ```ts ignore
 * const chromium = findChromium(); // "/usr/bin/chromium" on Debian after tools/setup.sh
 * ```
 */
export function findChromium(): string | null {
  const env = Deno.env.get("OOD_CHROMIUM");
  if (env) {
    if (!isExecutable(env)) throw new Error(`OOD_CHROMIUM=${env} is not an executable file`);
    return env;
  }
  return CHROMIUM_PATHS.find(isExecutable) ?? null;
}

/** Why the browser tests cannot run here, or null when Chromium is installed. */
export function browserUnavailable(): string | null {
  return findChromium() ? null : `no Chromium found (looked at OOD_CHROMIUM and ${CHROMIUM_PATHS.join(", ")}); ` +
    "install Debian's chromium (tools/setup.sh does) to run the browser tests";
}

/** Options of {@linkcode withBrowser}. */
export interface WithBrowserOptions {
  /** Default viewport of new pages. @default { width: 1280, height: 900 } */
  viewport?: { width: number; height: number };
  /** Allow the pages to reach the network beyond 127.0.0.1 (default no: every other host is refused). */
  network?: boolean;
}

/**
 * Launches headless Chromium, runs `f` with it and closes it (also when `f` throws). Without `network`, Chromium
 * resolves every host but 127.0.0.1 / localhost to nowhere, so a page that needs the network fails visibly.
 * @throws Error naming the paths looked at when Chromium is not installed.
 * @example Usage
 * ```ts ignore
 * const title = await withBrowser(async (b) => {
 *   const page = await b.newPage();
 *   await page.goto("http://127.0.0.1:8888/");
 *   return page.title();
 * });
 * ```
 */
export async function withBrowser<T>(f: (browser: Browser) => Promise<T>, opts: WithBrowserOptions = {}): Promise<T> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error(browserUnavailable()!);
  const browser = await puppeteer.launch({
    executablePath,
    headless: true,
    defaultViewport: opts.viewport ?? { width: 1280, height: 900 },
    args: [
      // Root in a container has no user namespace for Chromium's sandbox.
      ...(Deno.uid() === 0 ? ["--no-sandbox"] : []),
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--no-first-run",
      "--no-default-browser-check",
      ...(opts.network ? [] : ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"]),
    ],
  });
  try {
    return await f(browser);
  } finally {
    await browser.close().catch(() => {
      browser.process()?.kill("SIGKILL");
    });
  }
}
