/**
 * The notebook's experiment on the shared layer (`lib/experiment`): {@linkcode runEloc} is one `runGrid` over
 * settings × seeds × trainings. A training of the ensemble trains the five leave-out classifiers F_1 … F_5 of the
 * setting's class folds (`lib/datasets/splits.ts`, `elocSplit`); every classifier keeps one snapshot per selection
 * variant from the same run (`trainLeaveOut` selectors), so both variants cost one training. Each variant then
 * loads its snapshots and scores the ID test and OOD sets.
 *
 * | training | scores (rows' `score`) |
 * |---|---|
 * | ELOC | `eloc` (CE perturbation, the repo), `elocEntropy` (the paper's entropy perturbation), ablations `elocSingle` (F_1 alone) and `elocNoPerturbation` (ε = 0) |
 * | ELOC w/o margin-entropy | `eloc` |
 * | CE | `msp` (T = 1, no perturbation), `odin` (T and ε as ELOC) |
 *
 * Variants (the rows' `variant` and `selection`):
 * - `faithful`: each classifier's epoch selected by the reference's validation AUROC (MSP) on `nValidation` ID
 *   **test** images (the first of NumPy's seed-3 permutation) + `nValidation` images of the validation OOD set;
 *   those test images are dropped from evaluation (`selection: "best-test"`);
 * - `clean`: selected on held-out training images + the same validation OOD images; the whole ID test set is
 *   evaluated (`selection: "best-val"`).
 * Rows carry the ODIN/ELOC FPR rule (`odin`, the reference's) and ours (`sklearn`).
 * @module
 */
import { join } from "node:path";
import { type Backbone, createBackbone } from "../../backbones/mod.ts";
import type { Dataset, Normalization } from "../../datasets/types.ts";
import { NORMALIZATION, pixelStatistics } from "../../datasets/normalization.ts";
import { elocHoldout, elocSplit, splitByClasses } from "../../datasets/splits.ts";
import { subsetDataset } from "../../datasets/subset.ts";
import { type EvalSets, loadEvalSets } from "../../experiment/eval_sets.ts";
import { type GridCell, type GridResult, runGrid } from "../../experiment/grid.ts";
import type { ScoreArray, ScoreSets } from "../../experiment/score.ts";
import { toRows } from "../../experiment/rows.ts";
import { accuracy } from "../../metrics/classification.ts";
import { type OdinMetrics, odinMetrics } from "../../metrics/odin.ts";
import { collectRows } from "../../scores/on_images.ts";
import { odin } from "../../scores/odin.ts";
import { displayLabel, repoPath, type ResultRow, type Selection } from "../../report/results.ts";
import { deriveSeed, seedEverything, unseed } from "../../train/seed.ts";
import { tf } from "../../tf.ts";
import { type ElocConfig, type ElocMethod, type ElocSetting, epsilonOf, METHOD_NAMES } from "./config.ts";
import { type ElocMember, type ElocScores, elocScores } from "./score.ts";
import { type ElocReleasedReport, runElocReleased } from "./released.ts";
import { type ElocEpochPoint, type ElocSelector, type ElocTrainResult, trainLeaveOut } from "./train.ts";

/** The `paper` column of every result row of this notebook. */
export const ELOC_PAPER = "eloc";

/** Number of leave-out folds (the paper's K = 5). */
export const ELOC_FOLDS = 5;

/** Display names of the scores. */
export const SCORE_NAMES: Readonly<Record<string, string>> = {
  eloc: "ensemble (CE perturbation)",
  elocEntropy: "ensemble (entropy perturbation)",
  elocSingle: "one leave-out classifier",
  elocNoPerturbation: "ensemble, ε = 0",
  msp: "MSP",
  odin: "ODIN",
};

/** One classifier's training, as the displays keep it (no tensors). */
export interface ElocFoldResult {
  /** Fold k (1–5); 0 for the CE classifier on all classes. */
  fold: number;
  /** The left-out classes (empty for CE). */
  leftOut: number[];
  curve: ElocEpochPoint[];
  /** Selection variant → the epoch it kept and its validation AUROC. */
  selected: Record<string, { epoch: number; auroc: number }>;
  steps: number;
  seconds: number;
}

/** The ODIN/ELOC metric suite of one (variant, score, OOD set): `calMetric.py`'s rules ({@linkcode odinMetrics}). */
export interface ElocSuiteRow extends OdinMetrics {
  variant: "faithful" | "clean";
  score: string;
  oodDataset: string;
}

