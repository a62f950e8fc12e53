import assert from "node:assert/strict";
import { isDownloadable, MANIFEST, type ManifestEntry } from "@lib/datasets/manifest.ts";

const entries = Object.entries(MANIFEST) as [string, ManifestEntry][];

Deno.test("every manifest file has an official URL, a well-formed or explicitly null checksum, and a source", () => {
  for (const [name, e] of entries) {
    assert.ok(e.files.length > 0 || (e.manual ?? "").length > 50, `${name}: files, or how to install it by hand`);
    assert.ok(e.license.length > 10 && e.layout.length > 5 && /^https?:\/\//.test(e.homepage), name);
    for (const f of e.files) {
      assert.ok(/^https?:\/\/[^/]+\//.test(f.url), `${name}: ${f.url}`);
      assert.ok(f.sha256 === null || /^[0-9a-f]{64}$/.test(f.sha256), `${name}: sha256`);
      assert.ok(f.md5 === undefined || /^[0-9a-f]{32}$/.test(f.md5), `${name}: md5`);
      assert.ok(f.size === null || (Number.isInteger(f.size) && f.size > 0), `${name}: size`);
      assert.ok(["tar", "tar.gz", "zip", "file"].includes(f.format), `${name}: format`);
      assert.ok(f.sha256 !== null || f.md5 !== undefined, `${name}: at least one published checksum`);
      assert.ok(f.checksumSource.length > 0, `${name}: checksum source`);
      assert.ok(!/\.pkl|python\.tar/.test(f.url), `${name}: never the pickle versions`);
    }
  }
});

Deno.test("the CIFAR entries are the official binary versions", () => {
  assert.equal(MANIFEST.cifar10.files[0].url, "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz");
  assert.equal(MANIFEST.cifar100.files[0].url, "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz");
});

Deno.test("the ODIN Dropbox archives have null SHA-256 (none is published) and carry pytorch-ood's MD5", () => {
  for (const n of ["tin_crop", "tin_resize", "lsun_crop", "lsun_resize", "isun"] as const) {
    assert.equal(MANIFEST[n].files[0]!.sha256, null, n);
    assert.match(MANIFEST[n].files[0]!.url, /dropbox\.com\/.*\?dl=1$/);
  }
  assert.ok(isDownloadable("svhn") && !isDownloadable("mnist") && !isDownloadable("toString"));
});

Deno.test("CSI's LSUN-FIX and ImageNet-FIX are installed by hand: no file, the Google Drive link and the target folder", () => {
  for (const n of ["lsun_fix", "imagenet_fix"] as const) {
    const e: ManifestEntry = MANIFEST[n];
    assert.equal(e.files.length, 0, n);
    assert.match(e.manual!, /https:\/\/drive\.google\.com\/file\/d\/[\w-]+\/view/);
    assert.match(e.manual!, new RegExp(`data/${n}/`));
  }
});
