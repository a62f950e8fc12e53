import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { Rng } from "@lib/data/rng.ts";
import { checkDigests, downloadDataset, fetchToFile, hashFile } from "@lib/datasets/download.ts";
import { DownloadError } from "@lib/datasets/errors.ts";
import type { ManifestEntry, RemoteFile } from "@lib/datasets/manifest.ts";
import { loadDataset } from "@lib/datasets/registry.ts";
import { fixture, listFiles } from "./_fixtures.ts";
import { FIXTURE_FACTS } from "./testdata/make_fixtures.ts";

// ------------------------------------------------------------------------------------ loopback test server

type Mode = "range" | "norange" | "drop-once" | "500-once";
interface Served {
  body: Uint8Array;
  mode?: Mode;
}

/** A server on 127.0.0.1 (port 0) serving fixture bytes, recording each request's path and Range header. */
function startServer(files: Record<string, Served>) {
  const requests: { path: string; range: string | null }[] = [];
  const counts = new Map<string, number>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
    onError: () => new Response("error", { status: 500 }),
  }, (req) => {
    const path = new URL(req.url).pathname;
    const range = req.headers.get("range");
    requests.push({ path, range });
    const f = files[path];
    if (!f) return new Response("not found", { status: 404 });
    const count = (counts.get(path) ?? 0) + 1;
    counts.set(path, count);
    const mode = f.mode ?? "range";
    if (mode === "500-once" && count === 1) return new Response("try later", { status: 503 });
    const len = f.body.length;
    let start = 0;
    let status = 200;
    const headers = new Headers({ "content-type": "application/octet-stream", "accept-ranges": "bytes" });
    const m = range && mode !== "norange" ? /^bytes=(\d+)-$/.exec(range) : null;
    if (m) {
      start = Number(m[1]);
      if (start >= len) return new Response(null, { status: 416, headers: { "content-range": `bytes */${len}` } });
      status = 206;
      headers.set("content-range", `bytes ${start}-${len - 1}/${len}`);
    }
    const body = f.body.subarray(start);
    headers.set("content-length", String(body.length));
    if (mode === "drop-once" && count === 1) {
      const half = Math.floor(body.length / 2);
      let step = 0;
      const stream = new ReadableStream<Uint8Array>({
        async pull(c) {
          if (step++ === 0) c.enqueue(body.slice(0, half));
          else {
            await new Promise((r) => setTimeout(r, 20));
            c.error(new Error("connection dropped on purpose"));
          }
        },
      });
      return new Response(stream, { status, headers });
    }
    return new Response(body.slice(), { status, headers });
  });
  const base = `http://127.0.0.1:${server.addr.port}`;
  return { base, requests, close: () => server.shutdown() };
}

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const md5 = (b: Uint8Array) => createHash("md5").update(b).digest("hex");
const read = (rel: string) => Deno.readFileSync(fixture(rel));

function entry(
  file: Partial<RemoteFile> & Pick<RemoteFile, "url" | "filename" | "format">,
  extra: Partial<ManifestEntry> = {},
): ManifestEntry {
  return {
    files: [{ size: null, sha256: null, checksumSource: "test", ...file }],
    homepage: "http://127.0.0.1/",
    license: "test fixture",
    layout: "test",
    ...extra,
  };
}

/** Runs `fn` with a fresh data root and a server; cleans both up. */
async function withRoot(
  files: Record<string, Served>,
  fn: (root: string, srv: ReturnType<typeof startServer>) => Promise<void>,
) {
  const root = Deno.makeTempDirSync({ prefix: "ood-dl-" });
  const srv = startServer(files);
  try {
    await fn(root, srv);
  } finally {
    await srv.close();
    Deno.removeSync(root, { recursive: true });
  }
}

const quiet = { log: null, retryDelayMs: 0 } as const;
const cifarBytes = read("archives/cifar-10-binary.tar.gz");

// ------------------------------------------------------------------------------------------------- tests

Deno.test("downloadDataset() fetches, verifies (SHA-256) and installs a tar.gz; loadDataset() then reads it", async () => {
  await withRoot({ "/cifar.tgz": { body: cifarBytes } }, async (root, srv) => {
    const m = entry({
      url: `${srv.base}/cifar.tgz`,
      filename: "cifar-10-binary.tar.gz",
      format: "tar.gz",
      size: cifarBytes.length,
      sha256: sha256(cifarBytes),
    });
    const rep = await downloadDataset("cifar10", { root, manifest: m, ...quiet });
    assert.equal(rep.installed, true);
    assert.equal(rep.files[0]!.verified, "sha256");
    const ds = await loadDataset("cifar10", { split: "test", root });
    assert.deepEqual([...ds.labels], [3, 8, 8]);
    const top = [...Deno.readDirSync(root)].map((e) => e.name).sort();
    assert.deepEqual(top, [".downloads", "cifar10"], "no staging folder left behind");
    assert.deepEqual([...Deno.readDirSync(join(root, ".downloads"))], [], "the archive is deleted after installing");
    const info = JSON.parse(Deno.readTextFileSync(join(root, "cifar10/.install.json")));
    assert.equal(info.files[0].sha256, sha256(cifarBytes));
    // a second run leaves the installation alone
    const again = await downloadDataset("cifar10", { root, manifest: m, ...quiet });
    assert.equal(again.installed, false);
    assert.equal(srv.requests.length, 1);
  });
});

