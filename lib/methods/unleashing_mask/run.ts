/**
 * The Unleashing Mask experiment on the shared layer: one {@linkcode runGrid} over seeds × variants × methods.
 * `prepare` trains (or loads) the classifier of a seed and estimates the loss constraint; each method fine-tunes a
 * copy of it (`ce` scores it as is) and is scored by {@linkcode scoreAll} with the variant's detector specs
 * ({@linkcode umDetectors}); {@linkcode toRows} makes the result rows.
 * @module
 */
import type { Backbone } from "../../backbones/mod.ts";
import { DATASETS } from "../../datasets/registry.ts";
import { type EvalSets, loadEvalSets } from "../../experiment/eval_sets.ts";
import { type GridResult, runGrid } from "../../experiment/grid.ts";
import type { ScoreSets } from "../../experiment/score.ts";
import { evaluateModel } from "../../experiment/evaluate_model.ts";
import type { ClaimSpec } from "../../experiment/claims.ts";
import { displayLabel } from "../../report/results.ts";
import { type DetectorSpec, type UmMahalanobisState } from "../../scores/mod.ts";
import { deriveSeed, seedEverything } from "../../train/seed.ts";
import {
  BASE_METHOD,
  METHOD_LABELS,
  type UmMethod,
  type UmScore,
  type UnleashingMaskConfig,
  type Variant,
} from "./config.ts";
import {
  chooseConstraint,
  type ChosenConstraint,
  estimateLossConstraint,
  type LossConstraintEstimate,
} from "./estimate.ts";
import { type StageOutcome, trainStage } from "./finetune.ts";
import type { UmCriterion } from "./loss.ts";
import { pretrainClassifier, type PretrainOutcome } from "./pretrain.ts";
import { cloneBackbone, maskSummary, subnetBackbone } from "./umap.ts";

/** The paper id of this notebook's result rows (= `lib/report/paper_numbers/unleashing_mask.json`). */
export const UM_PAPER = "unleashing_mask";

/** A method of the grid: the pretrained classifier (`ce`) or a fine-tuning method. */
export type UmGridMethod = typeof BASE_METHOD | UmMethod;

/** What the methods of one (seed, variant) share: the pretrained classifier and the loss constraint. */
export interface UmPrepared {
  pretrain: Omit<PretrainOutcome, "backbone">;
  estimate: LossConstraintEstimate;
  constraint: ChosenConstraint;
  /** Seconds spent estimating UM. */
  estimateSeconds: number;
}

/** What one method run keeps for the displays (no tensors). */
export interface UmRunResult {
  prepared: UmPrepared;
  /** The fine-tuning run and its criterion (null for `ce`). */
  stage: (StageOutcome & { criterion: UmCriterion }) | null;
  /** UMAP's learned mask: kept / total weights per layer. */
  umapMask: { layer: string; kept: number; total: number }[] | null;
  /** Score key → values on the ID test set and each OOD set. */
  scores: Record<string, ScoreSets>;
  /** The fitted Mahalanobis (magnitude, regression, search), when scored. */
  mahalanobis: Omit<UmMahalanobisState, "layers"> | null;
}

/** The result of {@linkcode runUnleashingMask}. */
export type UmExperiment = GridResult<UnleashingMaskConfig, UmGridMethod, UmRunResult>;

/**
 * The detector specs of a variant, in `cfg.scores` order, under the paper's score names. Variant-dependent (the
 * repo's quirks): `msp` is UM's double softmax (`umMsp`, faithful) or max softmax (clean); Mahalanobis
 * (`umMahalanobis`) is tuned on the first 2m ID *test* images, which stay in the evaluation, with class statistics
 * from augmented training images, and reports −P(OOD) (faithful: `tune_mahalanobis_hyperparams(model, …,
 * train_loader, id_loader)`), or is tuned on held-out training images with unaugmented statistics and reports the
 * regression's negated logit (clean). ODIN steps ε on [0, 1] pixels (UM's `get_odin` with the normalisation inside
 * the model); ODIN and Mahalanobis score the first `inputScoreLimit` images of each set.
 */
