/**
 * The data of one CIDER setting: the ID training subset (also the KNN bank and the probe's training set), the
 * ID test subset and the OOD sets, loaded once and shared by every method and seed, plus the input
 * normalization.
 * @module
 */
import { type Dataset, type DatasetName, DATASETS, loadDataset } from "../../datasets/mod.ts";
import { resolveNormalization } from "../../datasets/normalization.ts";
import type { Normalization } from "../../datasets/types.ts";
import type { CiderConfig, CiderIdDataset } from "./config.ts";

/** The images of one setting. */
export interface CiderData {
  /** ID dataset name. */
  id: CiderIdDataset;
  /** Training images (seeded subset or all). */
  train: Dataset;
  /** ID test images (seeded subset). */
  test: Dataset;
  /** OOD set name → images, in config order (the ID dataset itself is skipped). */
  ood: Record<string, Dataset>;
  /** The normalization every network of the setting uses. */
  normalization: Normalization;
}

/**
 * Per-channel mean and standard deviation of a dataset's pixels, on the [0, 1] scale (population std).
 * @example Usage
 * ```ts
 * const ds = { name: "x", images: new Uint8Array([0, 255]), labels: new Int32Array(2), shape: [2, 1, 1, 1] as [number, number, number, number], classes: [] };
 * pixelStatistics(ds); // { mean: [0.5], std: [0.5] }
 * ```
 */
export function pixelStatistics(ds: Dataset): Normalization {
  const c = ds.shape[3];
  const sum = new Float64Array(c), sq = new Float64Array(c);
  for (let i = 0; i < ds.images.length; i++) {
    const v = ds.images[i]! / 255;
    sum[i % c]! += v;
    sq[i % c]! += v * v;
  }
  const n = ds.images.length / c;
  const mean = Array.from(sum, (s) => s / n);
  const std = Array.from(sq, (s, k) => Math.sqrt(Math.max(s / n - mean[k]! ** 2, 1e-12)));
  return { mean, std };
}

/**
 * Loads one setting's data: a seeded subset of `trainLimit` training images, `nTest` test images, and `nOod`
 * images of each OOD set (synthetic and transformed sets generated `like` the ID dataset).
 * @throws when an OOD set's image shape differs from the ID dataset's, or a downloadable set is missing
 *   (`DatasetMissingError` names `deno task data <name>`).
 */
export async function loadCiderData(
  id: CiderIdDataset,
  cfg: Pick<CiderConfig, "oodDatasets" | "trainLimit" | "nTest" | "nOod" | "dataSeed" | "normalization">,
): Promise<CiderData> {
  const seed = cfg.dataSeed;
  const train = await loadDataset(id, { split: "train", limit: cfg.trainLimit ?? undefined, seed });
  const test = await loadDataset(id, { split: "test", limit: cfg.nTest, seed });
  const ood: Record<string, Dataset> = {};
  for (const name of [...new Set<DatasetName>(cfg.oodDatasets)].filter((n) => n !== id)) {
    const synthetic = DATASETS[name].kind === "synthetic";
    const ds = await loadDataset(name, { split: "test", limit: cfg.nOod, seed, ...(synthetic ? { like: id } : {}) });
    if (ds.shape.slice(1).join() !== test.shape.slice(1).join()) {
      throw new Error(
        `OOD set ${name} has ${ds.shape.slice(1).join("×")} images, ${id} has ${test.shape.slice(1).join("×")}`,
      );
    }
    ood[name] = ds;
  }
  const normalization = cfg.normalization === "train-statistics"
    ? pixelStatistics(train)
    : resolveNormalization(cfg.normalization);
  return { id, train, test, ood, normalization };
}
