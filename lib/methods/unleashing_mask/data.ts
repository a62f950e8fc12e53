/**
 * The images of one Unleashing Mask setting, loaded once and shared by every seed: the ID training images, a
 * held-out part of the training split, the ID test images, every test OOD set and the auxiliary outliers of OE.
 * @module
 */
import {
  type Dataset,
  type DatasetName,
  DATASETS,
  loadDataset,
  selectIndices,
  subsetDataset,
} from "../../datasets/mod.ts";
import { deriveSeed } from "../../train/seed.ts";
import type { UnleashingMaskConfig } from "./config.ts";

/** The datasets of a run. */
export interface UmData {
  /** The ID dataset's registry name. */
  id: DatasetName;
  /** Training images (a seeded subset of the training split, disjoint from `heldOut`). */
  train: Dataset;
  /** Training-split images never trained on (the clean variant's Mahalanobis tuning set); may be empty. */
  heldOut: Dataset;
  /** ID test images. */
  test: Dataset;
  /** Test OOD set name → images, in config order. */
  ood: Record<string, Dataset>;
  /** Auxiliary outliers for OE (labels −1). */
  aux: Dataset;
}

/** A set's images, loaded like the ID test split when it is synthetic (`like`). */
async function loadSet(
  name: DatasetName,
  id: DatasetName,
  split: "train" | "test",
  limit: number | null,
  seed: number,
) {
  const like = DATASETS[name].kind === "synthetic" ? { like: id } : {};
  return await loadDataset(name, { split, limit: limit ?? undefined, seed, ...like });
}

/**
 * Loads every set of a config. Training and held-out images are the first `trainLimit` and the next `heldOut`
 * images of one seeded permutation of the training split (so they never overlap).
 * @throws when a set's image shape differs from the ID dataset's (the classifier could not take it).
 */
export async function loadUmData(
  cfg: Pick<UnleashingMaskConfig, "idDataset" | "oodDatasets" | "aux" | "data">,
): Promise<UmData> {
  const { trainLimit, heldOut, testLimit, oodLimit, dataSeed } = cfg.data;
  const full = await loadDataset(cfg.idDataset, { split: "train" });
  const nTrain = trainLimit === null ? full.shape[0] - heldOut : Math.min(trainLimit, full.shape[0] - heldOut);
  if (nTrain < 1) throw new Error(`loadUmData: heldOut = ${heldOut} leaves no training images`);
  const order = selectIndices(full.shape[0], nTrain + heldOut, deriveSeed(dataSeed, "train-split"));
  const train = subsetDataset(full, order.slice(0, nTrain), `${full.name}[train ${nTrain}]`);
  const held = subsetDataset(full, order.slice(nTrain), `${full.name}[held-out ${heldOut}]`);
  const test = await loadDataset(cfg.idDataset, {
    split: "test",
    limit: testLimit ?? undefined,
    seed: testLimit === null ? undefined : dataSeed,
  });
  const ood: Record<string, Dataset> = {};
  for (const name of cfg.oodDatasets) ood[name] = await loadSet(name, cfg.idDataset, "test", oodLimit, dataSeed);
  const aux = await loadSet(cfg.aux.name, cfg.idDataset, cfg.aux.split, cfg.aux.limit ?? nTrain, dataSeed + 1);
  const shape = test.shape.slice(1).join("×");
  for (const ds of [...Object.values(ood), aux]) {
    if (ds.shape.slice(1).join("×") !== shape) {
      throw new Error(`loadUmData: ${ds.name} has ${ds.shape.slice(1).join("×")} images, the ID set ${shape}`);
    }
  }
  return { id: cfg.idDataset, train, heldOut: held, test, ood, aux };
}

/** One line per set: name, images, role — for the notebook's data table. */
export function dataSummary(data: UmData): { set: string; role: string; images: number }[] {
  return [
    { set: data.train.name, role: "ID train", images: data.train.shape[0] },
    { set: data.heldOut.name, role: "ID held-out (clean Mahalanobis tuning)", images: data.heldOut.shape[0] },
    { set: data.test.name, role: "ID test", images: data.test.shape[0] },
    ...Object.values(data.ood).map((d) => ({ set: d.name, role: "OOD test", images: d.shape[0] })),
    { set: data.aux.name, role: "auxiliary outliers (OE)", images: data.aux.shape[0] },
  ];
}
