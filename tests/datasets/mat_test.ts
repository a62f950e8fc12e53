import assert from "node:assert/strict";
import { DatasetFormatError } from "@lib/datasets/errors.ts";
import { readMat } from "@lib/datasets/mat.ts";
import { fixture } from "./_fixtures.ts";

const read = (rel: string, variables?: string[]) =>
  readMat(Deno.readFileSync(fixture(rel)), fixture(rel), { variables });

Deno.test("readMat() reads compressed, uncompressed and big-endian files to the same arrays", () => {
  const a = read("mat/svhn-compressed-le.mat"), b = read("mat/svhn-plain-le.mat"), c = read("mat/svhn-plain-be.mat");
  for (const m of [a, b, c]) {
    const X = m.get("X")!, y = m.get("y")!;
    assert.equal(X.className, "uint8");
    assert.deepEqual(X.dims, [32, 32, 3, 5]);
    assert.equal(y.className, "double");
    assert.ok(y.data instanceof Float64Array, "uint8 storage of a double array is widened to Float64Array");
    assert.deepEqual([...y.data], [1, 9, 10, 3, 10]);
    assert.deepEqual(X.data, a.get("X")!.data);
  }
  assert.ok(!a.has("note"), "cell arrays are skipped");
});

const BAD: [string, RegExp][] = [
  ["mat/bad/v73-hdf5.mat", /MATLAB v7\.3 \(HDF5\) MAT-file, which is not supported/],
  ["mat/bad/level4.mat", /not a MATLAB Level 5 MAT-file/],
  ["mat/bad/version.mat", /unsupported MAT-file version 0x0200/],
  ["mat/bad/truncated.mat", /truncated: element declares \d+ bytes but only \d+ remain/],
  ["mat/bad/corrupt-zlib.mat", /corrupt miCOMPRESSED element/],
  ["mat/bad/no-y.mat", /has no numeric variable "y" \(found: X\)/],
  ["mat/bad/endian.mat", /bad endian indicator "XY"/],
];
for (const [rel, why] of BAD) {
  Deno.test(`readMat() rejects ${rel.split("/").pop()} with an error naming the file`, () => {
    assert.throws(() => read(rel, ["X", "y"]), (e: unknown) => {
      assert.ok(e instanceof DatasetFormatError);
      assert.ok(e.message.startsWith(fixture(rel)), e.message);
      assert.match(e.message, why);
      return true;
    });
  });
}

Deno.test("readMat() rejects a buffer shorter than the header", () => {
  assert.throws(() => readMat(new Uint8Array(10), "short.mat"), /short\.mat: too short for a MAT-file header/);
});
