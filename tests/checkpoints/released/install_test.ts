/**
 * Installing released weights: a file is verified (published checksum or git blob id, else only on
 * `--trust-unverified`) and read with the safe checkpoint reader before anything lands in
 * `checkpoints/released/<paper>/`; a refused file leaves the folder as it was.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { installReleased, releasedDigests } from "@lib/checkpoints/released/install.ts";
import { releasedPresent } from "@lib/checkpoints/released/paths.ts";
import type { ReleasedFile } from "@lib/checkpoints/released/types.ts";

const fixtures = new URL("../../io/torch/testdata/", import.meta.url).pathname;
const good = join(fixtures, "state_dict.pt");
const evil = join(fixtures, "evil_eval.pt");

const entry = (over: Partial<ReleasedFile> = {}): ReleasedFile => ({
  paper: "cider",
  id: "test_weights",
  description: "a test checkpoint",
  url: "https://example.org/weights.pt",
  download: "direct",
  filename: "weights.pt",
  format: "file",
  source: "test",
  ...over,
});

async function gitBlobId(path: string): Promise<string> {
  const bytes = await Deno.readFile(path);
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) out.push(...(await listTree(join(dir, e.name))).map((p) => `${e.name}/${p}`));
      else out.push(e.name);
    }
  } catch { /* absent */ }
  return out.sort();
}

const serve = (path: string): typeof fetch => async () => new Response(await Deno.readFile(path), { status: 200 });

Deno.test("an imported file with no published checksum is refused without --trust-unverified, printing its SHA-256", async () => {
  const root = await Deno.makeTempDir();
  const { sha256 } = await releasedDigests(good);
  await assert.rejects(
    installReleased(entry({ download: "manual" }), { root, importFile: good, log: null }),
    (e: Error) => e.message.includes(good) && e.message.includes(sha256) && e.message.includes("--trust-unverified"),
  );
  assert.deepEqual((await listTree(root)).filter((p) => !p.startsWith("cider/.")), []);
  const r = await installReleased(entry({ download: "manual" }), {
    root,
    importFile: good,
    trustUnverified: true,
    log: null,
  });
  assert.equal(r.verified, "trusted");
  assert.deepEqual(await Deno.readFile(r.paths[0]!), await Deno.readFile(good));
  assert.ok(await Deno.stat(good), "the imported file is left where it was");
  await Deno.remove(root, { recursive: true });
});

Deno.test("a downloaded file is verified by the git blob id of the authors' repository and refused on a mismatch", async () => {
  const root = await Deno.makeTempDir();
  const blob = await gitBlobId(good);
  const bad = entry({ checksum: { gitBlobSha1: "0".repeat(40), source: "test tree" } });
  await assert.rejects(
    installReleased(bad, { root, fetch: serve(good), log: null, attempts: 1 }),
    /git blob id mismatch: got [0-9a-f]{40}, the authors' repository has 0{40}/,
  );
  assert.equal(await releasedPresent(bad, root), false);
  const ok = entry({ checksum: { gitBlobSha1: blob, source: "test tree" } });
  const r = await installReleased(ok, { root, fetch: serve(good), log: null, attempts: 1 });
  assert.equal(r.verified, "git blob id");
  assert.equal(await releasedPresent(ok, root), true);
  const again = await installReleased(ok, { root, fetch: serve(good), log: null });
  assert.equal(again.installed, false, "an installed file is not fetched again");
  await Deno.remove(root, { recursive: true });
});

Deno.test("a file whose pickle calls a forbidden global is refused even when its checksum matches, and nothing is installed", async () => {
  const root = await Deno.makeTempDir();
  const { sha256 } = await releasedDigests(evil);
  const e = entry({ checksum: { sha256, source: "test" } });
  await assert.rejects(
    installReleased(e, { root, fetch: serve(evil), log: null, attempts: 1 }),
    (err: Error) => /not a readable PyTorch checkpoint/.test(err.message) && /builtins\.eval/.test(err.message),
  );
  assert.equal(await releasedPresent(e, root), false);
  await Deno.remove(root, { recursive: true });
});

Deno.test("a manual file without --import names the page to download it from and the import command", async () => {
  const root = await Deno.makeTempDir();
  await assert.rejects(
    installReleased(entry({ download: "manual", url: "https://drive.google.com/x" }), { root, log: null }),
    /Download it in a browser from https:\/\/drive\.google\.com\/x, then run: deno task data checkpoints cider test_weights --import <the downloaded file> --trust-unverified/,
  );
  await Deno.remove(root, { recursive: true });
});

Deno.test("an archive is extracted safely and each expected member is read before it is installed", async () => {
  const root = await Deno.makeTempDir();
  const src = await Deno.makeTempDir();
  await Deno.mkdir(join(src, "fold_1"));
  await Deno.copyFile(good, join(src, "fold_1", "checkpoint.pth.tar"));
  await Deno.copyFile(good, join(src, "other.pt"));
  const archive = join(src, "models.tar.gz");
  const tar = await new Deno.Command("tar", { args: ["czf", archive, "-C", src, "fold_1", "other.pt"] }).output();
  assert.ok(tar.success, "tar is available");
  const members = ["fold_1/checkpoint.pth.tar"];
  const e = entry({ paper: "eloc", filename: "models.tar.gz", format: "tar.gz", members });
  const r = await installReleased(e, { root, fetch: serve(archive), trustUnverified: true, log: null, attempts: 1 });
  assert.deepEqual(r.paths, [join(root, "eloc", "fold_1", "checkpoint.pth.tar")]);
  assert.deepEqual((await listTree(join(root, "eloc"))).filter((p) => !p.startsWith(".")), members);
  const missing = entry({
    paper: "eloc",
    filename: "models.tar.gz",
    format: "tar.gz",
    members: ["fold_2/checkpoint.pth.tar"],
  });
  await assert.rejects(
    installReleased(missing, {
      root,
      fetch: serve(archive),
      trustUnverified: true,
      log: null,
      force: true,
      attempts: 1,
    }),
    /the archive has no fold_2\/checkpoint\.pth\.tar/,
  );
  await Deno.remove(root, { recursive: true });
  await Deno.remove(src, { recursive: true });
});
