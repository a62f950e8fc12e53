import assert from "node:assert/strict";
import { runCli } from "../../tools/cli.ts";
import { formatError, UserError } from "@lib/user_error.ts";
import { CheckpointError } from "@lib/train/checkpoint.ts";
import { DatasetMissingError, DownloadError } from "@lib/datasets/errors.ts";

async function withDebug<T>(value: string | undefined, fn: () => Promise<T>): Promise<T> {
  const old = Deno.env.get("OOD_DEBUG");
  value === undefined ? Deno.env.delete("OOD_DEBUG") : Deno.env.set("OOD_DEBUG", value);
  try {
    return await fn();
  } finally {
    old === undefined ? Deno.env.delete("OOD_DEBUG") : Deno.env.set("OOD_DEBUG", old);
  }
}

Deno.test("runCli() prints a user error as its message and what to do, without a stack trace, and exits 2", async () => {
  const lines: string[] = [];
  const code = await withDebug(undefined, () =>
    runCli(() => {
      throw new CheckpointError("run/step-000000300/weights.bin", "is 1000 bytes", "Remove run/step-000000300.");
    }, (l) => lines.push(l)));
  assert.equal(code, 2);
  assert.deepEqual(lines, ["error: run/step-000000300/weights.bin: is 1000 bytes\n  Remove run/step-000000300."]);
});

Deno.test("runCli() shows the stack trace of a user error with OOD_DEBUG=1, and always for a bug", async () => {
  const lines: string[] = [];
  assert.equal(await withDebug("1", () => runCli(() => Promise.reject(new UserError("bad")), (l) => lines.push(l))), 2);
  assert.match(lines[0]!, /^error: UserError: bad\n\s+at /);
  assert.equal(
    await withDebug(undefined, () => runCli(() => (null as unknown as { x: number }).x, (l) => lines.push(l))),
    1,
  );
  assert.match(lines[1]!, /^error: TypeError: .*\n\s+at /);
  assert.equal(await runCli(() => 0), 0);
});

Deno.test("formatError() treats the dataset and download errors as user errors: message only", () => {
  assert.equal(
    formatError(new DatasetMissingError("cifar10", "/data/cifar10", "no batches"), false),
    'error: Dataset "cifar10" is not available: no batches (looked in /data/cifar10). Fetch it with: deno task data cifar10',
  );
  assert.equal(
    formatError(new DownloadError("https://x/y.tgz", "5 attempts failed"), false),
    "error: https://x/y.tgz: 5 attempts failed",
  );
});
