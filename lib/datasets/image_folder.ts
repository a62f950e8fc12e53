/**
 * Datasets stored as folders of PNG/JPEG files (the ODIN sets, iSUN, Textures, Places365, Omniglot): every
 * image under a folder (recursively, sorted by relative path; hidden files skipped) is decoded, converted to
 * 1 or 3 channels, optionally inverted, and brought to `size × size`. All labels are -1 (OOD).
 *
 * A full load (no `limit`) is cached as raw uint8 in `<dir>/.ood-cache/<key>.bin`, keyed by the preprocessing
 * and the file list (names and sizes), because decoding thousands of JPEGs in plain JS takes a while.
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { invert, type RawImage } from "../data/image.ts";
import { fitImage, type FitMode, type ResizeFilter } from "../data/resize.ts";
import type { Seed } from "../data/rng.ts";
import { DatasetFormatError, DatasetMissingError } from "./errors.ts";
import { decodeImage } from "./image_decode.ts";
import { selectIndices } from "./subset.ts";
import type { Dataset } from "./types.ts";

/** How the images of a folder are turned into equal-size arrays. */
export interface ImageFolderSpec {
  /** Output height = width. */
  size: number;
  /** Output channels. */
  channels: 1 | 3;
  /** How images of other sizes are brought to `size × size`. */
  fit: FitMode;
  /** Resampling filter; default bilinear (antialiased, as PIL). */
  filter?: ResizeFilter;
  /** 255 − x after decoding (Omniglot: black strokes on white → white on black, as VMDLS). */
  invert?: boolean;
}

/** Options of {@linkcode loadImageFolder}. */
export interface ImageFolderLoadOptions {
  /** Dataset name put in the result. */
  name: string;
  /** Keep at most this many images (see `selectIndices`). */
  limit?: number;
  /** Seed of the random subset (with `limit`). */
  seed?: Seed;
  /** Use only the first `firstN` files of the sorted list (before `limit`/`seed`), e.g. VMDLS's Omniglot 10 000. */
  firstN?: number;
  /** Read/write the decoded cache; default true. */
  cache?: boolean;
}

const IMAGE_EXT = /\.(png|jpe?g)$/i;
const CACHE_DIR = ".ood-cache";
const CACHE_MAGIC = "OODIMG1\n";

/** Relative paths of the PNG/JPEG files under `dir`, recursively, sorted; names starting with "." are skipped. */
export function listImageFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of Deno.readDirSync(rel ? join(dir, rel) : dir)) {
      if (e.name.startsWith(".")) continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) walk(r);
      else if (e.isFile && IMAGE_EXT.test(e.name)) out.push(r);
    }
  };
  walk("");
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function cacheKey(dir: string, files: string[], spec: ImageFolderSpec): string {
  const h = createHash("sha256");
  h.update(JSON.stringify({ v: 1, spec: { ...spec, filter: spec.filter ?? "bilinear", invert: !!spec.invert } }));
  for (const f of files) h.update(`${f}\0${Deno.statSync(join(dir, f)).size}\n`);
  return h.digest("hex").slice(0, 24);
}

function readCache(path: string, n: number, size: number, channels: number): Uint8Array | null {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(path);
  } catch {
    return null;
  }
  const magic = new TextEncoder().encode(CACHE_MAGIC);
  const expected = magic.length + n * size * size * channels;
  if (bytes.length !== expected || !magic.every((b, i) => bytes[i] === b)) return null;
  return bytes.subarray(magic.length);
}

function writeCache(path: string, dirOfCache: string, images: Uint8Array): void {
  try {
    Deno.mkdirSync(dirOfCache, { recursive: true });
    const tmp = `${path}.${crypto.randomUUID()}.tmp`;
    const magic = new TextEncoder().encode(CACHE_MAGIC);
    const f = Deno.openSync(tmp, { write: true, createNew: true });
    try {
      f.writeSync(magic);
      let o = 0;
      while (o < images.length) o += f.writeSync(images.subarray(o));
    } finally {
      f.close();
    }
    Deno.renameSync(tmp, path);
  } catch {
    // a read-only data folder only loses the cache
  }
}

function prepare(img: RawImage, spec: ImageFolderSpec): RawImage {
  const fitted = fitImage(img, spec.size, spec.fit, { filter: spec.filter ?? "bilinear" });
  return spec.invert ? invert(fitted) : fitted;
}

/**
 * Loads every PNG/JPEG under `dir` as an unlabeled (`-1`) dataset of `size × size × channels` images.
 * @throws DatasetMissingError if `dir` does not exist; DatasetFormatError if it holds no images or an image
 *   cannot be decoded (the message names the file).
 */
export function loadImageFolder(dir: string, spec: ImageFolderSpec, opts: ImageFolderLoadOptions): Dataset {
  let files: string[];
  try {
    files = listImageFiles(dir);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new DatasetMissingError(opts.name, dir, "the image folder does not exist");
    }
    throw new DatasetFormatError(dir, `cannot list the image folder (${(e as Error).message})`);
  }
  if (files.length === 0) throw new DatasetFormatError(dir, "the image folder contains no PNG or JPEG files");
  if (opts.firstN !== undefined) files = files.slice(0, opts.firstN);
  const { size, channels } = spec;
  const per = size * size * channels;
  const useCache = opts.cache ?? true;
  const pick = selectIndices(files.length, opts.limit, opts.seed);
  const full = opts.limit === undefined;
  const cacheDir = join(dir, CACHE_DIR);
  const cachePath = useCache ? join(cacheDir, `${cacheKey(dir, files, spec)}.bin`) : "";
  const cached = useCache ? readCache(cachePath, files.length, size, channels) : null;
  const images = new Uint8Array(pick.length * per);
  for (let i = 0; i < pick.length; i++) {
    const j = pick[i]!;
    if (cached) {
      images.set(cached.subarray(j * per, (j + 1) * per), i * per);
      continue;
    }
    const path = join(dir, files[j]!);
    const img = prepare(decodeImage(Deno.readFileSync(path), path, channels), spec);
    images.set(img.data, i * per);
  }
  if (useCache && full && !cached) writeCache(cachePath, cacheDir, images);
  return {
    name: opts.name,
    images,
    labels: new Int32Array(pick.length).fill(-1),
    shape: [pick.length, size, size, channels],
    classes: [],
  };
}
