/**
 * Resampling in plain TypeScript, modelled on PIL's separable resampler (which torchvision's `Resize` uses on
 * PIL images): each output pixel is a normalized weighted sum of the input pixels under a filter kernel
 * centred on it. Filters: `bilinear` (triangle, radius 1), `area` (box, radius ½ — the average of the covered
 * input pixels when shrinking), `nearest`. With `antialias` (default, as PIL) the kernel is widened by the
 * shrink factor when downscaling.
 * @module
 */
import { crop, pad, type RawImage } from "./image.ts";

/** Resampling filter. */
export type ResizeFilter = "bilinear" | "area" | "nearest";

/** Options of {@linkcode resize}. */
export interface ResizeOptions {
  /** Default `"bilinear"`. */
  filter?: ResizeFilter;
  /** Widen the kernel when shrinking (PIL behaviour). Default true. */
  antialias?: boolean;
}

interface Coeffs {
  start: Int32Array;
  count: Int32Array;
  weights: Float64Array;
  taps: number;
}

function coefficients(inSize: number, outSize: number, filter: "bilinear" | "area", antialias: boolean): Coeffs {
  const scale = inSize / outSize;
  const fscale = antialias ? Math.max(scale, 1) : 1;
  const radius = filter === "bilinear" ? 1 : 0.5;
  const support = radius * fscale;
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * taps);
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const lo = Math.max(0, Math.floor(center - support + 0.5));
    const hi = Math.min(inSize, Math.floor(center + support + 0.5));
    let sum = 0;
    let k = 0;
    for (let x = lo; x < hi && k < taps; x++, k++) {
      const t = (x + 0.5 - center) / fscale;
      const w = filter === "bilinear" ? Math.max(0, 1 - Math.abs(t)) : (t > -0.5 && t <= 0.5 ? 1 : 0);
      weights[o * taps + k] = w;
      sum += w;
    }
    if (sum === 0) { // degenerate (can only happen for tiny sizes): take the nearest pixel
      weights[o * taps] = 1;
      start[o] = Math.min(inSize - 1, Math.max(0, Math.floor(center)));
      count[o] = 1;
      continue;
    }
    for (let j = 0; j < k; j++) weights[o * taps + j] = weights[o * taps + j]! / sum;
    start[o] = lo;
    count[o] = k;
  }
  return { start, count, weights, taps };
}

function resizeNearest(img: RawImage, outH: number, outW: number): RawImage {
  const { height: h, width: w, channels: c } = img;
  const out = new Uint8Array(outH * outW * c);
  for (let y = 0; y < outH; y++) {
    const sy = Math.min(h - 1, Math.floor((y + 0.5) * h / outH));
    for (let x = 0; x < outW; x++) {
      const sx = Math.min(w - 1, Math.floor((x + 0.5) * w / outW));
      const s = (sy * w + sx) * c;
      const d = (y * outW + x) * c;
      for (let k = 0; k < c; k++) out[d + k] = img.data[s + k]!;
    }
  }
  return { data: out, height: outH, width: outW, channels: c };
}

/**
 * Resizes to exactly `outH × outW` (aspect ratio not kept).
 * @example Usage
 * ```ts
 * import { rawImage } from "@lib/data/image.ts";
 * import { resize } from "@lib/data/resize.ts";
 * const img = rawImage(new Uint8Array(64 * 64 * 3), 64, 64, 3);
 * const small = resize(img, 32, 32, { filter: "area" });
 * ```
 */
export function resize(img: RawImage, outH: number, outW: number, opts: ResizeOptions = {}): RawImage {
  if (!(outH > 0 && outW > 0 && Number.isInteger(outH) && Number.isInteger(outW))) {
    throw new Error(`resize target must be positive integers, got ${outH}×${outW}`);
  }
  const filter = opts.filter ?? "bilinear";
  if (outH === img.height && outW === img.width) return img;
  if (filter === "nearest") return resizeNearest(img, outH, outW);
  const antialias = opts.antialias ?? true;
  const { height: h, width: w, channels: c } = img;
  // horizontal pass: h × outW × c floats
  const cx = coefficients(w, outW, filter, antialias);
  const tmp = new Float32Array(h * outW * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < outW; x++) {
      const s0 = cx.start[x]!;
      const n = cx.count[x]!;
      for (let k = 0; k < c; k++) {
        let acc = 0;
        for (let j = 0; j < n; j++) acc += cx.weights[x * cx.taps + j]! * img.data[(y * w + s0 + j) * c + k]!;
        tmp[(y * outW + x) * c + k] = acc;
      }
    }
  }
  // vertical pass
  const cy = coefficients(h, outH, filter, antialias);
  const out = new Uint8Array(outH * outW * c);
  for (let y = 0; y < outH; y++) {
    const s0 = cy.start[y]!;
    const n = cy.count[y]!;
    for (let x = 0; x < outW; x++) {
      for (let k = 0; k < c; k++) {
        let acc = 0;
        for (let j = 0; j < n; j++) acc += cy.weights[y * cy.taps + j]! * tmp[((s0 + j) * outW + x) * c + k]!;
        out[(y * outW + x) * c + k] = acc <= 0 ? 0 : acc >= 255 ? 255 : Math.round(acc);
      }
    }
  }
  return { data: out, height: outH, width: outW, channels: c };
}

/** Python's `round` (halves to even), which torchvision's `CenterCrop` offsets use. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * torchvision-style centre crop to `size × size`: offsets `round((H − size) / 2)`, zero padding first if the
 * image is smaller than the crop.
 */
export function centerCrop(img: RawImage, size: number, fill = 0): RawImage {
  let src = img;
  if (src.height < size || src.width < size) {
    const p = Math.ceil(Math.max(size - src.height, size - src.width) / 2);
    src = pad(src, p, fill);
  }
  const top = roundHalfEven((src.height - size) / 2);
  const left = roundHalfEven((src.width - size) / 2);
  return crop(src, top, left, size, size);
}

/**
 * torchvision `Resize(size)` with an int: the shorter side becomes `size`, the longer `⌊size · long / short⌋`.
 */
export function resizeShorterSide(img: RawImage, size: number, opts: ResizeOptions = {}): RawImage {
  const { height: h, width: w } = img;
  if (Math.min(h, w) === size) return img;
  const [oh, ow] = h <= w ? [size, Math.floor((size * w) / h)] : [Math.floor((size * h) / w), size];
  return resize(img, oh, ow, opts);
}

/** How an image of arbitrary size is brought to `size × size`. */
export type FitMode = "resize_center_crop" | "resize" | "center_crop";

/**
 * Brings an image to `size × size`: `resize_center_crop` = shorter side to `size` then centre crop
 * (torchvision `Resize(size)` + `CenterCrop(size)`, CIDER's OOD transform); `resize` = stretch to
 * `size × size` (`Resize((size, size))`, e.g. VMDLS's Omniglot); `center_crop` = crop only.
 */
export function fitImage(img: RawImage, size: number, mode: FitMode, opts: ResizeOptions = {}): RawImage {
  switch (mode) {
    case "resize":
      return resize(img, size, size, opts);
    case "center_crop":
      return centerCrop(img, size);
    case "resize_center_crop":
      return centerCrop(resizeShorterSide(img, size, opts), size);
  }
}