/** What one training keeps for the displays (no tensors). */
export interface ElocRunResult {
  /** Display label of the training. */
  label: string;
  folds: ElocFoldResult[];
  /** Variant → score key → values on the ID test set and each OOD set (ε of each OOD set). */
  scores: Record<string, Record<string, ScoreSets>>;
  /** Variant → ID test accuracy (ensemble: argmax of Σ_k p_k at T = 1; CE: argmax of the logits). */
  idAccuracy: Record<string, number>;
  /** The ODIN/ELOC suite of every score, variant and OOD set (the numbers the paper's tables use). */
  suite: ElocSuiteRow[];
  /** ε → the ensemble's AUROC-ready scores per OOD set (first variant's selection; the ε sweep), when swept. */
  sweep: { epsilon: number; sets: ScoreSets }[];
  trainSeconds: number;
  evalSeconds: number;
}

/**
 * The notebook's experiment. With `weights: "released"` it is the released-weights run (`released.ts`): one run per
 * archive, no training, and `released` saying what was evaluated and what to download.
 */
export type ElocExperiment = GridResult<ElocSetting, ElocMethod, ElocRunResult> & { released?: ElocReleasedReport };

/** One run of the grid. */
export type ElocRun = ElocExperiment["runs"][number];

/** What a setting's runs share: the sets and the validation / evaluation splits of each variant. */
interface VariantSets {
  /** The selector of the variant (validation ID + OOD images). */
  selector: ElocSelector;
  /** The ID test images evaluated under the variant. */
  test: Dataset;
  /** The OOD sets evaluated under the variant. */
  ood: Record<string, Dataset>;
  selection: Selection;
}

/** `<id>[-k<knownClasses>]-<backbone>-w<width>`: a setting's checkpoint folder name. */
export function settingSlug(s: ElocSetting): string {
  return `${s.idDataset}${s.knownClasses === undefined ? "" : `-k${s.knownClasses}`}-${s.backbone}-w${s.width}`;
}

/** The rows' `idDataset` of a setting: `<id>`, or `<id>:0-<k−1>` with a class split (as VMDLS's rows). */
export function settingIdDataset(s: ElocSetting): string {
  return s.knownClasses === undefined ? s.idDataset : `${s.idDataset}:0-${s.knownClasses - 1}`;
}

/** The input normalization of a setting: ODIN's CIFAR statistics, else the training pixels' own. */
function normalizationOf(s: ElocSetting, train: Dataset): Normalization {
  return s.idDataset.startsWith("cifar") ? NORMALIZATION.cifarOdin : pixelStatistics(train);
}

/**
 * The validation and evaluation sets of each variant: faithful validates on the first `nValidation` of NumPy's
 * seed-3 permutation of the ID test set (`elocHoldout`) and evaluates the others in their order, dropping the same
 * positions from every OOD set as the reference does (`test.py` removes them from both score files); clean
 * validates on the first `nValidation` held-out training images and evaluates the whole test and OOD sets.
 */
export function variantSets(cfg: ElocConfig, sets: EvalSets): Record<"faithful" | "clean", VariantSets> {
  const ood = sets.extra.validation!;
  const n = sets.test.shape[0];
  const perm = elocHoldout(n);
  const order = Int32Array.from([...perm.val, ...perm.test]);
  const val = order.slice(0, cfg.nValidation);
  const dropped = new Set(val);
  const kept = (m: number) => Int32Array.from({ length: m }, (_, i) => i).filter((i) => !dropped.has(i));
  const heldOut = subsetDataset(
    sets.heldOut,
    Int32Array.from({ length: Math.min(cfg.nValidation, sets.heldOut.shape[0]) }, (_, i) => i),
  );
  return {
    faithful: {
      selector: { name: "faithful", id: subsetDataset(sets.test, val, `${sets.test.name}[validation]`), ood },
      test: subsetDataset(sets.test, kept(n), `${sets.test.name}[−validation]`),
      ood: Object.fromEntries(
        Object.entries(sets.ood).map(([k, ds]) => [k, subsetDataset(ds, kept(ds.shape[0]), ds.name)]),
      ),
      selection: "best-test",
    },
    clean: {
      selector: { name: "clean", id: heldOut, ood },
      test: sets.test,
      ood: sets.ood,
      selection: "best-val",
    },
  };
}

