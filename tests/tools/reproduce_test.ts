/**
 * `deno task reproduce` (tools/reproduce.ts → tools/notebooks.ts → tools/nbrun.py) under interruption and misuse,
 * with a three-cell test notebook (tests/notebooks/testdata/steps.ipynb; `OOD_TEST_MODE=ok|fail|missing|hang` says how
 * its last cell ends): a SIGTERM mid-cell leaves no process of the run alive and writes what ran; one rule picks
 * the profile and an unknown one is refused before anything runs; user errors print without a stack trace; each
 * profile keeps its own reports and a rerun replaces them only when it completes; a resumed MNIST job reports this
 * process's throughput apart from the run's total.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  migrateFlatReports,
  type NotebookRun,
  parseNotebookArgs,
  readExecuted,
  reproduceNotebooks,
  ROOT,
  runNotebook,
  writeIndex,
} from "../../tools/notebooks.ts";
import { formatMnistResult, type MnistJobResult } from "../../tools/reproduce.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { createBackbone } from "@lib/backbones/mod.ts";
import { saveCheckpoint } from "@lib/train/checkpoint.ts";

const STEPS = join(ROOT, "tests", "notebooks", "testdata", "steps.ipynb");

/** The environment of a child `deno` without the variables these tests set themselves. */
function childEnv(extra: Record<string, string>): Record<string, string> {
  const env = Deno.env.toObject();
  for (const k of ["OOD_PROFILE", "OOD_WEIGHTS", "OOD_BACKEND", "OOD_DEBUG", "OOD_VERBOSE", "OOD_RUN_DIR"]) {
    delete env[k];
  }
  return { ...env, NO_COLOR: "1", ...extra };
}

/** Runs `deno run -A tools/reproduce.ts <args>` to the end. */
async function reproduce(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tools/reproduce.ts", ...args],
    cwd: ROOT,
    env: childEnv(env),
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** pid → parent pid of every process, from /proc. */
function parents(): Map<number, number> {
  const map = new Map<number, number>();
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      // "pid (comm) state ppid …": comm may hold spaces and parentheses, so read after the last ")".
      map.set(Number(e.name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch { /* it ended meanwhile */ }
  }
  return map;
}

/** Every process below `pid`. */
function descendants(pid: number): number[] {
  const ppid = parents(), out: number[] = [];
  const walk = (p: number) => {
    for (const [c, pp] of ppid) {
      if (pp === p) {
        out.push(c);
        walk(c);
      }
    }
  };
  walk(pid);
  return out;
}

/** Alive and not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

function cmdline(pid: number): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " ").trim();
  } catch {
    return "?";
  }
}

Deno.test("reproduce stopped by SIGTERM mid-cell: no process of the run survives, the partial notebook and a run.json saying interrupted are written, exit 143", async () => {
  const out = await Deno.makeTempDir({ prefix: "reproduce-sigterm-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tools/reproduce.ts", STEPS, "--profile", "smoke", "--out", out],
    cwd: ROOT,
    env: childEnv({ OOD_TEST_MODE: "hang" }),
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stdout = "";
  const reading = (async () => {
    const dec = new TextDecoder();
    for await (const b of child.stdout) stdout += dec.decode(b, { stream: true });
  })();
  const stderr = new Response(child.stderr).text();
  let run: number[] = [];
  try {
    // One line per finished cell: once cell 1 is done, cell 2 (the busy one) runs.
    const t0 = Date.now();
    while (!/\[2\/3\] cell 1 /.test(stdout)) {
      assert.ok(Date.now() - t0 < 120_000, `cell 1 never finished:\n${stdout}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 1500));
    run = descendants(child.pid);
    const kernel = run.filter((p) => /jupyter --kernel/.test(cmdline(p)));
    assert.equal(kernel.length, 1, `the kernel runs: ${run.map((p) => `${p} ${cmdline(p)}`).join("\n")}`);
    child.kill("SIGTERM");
    const status = await child.status;
    await reading;
    assert.equal(status.code, 143, `exit status 128 + 15:\n${stdout}\n${await stderr}`);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* ended */ }
  }
  // The runner has waited for nbrun.py, which has waited for the kernel's group: nothing may be left.
  const survivors = run.filter(alive);
  assert.deepEqual(survivors.map((p) => `${p} ${cmdline(p)}`), [], "no process of the run survives");
  assert.match(stdout, /⏹ steps: cell 2: Interrupted: the run was stopped by SIGTERM while cell 2 ran/);
  assert.match(stdout, /stopped by SIGTERM: the kernel and its processes were stopped/);
  const r = JSON.parse(await Deno.readTextFile(join(out, "smoke", "steps.run.json"))) as NotebookRun;
  assert.equal(r.status, "interrupted");
  assert.equal(r.ok, false);
  assert.equal(r.cell, 2);
  const cells = await readExecuted(r.ipynb);
  assert.match(JSON.stringify(cells[0]!.outputs), /profile smoke, mode hang/, "finished cells keep their outputs");
  assert.match(JSON.stringify(cells[2]!.outputs), /cell 2 started/, "the running cell keeps what it printed");
  assert.ok(cells[2]!.outputs.some((o) => o.ename === "Interrupted"), "and says it was interrupted");
  assert.match(await Deno.readTextFile(join(out, "smoke", "steps.html")), /stopped by SIGTERM/);
  assert.match(await Deno.readTextFile(join(out, "index.html")), /Interrupted: the run was stopped by SIGTERM/);
  await Deno.remove(out, { recursive: true });
});

