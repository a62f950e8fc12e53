/**
 * The experiment layer every paper notebook runs on (OpenOOD's trainer × postprocessor × evaluator split):
 *
 * - `eval_sets.ts` — {@linkcode loadEvalSets}: ID train / held-out / test and OOD sets (external datasets or a
 *   class split), shape checks in one place;
 * - `outputs.ts` — {@linkcode extractOutputs}: logits, features and feature lists per model and set;
 * - `score.ts` — {@linkcode scoreAll}: one pass over a list of detector specs (`lib/scores` registry);
 * - `rows.ts` — {@linkcode toRows}: scores → result rows (one schema for every paper); `evaluate_model.ts` —
 *   {@linkcode evaluateModel}: both for one trained model;
 * - `grid.ts` — {@linkcode runGrid}: settings × seeds × variants × methods with progress and timings;
 * - `claims.ts` — claims and deviations as data, and their views;
 * - `probe.ts` — a linear probe on frozen features (ID accuracy of methods whose head is not a classifier).
 *
 * A paper folder (`lib/methods/<paper>/`) then holds the method alone: its losses, training, model, config,
 * claims and deviations.
 * @module
 */
export * from "./eval_sets.ts";
export * from "./outputs.ts";
export * from "./score.ts";
export * from "./rows.ts";
export * from "./evaluate_model.ts";
export * from "./grid.ts";
export * from "./claims.ts";
export * from "./probe.ts";
