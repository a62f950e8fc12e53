/**
 * Every released-weights entry is complete and consistent: unique ids, an https URL, a file name, a source, the
 * archive members of an archive, and a way to verify it or an honest "none published".
 */
import assert from "node:assert/strict";
import { isReleasedPaper, RELEASED, releasedFile } from "@lib/checkpoints/released/mod.ts";

for (const [paper, files] of Object.entries(RELEASED)) {
  Deno.test(`every released file of ${paper} has an id, an https URL, a file name, a source and its archive members`, () => {
    assert.ok(files.length > 0, `${paper} lists no file`);
    for (const f of files) {
      assert.equal(f.paper, paper, `${f.id}: paper`);
      assert.match(f.id, /^[a-z0-9_]+$/, `${f.id}: id is a plain name`);
      assert.match(f.url, /^https:\/\//, `${f.id}: url`);
      assert.ok(f.filename.length > 0 && !f.filename.includes("/"), `${f.id}: filename is one path segment`);
      assert.ok(f.source.length > 0 && f.description.length > 0, `${f.id}: source and description`);
      assert.equal(f.format === "tar.gz", (f.members?.length ?? 0) > 0, `${f.id}: an archive lists its members`);
      for (const m of f.members ?? []) assert.ok(!m.startsWith("/") && !m.split("/").includes(".."), `${f.id}: ${m}`);
      if (f.checksum) {
        const c = f.checksum;
        assert.ok(c.sha256 || c.gitBlobSha1 || c.size, `${f.id}: a checksum entry holds a value`);
        if (c.sha256) assert.match(c.sha256, /^[0-9a-f]{64}$/);
        if (c.gitBlobSha1) assert.match(c.gitBlobSha1, /^[0-9a-f]{40}$/);
        assert.ok(c.source.length > 0, `${f.id}: checksum source`);
      }
      if (f.download === "manual") assert.ok(!f.url.includes("dl=1"), `${f.id}: a manual file has a page URL`);
      assert.equal(releasedFile(paper as never, f.id), f);
    }
    assert.equal(new Set(files.map((f) => f.id)).size, files.length, "ids are unique");
  });
}

Deno.test("released-file lookups refuse unknown papers and ids, naming the valid ids", () => {
  assert.equal(isReleasedPaper("cider"), true);
  assert.equal(isReleasedPaper("cmg"), false);
  assert.throws(() => releasedFile("cider", "nope"), /cider has no released file "nope"\. Its files: /);
});
