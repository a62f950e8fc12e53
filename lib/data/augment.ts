/**
 * The papers' training augmentations, as data (`AugmentStep[]`) interpreted on uint8 HWC images, one batch at
 * a time. The semantics follow torchvision on PIL images (what the reference code ran):
 *
 * | step | torchvision | notes |
 * |---|---|---|
 * | `randomCrop` | `RandomCrop(size, padding)` | zero padding, offsets uniform |
 * | `horizontalFlip` | `RandomHorizontalFlip(p)` | |
 * | `randomResizedCrop` | `RandomResizedCrop(size, scale, ratio)` | 10 tries, then the centre fallback; antialiased bilinear |
 * | `colorJitter` | `RandomApply([ColorJitter(b, c, s, h)], p)` | factors drawn b, c, s, h; applied in a random order; PIL-style blends (truncate, clip) |
 * | `randomGrayscale` | `RandomGrayscale(p)` | ITU-R 601-2 luma, replicated to 3 channels |
 * | `randomRotation` | `RandomRotation(degrees, fill)` | nearest neighbour, same size |
 *
 * Hue shifts use a float HSV round trip rather than PIL's 8-bit HSV, so they may differ from PIL by ±1 level.
 * Named presets are in {@linkcode AUGMENTATIONS}.
 * @module
 */
import { crop, flipHorizontal, luma, pad, type RawImage, rotate } from "./image.ts";
import { resize } from "./resize.ts";
import type { Rng } from "./rng.ts";

/** One augmentation step (a discriminated union on `op`). */
export type AugmentStep =
  | { readonly op: "randomCrop"; readonly size: number; readonly padding: number; readonly fill?: number }
  | { readonly op: "horizontalFlip"; readonly p?: number }
  | {
    readonly op: "randomResizedCrop";
    readonly size: number;
    readonly scale?: readonly [number, number];
    readonly ratio?: readonly [number, number];
  }
  | {
    readonly op: "colorJitter";
    readonly brightness: number;
    readonly contrast: number;
    readonly saturation: number;
    readonly hue: number;
    /** Probability the jitter is applied at all (`RandomApply`); default 1. */
    readonly p?: number;
  }
  | { readonly op: "randomGrayscale"; readonly p: number }
  | { readonly op: "randomRotation"; readonly degrees: number; readonly fill?: number };

/**
 * Named augmentation pipelines:
 * - `none`: identity (evaluation).
 * - `cropFlip`: RandomCrop(32, padding 4) + HorizontalFlip — ELOC, VMDLS (CIFAR), CMG's classifier, UM.
 * - `supcon`: SupCon/CIDER — RandomResizedCrop(32, scale 0.2–1), HorizontalFlip, ColorJitter(.4,.4,.4,.1) with
 *   p = .8, RandomGrayscale(p = .2).
 * - `mnistRotateCrop`: VMDLS MNIST — RandomRotation(10) + RandomResizedCrop(28, scale 0.95–1).
 */
export const AUGMENTATIONS = {
  none: [],
  cropFlip: [{ op: "randomCrop", size: 32, padding: 4 }, { op: "horizontalFlip" }],
  supcon: [
    { op: "randomResizedCrop", size: 32, scale: [0.2, 1] },
    { op: "horizontalFlip" },
    { op: "colorJitter", brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1, p: 0.8 },
    { op: "randomGrayscale", p: 0.2 },
  ],
  mnistRotateCrop: [
    { op: "randomRotation", degrees: 10 },
    { op: "randomResizedCrop", size: 28, scale: [0.95, 1] },
  ],
} as const satisfies Record<string, readonly AugmentStep[]>;

/** A key of {@linkcode AUGMENTATIONS}. */
export type AugmentationName = keyof typeof AUGMENTATIONS;

/** torchvision's `RandomResizedCrop.get_params`: the crop rectangle `[top, left, h, w]`. */
export function resizedCropParams(
  height: number,
  width: number,
  scale: readonly [number, number],
  ratio: readonly [number, number],
  rng: Rng,
): [number, number, number, number] {
  const area = height * width;
  const logR = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let t = 0; t < 10; t++) {
    const target = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(logR[0]!, logR[1]!));
    const w = Math.round(Math.sqrt(target * aspect));
    const h = Math.round(Math.sqrt(target / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      return [rng.int(height - h + 1), rng.int(width - w + 1), h, w];
    }
  }
  const inRatio = width / height;
  let w: number, h: number;
  if (inRatio < Math.min(ratio[0], ratio[1])) {
    w = width;
    h = Math.round(w / Math.min(ratio[0], ratio[1]));
  } else if (inRatio > Math.max(ratio[0], ratio[1])) {
    h = height;
    w = Math.round(h * Math.max(ratio[0], ratio[1]));
  } else {
    w = width;
    h = height;
  }
  return [Math.floor((height - h) / 2), Math.floor((width - w) / 2), h, w];
}

const clip8 = (v: number) => (v <= 0 ? 0 : v >= 255 ? 255 : Math.trunc(v));

/** PIL `Image.blend(degenerate, img, f)` per value: `degenerate + f·(img − degenerate)`, truncated and clipped. */
function blend(img: RawImage, degenerate: (i: number) => number, f: number): RawImage {
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < out.length; i++) {
    const d = degenerate(i);
    out[i] = clip8(d + f * (img.data[i]! - d));
  }
  return { ...img, data: out };
}

function grayPlane(img: RawImage): Uint8Array {
  const n = img.height * img.width;
  if (img.channels === 1) return img.data;
  const g = new Uint8Array(n);
  for (let i = 0; i < n; i++) g[i] = luma(img.data[3 * i]!, img.data[3 * i + 1]!, img.data[3 * i + 2]!);
  return g;
}

