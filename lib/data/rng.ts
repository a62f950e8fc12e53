/**
 * A small, fast, seedable pseudo-random generator (sfc32, Chris Doty-Humphrey's "Small Fast Counting" generator)
 * whose whole state is four 32-bit words, so it can be saved with `getState()` and restored with `setState()`
 * (e.g. in a training checkpoint) and continue exactly where it stopped.
 *
 * Every random choice of the data pipeline (shuffling, sampling, augmentation, synthetic data) draws from an
 * `Rng`, never from `Math.random`, so a run is reproducible from its seed.
 * @module
 */

/** The serialisable state of an {@linkcode Rng}: the four sfc32 words as unsigned 32-bit integers. */
export interface RngState {
  /** Always `"sfc32"`; guards against restoring a foreign state. */
  readonly algorithm: "sfc32";
  /** The four state words a, b, c, d (unsigned 32-bit). */
  readonly words: readonly [number, number, number, number];
}

/** What `new Rng(seed)` accepts: a finite integer (any size) or a string (hashed). */
export type Seed = number | string;

function splitmix32(x: number): () => number {
  let s = x >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return (z ^ (z >>> 15)) >>> 0;
  };
}

/** FNV-1a over the UTF-16 code units, folded with the length; only used to turn string seeds into numbers. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h ^ s.length) >>> 0;
}

function seedWords(seed: Seed): [number, number] {
  if (typeof seed === "string") return [hashString(seed), 0x5bd1e995];
  if (!Number.isFinite(seed) || !Number.isInteger(seed)) {
    throw new Error(`Rng seed must be a finite integer or a string, got ${seed}.`);
  }
  const lo = seed >>> 0; // low 32 bits (two's complement for negatives)
  const hi = Math.floor(seed / 4294967296) >>> 0;
  return [lo, hi];
}

/**
 * sfc32 pseudo-random generator with a saveable state.
 *
 * @example Usage
 * ```ts
 * import { Rng } from "@lib/data/rng.ts";
 * const rng = new Rng(42);
 * const saved = rng.getState();
 * const a = rng.float();
 * rng.setState(saved);
 * console.log(rng.float() === a); // true
 * ```
 */
export class Rng {
  #a = 0;
  #b = 0;
  #c = 0;
  #d = 0;

  /** Seeds the generator; equal seeds give equal streams. Default seed 0. */
  constructor(seed: Seed = 0) {
    const [lo, hi] = seedWords(seed);
    const mix = splitmix32(lo ^ Math.imul(hi, 0x85ebca6b));
    this.#a = mix();
    this.#b = mix() ^ hi;
    this.#c = mix();
    this.#d = 1;
    for (let i = 0; i < 15; i++) this.uint32();
  }

  /** A generator positioned at a saved state. */
  static fromState(state: RngState): Rng {
    const r = new Rng(0);
    r.setState(state);
    return r;
  }

  /** The current state; pass it to `setState` to replay the stream from here. */
  getState(): RngState {
    return { algorithm: "sfc32", words: [this.#a, this.#b, this.#c, this.#d] };
  }

  /** Restores a state from `getState()`; throws on anything else. */
  setState(state: RngState): void {
    const w = state?.words;
    if (
      state?.algorithm !== "sfc32" || !Array.isArray(w) || w.length !== 4 ||
      !w.every((x) => Number.isInteger(x) && x >= 0 && x <= 0xffffffff)
    ) {
      throw new Error(`Not an sfc32 Rng state: ${JSON.stringify(state)}`);
    }
    [this.#a, this.#b, this.#c, this.#d] = w;
  }

  /** The next unsigned 32-bit integer. */
  uint32(): number {
    const a = this.#a, b = this.#b, c = this.#c, d = this.#d;
    const t = (((a + b) >>> 0) + d) >>> 0;
    this.#d = (d + 1) >>> 0;
    this.#a = (b ^ (b >>> 9)) >>> 0;
    this.#b = (c + (c << 3)) >>> 0;
    const cr = ((c << 21) | (c >>> 11)) >>> 0;
    this.#c = (cr + t) >>> 0;
    return t;
  }

  /** A float uniform in [0, 1) with 53 random bits. */
  float(): number {
    const hi = this.uint32() >>> 5; // 27 bits
    const lo = this.uint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** A float uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }

  /** An integer uniform in [0, n), without modulo bias; `n` must be an integer in [1, 2^32]. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 4294967296) throw new Error(`Rng.int(n) needs 1 ≤ n ≤ 2^32, got ${n}.`);
    if (n === 4294967296) return this.uint32();
    const limit = 4294967296 - (4294967296 % n); // largest multiple of n that fits
    for (;;) {
      const x = this.uint32();
      if (x < limit) return x % n;
    }
  }

  /** True with probability `p`. */
  bernoulli(p: number): boolean {
    return this.float() < p;
  }

  /** A standard normal sample (Box–Muller; draws two floats per call, keeps no cached spare). */
  normal(mean = 0, std = 1): number {
    let u = this.float();
    while (u === 0) u = this.float();
    const v = this.float();
    return mean + std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Shuffles `array` in place (Fisher–Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(array: T): T {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = array[i];
      array[i] = array[j];
      array[j] = t;
    }
    return array;
  }

  /** A uniformly random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  /** An independent generator derived from this one's next outputs (advances this generator by 4 draws). */
  fork(): Rng {
    const child = new Rng(0);
    child.setState({
      algorithm: "sfc32",
      words: [this.uint32(), this.uint32(), this.uint32(), (this.uint32() | 1) >>> 0],
    });
    for (let i = 0; i < 12; i++) child.uint32();
    return child;
  }
}

/** Returns `rng` when given, else a new `Rng(seed ?? 0)`: the usual way options objects accept either. */
export function rngFrom(opts: { rng?: Rng; seed?: Seed }): Rng {
  return opts.rng ?? new Rng(opts.seed ?? 0);
}
