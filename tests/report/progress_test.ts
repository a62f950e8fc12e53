import assert from "node:assert/strict";
import { formatDuration, formatProgress, type KernelDisplay, Progress, progressBundle } from "@lib/report/progress.ts";
import type { MediaBundle } from "@lib/report/jupyter.ts";

/** A clock the test moves by hand. */
function clock(start = 0) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

Deno.test("formatProgress() shows bar, count, loss, accuracy, images/s and ETA", () => {
  const line = formatProgress({
    label: "epoch 2/5",
    done: 25,
    total: 100,
    loss: 0.123456,
    accuracy: 0.9712,
    images: 3200,
    elapsedMs: 4000,
    metrics: { lr: 0.05 },
  }, 10);
  // 25 steps in 4 s → 75 left take 12 s; 3200 images in 4 s = 800 img/s.
  assert.equal(
    line,
    "epoch 2/5 [###.......] 25/100 25% | loss 0.1235 | acc 97.12% | lr 0.0500 | 800 img/s | 0:04<0:12",
  );
  assert.equal(formatProgress({ done: 7, elapsedMs: 61_000 }), "7 steps | 1:01");
  // A resumed bar extrapolates only from the steps done since it started.
  assert.match(formatProgress({ done: 60, total: 100, start: 50, elapsedMs: 10_000 }), /0:10<0:40$/);
  assert.equal(formatDuration(3_723_000), "1:02:03");
});

