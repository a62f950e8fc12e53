import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import {
  BACKEND_CHOICES,
  backendReport,
  formatReport,
  initBackend,
  parseBackendChoice,
  resolveThreads,
} from "@lib/engine/mod.ts";

Deno.test("an unknown engine name is an error that lists the valid ones", () => {
  assert.throws(
    () => parseBackendChoice("tpu"),
    /Unknown backend "tpu"\. Valid names: auto, tensorflow, native, webgpu, wasm, cpu\./,
  );
  assert.equal(parseBackendChoice(" WASM "), "wasm");
  assert.deepEqual([...BACKEND_CHOICES], ["auto", "tensorflow", "native", "webgpu", "wasm", "cpu"]);
});

Deno.test("OOD_THREADS must be a positive integer", () => {
  assert.equal(resolveThreads(3), 3);
  assert.throws(() => resolveThreads(0), /OOD_THREADS must be a positive integer/);
  assert.throws(() => resolveThreads(1.5), /OOD_THREADS must be a positive integer/);
});

Deno.test("initBackend reports the engine once, refuses to swap it, and explains what it passed over", async () => {
  assert.equal(backendReport(), null);
  const lines: string[] = [];
  const report = await initBackend({ backend: "cpu", log: (l) => lines.push(l) });
  assert.equal(report.engine, "cpu");
  assert.equal(tf.getBackend(), "cpu");
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /^\[ood\] engine cpu: TF\.js pure-JS backend, 1 thread\(s\) — requested$/);
  assert.equal(await initBackend({ backend: "cpu", log: (l) => lines.push(l) }), report);
  assert.equal(lines.length, 1, "the report is logged once");
  await assert.rejects(
    initBackend({ backend: "wasm" }),
    /The cpu engine is already running in this process; wasm cannot replace it/,
  );
  const auto = formatReport({
    ...report,
    engine: "wasm",
    reason: "first available engine (auto)",
    skipped: [{ engine: "webgpu", reason: "software adapter only (llvmpipe)" }],
  }, true);
  assert.match(auto, /passed over: webgpu \(software adapter only \(llvmpipe\)\)/);
});

Deno.test("formatReport() is one short line naming the passed-over engines; their full reasons only when verbose", () => {
  const addon = "/work/main/node_modules/.deno/@tensorflow+tfjs-node@4.22.0/node_modules/@tensorflow/tfjs-node/lib/" +
    "napi-v8/tfjs_binding.node: cannot open shared object file: libtensorflow.so.2: No such file or directory; " +
    "tried also /usr/lib/x86_64-linux-gnu/libtensorflow.so.2 and /usr/local/lib/libtensorflow.so.2";
  const report = {
    engine: "native" as const,
    tfBackend: "wasm",
    threads: 2,
    description: "wasm + oneDNN kernels (native/build/libood_native.so)",
    reason: "first available engine (auto)",
    skipped: [{ engine: "tensorflow" as const, reason: `native addon failed to load: ${addon}; ${addon}` }],
  };
  const line = formatReport(report, false);
  assert.equal(
    line,
    "[ood] engine native: wasm + oneDNN kernels (native/build/libood_native.so), 2 thread(s) — first available " +
      "engine (auto); passed over: tensorflow (why: --verbose or the run's manifest)",
  );
  assert.ok(line.length < 200, `${line.length} characters`);
  assert.ok(formatReport(report, true).includes(addon), "--verbose keeps the full reason");
  const old = Deno.env.get("OOD_VERBOSE");
  try {
    Deno.env.set("OOD_VERBOSE", "1");
    assert.ok(formatReport(report).includes(addon), "OOD_VERBOSE=1 is the default's switch");
    Deno.env.delete("OOD_VERBOSE");
    assert.equal(formatReport(report), line);
  } finally {
    old === undefined ? Deno.env.delete("OOD_VERBOSE") : Deno.env.set("OOD_VERBOSE", old);
  }
});
