import assert from "node:assert/strict";
import { join } from "node:path";
import { type ArchiveFormat, crc32, extractArchive, listArchive, safeEntryPath } from "@lib/datasets/archive.ts";
import { DownloadError } from "@lib/datasets/errors.ts";
import { fixture, listFiles } from "./_fixtures.ts";

/** Extracts into a fresh folder inside a fresh parent, so anything escaping would land in the parent. */
async function extractFresh(rel: string, format: ArchiveFormat) {
  const parent = Deno.makeTempDirSync({ prefix: "ood-x-" });
  const dest = join(parent, "dest");
  Deno.mkdirSync(dest);
  try {
    const report = await extractArchive(fixture(rel), format, dest);
    return {
      report,
      files: listFiles(dest),
      parentFiles: listFiles(parent).filter((f) => !f.startsWith("dest/")),
      dest,
      parent,
    };
  } catch (e) {
    const parentFiles = listFiles(parent).filter((f) => !f.startsWith("dest/"));
    Deno.removeSync(parent, { recursive: true });
    assert.deepEqual(parentFiles, [], "nothing may be written outside the destination");
    throw e;
  }
}

Deno.test("extractArchive() unpacks a tar.gz with directories", async () => {
  const r = await extractFresh("archives/cifar-10-binary.tar.gz", "tar.gz");
  try {
    assert.equal(r.report.files, 7);
    assert.deepEqual(r.files.slice(0, 2), [
      "cifar-10-batches-bin/batches.meta.txt",
      "cifar-10-batches-bin/data_batch_1.bin",
    ]);
    assert.deepEqual(
      Deno.readFileSync(join(r.dest, "cifar-10-batches-bin/test_batch.bin")),
      Deno.readFileSync(fixture("root/cifar10/cifar-10-batches-bin/test_batch.bin")),
    );
  } finally {
    Deno.removeSync(r.parent, { recursive: true });
  }
});

Deno.test("extractArchive() resolves pax long names and keeps hidden files as data", async () => {
  const r = await extractFresh("archives/LSUN.tar.gz", "tar.gz");
  try {
    assert.ok(r.files.includes(`LSUN/test/${"long-name-".repeat(12)}.jpg`));
    assert.ok(r.files.includes("LSUN/test/._0000.jpg"));
    assert.ok(!r.files.some((f) => f.includes("PaxHeader") || f.includes("placeholder")));
  } finally {
    Deno.removeSync(r.parent, { recursive: true });
  }
});

Deno.test("extractArchive() unpacks stored and deflated zip entries with CRC checks", async () => {
  const r = await extractFresh("archives/images_evaluation.zip", "zip");
  try {
    assert.equal(r.report.files, 4);
    assert.deepEqual(
      Deno.readFileSync(join(r.dest, "images_evaluation/Angelic/character01/0965_01.png")),
      Deno.readFileSync(fixture("root/omniglot/images_evaluation/Angelic/character01/0965_01.png")),
    );
  } finally {
    Deno.removeSync(r.parent, { recursive: true });
  }
});

Deno.test("extractArchive() with a filter writes only the selected files", async () => {
  const parent = Deno.makeTempDirSync();
  try {
    const rep = await extractArchive(fixture("archives/test_256.tar"), "tar", parent, {
      filter: (p) => p.endsWith("01.jpg") || p.endsWith("02.jpg"),
    });
    assert.equal(rep.files, 2);
    assert.deepEqual(listFiles(parent), [
      "test_256/Places365_test_00000001.jpg",
      "test_256/Places365_test_00000002.jpg",
    ]);
  } finally {
    Deno.removeSync(parent, { recursive: true });
  }
});

/** Hostile or broken archives, and the words of the refusal. */
const REFUSED: [string, ArchiveFormat, RegExp][] = [
  ["archives/bad/traversal.tar.gz", "tar.gz", /refusing entry "\.\.\/\.\.\/evil\.txt": path contains '\.\.'/],
  ["archives/bad/absolute.tar", "tar", /refusing entry "\/tmp\/ood-evil\.txt": absolute path/],
  ["archives/bad/symlink-out.tar", "tar", /symlink target "\.\.\/\.\.\/\.\.\/etc" points outside the destination/],
  ["archives/bad/symlink-then-write.tar", "tar", /would be written through the symlink "ok\/alias"/],
  ["archives/bad/hardlink-out.tar", "tar", /hard link target "\/etc\/passwd" points outside the destination/],
  ["archives/bad/device.tar", "tar", /device files are not allowed/],
  ["archives/bad/fifo.tar", "tar", /FIFOs are not allowed/],
  ["archives/bad/header-checksum.tar", "tar", /corrupt tar header 0 \(checksum/],
  ["archives/bad/no-end-marker.tar", "tar", /ends without its end-of-archive marker/],
  ["archives/bad/truncated.tar.gz", "tar.gz", /corrupt or truncated gzip data/],
  ["archives/bad/corrupt.tar.gz", "tar.gz", /corrupt or truncated gzip data/],
  ["archives/bad/traversal.zip", "zip", /refusing entry "\.\.\/evil\.txt": path contains '\.\.'/],
  ["archives/bad/symlink-out.zip", "zip", /symlink target "\/etc\/passwd" points outside/],
  ["archives/bad/crc.zip", "zip", /corrupt entry "a\.txt" \(size or CRC-32 mismatch\)/],
  ["archives/bad/truncated.zip", "zip", /not a zip file, or truncated/],
];
for (const [rel, format, why] of REFUSED) {
  Deno.test(`extractArchive() refuses ${rel.split("/").pop()} and writes nothing outside the destination`, async () => {
    await assert.rejects(extractFresh(rel, format), (e: unknown) => {
      assert.ok(e instanceof DownloadError, String(e));
      assert.ok(e.message.startsWith(fixture(rel)), e.message);
      assert.match(e.message, why);
      return true;
    });
  });
}

Deno.test("safeEntryPath() normalizes harmless paths and rejects escaping ones", () => {
  assert.equal(safeEntryPath("./a//b/./c.jpg", "x"), "a/b/c.jpg");
  assert.equal(safeEntryPath("./", "x"), "");
  for (const bad of ["../a", "a/../../b", "/etc/passwd", "C:\\Windows\\x", "a\\..\\..\\b", "a\0b"]) {
    assert.throws(() => safeEntryPath(bad, "x"), DownloadError, bad);
  }
});

Deno.test("listArchive() lists entries without extracting; crc32() matches the standard check value", async () => {
  const entries = await listArchive(fixture("archives/test_256.tar"), "tar");
  assert.equal(entries.length, 12);
  assert.ok(entries.every((e) => e.type === "file"));
  await assert.rejects(
    listArchive(fixture("archives/bad/device.tar"), "tar"),
    /unsupported or unsafe tar entry type '3'/,
  );
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
});
