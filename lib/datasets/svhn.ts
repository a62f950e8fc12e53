/**
 * SVHN cropped digits (Netzer et al. 2011), format 2: `test_32x32.mat` (26 032 images), a MATLAB v5 file with
 * `X` (32×32×3×N uint8, column-major) and `y` (N×1, labels 1..10 where 10 means digit 0). Labels are mapped to
 * 0..9. On disk: `data/svhn/test_32x32.mat` (and optionally `train_32x32.mat`).
 * @module
 */
import { join } from "node:path";
import { DatasetFormatError, DatasetMissingError } from "./errors.ts";
import { readMat } from "./mat.ts";
import type { Dataset, Split } from "./types.ts";

/** SVHN class names after mapping label 10 → 0. */
export const SVHN_CLASSES: readonly string[] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

/** Converts the `X`/`y` variables of an SVHN .mat file into a `Dataset` (NHWC, labels 0..9). */
export function svhnFromMat(bytes: Uint8Array, file: string): Dataset {
  const vars = readMat(bytes, file, { variables: ["X", "y"] });
  const X = vars.get("X")!;
  const y = vars.get("y")!;
  if (X.dims.length !== 4 || X.dims[2] !== 3) {
    throw new DatasetFormatError(file, `variable X has dims ${X.dims.join("×")}, expected H×W×3×N`);
  }
  const [h, w, , n] = X.dims as [number, number, number, number];
  const ny = y.dims.reduce((a, b) => a * b, 1);
  if (ny !== n || y.dims.filter((d) => d !== 1).length > 1) {
    throw new DatasetFormatError(file, `variable y has dims ${y.dims.join("×")}, expected ${n}×1`);
  }
  const images = new Uint8Array(n * h * w * 3);
  const src = X.data;
  const plane = h * w;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      const sBase = (i * 3 + c) * plane;
      for (let col = 0; col < w; col++) {
        for (let row = 0; row < h; row++) {
          const v = src[sBase + col * h + row]!;
          if (!(v >= 0 && v <= 255)) throw new DatasetFormatError(file, `X value ${v} at image ${i} is outside 0..255`);
          images[((i * h + row) * w + col) * 3 + c] = v;
        }
      }
    }
  }
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = y.data[i]!;
    if (!Number.isInteger(v) || v < 1 || v > 10) {
      throw new DatasetFormatError(file, `label ${v} at index ${i} is outside 1..10`);
    }
    labels[i] = v === 10 ? 0 : v;
  }
  return { name: "svhn", images, labels, shape: [n, h, w, 3], classes: [...SVHN_CLASSES] };
}

/** Loads `<dir>/test_32x32.mat` (or `train_32x32.mat`); `dir` is normally `<data root>/svhn`. */
export function loadSvhn(split: Split, dir: string): Dataset {
  const path = join(dir, `${split}_32x32.mat`);
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      const hint = split === "train"
        ? " (the manifest fetches only the test file; place train_32x32.mat there by hand)"
        : "";
      throw new DatasetMissingError("svhn", dir, `${path} does not exist${hint}`);
    }
    throw new DatasetFormatError(path, `cannot read (${(e as Error).message})`);
  }
  return svhnFromMat(bytes, path);
}
