/**
 * The main job's live view of a running notebook, drawn from the events `tools/nbrun.py --events` writes (one
 * JSON object per line: a cell starts, a display with a `display_id` — a {@link Progress} bar — is shown or
 * updated, a cell ends).
 *
 * - On a terminal: one status line redrawn in place (`\r`, erase to the end of the line), at each event and every
 *   second: the running cell (its position, number and first line), its elapsed time, and the progress bar it
 *   publishes (steps done / total, ETA, note). The next cell overwrites it; it is cleared when the notebook ends.
 * - Elsewhere (CI, pipes): one line per finished cell: position, number, seconds, status and first line.
 *
 * {@link Progress}: ../lib/report/progress.ts
 * @module
 */
import { formatDuration } from "@lib/report/progress.ts";

/** Where a cell is: index in the notebook's cells, 1-based position among its `of` non-empty code cells. */
export interface CellPlace {
  cell: number;
  pos: number;
  of: number;
  /** The first non-blank line of the cell's source. */
  line: string;
}

/** One event of `nbrun.py --events`. */
export type NotebookEvent =
  | ({ event: "cell" } & CellPlace)
  | { event: "display"; cell: number | null; text: string }
  | ({ event: "done"; seconds: number; status: string } & CellPlace)
  | { event: "kernel"; pid: number | null };

/** Parses one line of the event stream; null for anything that is not an event. */
export function parseEvent(line: string): NotebookEvent | null {
  if (!line.startsWith("{")) return null;
  try {
    const e = JSON.parse(line);
    return e && typeof e === "object" && ["cell", "display", "done", "kernel"].includes(e.event)
      ? e as NotebookEvent
      : null;
  } catch {
    return null;
  }
}

/** Cuts `text` to `width` characters, ending with "…" when cut. */
export function fit(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : chars.slice(0, Math.max(0, width - 1)).join("") + "…";
}

function where(c: CellPlace): string {
  return `[${c.pos}/${c.of}] cell ${c.cell}`;
}

/** The line a finished cell gets off a terminal: `  [3/11] cell 5   12.3 s  const timings = …`. */
export function doneLine(e: Extract<NotebookEvent, { event: "done" }>, width = 120): string {
  const status = e.status === "ok" ? "" : `✘ ${e.status}  `;
  return fit(`  ${where(e).padEnd(16)} ${e.seconds.toFixed(1).padStart(6)} s  ${status}${e.line}`, width);
}

/**
 * The status line on a terminal: `  [3/11] cell 5 0:42 · const timings = … · seeds [####......] 1/2 50% | …`.
 * With a progress bar, the first line of the source gets what the bar leaves of `width`, between 16 and 48
 * characters; the line is then cut to `width`.
 */
export function statusLine(c: CellPlace, elapsedMs: number, progress: string | null, width = 120): string {
  const head = `  ${where(c)} ${formatDuration(elapsedMs)} · `;
  if (!progress) return fit(head + c.line, width);
  const tail = ` · ${progress}`;
  const room = Math.min(48, Math.max(16, width - head.length - [...tail].length));
  return fit(`${head}${fit(c.line, room)}${tail}`, width);
}

/** Options of {@link NotebookTerminal}. */
export interface NotebookTerminalOptions {
  /** Redraw one line in place (a terminal) or print one line per finished cell. */
  tty: boolean;
  /** Raw output on a terminal (no newline added). */
  write: (text: string) => void;
  /** Line output off a terminal. */
  log: (line: string) => void;
  /** Terminal width; default the console's, else (none, or under 40 columns) 120. */
  columns?: () => number;
  /** Clock in ms; default `performance.now`. */
  now?: () => number;
  /** Redraw period on a terminal, for the elapsed time (ms, default 1000; 0: only at events). */
  tickMs?: number;
}

/** Renders a notebook's event stream (see the module doc). Call {@link NotebookTerminal.close} when it ends. */
export class NotebookTerminal {
  readonly #o: NotebookTerminalOptions;
  readonly #now: () => number;
  #cell: CellPlace | null = null;
  #t0 = 0;
  #progress: string | null = null;
  #drawn = false;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(opts: NotebookTerminalOptions) {
    this.#o = opts;
    this.#now = opts.now ?? (() => performance.now());
  }

  /** Takes one event. */
  event(e: NotebookEvent): void {
    if (e.event === "kernel") return; // for the runner (it stops the kernel's process group), not the view
    if (e.event === "cell") {
      this.#cell = e;
      this.#t0 = this.#now();
      this.#progress = null;
      if (this.#o.tty) this.#startTimer();
    } else if (e.event === "display") {
      if (!this.#cell || e.cell !== this.#cell.cell) return; // a late update of an earlier cell's display
      this.#progress = e.text.split("\n")[0]!.trim() || null;
    } else {
      this.#cell = null; // the line stays until the next cell overwrites it (no flicker between cells)
      if (!this.#o.tty) this.#o.log(doneLine(e, this.#width()));
      return;
    }
    if (this.#o.tty) this.#draw();
  }

  /** Clears the status line and stops redrawing. */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#cell = null;
    if (this.#drawn) this.#o.write("\r\x1b[K");
    this.#drawn = false;
  }

  #startTimer(): void {
    const tick = this.#o.tickMs ?? 1000;
    if (this.#timer === undefined && tick > 0) this.#timer = setInterval(() => this.#draw(), tick);
  }

  #width(): number {
    if (this.#o.columns) return this.#o.columns();
    try {
      const { columns } = Deno.consoleSize();
      if (columns >= 40) return columns; // a pseudo-terminal without a size reports 0
    } catch { /* not a terminal */ }
    return 120;
  }

  #draw(): void {
    if (!this.#cell) return;
    this.#o.write(`\r${statusLine(this.#cell, this.#now() - this.#t0, this.#progress, this.#width() - 1)}\x1b[K`);
    this.#drawn = true;
  }
}

/**
 * Reads `stream` line by line: events go to `onEvent`, every other line is returned (joined, for the run's log).
 */
export async function readEvents(
  stream: ReadableStream<Uint8Array>,
  onEvent: (e: NotebookEvent) => void,
): Promise<string> {
  const other: string[] = [];
  let rest = "";
  const take = (line: string) => {
    const e = parseEvent(line);
    if (e) onEvent(e);
    else if (line) other.push(line);
  };
  const decoder = new TextDecoder();
  for await (const bytes of stream) {
    const lines = (rest + decoder.decode(bytes, { stream: true })).split("\n");
    rest = lines.pop()!;
    lines.forEach(take);
  }
  take(rest + decoder.decode());
  return other.length ? other.join("\n") + "\n" : "";
}
