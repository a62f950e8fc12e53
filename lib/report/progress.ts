/**
 * The one progress bar (the training loop's, per epoch, and the notebooks' and the run grid's, per run or stage):
 * steps done / total, ETA, and optionally loss, accuracy, images/s, named numbers and a free-text note. It fits
 * where it runs:
 * - in the Deno Jupyter kernel: one output, created with a `display_id` and updated in place
 *   (`Deno.jupyter.display(bundle, { raw: true, display_id, update: true })`): a `<progress>` element plus the text
 *   (a headless run keeps the final state, and `deno task reproduce` shows the live text on its terminal);
 * - on a terminal: one line rewritten with `\r` (stdout when it is a TTY, else stderr when that is);
 * - otherwise (CI logs, pipes): sparse lines — the first update, one per 10 % of the total, and the last.
 * @module
 */
import { escapeHtml, jupyter, type MediaBundle } from "./jupyter.ts";

/** How progress is shown. */
export type ProgressMode = "kernel" | "tty" | "lines" | "silent";

/** The kernel's display function (injectable for tests). */
export type KernelDisplay = (
  bundle: MediaBundle,
  opts: { raw: true; display_id: string; update: boolean },
) => Promise<void> | void;

/** Options of {@link Progress}. */
export interface ProgressOptions {
  /** Steps in the whole bar (e.g. optimizer steps per epoch); unknown → no bar, percentage or ETA. */
  total?: number;
  /** Text in front, e.g. "epoch 3/10". */
  label?: string;
  /** Default "auto": kernel, else tty, else lines. */
  mode?: ProgressMode | "auto";
  /** Kernel display function; default `Deno.jupyter.display`. */
  display?: KernelDisplay;
  /** Writer for tty/lines modes; default stdout/stderr (tty) or `console.log` (lines). */
  write?: (text: string) => void;
  /** Clock in ms; default `performance.now`. */
  now?: () => number;
  /** Minimum ms between redraws in kernel/tty modes (the last update is always drawn); default 250. */
  minIntervalMs?: number;
  /** The `display_id` in the kernel; default a random one. */
  displayId?: string;
}

/** One progress update. */
export interface ProgressUpdate {
  /** Steps done (absolute, including any done before a resume). */
  done: number;
  /** Running mean loss. */
  loss?: number;
  /** Running accuracy in [0, 1]. */
  accuracy?: number;
  /** Images processed since this bar started (for images/s). */
  images?: number;
  /** More named numbers to show (e.g. learning rate, loss terms). */
  metrics?: Record<string, number>;
  /** Free text shown last, e.g. the run or stage in progress. */
  note?: string;
}

/** What {@link formatProgress} renders. */
export interface ProgressSnapshot extends ProgressUpdate {
  label?: string;
  total?: number;
  /** Steps done when this bar started (a resumed epoch starts part-way). */
  start?: number;
  /** Milliseconds since the bar started. */
  elapsedMs: number;
}

/** m:ss or h:mm:ss. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "?";
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const mm = h ? String(m).padStart(2, "0") : String(m);
  return `${h ? `${h}:` : ""}${mm}:${String(sec).padStart(2, "0")}`;
}

function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? x.toExponential(3) : x.toFixed(4);
}

/**
 * One line: `label [#####.....] done/total pct | loss 0.1234 | acc 97.10% | 850 img/s | 0:12<0:34 | note`.
 * The ETA extrapolates the rate of the steps done since the bar started.
 */