Deno.test("downloadDataset() resumes with a Range request after the server drops the connection mid-way", async () => {
  await withRoot({ "/c.tgz": { body: cifarBytes, mode: "drop-once" } }, async (root, srv) => {
    const m = entry({
      url: `${srv.base}/c.tgz`,
      filename: "c.tar.gz",
      format: "tar.gz",
      size: cifarBytes.length,
      sha256: sha256(cifarBytes),
    });
    const rep = await downloadDataset("cifar10", { root, manifest: m, ...quiet });
    assert.equal(rep.installed, true);
    assert.equal(srv.requests.length, 2);
    assert.equal(srv.requests[0]!.range, null);
    const half = Math.floor(cifarBytes.length / 2);
    assert.equal(srv.requests[1]!.range, `bytes=${half}-`);
  });
});

Deno.test("downloadDataset() continues a partial file left by an earlier run instead of starting over", async () => {
  await withRoot({ "/c.tgz": { body: cifarBytes } }, async (root, srv) => {
    Deno.mkdirSync(join(root, ".downloads"));
    Deno.writeFileSync(join(root, ".downloads/c.tar.gz.part"), cifarBytes.subarray(0, 1000));
    const m = entry({
      url: `${srv.base}/c.tgz`,
      filename: "c.tar.gz",
      format: "tar.gz",
      size: cifarBytes.length,
      sha256: sha256(cifarBytes),
    });
    await downloadDataset("cifar10", { root, manifest: m, ...quiet });
    assert.deepEqual(srv.requests.map((r) => r.range), ["bytes=1000-"]);
  });
});

Deno.test("downloadDataset() restarts from zero when the server ignores Range, and retries a 503", async () => {
  await withRoot({
    "/c.tgz": { body: cifarBytes, mode: "norange" },
    "/flaky.tgz": { body: cifarBytes, mode: "500-once" },
  }, async (root, srv) => {
    Deno.mkdirSync(join(root, ".downloads"));
    Deno.writeFileSync(join(root, ".downloads/c.tar.gz.part"), cifarBytes.subarray(0, 1000));
    const m = entry({
      url: `${srv.base}/c.tgz`,
      filename: "c.tar.gz",
      format: "tar.gz",
      size: cifarBytes.length,
      sha256: sha256(cifarBytes),
    });
    assert.equal((await downloadDataset("cifar10", { root, manifest: m, ...quiet })).installed, true);
    const f = entry({
      url: `${srv.base}/flaky.tgz`,
      filename: "f.tar.gz",
      format: "tar.gz",
      size: cifarBytes.length,
      sha256: sha256(cifarBytes),
    });
    assert.equal((await downloadDataset("cifar10_copy", { root, manifest: f, ...quiet })).installed, true);
  });
});

Deno.test("downloadDataset() rejects a wrong SHA-256, deletes the file, and installs nothing", async () => {
  await withRoot({ "/c.tgz": { body: cifarBytes } }, async (root, srv) => {
    const m = entry({ url: `${srv.base}/c.tgz`, filename: "c.tar.gz", format: "tar.gz", sha256: "0".repeat(64) });
    await assert.rejects(
      downloadDataset("cifar10", { root, manifest: m, ...quiet }),
      (e: unknown) =>
        e instanceof DownloadError && /c\.tar\.gz .*SHA-256 mismatch: got [0-9a-f]{64}, expected 0{64}/.test(e.message),
    );
    assert.deepEqual(listFiles(root), []);
  });
});

Deno.test("downloadDataset() rejects a truncated copy on the server by its size", async () => {
  const truncated = cifarBytes.subarray(0, 5000);
  await withRoot({ "/c.tgz": { body: truncated } }, async (root, srv) => {
    const m = entry({
      url: `${srv.base}/c.tgz`,
      filename: "c.tar.gz",
      format: "tar.gz",
      size: cifarBytes.length,
      sha256: sha256(cifarBytes),
    });
    await assert.rejects(
      downloadDataset("cifar10", { root, manifest: m, ...quiet, attempts: 2 }),
      /size is 5000 bytes, expected \d+/,
    );
    assert.equal(listFiles(root).length, 0);
  });
});

