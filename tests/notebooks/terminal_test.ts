import assert from "node:assert/strict";
import {
  doneLine,
  fit,
  type NotebookEvent,
  NotebookTerminal,
  parseEvent,
  readEvents,
  statusLine,
} from "../../tools/terminal.ts";

const place = { cell: 5, pos: 3, of: 11, line: 'const progress = new rpt.Progress(cfg.seeds.length, "seeds");' };
const bar = "seeds [##########..........] 1/2 50% | 0:03<0:03 | seed 0";

Deno.test("parseEvent() takes nbrun.py's event lines and nothing else", () => {
  assert.deepEqual(parseEvent(JSON.stringify({ event: "cell", ...place })), { event: "cell", ...place });
  assert.deepEqual(parseEvent('{"event": "display", "cell": 5, "text": "x"}'), {
    event: "display",
    cell: 5,
    text: "x",
  });
  assert.equal(parseEvent("nbrun: 2 output(s) arrived after their cell had finished; kept"), null);
  assert.equal(parseEvent('{"event": "other"}'), null);
  assert.equal(parseEvent("{not json"), null);
});

Deno.test("fit() cuts to the width with an ellipsis, counting characters, not UTF-16 units", () => {
  assert.equal(fit("abcdef", 6), "abcdef");
  assert.equal(fit("abcdef", 4), "abc…");
  assert.equal(fit("a·b·c·d", 5), "a·b·…");
});

Deno.test("doneLine(): position, cell number, seconds, status and first line", () => {
  assert.equal(
    doneLine({ event: "done", ...place, seconds: 12.345, status: "ok" }),
    '  [3/11] cell 5      12.3 s  const progress = new rpt.Progress(cfg.seeds.length, "seeds");',
  );
  assert.equal(
    doneLine({ event: "done", ...place, line: "throw new Error()", seconds: 0.04, status: "error" }),
    "  [3/11] cell 5       0.0 s  ✘ error  throw new Error()",
  );
  assert.equal([...doneLine({ event: "done", ...place, seconds: 1, status: "ok" }, 40)].length, 40);
});

Deno.test("statusLine(): the source line yields room to the progress bar, then the whole is cut to the width", () => {
  assert.equal(
    statusLine(place, 42_000, null),
    '  [3/11] cell 5 0:42 · const progress = new rpt.Progress(cfg.seeds.length, "seeds");',
  );
  assert.equal(statusLine(place, 42_000, bar, 110), `  [3/11] cell 5 0:42 · const progress = new rpt.P… · ${bar}`);
  const narrow = statusLine(place, 42_000, bar, 60);
  assert.equal([...narrow].length, 60);
  assert.match(
    narrow,
    /^ {2}\[3\/11\] cell 5 0:42 · const progress … · seeds \[#{10}…$/,
    "at least 16 characters of source",
  );
});

function terminal(tty: boolean) {
  const out: string[] = [], lines: string[] = [];
  let t = 0;
  const view = new NotebookTerminal({
    tty,
    write: (s) => out.push(s),
    log: (l) => lines.push(l),
    columns: () => 100,
    now: () => t,
    tickMs: 0,
  });
  return { view, out, lines, advance: (ms: number) => void (t += ms) };
}

const events: NotebookEvent[] = [
  { event: "cell", ...place },
  { event: "display", cell: 5, text: bar },
  { event: "display", cell: 4, text: "an earlier cell's display: ignored" },
  { event: "done", ...place, seconds: 6.2, status: "ok" },
  { event: "cell", cell: 6, pos: 4, of: 11, line: "const rows = runs.flatMap((run) =>" },
  { event: "done", cell: 6, pos: 4, of: 11, line: "const rows = runs.flatMap((run) =>", seconds: 0.1, status: "ok" },
];

Deno.test("NotebookTerminal on a terminal redraws one status line in place, the next cell over the last, and clears it at the end", () => {
  const { view, out, lines, advance } = terminal(true);
  for (const e of events) {
    view.event(e);
    advance(3000);
  }
  view.close();
  assert.deepEqual(lines, [], "nothing line by line");
  assert.deepEqual(out, [
    '\r  [3/11] cell 5 0:00 · const progress = new rpt.Progress(cfg.seeds.length, "seeds");\x1b[K',
    `\r  [3/11] cell 5 0:03 · const progress … · ${bar}\x1b[K`,
    "\r  [4/11] cell 6 0:00 · const rows = runs.flatMap((run) =>\x1b[K",
    "\r\x1b[K",
  ]);
});

Deno.test("NotebookTerminal off a terminal prints one line per finished cell", () => {
  const { view, out, lines } = terminal(false);
  for (const e of events) view.event(e);
  view.close();
  assert.deepEqual(out, []);
  assert.deepEqual(lines, [
    '  [3/11] cell 5       6.2 s  const progress = new rpt.Progress(cfg.seeds.length, "seeds");',
    "  [4/11] cell 6       0.1 s  const rows = runs.flatMap((run) =>",
  ]);
});

Deno.test("NotebookTerminal on a terminal redraws the elapsed time between events", async () => {
  const out: string[] = [];
  const view = new NotebookTerminal({ tty: true, write: (s) => out.push(s), log: () => {}, tickMs: 10 });
  view.event({ event: "cell", ...place });
  await new Promise((r) => setTimeout(r, 60));
  view.close();
  assert.ok(out.length >= 3, `redrawn by the timer: ${out.length} writes`);
  assert.equal(out.at(-1), "\r\x1b[K");
});

Deno.test("readEvents() splits a byte stream into events and other lines, across chunk and character boundaries", async () => {
  const text = `${JSON.stringify({ event: "display", cell: 1, text: "a · b" })}\nplain line\n` +
    `${JSON.stringify({ event: "done", ...place, seconds: 1, status: "ok" })}`;
  const bytes = new TextEncoder().encode(text);
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i < bytes.length; i += 7) c.enqueue(bytes.slice(i, i + 7)); // splits "·" (2 bytes) somewhere
      c.close();
    },
  });
  const seen: NotebookEvent[] = [];
  const other = await readEvents(stream, (e) => seen.push(e));
  assert.deepEqual(seen.map((e) => e.event), ["display", "done"]);
  assert.equal((seen[0] as { text: string }).text, "a · b");
  assert.equal(other, "plain line\n");
});
