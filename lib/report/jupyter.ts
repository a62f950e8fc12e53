/**
 * Talking to the Deno Jupyter kernel without depending on it: `Deno.jupyter` exists only under
 * `deno jupyter` (its getter throws elsewhere), so display helpers return objects with a
 * `Symbol.for("Jupyter.display")` MIME bundle, which the kernel renders and plain `deno test` can inspect.
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
