/**
 * The "well-trained" classifier Unleashing Mask starts from. The repo ships its DenseNets
 * (`runs/densenet_cifar{10,100}_{best,last}.state`); here the notebook trains one with plain cross-entropy and
 * caches it under `checkpoints/unleashing_mask/` (reused when a complete one exists for the same config and seed).
 * Along the run it records, per epoch, the training loss, the inference-mode loss on training images and the OOD
 * detection of the model at that epoch — the paper's "intermediate training stage" observation.
 * @module
 */
import { join } from "node:path";
import { tf } from "../../tf.ts";
import { type Backbone, createBackbone } from "../../backbones/mod.ts";
import type { Dataset } from "../../datasets/mod.ts";
import { evaluate } from "../../metrics/mod.ts";
import { argmaxRows } from "../../scores/mod.ts";
import { REPO_ROOT } from "../../report/results.ts";
import { latestCheckpoint, loadCheckpoint, saveCheckpoint } from "../../train/checkpoint.ts";
import { deriveSeed, seedEverything } from "../../train/seed.ts";
import type { UmBackboneConfig, UnleashingMaskConfig } from "./config.ts";
import type { EvalSets } from "../../experiment/eval_sets.ts";
import { scoreAll } from "../../experiment/score.ts";
import { type EpochPoint, trainStage } from "./finetune.ts";
import { headDataset } from "../../datasets/subset.ts";
import { evaluateClassifier } from "../../train/classifier.ts";

/** One epoch of the pretraining curve. */
export interface PretrainPoint extends EpochPoint {
  /** Mean CE on training images in inference mode, without augmentation. */
  trainLossEval: number;
  /** ID test accuracy. */
  testAcc: number;
  /** Energy and MSP detection, averaged over the OOD sets (FPR95 with the run's rule). */
  energyAuroc: number;
  energyFpr95: number;
  mspAuroc: number;
  mspFpr95: number;
}

/** What {@linkcode pretrainClassifier} returns. */
export interface PretrainOutcome {
  backbone: Backbone;
  history: PretrainPoint[];
  /** The epoch (1-based) whose weights are returned. */
  selectedEpoch: number;
  selection: "last" | "best-test";
  /** True when the classifier was loaded from the cache (nothing trained). */
  cached: boolean;
  /** The cache directory, or null when caching is off. */
  runDir: string | null;
  seconds: number;
}

/** Where the notebook caches its pretrained classifiers: `<repo>/checkpoints/unleashing_mask` (git-ignored). */
export const UM_CACHE_ROOT: string = join(REPO_ROOT, "checkpoints", "unleashing_mask");

/** A backbone of the config for a dataset's image shape and classes (weights drawn through `Math.random`). */
export function buildBackbone(cfg: UmBackboneConfig, train: Dataset): Backbone {
  const { name, width, ...rest } = cfg;
  return createBackbone(name, {
    numClasses: train.classes.length,
    inputShape: [train.shape[1], train.shape[2], train.shape[3]],
    width,
    ...rest,
  });
}

/** FNV-1a of a string as 8 hex digits (cache keys). */
function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}

/**
 * The cache directory of one pretrained classifier: `<root>/<backbone>_<id>_<hash>/s<seed>`, the hash over
 * everything that determines its weights (backbone, recipe, augmentation, data subset, dataset sizes).
 */
export function pretrainCacheDir(
  root: string,
  cfg: Pick<UnleashingMaskConfig, "backbone" | "pretrain" | "augment" | "data" | "idDataset" | "classSplit">,
  train: Dataset,
  seed: number,
): string {
  const { curve: _curve, cache: _cache, ...recipe } = cfg.pretrain;
  const key = JSON.stringify({
    v: 1,
    backbone: cfg.backbone,
    recipe,
    augment: cfg.augment,
    id: cfg.idDataset,
    data: { trainLimit: cfg.data.trainLimit, heldOut: cfg.data.heldOut, dataSeed: cfg.data.dataSeed },
    n: train.shape[0],
    // Only when set, so the notebook's cache keys are unchanged.
    ...(cfg.classSplit ? { classSplit: cfg.classSplit } : {}),
  });
  return join(root, `${cfg.backbone.name}_${cfg.idDataset}_${hash(key)}`, `s${seed}`);
}

/**
 * Trains (or loads from `cacheRoot`) the classifier of one seed: CE, SGD with momentum and coupled weight decay,
 * UM's per-epoch cosine rate, the run's augmentation. After every epoch it evaluates the curve point on the first
 * `curve.*Limit` images of the training, ID test and OOD sets. With `selection: "best-test"` the weights of the
 * epoch with the best ID *test* accuracy are returned (what `main.py`'s `model_best.pth` is — selected on the test
 * set; UM's CIFAR-100 configs start from such a model).
 */
