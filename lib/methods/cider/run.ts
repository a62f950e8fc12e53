/**
 * The notebook's experiment on the shared layer (`lib/experiment`): {@linkcode runCider} is one `runGrid` over
 * settings × seeds × variants × methods (CE variant-free). Each run builds the seeded network, trains it
 * (`train.ts`), scores it with its method's detectors (`scoreAll`), trains the linear probe on the extracted
 * training features for ID accuracy, and writes rows with CIDER's FPR95 rule (`hendrycks`) and ours (`sklearn`).
 *
 * | method | detectors (faithful) | detectors (clean / CE) |
 * |---|---|---|
 * | CE | — | MSP, Energy, KNN(K), Mahalanobis (tied Σ, normalised h) |
 * | SupCon, CIDER | KNN(K), `ciderMahalanobis` (global Σ, pinv: `eval_ood.py`) | KNN(K), Mahalanobis (tied Σ) |
 * @module
 */
import { join } from "node:path";
import { createBackbone } from "../../backbones/mod.ts";
import type { Dataset, Normalization } from "../../datasets/types.ts";
import { pixelStatistics, resolveNormalization } from "../../datasets/normalization.ts";
import { loadEvalSets } from "../../experiment/eval_sets.ts";
import { type GridCell, type GridResult, runGrid } from "../../experiment/grid.ts";
import type { ScoreSets, ScoreTable } from "../../experiment/score.ts";
import { evaluateModel } from "../../experiment/evaluate_model.ts";
import type { EvalSets } from "../../experiment/eval_sets.ts";
import { accuracy } from "../../metrics/classification.ts";
import type { DetectorSpec, NetOutputs } from "../../scores/mod.ts";
import { argmaxRows } from "../../scores/matrix.ts";
import { displayLabel, repoPath, type ResultRow, Timings } from "../../report/results.ts";
import { seedEverything } from "../../train/seed.ts";
import { type CiderConfig, type CiderMethod, type CiderSetting, METHOD_NAMES } from "./config.ts";
import { type EmbeddingQuality, embeddingQuality } from "../../metrics/embedding.ts";
import { ciderNet } from "./network.ts";
import { probePredict, trainProbe } from "../../experiment/probe.ts";
import { type MethodObjective, trainMethod, type TrainOutcome } from "./train.ts";
import { type CiderReleasedOutcome, runCiderReleased } from "./released.ts";

/** The `paper` column of every result row of this notebook. */
export const CIDER_PAPER = "cider";

/** What one run keeps for the displays (no tensors). */
export interface CiderRunResult {
  /** Display label, e.g. "CIDER (clean)". */
  label: string;
  train: TrainOutcome;
  /** Score key → values on the ID test set and each OOD set. */
  scores: Record<string, ScoreSets>;
  /** Linear-probe accuracy on the ID test set. */
  probeAccuracy: number;
  /** The trained `fc`'s accuracy (CE only; null otherwise). */
  fcAccuracy: number | null;
  embedding: EmbeddingQuality;
  /** Seconds to extract, score, probe and measure. */
  evalSeconds: number;
}

/**
 * The notebook's experiment: every setting's sets, every run, every row, timings; with `weights: "released"`, no
 * runs, the released evaluation's sets and rows, and `released` (what was evaluated, what to download).
 */
export type CiderExperiment = GridResult<CiderSetting, CiderMethod, CiderRunResult> & {
  released?: CiderReleasedOutcome;
};

/** One run of the grid. */
export type CiderRun = CiderExperiment["runs"][number];

/** The input normalization of a setting's networks: the config's, or the training pixels' statistics. */
export function normalizationOf(cfg: Pick<CiderConfig, "normalization">, train: Dataset): Normalization {
  return cfg.normalization === "train-statistics" ? pixelStatistics(train) : resolveNormalization(cfg.normalization);
}

/** The detectors a method is scored with (see the module table); `variant` is the run's (`none` for CE). */
export function detectorsFor(
  method: CiderMethod,
  variant: GridCell<CiderSetting>["variant"],
  cfg: Pick<CiderConfig, "mahalanobis">,
  setting: Pick<CiderSetting, "k">,
): DetectorSpec[] {
  const maha: DetectorSpec[] = !cfg.mahalanobis.enabled
    ? []
    : variant === "faithful"
    ? [{ use: "ciderMahalanobis" }]
    : [{ use: "mahalanobis", opts: { normalize: true, shrinkage: cfg.mahalanobis.shrinkage } }];
  const logits: DetectorSpec[] = method === "ce" ? [{ use: "msp" }, { use: "energy" }] : [];
  return [...logits, { use: "knn", opts: { k: setting.k } }, ...maha];
}

/** The objective of a method under a config and setting. */
export function objectiveOf(method: CiderMethod, cfg: CiderConfig, setting: CiderSetting): MethodObjective {
  if (method === "ce") return { method };
  if (method === "supcon") {
    return { method, loss: { temperature: cfg.supcon.temperature, baseTemperature: cfg.supcon.baseTemperature } };
  }
  return {
    method,
    loss: {
      momentum: setting.prototypeMomentum,
      compactnessWeight: setting.compactnessWeight,
      temperature: cfg.cider.temperature,
      dispersionBaseTemperature: cfg.cider.dispersionBaseTemperature,
      compactnessBaseTemperature: cfg.cider.compactnessBaseTemperature,
    },
  };
}