/** Trains one classifier (a fold's, or CE's on all classes) with both variants' selectors. */
async function trainOne(
  cfg: ElocConfig,
  cell: GridCell<ElocSetting> & { method: ElocMethod },
  sets: EvalSets,
  vs: Record<"faithful" | "clean", VariantSets>,
  fold: number,
  stage: (label: string) => void | Promise<void>,
): Promise<{ backbone: Backbone; classes: number[]; leftOut: number[]; train: ElocTrainResult }> {
  const { setting, method, seed } = cell;
  const numClasses = sets.train.classes.length;
  const split = fold === 0 ? null : elocSplit(fold, numClasses);
  const parts = split ? splitByClasses(sets.train, split) : null;
  const idTrain = parts ? parts.seen : sets.train;
  const classes = split ? [...split.seen] : Array.from({ length: numClasses }, (_, c) => c);
  const [, h, w, c] = sets.train.shape;
  seedEverything(deriveSeed(seed, `fold/${fold}`));
  const backbone = createBackbone(setting.backbone, {
    numClasses: classes.length,
    inputShape: [h, w, c],
    width: setting.width,
    normalization: normalizationOf(setting, sets.train),
  });
  unseed();
  const where = fold === 0 ? "" : `fold ${fold}: `;
  const train = await trainLeaveOut(backbone, idTrain, parts ? parts.unseen : null, {
    ...cfg.train,
    seed: deriveSeed(seed, `fold/${fold}`),
    marginEntropy: method === "eloc",
    selectors: cfg.variants.map((v) => vs[v].selector),
    evalBatchSize: cfg.evalBatchSize,
    ...(cfg.runDir
      ? { runDir: join(repoPath(cfg.runDir), settingSlug(setting), method, `s${seed}`, `fold${fold}`) }
      : {}),
    onEpoch: (e) => stage(`${where}epoch ${e.epoch + 1}/${cfg.train.epochs}`),
  });
  return { backbone, classes, leftOut: split ? [...split.unseen] : [], train };
}

/** OOD sets grouped by their ε (the ID scores depend on ε, so each group scores the ID set once). */
function byEpsilon(setting: ElocSetting, names: readonly string[]): Map<number, string[]> {
  const groups = new Map<number, string[]>();
  for (const n of names) {
    const e = epsilonOf(setting, n);
    groups.set(e, [...(groups.get(e) ?? []), n]);
  }
  return groups;
}

/**
 * Per OOD set, the ID scores at its ε and its own scores; a score that does not perturb (`perturbs: false`)
 * scores the ID set once for all.
 */
async function scorePerOod(
  setting: ElocSetting,
  sets: Pick<VariantSets, "test" | "ood">,
  score: (ds: Dataset, epsilon: number) => Promise<ScoreArray>,
  perturbs = true,
): Promise<Record<string, ScoreSets>> {
  const out: Record<string, ScoreSets> = {};
  const names = Object.keys(sets.ood);
  const groups = perturbs ? byEpsilon(setting, names) : new Map([[0, names]]);
  for (const [eps, group] of groups) {
    const id = await score(sets.test, eps);
    for (const n of group) out[n] = { id, ood: { [n]: await score(sets.ood[n]!, eps) } };
  }
  return out;
}

/** The ensemble's ID accuracy: argmax over classes of Σ_k softmax(F_k(x)) scattered into C columns. */
export async function ensembleAccuracy(
  members: readonly ElocMember[],
  ds: Dataset,
  numClasses: number,
  batchSize: number,
) {
  const rows = await collectRows(
    ds,
    { batchSize, normalization: (members[0]!.model as Backbone).normalization },
    (x) => [
      tf.tidy(() =>
        members.map((m) => {
          const p = tf.softmax(m.model.logits(x));
          const scatter = tf.oneHot(tf.tensor1d([...m.classes], "int32"), numClasses).toFloat();
          return tf.matMul(p, scatter);
        }).reduce((a, b) => tf.add(a, b))
      ) as tf.Tensor2D,
    ],
  );
  const sums = rows[0]!;
  const pred = new Int32Array(ds.shape[0]);
  for (let i = 0; i < pred.length; i++) {
    let best = 0;
    for (let c = 1; c < numClasses; c++) {
      if (sums.data[i * numClasses + c]! > sums.data[i * numClasses + best]!) best = c;
    }
    pred[i] = best;
  }
  return accuracy(ds.labels, pred);
}

