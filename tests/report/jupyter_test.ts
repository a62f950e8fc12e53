import assert from "node:assert/strict";
import {
  bundleOf,
  DISPLAY,
  displayable,
  htmlView,
  inKernel,
  jupyter,
  markdownView,
  show,
} from "@lib/report/jupyter.ts";
import { Progress } from "@lib/report/progress.ts";

async function captureLog(fn: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [], orig = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.map(String).join(" "));
  try {
    await fn();
  } finally {
    console.log = orig;
  }
  return lines;
}

Deno.test("outside the kernel jupyter() is null and displayables still carry their MIME bundle", () => {
  assert.equal(jupyter(), null);
  assert.equal(inKernel(), false);
  assert.deepEqual(bundleOf(htmlView("<svg></svg>", "[fig]")), { "text/html": "<svg></svg>", "text/plain": "[fig]" });
  assert.deepEqual(bundleOf(markdownView("# t")), { "text/markdown": "# t", "text/plain": "# t" });
  assert.equal(typeof displayable({ "text/plain": "x" })[DISPLAY], "function");
});

Deno.test("show() prints the text/plain of a displayable, or inspects a plain value, outside the kernel", async () => {
  const lines = await captureLog(async () => {
    await show(htmlView("<b>x</b>", "plain x"));
    await show({ a: 1 });
  });
  assert.deepEqual(lines, ["plain x", "{ a: 1 }"]);
});

Deno.test("Progress logs only the first and last update in logs, with the bar and the note", async () => {
  const lines: string[] = [];
  const p = new Progress(4, "epochs", { log: (l) => lines.push(l), terminal: false });
  for (let i = 1; i <= 4; i++) await p.update(i, `loss ${i}`);
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^epochs \[#{8}\.{22}\] 1\/4 \d+\.\ds loss 1$/);
  assert.match(lines[1]!, /^epochs \[#{30}\] 4\/4 \d+\.\ds loss 4$/);
  assert.equal(p.last, lines[1]);
});