Deno.test("runs of one profile never replace another's; a rerun replaces its profile's report only when it completes", async () => {
  const out = await Deno.makeTempDir({ prefix: "reproduce-profiles-" });
  const csv = (profile: string) => Deno.readTextFile(join(out, profile, "results", "steps.csv"));
  const runJson = (path: string) => JSON.parse(Deno.readTextFileSync(path)) as NotebookRun;
  const def = await runNotebook(STEPS, { profile: "default", outDir: out, html: false });
  assert.ok(def.ok, def.message);
  assert.equal(def.ipynb, join(out, "default", "steps.ipynb"));
  const smoke = await runNotebook(STEPS, { profile: "smoke", outDir: out, html: false });
  assert.ok(smoke.ok, smoke.message);
  assert.equal(await csv("default"), "profile\ndefault\n", "the smoke run left the default run's rows alone");
  assert.equal(await csv("smoke"), "profile\nsmoke\n");
  assert.equal(runJson(join(out, "default", "steps.run.json")).startedAt, def.startedAt);

  const failed = await runNotebook(STEPS, {
    profile: "smoke",
    outDir: out,
    html: false,
    env: { OOD_TEST_MODE: "fail" },
  });
  assert.equal(failed.ok, false);
  assert.equal(failed.kept, true, "a complete smoke report was there");
  assert.equal(failed.ipynb, join(out, "smoke", "failed", "steps.ipynb"));
  assert.equal(runJson(join(out, "smoke", "steps.run.json")).startedAt, smoke.startedAt, "the report is kept");
  assert.ok(runJson(join(out, "smoke", "steps.run.json")).ok);
  const kept = await readExecuted(join(out, "smoke", "steps.ipynb"));
  assert.equal(kept[2]!.outputs.at(-1)!.data?.["text/plain"], '"done"', "the kept report is the complete run's");
  assert.equal(runJson(join(out, "smoke", "failed", "steps.run.json")).status, "error");
  assert.throws(() => Deno.statSync(join(out, ".staging")), Deno.errors.NotFound, "no staging folder is left");

  const index = await Deno.readTextFile(await writeIndex(out));
  for (const href of ["default/steps.ipynb", "smoke/steps.ipynb", "smoke/failed/steps.ipynb"]) {
    assert.ok(index.includes(`href="${href}"`), `the index links ${href}`);
  }
  assert.match(index, /profiles: smoke, default/);
  assert.match(index, /a later run, .*, did not complete: cell 2 \[3\]: Error: failing on purpose/);

  const again = await runNotebook(STEPS, { profile: "smoke", outDir: out, html: false });
  assert.ok(again.ok && !again.kept);
  assert.equal(runJson(join(out, "smoke", "steps.run.json")).startedAt, again.startedAt, "a complete rerun replaces");
  assert.ok(!Deno.statSync(join(out, "smoke")).isFile);
  assert.throws(() => Deno.statSync(join(out, "smoke", "failed", "steps.run.json")), "the failed attempt is gone");
  assert.equal(await csv("default"), "profile\ndefault\n");
  await Deno.remove(out, { recursive: true });
});

