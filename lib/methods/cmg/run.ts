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
import { trainCmgClassifier } from "./classifier.ts";
import { type CmgConfig, type CmgMethod, type CmgSetting, METHOD_NAMES } from "./config.ts";
import { type CmgCvae, createCmgCvae, trainCmgCvae } from "./cvae.ts";
import { cmgMargins, type CmgMode, fineTuneCmg } from "./finetune.ts";
import { generateClassMixed } from "./generate.ts";

/** The `paper` column of every result row of this notebook. */
export const CMG_PAPER = "cmg";

/** Seen classes per partition (Setting 1) and the classifier's outputs (the reference's `MainModel(28, 1, 11)`). */
export const CMG_K = 6;
export const CMG_OUTPUTS = 11;

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

/** Images for the notebook's picture grids ([0, 1] pixels, row-major [n, 28, 28, 1]). */
export interface CmgGallery {
  /** Real seen-class test images and the CVAE's reconstructions of them. */
  real: Float32Array;
  reconstructed: Float32Array;
  /** Class-conditional samples (one seen class, σ = 1). */
  conditional: Float32Array;
  /** Class-mixed samples at σ = 1 and at the config's σ. */
  mixedSigma1: Float32Array;
  mixed: Float32Array;
  /** Real unseen-class test images. */
  unseen: Float32Array;
  n: number;
  sigma: number;
}

/** What one run keeps for the displays (no tensors). */
export interface CmgRunResult {
  label: string;
  /** Stage-2 evaluations: AUROC (ID positive) after the update at each evaluated step; empty for `ce`. */
  curve: { step: number; auroc: number }[];
  /** Stage-2 losses per epoch; empty for `ce`. */
  losses: { epoch: number; loss: number; ce: number; genCe: number; energy: number }[];
  /** The faithful number: the first evaluation with the highest AUROC; null for `ce`. */
  best: { step: number; auroc: number } | null;
  /** CMG-e's margins (from the stage-1 model); null otherwise. */
  margins: { mIn: number; mOut: number } | null;
  /** Variant → the scores on the seen (ID) and unseen test images (`ce`: under `none`). */
  scores: Record<string, Record<string, ScoreSets>>;
  /** Stage-1 curves of this (setting, seed) (kept on the `ce` run). */
  stage1: Pick<CmgStage1, "classifierCurve" | "cvaeCurve" | "seconds"> | null;
  gallery: CmgGallery | null;
  seconds: number;
}

/** The notebook's experiment. */
export type CmgExperiment = GridResult<CmgSetting, CmgMethod, CmgRunResult>;

/** One run of the grid. */
export type CmgRun = CmgExperiment["runs"][number];

/** `<id>-p<partition>-<backbone>-w<width>`. */
export function settingSlug(s: CmgSetting): string {
  return `${s.idDataset}-p${s.partition}-${s.backbone}-w${s.width}`;
}

/** The near-OOD set of a setting's sets: its unseen-class test images. */
function unseenOf(sets: EvalSets): { name: string; ds: Dataset } {
  const name = Object.keys(sets.ood).find((k) => k.endsWith(":unseen"));
  if (!name) throw new Error(`CMG: no unseen-class test set among ${Object.keys(sets.ood).join(", ")}`);
  return { name, ds: sets.ood[name]! };
}

