/**
 * The configuration of the leaderboard notebook (`notebooks/leaderboard.ipynb`, conventions C7): the protocol every
 * entry runs under ({@linkcode LeaderboardProtocol}), which entries run, and the bootstrap. The config cell is one
 * literal that `satisfies LeaderboardConfig`, its sizes picked per profile with `byProfile`;
 * {@linkcode checkLeaderboardConfig} rejects inconsistent values, naming the field and the valid values.
 * @module
 */
import { BACKBONES } from "../backbones/mod.ts";
import { DATASETS } from "../datasets/registry.ts";
import { configChecks } from "../experiment/config_check.ts";
import type { LeaderboardProtocol } from "./types.ts";

/** The entries, by paper id, in the leaderboard's order: the post-hoc baselines first, then the five papers. */
export const LEADERBOARD_PAPERS = ["baselines", "vmdls", "eloc", "cmg", "unleashing_mask", "cider"] as const;

/** A paper id of the leaderboard. */
export type LeaderboardPaper = typeof LEADERBOARD_PAPERS[number];

/** The config literal of the leaderboard notebook. */
export interface LeaderboardConfig {
  /** The protocol every entry runs under. */
  protocol: LeaderboardProtocol;
  /** The entries that run, in this order. */
  papers: readonly LeaderboardPaper[];
  /** Bootstrap of the confidence intervals: resamples and seed. */
  bootstrap: { resamples: number; seed: number };
}

/** Throws when the config is inconsistent, naming the field (and the valid values); returns it otherwise. */
export function checkLeaderboardConfig<C extends LeaderboardConfig>(cfg: C): C {
  const { fail, posInt, positive, oneOf, list } = configChecks("LeaderboardConfig");
  const p = cfg.protocol;
  const names = Object.keys(DATASETS);
  list(p.idDatasets, "protocol.idDatasets", names);
  for (const id of p.idDatasets) {
    const e = DATASETS[id];
    if (e.numClasses < 2) fail(`protocol.idDatasets entry "${id}" has no classes to split`);
    if (p.knownClasses >= e.numClasses) {
      fail(`protocol.knownClasses must leave unseen classes: ${p.knownClasses} of ${id}'s ${e.numClasses}`);
    }
  }
  posInt(p.knownClasses, "protocol.knownClasses");
  if (p.knownClasses < 2) fail(`protocol.knownClasses must be at least 2, got ${p.knownClasses}`);
  list(p.farOod, "protocol.farOod", names);
  if (p.nearOod?.length) list(p.nearOod, "protocol.nearOod", names);
  for (const n of p.nearOod ?? []) if (p.farOod.includes(n)) fail(`protocol.nearOod entry "${n}" is also far-OOD`);
  oneOf(p.backbone, "protocol.backbone", Object.keys(BACKBONES));
  positive(p.width, "protocol.width");
  posInt(p.epochs, "protocol.epochs");
  posInt(p.batchSize, "protocol.batchSize");
  posInt(p.trainLimit, "protocol.trainLimit", true);
  posInt(p.nTest, "protocol.nTest", true);
  posInt(p.nOod, "protocol.nOod", true);
  list(p.seeds, "protocol.seeds");
  posInt(p.evalBatchSize, "protocol.evalBatchSize");
  list(cfg.papers, "papers", LEADERBOARD_PAPERS);
  posInt(cfg.bootstrap.resamples, "bootstrap.resamples");
  return cfg;
}
