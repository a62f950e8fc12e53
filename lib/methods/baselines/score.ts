/**
 * Every post-hoc score of `lib/scores` on one trained classifier: fitted once on training outputs, then run on
 * the ID test set and on each OOD set. Higher = more in-distribution for every score (conventions C2).
 *
 * The scorers are a typed registry (conventions C4) keyed by the score's registry name; each receives only the
 * options it uses (C6). Scores on logits or features work on outputs extracted once (`extract.ts`); ODIN, the
 * one input-space score, runs the network itself on (at most `odin.limit`) images of each set.
 * @module
 */
import { tf } from "../../tf.ts";
import type { Backbone } from "../../backbones/mod.ts";
import type { Dataset } from "../../datasets/mod.ts";
import { tensorBatches } from "../../data/tensors.ts";
import {
  energy,
  fitKnn,
  fitMahalanobis,
  fitMahalanobisEnsemble,
  knn,
  type KnnState,
  mahalanobis,
  mahalanobisEnsemble,
  type MahalanobisEnsembleState,
  type MahalanobisState,
  maxLogit,
  msp,
  odin,
  type ScoreName,
  scoresToArray,
} from "../../scores/mod.ts";
import type { BaselineScoreOptions } from "./config.ts";
import { headDataset } from "../../datasets/subset.ts";
import { firstRows, type Matrix, matrixTensor, type NetOutputs } from "./extract.ts";
import { fitMatrix, scoreMatrix } from "../../scores/matrix.ts";

/** One evaluation set: its images (for ODIN) and the network's outputs on them (for every other score). */
export interface EvalSet {
  ds: Dataset;
  out: NetOutputs;
}

/** What a scorer may fit on: the network, its outputs on the (labelled) fit images, the forward batch size. */
export interface FitContext {
  backbone: Backbone;
  /** Outputs on the training images the scores are fitted on (labels included). */
  train: NetOutputs;
  /** Images per forward(+backward) pass for scores that run the network. */
  batchSize: number;
}

/** One score's values on the ID test set and on each OOD set. */
export interface ScoreSets {
  id: Float32Array;
  ood: Record<string, Float32Array>;
}

/** Score name → its values. */
export type RunScores = Partial<Record<ScoreName, ScoreSets>>;

/** How one score is fitted and run in the baselines. */
export interface Scorer<S> {
  /** What the score needs from the network. */
  needs: "logits" | "features" | "featureList" | "input";
  /** Fits the score (or returns null). */
  fit(ctx: FitContext, opts: BaselineScoreOptions): S;
  /** [n] scores of one set, higher = more in-distribution. */
  score(state: S, set: EvalSet, ctx: FitContext, opts: BaselineScoreOptions): Promise<Float32Array>;
}

/** Runs `f` on a list of matrices as tensors and reads the [n] result. */
async function onMatrices(ms: readonly Matrix[], f: (t: tf.Tensor2D[]) => tf.Tensor1D): Promise<Float32Array> {
  const ts = ms.map(matrixTensor);
  try {
    return await scoresToArray(f(ts));
  } finally {
    tf.dispose(ts);
  }
}

function needList(out: NetOutputs, where: string): Matrix[] {
  if (!out.featureList) throw new Error(`${where}: the outputs were extracted without featureList`);
  return out.featureList;
}

/** ODIN on the first `limit` images of a set, batch by batch. */
async function odinOnSet(
  backbone: Backbone,
  ds: Dataset,
  o: BaselineScoreOptions["odin"],
  batchSize: number,
): Promise<Float32Array> {
  const src = headDataset(ds, o.limit ?? undefined);
  const out = new Float32Array(src.shape[0]);
  let row = 0;
  for (const { x, y } of tensorBatches(src, { batchSize, normalization: backbone.normalization })) {
    try {
      const s = await scoresToArray(odin(backbone, x, { temperature: o.temperature, epsilon: o.epsilon, batchSize }));
      out.set(s, row);
      row += s.length;
    } finally {
      tf.dispose([x, y]);
    }
  }
  return out;
}

