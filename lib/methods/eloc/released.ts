/**
 * ELOC with the re-implementation's released weights (`OOD_WEIGHTS=released`, issue 17): no training; the five
 * leave-out classifiers of each chosen archive (`lib/checkpoints/released/eloc.ts`) are read with the safe
 * checkpoint reader, mapped onto our backbones, and scored with **our** ELOC score (`score.ts`: CE perturbation,
 * T = 1000, the README's ε) and our metrics, as the reference's test protocol does (`cal.py`, `calMetric.py`): the
 * CIFAR test set and each OOD set in loader order, minus the positions of the 1 000 validation images (the first of
 * NumPy's seed-3 permutation, which model selection saw), from both.
 *
 * The result has the shape of a training run's ({@linkcode ElocExperiment}: one run per archive, variant
 * `faithful`, selection `best-test`), so the notebook's tables read it unchanged; `released` says what was
 * evaluated and, for anything absent (an archive, CIFAR, an OOD set), what to download. Nothing that cannot run is
 * run: a missing archive or ID set skips its family, a missing OOD set is left out.
 * @module
 */
import { type Backbone, createBackbone } from "../../backbones/mod.ts";
import { findStateDict, loadStateDict, type StateDictMap } from "../../checkpoints/load_state_dict.ts";
import {
  elocDenseNetMap,
  elocReleasedEntry,
  type ElocReleasedFamily,
  elocReleasedFamily,
  type ElocReleasedId,
  elocWideResNetMap,
} from "../../checkpoints/released/eloc.ts";
import { missingReleasedMessage, releasedFilePath, releasedPresent } from "../../checkpoints/released/paths.ts";
import { NORMALIZATION } from "../../datasets/normalization.ts";
import { type DatasetName, DATASETS, loadDataset } from "../../datasets/registry.ts";
import { elocHoldout, elocSplit } from "../../datasets/splits.ts";
import { subsetDataset } from "../../datasets/subset.ts";
import type { Dataset } from "../../datasets/types.ts";
import type { Deviation } from "../../experiment/claims.ts";
import { availableDatasets, type EvalSets } from "../../experiment/eval_sets.ts";
import type { ScoreSets } from "../../experiment/score.ts";
import { toRows } from "../../experiment/rows.ts";
import { readTorchCheckpoint } from "../../io/torch/mod.ts";
import { odinMetrics } from "../../metrics/odin.ts";
import { type ResultRow, Timings } from "../../report/results.ts";
import type { ElocConfig, ElocSetting } from "./config.ts";
import {
  ELOC_FOLDS,
  ELOC_PAPER,
  type ElocExperiment,
  type ElocRun,
  type ElocSuiteRow,
  ensembleAccuracy,
} from "./run.ts";
import { type ElocMember, elocScores } from "./score.ts";

/** ε of the released ensembles per OOD set: the README's table ("not optimal"); other sets take `epsilon`. */
export const ELOC_RELEASED_EPSILON: Readonly<
  Record<ElocReleasedId, { epsilon: number; epsilonByOod?: Readonly<Record<string, number>> }>
> = {
  eloc_cifar10_dense: { epsilon: 0.002 },
  eloc_cifar100_dense: { epsilon: 0.002, epsilonByOod: { lsun_crop: 0.003, lsun_resize: 0.003 } },
  eloc_cifar10_wide: { epsilon: 0.003, epsilonByOod: { lsun_crop: 0.001, lsun_resize: 0.002 } },
  eloc_cifar100_wide: { epsilon: 0.002 },
};

/** The architecture of the loaded networks, when not the released one (the tests' narrow fixtures). */
export interface ElocReleasedArch {
  /** DenseNet depth (released 100) or WRN depth (released 28). */
  depth?: number;
  /** DenseNet growth rate (released 12). */
  growthRate?: number;
  /** WRN widening factor (released 10). */
  widenFactor?: number;
}

/** The released-weights options of the ELOC config (`ElocConfig.released`). */
export interface ElocReleasedConfig {
  /** The archives to evaluate (`ELOC_RELEASED` ids), each an ensemble of five fold checkpoints. */
  files: readonly ElocReleasedId[];
  /** OOD sets (registry names); the paper's: TinyImageNet crop/resize, LSUN crop/resize, Uniform, Gaussian. */
  oodDatasets: readonly DatasetName[];
  /** ID test images scored, after the validation positions are dropped, in loader order; null = all (9 000). */
  nTest: number | null;
  /** Images per OOD set, likewise; null = all. */
  nOod: number | null;
  /** Validation positions dropped from the ID and OOD sets (the reference: 1 000, which selection saw). */
  nValidation: number;
  /** Images per forward + backward pass. */
  batchSize: number;
  /** The released-weights folder (default `OOD_RELEASED_DIR`, else `checkpoints/released`). */
  root?: string | null;
  /** Architecture of the files when not the released one (tests). */
  arch?: ElocReleasedArch;
}

