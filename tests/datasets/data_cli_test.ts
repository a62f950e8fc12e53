import assert from "node:assert/strict";
import { main, parseDataArgs } from "../../tools/data.ts";

Deno.test("parseDataArgs() reads names and flags and rejects unknown options", () => {
  assert.deepEqual(
    parseDataArgs(["cifar10", "--trust-unverified", "--root", "/d", "svhn", "--force", "--keep-archive"]),
    {
      names: ["cifar10", "svhn"],
      root: "/d",
      force: true,
      keepArchive: true,
      trustUnverified: true,
      list: false,
      help: false,
    },
  );
  assert.equal(parseDataArgs(["--root=/x"]).root, "/x");
  assert.throws(() => parseDataArgs(["--fast"]), /unknown option --fast/);
  assert.throws(() => parseDataArgs(["--root"]), /--root needs a directory/);
});

Deno.test("main() skips embedded sets, fails on unknown names, and lists the manifest", async () => {
  const root = Deno.makeTempDirSync();
  const logged: string[] = [];
  const orig = { log: console.log, error: console.error };
  console.log = console.error = (...a: unknown[]) => void logged.push(a.join(" "));
  try {
    assert.equal(await main(["mnist", "--root", root]), 0);
    assert.equal(await main(["nope", "--root", root]), 1);
    assert.equal(await main(["--list", "--root", root]), 0);
    assert.equal(await main(["lsun_fix", "--root", root]), 1, "a set installed by hand cannot be fetched");
    assert.equal(await main([]), 2);
  } finally {
    Object.assign(console, orig);
    Deno.removeSync(root, { recursive: true });
  }
  assert.ok(logged.some((l) => l.includes("mnist: embedded, nothing to download")));
  assert.ok(logged.some((l) => l.includes("nope: unknown dataset")));
  assert.ok(logged.some((l) => /tin_crop\s+-\s+size unknown\s+md5 only/.test(l)));
  assert.ok(logged.some((l) => /lsun_fix\s+-\s+size unknown\s+installed by hand/.test(l)));
  assert.ok(
    logged.some((l) =>
      /lsun_fix: FAILED — lsun_fix: .*open https:\/\/drive\.google\.com.* below data\/lsun_fix\//.test(l)
    ),
  );
});