/** The scorers, by score registry name (every score of `lib/scores`). */
export const SCORERS = {
  msp: {
    needs: "logits",
    fit: () => null,
    score: (_s, set) => scoreMatrix(set.out.logits, (l) => msp(l)),
  } satisfies Scorer<null>,
  maxLogit: {
    needs: "logits",
    fit: () => null,
    score: (_s, set) => scoreMatrix(set.out.logits, (l) => maxLogit(l)),
  } satisfies Scorer<null>,
  energy: {
    needs: "logits",
    fit: () => null,
    score: (_s, set, _c, o) => scoreMatrix(set.out.logits, (l) => energy(l, { temperature: o.energy.temperature })),
  } satisfies Scorer<null>,
  odin: {
    needs: "input",
    fit: () => null,
    score: (_s, set, ctx, o) => odinOnSet(ctx.backbone, set.ds, o.odin, ctx.batchSize),
  } satisfies Scorer<null>,
  mahalanobis: {
    needs: "features",
    fit: (ctx, o) =>
      fitMatrix(
        ctx.train.features,
        (f) =>
          fitMahalanobis(f, ctx.train.labels, {
            numClasses: ctx.backbone.numClasses,
            shrinkage: o.mahalanobis.shrinkage,
          }),
      ),
    score: (state, set) => scoreMatrix(set.out.features, (f) => mahalanobis(state, f)),
  } satisfies Scorer<MahalanobisState>,
  mahalanobisEnsemble: {
    needs: "featureList",
    fit: (ctx, o) => {
      const ts = needList(ctx.train, "mahalanobisEnsemble").map(matrixTensor);
      try {
        return fitMahalanobisEnsemble(ts, ctx.train.labels, {
          numClasses: ctx.backbone.numClasses,
          shrinkage: o.mahalanobis.shrinkage,
        });
      } finally {
        tf.dispose(ts);
      }
    },
    score: (state, set) => onMatrices(needList(set.out, "mahalanobisEnsemble"), (l) => mahalanobisEnsemble(state, l)),
  } satisfies Scorer<MahalanobisEnsembleState>,
  knn: {
    needs: "features",
    fit: (ctx, o) => {
      const bank = o.knn.bankSize === null ? ctx.train.features : firstRows(ctx.train.features, o.knn.bankSize);
      return fitMatrix(bank, (f) => fitKnn(f, null, { k: o.knn.k }));
    },
    score: (state, set) => scoreMatrix(set.out.features, (f) => knn(state, f)),
  } satisfies Scorer<KnnState>,
} as const satisfies Record<ScoreName, Scorer<unknown>>;

/**
 * The scores of `names` that `backbone` supports, in the given order: `mahalanobisEnsemble` needs a backbone
 * with `featureList` and is dropped otherwise.
 */
export function supportedScores(backbone: Pick<Backbone, "featureList">, names: readonly ScoreName[]): ScoreName[] {
  return [...new Set(names)].filter((n) => SCORERS[n].needs !== "featureList" || backbone.featureList !== undefined);
}

/** Whether any of `names` needs the per-stage features (then extract with `featureList: true`). */
export function needsFeatureList(names: readonly ScoreName[]): boolean {
  return names.some((n) => SCORERS[n].needs === "featureList");
}

/**
 * Fits and runs each score of `names` on the ID set and every OOD set.
 * @param names Scores to run (see {@linkcode supportedScores}).
 * @param ctx The network and its outputs on the fit images.
 * @param id The ID test set.
 * @param ood OOD set name → set.
 * @param opts The score options.
 * @param onScore Called after each score (e.g. to advance a progress bar).
 * @returns Score name → values (ODIN's cover only the first `odin.limit` images of each set).
 */
export async function scoreSets(
  names: readonly ScoreName[],
  ctx: FitContext,
  id: EvalSet,
  ood: Readonly<Record<string, EvalSet>>,
  opts: BaselineScoreOptions,
  onScore?: (name: ScoreName, seconds: number) => void | Promise<void>,
): Promise<RunScores> {
  const out: RunScores = {};
  for (const name of names) {
    const t0 = performance.now();
    const scorer = SCORERS[name] as Scorer<unknown>;
    const state = scorer.fit(ctx, opts);
    const sets: ScoreSets = { id: await scorer.score(state, id, ctx, opts), ood: {} };
    for (const [oodName, set] of Object.entries(ood)) sets.ood[oodName] = await scorer.score(state, set, ctx, opts);
    out[name] = sets;
    await onScore?.(name, (performance.now() - t0) / 1000);
  }
  return out;
}
