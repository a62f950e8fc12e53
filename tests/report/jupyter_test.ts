import assert from "node:assert/strict";
import {
  bundleOf,
  DISPLAY,
  displayable,
  htmlView,
  inKernel,
  installResultOrderFix,
  jupyter,
  type KernelResultHooks,
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

Deno.test("installResultOrderFix holds the cell's end until its result is queued and delayMs passed, once", async () => {
  assert.equal(installResultOrderFix(), false, "outside the kernel there is nothing to wrap");
  const calls: string[] = [];
  const hooks: KernelResultHooks = {
    broadcastResult: async (n, r) => {
      await Promise.resolve();
      calls.push(`sent ${n} ${String(r)}`);
    },
  };
  assert.equal(installResultOrderFix(30, hooks), true);
  const wrapped = hooks.broadcastResult!;
  assert.equal(installResultOrderFix(30, hooks), true, "idempotent");
  assert.equal(hooks.broadcastResult, wrapped, "not wrapped twice");
  const t0 = performance.now();
  await hooks.broadcastResult!(3, "x");
  calls.push("cell done");
  assert.ok(performance.now() - t0 >= 25, "the cell is reported done only after the delay");
  assert.deepEqual(calls, ["sent 3 x", "cell done"]);
  const t1 = performance.now();
  await hooks.broadcastResult!(4, undefined);
  assert.ok(performance.now() - t1 < 25, "no delay for a cell without a result");
});
