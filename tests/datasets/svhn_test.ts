import assert from "node:assert/strict";
import { DatasetFormatError, DatasetMissingError } from "@lib/datasets/errors.ts";
import { loadSvhn, svhnFromMat } from "@lib/datasets/svhn.ts";
import { fixture } from "./_fixtures.ts";
import { FIXTURE_FACTS, pattern, SVHN_PATTERN_SEED } from "./testdata/make_fixtures.ts";

Deno.test("loadSvhn('test') converts column-major X to NHWC and maps label 10 to 0", () => {
  const ds = loadSvhn("test", fixture("root/svhn"));
  assert.deepEqual(ds.shape, [FIXTURE_FACTS.svhn.n, 32, 32, 3]);
  assert.deepEqual([...ds.labels], [...FIXTURE_FACTS.svhn.labels]);
  for (let i = 0; i < ds.shape[0]; i++) {
    assert.deepEqual(ds.images.subarray(i * 3072, (i + 1) * 3072), pattern(32, 32, 3, SVHN_PATTERN_SEED + i));
  }
});

Deno.test("svhnFromMat() rejects wrong X dimensions and labels outside 1..10", () => {
  const dims = fixture("mat/bad/x-dims.mat");
  assert.throws(
    () => svhnFromMat(Deno.readFileSync(dims), dims),
    (e: unknown) =>
      e instanceof DatasetFormatError && /x-dims\.mat: variable X has dims 32×32×6×1, expected H×W×3×N/.test(e.message),
  );
  const lab = fixture("mat/bad/label-11.mat");
  assert.throws(
    () => svhnFromMat(Deno.readFileSync(lab), lab),
    /label-11\.mat: label 11 at index 1 is outside 1\.\.10/,
  );
});

Deno.test("loadSvhn() without the .mat file raises DatasetMissingError naming `deno task data svhn`", () => {
  assert.throws(
    () => loadSvhn("test", fixture("root/empty_set")),
    (e: unknown) => e instanceof DatasetMissingError && /deno task data svhn/.test(e.message),
  );
  assert.throws(() => loadSvhn("train", fixture("root/svhn")), /train_32x32\.mat does not exist/);
});