Deno.test("Progress in lines mode prints the first update, one line per 10 % and the last", async () => {
  const lines: string[] = [];
  const t = clock();
  const p = new Progress({ total: 47, label: "epoch 1/1", mode: "lines", write: (l) => lines.push(l), now: t.now });
  for (let i = 1; i <= 47; i++) {
    t.advance(100);
    await p.update({ done: i, loss: 1 / i, images: i * 32 });
  }
  await p.finish();
  // done = 1 (first), then the first step of each new tenth: 5, 10, 15, 19, 24, 29, 33, 38, 43, and 47 (100 %).
  assert.deepEqual(lines.map((l) => Number(/ (\d+)\/47 /.exec(l)![1])), [1, 5, 10, 15, 19, 24, 29, 33, 38, 43, 47]);
  assert.match(lines.at(-1)!, /^epoch 1\/1 \[#{20}\] 47\/47 100% \| loss 0\.0213 \| 320 img\/s \| 0:05$/);
  assert.match(lines[0]!, /1\/47 2% .*0:00<0:05$/);
});

Deno.test("Progress in lines mode without a total prints the first line and the final one", async () => {
  const lines: string[] = [];
  const p = new Progress({ mode: "lines", write: (l) => lines.push(l), now: clock().now });
  for (let i = 1; i <= 30; i++) await p.update({ done: i });
  await p.finish();
  assert.deepEqual(lines.map((l) => l.split(" | ")[0]), ["1 steps", "30 steps"]);
});

Deno.test("Progress in the kernel creates one display_id output and updates it in place", async () => {
  const calls: { bundle: MediaBundle; opts: Parameters<KernelDisplay>[1] }[] = [];
  const t = clock();
  const p = new Progress({
    total: 10,
    label: "epoch 1/2",
    mode: "kernel",
    display: (bundle, opts) => void calls.push({ bundle, opts }),
    now: t.now,
    minIntervalMs: 1000,
    displayId: "bar-1",
  });
  for (let i = 1; i <= 10; i++) {
    t.advance(300);
    await p.update({ done: i, loss: 0.5, accuracy: 0.8 });
  }
  await p.finish();
  // Drawn at 1 (first), then when ≥ 1 s passed since the last draw (i = 5, 9), and at 10 (the last).
  assert.deepEqual(calls.map((c) => /(\d+)\/10/.exec(c.bundle["text/plain"] as string)![1]), ["1", "5", "9", "10"]);
  assert.deepEqual(calls.map((c) => c.opts), [
    { raw: true, display_id: "bar-1", update: false },
    { raw: true, display_id: "bar-1", update: true },
    { raw: true, display_id: "bar-1", update: true },
    { raw: true, display_id: "bar-1", update: true },
  ]);
  const html = calls.at(-1)!.bundle["text/html"] as string;
  assert.match(
    html,
    /^<progress value="10" max="10" style="width:16em"><\/progress> <code>epoch 1\/2 \[#+\] 10\/10 100%/,
  );
  assert.match(html, /acc 80\.00%/);
});

Deno.test("Progress on a terminal rewrites one line with \\r and ends it with a newline", async () => {
  const out: string[] = [];
  const t = clock();
  const p = new Progress({ total: 3, mode: "tty", write: (s) => out.push(s), now: t.now, minIntervalMs: 0 });
  for (let i = 1; i <= 3; i++) {
    t.advance(1000);
    await p.update({ done: i, loss: 2 / i });
  }
  await p.finish();
  assert.equal(out.length, 4);
  assert.ok(out.slice(0, 3).every((s) => s.startsWith("\r")));
  assert.match(out[2]!, /3\/3 100% \| loss 0\.6667/);
  assert.equal(out[3], "\n");
});

Deno.test("progressBundle() escapes HTML and silent mode writes nothing", async () => {
  assert.deepEqual(progressBundle("a<b>&", 1), { "text/plain": "a<b>&", "text/html": "<code>a&lt;b&gt;&amp;</code>" });
  const p = new Progress({ total: 2, mode: "silent", write: () => assert.fail("silent wrote") });
  await p.update({ done: 1 });
  await p.finish();
});

Deno.test("Progress(total, label) with a note per update: the notebooks' and the run grid's form", async () => {
  const lines: string[] = [];
  const t = clock();
  const p = new Progress(4, "runs", { mode: "lines", write: (l) => lines.push(l), now: t.now });
  assert.equal(p.total, 4);
  assert.equal(p.label, "runs");
  await p.update(0, "mnist: loading data");
  for (let i = 1; i <= 4; i++) {
    t.advance(2000);
    await p.update(i, `seed ${i - 1} done`);
  }
  await p.update(4, "after the end: ignored");
  // The first update, then one per new tenth (each run here), the last ending the bar.
  assert.deepEqual(lines, [
    "runs [....................] 0/4 0% | 0:00 | mnist: loading data",
    "runs [#####...............] 1/4 25% | 0:02<0:06 | seed 0 done",
    "runs [##########..........] 2/4 50% | 0:04<0:04 | seed 1 done",
    "runs [###############.....] 3/4 75% | 0:06<0:02 | seed 2 done",
    "runs [####################] 4/4 100% | 0:08 | seed 3 done",
  ]);
  assert.equal(p.last, lines.at(-1));
  assert.ok(Number.isNaN(new Progress({ mode: "silent" }).total), "no total: NaN");
});

Deno.test("Progress in the kernel draws a changed note at once, and ends itself at the total", async () => {
  const texts: string[] = [];
  const t = clock();
  const p = new Progress(2, "seeds", {
    mode: "kernel",
    display: (b) => void texts.push(b["text/plain"] as string),
    now: t.now,
    minIntervalMs: 10_000,
  });
  await p.update(0, "seed 0: train");
  await p.update(0, "seed 0: train"); // same note, within the interval: not drawn
  await p.update(0, "seed 0: score"); // a new stage: drawn
  await p.update(1, "seed 1: train");
  await p.update(2, "done");
  await p.finish();
  assert.deepEqual(texts.map((x) => x.split(" | ").at(-1)), [
    "seed 0: train",
    "seed 0: score",
    "seed 1: train",
    "done",
  ]);
});

Deno.test("Progress on a terminal ends its line by itself when the total is reached", async () => {
  const out: string[] = [];
  const p = new Progress(2, "seeds", { mode: "tty", write: (s) => out.push(s), now: clock().now, minIntervalMs: 0 });
  await p.update(1, "seed 0");
  await p.update(2, "seed 1");
  assert.equal(out.at(-1), "\n");
  assert.match(out.at(-2)!, /^\rseeds \[#{20}\] 2\/2 100% \| 0:00 \| seed 1 *$/, "padded over the longer line before");
});