/**
 * Trains and scores one (setting, seed, variant, method): `seedEverything(seed)`, the backbone (the setting's
 * width, the sets' normalization) plus CIDER's projection head, `trainMethod`, `scoreAll`, the probe, `toRows`.
 * The network's weights are freed afterwards.
 */
export async function runMethod(
  cfg: CiderConfig,
  cell: GridCell<CiderSetting> & { method: CiderMethod },
  sets: EvalSets,
  stage: (label: string) => void | Promise<void> = () => {},
): Promise<{ rows: ResultRow[]; result: CiderRunResult }> {
  const { setting, method, variant, seed } = cell;
  seedEverything(seed);
  const [, h, w, c] = sets.train.shape;
  const numClasses = sets.train.classes.length;
  const backbone = createBackbone(setting.backbone, {
    numClasses,
    inputShape: [h, w, c],
    width: setting.width,
    normalization: normalizationOf(cfg, sets.train),
  });
  const net = ciderNet(backbone, {
    out: cfg.head.out,
    ...(cfg.head.hidden !== null ? { hidden: cfg.head.hidden } : {}),
  });
  try {
    const train = await trainMethod(net, sets.train, objectiveOf(method, cfg, setting), {
      recipe: cfg.train,
      lr: method === "ce" ? cfg.ce.lr : method === "supcon" ? cfg.supcon.lr : cfg.cider.lr,
      variant: variant === "faithful" ? "faithful" : "clean",
      augment: cfg.augment,
      seed,
      evalBatchSize: cfg.evalBatchSize,
      ...(cfg.runDir
        ? {
          runDir: join(
            repoPath(cfg.runDir),
            `${setting.idDataset}-${setting.backbone}-w${setting.width}`,
            variant === "none" ? method : `${method}-${variant}`,
            `s${seed}`,
          ),
        }
        : {}),
      onEpoch: (epoch) => stage(`epoch ${epoch + 1}/${cfg.train.epochs}`),
    });
    await stage("scoring");
    const t0 = performance.now();
    const label = displayLabel(METHOD_NAMES[method], variant);
    const key = {
      paper: CIDER_PAPER,
      method,
      variant,
      label,
      backbone: setting.backbone,
      width: setting.width,
      idDataset: setting.idDataset,
      seed,
      trainSeconds: train.seconds,
    };
    // ID accuracy by a linear probe on the frozen penultimate features (SupCon and CIDER train no classifier).
    const probe = ({ outputs: { train } }: ScoreTable) => {
      const p = trainProbe(train!.features, train!.labels, { ...cfg.probe, numClasses, seed });
      return (o: NetOutputs) => probePredict(p, o.features);
    };
    const { table, rows, predictions } = await evaluateModel(
      backbone,
      sets,
      detectorsFor(method, variant, cfg, setting),
      key,
      {
        batchSize: cfg.evalBatchSize,
        seed,
        fprRules: ["hendrycks", "sklearn"],
        classifier: probe,
      },
    );
    const trainOut = table.outputs.train!, test = table.outputs.test;
    const embedding = embeddingQuality(
      trainOut,
      test,
      Object.values(table.outputs.ood).map((o) => o.features),
      numClasses,
    );
    const result: CiderRunResult = {
      label,
      train,
      scores: table.scores,
      probeAccuracy: accuracy(test.labels, predictions),
      fcAccuracy: method === "ce" ? accuracy(test.labels, argmaxRows(test.logits)) : null,
      embedding,
      evalSeconds: (performance.now() - t0) / 1000,
    };
    return { rows, result };
  } finally {
    net.model.dispose();
  }
}

/**
 * The sets of a setting: `loadEvalSets` with seeded subsets of `trainLimit` training images, `nTest` test images and
 * `nOod` images per OOD set, and `cfg.classSplit` when set (near-OOD `<id>:unseen`).
 */
export function loadCiderSets(cfg: CiderConfig, setting: Pick<CiderSetting, "idDataset">): Promise<EvalSets> {
  return loadEvalSets({
    id: setting.idDataset,
    dataSeed: cfg.dataSeed,
    trainLimit: cfg.trainLimit,
    testLimit: cfg.nTest,
    oodDatasets: cfg.oodDatasets,
    oodLimit: cfg.nOod,
    ...(cfg.classSplit ? { classSplit: cfg.classSplit } : {}),
  });
}

/**
 * Runs every setting × seed × variant × method of the config (`runGrid`: sets loaded once per setting with
 * `loadEvalSets`, one progress bar). CE runs once per seed (variant `none`). With `weights: "released"` nothing is
 * trained: the authors' weights are evaluated instead (`runCiderReleased`), or, when files or data are absent, the
 * experiment is empty and `released.missing` says what to download.
 */
export async function runCider(cfg: CiderConfig): Promise<CiderExperiment> {
  if (cfg.weights === "released") {
    const timings = new Timings();
    const released = await timings.time("released", () => runCiderReleased(cfg));
    return { sets: released.evaluations.map((e) => e.sets), runs: [], rows: released.rows, timings, released };
  }
  return await runGrid({
    settings: cfg.settings,
    seeds: cfg.seeds,
    variants: cfg.variants,
    methods: cfg.methods,
    variantFree: ["ce"],
    load: (s) => loadCiderSets(cfg, s),
    run: (cell, sets, _shared, stage) => runMethod(cfg, cell, sets, stage),
    label: "CIDER runs",
    describe: (s) => `${s.idDataset} · ${s.backbone}`,
  });
}
