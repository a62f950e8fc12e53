/**
 * The notebook's experiment on the shared layer (`lib/experiment`): {@linkcode runVmdls} is one `runGrid` over
 * settings × seeds × trainings. Each setting's auto-encoder is trained once (`prepare`, cached per setting); each
 * training builds the seeded network, trains it, scores it once (`scoreAll`, the held-out images included) and
 * writes rows for every scoring variant.
 *
 * | training | scores (rows' `score`) |
 * |---|---|
 * | VMDLS | `vmdls`; ablations `vmdlsNoRecon` (r̃ ≡ 1) and `vmdlsLatent` (Gaussians on μ only) |
 * | VMDLS w/o distancing, w/o KL | `vmdls` |
 * | CE | `msp`, `mahalanobisEnsemble` (Lee et al.: tied Σ per member, mean over [L1, L2, L3, g]), `vmdls` (VMDLS's Gaussians on the CE features, r̃ ≡ 1) |
 *
 * Scoring variants of the VMDLS-trained networks (training is the same: both keep the last checkpoint, as the
 * reference's README says its experiments do):
 * - `faithful`: the reference's test runs, one per OOD set: M and r̃'s scale over the ID test set and that OOD set
 *   (`vmdlsReferenceScores`; the ID scores change with the OOD set), the open-set threshold τ the best macro-F1 over
 *   the reference's grid −1 … −1000 on that test run (an oracle), the auto-encoder fed the backbone's [−1, 1]
 *   inputs. `VmdlsRunResult.scores` keeps the detector's values (M and the scale over the ID test set alone);
 * - `clean`: M and the scale from held-out training images, τ at 95 % TPR on them, the auto-encoder fed its own
 *   [0, 1] inputs.
 * The CE rows (variant `none`) use the clean rule for τ. Every row's closed-set class is the network's own: argmax
 * of the full-ensemble Gaussians (VMDLS trainings, for all their scores) or of the logits (CE).
 * @module
 */
import { join } from "node:path";
import { type Backbone, createBackbone } from "../../backbones/mod.ts";
import { NORMALIZATION } from "../../datasets/normalization.ts";
import { type DatasetName, DATASETS } from "../../datasets/registry.ts";
import { availableDatasets, type EvalSets, loadEvalSets } from "../../experiment/eval_sets.ts";
import { type GridCell, type GridResult, runGrid } from "../../experiment/grid.ts";
import { scoreAll, type ScoreSets, type ScoreTable } from "../../experiment/score.ts";
import { type IdClassification, type RunKey, toRows, tprThreshold } from "../../experiment/rows.ts";
import { accuracy } from "../../metrics/classification.ts";
import { type DetectorSpec, type Matrix, type NetOutputs, resolveSpec } from "../../scores/mod.ts";
import { argmaxRows } from "../../scores/matrix.ts";
import { vmdlsClasses, type VmdlsOptions, vmdlsReferenceScores, type VmdlsState } from "../../scores/vmdls.ts";
import { displayLabel, repoPath, type ResultRow, type Variant } from "../../report/results.ts";
import { seedEverything, unseed } from "../../train/seed.ts";
import {
  type Autoencoder,
  type AutoencoderOutcome,
  mnistAutoencoder,
  trainAutoencoder,
  vmdlsReconstruction,
} from "./autoencoder.ts";
import { trainCeBaseline } from "./ce_baseline.ts";
import {
  METHOD_NAMES,
  methodsOf,
  trainConfigOf,
  type VmdlsConfig,
  type VmdlsMethod,
  type VmdlsSetting,
} from "./config.ts";
import { vmdlsBestMacroF1, type VmdlsEvalSet, vmdlsRocMetrics } from "./metrics.ts";
import { disposeVmdlsNet, type VmdlsNet, vmdlsNet } from "./network.ts";
import { trainVmdls, type VmdlsEpochPoint } from "./train.ts";
import { runVmdlsReleased } from "./released.ts";

