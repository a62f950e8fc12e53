/**
 * The datasets of one baseline setting: the ID training and test images and every OOD set, loaded once and
 * shared by all seeds (so seed-to-seed variation is the training's, not the evaluation sample's).
 * @module
 */
import { type Dataset, type DatasetName, DATASETS, limitDataset, loadDataset } from "../../datasets/mod.ts";
import { transformedDataset, type TransformKind } from "../../datasets/synthetic.ts";
import type { BaselineIdDataset } from "./config.ts";

/** The images of one ID dataset's setting. */
export interface BaselineData {
  /** The ID dataset's registry name. */
  id: BaselineIdDataset;
  /** Training images (all, or a seeded subset). */
  train: Dataset;
  /** ID test images (a seeded subset of the test split). */
  test: Dataset;
  /** OOD set name (registry name) → its images, in `oodSetsFor` order. */
  ood: Record<string, Dataset>;
}

const TRANSFORMS: readonly TransformKind[] = ["inverted", "rotated", "pixel_permuted"];

/** Options of {@linkcode loadBaselineData}. */
export interface BaselineDataOptions {
  /** OOD sets by registry name (the ID dataset itself is skipped). */
  oodDatasets: readonly DatasetName[];
  /** Training images kept (seeded subset); null = all. */
  trainLimit: number | null;
  /** ID test images. */
  nTest: number;
  /** Images per OOD set. */
  nOod: number;
  /** Seed of every subset and of the synthetic sets. */
  dataSeed: number;
}

/**
 * The OOD sets used against `id`: `oodDatasets` without `id` itself, in the given order, duplicates dropped.
 * @example Usage
 * ```ts
 * import { oodSetsFor } from "@lib/methods/baselines/data.ts";
 * oodSetsFor("mnist", ["mnist", "fashion_mnist", "gaussian"]); // ["fashion_mnist", "gaussian"]
 * ```
 */
export function oodSetsFor(id: string, oodDatasets: readonly DatasetName[]): DatasetName[] {
  return [...new Set(oodDatasets)].filter((name) => name !== id);
}

/**
 * Loads the ID train/test images and each OOD set's test images for one ID dataset. Real OOD sets are seeded
 * random subsets of their test split; synthetic and transformed sets (`gaussian`, `inverted`, …) are generated
 * like the ID dataset's test split (`like: id`), i.e. with its image shape; transformed sets transform a seeded
 * subset of the ID test images.
 *
 * The ID test split is read once: the transformed sets are built from it here with `transformedDataset`, which
 * gives exactly what `loadDataset(kind, { like: id, limit, seed })` gives (tested) without re-reading the split
 * (Fashion-MNIST takes seconds to parse).
 * @throws when a set has a different image shape from the ID dataset (the classifier could not take it).
 */
export async function loadBaselineData(id: BaselineIdDataset, opts: BaselineDataOptions): Promise<BaselineData> {
  const seed = opts.dataSeed;
  const train = await loadDataset(id, { split: "train", limit: opts.trainLimit ?? undefined, seed });
  const fullTest = await loadDataset(id, { split: "test" });
  const test = limitDataset(fullTest, opts.nTest, seed);
  const ood: Record<string, Dataset> = {};
  for (const name of oodSetsFor(id, opts.oodDatasets)) {
    const synthetic = DATASETS[name].kind === "synthetic";
    const ds = TRANSFORMS.includes(name as TransformKind)
      ? transformedDataset(name as TransformKind, limitDataset(fullTest, opts.nOod, seed), {
        seed,
        name: `${name}[like ${id}]`,
      })
      : await loadDataset(name, { split: "test", limit: opts.nOod, seed, ...(synthetic ? { like: id } : {}) });
    if (ds.shape.slice(1).join() !== test.shape.slice(1).join()) {
      throw new Error(
        `OOD set ${name} has images of shape ${ds.shape.slice(1).join("×")}, ${id} has ${
          test.shape.slice(1).join("×")
        }`,
      );
    }
    ood[name] = ds;
  }
  return { id, train, test, ood };
}

/** One line per dataset of a setting (role, name, images, shape), for a notebook's "data used" table. */
export function dataSummary(
  data: readonly BaselineData[],
): { role: string; dataset: string; images: number; shape: string }[] {
  return data.flatMap((d) => [
    {
      role: `${d.id}: ID train`,
      dataset: d.train.name,
      images: d.train.shape[0],
      shape: d.train.shape.slice(1).join("×"),
    },
    { role: `${d.id}: ID test`, dataset: d.test.name, images: d.test.shape[0], shape: d.test.shape.slice(1).join("×") },
    ...Object.values(d.ood).map((ds) => ({
      role: `${d.id}: OOD`,
      dataset: ds.name,
      images: ds.shape[0],
      shape: ds.shape.slice(1).join("×"),
    })),
  ]);
}
