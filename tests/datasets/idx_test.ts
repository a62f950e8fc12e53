import assert from "node:assert/strict";
import { DatasetFormatError } from "@lib/datasets/errors.ts";
import { parseIdx, readIdxFile } from "@lib/datasets/idx.ts";
import { fixture } from "./_fixtures.ts";

Deno.test("readIdxFile() parses dims and data, gzipped or not", () => {
  const a = readIdxFile(fixture("idx/t10k-images-idx3-ubyte"), [-1, 28, 28]);
  const b = readIdxFile(fixture("idx/gz/t10k-images-idx3-ubyte.gz"));
  assert.deepEqual(a.dims, [3, 28, 28]);
  assert.equal(a.data.length, 3 * 784);
  assert.deepEqual(b.dims, a.dims);
  assert.deepEqual(b.data, a.data);
});

/** Every bad IDX fixture, the check it must fail, and the words the error must contain. */
const BAD: [string, readonly number[] | undefined, RegExp][] = [
  ["idx/bad/wrong-magic-idx3-ubyte", undefined, /bad IDX magic number 50 4b 03 04/],
  [
    "idx/bad/truncated-images-idx3-ubyte",
    undefined,
    /truncated: header declares 3×28×28 = 2352 bytes of data, only 2252 present/,
  ],
  ["idx/bad/truncated-header-idx3-ubyte", undefined, /truncated IDX header/],
  ["idx/bad/trailing-images-idx3-ubyte", undefined, /7 unexpected trailing bytes/],
  ["idx/bad/float-images-idx3-ubyte", undefined, /float32 is not supported/],
  ["idx/bad/rank2-images-idx2-ubyte", [-1, -1, -1], /expected 3 IDX dimensions, found 2/],
  ["idx/bad/corrupt-images-idx3-ubyte.gz", undefined, /gzip data is corrupt or truncated/],
];

for (const [file, dims, why] of BAD) {
  Deno.test(`readIdxFile() rejects ${file.split("/").pop()} with an error naming the file`, () => {
    assert.throws(() => readIdxFile(fixture(file), dims), (e: unknown) => {
      assert.ok(e instanceof DatasetFormatError);
      assert.ok(e.message.startsWith(fixture(file)), e.message);
      assert.match(e.message, why);
      return true;
    });
  });
}

Deno.test("parseIdx() checks expected dimension sizes and reports a missing file by name", () => {
  const bytes = Deno.readFileSync(fixture("idx/t10k-images-idx3-ubyte"));
  assert.throws(() => parseIdx(bytes, "x.idx", [-1, 32, 32]), /x\.idx: IDX dimension 1 is 28, expected 32/);
  assert.throws(() => parseIdx(new Uint8Array(2), "tiny.idx"), /tiny\.idx: too short/);
  assert.throws(() => readIdxFile(fixture("idx/nope")), /idx\/nope: cannot read IDX file/);
});
