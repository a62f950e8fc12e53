/**
 * Decodes PNG (`fast-png`) and JPEG (`jpeg-js`) files into uint8 HWC images with 1 or 3 channels. The format
 * is detected from the file signature, not the extension. Failures are `DatasetFormatError`s naming the file.
 * @module
 */
import { convertIndexedToRgb, decode as decodePng } from "fast-png";
import jpeg from "jpeg-js";
import { type RawImage, toChannels } from "../data/image.ts";
import { DatasetFormatError } from "./errors.ts";

/** The container formats recognised by {@linkcode detectImageFormat}. */
export type ImageFormat = "png" | "jpeg";

/** `"png"`, `"jpeg"` or `null` from the first bytes. */
export function detectImageFormat(bytes: Uint8Array): ImageFormat | null {
  if (
    bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47 &&
    bytes[4] === 0x0d && bytes[5] === 0x0a && bytes[6] === 0x1a && bytes[7] === 0x0a
  ) return "png";
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "jpeg";
  return null;
}

/** Unpacks rows of 1/2/4-bit samples (as fast-png returns them) into one byte per sample. */
function unpackBits(
  data: Uint8Array,
  width: number,
  height: number,
  samplesPerPixel: number,
  depth: number,
): Uint8Array {
  const perRow = width * samplesPerPixel;
  const rowBytes = Math.ceil((perRow * depth) / 8);
  const out = new Uint8Array(perRow * height);
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let i = 0; i < perRow; i++) {
      const bit = i * depth;
      const byte = data[y * rowBytes + (bit >> 3)]!;
      out[y * perRow + i] = (byte >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

function decodePngImage(bytes: Uint8Array, file: string): RawImage {
  let png;
  try {
    png = decodePng(bytes);
  } catch (e) {
    throw new DatasetFormatError(file, `undecodable PNG (${(e as Error).message})`);
  }
  const { width, height, depth } = png;
  let channels = png.channels;
  let data: Uint8Array;
  if (png.palette) {
    const idx = depth < 8 ? unpackBits(png.data as Uint8Array, width, height, 1, depth) : (png.data as Uint8Array);
    for (let i = 0; i < idx.length; i++) {
      if (idx[i]! >= png.palette.length) throw new DatasetFormatError(file, `PNG palette index ${idx[i]} out of range`);
    }
    const rgb = convertIndexedToRgb({ ...png, data: idx, depth: 8 });
    channels = rgb.length / (width * height);
    data = rgb instanceof Uint8Array ? rgb : new Uint8Array(rgb);
  } else if (depth === 16) {
    const src = png.data as Uint16Array;
    data = new Uint8Array(src.length);
    for (let i = 0; i < src.length; i++) data[i] = Math.round(src[i]! / 257);
  } else if (depth < 8) {
    const raw = unpackBits(png.data as Uint8Array, width, height, channels, depth);
    const scale = 255 / ((1 << depth) - 1);
    data = raw.map((v) => Math.round(v * scale));
  } else {
    data = png.data instanceof Uint8Array ? png.data : new Uint8Array(png.data);
  }
  if (data.length !== width * height * channels) {
    throw new DatasetFormatError(file, `PNG decoded to ${data.length} bytes, expected ${width}×${height}×${channels}`);
  }
  return { data, height, width, channels };
}

function decodeJpegImage(bytes: Uint8Array, file: string): RawImage {
  try {
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 1024 });
    if (img.data.length !== img.width * img.height * 3) {
      throw new Error(`decoded ${img.data.length} bytes for ${img.width}×${img.height}`);
    }
    return { data: img.data, height: img.height, width: img.width, channels: 3 };
  } catch (e) {
    throw new DatasetFormatError(file, `undecodable JPEG (${(e as Error).message})`);
  }
}

/**
 * Decodes a PNG or JPEG and converts it to `channels` (1 = luma, 3 = RGB; alpha dropped).
 * @example Usage
 * ```ts ignore
 * import { decodeImage } from "@lib/datasets/image_decode.ts";
 * const img = decodeImage(Deno.readFileSync("a.png"), "a.png", 3);
 * ```
 */
export function decodeImage(bytes: Uint8Array, file: string, channels: 1 | 3): RawImage {
  const fmt = detectImageFormat(bytes);
  if (fmt === null) {
    const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join(" ");
    throw new DatasetFormatError(file, `not a PNG or JPEG image (first bytes: ${head || "none, empty file"})`);
  }
  const img = fmt === "png" ? decodePngImage(bytes, file) : decodeJpegImage(bytes, file);
  if (img.width === 0 || img.height === 0) throw new DatasetFormatError(file, `image has zero size`);
  return toChannels(img, channels);
}