/** Trains and scores one (setting, seed, training); every network is freed afterwards. */
export async function runMethod(
  cfg: ElocConfig,
  cell: GridCell<ElocSetting> & { method: ElocMethod },
  sets: EvalSets,
  stage: (label: string) => void | Promise<void> = () => {},
): Promise<{ rows: ResultRow[]; result: ElocRunResult }> {
  const { setting, method, seed } = cell;
  const numClasses = sets.train.classes.length;
  const trained: Awaited<ReturnType<typeof trainOne>>[] = [];
  const vs = variantSets(cfg, sets);
  try {
    for (const fold of method === "ce" ? [0] : Array.from({ length: ELOC_FOLDS }, (_, i) => i + 1)) {
      trained.push(await trainOne(cfg, cell, sets, vs, fold, stage));
    }
    await stage("scoring");
    const t0 = performance.now();
    const rows: ResultRow[] = [];
    const scores: ElocRunResult["scores"] = {};
    const idAccuracy: Record<string, number> = {};
    const sweep: ElocRunResult["sweep"] = [];
    const suite: ElocSuiteRow[] = [];
    const normalization = trained[0]!.backbone.normalization;
    for (const variant of cfg.variants) {
      for (const t of trained) t.train.useSelection(variant);
      const evaluated = vs[variant];
      const test = evaluated.test;
      const members: ElocMember[] = trained.map((t) => ({ model: t.backbone, classes: t.classes }));
      const perScore: Record<string, Record<string, ScoreSets>> = {};
      const base = { numClasses, normalization, temperature: cfg.temperature, batchSize: cfg.evalBatchSize };
      if (method === "ce") {
        const model = trained[0]!.backbone;
        const ceScore = (t: number, perturb: boolean) => async (ds: Dataset, eps: number) =>
          await scoreBatched(
            ds,
            cfg.evalBatchSize,
            normalization,
            (x) => odin(model, x, { temperature: t, epsilon: perturb ? eps : 0, batchSize: cfg.evalBatchSize }),
          );
        perScore.msp = await scorePerOod(setting, evaluated, ceScore(1, false), false);
        perScore.odin = await scorePerOod(setting, evaluated, ceScore(cfg.temperature, true));
      } else {
        // The CE-perturbed scores of a (set, ε), computed once: the ensemble (`eloc`), member F_1 alone
        // (`elocSingle`, each member is perturbed on its own) and the sweep all read them.
        const ceCache = new Map<Dataset, Map<number, Promise<ElocScores>>>();
        const ceScores = (ds: Dataset, epsilon: number) => {
          const byEps = ceCache.get(ds) ?? new Map<number, Promise<ElocScores>>();
          ceCache.set(ds, byEps);
          if (!byEps.has(epsilon)) {
            byEps.set(epsilon, elocScores(members, ds, { ...base, epsilon, perturbation: "ce" }));
          }
          return byEps.get(epsilon)!;
        };
        for (const perturbation of cfg.perturbations) {
          const key = perturbation === "ce" ? "eloc" : "elocEntropy";
          if (method !== "eloc" && key !== "eloc") continue;
          perScore[key] = await scorePerOod(
            setting,
            evaluated,
            async (ds, epsilon) =>
              (perturbation === "ce"
                ? await ceScores(ds, epsilon)
                : await elocScores(members, ds, { ...base, epsilon, perturbation })).ensemble,
          );
        }
        if (method === "eloc" && cfg.scoreAblations.singleMember) {
          perScore.elocSingle = await scorePerOod(
            setting,
            evaluated,
            async (ds, epsilon) => (await ceScores(ds, epsilon)).members[0]!,
          );
        }
        if (method === "eloc" && cfg.scoreAblations.noPerturbation) {
          perScore.elocNoPerturbation = await scorePerOod(
            setting,
            evaluated,
            async (ds) => (await elocScores(members, ds, { ...base, epsilon: 0, perturbation: "none" })).ensemble,
            false,
          );
        }
        if (method === "eloc" && variant === cfg.variants[0] && cell.seed === cfg.seeds[0]) {
          for (const epsilon of cfg.epsilonSweep) {
            const id = (await ceScores(test, epsilon)).ensemble;
            const ood: Record<string, ScoreArray> = {};
            for (const [n, ds] of Object.entries(evaluated.ood)) ood[n] = (await ceScores(ds, epsilon)).ensemble;
            sweep.push({ epsilon, sets: { id, ood } });
          }
        }
      }
      idAccuracy[variant] = method === "ce"
        ? await ensembleAccuracy(
          [{ model: trained[0]!.backbone, classes: trained[0]!.classes }],
          test,
          numClasses,
          cfg.evalBatchSize,
        )
        : await ensembleAccuracy(members, test, numClasses, cfg.evalBatchSize);
      scores[variant] = {};
      for (const [score, perOod] of Object.entries(perScore)) {
        const key = {
          paper: ELOC_PAPER,
          method,
          variant,
          label: rowLabel(method, score, variant),
          backbone: setting.backbone,
          width: setting.width,
          idDataset: settingIdDataset(setting),
          seed,
          selection: vs[variant].selection,
          trainSeconds: trained.reduce((s, t) => s + t.train.seconds, 0),
        };
        for (const [ood, one] of Object.entries(perOod)) {
          rows.push(...toRows(key, { [score]: one }, { fprRules: ["odin", "sklearn"], oodGroups: sets.oodGroups }));
          (scores[variant]![score] ??= { id: one.id, ood: {} }).ood[ood] = one.ood[ood]!;
          suite.push({ variant, score, oodDataset: ood, ...odinMetrics(one.id, one.ood[ood]!) });
        }
      }
      for (const r of rows) if (r.variant === variant && r.idAccuracy === null) r.idAccuracy = idAccuracy[variant]!;
    }
    const result: ElocRunResult = {
      label: METHOD_NAMES[method],
      folds: trained.map((t, i) => ({
        fold: method === "ce" ? 0 : i + 1,
        leftOut: t.leftOut,
        curve: t.train.curve,
        selected: t.train.selected,
        steps: t.train.steps,
        seconds: t.train.seconds,
      })),
      scores,
      idAccuracy,
      suite,
      sweep,
      trainSeconds: trained.reduce((s, t) => s + t.train.seconds, 0),
      evalSeconds: (performance.now() - t0) / 1000,
    };
    return { rows, result };
  } finally {
    for (const t of trained) {
      t.train.dispose();
      t.backbone.model.dispose();
    }
  }
}