/** What the released run did per archive. */
export interface ElocReleasedStatus {
  id: ElocReleasedId;
  /** `evaluated`, or why not (`missing`: the archive or the ID data is absent). */
  status: "evaluated" | "missing";
  /** OOD sets scored. */
  oodEvaluated: string[];
  /** What to download for this archive (weights, data), empty when nothing is missing. */
  messages: string[];
  /** Its run in the experiment's `runs` (and `sets`), when evaluated. */
  runIndex?: number;
}

/** The released run's account: per archive, and every download message joined (empty when nothing is missing). */
export interface ElocReleasedReport {
  files: ElocReleasedStatus[];
  /** The messages of every archive, one per line; "" when nothing is missing. */
  message: string;
}

/** The number of classes of a CIFAR ID set. */
function classesOf(family: ElocReleasedFamily): number {
  return family.idDataset === "cifar10" ? 10 : 100;
}

/** The registry backbone and name map of a family's fold checkpoint (released size, or `arch`). */
function networkOf(family: ElocReleasedFamily, arch: ElocReleasedArch = {}): {
  build: () => Backbone;
  map: StateDictMap;
} {
  const numClasses = (classesOf(family) * 4) / 5; // train.py: int(num_classes*4/5) outputs
  if (family.tag === "dense") {
    const depth = arch.depth ?? 100, growthRate = arch.growthRate ?? 12;
    return {
      build: () => createBackbone("densenet_bc_100", { numClasses, depth, growthRate }),
      map: elocDenseNetMap({ depth }, `ELOC DenseNet-BC ${family.idDataset} fold checkpoint`),
    };
  }
  const depth = arch.depth ?? 28, widenFactor = arch.widenFactor ?? 10;
  return {
    // Dropout 0.3 as trained (train.py:59); inactive at inference.
    build: () => createBackbone("wrn_28_10", { numClasses, depth, widenFactor, dropRate: 0.3 }),
    map: elocWideResNetMap({ depth, widenFactor }, `ELOC WRN ${family.idDataset} fold checkpoint`),
  };
}

/**
 * Reads one fold checkpoint of a released family (`model_best.pth.tar`: `{epoch, state_dict, best_prec1, opt}`)
 * and returns our backbone with its weights; the model is disposed if the file does not fit.
 * @param path The checkpoint file.
 * @param id The released archive it comes from (fixes the network and the number of outputs).
 * @param arch The architecture when not the released one (the tests' narrow fixtures).
 * @throws TorchCheckpointError naming the file: unreadable, a refused global, or keys that do not fit (listed).
 */
export async function loadElocFold(path: string, id: ElocReleasedId, arch?: ElocReleasedArch): Promise<Backbone> {
  const { build, map } = networkOf(elocReleasedFamily(id), arch);
  const stateDict = findStateDict(await readTorchCheckpoint(path), path);
  const net = build();
  try {
    loadStateDict([net.model], stateDict, map, path);
    return net;
  } catch (e) {
    net.model.dispose();
    throw e;
  }
}

/** The first `limit` positions below `n` that are not dropped, in loader order. */
function keptPositions(n: number, dropped: ReadonlySet<number>, limit: number | null): Int32Array {
  const out: number[] = [];
  for (let i = 0; i < n && (limit === null || out.length < limit); i++) if (!dropped.has(i)) out.push(i);
  return Int32Array.from(out);
}