/** The `paper` column of every result row of this notebook. */
export const VMDLS_PAPER = "vmdls";

/** Display names of the scores. */
export const SCORE_NAMES: Readonly<Record<string, string>> = {
  vmdls: "VMDLS score",
  vmdlsNoRecon: "w/o reconstruction",
  vmdlsLatent: "latent-only Gaussians",
  msp: "MSP",
  mahalanobisEnsemble: "Mahalanobis (Lee)",
};

/** The reference's own metrics of one (faithful score, OOD set) of a VMDLS-scored run (`metrics.ts`). */
export interface VmdlsReferenceMetrics {
  variant: "faithful";
  score: string;
  oodDataset: string;
  /** FPR95, ROC-AUC and CAUROC on the reference's 100 000-point geometric grid. */
  gridFpr95: number;
  gridAuroc: number;
  cauroc: number;
  /** The reference's logged macro-F1: the best over τ = −1 … −1000 on the test set (an oracle), and its τ. */
  bestMacroF1: number;
  bestThreshold: number;
}

/** What one training keeps for the displays (no tensors). */
export interface VmdlsRunResult {
  /** Display label of the training. */
  label: string;
  /** Per-epoch means: loss (and for VMDLS the triplet and KL terms, M_t). */
  curve: VmdlsEpochPoint[] | { epoch: number; loss: number }[];
  steps: number;
  trainSeconds: number;
  /** ID test accuracy of the network's own classes (Gaussians or logits). */
  idAccuracy: number;
  /** Score key (without variant) → variant → values (faithful: M and R over the ID test set alone). */
  scores: Record<string, Partial<Record<Variant, ScoreSets>>>;
  /** μ (VMDLS) or g (CE) of the first `embedLimit` images of the ID test set and each OOD set, for the pictures. */
  embedding: { dim: number; id: Float32Array; idLabels: Int32Array; ood: Record<string, Float32Array> };
  /** The reference's metrics of every faithful VMDLS-family score (empty for CE and without `faithful`). */
  reference: VmdlsReferenceMetrics[];
  /**
   * Score key → OOD set → the faithful rows' own scores: M and r̃'s scale over the ID test set and that OOD set
   * (`vmdlsReferenceScores`; the ID scores differ per OOD set). Empty for CE and without `faithful`.
   */
  faithfulScores?: Record<string, Record<string, ScoreSets>>;
  /** Jitter steps of the Gaussians' loop of the main score, and the ensemble's dimension. */
  gaussians: { steps: number; dim: number } | null;
  evalSeconds: number;
}

/** The notebook's experiment: every setting's sets, every run, every row, timings. */
export type VmdlsExperiment = GridResult<VmdlsSetting, VmdlsMethod, VmdlsRunResult> & {
  /** Optional OOD sets that were not installed (skipped). */
  skipped: DatasetName[];
  /** Each setting's auto-encoder run (null without reconstruction). */
  autoencoders: (AutoencoderOutcome | null)[];
};

/** One run of the grid. */
export type VmdlsRun = VmdlsExperiment["runs"][number];

/** Images per set kept for the latent-space picture. */
const EMBED_LIMIT = 300;

/** Whether an optional OOD set has the setting's image shape (Omniglot is 28×28×1: MNIST settings only). */
function fits(name: DatasetName, s: VmdlsSetting): boolean {
  const shape = DATASETS[name].shape, id = DATASETS[s.idDataset].shape;
  return shape === "like" || JSON.stringify(shape) === JSON.stringify(id);
}

/** `<id>[-k<classNum>]-<backbone>-w<width>`: a setting's checkpoint folder name. */
export function settingSlug(s: VmdlsSetting): string {
  return `${s.idDataset}${s.classNum === null ? "" : `-k${s.classNum}`}-${s.backbone}-w${s.width}`;
}

/**
 * A setting's backbone, seeded by the caller: MNIST's [−1, 1] normalisation for one-channel images (the
 * reference's MNIST; Fashion-MNIST on the leaderboard), CIFAR's statistics otherwise.
 */