/** Stage 1 of a (setting, seed): the classifier and the CVAE, each from its own derived seed. */
export async function trainStage1(
  cfg: CmgConfig,
  cell: GridCell<CmgSetting>,
  sets: EvalSets,
  stage: (label: string) => void | Promise<void> = () => {},
): Promise<CmgStage1> {
  const t0 = performance.now();
  const { setting, seed } = cell;
  const [, h, w, c] = sets.train.shape;
  seedEverything(deriveSeed(seed, "cmg/classifier"));
  const backbone = createBackbone(setting.backbone, {
    numClasses: CMG_OUTPUTS,
    inputShape: [h, w, c],
    width: setting.width,
    headHidden: [Math.max(1, Math.round(512 * setting.width))],
  });
  unseed();
  let cvae: CmgCvae | null = null;
  try {
    const clf = await trainCmgClassifier(backbone, sets.train, {
      ...cfg.classifier,
      seed: deriveSeed(seed, "cmg/classifier"),
      onEpoch: (p) => stage(`classifier epoch ${p.epoch + 1}/${cfg.classifier.epochs}`),
    });
    seedEverything(deriveSeed(seed, "cmg/cvae"));
    cvae = createCmgCvae({ encoderPadding: cfg.cvae.encoderPadding, width: cfg.cvae.width });
    unseed();
    const vae = await trainCmgCvae(cvae, sets.train, {
      epochs: cfg.cvae.epochs,
      batchSize: cfg.cvae.batchSize,
      lr: cfg.cvae.lr,
      seed: deriveSeed(seed, "cmg/cvae"),
      onEpoch: (e) => stage(`CVAE epoch ${e + 1}/${cfg.cvae.epochs}`),
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
  }
}

/** Frees stage 1. */
export function releaseStage1(s: CmgStage1): void {
  tf.dispose(s.weights);
  s.backbone.model.dispose();
  s.cvae.dispose();
}

/** MSP and Energy over the K seen logits of the stage-1 classifier, higher = more ID. */
async function baselineScores(backbone: Backbone, ds: Dataset, batchSize: number) {
  const rows = await collectRows(ds, { batchSize, normalization: backbone.normalization }, (x) => {
    const z = tf.slice(backbone.logits(x), [0, 0], [-1, CMG_K]) as tf.Tensor2D;
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

/** The picture grids of one stage 1 (images of the seen and unseen test sets, and generated ones). */
async function gallery(s: CmgStage1, sets: EvalSets, cfg: CmgConfig, seed: number): Promise<CmgGallery> {
  const n = cfg.galleryImages;
  const take = (ds: Dataset) =>
    tf.tidy(() => tf.div(tf.tensor4d(ds.images.subarray(0, n * 784), [n, 28, 28, 1], "float32"), 255) as tf.Tensor4D);
  const x = take(sets.test);
  const seen = Array.from({ length: CMG_K }, (_, k) => k);
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
    mixed: await data(gen(cfg.sigma, true)),
    unseen: await data(take(unseenOf(sets).ds)),
    n,
    sigma: cfg.sigma,
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
  const unseen = unseenOf(sets);
  s1.backbone.model.setWeights(s1.weights);
  const key = (variant: "faithful" | "clean" | "none", score: string, selection: Selection) => ({
    paper: CMG_PAPER,
    method,
    variant,
    label: rowLabel(method, score, variant),
    backbone: setting.backbone,
    width: setting.width,
    idDataset: `${setting.idDataset}:p${setting.partition}`,
    seed,
    selection,
    trainSeconds: s1.seconds,
  });
  const rowsOf = (variant: "faithful" | "clean" | "none", selection: Selection, scores: Record<string, ScoreSets>) =>
    toRows(key(variant, Object.keys(scores)[0]!, selection), scores, { oodGroups: sets.oodGroups });
  if (method === "ce") {
    const id = await baselineScores(s1.backbone, sets.test, cfg.evalBatchSize);
    const ood = await baselineScores(s1.backbone, unseen.ds, cfg.evalBatchSize);
    const scores: Record<string, ScoreSets> = {
      msp: { id: id.msp, ood: { [unseen.name]: ood.msp } },
      energy: { id: id.energy, ood: { [unseen.name]: ood.energy } },
    };
    const idAccuracy = accuracy(sets.test.labels, id.predictions);
    const rows = [
      ...rowsOf("none", "last", { msp: scores.msp! }),
      ...rowsOf("none", "last", { energy: scores.energy! }),
    ].map((r) => ({ ...r, idAccuracy }));
    const first = cell.settingIndex === 0 && seed === cfg.seeds[0] && cfg.galleryImages > 0;
    return {
      rows,
      result: {
        label: METHOD_NAMES.ce,
        curve: [],
        losses: [],
        best: null,
        margins: null,
        scores: { none: scores },
        stage1: { classifierCurve: s1.classifierCurve, cvaeCurve: s1.cvaeCurve, seconds: s1.seconds },
        gallery: first ? await gallery(s1, sets, cfg, seed) : null,
        seconds: (performance.now() - t0) / 1000,
      },
    };
  }
  const recipe = recipeOf(method, cfg.sigma);
  const score = recipe.mode === "CMG-s" ? "cmgS" : "cmgE";
  const ftSeed = deriveSeed(seed, `cmg/finetune/${method}`);
  const margins = recipe.mode === "CMG-e"
    ? await cmgMargins(s1.backbone, s1.cvae, sets.train, {
      K: CMG_K,
      sigma: recipe.sigma,
      mix: recipe.mix,
      seed: deriveSeed(ftSeed, "margins"),
    })
    : undefined;
  let best: { auroc: number; id: Float32Array; ood: Float32Array } | null = null;
  // fineTuneCmg's last call of `evaluate` scores the final model: those scores are the clean variant's.
  let latest: { id: Float32Array; ood: Float32Array } | null = null;
  const ft = await fineTuneCmg(s1.backbone, s1.cvae, sets.train, {
    mode: recipe.mode,
    K: CMG_K,
    sigma: recipe.sigma,
    mix: recipe.mix,
    margins,
    ...cfg.finetune,
    seed: ftSeed,
    evalBatchSize: cfg.evalBatchSize,
    evaluate: async (scorer, step) => {
      const id = await scorer(sets.test), ood = await scorer(unseen.ds);
      const a = auroc(id, ood);
      latest = { id, ood };
      // The reference keeps the first maximum (strict increase, fine_tune.py l. 177–178) over the scheduled
      // evaluations; fineTuneCmg's extra call for the last iterate (off schedule) is not one of them.
      if (step % cfg.finetune.evalEvery === 0 && (!best || a > best.auroc)) best = { auroc: a, id, ood };
      return a;
    },
    onEpoch: (e) => stage(`${METHOD_NAMES[method]}: epoch ${e.epoch + 1}/${cfg.finetune.epochs}`),
  });
  const kept = best as { auroc: number; id: Float32Array; ood: Float32Array } | null;
  const last = latest as { id: Float32Array; ood: Float32Array } | null;
  if (!last) throw new Error(`CMG ${method}: stage 2 ran no evaluation (no training step?)`);
  const scores: Record<string, Record<string, ScoreSets>> = {};
  const rows: ResultRow[] = [];
  if (cfg.variants.includes("faithful") && kept) {
    scores.faithful = { [score]: { id: kept.id, ood: { [unseen.name]: kept.ood } } };
    rows.push(...rowsOf("faithful", "best-test", scores.faithful));
  }
  if (cfg.variants.includes("clean")) {
    scores.clean = { [score]: { id: last.id, ood: { [unseen.name]: last.ood } } };
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
        oodDatasets: [],
        classSplit: { protocol: "cmg", fold: s.partition },
      }),
    prepare: (cell, sets, stage) => trainStage1(cfg, cell, sets, stage),
    run: (cell, sets, s1, stage) => runMethod(cfg, cell, sets, s1, stage),
    release: releaseStage1,
    label: "CMG runs",
    describe: settingSlug,
  });
}
