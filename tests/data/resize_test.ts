import assert from "node:assert/strict";
import { rawImage } from "@lib/data/image.ts";
import { centerCrop, fitImage, resize, resizeShorterSide } from "@lib/data/resize.ts";

const ramp = (h: number, w: number) =>
  rawImage(new Uint8Array(Array.from({ length: h * w }, (_, i) => i % 256)), h, w, 1);

Deno.test("resize() keeps a constant image constant with every filter", () => {
  const c = rawImage(new Uint8Array(37 * 23 * 3).fill(77), 37, 23, 3);
  for (const filter of ["bilinear", "area", "nearest"] as const) {
    for (const [h, w] of [[10, 10], [32, 32], [80, 50]]) {
      const r = resize(c, h!, w!, { filter });
      assert.equal(r.data.length, h! * w! * 3);
      assert.ok(r.data.every((v) => v === 77), `${filter} ${h}×${w}`);
    }
  }
});

Deno.test("resize() with the area filter averages exact 2×2 blocks when halving", () => {
  const im = rawImage(new Uint8Array([0, 4, 10, 20, 8, 12, 30, 40]), 2, 4, 1);
  assert.deepEqual([...resize(im, 1, 2, { filter: "area" }).data], [6, 25]);
});

Deno.test("resize() bilinear upsampling interpolates between neighbours", () => {
  const im = rawImage(new Uint8Array([0, 100]), 1, 2, 1);
  // output centres at 0.25, 0.75, 1.25, 1.75 of the input: weights give 0, 25, 75, 100 (edges renormalized)
  assert.deepEqual([...resize(im, 1, 4, { filter: "bilinear" }).data], [0, 25, 75, 100]);
  assert.throws(() => resize(im, 0, 3), /positive integers/);
});

Deno.test("centerCrop() uses torchvision offsets (round half to even) and pads small images", () => {
  const im = ramp(5, 5);
  assert.deepEqual([...centerCrop(im, 3).data], [6, 7, 8, 11, 12, 13, 16, 17, 18]);
  const odd = ramp(33, 33); // (33 - 32) / 2 = 0.5 → round-half-even → 0
  assert.equal(centerCrop(odd, 32).data[0], 0);
  const small = centerCrop(rawImage(new Uint8Array([9]), 1, 1, 1), 3);
  assert.deepEqual([...small.data], [0, 0, 0, 0, 9, 0, 0, 0, 0]);
});

Deno.test("resizeShorterSide() and fitImage() follow Resize(int) + CenterCrop semantics", () => {
  const wide = rawImage(new Uint8Array(40 * 100), 40, 100, 1);
  const r = resizeShorterSide(wide, 32);
  assert.deepEqual([r.height, r.width], [32, 80]);
  const tall = resizeShorterSide(rawImage(new Uint8Array(90 * 45), 90, 45, 1), 32);
  assert.deepEqual([tall.height, tall.width], [64, 32]);
  for (const mode of ["resize_center_crop", "resize", "center_crop"] as const) {
    const f = fitImage(rawImage(new Uint8Array(48 * 64 * 3), 48, 64, 3), 32, mode);
    assert.deepEqual([f.height, f.width, f.channels], [32, 32, 3]);
  }
});
