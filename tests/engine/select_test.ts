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
  });
  assert.match(auto, /passed over: webgpu \(software adapter only \(llvmpipe\)\)/);
});
