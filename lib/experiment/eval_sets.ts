/**
 * The one loader of a setting's evaluation sets: ID training images (optionally with a disjoint held-out part),
 * ID test images, and the OOD sets — external datasets (far-OOD) and/or the held-out classes of a class split
 * (near-OOD, `lib/datasets/splits.ts`) — plus any extra sets a method trains with (e.g. OE's auxiliary outliers).
 * Loaded once per setting and shared by every method, variant and seed, so seed-to-seed variation is the
 * training's, not the evaluation sample's. Every image shape is checked here.
 * @module
 */
import { type DatasetName, DATASETS, loadDataset } from "../datasets/registry.ts";
import { DatasetMissingError } from "../datasets/errors.ts";
import type { Dataset, Split } from "../datasets/types.ts";
import { limitDataset, selectIndices, subsetDataset } from "../datasets/subset.ts";
import { applyClassSplit, type ClassSplitName } from "../datasets/splits.ts";
import { transformedDataset, type TransformKind } from "../datasets/synthetic.ts";
import { deriveSeed } from "../train/seed.ts";
import type { FitMode } from "../data/resize.ts";
import type { OodGroup } from "../report/results.ts";

const TRANSFORMS: readonly string[] = ["inverted", "rotated", "pixel_permuted", "noisy"] satisfies TransformKind[];

/** An extra set a method needs (not an evaluation set), loaded like the ID dataset when synthetic. */
export interface ExtraSetSpec {
  name: DatasetName;
  split: Split;
  /** Images kept (a seeded subset); `null` = all. */
  limit: number | null;
  /** Seed of the subset; default `dataSeed`. */
  seed?: number;
}

/** What {@linkcode loadEvalSets} loads. */
export interface EvalSetsSpec {
  /** The ID dataset (registry name). */
  id: DatasetName;
  /** Seed of every subset and of the synthetic sets. */
  dataSeed: number;
  /** ID training images kept (a seeded subset); `null` = all. */
  trainLimit: number | null;
  /**
   * Training-split images held out of training (for detectors tuned on ID data). With `heldOut > 0`, training
   * and held-out images are the first `trainLimit` and the next `heldOut` images of one seeded permutation of
   * the training split (seed `deriveSeed(dataSeed, "train-split")`), so they never overlap. Default 0.
   */
  heldOut?: number;
  /** ID test images kept (a seeded subset); `null` = all. */
  testLimit: number | null;
  /** External OOD sets (far-OOD), by registry name; the ID dataset itself is skipped. Default none. */
  oodDatasets?: readonly DatasetName[];
  /** Images per external OOD set (a seeded subset); `null` = all. */
  oodLimit?: number | null;
  /**
   * How image-folder OOD sets are brought to the ID size (`loadDataset`'s `fit`): e.g. `resize` for Unleashing
   * Mask's `Resize((32, 32))`; default each set's own (`resize_center_crop`, CIDER's protocol).
   */
  oodFit?: FitMode;
  /**
   * A class split: train and test keep the seen classes (re-labelled), the unseen test images become the
   * near-OOD set `<id>:unseen`.
   */
  classSplit?: { protocol: ClassSplitName; fold: number };
  /** Extra sets by role name (e.g. `{ aux: { name: "pixel_permuted", split: "train", limit: null } }`). */
  extra?: Readonly<Record<string, ExtraSetSpec>>;
}

/** A setting's sets. */
export interface EvalSets {
  /** The ID dataset's registry name. */
  id: DatasetName;
  /** Training images. */
  train: Dataset;
  /** Held-out training-split images (empty unless `heldOut > 0`). */
  heldOut: Dataset;
  /** ID test images. */
  test: Dataset;
  /** OOD set name → images (external sets in the given order, then the class split's unseen classes). */
  ood: Record<string, Dataset>;
  /** OOD set name → near / far. */
  oodGroups: Record<string, OodGroup>;
  /** Extra sets by role name. */
  extra: Record<string, Dataset>;
}

/**
 * The external OOD sets used against `id`: `oodDatasets` without `id` itself, in the given order, duplicates
 * dropped.
 * @example Usage
 * ```ts
 * import { oodSetsFor } from "@lib/experiment/eval_sets.ts";
 * oodSetsFor("mnist", ["mnist", "fashion_mnist", "gaussian"]); // ["fashion_mnist", "gaussian"]
 * ```
 */
export function oodSetsFor(id: string, oodDatasets: readonly DatasetName[]): DatasetName[] {
  return [...new Set(oodDatasets)].filter((name) => name !== id);
}

/**
 * Splits `names` into the sets that can be loaded now and the downloadable ones that are not installed (for OOD
 * sets a notebook runs when present, e.g. VMDLS's Omniglot), with the dataset layer's message for each missing one
 * (it names the `deno task data <name>` command). Embedded and synthetic sets are always available.
 * @example Usage
 * ```ts ignore
 * const { available, missing } = await availableDatasets(["omniglot", "uniform"]);
 * ```
 */
export async function availableDatasets(
  names: readonly DatasetName[],
): Promise<{ available: DatasetName[]; missing: DatasetName[]; messages: string[] }> {
  const available: DatasetName[] = [], missing: DatasetName[] = [], messages: string[] = [];
  for (const name of names) {
    if (DATASETS[name].kind !== "download") {
      available.push(name);
      continue;
    }
    try {
      await loadDataset(name, { split: "test", limit: 1 });
      available.push(name);
    } catch (e) {
      if (!(e instanceof DatasetMissingError)) throw e;
      missing.push(name);
      messages.push(e.message);
    }
  }
  return { available, missing, messages };
}

