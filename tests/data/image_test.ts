import assert from "node:assert/strict";
import { crop, flipHorizontal, invert, luma, pad, rawImage, rotate, toChannels } from "@lib/data/image.ts";

const img3x4 = () => rawImage(new Uint8Array(Array.from({ length: 12 }, (_, i) => i * 10)), 3, 4, 1);

Deno.test("crop() takes the rectangle and rejects one outside the image", () => {
  assert.deepEqual([...crop(img3x4(), 1, 1, 2, 2).data], [50, 60, 90, 100]);
  assert.throws(() => crop(img3x4(), 2, 0, 2, 2), /outside/);
  assert.throws(() => rawImage(new Uint8Array(5), 2, 2, 1), /expected 2×2×1/);
});

Deno.test("pad() surrounds the image with the fill value", () => {
  const p = pad(rawImage(new Uint8Array([1, 2, 3, 4]), 2, 2, 1), 1, 9);
  assert.deepEqual([p.height, p.width], [4, 4]);
  assert.deepEqual([...p.data], [9, 9, 9, 9, 9, 1, 2, 9, 9, 3, 4, 9, 9, 9, 9, 9]);
});

Deno.test("flipHorizontal() mirrors each row and keeps channels together", () => {
  const im = rawImage(new Uint8Array([1, 2, 3, 4, 5, 6]), 1, 2, 3);
  assert.deepEqual([...flipHorizontal(im).data], [4, 5, 6, 1, 2, 3]);
});

Deno.test("rotate() by 0° is the identity and four 90° turns come back", () => {
  const im = rawImage(new Uint8Array(Array.from({ length: 16 }, (_, i) => i)), 4, 4, 1);
  assert.deepEqual([...rotate(im, 0).data], [...im.data]);
  const r90 = rotate(im, 90);
  // counter-clockwise: the top row becomes the left column, read bottom-up
  assert.deepEqual([r90.data[0], r90.data[4], r90.data[8], r90.data[12]], [3, 2, 1, 0]);
  assert.deepEqual([...rotate(rotate(rotate(r90, 90), 90), 90).data], [...im.data]);
});

Deno.test("toChannels() converts RGB to PIL luma, replicates gray, drops alpha", () => {
  const rgb = rawImage(new Uint8Array([255, 0, 0, 0, 255, 0]), 1, 2, 3);
  assert.deepEqual([...toChannels(rgb, 1).data], [luma(255, 0, 0), luma(0, 255, 0)]);
  assert.deepEqual([luma(255, 0, 0), luma(0, 255, 0), luma(0, 0, 255), luma(255, 255, 255)], [76, 150, 29, 255]);
  assert.deepEqual([...toChannels(rawImage(new Uint8Array([7]), 1, 1, 1), 3).data], [7, 7, 7]);
  assert.deepEqual([...toChannels(rawImage(new Uint8Array([1, 2, 3, 4]), 1, 1, 4), 3).data], [1, 2, 3]);
  assert.deepEqual([...invert(rawImage(new Uint8Array([0, 255, 10]), 1, 1, 3)).data], [255, 0, 245]);
});
