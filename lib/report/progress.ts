/**
 * A progress display that works everywhere: one output updated in place in Jupyter (`display_id`, so a
 * headless run keeps the final state), a `\r` line on a terminal, and only the first and last lines in logs.
 * @module
 */
import { jupyter } from "./jupyter.ts";

/** Options of {@link Progress}. */
export interface ProgressOptions {
  /** Where non-kernel, non-terminal lines go (default `console.log`). */
  log?: (line: string) => void;
  /** Redraw one `\r` line on stderr; default: when stderr is a terminal. */
  terminal?: boolean;
}

/**
 * Progress of a loop of known length.
 *
 * @example Usage
 * ```ts
 * const p = new Progress(cfg.epochs, "training");
 * for (let e = 1; e <= cfg.epochs; e++) { await trainEpoch(); await p.update(e, `loss ${loss.toFixed(3)}`); }
 * ```
 */
export class Progress {
  #id = `ood-progress-${crypto.randomUUID()}`;
  #t0 = performance.now();
  #started = false;
  #log: (line: string) => void;
  #terminal: boolean;
  #last = "";

  /**
   * @param total Number of steps.
   * @param label Shown before the bar.
   */
  constructor(readonly total: number, readonly label = "", opts: ProgressOptions = {}) {
    this.#log = opts.log ?? ((l) => console.log(l));
    this.#terminal = opts.terminal ?? isTerminal();
  }

  /** The text line for `done` steps. */
  line(done: number, extra = ""): string {
    const width = 30, filled = Math.round(Math.min(1, done / Math.max(1, this.total)) * width);
    const secs = ((performance.now() - this.#t0) / 1000).toFixed(1);
    return `${this.label ? this.label + " " : ""}[${"#".repeat(filled)}${".".repeat(width - filled)}] ` +
      `${done}/${this.total} ${secs}s${extra ? " " + extra : ""}`;
  }

  /** The last line shown. */
  get last(): string {
    return this.#last;
  }

  /** Shows that `done` of `total` steps are finished, with an optional note (e.g. the loss). */
  async update(done: number, extra = ""): Promise<void> {
    const text = this.#last = this.line(done, extra);
    const j = jupyter();
    if (j) {
      const html = `<progress value="${done}" max="${this.total}" style="width:16em"></progress> <code>${
        text.replace(/[&<>]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" })[c]!)
      }</code>`;
      await j.display({ "text/plain": text, "text/html": html }, {
        raw: true,
        display_id: this.#id,
        update: this.#started,
      });
      this.#started = true;
    } else if (this.#terminal) {
      await Deno.stderr.write(new TextEncoder().encode(`\r${text}${done >= this.total ? "\n" : ""}`));
    } else if (!this.#started || done >= this.total) {
      this.#log(text);
      this.#started = true;
    }
  }
}

function isTerminal(): boolean {
  try {
    return Deno.stderr.isTerminal();
  } catch {
    return false;
  }
}