Deno.test("the profile: --profile wins, else OOD_PROFILE, else default; an unknown one anywhere is refused", () => {
  assert.equal(parseNotebookArgs([], undefined).profile, "default");
  assert.equal(parseNotebookArgs([], "smoke").profile, "smoke");
  assert.equal(parseNotebookArgs(["--profile", "paper"], "smoke").profile, "paper");
  assert.throws(
    () => parseNotebookArgs([], "bogus"),
    /Unknown OOD_PROFILE "bogus"\. Valid profiles: smoke, default, paper\./,
  );
  assert.throws(() => parseNotebookArgs(["--profile", "smoke"], "bogus"), /Unknown OOD_PROFILE "bogus"/);
  assert.throws(() => parseNotebookArgs(["--profile", "huge"], undefined), /Unknown --profile "huge"/);
});

Deno.test("OOD_PROFILE=smoke deno task reproduce runs the smoke profile", async () => {
  const out = await Deno.makeTempDir({ prefix: "reproduce-env-profile-" });
  const r = await reproduce([STEPS, "--out", out], { OOD_PROFILE: "smoke" });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /▶ steps \(profile smoke\)/);
  assert.equal(
    (JSON.parse(await Deno.readTextFile(join(out, "smoke", "steps.run.json"))) as NotebookRun).profile,
    "smoke",
  );
  assert.throws(() => Deno.statSync(join(out, "default")), "nothing ran at the default profile");
  await Deno.remove(out, { recursive: true });
});

