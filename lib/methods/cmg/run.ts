/**
 * The notebook's experiment on the shared layer (`lib/experiment`): {@linkcode runCmg} is one `runGrid` over
 * settings (Setting-1 partitions) × seeds × runs. What the runs of one (setting, seed) share is stage 1 (`prepare`):
 * the classifier (backbone + head, 11 outputs) and the CVAE, each trained once; every CMG run restores the stage-1
 * weights and fine-tunes the head (stage 2), so all runs start from the same networks.
 *
 * | run | scores (rows' `score`) |
 * |---|---|
 * | stage-1 classifier (`ce`) | `msp`, `energy` (over the K seen logits; `energy` is CMG-e's test score on the stage-1 model) |
 * | CMG-s | `cmgS` = −softmax(f_{0..K})_K |
 * | CMG-e, and its ablations one class embedding / σ = 1 | `cmgE` = logsumexp(f_{0..K−1}) |
 *
 * Variants of the CMG rows, from one fine-tuning: `faithful` = the evaluation with the highest AUROC (the
 * reference's `max_rocauc`, a test-set selection: `selection: "best-test"`), `clean` = the last iterate
 * (`selection: "last"`). Scores are oriented higher = more in-distribution; AUROC with ID positive equals the
 * reference's OOD-positive AUROC of its outlier scores (tested in `scores_test.ts`).
 * @module
 */
import { type Backbone, createBackbone } from "../../backbones/mod.ts";
import type { Dataset } from "../../datasets/types.ts";
import { type EvalSets, loadEvalSets } from "../../experiment/eval_sets.ts";
import { type GridCell, type GridResult, runGrid } from "../../experiment/grid.ts";
import type { ScoreSets } from "../../experiment/score.ts";
import { toRows } from "../../experiment/rows.ts";
import { auroc } from "../../metrics/auroc.ts";
import { accuracy } from "../../metrics/classification.ts";
import { displayLabel, type ResultRow, type Selection } from "../../report/results.ts";
import { collectRows } from "../../scores/on_images.ts";
import { deriveSeed, seedEverything, unseed } from "../../train/seed.ts";
import { tf } from "../../tf.ts";
import { AUGMENTATIONS } from "../../data/augment.ts";
import { NORMALIZATION } from "../../datasets/normalization.ts";
import { trainCmgClassifier } from "./classifier.ts";
import { cmgClasses, type CmgConfig, cmgFamily, type CmgMethod, type CmgSetting, METHOD_NAMES } from "./config.ts";
import { type CmgCvae, createCmgCvae, trainCmgCvae } from "./cvae.ts";
import { cmgMargins, type CmgMode, fineTuneCmg } from "./finetune.ts";
import { generateClassMixed } from "./generate.ts";

/** The `paper` column of every result row of this notebook. */
export const CMG_PAPER = "cmg";

/** Display names of the scores. */
export const SCORE_NAMES: Readonly<Record<string, string>> = {
  msp: "MSP",
  energy: "Energy",
  cmgS: "CMG-s score",
  cmgE: "CMG-e score",
};

/** What stage 1 of one (setting, seed) produced and every run shares. */
export interface CmgStage1 {
  backbone: Backbone;
  cvae: CmgCvae;
  /** The stage-1 weights, restored before every fine-tuning. */
  weights: tf.Tensor[];
  /** Per-epoch loss and accuracy of the classifier, and loss / KL / reconstruction of the CVAE. */
  classifierCurve: { epoch: number; loss: number; accuracy: number }[];
  cvaeCurve: { loss: number; kl: number; recon: number }[];
  seconds: number;
}

/** Images for the notebook's picture grids ([0, 1] pixels, row-major [n, h, w, c]). */
export interface CmgGallery {
  /** [height, width, channels] of every image. */
  shape: readonly [number, number, number];
  /** Real seen-class test images and the CVAE's reconstructions of them. */
  real: Float32Array;
  reconstructed: Float32Array;
  /** Class-conditional samples (one seen class, σ = 1). */
  conditional: Float32Array;
  /** Class-mixed samples at σ = 1 and at the config's σ. */
  mixedSigma1: Float32Array;
  mixed: Float32Array;
  /** Real OOD test images: the unseen classes (Setting 1) or the first OOD set (Setting 2). */
  unseen: Float32Array;
  /** The OOD set of `unseen`. */
  unseenName: string;
  n: number;
  sigma: number;
}

