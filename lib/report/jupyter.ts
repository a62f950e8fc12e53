/**
 * Talking to the Deno Jupyter kernel without depending on it: `Deno.jupyter` exists only under
 * `deno jupyter` (its getter throws elsewhere), so display helpers return objects with a
 * `Symbol.for("Jupyter.display")` MIME bundle, which the kernel renders and plain `deno test` can inspect.
 *
 * Importing this module in the kernel also installs {@link installResultOrderFix} (once per kernel), so that a
 * cell's result stays with its cell when a front end queues many cells at once (Run All).
 * @module
 */

/** The symbol the Deno kernel looks up to render an object. */
export const DISPLAY = Symbol.for("Jupyter.display");

/** A MIME bundle: MIME type → content. */
export type MediaBundle = Record<string, unknown>;

/** An object the Deno kernel renders through its MIME bundle. */
export interface Displayable {
  [DISPLAY](): MediaBundle;
}

interface JupyterApi {
  display(obj: unknown, opts?: { raw?: boolean; display_id?: string; update?: boolean }): Promise<void>;
}

/** The kernel's `Deno.jupyter`, or null outside the kernel. */
export function jupyter(): JupyterApi | null {
  try {
    const j = (Deno as unknown as { jupyter?: JupyterApi }).jupyter;
    return typeof j?.display === "function" ? j : null;
  } catch {
    return null; // "Deno.jupyter is only available in `deno jupyter` subcommand"
  }
}

/** True inside the Deno Jupyter kernel. */
export function inKernel(): boolean {
  return jupyter() !== null;
}

/** Wraps a MIME bundle so that the kernel renders it (and tests can read it back). */
export function displayable(bundle: MediaBundle): Displayable {
  return { [DISPLAY]: () => bundle };
}

/** HTML (SVG figures included) as a displayable: `text/html`, because nbconvert's HTML export strips `image/svg+xml`. */
export function htmlView(html: string, alt = "[figure]"): Displayable {
  return displayable({ "text/html": html, "text/plain": alt });
}

/** The MIME bundle of a displayable (for tests and report writers). */
export function bundleOf(x: Displayable): MediaBundle {
  return x[DISPLAY]();
}

/** Markdown as a displayable (`text/markdown`, rendered by the kernel and nbconvert). */
export function markdownView(md: string): Displayable {
  return displayable({ "text/markdown": md, "text/plain": md });
}

/**
 * Shows `x` now (not only as a cell's last expression): in the kernel through `Deno.jupyter.display`, elsewhere
 * as text on stdout (the `text/plain` of a displayable, else `Deno.inspect`).
 */
export async function show(x: unknown): Promise<void> {
  const j = jupyter();
  if (j) return await j.display(x);
  const bundle = typeof (x as Displayable | null)?.[DISPLAY] === "function" ? (x as Displayable)[DISPLAY]() : null;
  console.log(bundle && typeof bundle["text/plain"] === "string" ? bundle["text/plain"] : Deno.inspect(x));
}

/** Escapes text for HTML. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** The kernel's internal hooks that {@link installResultOrderFix} wraps (`Deno[Deno.internal].jupyter`). */
export interface KernelResultHooks {
  broadcastResult?: (executionCount: number, result: unknown) => Promise<void>;
  /** Set once the fix is installed. */
  __oodResultOrderFix?: true;
}

/** The kernel's internal hooks, or null outside the kernel (or where this Deno has none). */
function kernelHooks(): KernelResultHooks | null {
  if (!inKernel()) return null;
  try {
    const d = Deno as unknown as Record<symbol, { jupyter?: KernelResultHooks } | undefined> & { internal?: symbol };
    return (d.internal ? d[d.internal]?.jupyter : undefined) ?? null;
  } catch {
    return null;
  }
}

/**
 * Keeps each cell's result with its cell when a front end queues several cells at once (Run All in the Notebook
 * UI, JupyterLab or VS Code). The Deno kernel (2.x) publishes a cell's result (its last expression) through a queue
 * that reads the parent header, which names the cell, when it sends the message rather than when the cell queued it.
 * With the next cell's request already waiting, the result can leave after the kernel has moved on and be shown
 * under the next cell (Deno 2.9.6 on a loaded 2-core machine: in a Run All of the demo notebook 1–2 of its 12
 * results moved to the next cell, and others came after their cell's `idle`; none with this fix, in 6 runs). This wraps the kernel's internal `broadcastResult`, which the kernel awaits before it reports
 * the cell done, so that it waits `delayMs` after queueing the result: the queue sends it while its cell is still
 * the current request. Costs `delayMs` per cell that has a result. Idempotent; a no-op (false) outside the kernel
 * or when the hook is missing.
 * @param hooks The hooks to wrap (tests); default the kernel's `Deno[Deno.internal].jupyter`.
 * @returns Whether the fix is in place.
 */
export function installResultOrderFix(delayMs = 20, hooks: KernelResultHooks | null = kernelHooks()): boolean {
  if (!hooks || typeof hooks.broadcastResult !== "function") return false;
  if (hooks.__oodResultOrderFix) return true;
  const original = hooks.broadcastResult;
  hooks.broadcastResult = async (executionCount: number, result: unknown) => {
    await original(executionCount, result);
    if (result !== undefined) await new Promise((r) => setTimeout(r, delayMs));
  };
  hooks.__oodResultOrderFix = true;
  return true;
}

try {
  installResultOrderFix();
} catch {
  // Never let the workaround break an import.
}