/** Scores one family on its sets; every network is freed afterwards. */
async function evaluateFamily(
  cfg: ElocConfig,
  rc: ElocReleasedConfig,
  id: ElocReleasedId,
  oodNames: readonly DatasetName[],
  settingIndex: number,
): Promise<{ run: ElocRun; sets: EvalSets }> {
  const family = elocReleasedFamily(id);
  const entry = elocReleasedEntry(id);
  const numClasses = classesOf(family);
  const eps = ELOC_RELEASED_EPSILON[id];
  const setting: ElocSetting = { idDataset: family.idDataset, backbone: family.backbone, width: 1, ...eps };
  const t0 = performance.now();

  // cal.py scores every test image; calMetric.py then drops the validation positions from ID and OOD alike.
  const fullTest = await loadDataset(family.idDataset, { split: "test" });
  const n = fullTest.shape[0];
  const holdout = elocHoldout(n);
  const dropped = new Set([...holdout.val, ...holdout.test].slice(0, rc.nValidation));
  const test = subsetDataset(fullTest, keptPositions(n, dropped, rc.nTest), `${fullTest.name}[−validation]`);
  const want = (limit: number | null) => (limit === null ? undefined : limit + rc.nValidation);
  const ood: Record<string, Dataset> = {};
  for (const name of oodNames) {
    const like = DATASETS[name].kind === "synthetic" ? { like: family.idDataset, seed: cfg.dataSeed } : {};
    const count = DATASETS[name].kind === "synthetic" ? (want(rc.nOod) ?? n) : want(rc.nOod);
    const ds = await loadDataset(name, { split: "test", ...(count === undefined ? {} : { limit: count }), ...like });
    ood[name] = subsetDataset(ds, keptPositions(ds.shape[0], dropped, rc.nOod), ds.name);
  }

  const members: ElocMember[] = [];
  try {
    for (const [k, member] of (entry.members ?? []).entries()) {
      const net = await loadElocFold(releasedFilePath(entry, member, rc.root ?? undefined), id, rc.arch);
      members.push({ model: net, classes: [...elocSplit(k + 1, numClasses).seen] });
    }
    const base = {
      numClasses,
      normalization: NORMALIZATION.cifarOdin,
      temperature: cfg.temperature,
      batchSize: rc.batchSize,
      perturbation: "ce" as const,
    };
    const perOod: Record<string, ScoreSets> = {};
    const idByEps = new Map<number, Float64Array>();
    for (const name of Object.keys(ood)) {
      const epsilon = eps.epsilonByOod?.[name] ?? eps.epsilon;
      if (!idByEps.has(epsilon)) idByEps.set(epsilon, (await elocScores(members, test, { ...base, epsilon })).ensemble);
      const o = (await elocScores(members, ood[name]!, { ...base, epsilon })).ensemble;
      perOod[name] = { id: idByEps.get(epsilon)!, ood: { [name]: o } };
    }
    const accuracy = await ensembleAccuracy(members, test, numClasses, rc.batchSize);
    const label = "ELOC (authors' released weights)";
    const key = {
      paper: ELOC_PAPER,
      method: "eloc" as const,
      variant: "faithful" as const,
      label,
      backbone: family.backbone,
      width: 1,
      idDataset: family.idDataset,
      seed: 0,
      selection: "best-test" as const,
      trainSeconds: 0,
    };
    const rows: ResultRow[] = [];
    const suite: ElocSuiteRow[] = [];
    const scores: Record<string, ScoreSets> = {};
    for (const [name, one] of Object.entries(perOod)) {
      rows.push(...toRows(key, { eloc: one }, { fprRules: ["odin", "sklearn"] }));
      (scores.eloc ??= { id: one.id, ood: {} }).ood[name] = one.ood[name]!;
      suite.push({ variant: "faithful", score: "eloc", oodDataset: name, ...odinMetrics(one.id, one.ood[name]!) });
    }
    for (const r of rows) r.idAccuracy = accuracy;
    const seconds = (performance.now() - t0) / 1000;
    const run: ElocRun = {
      setting,
      settingIndex,
      seed: 0,
      variant: "faithful",
      method: "eloc",
      rows,
      seconds,
      result: {
        label,
        folds: Array.from({ length: ELOC_FOLDS }, (_, i) => ({
          fold: i + 1,
          leftOut: [...elocSplit(i + 1, numClasses).unseen],
          curve: [],
          selected: {},
          steps: 0,
          seconds: 0,
        })),
        scores: Object.keys(scores).length ? { faithful: scores } : {},
        idAccuracy: { faithful: accuracy },
        suite,
        sweep: [],
        trainSeconds: 0,
        evalSeconds: seconds,
      },
    };
    const none = subsetDataset(fullTest, [], `${fullTest.name}[no training: released weights]`);
    const sets: EvalSets = {
      id: family.idDataset,
      train: none,
      heldOut: none,
      test,
      ood,
      oodGroups: Object.fromEntries(Object.keys(ood).map((k) => [k, "far" as const])),
      extra: {},
    };
    return { run, sets };
  } finally {
    for (const m of members) (m.model as Backbone).model.dispose();
  }
}