Deno.test("downloadDataset() refuses an unverified file unless trustUnverified, printing its SHA-256", async () => {
  await withRoot({ "/c.tgz": { body: cifarBytes } }, async (root, srv) => {
    const m = entry({ url: `${srv.base}/c.tgz`, filename: "c.tar.gz", format: "tar.gz" });
    await assert.rejects(
      downloadDataset("cifar10", { root, manifest: m, ...quiet }),
      (e: unknown) =>
        e instanceof DownloadError && e.message.includes(sha256(cifarBytes)) && /--trust-unverified/.test(e.message),
    );
    assert.equal(listFiles(root).length, 1, "the complete file is kept for the next run");
    const lines: string[] = [];
    const rep = await downloadDataset("cifar10", {
      root,
      manifest: m,
      trustUnverified: true,
      retryDelayMs: 0,
      log: (l) => lines.push(l),
    });
    assert.equal(rep.files[0]!.verified, "trusted");
    assert.ok(lines.some((l) => l.includes("WARNING") && l.includes(sha256(cifarBytes))));
    assert.equal(srv.requests.length, 1, "not downloaded twice");
  });
});

Deno.test("downloadDataset() accepts an MD5-only manifest entry when the MD5 matches, and rejects a wrong one", async () => {
  const lsun = read("archives/LSUN.tar.gz");
  await withRoot({ "/LSUN.tar.gz": { body: lsun } }, async (root, srv) => {
    const bad = entry({
      url: `${srv.base}/LSUN.tar.gz`,
      filename: "LSUN.tar.gz",
      format: "tar.gz",
      md5: "f".repeat(32),
    });
    await assert.rejects(downloadDataset("lsun_crop", { root, manifest: bad, ...quiet }), /MD5 mismatch/);
    const good = entry({ url: `${srv.base}/LSUN.tar.gz`, filename: "LSUN.tar.gz", format: "tar.gz", md5: md5(lsun) }, {
      expectedImages: 7,
    });
    const rep = await downloadDataset("lsun_crop", { root, manifest: good, ...quiet });
    assert.equal(rep.files[0]!.verified, "md5");
    assert.equal(rep.images, 5, "hidden AppleDouble files are not images");
    assert.deepEqual(rep.warnings, ["lsun_crop: found 5 images, the manifest expects 7"]);
    const ds = await loadDataset("lsun_crop", { split: "test", root });
    assert.equal(ds.shape[0], 5);
  });
});

/** Archives whose checksum is right but whose content must be refused; the dataset must not appear. */
const HOSTILE: [string, RemoteFile["format"], RegExp][] = [
  ["archives/bad/corrupt.tar.gz", "tar.gz", /corrupt or truncated gzip data/],
  ["archives/bad/truncated.tar.gz", "tar.gz", /corrupt or truncated gzip data/],
  ["archives/bad/traversal.tar.gz", "tar.gz", /path contains '\.\.'/],
  ["archives/bad/symlink-out.tar", "tar", /points outside the destination/],
  ["archives/bad/empty.tar", "tar", /contains no files/],
];
for (const [rel, format, why] of HOSTILE) {
  Deno.test(`downloadDataset() refuses ${rel.split("/").pop()} and leaves no half-written dataset`, async () => {
    const body = read(rel);
    await withRoot({ "/a": { body } }, async (root, srv) => {
      const m = entry({ url: `${srv.base}/a`, filename: "a.bin", format, sha256: sha256(body), size: body.length });
      await assert.rejects(
        downloadDataset("isun", { root, manifest: m, ...quiet }),
        (e: unknown) => e instanceof DownloadError && why.test(e.message),
      );
      const left = [...Deno.readDirSync(root)].map((e) => e.name);
      assert.ok(!left.includes("isun"), "no dataset folder");
      assert.ok(!left.some((n) => n.startsWith(".staging")), "no staging folder");
      assert.throws(() => Deno.statSync(join(root, "..", "evil.txt")), "nothing escaped the data root");
    });
  });
}

Deno.test("downloadDataset() reports HTTP errors with the URL and status", async () => {
  await withRoot({}, async (root, srv) => {
    const m = entry({ url: `${srv.base}/missing.tgz`, filename: "m.tar.gz", format: "tar.gz", sha256: "0".repeat(64) });
    await assert.rejects(
      downloadDataset("cifar10", { root, manifest: m, ...quiet }),
      (e: unknown) =>
        e instanceof DownloadError && e.message.startsWith(`${srv.base}/missing.tgz`) && /HTTP 404/.test(e.message),
    );
  });
});