function backboneFor(s: VmdlsSetting, sets: EvalSets): Backbone {
  const [, h, w, c] = sets.train.shape;
  return createBackbone(s.backbone, {
    numClasses: sets.train.classes.length,
    inputShape: [h, w, c],
    width: s.width,
    normalization: c === 1 ? NORMALIZATION.mnistHalf : NORMALIZATION.cifarVmdls,
  });
}

/**
 * The detector specs of a training under one variant, keyed `<score>/<variant>` (split again by
 * {@linkcode splitKey}); see the module table.
 */
export function detectorsFor(
  method: VmdlsMethod,
  variant: "faithful" | "clean",
  cfg: Pick<VmdlsConfig, "scoreAblations">,
  ae: Autoencoder | null,
  members: readonly number[] | null = null,
): DetectorSpec[] {
  const at = (score: string) => `${score}/${variant}`;
  if (method === "ce") {
    return [
      { use: "msp", as: at("msp") },
      { use: "mahalanobisEnsemble", as: at("mahalanobisEnsemble") },
      { use: "vmdls", as: at("vmdls"), opts: { normalizeOn: "heldOut", reconstruction: null } },
    ];
  }
  const normalizeOn = variant === "faithful" ? "test" : "heldOut";
  const reconstruction = ae ? vmdlsReconstruction(ae, { inputs: variant }) : null;
  const ens = members ? { members } : {};
  const specs: DetectorSpec[] = [{ use: "vmdls", as: at("vmdls"), opts: { normalizeOn, reconstruction, ...ens } }];
  if (method !== "vmdls") return specs;
  if (ae && cfg.scoreAblations.noReconstruction) {
    specs.push({ use: "vmdls", as: at("vmdlsNoRecon"), opts: { normalizeOn, reconstruction: null, ...ens } });
  }
  if (cfg.scoreAblations.latentOnly) {
    specs.push({ use: "vmdls", as: at("vmdlsLatent"), opts: { normalizeOn, reconstruction, members: [-1] } });
  }
  return specs;
}

/** `<score>/<variant>` → its parts. */
export function splitKey(key: string): { score: string; variant: "faithful" | "clean" } {
  const [score, variant] = key.split("/") as [string, "faithful" | "clean"];
  return { score, variant };
}

/** The rows' label of a (training, score, variant). */
export function rowLabel(method: VmdlsMethod, score: string, variant: Variant): string {
  const name = method === "ce"
    ? `CE + ${score === "vmdls" ? "VMDLS Gaussians" : SCORE_NAMES[score] ?? score}`
    : score === "vmdls"
    ? METHOD_NAMES[method]
    : `VMDLS ${SCORE_NAMES[score] ?? score}`;
  return displayLabel(name, variant);
}

/** A run's VMDLS evaluation set for one OOD set (`metrics.ts`). */
function evalSet(sets: ScoreSets, c: IdClassification, oodDataset: string): VmdlsEvalSet {
  return {
    id: { scores: sets.id, predictions: c.predictions, labels: c.labels },
    ood: { scores: sets.ood[oodDataset]!, predictions: c.oodPredictions![oodDataset]! },
    numClasses: c.numClasses,
  };
}

/**
 * The reference's grid metrics of one faithful (score, OOD set), with its best-F1 oracle. The geometric grid needs
 * scores of one sign, which the reference's normalisation guarantees (s < 0) unless some r(x) = 0: then NaN.
 */
function referenceMetrics(
  set: VmdlsEvalSet,
  score: string,
  oodDataset: string,
  best: { macroF1: number; threshold: number },
): VmdlsReferenceMetrics {
  const negative = [set.id.scores, set.ood.scores].every((s) => Array.prototype.every.call(s, (v: number) => v < 0));
  const roc = negative ? vmdlsRocMetrics(set) : { fpr95: NaN, auroc: NaN, cauroc: NaN };
  return {
    variant: "faithful",
    score,
    oodDataset,
    gridFpr95: roc.fpr95,
    gridAuroc: roc.auroc,
    cauroc: roc.cauroc,
    bestMacroF1: best.macroF1,
    bestThreshold: best.threshold,
  };
}

