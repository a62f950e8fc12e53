/**
 * Synthetic OOD sets, seeded and sized like the ID test set they accompany. All labels are -1.
 *
 * Noise (pixel values in [0, 1] are stored as uint8 `round(255·v)`):
 * - `gaussian`: i.i.d. N(0.5, 1) per value, clipped to [0, 1] (ODIN's "Gaussian" set, also used by ELOC).
 * - `uniform`: i.i.d. U[0, 1] per value (ODIN/ELOC "Uniform"; VMDLS's noise set for MNIST).
 * - `rademacher`: each value 0 or 1 with probability ½ (Hendrycks et al.'s OE "Rademacher" in [0,1] pixel space).
 * - `blobs`: Bernoulli(0.7) per value, Gaussian blur σ = 1.5 per channel (edges clamped, radius 6), values below
 *   0.75 set to 0 (after OE's "Blobs"; OE blurs across the channel axis too — here channels are blurred apart).
 *
 * Transformed ID images (need the ID test images):
 * - `inverted`: 255 − x.
 * - `rotated`: every image rotated 90° counter-clockwise.
 * - `pixel_permuted`: one seeded permutation of the h·w pixel positions applied to every image (channels move
 *   together), which keeps each image's histogram and destroys its spatial structure.
 * - `noisy`: VMDLS's "MNIST-noise" (BGU-CS-VIL/vmdls `data/datasets.py` `MNISTNoise`: a normalised test image plus
 *   U[0, 1) per value, under its Normalize(0.5, 0.5)), i.e. x + 127.5·u per value in pixel units, seeded, rounded
 *   and clipped to 255 (the reference's values above 1 after normalisation cannot be stored in uint8: stroke pixels
 *   of MNIST lose their noise).
 * @module
 */
import { rotate } from "../data/image.ts";
import { Rng, type Seed } from "../data/rng.ts";
import type { Dataset } from "./types.ts";

/** Noise generators, by registry name. */
export type NoiseKind = "gaussian" | "uniform" | "rademacher" | "blobs";
/** Transformations of ID images, by registry name. */
export type TransformKind = "inverted" | "rotated" | "pixel_permuted" | "noisy";

/** Size of a generated set: `n` images of `height × width × channels`. */
export interface NoiseShape {
  /** Images. */
  n: number;
  /** Rows. */
  height: number;
  /** Columns. */
  width: number;
  /** Channels. */
  channels: number;
}

const to8 = (v: number) => (v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255));

function gaussianKernel(sigma: number, truncate = 4): Float64Array {
  const r = Math.round(truncate * sigma);
  const k = new Float64Array(2 * r + 1);
  let s = 0;
  for (let i = -r; i <= r; i++) {
    k[i + r] = Math.exp((-i * i) / (2 * sigma * sigma));
    s += k[i + r]!;
  }
  for (let i = 0; i < k.length; i++) k[i] = k[i]! / s;
  return k;
}

/** Separable Gaussian blur of one channel plane (h × w floats), edges clamped ("nearest"). */
function blurPlane(src: Float64Array, h: number, w: number, k: Float64Array): Float64Array {
  const r = (k.length - 1) / 2;
  const tmp = new Float64Array(h * w);
  const out = new Float64Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let a = 0;
      for (let j = -r; j <= r; j++) a += k[j + r]! * src[y * w + Math.min(w - 1, Math.max(0, x + j))]!;
      tmp[y * w + x] = a;
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let a = 0;
      for (let j = -r; j <= r; j++) a += k[j + r]! * tmp[Math.min(h - 1, Math.max(0, y + j)) * w + x]!;
      out[y * w + x] = a;
    }
  }
  return out;
}

/**
 * Generates a noise set.
 * @example Usage
 * ```ts
 * import { noiseDataset } from "@lib/datasets/synthetic.ts";
 * const g = noiseDataset("gaussian", { n: 100, height: 32, width: 32, channels: 3 }, { seed: 1 });
 * ```
 */
export function noiseDataset(kind: NoiseKind, shape: NoiseShape, opts: { seed?: Seed; name?: string } = {}): Dataset {
  const { n, height: h, width: w, channels: c } = shape;
  const rng = new Rng(`${kind}/${String(opts.seed ?? 0)}`);
  const per = h * w * c;
  const images = new Uint8Array(n * per);
  if (kind === "gaussian") {
    for (let i = 0; i < images.length; i++) images[i] = to8(rng.normal(0.5, 1));
  } else if (kind === "uniform") {
    for (let i = 0; i < images.length; i++) images[i] = to8(rng.float());
  } else if (kind === "rademacher") {
    for (let i = 0; i < images.length; i++) images[i] = rng.bernoulli(0.5) ? 255 : 0;
  } else {
    const k = gaussianKernel(1.5);
    const plane = new Float64Array(h * w);
    for (let i = 0; i < n; i++) {
      for (let ch = 0; ch < c; ch++) {
        for (let p = 0; p < h * w; p++) plane[p] = rng.bernoulli(0.7) ? 1 : 0;
        const b = blurPlane(plane, h, w, k);
        for (let p = 0; p < h * w; p++) {
          const v = b[p]!;
          images[i * per + p * c + ch] = v < 0.75 ? 0 : to8(v);
        }
      }
    }
  }
  return {
    name: opts.name ?? kind,
    images,
    labels: new Int32Array(n).fill(-1),
    shape: [n, h, w, c],
    classes: [],
  };
}

/** Applies an image transformation to every image of `base` (labels become -1). */
export function transformedDataset(
  kind: TransformKind,
  base: Dataset,
  opts: { seed?: Seed; name?: string } = {},
): Dataset {
  const [n, h, w, c] = base.shape;
  const per = h * w * c;
  const images = new Uint8Array(base.images.length);
  if (kind === "inverted") {
    for (let i = 0; i < images.length; i++) images[i] = 255 - base.images[i]!;
  } else if (kind === "rotated") {
    if (h !== w) throw new Error(`rotated needs square images, ${base.name} has ${h}×${w}`);
    for (let i = 0; i < n; i++) {
      const img = rotate({ data: base.images.subarray(i * per, (i + 1) * per), height: h, width: w, channels: c }, 90);
      images.set(img.data, i * per);
    }
  } else if (kind === "noisy") {
    const rng = new Rng(`noisy/${String(opts.seed ?? 0)}`);
    for (let i = 0; i < images.length; i++) {
      images[i] = Math.min(255, Math.round(base.images[i]! + 127.5 * rng.float()));
    }
  } else {
    const perm = new Rng(`pixel_permuted/${String(opts.seed ?? 0)}`).permutation(h * w);
    for (let i = 0; i < n; i++) {
      for (let p = 0; p < h * w; p++) {
        const s = i * per + perm[p]! * c;
        const d = i * per + p * c;
        for (let k = 0; k < c; k++) images[d + k] = base.images[s + k]!;
      }
    }
  }
  return { name: opts.name ?? kind, images, labels: new Int32Array(n).fill(-1), shape: [n, h, w, c], classes: [] };
}