export function umDetectors(cfg: UnleashingMaskConfig, variant: Variant): DetectorSpec[] {
  const faithful = variant === "faithful", limit = cfg.inputScoreLimit;
  const specs: Record<UmScore, DetectorSpec> = {
    msp: faithful ? { use: "umMsp", as: "msp" } : { use: "msp" },
    odin: { use: "odin", opts: { ...cfg.odin, divideBySignStd: true, limit } },
    energy: { use: "energy", opts: cfg.energy },
    mahalanobis: {
      use: "umMahalanobis",
      as: "mahalanobis",
      opts: {
        ...cfg.mahalanobis,
        tuneOn: faithful ? "test" : "heldOut",
        augment: faithful ? cfg.augment : null,
        output: faithful ? "probability" : "logit",
        limit,
      },
    },
  };
  return cfg.scores.map((s) => specs[s]);
}

/** The training recipe and criterion of each fine-tuning method (C6: only what the stage uses). */
export function stagePlan(cfg: UnleashingMaskConfig, method: UmMethod, um: number) {
  const criterion: UmCriterion = method === "ce-ft" || method === "oe"
    ? { kind: "ce" }
    : { kind: "um", um, beta: cfg.um.beta };
  const base = { ...cfg.finetune, augment: cfg.augment, criterion };
  if (method === "umap") return { ...base, epochs: cfg.umap.epochs, lr: cfg.umap.lr };
  if (method !== "oe" && method !== "oe+um") return base;
  return { ...base, epochs: cfg.oe.epochs, lr: cfg.oe.lr, oeWeight: cfg.oe.weight };
}

/**
 * The sets of a config: training images and `heldOut` held-out ones from one seeded permutation of the training
 * split, the ID test images, the OOD sets, and the auxiliary outliers of OE (`extra.aux`; when `aux.limit` is null
 * as many as the training images, counted from the registry's split size: the repo's `ood_factor` 1). Image-folder
 * OOD sets are squashed to the ID size (`fit: "resize"`), as `data/OOD.py` does. With `cfg.classSplit`, training,
 * held-out and test images keep the seen classes and the unseen test images are the near-OOD set `<id>:unseen`.
 */
export function loadUmSets(cfg: UnleashingMaskConfig): Promise<EvalSets> {
  const { trainLimit, heldOut, dataSeed } = cfg.data;
  const sizes: Partial<Record<"train" | "test", number>> | "like" = DATASETS[cfg.idDataset].sizes;
  const room = (sizes === "like" ? Infinity : sizes.train ?? Infinity) - heldOut;
  const aux = { ...cfg.aux, limit: cfg.aux.limit ?? Math.min(trainLimit ?? room, room), seed: dataSeed + 1 };
  // data/OOD.py: SUN, Places, dtd, iNaturalist go through Resize((32, 32)) (squashed, aspect ratio not kept).
  return loadEvalSets({
    id: cfg.idDataset,
    ...cfg.data,
    oodDatasets: cfg.oodDatasets,
    oodFit: "resize",
    extra: { aux },
    ...(cfg.classSplit ? { classSplit: cfg.classSplit } : {}),
  });
}

/**
 * Runs the experiment: for each seed and variant, pretrain (or load from `cacheRoot`) and estimate UM, then score
 * the pretrained classifier (`ce`) and fine-tune and score each method of `cfg.methods` from the same weights.
 * @param opts `cacheRoot`: where pretrained classifiers are cached (`UM_CACHE_ROOT`), or null; `load`: the sets
 *   (default {@linkcode loadUmSets}).
 */
