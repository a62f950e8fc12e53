/**
 * Unleashing Mask (Zhu et al., ICML'23) as a leaderboard entry (issue 16): a CE classifier pretrained on the
 * protocol's known classes, then UM (fine-tuning with |β·CE − UM| + UM) and UMAP (a learned mask over the frozen
 * weights, same loss), faithful and clean, scored with MSP, Energy (the paper's main score) and ODIN, through
 * `runUnleashingMask` with the notebook's `default`-profile hyper-parameters (`notebooks/unleashing_mask.ipynb`).
 * @module
 */
import { type DatasetName, DATASETS } from "../../datasets/registry.ts";
import type { AugmentStep } from "../../data/augment.ts";
import {
  checkUnleashingMaskConfig,
  type UmScore,
  type UnleashingMaskConfig,
} from "../../methods/unleashing_mask/config.ts";
import { runUnleashingMask, UM_PAPER } from "../../methods/unleashing_mask/run.ts";
import type { EntryResult, LeaderboardEntry, LeaderboardProtocol } from "../types.ts";
import { entryRowsAndScores, LEADERBOARD_FPR_RULE, protocolClassSplit, scaledEpochs } from "./entry_utils.ts";

/** The scores of the entry: UM's output-space scores (Energy is the paper's main one) and ODIN. */
export const UM_ENTRY_SCORES: readonly UmScore[] = ["msp", "energy", "odin"];

/** The fine-tuning methods whose rows the entry returns. */
export const UM_ENTRY_METHODS = ["um", "umap"] as const;

/** Stand-ins for the (unused) OE auxiliary set, the first that is not an evaluation set is taken. */
const AUX_CANDIDATES: readonly DatasetName[] = ["pixel_permuted", "blobs", "rademacher", "noisy"];

/**
 * The Unleashing Mask config of one (ID dataset, seed) under the protocol: the protocol's data, split, backbone,
 * width, pretraining epochs and batch size; UM's fine-tuning and UMAP epochs scaled like the notebook's (2 of 8
 * pretraining epochs, at least 1); the notebook's `default` recipes (pretrain SGD lr 0.05, wd 5e-4; fine-tune lr
 * 0.05, wd 1e-4; UMAP keep rate 0.8, lr 0.1, frozen weights; estimate: keep rate 0.965, 3 draws), UM's paper
 * values on CIFAR (lr 0.1, wd 1e-4); MSP, Energy (T = 1) and ODIN (T = 1000, ε = 0.0014) on at most 300 images per
 * set; no held-out images (the same training images as the other entries) and no Mahalanobis (whose clean variant
 * tunes on held-out images, and which costs more than the rest of the entry).
 */
export function umEntryConfig(
  protocol: LeaderboardProtocol,
  idDataset: DatasetName,
  seed: number,
): UnleashingMaskConfig {
  const shape = DATASETS[idDataset].shape;
  const [h, , c] = shape === "like" ? [28, 28, 1] : shape;
  const cifar = c === 3;
  const augment: readonly AugmentStep[] = [
    { op: "randomCrop", size: h, padding: cifar ? 4 : 2 },
    { op: "horizontalFlip" },
  ];
  const farOod = protocol.farOod.filter((d) => d !== idDataset);
  const aux = AUX_CANDIDATES.find((d) => !farOod.includes(d) && d !== idDataset)!;
  const sub = scaledEpochs(protocol.epochs, 2, 8);
  const backbone = protocol.backbone === "densenet_bc_100"
    ? { name: protocol.backbone, width: protocol.width, depth: 100, dropRate: 0.3, affineBatchNorm: false }
    : { name: protocol.backbone, width: protocol.width };
  return checkUnleashingMaskConfig(
    {
      variants: ["faithful", "clean"],
      seeds: [seed],
      idDataset,
      oodDatasets: farOod,
      aux: { name: aux, split: "train", limit: 1 },
      data: {
        trainLimit: protocol.trainLimit,
        heldOut: 0,
        testLimit: protocol.nTest,
        oodLimit: protocol.nOod,
        dataSeed: protocol.dataSeed,
      },
      backbone,
      augment,
      pretrain: {
        epochs: protocol.epochs,
        batchSize: protocol.batchSize,
        lr: cifar ? 0.1 : 0.05,
        momentum: 0.9,
        weightDecay: cifar ? 1e-4 : 5e-4,
        selection: "last",
        cache: true,
        curve: { idLimit: 64, oodLimit: 32, trainLimit: 64 },
      },
      estimate: { keepRate: 0.965, draws: 3, batchSize: 512, augment: true, manual: null },
      um: { beta: 1 },
      finetune: {
        epochs: sub,
        batchSize: protocol.batchSize,
        lr: cifar ? 0.1 : 0.05,
        momentum: 0.9,
        weightDecay: 1e-4,
      },
      umap: { keepRate: 0.8, freezeWeights: true, epochs: sub, lr: 0.1 },
      oe: { epochs: 1, lr: 0.01, weight: 0.5 },
      methods: UM_ENTRY_METHODS,
      scores: UM_ENTRY_SCORES,
      energy: { temperature: 1 },
      odin: { temperature: 1000, epsilon: 0.0014 },
      mahalanobis: { magnitudes: [0, 0.005], tuneSamples: 200, advNoise: 0.05, fitLimit: 2000 },
      inputScoreLimit: 300,
      evalBatchSize: protocol.evalBatchSize,
      fprRule: LEADERBOARD_FPR_RULE,
      classSplit: protocolClassSplit(protocol),
    } satisfies UnleashingMaskConfig,
  );
}