/** What one run keeps for the displays (no tensors). */
export interface CmgRunResult {
  label: string;
  /**
   * Stage-2 evaluations: AUROC (ID positive; with several OOD sets their mean) after the update at each evaluated
   * step; empty for `ce`.
   */
  curve: { step: number; auroc: number }[];
  /** Stage-2 losses per epoch; empty for `ce`. */
  losses: { epoch: number; loss: number; ce: number; genCe: number; energy: number }[];
  /** The first evaluation with the highest AUROC of `curve` (the faithful number with one OOD set); null for `ce`. */
  best: { step: number; auroc: number } | null;
  /** CMG-e's margins (from the stage-1 model); null otherwise. */
  margins: { mIn: number; mOut: number } | null;
  /**
   * Variant → score → the scores on the ID test images and the OOD sets (`ce`: under `none`). With several OOD sets
   * the faithful variant selects an evaluation per OOD set, so its entries are per set: `<score> · <OOD set>`.
   */
  scores: Record<string, Record<string, ScoreSets>>;
  /** Stage 2's Adam steps, wall time and the evaluations' share of it; null for `ce`. */
  fineTune?: { steps: number; seconds: number; evalSeconds: number } | null;
  /** Stage-1 curves of this (setting, seed) (kept on the `ce` run). */
  stage1: Pick<CmgStage1, "classifierCurve" | "cvaeCurve" | "seconds"> | null;
  gallery: CmgGallery | null;
  seconds: number;
}

/** The notebook's experiment. */
export type CmgExperiment = GridResult<CmgSetting, CmgMethod, CmgRunResult>;

/** One run of the grid. */
export type CmgRun = CmgExperiment["runs"][number];

/**
 * `<id>-p<partition>-<backbone>-w<width>` (Setting 1), `<id>-s2-<backbone>-w<width>` (Setting 2) or
 * `<id>-k<knownClasses>-<backbone>-w<width>` (a split setting).
 */
export function settingSlug(s: CmgSetting): string {
  const kind = s.setting === 1 ? `p${s.partition}` : s.setting === 2 ? "s2" : `k${s.knownClasses}`;
  return `${s.idDataset}-${kind}-${s.backbone}-w${s.width}`;
}

/** The rows' `idDataset` of a setting: `<id>:p<partition>` (Setting 1), `<id>` (Setting 2), `<id>:0-<k−1>` (split). */
export function settingIdDataset(s: CmgSetting): string {
  if (s.setting === "split") return `${s.idDataset}:0-${s.knownClasses - 1}`;
  return s.setting === 1 ? `${s.idDataset}:p${s.partition}` : s.idDataset;
}

/** A setting's OOD sets: the unseen-class test images (Setting 1) or the other datasets (Setting 2). */
function oodSetsOf(sets: EvalSets): [string, Dataset][] {
  const out = Object.entries(sets.ood);
  if (out.length === 0) throw new Error(`CMG: ${sets.id} has no OOD set to evaluate on`);
  return out;
}

/**
 * Stage 1 of a (setting, seed): the classifier and the CVAE, each from its own derived seed (weights, batch order,
 * dropout masks, ε): the same seed gives the same networks.
 */
