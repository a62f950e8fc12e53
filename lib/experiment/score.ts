/**
 * The one scoring pass: extract a network's outputs once per set (only what the detectors need), then fit and
 * run every detector spec on the ID test set and each OOD set (OpenOOD's postprocessor loop; C1).
 * @module
 */
import type { Dataset } from "../datasets/types.ts";
import { limitDataset } from "../datasets/subset.ts";
import { type DetectorSpec, resolveSpec } from "../scores/mod.ts";
import type { DetectorContext, NetOutputs, ScoredSet } from "../scores/detector.ts";
import { type ExtractableModel, extractOutputs } from "./outputs.ts";

/** Per-image scores: float32 from tensors, or float64 where a method computes its score in JS (ELOC's sums). */
export type ScoreArray = Float32Array | Float64Array;

/** One score's values on the ID test set and on each OOD set. */
export interface ScoreSets {
  id: ScoreArray;
  ood: Record<string, ScoreArray>;
  /** The held-out training images' scores (only with `scoreHeldOut`), e.g. to fix a threshold before testing. */
  heldOut?: ScoreArray;
}

/** The sets a pass scores (an `EvalSets` fits). */
export interface ScoringSets {
  train: Dataset;
  test: Dataset;
  ood: Readonly<Record<string, Dataset>>;
  heldOut?: Dataset;
}

/** Options of {@linkcode scoreAll}. */
export interface ScoreAllOptions {
  /** Images per forward pass. */
  batchSize: number;
  /** Seed handed to detectors (e.g. for augmented fitting passes). */
  seed: number;
  /** Training images whose outputs fit the detectors: a seeded subset of this size (`null` / absent = all). */
  fitLimit?: number | null;
  /** Seed of that subset; default 0. */
  fitSeed?: number;
  /** Also score the held-out training images (`sets.heldOut`, when it has any): `ScoreSets.heldOut`. */
  scoreHeldOut?: boolean;
  /** Called after each detector with its score key and seconds (e.g. to advance a progress bar). */
  onDetector?: (key: string, seconds: number) => void | Promise<void>;
}

/** What a scoring pass produced. */
export interface ScoreTable {
  /** Score key (a spec's `as`, else its detector id) → values, in spec order. */
  scores: Record<string, ScoreSets>;
  /** Score key → fitted state (null for detectors without `fit`). */
  states: Record<string, unknown>;
  /** Score key → seconds to fit and score every set. */
  seconds: Record<string, number>;
  /** The extracted outputs (training outputs only when some detector fits on them). */
  outputs: { train: NetOutputs | null; test: NetOutputs; ood: Record<string, NetOutputs>; heldOut?: NetOutputs };
  /** Seconds spent extracting outputs. */
  extractSeconds: number;
  /** The context the detectors were fitted in (to score further sets with `states`). */
  context: DetectorContext;
}

/**
 * Fits and runs `specs` on `model`: outputs of the fit images (when a detector fits on outputs), the ID test set,
 * every OOD set (and the held-out images with `scoreHeldOut`) are extracted once, with `featureList` only when a detector needs it; each detector's options
 * are its defaults overridden by the spec. Keeps no tensors; does not dispose the model.
 * @throws on an unknown detector id, an option the detector lacks, or a repeated score key.
 * @example Usage
 * ```ts ignore
 * const table = await scoreAll(net, sets, [{ use: "msp" }, { use: "knn", opts: { k: 100 } }], { batchSize: 500, seed: 0 });
 * table.scores.knn.ood.gaussian; // Float32Array
 * ```
 */
export async function scoreAll(
  model: ExtractableModel,
  sets: ScoringSets,
  specs: readonly DetectorSpec[],
  opts: ScoreAllOptions,
): Promise<ScoreTable> {
  const resolved = specs.map(resolveSpec);
  const keys = resolved.map((r) => r.key);
  const repeated = keys.find((k, i) => keys.indexOf(k) !== i);
  if (repeated) throw new Error(`scoreAll: score key "${repeated}" is used twice (give one spec an "as" name)`);
  const needs = new Set(resolved.flatMap((r) => r.detector.needs));
  const featureList = needs.has("featureList");
  const fitsOnOutputs = resolved.some((r) => r.detector.fit && r.detector.needs.some((n) => n !== "input"));
  const pass = { batchSize: opts.batchSize, featureList };

  const t0 = performance.now();
  const fitDs = limitDataset(sets.train, opts.fitLimit ?? undefined, opts.fitSeed ?? 0);
  const train = fitsOnOutputs ? await extractOutputs(model, fitDs, pass) : null;
  const test: ScoredSet = { ds: sets.test, outputs: await extractOutputs(model, sets.test, pass) };
  const ood: Record<string, ScoredSet> = {};
  for (const [name, ds] of Object.entries(sets.ood)) ood[name] = { ds, outputs: await extractOutputs(model, ds, pass) };
  const heldOut: ScoredSet | null = opts.scoreHeldOut && sets.heldOut && sets.heldOut.shape[0] > 0
    ? { ds: sets.heldOut, outputs: await extractOutputs(model, sets.heldOut, pass) }
    : null;
  const extractSeconds = (performance.now() - t0) / 1000;

  const ctx: DetectorContext = {
    model,
    train: { ds: fitDs, outputs: train },
    test,
    ...(sets.heldOut ? { heldOut: sets.heldOut } : {}),
    batchSize: opts.batchSize,
    seed: opts.seed,
  };
  const table: ScoreTable = {
    scores: {},
    states: {},
    seconds: {},
    outputs: {
      train,
      test: test.outputs,
      ood: Object.fromEntries(Object.entries(ood).map(([k, v]) => [k, v.outputs])),
      ...(heldOut ? { heldOut: heldOut.outputs } : {}),
    },
    extractSeconds,
    context: ctx,
  };
  for (const { key, detector, opts: o } of resolved) {
    const t = performance.now();
    const state = detector.fit ? await detector.fit(ctx, o) : null;
    const values: ScoreSets = { id: await detector.score(test, o, state, ctx), ood: {} };
    for (const [name, set] of Object.entries(ood)) values.ood[name] = await detector.score(set, o, state, ctx);
    if (heldOut) values.heldOut = await detector.score(heldOut, o, state, ctx);
    table.scores[key] = values;
    table.states[key] = state;
    table.seconds[key] = (performance.now() - t) / 1000;
    await opts.onDetector?.(key, table.seconds[key]!);
  }
  return table;
}