/** Runs UM and UMAP (faithful and clean) on one (ID dataset, seed) of the protocol. */
export async function runUnleashingMaskEntry(
  protocol: LeaderboardProtocol,
  idDataset: DatasetName,
  seed: number,
): Promise<EntryResult> {
  const cfg = umEntryConfig(protocol, idDataset, seed);
  // The two variants share one pretrained classifier: the second loads it from this cache instead of retraining.
  const cacheRoot = await Deno.makeTempDir({ prefix: "leaderboard-um-" });
  try {
    const exp = await runUnleashingMask(cfg, { cacheRoot });
    const nTrain = exp.sets[0]!.train.shape[0];
    const kept = exp.runs.filter((r) => (UM_ENTRY_METHODS as readonly string[]).includes(r.method));
    const { rows, scores } = entryRowsAndScores(kept, idDataset);
    const prepared = [...new Set(exp.runs.map((r) => r.result.prepared))];
    const pretrained = prepared.filter((p) => !p.pretrain.cached);
    const stages = kept.map((r) => r.result.stage!);
    const trainSeconds = prepared.reduce((s, p) => s + p.pretrain.seconds + p.estimateSeconds, 0) +
      stages.reduce((s, st) => s + st.seconds, 0);
    const imagesSeen = (pretrained.length * cfg.pretrain.epochs + stages.reduce((s, st) => s + st.history.length, 0)) *
      nTrain;
    return {
      rows,
      scores,
      trainSeconds,
      imagesSeen,
      scoreSeconds: kept.reduce((s, r) => s + r.seconds - r.result.stage!.seconds, 0),
      notes: [
        `One CE classifier (${cfg.backbone.name} ×${cfg.backbone.width}) pretrained ${cfg.pretrain.epochs} epochs on ` +
        `the ${nTrain} known-class training images (shared by both variants), then UM and UMAP fine-tuned ` +
        `${cfg.finetune.epochs} epoch(s) each per variant: the notebook's 2 fine-tuning epochs per 8 pretraining ` +
        `epochs, scaled with the protocol's epochs (at least 1). Training time includes UM's loss-constraint estimate.`,
        `Scores: ${cfg.scores.join(", ")} (Energy is UM's main score); ODIN on the first ${cfg.inputScoreLimit} ` +
        "images of each set. UM's Mahalanobis is not run (its tuning costs more than the rest of the entry; the " +
        "clean variant also needs held-out training images, which would change the training subset).",
        "The OE and OE+UM variants and the CE-FT control are not run; the pretrained CE model is scored by the " +
        "runner but its rows are dropped (the baselines entry reports CE).",
        `Augmentation: random crop (padding ${
          cfg.augment === "cropFlip" ? 4 : (cfg.augment[0] as { padding: number }).padding
        }) ` +
        `+ horizontal flip (UM's, scaled to the image size). FPR95 rule: ${cfg.fprRule} (UM's is hendrycks).`,
      ],
    };
  } finally {
    await Deno.remove(cacheRoot, { recursive: true }).catch(() => {});
  }
}

/** The Unleashing Mask entry. */
export const unleashingMaskEntry: LeaderboardEntry = {
  paper: UM_PAPER,
  title: "Unleashing Mask: UM and UMAP (Zhu et al., ICML'23)",
  run: runUnleashingMaskEntry,
};
