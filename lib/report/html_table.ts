/**
 * A small HTML/text table that renders the same in the Deno kernel, in nbconvert's HTML export (plain
 * `text/html`, a scoped `<style>`, no scripts) and in a terminal (`text/plain`). The metric and paper-vs-ours
 * tables of `table.ts` are built on it.
 * @module
 */
import pl from "nodejs-polars";
import { DISPLAY, type Displayable, escapeHtml, type MediaBundle } from "./jupyter.ts";

export { escapeHtml };

/** A cell: its text, and whether it is the best value of its group (bold, `*` in text). */
export interface Cell {
  text: string;
  best?: boolean;
  /** Tooltip (HTML `title`). */
  title?: string;
}

/** A column: the row field it shows, its header, and whether it is a key (left-aligned) or a number. */
export interface Column {
  key: string;
  label: string;
  kind?: "key" | "number";
}

/** Options of a {@link Table}. */
export interface TableOptions {
  /** Shown above the table. */
  caption?: string;
  /** Lines shown under the table (e.g. what the numbers are, which are best). */
  notes?: readonly string[];
  /** Row indices that start a new group (a rule is drawn above them). */
  groupStarts?: ReadonlySet<number>;
  /** Row indices shown in italics (averages). */
  emphasis?: ReadonlySet<number>;
}

/** CSS shared by every table; scoped by the `ood-table` class. */
export const TABLE_CSS: string =
  ".ood-table{border-collapse:collapse;font:13px/1.35 system-ui,-apple-system,sans-serif;" +
  "margin:.4em 0}.ood-table caption{caption-side:top;text-align:left;font-weight:600;padding:0 0 .3em}" +
  ".ood-table th,.ood-table td{padding:2px 10px;border:none;border-bottom:1px solid #e3e3e3;text-align:right;" +
  "white-space:nowrap}.ood-table th{border-bottom:2px solid #888;font-weight:600}" +
  ".ood-table th.key,.ood-table td.key{text-align:left}.ood-table td.best{font-weight:700}" +
  ".ood-table tr.group td{border-top:1px solid #999}.ood-table tr.em td{font-style:italic;background:#f6f8fa}" +
  ".ood-table-note{font:12px system-ui,sans-serif;color:#555;margin:.2em 0 .8em}";

/** A rendered table; displays as HTML in the kernel and reports, as aligned text elsewhere. */
export class Table implements Displayable {
  /** Rows: column key → cell (or plain text). */
  readonly rows: readonly Record<string, Cell | string>[];
  constructor(
    readonly columns: readonly Column[],
    rows: readonly Record<string, Cell | string>[],
    readonly options: TableOptions = {},
  ) {
    this.rows = rows;
  }

  /** The cell of a row and column (missing → empty text). */
  cell(row: number, key: string): Cell {
    const c = this.rows[row]?.[key];
    return typeof c === "string" ? { text: c } : c ?? { text: "" };
  }

  /** The table as displayed, one string column per column label (best cells are not marked). */
  get frame(): pl.DataFrame {
    return pl.DataFrame(
      this.columns.map((c) => pl.Series(c.label, this.rows.map((_, i) => this.cell(i, c.key).text), pl.Utf8)),
    );
  }

  /** HTML with a scoped `<style>`: `<table class="ood-table">`. */
  toHTML(): string {
    const o = this.options;
    const head = this.columns.map((c) => `<th class="${c.kind ?? "number"}">${escapeHtml(c.label)}</th>`).join("");
    const body = this.rows.map((_, i) => {
      const cls = [o.groupStarts?.has(i) && i > 0 ? "group" : "", o.emphasis?.has(i) ? "em" : ""].filter(Boolean);
      const tds = this.columns.map((c) => {
        const cell = this.cell(i, c.key);
        const klass = [c.kind ?? "number", cell.best ? "best" : ""].filter(Boolean).join(" ");
        const title = cell.title ? ` title="${escapeHtml(cell.title)}"` : "";
        const text = escapeHtml(cell.text);
        return `<td class="${klass}"${title}>${cell.best ? `<strong>${text}</strong>` : text}</td>`;
      }).join("");
      return `<tr${cls.length ? ` class="${cls.join(" ")}"` : ""}>${tds}</tr>`;
    }).join("\n");
    const caption = o.caption ? `<caption>${escapeHtml(o.caption)}</caption>` : "";
    const notes = (o.notes ?? []).map((n) => `<p class="ood-table-note">${escapeHtml(n)}</p>`).join("");
    return `<div class="ood-table-wrap"><style>${TABLE_CSS}</style><table class="ood-table">${caption}` +
      `<thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>${notes}</div>`;
  }

  /** Aligned plain text; best cells end with `*`. */
  toText(): string {
    const cells = this.rows.map((_, i) =>
      this.columns.map((c) => {
        const cell = this.cell(i, c.key);
        return cell.text + (cell.best ? "*" : "");
      })
    );
    const widths = this.columns.map((c, j) => Math.max(c.label.length, ...cells.map((r) => r[j]!.length)));
    const pad = (s: string, j: number) =>
      (this.columns[j]!.kind ?? "number") === "key" ? s.padEnd(widths[j]!) : s.padStart(widths[j]!);
    const lines = [
      this.columns.map((c, j) => pad(c.label, j)).join("  "),
      widths.map((w) => "-".repeat(w)).join("  "),
      ...cells.map((r) => r.map(pad).join("  ")),
    ].map((l) => l.trimEnd());
    return [this.options.caption, ...lines, ...(this.options.notes ?? [])].filter((l) => l !== undefined).join("\n");
  }

  /** The MIME bundle the kernel renders. */
  [DISPLAY](): MediaBundle {
    return { "text/html": this.toHTML(), "text/plain": this.toText() };
  }
}