export function formatProgress(s: ProgressSnapshot, width = 20): string {
  const parts: string[] = [];
  const head = s.label ? `${s.label} ` : "";
  if (s.total && s.total > 0) {
    const frac = Math.min(1, Math.max(0, s.done / s.total));
    const n = Math.round(frac * width);
    parts.push(`${head}[${"#".repeat(n)}${".".repeat(width - n)}] ${s.done}/${s.total} ${(frac * 100).toFixed(0)}%`);
  } else parts.push(`${head}${s.done} steps`);
  if (s.loss !== undefined) parts.push(`loss ${formatNumber(s.loss)}`);
  if (s.accuracy !== undefined) parts.push(`acc ${(s.accuracy * 100).toFixed(2)}%`);
  for (const [k, v] of Object.entries(s.metrics ?? {})) parts.push(`${k} ${formatNumber(v)}`);
  const sec = s.elapsedMs / 1000;
  if (s.images !== undefined && sec > 0) parts.push(`${(s.images / sec).toFixed(0)} img/s`);
  const doneHere = s.done - (s.start ?? 0);
  let time = formatDuration(s.elapsedMs);
  if (s.total && doneHere > 0 && s.done < s.total) {
    time += `<${formatDuration(s.elapsedMs / doneHere * (s.total - s.done))}`;
  }
  parts.push(time);
  if (s.note) parts.push(s.note);
  return parts.join(" | ");
}

/** The MIME bundle shown in the kernel: a `<progress>` bar and the text line. */
export function progressBundle(text: string, done: number, total?: number): MediaBundle {
  const bar = total ? `<progress value="${done}" max="${total}" style="width:16em"></progress> ` : "";
  return { "text/plain": text, "text/html": `${bar}<code>${escapeHtml(text)}</code>` };
}

function isTerminal(stream: { isTerminal(): boolean }): boolean {
  try {
    return stream.isTerminal();
  } catch {
    return false;
  }
}

/** The mode "auto" resolves to here: kernel, else tty (stdout or stderr), else lines. */
export function detectProgressMode(): ProgressMode {
  if (jupyter()) return "kernel";
  return isTerminal(Deno.stdout) || isTerminal(Deno.stderr) ? "tty" : "lines";
}

const encoder = new TextEncoder();

/**
 * A progress bar. Call {@link Progress.update} after each step; it ends by itself when `done` reaches the total
 * ({@link Progress.finish} ends it early, or one without a total).
 *
 * Two ways to call it: with options and structured updates (the training loop), or with a total, a label and a
 * note per update (notebooks, the run grid). In the kernel a changed note is drawn at once; other updates at
 * most every `minIntervalMs`.
 * @example Usage
 * ```ts
 * import { Progress } from "@lib/report/progress.ts";
 * const lines: string[] = [];
 * const p = new Progress({ total: 10, label: "epoch 1/1", mode: "lines", write: (l) => lines.push(l) });
 * for (let i = 1; i <= 10; i++) await p.update({ done: i, loss: 1 / i });
 * console.log(lines.length); // 10: the first update, then one per 10 %
 * const runs = new Progress(3, "runs", { mode: "lines", write: (l) => lines.push(l) });
 * for (let i = 1; i <= 3; i++) await runs.update(i, `seed ${i - 1}`);
 * ```
 */
export class Progress {
  readonly mode: ProgressMode;
  readonly #opts: ProgressOptions;
  readonly #now: () => number;
  readonly #t0: number;
  readonly #id: string;
  #start: number | null = null;
  #last: ProgressUpdate | null = null;
  #lastDraw = -Infinity;
  #drawnDone = -1;
  #shown = false;
  #decile = -1;
  #finished = false;
  #lineWidth = 0;
  #drawnNote: string | undefined;
  #lastText = "";

  /** A bar of `opts.total` steps (unknown when absent: no bar, percentage or ETA). */
  constructor(opts?: ProgressOptions);
  /** A bar of `total` steps labelled `label` (e.g. `new Progress(runs.length, "runs")`). */
  constructor(total: number, label?: string, opts?: Omit<ProgressOptions, "total" | "label">);
  constructor(totalOrOpts: number | ProgressOptions = {}, label?: string, rest: ProgressOptions = {}) {
    const opts = typeof totalOrOpts === "number" ? { ...rest, total: totalOrOpts, label } : totalOrOpts;
    this.#opts = opts;
    this.mode = !opts.mode || opts.mode === "auto" ? detectProgressMode() : opts.mode;
    this.#now = opts.now ?? (() => performance.now());
    this.#t0 = this.#now();
    this.#id = opts.displayId ?? `progress-${crypto.randomUUID()}`;
  }

  /** Number of steps (NaN when unknown). */
  get total(): number {
    return this.#opts.total ?? NaN;
  }