/** One external or extra set: real sets are seeded subsets, synthetic ones are generated like the ID split. */
function loadLike(name: DatasetName, id: DatasetName, split: Split, limit: number | null, seed: number, fit?: FitMode) {
  const like = DATASETS[name].kind === "synthetic" ? { like: id } : {};
  return loadDataset(name, { split, limit: limit ?? undefined, seed, ...like, ...(fit ? { fit } : {}) });
}

/** Training (and held-out) images of a spec. */
async function loadTrain(spec: EvalSetsSpec): Promise<{ train: Dataset; heldOut: Dataset }> {
  const heldOut = spec.heldOut ?? 0;
  if (heldOut === 0) {
    const train = await loadDataset(spec.id, {
      split: "train",
      limit: spec.trainLimit ?? undefined,
      seed: spec.dataSeed,
    });
    return { train, heldOut: subsetDataset(train, [], `${train.name}[held-out 0]`) };
  }
  const full = await loadDataset(spec.id, { split: "train" });
  const room = full.shape[0] - heldOut;
  const nTrain = spec.trainLimit === null ? room : Math.min(spec.trainLimit, room);
  if (nTrain < 1) throw new Error(`loadEvalSets: heldOut = ${heldOut} leaves no training images of ${spec.id}`);
  const order = selectIndices(full.shape[0], nTrain + heldOut, deriveSeed(spec.dataSeed, "train-split"));
  return {
    train: subsetDataset(full, order.slice(0, nTrain), `${full.name}[train ${nTrain}]`),
    heldOut: subsetDataset(full, order.slice(nTrain), `${full.name}[held-out ${heldOut}]`),
  };
}

/**
 * Loads a setting's sets. The ID test split is read once; transformed OOD sets (`inverted`, `rotated`,
 * `pixel_permuted`, `noisy`) are built from a seeded subset of it (the same images `loadDataset(kind, { like: id, limit,
 * seed })` gives, without re-reading the split).
 * @throws when a set's image shape differs from the ID dataset's (the network could not take it), naming both;
 *   `DatasetMissingError` (naming `deno task data <name>`) for a downloadable set that is not installed.
 * @example Usage
 * ```ts ignore
 * const sets = await loadEvalSets({ id: "mnist", dataSeed: 0, trainLimit: 1024, testLimit: 200,
 *   oodDatasets: ["fashion_mnist", "gaussian"], oodLimit: 100 });
 * ```
 */
export async function loadEvalSets(spec: EvalSetsSpec): Promise<EvalSets> {
  const seed = spec.dataSeed;
  let { train, heldOut } = await loadTrain(spec);
  const fullTest = await loadDataset(spec.id, { split: "test" });
  let test = spec.testLimit === null ? fullTest : limitDataset(fullTest, spec.testLimit, seed);
  const ood: Record<string, Dataset> = {};
  const oodGroups: Record<string, OodGroup> = {};
  const oodLimit = spec.oodLimit ?? null;
  for (const name of oodSetsFor(spec.id, spec.oodDatasets ?? [])) {
    ood[name] = TRANSFORMS.includes(name)
      ? transformedDataset(name as TransformKind, limitDataset(fullTest, oodLimit ?? undefined, seed), {
        seed,
        name: `${name}[like ${spec.id}]`,
      })
      : await loadLike(name, spec.id, "test", oodLimit, seed, spec.oodFit);
    oodGroups[name] = "far";
  }
  if (spec.classSplit) {
    const { protocol, fold } = spec.classSplit;
    train = applyClassSplit(train, protocol, fold).seen;
    if (heldOut.shape[0] > 0) heldOut = applyClassSplit(heldOut, protocol, fold).seen;
    const split = applyClassSplit(test, protocol, fold);
    test = split.seen;
    ood[`${spec.id}:unseen`] = split.unseen;
    oodGroups[`${spec.id}:unseen`] = "near";
  }
  const extra: Record<string, Dataset> = {};
  for (const [role, e] of Object.entries(spec.extra ?? {})) {
    extra[role] = await loadLike(e.name, spec.id, e.split, e.limit, e.seed ?? seed);
  }
  const shape = test.shape.slice(1).join("×");
  for (const ds of [...Object.values(ood), ...Object.values(extra)]) {
    if (ds.shape.slice(1).join("×") !== shape) {
      throw new Error(`loadEvalSets: ${ds.name} has ${ds.shape.slice(1).join("×")} images, ${spec.id} has ${shape}`);
    }
  }
  return { id: spec.id, train, heldOut, test, ood, oodGroups, extra };
}

/** One line per set of a setting (role, name, images, shape), for a notebook's "data used" table. */
export function evalSetsSummary(
  sets: readonly EvalSets[],
): { setting: string; role: string; dataset: string; images: number; shape: string }[] {
  const line = (setting: string, role: string, ds: Dataset) => ({
    setting,
    role,
    dataset: ds.name,
    images: ds.shape[0],
    shape: ds.shape.slice(1).join("×"),
  });
  return sets.flatMap((s) => [
    line(s.id, "ID train", s.train),
    ...(s.heldOut.shape[0] > 0 ? [line(s.id, "ID held-out (training split)", s.heldOut)] : []),
    line(s.id, "ID test", s.test),
    ...Object.entries(s.ood).map(([name, ds]) => line(s.id, `OOD (${s.oodGroups[name]})`, ds)),
    ...Object.entries(s.extra).map(([role, ds]) => line(s.id, role, ds)),
  ]);
}
