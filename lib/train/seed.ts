/**
 * One seed for everything random in a run.
 *
 * TF.js draws a fresh seed from `Math.random()` for every random op that is not given one: weight
 * initialisers, dropout masks, `tf.randomNormal`… `seedEverything` replaces `Math.random` with a seeded
 * sfc32 stream, so all of those become a deterministic function of the seed (given the same sequence of
 * calls). The data pipeline takes its own `Rng` streams, derived with {@link deriveSeed}, so that adding an
 * augmentation does not shift the weight initialisation.
 * @module
 */
import { Rng, type RngState, type Seed } from "../data/rng.ts";

const originalMathRandom = Math.random;
let mathRandomRng: Rng | null = null;

/** Seeds `Math.random` (and hence TF.js initialisers, dropout and random ops). Returns the generator. */
export function seedEverything(seed: Seed): Rng {
  const rng = new Rng(deriveSeed(seed, "Math.random"));
  mathRandomRng = rng;
  Math.random = () => rng.float();
  return rng;
}

/** Puts the platform's own `Math.random` back. */
export function unseed(): void {
  Math.random = originalMathRandom;
  mathRandomRng = null;
}

/** The state of the seeded `Math.random` stream, or null when `seedEverything` is not in effect. */
export function mathRandomState(): RngState | null {
  return mathRandomRng?.getState() ?? null;
}

/** Continues the seeded `Math.random` stream from a saved state (e.g. when resuming from a checkpoint). */
export function restoreMathRandomState(state: RngState): void {
  const rng = Rng.fromState(state);
  mathRandomRng = rng;
  Math.random = () => rng.float();
}

/**
 * A seed for an independent stream named `purpose`, derived from the run's seed (FNV-1a of both), so that
 * e.g. `deriveSeed(seed, "shuffle")` and `deriveSeed(seed, "augment")` never collide.
 */
export function deriveSeed(seed: Seed, purpose: string): number {
  const text = `${typeof seed}:${seed}/${purpose}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
