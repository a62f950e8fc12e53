/**
 * `deno task data checkpoints`: lists each paper's released files with URL, download kind and checksum, refuses
 * unknown papers and ids with the valid names, and imports a hand-downloaded file after verifying it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { checkpointsMain, parseCheckpointArgs } from "../../tools/data_checkpoints.ts";

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await checkpointsMain(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

Deno.test("checkpoints <paper> --list shows every file's URL, how it is downloaded, its checksum and the command", async () => {
  const root = await Deno.makeTempDir();
  const um = await run(["unleashing_mask", "--list", "--root", root]);
  assert.equal(um.code, 0);
  assert.match(um.out, /densenet_cifar10_last \[not installed\]/);
  assert.match(
    um.out,
    /direct download: https:\/\/raw\.githubusercontent\.com\/ZFancy\/Unleashing-Mask\/[0-9a-f]{40}\//,
  );
  assert.match(um.out, /git blob [0-9a-f]{40}/);
  const cider = await run(["cider", "--list", "--root", root]);
  assert.match(cider.out, /download by hand: https:\/\/drive\.google\.com\//);
  assert.match(cider.out, /no published checksum/);
  assert.match(cider.out, /deno task data checkpoints cider cider_cifar10_resnet18 --import <the downloaded file>/);
  await Deno.remove(root, { recursive: true });
});

Deno.test("checkpoints refuses an unknown paper, id or option with the valid names and exit status 2", async () => {
  const paper = await run(["cmg"]);
  assert.equal(paper.code, 2);
  assert.match(paper.err, /no released weights for "cmg"[\s\S]*papers: cider, eloc, vmdls, unleashing_mask/);
  const id = await run(["eloc", "nope"]);
  assert.equal(id.code, 2);
  assert.match(id.err, /eloc has no released file "nope"\. Its files: /);
  assert.throws(() => parseCheckpointArgs(["eloc", "--bogus"]), /unknown option --bogus/);
  assert.throws(() => parseCheckpointArgs(["eloc", "--import"]), /--import needs a value/);
});

Deno.test("checkpoints --import installs a hand-downloaded file only after it is verified and read safely", async () => {
  const root = await Deno.makeTempDir();
  const file = new URL("../checkpoints/released/testdata/cider_c10_resnet18.pth.tar", import.meta.url).pathname;
  const refused = await run(["cider", "cider_cifar10_resnet18", "--import", file, "--root", root]);
  assert.equal(refused.code, 1);
  assert.match(refused.err, /publish no checksum for cider_cifar10_resnet18; its SHA-256 is [0-9a-f]{64}/);
  const ok = await run(["cider", "cider_cifar10_resnet18", "--import", file, "--trust-unverified", "--root", root]);
  assert.equal(ok.code, 0, ok.err);
  const listed = await run(["cider", "--list", "--root", root]);
  assert.match(listed.out, /cider_cifar10_resnet18 \[installed\]/);
  const installed = (await Array.fromAsync(Deno.readDir(join(root, "cider")))).map((e) => e.name).filter((n) =>
    !n.startsWith(".")
  );
  assert.equal(installed.length, 1);
  const evil = new URL("../io/torch/testdata/evil_os_system.pkl", import.meta.url).pathname;
  const bad = await run(["cider", "cider_cifar100_resnet34", "--import", evil, "--trust-unverified", "--root", root]);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /not a readable PyTorch checkpoint: .*refuses global "(os|posix)\.system"/);
  await Deno.remove(root, { recursive: true });
});