/** The first `n` rows of a [N, d] output as a flat array. */
function firstEmbedded(o: NetOutputs, pick: (o: NetOutputs) => Matrix, n: number): Float32Array {
  const m = pick(o);
  return m.data.slice(0, Math.min(n, o.n) * m.dim);
}

/** Trains and scores one (setting, seed, training); the network is freed afterwards. */
export async function runMethod(
  cfg: VmdlsConfig,
  cell: GridCell<VmdlsSetting> & { method: VmdlsMethod },
  sets: EvalSets,
  ae: Autoencoder | null,
  stage: (label: string) => void | Promise<void> = () => {},
): Promise<{ rows: ResultRow[]; result: VmdlsRunResult }> {
  const { setting, method, seed } = cell;
  const recipe = trainConfigOf(cfg, setting);
  const runDir = cfg.runDir ? join(repoPath(cfg.runDir), settingSlug(setting), method, `s${seed}`) : undefined;
  const onEpoch = (e: { epoch: number }) => stage(`epoch ${e.epoch + 1}/${recipe.epochs}`);
  seedEverything(seed);
  const backbone = backboneFor(setting, sets);
  const net = method === "ce" ? null : vmdlsNet(backbone, { latentDim: setting.latentDim });
  unseed();
  try {
    let curve: VmdlsRunResult["curve"], steps: number, trainSeconds: number;
    if (net) {
      const ablate = { distancing: method !== "noDistancing", kl: method !== "noKl" };
      const t = await trainVmdls(net, sets.train, { ...recipe, seed, ablate, ...(runDir ? { runDir } : {}), onEpoch });
      [curve, steps, trainSeconds] = [t.curve, t.steps, t.seconds];
    } else {
      const t = await trainCeBaseline(backbone, sets.train, {
        ...recipe,
        seed,
        ...(runDir ? { runDir } : {}),
        onEpoch: (epoch) => onEpoch({ epoch }),
      });
      [curve, steps, trainSeconds] = [t.losses.map((loss, epoch) => ({ epoch, loss })), t.steps, t.seconds];
    }
    await stage("scoring");
    return await evaluateRun(cfg, cell, sets, net ?? backbone, ae, { curve, steps, trainSeconds });
  } finally {
    if (net) disposeVmdlsNet(net);
    else backbone.model.dispose();
  }
}

/** What {@linkcode evaluateRun} is told about the training (the released run: none). */
export interface RunTraining {
  curve: VmdlsRunResult["curve"];
  steps: number;
  trainSeconds: number;
  /** The result's label (default: the training's display name). */
  label?: string;
  /** Row labels (default {@linkcode rowLabel}). */
  rowLabel?: (score: string, variant: Variant) => string;
}

/**
 * Scores one trained network (`runMethod` after training; the released run with the authors' weights): every
 * detector of every variant, the rows and the run's result. The network is not freed here.
 * @param members The ensemble members of the `vmdls` scores (indices into `featureList`; default all).
 */
