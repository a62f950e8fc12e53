/**
 * Input checks shared by every metric: non-empty, no NaN. Infinite scores are allowed (they are ordered).
 * @module
 */

/**
 * Throws unless `scores` is non-empty and NaN-free.
 *
 * @param scores The scores to check (any numeric array-like: `number[]`, `Float32Array`, `Float64Array`).
 * @param name How the input is named in the error message, e.g. `"id"` or `"ood"`.
 * @throws Error naming the input when it is empty, or the input and index of the first NaN.
 */
export function assertScores(scores: ArrayLike<number>, name: string): void {
  if (scores.length === 0) throw new Error(`metrics: ${name} scores are empty (need at least one sample)`);
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i]!;
    if (v !== v) throw new Error(`metrics: ${name} scores contain NaN at index ${i}`);
  }
}

/**
 * Copies validated scores into a fresh `Float64Array`, mapping −0 to +0 so that ±0 tie.
 *
 * @param scores The scores (validated with {@link assertScores}).
 * @param name The input's name for error messages.
 * @returns A new float64 copy.
 */
export function toFloat64(scores: ArrayLike<number>, name: string): Float64Array {
  assertScores(scores, name);
  const out = new Float64Array(scores.length);
  for (let i = 0; i < scores.length; i++) out[i] = scores[i]! + 0; // -0 + 0 === +0
  return out;
}

/**
 * Throws unless `level` is a finite number in [0, 1].
 *
 * @param level The value to check (a TPR level or confidence level).
 * @param name The option name for the error message.
 */
export function assertFraction(level: number, name: string): void {
  if (!(level >= 0 && level <= 1)) throw new Error(`metrics: ${name} must be in [0, 1], got ${level}`);
}
