import assert from "node:assert/strict";
import { noiseDataset, transformedDataset } from "@lib/datasets/synthetic.ts";
import type { Dataset } from "@lib/datasets/types.ts";

const shape = { n: 50, height: 32, width: 32, channels: 3 };
const mean = (a: Uint8Array) => a.reduce((s, v) => s + v, 0) / a.length;

Deno.test("noiseDataset() is seeded: same seed same images, other seed other images", () => {
  for (const kind of ["gaussian", "uniform", "rademacher", "blobs"] as const) {
    const a = noiseDataset(kind, shape, { seed: 1 }),
      b = noiseDataset(kind, shape, { seed: 1 }),
      c = noiseDataset(kind, shape, { seed: 2 });
    assert.deepEqual(a.shape, [50, 32, 32, 3]);
    assert.ok(a.labels.every((y) => y === -1));
    assert.deepEqual(a.images, b.images, kind);
    assert.notDeepEqual(a.images, c.images, kind);
  }
});

Deno.test("noiseDataset() value distributions match their definitions", () => {
  const g = noiseDataset("gaussian", shape).images;
  // N(0.5, 1) clipped to [0,1]: P(x ≤ 0) = P(x ≥ 1) ≈ 0.3085
  const low = g.filter((v) => v === 0).length / g.length, high = g.filter((v) => v === 255).length / g.length;
  assert.ok(Math.abs(low - 0.3085) < 0.02 && Math.abs(high - 0.3085) < 0.02, `${low} ${high}`);
  const u = noiseDataset("uniform", shape).images;
  assert.ok(Math.abs(mean(u) - 127.5) < 2);
  const r = noiseDataset("rademacher", shape).images;
  assert.ok(r.every((v) => v === 0 || v === 255));
  assert.ok(Math.abs(mean(r) - 127.5) < 5);
  const b = noiseDataset("blobs", shape).images;
  assert.ok(b.every((v) => v === 0 || v >= Math.round(0.75 * 255)), "blob values are 0 or ≥ 0.75");
  assert.ok(b.some((v) => v === 0) && b.some((v) => v > 0));
});

function base(): Dataset {
  const images = new Uint8Array(2 * 4 * 4 * 3).map((_, i) => (i * 13) % 256);
  return { name: "b", images, labels: new Int32Array([3, 4]), shape: [2, 4, 4, 3], classes: ["a", "b", "c", "d", "e"] };
}

Deno.test("transformedDataset() inverts, rotates and pixel-permutes the ID images", () => {
  const b = base();
  const inv = transformedDataset("inverted", b);
  assert.deepEqual([...inv.images], [...b.images].map((v) => 255 - v));
  assert.ok(inv.labels.every((y) => y === -1));
  let r = transformedDataset("rotated", b);
  assert.notDeepEqual(r.images, b.images);
  for (let k = 0; k < 3; k++) r = transformedDataset("rotated", r);
  assert.deepEqual(r.images, b.images);
  const p = transformedDataset("pixel_permuted", b, { seed: 3 });
  // same multiset of RGB pixels per image, same permutation for every image
  const px = (d: Uint8Array, i: number) =>
    Array.from({ length: 16 }, (_, k) => [...d.subarray(i * 48 + 3 * k, i * 48 + 3 * k + 3)].join(",")).sort();
  assert.deepEqual(px(p.images, 0), px(b.images, 0));
  assert.deepEqual(px(p.images, 1), px(b.images, 1));
  assert.deepEqual(transformedDataset("pixel_permuted", b, { seed: 3 }).images, p.images);
});

Deno.test("transformedDataset('noisy') adds 127.5·U[0, 1) per value (VMDLS MNIST-noise), seeded, clipped to 255", () => {
  const b = base();
  const a = transformedDataset("noisy", b, { seed: 1 });
  for (let i = 0; i < b.images.length; i++) {
    const d = a.images[i]! - b.images[i]!;
    assert.ok(a.images[i] === 255 ? d >= 0 : d >= 0 && d <= 128, `value ${i}: ${b.images[i]} → ${a.images[i]}`);
  }
  const added = [...a.images].map((v, i) => v - b.images[i]!).filter((_, i) => b.images[i]! < 128);
  const mean = added.reduce((s, v) => s + v, 0) / added.length;
  assert.ok(mean > 45 && mean < 85, `mean added value ${mean} ≈ 63.75`);
  assert.deepEqual(transformedDataset("noisy", b, { seed: 1 }).images, a.images);
  assert.notDeepEqual(transformedDataset("noisy", b, { seed: 2 }).images, a.images);
  assert.ok(a.labels.every((y) => y === -1));
});
