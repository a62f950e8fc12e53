/**
 * The leaderboard's entries, by paper id (a typed object literal; `tests/leaderboard/entries/mod_test.ts` checks
 * every entry): the post-hoc baselines on a cross-entropy model, then the five papers, each mapping the protocol onto
 * its paper's config and running that paper's runner.
 * @module
 */
import type { LeaderboardPaper } from "../config.ts";
import type { LeaderboardEntry } from "../types.ts";
import { baselinesEntry } from "./baselines.ts";
import { ciderEntry } from "./cider.ts";
import { cmgEntry } from "./cmg.ts";
import { elocEntry } from "./eloc.ts";
import { unleashingMaskEntry } from "./unleashing_mask.ts";
import { vmdlsEntry } from "./vmdls.ts";

/** Every entry of the leaderboard, by paper id. */
export const LEADERBOARD_ENTRIES: Readonly<Record<LeaderboardPaper, LeaderboardEntry>> = {
  baselines: baselinesEntry,
  vmdls: vmdlsEntry,
  eloc: elocEntry,
  cmg: cmgEntry,
  unleashing_mask: unleashingMaskEntry,
  cider: ciderEntry,
};
