import assert from "node:assert/strict";
import {
  applyStep,
  AUGMENTATIONS,
  augmentBatch,
  augmentImage,
  type AugmentStep,
  resizedCropParams,
} from "@lib/data/augment.ts";
import { rawImage } from "@lib/data/image.ts";
import { Rng } from "@lib/data/rng.ts";

/** A 32×32×3 image whose pixel (y, x) is (y, x, y+x) so crops can be located. */
function coords(h = 32, w = 32) {
  const d = new Uint8Array(h * w * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) d.set([y + 1, x + 1, y + x], (y * w + x) * 3);
  return rawImage(d, h, w, 3);
}

Deno.test("randomCrop with padding 4 returns a 32×32 window of the zero-padded image", () => {
  const rng = new Rng(1);
  for (let t = 0; t < 50; t++) {
    const out = applyStep(coords(), { op: "randomCrop", size: 32, padding: 4 }, rng);
    assert.deepEqual([out.height, out.width, out.channels], [32, 32, 3]);
    // find the window offset from any non-padding pixel: value (y+1, x+1) at output (oy, ox) ⇒ shift = y - oy
    let dy: number | null = null, dx: number | null = null;
    for (let i = 0; i < 32 * 32 && dy === null; i++) {
      if (out.data[3 * i] !== 0) {
        dy = out.data[3 * i]! - 1 - Math.floor(i / 32);
        dx = out.data[3 * i + 1]! - 1 - (i % 32);
      }
    }
    assert.ok(dy !== null && dx !== null && Math.abs(dy) <= 4 && Math.abs(dx) <= 4, `shift ${dy},${dx}`);
    const sy: number = dy, sx: number = dx;
    for (let oy = 0; oy < 32; oy++) {
      for (let ox = 0; ox < 32; ox++) {
        const y: number = oy + sy, x: number = ox + sx;
        const inside: boolean = y >= 0 && y < 32 && x >= 0 && x < 32;
        assert.equal(out.data[(oy * 32 + ox) * 3], inside ? y + 1 : 0);
      }
    }
  }
});

Deno.test("horizontalFlip flips about half the time, and p=1 always flips", () => {
  const rng = new Rng(2);
  let flips = 0;
  for (let t = 0; t < 2000; t++) if (applyStep(coords(2, 2), { op: "horizontalFlip" }, rng).data[1] === 2) flips++;
  assert.ok(flips > 900 && flips < 1100, `${flips} flips`);
  assert.equal(applyStep(coords(2, 2), { op: "horizontalFlip", p: 1 }, rng).data[1], 2);
});

Deno.test("resizedCropParams() stays inside the image with area and ratio in range, and falls back to the centre", () => {
  const rng = new Rng(3);
  for (let t = 0; t < 500; t++) {
    const [top, left, h, w] = resizedCropParams(32, 32, [0.2, 1], [3 / 4, 4 / 3], rng);
    assert.ok(top >= 0 && left >= 0 && top + h <= 32 && left + w <= 32);
    assert.ok(h * w >= 0.2 * 1024 * 0.8 && h * w <= 1024);
  }
  // impossible aspect ratios force the fallback: full height, width = round(h * max ratio), centred
  assert.deepEqual(resizedCropParams(10, 100, [0.99, 1], [1, 1], new Rng(0)), [0, 45, 10, 10]);
});

Deno.test("colorJitter with zero strength and p=1 leaves the image unchanged; with p=0 it never runs", () => {
  const img = coords();
  const none = applyStep(img, { op: "colorJitter", brightness: 0, contrast: 0, saturation: 0, hue: 0 }, new Rng(0));
  assert.deepEqual([...none.data], [...img.data]);
  const skipped = applyStep(
    img,
    { op: "colorJitter", brightness: 0.9, contrast: 0.9, saturation: 0.9, hue: 0.5, p: 0 },
    new Rng(0),
  );
  assert.deepEqual([...skipped.data], [...img.data]);
  const changed = applyStep(
    img,
    { op: "colorJitter", brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1 },
    new Rng(0),
  );
  assert.notDeepEqual([...changed.data], [...img.data]);
});

Deno.test("randomGrayscale makes the three channels equal", () => {
  const g = applyStep(coords(), { op: "randomGrayscale", p: 1 }, new Rng(0));
  for (let i = 0; i < 32 * 32; i++) {
    assert.equal(g.data[3 * i], g.data[3 * i + 1]);
    assert.equal(g.data[3 * i], g.data[3 * i + 2]);
  }
});

Deno.test("every preset keeps the image size and is deterministic for a seed", () => {
  const img = coords();
  const gray28 = rawImage(new Uint8Array(28 * 28).map((_, i) => i % 256), 28, 28, 1);
  for (const [name, steps] of Object.entries(AUGMENTATIONS)) {
    const src = name === "mnistRotateCrop" ? gray28 : img;
    const a = augmentImage(src, steps, new Rng(5));
    const b = augmentImage(src, steps, new Rng(5));
    assert.deepEqual([a.height, a.width, a.channels], [src.height, src.width, src.channels], name);
    assert.deepEqual([...a.data], [...b.data], name);
  }
});

Deno.test("augmentBatch() gathers the indices and gives two different views from one Rng (SupCon)", () => {
  const n = 4, per = 32 * 32 * 3;
  const images = new Uint8Array(n * per);
  for (let i = 0; i < n; i++) images.set(coords().data.map((v) => (v + i * 20) % 256), i * per);
  const steps: readonly AugmentStep[] = AUGMENTATIONS.supcon;
  const rng = new Rng(7);
  const v1 = augmentBatch(images, [n, 32, 32, 3], [2, 0], steps, rng);
  const v2 = augmentBatch(images, [n, 32, 32, 3], [2, 0], steps, rng);
  assert.deepEqual(v1.shape, [2, 32, 32, 3]);
  assert.notDeepEqual([...v1.images], [...v2.images]);
  const plain = augmentBatch(images, [n, 32, 32, 3], [3, 1], [], rng);
  assert.deepEqual([...plain.images.subarray(0, per)], [...images.subarray(3 * per, 4 * per)]);
});