export async function evaluateRun(
  cfg: VmdlsConfig,
  cell: GridCell<VmdlsSetting> & { method: VmdlsMethod },
  sets: EvalSets,
  model: VmdlsNet | Backbone,
  ae: Autoencoder | null,
  training: RunTraining,
  members: readonly number[] | null = null,
): Promise<{ rows: ResultRow[]; result: VmdlsRunResult }> {
  const { setting, method, seed } = cell;
  const { curve, steps, trainSeconds } = training;
  const t0 = performance.now();
  // CE's scores do not depend on the variant: scored once, under the first variant's keys, rows variant `none`.
  const variants = method === "ce" ? cfg.variants.slice(0, 1) : cfg.variants;
  const specs = variants.flatMap((v) => detectorsFor(method, v, cfg, ae, members));
  const table = await scoreAll(model, sets, specs, { batchSize: cfg.evalBatchSize, seed, scoreHeldOut: true });
  const classify = classifierOf(method, table, cfg.variants[0]!);
  const test = table.outputs.test;
  const classification: IdClassification = {
    labels: test.labels,
    predictions: classify(test),
    numClasses: sets.test.classes.length,
    oodPredictions: Object.fromEntries(Object.entries(table.outputs.ood).map(([k, o]) => [k, classify(o)])),
  };
  const key: Omit<RunKey, "label"> = {
    paper: VMDLS_PAPER,
    method,
    backbone: setting.backbone,
    width: setting.width,
    idDataset: setting.classNum === null ? setting.idDataset : `${setting.idDataset}:0-${setting.classNum - 1}`,
    seed,
    selection: "last",
    trainSeconds,
  };
  const rows: ResultRow[] = [];
  const scores: VmdlsRunResult["scores"] = {};
  const reference: VmdlsReferenceMetrics[] = [];
  const faithfulScores: Record<string, Record<string, ScoreSets>> = {};
  for (const [k, sets_] of Object.entries(table.scores)) {
    const { score, variant: scoring } = splitKey(k);
    const variant: Variant = method === "ce" ? "none" : scoring;
    (scores[score] ??= {})[variant] = sets_;
    const label = training.rowLabel?.(score, variant) ?? rowLabel(method, score, variant);
    const rowKey = { ...key, variant, label };
    const common = { classification, oodGroups: sets.oodGroups, scoreSeconds: { [score]: table.seconds[k]! } };
    if (variant !== "faithful") {
      const tau = tprThreshold(sets_.heldOut!); // fixed on held-out training images before the test set is seen
      rows.push(...toRows(rowKey, { [score]: sets_ }, { ...common, openSetThreshold: () => tau }));
      continue;
    }
    // Faithful: one reference test run per OOD set (M and R over ID test + that set), τ its best-F1 oracle.
    const spec = specs.find((x) => x.as === k)!;
    const state = table.states[k] as VmdlsState;
    for (const [ood, ds] of Object.entries(sets.ood)) {
      const exact = await vmdlsReferenceScores(
        state,
        resolveSpec(spec).opts as Pick<VmdlsOptions, "reconstruction">,
        { ds: sets.test, outputs: test },
        { ds, outputs: table.outputs.ood[ood]! },
        table.context,
      );
      const one: ScoreSets = { id: exact.id, ood: { [ood]: exact.ood } };
      (faithfulScores[score] ??= {})[ood] = one;
      const set = evalSet(one, classification, ood);
      const best = vmdlsBestMacroF1(set);
      rows.push(...toRows(rowKey, { [score]: one }, { ...common, openSetThreshold: () => best.threshold }));
      reference.push(referenceMetrics(set, score, ood, best));
    }
  }
  const main = table.states[`vmdls/${cfg.variants[0]}`] as VmdlsState | undefined;
  // The last featureList member: μ for the VMDLS networks, g for CE.
  const pick = (o: NetOutputs) => o.featureList!.at(-1)!;
  const result: VmdlsRunResult = {
    label: training.label ?? displayLabel(METHOD_NAMES[method]),
    curve,
    steps,
    trainSeconds,
    idAccuracy: accuracy(classification.labels, classification.predictions),
    scores,
    embedding: {
      dim: pick(test).dim,
      id: firstEmbedded(test, pick, EMBED_LIMIT),
      idLabels: test.labels.slice(0, Math.min(EMBED_LIMIT, test.n)),
      ood: Object.fromEntries(
        Object.entries(table.outputs.ood).map(([k, o]) => [k, firstEmbedded(o, pick, EMBED_LIMIT)]),
      ),
    },
    reference,
    faithfulScores,
    gaussians: main ? { steps: main.gaussians.steps, dim: main.gaussians.dim } : null,
    evalSeconds: (performance.now() - t0) / 1000,
  };
  return { rows, result };
}

