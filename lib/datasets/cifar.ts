/**
 * CIFAR-10 and CIFAR-100 (Krizhevsky 2009) from the official **binary** versions (never the Python pickles).
 *
 * Record layout: CIFAR-10 `<1 label byte><3072 pixel bytes>`; CIFAR-100 `<coarse byte><fine byte><3072 pixels>`.
 * Pixels are planar: 1024 red, 1024 green, 1024 blue, each 32×32 row-major. Converted here to NHWC.
 *
 * On-disk layout (what `deno task data cifar10|cifar100` extracts):
 * - `data/cifar10/cifar-10-batches-bin/{data_batch_1..5.bin, test_batch.bin, batches.meta.txt}`
 * - `data/cifar100/cifar-100-binary/{train.bin, test.bin, fine_label_names.txt, coarse_label_names.txt}`
 * @module
 */
import { join } from "node:path";
import { DatasetFormatError, DatasetMissingError } from "./errors.ts";
import type { Dataset, Split } from "./types.ts";

/** CIFAR-10 class names, in label order (as in `batches.meta.txt`). */
export const CIFAR10_CLASSES: readonly string[] = [
  "airplane",
  "automobile",
  "bird",
  "cat",
  "deer",
  "dog",
  "frog",
  "horse",
  "ship",
  "truck",
];

/** How a CIFAR binary record is laid out. */
export interface CifarRecordFormat {
  /** Label bytes before the pixels: 1 (CIFAR-10) or 2 (CIFAR-100: coarse, fine). */
  labelBytes: 1 | 2;
  /** Which label byte to use (CIFAR-100: 0 = coarse, 1 = fine). */
  labelIndex: 0 | 1;
  /** Labels must be below this. */
  numClasses: number;
}

const PIXELS = 3072;

/**
 * Parses the concatenated records of one CIFAR binary file.
 * @throws DatasetFormatError if the size is not a positive multiple of the record size or a label is out of range.
 */
export function parseCifarBinary(
  bytes: Uint8Array,
  file: string,
  fmt: CifarRecordFormat,
): { images: Uint8Array; labels: Int32Array } {
  const rec = fmt.labelBytes + PIXELS;
  if (bytes.length === 0) throw new DatasetFormatError(file, "empty file (no CIFAR records)");
  if (bytes.length % rec !== 0) {
    throw new DatasetFormatError(
      file,
      `size ${bytes.length} is not a multiple of the ${rec}-byte record size ` +
        `(${Math.floor(bytes.length / rec)} whole records + ${bytes.length % rec} bytes; truncated or wrong format)`,
    );
  }
  const n = bytes.length / rec;
  const images = new Uint8Array(n * PIXELS);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const base = i * rec;
    const y = bytes[base + fmt.labelIndex]!;
    if (y >= fmt.numClasses) {
      throw new DatasetFormatError(file, `record ${i} has label ${y}, outside 0..${fmt.numClasses - 1}`);
    }
    labels[i] = y;
    const px = base + fmt.labelBytes;
    const out = i * PIXELS;
    for (let p = 0; p < 1024; p++) {
      images[out + 3 * p] = bytes[px + p]!;
      images[out + 3 * p + 1] = bytes[px + 1024 + p]!;
      images[out + 3 * p + 2] = bytes[px + 2048 + p]!;
    }
  }
  return { images, labels };
}

function readBinary(path: string, dataset: string, dir: string): Uint8Array {
  try {
    return Deno.readFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new DatasetMissingError(dataset, dir, `${path} does not exist`);
    throw new DatasetFormatError(path, `cannot read (${(e as Error).message})`);
  }
}

function concatParts(parts: { images: Uint8Array; labels: Int32Array }[]): { images: Uint8Array; labels: Int32Array } {
  const n = parts.reduce((s, p) => s + p.labels.length, 0);
  const images = new Uint8Array(n * PIXELS);
  const labels = new Int32Array(n);
  let o = 0;
  for (const p of parts) {
    images.set(p.images, o * PIXELS);
    labels.set(p.labels, o);
    o += p.labels.length;
  }
  return { images, labels };
}

function readNames(path: string, expected: number): string[] {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    throw new DatasetFormatError(path, `cannot read class names (${(e as Error).message})`);
  }
  const names = text.split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length !== expected) {
    throw new DatasetFormatError(path, `lists ${names.length} class names, expected ${expected}`);
  }
  return names;
}

/**
 * Loads CIFAR-10 from `<dir>/cifar-10-batches-bin/` (train = data_batch_1..5 in order, test = test_batch).
 * `dir` is the dataset folder, normally `<data root>/cifar10`.
 */
export function loadCifar10(split: Split, dir: string): Dataset {
  const base = join(dir, "cifar-10-batches-bin");
  const files = split === "train" ? [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`) : ["test_batch.bin"];
  const fmt: CifarRecordFormat = { labelBytes: 1, labelIndex: 0, numClasses: 10 };
  const parts = files.map((f) => {
    const path = join(base, f);
    return parseCifarBinary(readBinary(path, "cifar10", dir), path, fmt);
  });
  const { images, labels } = concatParts(parts);
  return { name: "cifar10", images, labels, shape: [labels.length, 32, 32, 3], classes: [...CIFAR10_CLASSES] };
}

/**
 * Loads CIFAR-100 from `<dir>/cifar-100-binary/` with the 100 fine labels (or the 20 coarse ones with
 * `labels: "coarse"`); class names come from `fine_label_names.txt` / `coarse_label_names.txt`.
 */
export function loadCifar100(split: Split, dir: string, opts: { labels?: "fine" | "coarse" } = {}): Dataset {
  const base = join(dir, "cifar-100-binary");
  const kind = opts.labels ?? "fine";
  const path = join(base, split === "train" ? "train.bin" : "test.bin");
  const numClasses = kind === "fine" ? 100 : 20;
  const { images, labels } = parseCifarBinary(readBinary(path, "cifar100", dir), path, {
    labelBytes: 2,
    labelIndex: kind === "fine" ? 1 : 0,
    numClasses,
  });
  const classes = readNames(join(base, `${kind}_label_names.txt`), numClasses);
  return { name: "cifar100", images, labels, shape: [labels.length, 32, 32, 3], classes };
}