Deno.test("an unknown OOD_PROFILE, --profile, OOD_WEIGHTS or OOD_BACKEND is refused with the valid names before anything runs, without a stack trace", async () => {
  const out = await Deno.makeTempDir({ prefix: "reproduce-refused-" });
  const cases: [string[], Record<string, string>, RegExp][] = [
    [
      ["demo", "--out", out],
      { OOD_PROFILE: "bogus" },
      /^error: Unknown OOD_PROFILE "bogus"\. Valid profiles: smoke, default, paper\.\n$/,
    ],
    [
      ["demo", "--out", out, "--profile", "bogus"],
      {},
      /^error: Unknown --profile "bogus"\. Valid profiles: smoke, default, paper\.\n$/,
    ],
    [
      ["demo", "--out", out],
      { OOD_WEIGHTS: "bogus" },
      /^error: Unknown OOD_WEIGHTS "bogus"\. Valid values: train, released\.\n$/,
    ],
    [
      ["mnist"],
      { OOD_BACKEND: "bogus" },
      /^error: Unknown OOD_BACKEND "bogus"\. Valid names: auto, tensorflow, native, webgpu, wasm, cpu\.\n$/,
    ],
  ];
  for (const [args, env, expected] of cases) {
    const r = await reproduce(args, env);
    assert.equal(r.code, 2, `${JSON.stringify(env)} ${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, expected);
    assert.equal(r.stdout, "", "nothing ran");
  }
  assert.deepEqual([...Deno.readDirSync(out)], [], "nothing was written");
  const debug = await reproduce(["mnist"], { OOD_BACKEND: "bogus", OOD_DEBUG: "1" });
  assert.match(
    debug.stderr,
    /^error: UserError: Unknown OOD_BACKEND "bogus"[^]*\n {4}at /,
    "OOD_DEBUG=1 shows the trace",
  );
  await Deno.remove(out, { recursive: true });
});

Deno.test("deno task reproduce with a damaged checkpoint and none before it says which directory to remove, without a stack trace", async () => {
  await initBackend({ backend: "cpu", log: null });
  const runDir = await Deno.makeTempDir({ prefix: "reproduce-bad-ckpt-" });
  const net = createBackbone("lenet", { numClasses: 10, inputShape: [28, 28, 1] });
  const path = await saveCheckpoint(runDir, {
    model: net.model,
    state: { epoch: 0, step: 300, mathRandom: null, streams: {}, config: null },
  });
  net.model.dispose();
  await Deno.truncate(join(path, "weights.bin"), 1000);
  const r = await reproduce(["mnist"], { OOD_RUN_DIR: runDir, OOD_BACKEND: "cpu" });
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.stderr,
    /error: .*step-000000300\/weights\.bin: is 1000 bytes, manifest says \d+ \(truncated or replaced\)\n/,
  );
  assert.match(
    r.stderr,
    /\n {2}No valid checkpoint is left in .*\. Remove the damaged checkpoint \(.*step-000000300\), or all of .* to train from the start\.\n$/,
  );
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  await Deno.remove(runDir, { recursive: true });
});

Deno.test("a notebook that stops on a user error (a missing dataset) is reported as its message and what to do, without a stack trace", async () => {
  const out = await Deno.makeTempDir({ prefix: "reproduce-missing-" });
  const old = Deno.env.get("OOD_TEST_MODE");
  const lines: string[] = [];
  try {
    Deno.env.set("OOD_TEST_MODE", "missing");
    const rc = await reproduceNotebooks([STEPS, "--profile", "smoke", "--out", out], (l) => lines.push(l));
    assert.equal(rc, 1);
  } finally {
    old === undefined ? Deno.env.delete("OOD_TEST_MODE") : Deno.env.set("OOD_TEST_MODE", old);
  }
  const log = lines.join("\n");
  assert.match(
    log,
    /✘ steps: cell 2 \[3\]: DatasetMissingError: Dataset "cifar10" is not available: no data_batch_1\.bin \(looked in \/nonexistent\/cifar10\)\. Fetch it with: deno task data cifar10\n/,
  );
  assert.doesNotMatch(log, /\bat /, `no stack trace:\n${log}`);
  await Deno.remove(out, { recursive: true });
});

Deno.test("migrateFlatReports() moves the reports of the old flat layout into their profile's folder", async () => {
  const out = await Deno.makeTempDir({ prefix: "reproduce-migrate-" });
  await Deno.mkdir(join(out, "results"));
  const run = {
    name: "cmg",
    profile: "default",
    ok: true,
    status: "ok",
    message: "ok",
    startedAt: "2026-12-01T10:00:00.000Z",
    seconds: 480,
    ipynb: join(out, "cmg.ipynb"),
    html: join(out, "cmg.html"),
  };
  await Deno.writeTextFile(
    join(out, "cmg.run.json"),
    JSON.stringify({ ...run, results: join(out, "results", "cmg.parquet") }),
  );
  for (const f of ["cmg.ipynb", "cmg.html", "cmg.png", "results/cmg.parquet", "results/cmg.csv"]) {
    await Deno.writeTextFile(join(out, f), f);
  }
  assert.deepEqual(await migrateFlatReports(out), ["cmg"]);
  for (const f of ["cmg.ipynb", "cmg.html", "cmg.png", "results/cmg.parquet", "results/cmg.csv"]) {
    assert.equal(await Deno.readTextFile(join(out, "default", f)), f);
    assert.throws(() => Deno.statSync(join(out, f)));
  }
  const moved = JSON.parse(await Deno.readTextFile(join(out, "default", "cmg.run.json"))) as NotebookRun;
  assert.equal(moved.html, join(out, "default", "cmg.html"));
  assert.equal(moved.results, join(out, "default", "results", "cmg.parquet"));
  assert.match(await Deno.readTextFile(await writeIndex(out)), /href="default\/cmg\.html"/);
  await Deno.remove(out, { recursive: true });
});

Deno.test("formatMnistResult() gives a resumed run's throughput from this process's images and, apart, the run's total", () => {
  const base: MnistJobResult = {
    engine: "native",
    description: "wasm + oneDNN",
    threads: 2,
    trainImages: 60000,
    trainSeconds: 26.4,
    trainImagesPerSecond: 60000 / 26.4,
    runImages: 60000,
    runSteps: 938,
    resumedAtStep: null,
    testAccuracy: 0.9895,
    testImages: 10000,
    finalLoss: 0.03,
  };
  assert.match(formatMnistResult(base), /\| training 2273 images\/s \(60000 images in 26\.4 s\)$/);
  const resumed = { ...base, trainImages: 40000, trainImagesPerSecond: 40000 / 26.4, resumedAtStep: 300 };
  assert.match(
    formatMnistResult(resumed),
    /\| training 1515 images\/s in this process \(40000 images in 26\.4 s, resumed at step 300 of 938\); the run in total: 60000 images$/,
  );
});