export async function pretrainClassifier(
  cfg: Pick<
    UnleashingMaskConfig,
    "backbone" | "pretrain" | "augment" | "data" | "idDataset" | "evalBatchSize" | "fprRule" | "classSplit"
  >,
  data: Pick<EvalSets, "train" | "test" | "ood">,
  seed: number,
  opts: { cacheRoot: string | null },
): Promise<PretrainOutcome> {
  const t0 = performance.now();
  seedEverything(seed);
  const net = buildBackbone(cfg.backbone, data.train);
  const runDir = opts.cacheRoot && cfg.pretrain.cache ? pretrainCacheDir(opts.cacheRoot, cfg, data.train, seed) : null;
  const curve = cfg.pretrain.curve;
  const trainSub = headDataset(data.train, curve.trainLimit), testSub = headDataset(data.test, curve.idLimit);
  const oodSubs = Object.fromEntries(Object.entries(data.ood).map(([k, d]) => [k, headDataset(d, curve.oodLimit)]));
  const pass = { batchSize: cfg.evalBatchSize };
  let history: PretrainPoint[] = [];
  let best = { acc: -1, epoch: 0 };
  let bestWeights: tf.Tensor[] | null = null;
  const bestDir = runDir ? join(runDir, "best") : null;
  const onEpoch = async (p: EpochPoint) => {
    const trainLossEval = (await evaluateClassifier(net, trainSub, pass)).loss;
    const t = await scoreAll(net, { train: trainSub, test: testSub, ood: oodSubs }, [{ use: "energy" }, {
      use: "msp",
    }], { ...pass, seed: 0 });
    const predictions = argmaxRows(t.outputs.test.logits);
    const testAcc = predictions.filter((c, i) => c === testSub.labels[i]).length / predictions.length;
    /** `metric` of `score`, averaged over the OOD sets. */
    const avg = (score: string, metric: "auroc" | "fpr95") => {
      const sets = Object.values(t.scores[score]!.ood);
      const v = sets.map((o) => evaluate(t.scores[score]!.id, o, { fprRule: cfg.fprRule })[metric]);
      return v.reduce((a, b) => a + b, 0) / v.length;
    };
    history.push({
      ...p,
      trainLossEval,
      testAcc,
      energyAuroc: avg("energy", "auroc"),
      energyFpr95: avg("energy", "fpr95"),
      mspAuroc: avg("msp", "auroc"),
      mspFpr95: avg("msp", "fpr95"),
    });
    if (cfg.pretrain.selection === "best-test" && testAcc > best.acc) {
      best = { acc: testAcc, epoch: p.epoch };
      tf.dispose(bestWeights ?? []);
      bestWeights = net.model.getWeights().map((w) => w.clone());
      if (bestDir) {
        const state = { epoch: p.epoch, step: 0, mathRandom: null, streams: {}, config: null };
        await saveCheckpoint(bestDir, { model: net.model, state }, { keep: 1 });
      }
    }
  };
  const stage = await trainStage(net, data.train, {
    ...cfg.pretrain,
    criterion: { kind: "ce" },
    augment: cfg.augment,
    seed: deriveSeed(seed, "pretrain"),
    runDir: runDir ?? undefined,
    onEpoch,
    loop: {
      keep: 1,
      config: { backbone: cfg.backbone, pretrain: cfg.pretrain, augment: cfg.augment, data: cfg.data },
      state: {
        save: () => ({ history, best }),
        load: (s) => {
          history = (s.history as PretrainPoint[]) ?? [];
          best = (s.best as typeof best) ?? best;
        },
      },
    },
  });
  let selectedEpoch = cfg.pretrain.epochs;
  if (cfg.pretrain.selection === "best-test") {
    selectedEpoch = best.epoch;
    if (bestWeights) net.model.setWeights(bestWeights);
    else if (bestDir) {
      const path = await latestCheckpoint(bestDir);
      if (!path) throw new Error(`pretrainClassifier: no best-test checkpoint in ${bestDir}`);
      const loaded = await loadCheckpoint(path);
      net.model.setWeights(loaded.model.getWeights());
      loaded.model.dispose();
    }
    tf.dispose(bestWeights ?? []);
  }
  return {
    backbone: net,
    history,
    selectedEpoch,
    selection: cfg.pretrain.selection,
    cached: stage.cached,
    runDir,
    seconds: (performance.now() - t0) / 1000,
  };
}