export async function runUnleashingMask(
  cfg: UnleashingMaskConfig,
  opts: { cacheRoot: string | null; load?: () => Promise<EvalSets> },
): Promise<UmExperiment> {
  const nets = new WeakMap<UmPrepared, Backbone>();
  return await runGrid<UnleashingMaskConfig, UmGridMethod, UmRunResult, UmPrepared>({
    settings: [cfg],
    seeds: cfg.seeds,
    variants: cfg.variants,
    methods: [BASE_METHOD, ...cfg.methods],
    label: "runs",
    describe: () => `${cfg.idDataset} · ${cfg.backbone.name}`,
    load: opts.load ?? (() => loadUmSets(cfg)),
    async prepare({ seed, variant }, sets, stage) {
      await stage("pretrain");
      const { backbone, ...pretrain } = await pretrainClassifier(cfg, sets, seed, { cacheRoot: opts.cacheRoot });
      await stage("estimate");
      const t0 = performance.now();
      const estimate = await estimateLossConstraint(backbone, sets.train, {
        ...cfg.estimate,
        augment: cfg.estimate.augment ? cfg.augment : undefined,
        seed: deriveSeed(seed, "estimate"),
      });
      const constraint = chooseConstraint(estimate, variant as Variant, cfg.estimate.manual);
      const prepared = { pretrain, estimate, constraint, estimateSeconds: (performance.now() - t0) / 1000 };
      nets.set(prepared, backbone);
      return prepared;
    },
    async run({ seed, variant, method }, sets, prepared, stage) {
      const base = nets.get(prepared)!;
      let model = base, result: Pick<UmRunResult, "stage" | "umapMask"> = { stage: null, umapMask: null };
      if (method !== BASE_METHOD) {
        const { oeWeight, ...plan } = { oeWeight: undefined, ...stagePlan(cfg, method, prepared.constraint.value) };
        seedEverything(deriveSeed(seed, `stage/${METHOD_LABELS[method]}`));
        model = method === "umap"
          ? await subnetBackbone(base, { keepRate: cfg.umap.keepRate, freezeWeights: cfg.umap.freezeWeights })
          : await cloneBackbone(base);
        const out = await trainStage(model, sets.train, {
          ...plan,
          seed: deriveSeed(seed, `stage/${METHOD_LABELS[method]}/data`),
          ...(oeWeight !== undefined ? { oe: { aux: sets.extra.aux!, weight: oeWeight } } : {}),
        });
        result = {
          stage: { ...out, criterion: plan.criterion },
          umapMask: method === "umap" ? maskSummary(model.model) : null,
        };
      }
      try {
        await stage("scoring");
        const { name: backbone, width } = cfg.backbone, label = displayLabel(METHOD_LABELS[method], variant);
        const trainSeconds = result.stage?.seconds ?? prepared.pretrain.seconds;
        const key = { paper: UM_PAPER, method, variant, label, backbone, width, idDataset: cfg.idDataset, seed };
        const { table, rows } = await evaluateModel(
          model,
          sets,
          umDetectors(cfg, variant as Variant),
          { ...key, selection: cfg.pretrain.selection, trainSeconds },
          { batchSize: cfg.evalBatchSize, seed: deriveSeed(seed, "scores"), fprRules: [cfg.fprRule] },
        );
        const maha = table.states.mahalanobis as UmMahalanobisState | undefined;
        return {
          rows,
          result: { prepared, ...result, scores: table.scores, mahalanobis: maha ? dropLayers(maha) : null },
        };
      } finally {
        if (model !== base) model.model.dispose();
      }
    },
    release: (prepared) => {
      nets.get(prepared)?.model.dispose();
    },
  });
}

/** The fitted Mahalanobis without its per-layer Gaussians (kept for the tuning table). */
function dropLayers({ layers: _layers, ...rest }: UmMahalanobisState): Omit<UmMahalanobisState, "layers"> {
  return rest;
}

/** The paper's claims, checked per variant: UM vs CE, UMAP vs CE, OE+UM vs OE, and UM vs the CE-FT control. */
export function umClaims(variants: readonly Variant[]): ClaimSpec[] {
  const base = [
    { id: "um", text: "UM lowers FPR95 of the pretrained model", before: "ce", after: "um" },
    { id: "umap", text: "UMAP lowers FPR95 of the pretrained model", before: "ce", after: "umap" },
    { id: "oe+um", text: "UM lowers FPR95 of OE", before: "oe", after: "oe+um" },
    { id: "um-vs-ce-ft", text: "UM beats the same extra training with plain CE", before: "ce-ft", after: "um" },
  ] as const;
  return variants.flatMap((variant) =>
    base.map((c) => ({
      id: `${c.id} (${variant})`,
      text: c.text,
      before: { method: c.before, variant },
      after: { method: c.after, variant },
      metric: "fpr95" as const,
    }))
  );
}