export async function trainStage1(
  cfg: CmgConfig,
  cell: GridCell<CmgSetting>,
  sets: EvalSets,
  stage: (label: string) => void | Promise<void> = () => {},
): Promise<CmgStage1> {
  const t0 = performance.now();
  const { setting, seed } = cell;
  const [, h, w, c] = sets.train.shape;
  const family = cmgFamily(setting);
  const cifar = family === "cifar10";
  seedEverything(deriveSeed(seed, "cmg/classifier"));
  const backbone = createBackbone(setting.backbone, {
    numClasses: cmgClasses(setting).nOut,
    inputShape: [h, w, c],
    width: setting.width,
    headHidden: [Math.max(1, Math.round(512 * setting.width))],
    // CMG's ResNet-18 sets no initialiser (PyTorch's defaults) and reads [0, 1] pixels (`ToTensor()` only).
    ...(cifar ? { convInit: "torch" as const, normalization: NORMALIZATION.unitRangeRgb } : {}),
  });
  let cvae: CmgCvae | null = null;
  // `Math.random` stays seeded through both trainings: TF.js draws the classifier's dropout masks and the CVAE's
  // ε from it.
  try {
    const clf = await trainCmgClassifier(backbone, sets.train, {
      epochs: cfg.classifier.epochs[family],
      batchSize: cfg.classifier.batchSize,
      lr: cfg.classifier.lr,
      // RandomCrop(32, padding 4) + HorizontalFlip for CIFAR-10's classifier only (`train.py` l. 54–57).
      augment: cifar ? AUGMENTATIONS.cropFlip : AUGMENTATIONS.none,
      seed: deriveSeed(seed, "cmg/classifier"),
      onEpoch: (p) => stage(`classifier epoch ${p.epoch + 1}/${cfg.classifier.epochs[family]}`),
    });
    seedEverything(deriveSeed(seed, "cmg/cvae"));
    cvae = createCmgCvae(
      cifar
        ? { dataset: "cifar10", width: cfg.cvae.width }
        : { dataset: "mnist", encoderPadding: cfg.cvae.encoderPadding, width: cfg.cvae.width },
    );
    const cvaeEpochs = cfg.cvae.epochs[family];
    const vae = await trainCmgCvae(cvae, sets.train, {
      epochs: cvaeEpochs,
      batchSize: cfg.cvae.batchSize,
      lr: cfg.cvae.lr,
      seed: deriveSeed(seed, "cmg/cvae"),
      onEpoch: (e) => stage(`CVAE epoch ${e + 1}/${cvaeEpochs}`),
    });
    return {
      backbone,
      cvae,
      weights: backbone.model.getWeights().map((t) => tf.clone(t)),
      classifierCurve: clf.curve.map(({ epoch, loss, accuracy }) => ({ epoch, loss, accuracy })),
      cvaeCurve: vae.loss.map((loss, i) => ({ loss, kl: vae.kl[i]!, recon: vae.recon[i]! })),
      seconds: (performance.now() - t0) / 1000,
    };
  } catch (err) {
    backbone.model.dispose();
    cvae?.dispose();
    throw err;
  } finally {
    unseed();
  }
}

/** Frees stage 1. */
export function releaseStage1(s: CmgStage1): void {
  tf.dispose(s.weights);
  s.backbone.model.dispose();
  s.cvae.dispose();
}

/** MSP and Energy over the K seen logits of the stage-1 classifier, higher = more ID. */
async function baselineScores(backbone: Backbone, ds: Dataset, K: number, batchSize: number) {
  const rows = await collectRows(ds, { batchSize, normalization: backbone.normalization }, (x) => {
    const z = tf.slice(backbone.logits(x), [0, 0], [-1, K]) as tf.Tensor2D;
    return [
      tf.expandDims(tf.max(tf.softmax(z), 1), 1) as tf.Tensor2D,
      tf.expandDims(tf.logSumExp(z, 1), 1) as tf.Tensor2D,
      tf.expandDims(tf.cast(tf.argMax(z, 1), "float32"), 1) as tf.Tensor2D,
    ];
  });
  return { msp: rows[0]!.data, energy: rows[1]!.data, predictions: Int32Array.from(rows[2]!.data) };
}

/** The stage-2 mode and generator of a CMG run. */
function recipeOf(method: Exclude<CmgMethod, "ce">, sigma: number): { mode: CmgMode; mix: boolean; sigma: number } {
  switch (method) {
    case "cmgS":
      return { mode: "CMG-s", mix: true, sigma };
    case "cmgE":
      return { mode: "CMG-e", mix: true, sigma };
    case "cmgSingle":
      return { mode: "CMG-e", mix: false, sigma };
    case "cmgSigma1":
      return { mode: "CMG-e", mix: true, sigma: 1 };
  }
}

/** The picture grids of one stage 1 (images of the ID and the first OOD test set, and generated ones). */
async function gallery(
  s: CmgStage1,
  sets: EvalSets,
  cfg: CmgConfig,
  setting: CmgSetting,
  seed: number,
): Promise<CmgGallery> {
  const [, h, w, c] = sets.test.shape;
  const [unseenName, unseenDs] = oodSetsOf(sets)[0]!;
  const n = Math.min(cfg.galleryImages, sets.test.shape[0], unseenDs.shape[0]);
  const take = (ds: Dataset) =>
    tf.tidy(() =>
      tf.div(tf.tensor4d(ds.images.subarray(0, n * h * w * c), [n, h, w, c], "float32"), 255) as tf.Tensor4D
    );
  const x = take(sets.test);
  const seen = Array.from({ length: cmgClasses(setting).K }, (_, k) => k);
  const sigma = cfg.sigma[cmgFamily(setting)];
  const data = async (t: tf.Tensor) => {
    const d = (await t.data()) as Float32Array;
    t.dispose();
    return d;
  };
  const reconstructed = tf.tidy(() => s.cvae.forward(x, Array.from(sets.test.labels.subarray(0, n))).xHat);
  const gen = (sigma: number, mix: boolean) =>
    generateClassMixed(s.cvae, n, { seenClasses: seen, sigma, mix, seed: deriveSeed(seed, `gallery/${sigma}/${mix}`) })
      .images;
  return {
    real: await data(x),
    reconstructed: await data(reconstructed),
    conditional: await data(gen(1, false)),
    mixedSigma1: await data(gen(1, true)),
    mixed: await data(gen(sigma, true)),
    unseen: await data(take(unseenDs)),
    unseenName,
    n,
    shape: [h, w, c],
    sigma,
  };
}