function adjustBrightness(img: RawImage, f: number): RawImage {
  return blend(img, () => 0, f);
}

function adjustContrast(img: RawImage, f: number): RawImage {
  const g = grayPlane(img);
  let s = 0;
  for (let i = 0; i < g.length; i++) s += g[i]!;
  const mean = Math.trunc(s / g.length + 0.5);
  return blend(img, () => mean, f);
}

function adjustSaturation(img: RawImage, f: number): RawImage {
  if (img.channels !== 3) return img;
  const g = grayPlane(img);
  return blend(img, (i) => g[Math.floor(i / 3)]!, f);
}

function adjustHue(img: RawImage, shift: number): RawImage {
  if (img.channels !== 3 || shift === 0) return img;
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < out.length; i += 3) {
    const r = img.data[i]! / 255, g = img.data[i + 1]! / 255, b = img.data[i + 2]! / 255;
    const max = Math.max(r, g, b), min = Math.min(r, g, b), d = max - min;
    let h = 0;
    if (d > 0) {
      if (max === r) h = ((g - b) / d) / 6;
      else if (max === g) h = ((b - r) / d + 2) / 6;
      else h = ((r - g) / d + 4) / 6;
    }
    h = (((h + shift) % 1) + 1) % 1;
    const s = max === 0 ? 0 : d / max;
    const v = max;
    const k = Math.floor(h * 6) % 6;
    const fr = h * 6 - Math.floor(h * 6);
    const p = v * (1 - s), q = v * (1 - fr * s), t = v * (1 - (1 - fr) * s);
    const rgb = [[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]][k]!;
    out[i] = Math.round(rgb[0]! * 255);
    out[i + 1] = Math.round(rgb[1]! * 255);
    out[i + 2] = Math.round(rgb[2]! * 255);
  }
  return { ...img, data: out };
}

function toGrayRgb(img: RawImage): RawImage {
  if (img.channels !== 3) return img;
  const g = grayPlane(img);
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < g.length; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = g[i]!;
  return { ...img, data: out };
}

/** Applies one step. */
export function applyStep(img: RawImage, step: AugmentStep, rng: Rng): RawImage {
  switch (step.op) {
    case "randomCrop": {
      const padded = pad(img, step.padding, step.fill ?? 0);
      if (padded.height < step.size || padded.width < step.size) {
        throw new Error(`randomCrop ${step.size} is larger than the padded ${padded.height}×${padded.width} image`);
      }
      const top = rng.int(padded.height - step.size + 1);
      const left = rng.int(padded.width - step.size + 1);
      return crop(padded, top, left, step.size, step.size);
    }
    case "horizontalFlip":
      return rng.float() < (step.p ?? 0.5) ? flipHorizontal(img) : img;
    case "randomResizedCrop": {
      const [top, left, h, w] = resizedCropParams(
        img.height,
        img.width,
        step.scale ?? [0.08, 1],
        step.ratio ?? [3 / 4, 4 / 3],
        rng,
      );
      return resize(crop(img, top, left, h, w), step.size, step.size, { filter: "bilinear" });
    }
    case "colorJitter": {
      if (rng.float() >= (step.p ?? 1)) return img;
      const order = rng.permutation(4);
      const f = [
        step.brightness ? rng.uniform(Math.max(0, 1 - step.brightness), 1 + step.brightness) : null,
        step.contrast ? rng.uniform(Math.max(0, 1 - step.contrast), 1 + step.contrast) : null,
        step.saturation ? rng.uniform(Math.max(0, 1 - step.saturation), 1 + step.saturation) : null,
        step.hue ? rng.uniform(-step.hue, step.hue) : null,
      ];
      let out = img;
      for (const k of order) {
        const v = f[k];
        if (v === null || v === undefined) continue;
        if (k === 0) out = adjustBrightness(out, v);
        else if (k === 1) out = adjustContrast(out, v);
        else if (k === 2) out = adjustSaturation(out, v);
        else out = adjustHue(out, v);
      }
      return out;
    }
    case "randomGrayscale":
      return rng.float() < step.p ? toGrayRgb(img) : img;
    case "randomRotation":
      return rotate(img, rng.uniform(-step.degrees, step.degrees), step.fill ?? 0);
  }
}

/** Applies `steps` in order to one image. */
export function augmentImage(img: RawImage, steps: readonly AugmentStep[], rng: Rng): RawImage {
  let out = img;
  for (const s of steps) out = applyStep(out, s, rng);
  return out;
}

/**
 * Gathers `indices` from NHWC uint8 `images` and augments each (in index order, drawing from `rng`).
 * @returns The new batch and its shape (every output must have the same size).
 */
export function augmentBatch(
  images: Uint8Array,
  shape: readonly [number, number, number, number],
  indices: ArrayLike<number>,
  steps: readonly AugmentStep[],
  rng: Rng,
): { images: Uint8Array; shape: [number, number, number, number] } {
  const [, h, w, c] = shape;
  const per = h * w * c;
  let out: Uint8Array | null = null;
  let oh = h, ow = w, oc = c;
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i]!;
    const img = augmentImage(
      { data: images.subarray(j * per, (j + 1) * per), height: h, width: w, channels: c },
      steps,
      rng,
    );
    if (out === null) {
      [oh, ow, oc] = [img.height, img.width, img.channels];
      out = new Uint8Array(indices.length * oh * ow * oc);
    } else if (img.height !== oh || img.width !== ow || img.channels !== oc) {
      throw new Error(
        `augmentation produced a ${img.height}×${img.width}×${img.channels} image after ${oh}×${ow}×${oc}`,
      );
    }
    out.set(img.data, i * oh * ow * oc);
  }
  return { images: out ?? new Uint8Array(0), shape: [indices.length, oh, ow, oc] };
}
