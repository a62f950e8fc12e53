/**
 * Single-image primitives on uint8 HWC pixels: the `RawImage` type, crop, pad, flip, rotation, channel
 * conversion. Used by dataset preprocessing and by the augmentations; all are pure (they return new images).
 * @module
 */

/** One image: `data.length === height * width * channels`, row-major HWC, 0..255. */
export interface RawImage {
  /** Pixels, row-major HWC. */
  data: Uint8Array;
  /** Rows. */
  height: number;
  /** Columns. */
  width: number;
  /** Values per pixel (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA). */
  channels: number;
}

/** Checks the invariant of a `RawImage` and returns it. */
export function rawImage(data: Uint8Array, height: number, width: number, channels: number): RawImage {
  if (data.length !== height * width * channels) {
    throw new Error(`image data has ${data.length} bytes, expected ${height}×${width}×${channels}`);
  }
  return { data, height, width, channels };
}

/** The `[top, left]` rectangle of size `h × w`; must lie inside the image. */
export function crop(img: RawImage, top: number, left: number, h: number, w: number): RawImage {
  if (top < 0 || left < 0 || top + h > img.height || left + w > img.width || h <= 0 || w <= 0) {
    throw new Error(`crop ${h}×${w} at (${top}, ${left}) is outside the ${img.height}×${img.width} image`);
  }
  const c = img.channels;
  const out = new Uint8Array(h * w * c);
  for (let y = 0; y < h; y++) {
    const s = ((top + y) * img.width + left) * c;
    out.set(img.data.subarray(s, s + w * c), y * w * c);
  }
  return { data: out, height: h, width: w, channels: c };
}

/** Pads every side by `padding` pixels of value `fill` (constant padding, as torchvision's default). */
export function pad(img: RawImage, padding: number, fill = 0): RawImage {
  if (padding === 0) return img;
  const c = img.channels;
  const h = img.height + 2 * padding;
  const w = img.width + 2 * padding;
  const out = new Uint8Array(h * w * c).fill(fill);
  for (let y = 0; y < img.height; y++) {
    const s = y * img.width * c;
    out.set(img.data.subarray(s, s + img.width * c), ((y + padding) * w + padding) * c);
  }
  return { data: out, height: h, width: w, channels: c };
}

/** Mirror left↔right. */
export function flipHorizontal(img: RawImage): RawImage {
  const { height: h, width: w, channels: c } = img;
  const out = new Uint8Array(img.data.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = (y * w + x) * c;
      const d = (y * w + (w - 1 - x)) * c;
      for (let k = 0; k < c; k++) out[d + k] = img.data[s + k]!;
    }
  }
  return { data: out, height: h, width: w, channels: c };
}

/**
 * Rotates counter-clockwise by `degrees` about the image centre, same size, nearest-neighbour sampling,
 * uncovered pixels set to `fill` (like PIL's `Image.rotate` used by torchvision's `RandomRotation`).
 */
export function rotate(img: RawImage, degrees: number, fill = 0): RawImage {
  const { height: h, width: w, channels: c } = img;
  const out = new Uint8Array(img.data.length).fill(fill);
  const a = (degrees * Math.PI) / 180;
  const cos = Math.cos(a);
  const sin = Math.sin(a);
  const cx = w / 2;
  const cy = h / 2;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // inverse map: output pixel centre → source (rotate by -angle in image coordinates, y down)
      const dx = x + 0.5 - cx;
      const dy = y + 0.5 - cy;
      const sx = cos * dx - sin * dy + cx;
      const sy = sin * dx + cos * dy + cy;
      const ix = Math.floor(sx);
      const iy = Math.floor(sy);
      if (ix < 0 || iy < 0 || ix >= w || iy >= h) continue;
      const s = (iy * w + ix) * c;
      const d = (y * w + x) * c;
      for (let k = 0; k < c; k++) out[d + k] = img.data[s + k]!;
    }
  }
  return { data: out, height: h, width: w, channels: c };
}

/** ITU-R 601-2 luma in PIL's fixed-point form: `(19595 R + 38470 G + 7471 B + 0x8000) >> 16`. */
export function luma(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16;
}

/**
 * Converts between 1 (gray), 2 (gray+alpha), 3 (RGB) and 4 (RGBA) channels to 1 or 3: alpha is dropped (as
 * PIL's `convert("RGB")`), RGB→gray uses {@linkcode luma}, gray→RGB replicates.
 */
export function toChannels(img: RawImage, channels: 1 | 3): RawImage {
  const c = img.channels;
  if (c === channels) return img;
  const n = img.height * img.width;
  const out = new Uint8Array(n * channels);
  const d = img.data;
  for (let i = 0; i < n; i++) {
    let r: number, g: number, b: number;
    if (c === 1 || c === 2) r = g = b = d[i * c]!;
    else if (c === 3 || c === 4) {
      r = d[i * c]!;
      g = d[i * c + 1]!;
      b = d[i * c + 2]!;
    } else throw new Error(`cannot convert an image with ${c} channels`);
    if (channels === 1) out[i] = c <= 2 ? r : luma(r, g, b);
    else {
      out[i * 3] = r;
      out[i * 3 + 1] = g;
      out[i * 3 + 2] = b;
    }
  }
  return { data: out, height: img.height, width: img.width, channels };
}

/** 255 − x for every value. */
export function invert(img: RawImage): RawImage {
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < out.length; i++) out[i] = 255 - img.data[i]!;
  return { ...img, data: out };
}