/** The rows' label of a (run, variant). */
export function rowLabel(method: CmgMethod, score: string, variant: "faithful" | "clean" | "none"): string {
  return displayLabel(method === "ce" ? `CE + ${SCORE_NAMES[score] ?? score}` : METHOD_NAMES[method], variant);
}

/** Runs one method of a (setting, seed) on the shared stage 1. */
export async function runMethod(
  cfg: CmgConfig,
  cell: GridCell<CmgSetting> & { method: CmgMethod },
  sets: EvalSets,
  s1: CmgStage1,
  stage: (label: string) => void | Promise<void> = () => {},
): Promise<{ rows: ResultRow[]; result: CmgRunResult }> {
  const t0 = performance.now();
  const { setting, method, seed } = cell;
  const { K } = cmgClasses(setting);
  const oods = oodSetsOf(sets);
  s1.backbone.model.setWeights(s1.weights);
  const key = (variant: "faithful" | "clean" | "none", score: string, selection: Selection) => ({
    paper: CMG_PAPER,
    method,
    variant,
    label: rowLabel(method, score, variant),
    backbone: setting.backbone,
    width: setting.width,
    idDataset: settingIdDataset(setting),
    seed,
    selection,
    trainSeconds: s1.seconds,
  });
  const rowsOf = (variant: "faithful" | "clean" | "none", selection: Selection, scores: Record<string, ScoreSets>) =>
    toRows(key(variant, Object.keys(scores)[0]!, selection), scores, { oodGroups: sets.oodGroups });
  if (method === "ce") {
    const id = await baselineScores(s1.backbone, sets.test, K, cfg.evalBatchSize);
    const msp: ScoreSets = { id: id.msp, ood: {} }, energy: ScoreSets = { id: id.energy, ood: {} };
    for (const [name, ds] of oods) {
      const o = await baselineScores(s1.backbone, ds, K, cfg.evalBatchSize);
      msp.ood[name] = o.msp;
      energy.ood[name] = o.energy;
    }
    const idAccuracy = accuracy(sets.test.labels, id.predictions);
    const rows = [...rowsOf("none", "last", { msp }), ...rowsOf("none", "last", { energy })]
      .map((r) => ({ ...r, idAccuracy }));
    const first = cell.settingIndex === 0 && seed === cfg.seeds[0] && cfg.galleryImages > 0;
    return {
      rows,
      result: {
        label: METHOD_NAMES.ce,
        curve: [],
        losses: [],
        best: null,
        margins: null,
        scores: { none: { msp, energy } },
        fineTune: null,
        stage1: { classifierCurve: s1.classifierCurve, cvaeCurve: s1.cvaeCurve, seconds: s1.seconds },
        gallery: first ? await gallery(s1, sets, cfg, setting, seed) : null,
        seconds: (performance.now() - t0) / 1000,
      },
    };
  }
  const recipe = recipeOf(method, cfg.sigma[cmgFamily(setting)]);
  const score = recipe.mode === "CMG-s" ? "cmgS" : "cmgE";
  const evalEvery = setting.setting === 2 ? cfg.finetune.evalEvery.setting2 : cfg.finetune.evalEvery.setting1;
  const ftSeed = deriveSeed(seed, `cmg/finetune/${method}`);
  const margins = recipe.mode === "CMG-e"
    ? await cmgMargins(s1.backbone, s1.cvae, sets.train, {
      K,
      sigma: recipe.sigma,
      mix: recipe.mix,
      seed: deriveSeed(ftSeed, "margins"),
    })
    : undefined;
  // Per OOD set, the first evaluation with its highest AUROC: the reference runs `eval.py` once per OOD set with the
  // same seed, so every run fine-tunes identically and keeps its own set's maximum.
  const best = new Map<string, { auroc: number; id: Float32Array; ood: Float32Array }>();
  // fineTuneCmg's last call of `evaluate` scores the final model: those scores are the clean variant's.
  let latest: { id: Float32Array; ood: Record<string, Float32Array> } | null = null;
  const ft = await fineTuneCmg(s1.backbone, s1.cvae, sets.train, {
    mode: recipe.mode,
    K,
    sigma: recipe.sigma,
    mix: recipe.mix,
    margins,
    epochs: cfg.finetune.epochs,
    batchSize: cfg.finetune.batchSize,
    genPerStep: cfg.finetune.genPerStep,
    lr: cfg.finetune.lr,
    mu: cfg.finetune.mu,
    evalEvery,
    seed: ftSeed,
    evalBatchSize: cfg.evalBatchSize,
    evaluate: async (scorer, step) => {
      const id = await scorer(sets.test);
      const ood: Record<string, Float32Array> = {};
      let sum = 0;
      for (const [name, ds] of oods) {
        ood[name] = await scorer(ds);
        const a = auroc(id, ood[name]!);
        sum += a;
        // The reference keeps the first maximum (strict increase, fine_tune.py l. 177–178) over the scheduled
        // evaluations; fineTuneCmg's extra call for the last iterate (off schedule) is not one of them.
        const kept = best.get(name);
        if (step % evalEvery === 0 && (!kept || a > kept.auroc)) best.set(name, { auroc: a, id, ood: ood[name]! });
      }
      latest = { id, ood };
      return sum / oods.length;
    },
    onEpoch: (e) => stage(`${METHOD_NAMES[method]}: epoch ${e.epoch + 1}/${cfg.finetune.epochs}`),
  });
  const last = latest as { id: Float32Array; ood: Record<string, Float32Array> } | null;
  if (!last) throw new Error(`CMG ${method}: stage 2 ran no evaluation (no training step?)`);
  const scores: Record<string, Record<string, ScoreSets>> = {};
  const rows: ResultRow[] = [];
  if (cfg.variants.includes("faithful") && best.size > 0) {
    scores.faithful = {};
    for (const [name, b] of best) {
      const entry = { [score]: { id: b.id, ood: { [name]: b.ood } } };
      scores.faithful[oods.length === 1 ? score : `${score} · ${name}`] = entry[score]!;
      rows.push(...rowsOf("faithful", "best-test", entry));
    }
  }
  if (cfg.variants.includes("clean")) {
    scores.clean = { [score]: { id: last.id, ood: last.ood } };
    rows.push(...rowsOf("clean", "last", scores.clean));
  }
  return {
    rows,
    result: {
      label: METHOD_NAMES[method],
      curve: ft.curve.map(({ step, auroc }) => ({ step, auroc })),
      losses: ft.epochs.map(({ epoch, loss, ce, genCe, energy }) => ({ epoch, loss, ce, genCe, energy })),
      best: ft.best,
      margins: margins ? { mIn: margins.mIn, mOut: margins.mOut } : null,
      scores,
      fineTune: { steps: ft.steps, seconds: ft.seconds, evalSeconds: ft.evalSeconds },
      stage1: null,
      gallery: null,
      seconds: (performance.now() - t0) / 1000,
    },
  };
}

