/**
 * Training: the loop (`trainLoop`), resumable batch sources, PyTorch-semantics optimizers, learning-rate
 * schedules, the progress bar, checkpoints and seeding — everything a notebook needs to train, in one import.
 * @module
 */
export * from "./loop.ts";
export * from "./source.ts";
export * from "./optimizers.ts";
export * from "./schedules.ts";
export * from "../report/progress.ts";
export * from "./checkpoint.ts";
export * from "./seed.ts";
export * from "./classifier.ts";