/** The network's own classes: argmax of the full-ensemble Gaussians (VMDLS trainings) or of the logits (CE). */
function classifierOf(method: VmdlsMethod, table: ScoreTable, variant: "faithful" | "clean") {
  if (method === "ce") return (o: NetOutputs) => argmaxRows(o.logits);
  const state = table.states[`vmdls/${variant}`] as VmdlsState;
  return (o: NetOutputs) => vmdlsClasses(state, o);
}

/**
 * Trains (or loads from `runDir`) a setting's auto-encoder on its training images, seeded with `dataSeed`; null
 * when the setting has no reconstruction weighting.
 */
export async function settingAutoencoder(
  cfg: VmdlsConfig,
  setting: VmdlsSetting,
  sets: EvalSets,
  stage: (label: string) => void | Promise<void> = () => {},
): Promise<{ ae: Autoencoder; outcome: AutoencoderOutcome } | null> {
  if (!setting.reconstruction) return null;
  const a = cfg.autoencoder;
  seedEverything(cfg.dataSeed);
  const ae = mnistAutoencoder({ width: a.width, latentDim: a.latentDim });
  unseed();
  const runDir = cfg.runDir
    ? join(repoPath(cfg.runDir), settingSlug(setting), `ae-w${a.width}-z${a.latentDim}`)
    : undefined;
  const outcome = await trainAutoencoder(ae, sets.train, { epochs: a.epochs, batchSize: a.batchSize, lr: a.lr }, {
    seed: cfg.dataSeed,
    ...(runDir ? { runDir } : {}),
    onEpoch: (e) => stage(`auto-encoder epoch ${e + 1}/${a.epochs}`),
  });
  return { ae, outcome };
}

/**
 * Runs every setting × seed × training of the config (`runGrid`: sets loaded once per setting, the setting's
 * auto-encoder trained once, one progress bar). Optional OOD sets are scored when installed.
 */
export async function runVmdls(cfg: VmdlsConfig): Promise<VmdlsExperiment> {
  // The authors' weights: no training (`released.ts`).
  if (cfg.weights === "released") return await runVmdlsReleased(cfg);
  const { available, missing } = await availableDatasets(cfg.optionalOodDatasets);
  const autoencoders = new Map<number, { ae: Autoencoder; outcome: AutoencoderOutcome } | null>();
  try {
    const exp = await runGrid({
      settings: cfg.settings,
      seeds: cfg.seeds,
      methods: cfg.methods,
      methodsOf: (s) => methodsOf(cfg, s),
      load: (s) =>
        loadEvalSets({
          id: s.idDataset,
          dataSeed: cfg.dataSeed,
          trainLimit: cfg.trainLimit,
          heldOut: cfg.heldOut,
          testLimit: cfg.nTest,
          oodDatasets: [...(s.oodDatasets ?? cfg.oodDatasets), ...available.filter((n) => fits(n, s))],
          oodLimit: cfg.nOod,
          ...(s.classNum === null ? {} : { classSplit: { protocol: "vmdls", fold: s.classNum } }),
        }),
      prepare: async (cell, sets, stage) => {
        if (!autoencoders.has(cell.settingIndex)) {
          autoencoders.set(cell.settingIndex, await settingAutoencoder(cfg, cell.setting, sets, stage));
        }
        return autoencoders.get(cell.settingIndex)?.ae ?? null;
      },
      run: (cell, sets, ae, stage) => runMethod(cfg, cell, sets, ae, stage),
      label: "VMDLS runs",
      describe: (s) => `${settingSlug(s)}`,
    });
    return {
      ...exp,
      skipped: missing,
      autoencoders: cfg.settings.map((_, i) => autoencoders.get(i)?.outcome ?? null),
    };
  } finally {
    for (const a of autoencoders.values()) a?.ae.model.dispose();
  }
}