/**
 * Runs every setting × seed × run of the config (`runGrid`: each partition's sets loaded once, stage 1 trained once
 * per (setting, seed) in `prepare` and freed in `release`, one progress bar).
 */
export function runCmg(cfg: CmgConfig): Promise<CmgExperiment> {
  return runGrid<CmgSetting, CmgMethod, CmgRunResult, CmgStage1>({
    settings: cfg.settings,
    seeds: cfg.seeds,
    methods: cfg.methods,
    load: (s) =>
      loadEvalSets({
        id: s.idDataset,
        dataSeed: cfg.dataSeed,
        trainLimit: cfg.trainLimit,
        testLimit: cfg.nTest,
        ...(s.setting === 1
          ? { classSplit: { protocol: "cmg", fold: s.partition } }
          : s.setting === 2
          ? { oodDatasets: s.oodDatasets, oodLimit: cfg.oodLimit }
          : {
            oodDatasets: s.oodDatasets,
            oodLimit: cfg.oodLimit,
            classSplit: { protocol: "vmdls", fold: s.knownClasses },
          }),
      }),
    prepare: (cell, sets, stage) => trainStage1(cfg, cell, sets, stage),
    run: (cell, sets, s1, stage) => runMethod(cfg, cell, sets, s1, stage),
    release: releaseStage1,
    label: "CMG runs",
    describe: settingSlug,
  });
}