/** A per-image score of a whole dataset, in batches of normalised images (the tensor function disposes nothing). */
async function scoreBatched(
  ds: Dataset,
  batchSize: number,
  normalization: Normalization,
  f: (x: tf.Tensor4D) => tf.Tensor1D,
): Promise<ScoreArray> {
  const rows = await collectRows(ds, { batchSize, normalization }, (x) => [tf.expandDims(f(x), 1) as tf.Tensor2D]);
  return rows[0]!.data;
}

/**
 * The name of the result files: the paper's (`OOD_NOTEBOOK` if set) for trained networks, `eloc_released` for the
 * released weights, so evaluating the authors' files never overwrites a training run's rows.
 */
export function resultsName(cfg: Pick<ElocConfig, "weights">): string | undefined {
  return cfg.weights === "released" ? `${ELOC_PAPER}_released` : undefined;
}

/** The rows' label of a (training, score, variant). */
export function rowLabel(method: ElocMethod, score: string, variant: "faithful" | "clean"): string {
  const name = method === "ce"
    ? `CE + ${SCORE_NAMES[score] ?? score}`
    : score === "eloc"
    ? METHOD_NAMES[method]
    : `ELOC ${SCORE_NAMES[score] ?? score}`;
  return displayLabel(name, variant);
}

/**
 * Runs every setting × seed × training of the config (`runGrid`: sets loaded once per setting, the validation OOD
 * images as the extra set `validation`, one progress bar). With `weights: "released"` it trains nothing and runs
 * {@linkcode runElocReleased} instead.
 */
export function runEloc(cfg: ElocConfig): Promise<ElocExperiment> {
  if (cfg.weights === "released") return runElocReleased(cfg);
  return runGrid({
    settings: cfg.settings,
    seeds: cfg.seeds,
    methods: cfg.methods,
    load: (s) =>
      loadEvalSets({
        id: s.idDataset,
        dataSeed: cfg.dataSeed,
        trainLimit: cfg.trainLimit,
        heldOut: cfg.heldOut,
        testLimit: cfg.nTest,
        oodDatasets: cfg.oodDatasets,
        oodLimit: cfg.nOod,
        extra: { validation: { name: cfg.validationOod, split: "test", limit: cfg.nValidation } },
        ...(s.knownClasses === undefined ? {} : { classSplit: { protocol: "vmdls", fold: s.knownClasses } }),
      }),
    run: (cell, sets, _shared, stage) => runMethod(cfg, cell, sets, stage),
    label: "ELOC runs",
    describe: settingSlug,
  });
}