Deno.test("downloadDataset() with force replaces an installation in one rename", async () => {
  await withRoot({ "/c.tgz": { body: cifarBytes } }, async (root, srv) => {
    Deno.mkdirSync(join(root, "cifar10"));
    Deno.writeTextFileSync(join(root, "cifar10/stale.txt"), "old");
    const m = entry({ url: `${srv.base}/c.tgz`, filename: "c.tar.gz", format: "tar.gz", sha256: sha256(cifarBytes) });
    await downloadDataset("cifar10", { root, manifest: m, force: true, keepArchive: true, ...quiet });
    const files = listFiles(join(root, "cifar10"));
    assert.ok(!files.includes("stale.txt"));
    assert.ok(files.includes("cifar-10-batches-bin/test_batch.bin"));
    assert.deepEqual(
      [...Deno.readDirSync(join(root, ".downloads"))].map((e) => e.name),
      ["c.tar.gz"],
      "kept with keepArchive",
    );
    assert.ok(![...Deno.readDirSync(root)].some((e) => e.name.startsWith(".old-")));
  });
});

Deno.test("downloadDataset() installs a raw file (SVHN .mat), a zip (Omniglot) and a seeded subset of a tar (Places365)", async () => {
  const mat = read("root/svhn/test_32x32.mat");
  const zipB = read("archives/images_evaluation.zip");
  const places = read("archives/test_256.tar");
  await withRoot(
    { "/test_32x32.mat": { body: mat }, "/e.zip": { body: zipB }, "/p.tar": { body: places } },
    async (root, srv) => {
      await downloadDataset("svhn", {
        root,
        manifest: entry({
          url: `${srv.base}/test_32x32.mat`,
          filename: "test_32x32.mat",
          format: "file",
          sha256: sha256(mat),
        }),
        ...quiet,
      });
      assert.deepEqual([...(await loadDataset("svhn", { split: "test", root })).labels], [
        ...FIXTURE_FACTS.svhn.labels,
      ]);
      await downloadDataset("omniglot", {
        root,
        manifest: entry({ url: `${srv.base}/e.zip`, filename: "e.zip", format: "zip", sha256: sha256(zipB) }),
        ...quiet,
      });
      const om = await loadDataset("omniglot", { split: "test", root });
      assert.deepEqual(om.shape, [FIXTURE_FACTS.omniglot, 28, 28, 1]);
      const subset = { count: FIXTURE_FACTS.places.kept, seed: 0 };
      await downloadDataset("places365", {
        root,
        manifest: entry({ url: `${srv.base}/p.tar`, filename: "p.tar", format: "tar", sha256: sha256(places) }, {
          subset,
        }),
        ...quiet,
      });
      const kept = listFiles(join(root, "places365")).filter((f) => f.endsWith(".jpg"));
      const all = Array.from(
        { length: FIXTURE_FACTS.places.inArchive },
        (_, i) => `test_256/Places365_test_${String(i + 1).padStart(8, "0")}.jpg`,
      );
      const expected = [...new Rng(0).permutation(all.length).subarray(0, subset.count)].map((i) => all[i]!).sort();
      assert.deepEqual(kept, expected);
      assert.equal((await loadDataset("places365", { split: "test", root })).shape[0], subset.count);
    },
  );
});

Deno.test("fetchToFile() gives up after the allowed attempts with the last error", async () => {
  const srv = startServer({ "/always": { body: new Uint8Array(10), mode: "500-once" } });
  const dir = Deno.makeTempDirSync();
  try {
    // 500-once only fails the first time; with a single attempt that failure is final
    await assert.rejects(
      fetchToFile(`${srv.base}/always`, join(dir, "x.part"), { attempts: 1, retryDelayMs: 0 }),
      /failed after 1 attempts: HTTP 503/,
    );
  } finally {
    await srv.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("checkDigests() and hashFile() agree with node:crypto and name the file on mismatch", async () => {
  const p = fixture("archives/dtd.tar.gz");
  const bytes = Deno.readFileSync(p);
  const got = await hashFile(p);
  assert.deepEqual(got, { size: bytes.length, sha256: sha256(bytes), md5: md5(bytes) });
  const file: RemoteFile = {
    url: "u",
    filename: "f",
    format: "tar.gz",
    size: bytes.length,
    sha256: got.sha256,
    checksumSource: "t",
  };
  assert.equal(checkDigests(file, got, "f"), "sha256");
  assert.equal(checkDigests({ ...file, sha256: null }, got, "f"), null);
  assert.throws(
    () => checkDigests({ ...file, size: 1 }, got, "dtd.tar.gz"),
    /dtd\.tar\.gz: size is \d+ bytes, expected 1/,
  );
});