/**
 * The released-weights run of the ELOC notebook: for each archive of `cfg.released.files`, checks that its five fold
 * checkpoints and the data are on disk, then loads and scores them (see the module doc). Trains nothing. What is
 * absent is listed in `released.message` (the `missingReleasedMessage` of the archive, the `DatasetMissingError`
 * message of each absent set) and printed once.
 * @throws when `cfg.released` is absent; TorchCheckpointError when a present file is unsafe or does not fit.
 */
export async function runElocReleased(cfg: ElocConfig): Promise<ElocExperiment & { released: ElocReleasedReport }> {
  const rc = cfg.released;
  if (!rc) throw new Error("runElocReleased: the config has no `released` options");
  const timings = new Timings();
  const files: ElocReleasedStatus[] = [];
  const runs: ElocRun[] = [];
  const sets: EvalSets[] = [];
  for (const id of rc.files) {
    const family = elocReleasedFamily(id);
    const entry = elocReleasedEntry(id);
    const messages: string[] = [];
    const weights = await releasedPresent(entry, rc.root ?? undefined);
    if (!weights) messages.push(missingReleasedMessage([entry], rc.root ?? undefined));
    const idData = await availableDatasets([family.idDataset]);
    const ood = await availableDatasets(rc.oodDatasets);
    messages.push(...idData.messages, ...ood.messages);
    const oodAvailable = ood.available;
    if (!weights || idData.missing.length > 0 || oodAvailable.length === 0) {
      files.push({ id, status: "missing", oodEvaluated: [], messages });
      continue;
    }
    const out = await timings.time(id, () => evaluateFamily(cfg, rc, id, oodAvailable, runs.length));
    runs.push(out.run);
    sets.push(out.sets);
    files.push({ id, status: "evaluated", oodEvaluated: oodAvailable, messages, runIndex: runs.length - 1 });
  }
  const message = [...new Set(files.flatMap((f) => f.messages))].join("\n");
  if (message) console.log(`ELOC released weights — not everything is on disk:\n${message}`);
  return {
    sets,
    runs,
    rows: runs.flatMap((r) => r.rows),
    timings,
    released: { files, message },
  };
}

/**
 * The deviations of a released-weights run (they replace the training ones: nothing is trained): the weights and
 * the engine, the images scored below the `paper` profile, the ε of the sets the README's table does not cover, the
 * synthetic sets, and the validation positions dropped.
 */
export function elocReleasedDeviations(cfg: ElocConfig): Deviation[] {
  const rc = cfg.released;
  if (!rc) return [];
  const out: Deviation[] = [
    {
      id: "released weights",
      paper: 'the re-implementation\'s README numbers ("Our Implementation") come from these released files, run by ' +
        "its `test.py` in PyTorch (float32 on a GPU)",
      ours:
        `the same files (${rc.files.join(", ")}), read by this project's checkpoint reader and scored by its ELOC ` +
        "score and metrics in TF.js (float32; at T = 1000 float32 may tie scores that float64 would not)",
    },
  ];
  const sizes: string[] = [];
  if (rc.nTest !== null) sizes.push(`the first ${rc.nTest} ID test images`);
  if (rc.nOod !== null) sizes.push(`the first ${rc.nOod} images of each OOD set`);
  if (sizes.length) {
    out.push({
      id: "released sizes",
      paper: "all 10 000 ID test images and each OOD set, 9 000 of each scored",
      ours: `${sizes.join(", ")} (loader order, after the dropped positions): a CPU-sized subset`,
    });
  }
  const uncovered = rc.oodDatasets.filter((o) => !["tin_crop", "tin_resize", "lsun_crop", "lsun_resize"].includes(o));
  if (uncovered.length) {
    out.push({
      id: "released ε",
      paper:
        "the README's ε table covers TinyImageNet and LSUN (crop, resize) only; the paper's Uniform and Gaussian " +
        "sets are its own",
      ours: `${uncovered.join(", ")}: the archive's base ε (${
        rc.files.map((f) => `${f} ${ELOC_RELEASED_EPSILON[f].epsilon}`).join(", ")
      }); synthetic sets generated here (seed ${cfg.dataSeed}) like the ID test split`,
    });
  }
  if (rc.nValidation !== 1000) {
    out.push({
      id: "released validation positions",
      paper: "the first 1 000 of NumPy's seed-3 `permutation(10000)` dropped from the ID and OOD scores",
      ours: `the first ${rc.nValidation} dropped`,
    });
  }
  return out;
}
