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
