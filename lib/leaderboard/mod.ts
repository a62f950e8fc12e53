/**
 * The leaderboard (issue 16): one protocol, every paper's method and the post-hoc baselines, with confidence
 * intervals, ranks, cost and per-set views. `notebooks/leaderboard.ipynb` is its notebook.
 * @module
 */
export * from "./types.ts";
export * from "./config.ts";
export * from "./run.ts";
export * from "./stats.ts";
export * from "./table.ts";
export * from "./cost.ts";
export * from "./views.ts";
export * from "./notes.ts";
export * from "./display.ts";
export { LEADERBOARD_ENTRIES } from "./entries/mod.ts";
