import assert from "node:assert/strict";
import { join } from "node:path";

const SCRIPT = new URL("../../tools/test.sh", import.meta.url).pathname;

/**
 * Runs tools/test.sh with a fake `deno` first on PATH that prints `output` and then exits with `exit` (a number) or
 * kills itself with `signal`.
 */
async function runWithFakeDeno(output: string, end: { exit: number } | { signal: "ABRT" | "SEGV" }) {
  const dir = await Deno.makeTempDir();
  try {
    const tail = "exit" in end ? `exit ${end.exit}` : `kill -${end.signal} $$`;
    await Deno.writeTextFile(join(dir, "deno"), `#!/usr/bin/env bash\nprintf '%s\\n' "${output}"\n${tail}\n`);
    await Deno.chmod(join(dir, "deno"), 0o755);
    const out = await new Deno.Command("bash", {
      args: [SCRIPT],
      env: { PATH: `${dir}:${Deno.env.get("PATH")}` },
      stdout: "piped",
      stderr: "piped",
    }).output();
    return {
      code: out.code,
      stdout: new TextDecoder().decode(out.stdout),
      stderr: new TextDecoder().decode(out.stderr),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const PASSED = "ok | 12 passed (3 steps) | 0 failed (4s)";

Deno.test("tools/test.sh passes a deno death after a fully passing summary as a pass, with a warning naming the signal", async () => {
  const r = await runWithFakeDeno(PASSED, { signal: "ABRT" });
  assert.equal(r.code, 0);
  assert.match(r.stdout, /ok \| 12 passed/, "deno's output is shown");
  assert.match(
    r.stderr,
    /WARNING: every test passed \(ok \| 12 passed.*\), then deno died from signal 6 during teardown/,
  );
  assert.equal((await runWithFakeDeno(`\x1b[32mok\x1b[0m | 3 passed | 0 failed`, { signal: "SEGV" })).code, 0);
});

Deno.test("tools/test.sh keeps every other failure: failing tests, a crash before the summary, a plain error exit", async () => {
  assert.equal((await runWithFakeDeno("FAILED | 11 passed | 1 failed (4s)", { signal: "ABRT" })).code, 134);
  assert.equal((await runWithFakeDeno("running 3 tests from ./tests/a_test.ts", { signal: "SEGV" })).code, 139);
  assert.equal((await runWithFakeDeno("FAILED | 11 passed | 1 failed (4s)", { exit: 1 })).code, 1);
  assert.equal((await runWithFakeDeno("error: Type checking failed.", { exit: 1 })).code, 1);
  const ok = await runWithFakeDeno(PASSED, { exit: 0 });
  assert.equal(ok.code, 0);
  assert.equal(ok.stderr, "", "no warning on a clean exit");
});