  /** The label in front of the bar. */
  get label(): string {
    return this.#opts.label ?? "";
  }

  /** The last line shown ("" before the first). */
  get last(): string {
    return this.#lastText;
  }

  /** The current line. */
  text(u: ProgressUpdate | null = this.#last): string {
    return formatProgress({
      ...(u ?? { done: this.#start ?? 0 }),
      label: this.#opts.label,
      total: this.#opts.total,
      start: this.#start ?? 0,
      elapsedMs: this.#now() - this.#t0,
    });
  }

  /**
   * Records an update and redraws if due; the update that reaches the total ends the bar. The first update's
   * `done` counts as the bar's start for the ETA.
   */
  update(u: ProgressUpdate): Promise<void>;
  /** Shows that `done` of `total` steps are finished, with an optional note (e.g. the run in progress). */
  update(done: number, note?: string): Promise<void>;
  async update(doneOrUpdate: number | ProgressUpdate, note?: string): Promise<void> {
    if (this.#finished) return;
    const u: ProgressUpdate = typeof doneOrUpdate === "number"
      ? { done: doneOrUpdate, ...(note ? { note } : {}) }
      : doneOrUpdate;
    await this.#record(u);
    if (this.#opts.total !== undefined && u.done >= this.#opts.total) await this.finish();
  }

  async #record(u: ProgressUpdate): Promise<void> {
    if (this.#start === null) this.#start = Math.max(0, u.done - 1);
    this.#last = u;
    const total = this.#opts.total;
    switch (this.mode) {
      case "silent":
        return;
      case "lines": {
        if (!total) {
          if (!this.#shown) this.#writeLine(this.text(u));
          return;
        }
        const decile = Math.floor(Math.min(1, u.done / total) * 10);
        if (!this.#shown || decile > this.#decile) {
          this.#decile = decile;
          this.#writeLine(this.text(u));
        }
        return;
      }
      default: {
        const now = this.#now();
        const due = !this.#shown || u.note !== this.#drawnNote || total !== undefined && u.done >= total ||
          now - this.#lastDraw >= (this.#opts.minIntervalMs ?? 250);
        if (!due) return;
        this.#lastDraw = now;
        await this.#draw(u);
      }
    }
  }

  /** Draws the final state (if not drawn yet) and ends the line. */
  async finish(u?: ProgressUpdate): Promise<void> {
    if (this.#finished) return;
    if (u) this.#last = u;
    const final = this.#last;
    if (this.mode === "lines") {
      if (final && final.done !== this.#drawnDone) this.#writeLine(this.text(final));
    } else if (this.mode !== "silent" && final) {
      if (final.done !== this.#drawnDone || !this.#shown) await this.#draw(final);
    }
    if (this.mode === "tty" && this.#shown) this.#writeRaw("\n");
    this.#finished = true;
  }

  #writeLine(text: string): void {
    this.#shown = true;
    this.#lastText = text;
    this.#drawnDone = this.#last?.done ?? -1;
    (this.#opts.write ?? ((l: string) => console.log(l)))(text);
  }

  #writeRaw(text: string): void {
    if (this.#opts.write) return this.#opts.write(text);
    const out = isTerminal(Deno.stdout) ? Deno.stdout : Deno.stderr;
    const bytes = encoder.encode(text);
    let off = 0;
    while (off < bytes.length) off += out.writeSync(bytes.subarray(off));
  }

  async #draw(u: ProgressUpdate): Promise<void> {
    const text = this.#lastText = this.text(u);
    this.#drawnDone = u.done;
    this.#drawnNote = u.note;
    if (this.mode === "kernel") {
      const display = this.#opts.display ?? ((b, o) => jupyter()!.display(b, o));
      await display(progressBundle(text, u.done, this.#opts.total), {
        raw: true,
        display_id: this.#id,
        update: this.#shown,
      });
    } else {
      const pad = Math.max(0, this.#lineWidth - text.length);
      this.#lineWidth = text.length;
      this.#writeRaw(`\r${text}${" ".repeat(pad)}`);
    }
    this.#shown = true;
  }
}
