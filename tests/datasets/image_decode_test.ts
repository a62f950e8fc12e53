import assert from "node:assert/strict";
import { DatasetFormatError } from "@lib/datasets/errors.ts";
import { decodeImage, detectImageFormat } from "@lib/datasets/image_decode.ts";
import { fixture } from "./_fixtures.ts";
import { pattern } from "./testdata/make_fixtures.ts";

const dec = (rel: string, c: 1 | 3) => decodeImage(Deno.readFileSync(fixture(rel)), fixture(rel), c);

Deno.test("decodeImage() decodes 8-bit RGB and gray PNGs losslessly", () => {
  const rgb = dec("images/rgb-20x30.png", 3);
  assert.deepEqual([rgb.height, rgb.width, rgb.channels], [20, 30, 3]);
  assert.deepEqual(rgb.data, pattern(20, 30, 3, 1));
  assert.deepEqual(dec("images/gray-12x12.png", 1).data, pattern(12, 12, 1, 2));
});

Deno.test("decodeImage() handles 1-bit, palette, 16-bit and RGBA PNGs", () => {
  const one = dec("images/onebit-105.png", 1);
  assert.deepEqual([one.height, one.width], [105, 105]);
  assert.ok(one.data.every((v) => v === 0 || v === 255));
  assert.ok(one.data.some((v) => v === 0) && one.data.some((v) => v === 255));
  assert.deepEqual([...dec("images/palette-2x3.png", 3).data.subarray(0, 9)], [255, 0, 0, 0, 255, 0, 0, 0, 255]);
  assert.deepEqual([...dec("images/gray16-4x4.png", 1).data.subarray(0, 3)], [1, 17, 33]);
  const rgba = dec("images/rgba-8x8.png", 3);
  const src = pattern(8, 8, 4, 3);
  assert.deepEqual([...rgba.data.subarray(0, 3)], [...src.subarray(0, 3)]);
});

Deno.test("decodeImage() decodes JPEG to RGB close to the source", () => {
  const j = dec("images/photo-48x64.jpg", 3);
  assert.deepEqual([j.height, j.width, j.channels], [48, 64, 3]);
  const src = pattern(48, 64, 3, 5);
  let err = 0;
  for (let i = 0; i < src.length; i++) err += Math.abs(src[i]! - j.data[i]!);
  assert.ok(err / src.length < 6, `mean abs error ${err / src.length}`);
  assert.equal(dec("images/photo-48x64.jpg", 1).channels, 1);
});

const BAD: [string, RegExp][] = [
  ["images/bad/truncated.png", /undecodable PNG/],
  ["images/bad/not-an-image.jpg", /not a PNG or JPEG image \(first bytes: 74 68 69 73/],
  ["images/bad/corrupt.jpg", /undecodable JPEG/],
  ["images/bad/empty.png", /not a PNG or JPEG image \(first bytes: none, empty file\)/],
];
for (const [rel, why] of BAD) {
  Deno.test(`decodeImage() rejects ${rel.split("/").pop()} with an error naming the file`, () => {
    assert.throws(
      () => dec(rel, 3),
      (e: unknown) => e instanceof DatasetFormatError && e.message.startsWith(fixture(rel)) && why.test(e.message),
    );
  });
}

Deno.test("detectImageFormat() looks at the signature, not the extension", () => {
  assert.equal(detectImageFormat(Deno.readFileSync(fixture("images/rgb-20x30.png"))), "png");
  assert.equal(detectImageFormat(Deno.readFileSync(fixture("images/photo-48x64.jpg"))), "jpeg");
  assert.equal(detectImageFormat(new Uint8Array([1, 2, 3])), null);
});
