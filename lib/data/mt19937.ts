/**
 * MT19937 (Matsumoto & Nishimura 1998) and NumPy's legacy `RandomState.permutation`, so that protocols
 * defined in the papers' code as `np.random.seed(s); np.random.permutation(n)` (ELOC's class folds and its
 * 1 000-image validation hold-out) are reproduced bit-exactly instead of approximated.
 * @module
 */

const N = 624;
const M = 397;

/** The 32-bit Mersenne Twister, seeded like NumPy's legacy `np.random.seed(int)` (init_genrand). */
export class MT19937 {
  #mt = new Uint32Array(N);
  #i = N;

  /** Seeds with a 32-bit unsigned integer. */
  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new Error(`MT19937 seed must be an integer in [0, 2^32), got ${seed}.`);
    }
    const mt = this.#mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1]!;
      mt[i] = (Math.imul(1812433253, prev ^ (prev >>> 30)) + i) >>> 0;
    }
  }

  #twist(): void {
    const mt = this.#mt;
    for (let k = 0; k < N; k++) {
      const y = (mt[k]! & 0x80000000) | (mt[(k + 1) % N]! & 0x7fffffff);
      let v = mt[(k + M) % N]! ^ (y >>> 1);
      if (y & 1) v ^= 0x9908b0df;
      mt[k] = v >>> 0;
    }
    this.#i = 0;
  }

  /** The next tempered 32-bit output. */
  uint32(): number {
    if (this.#i >= N) this.#twist();
    let y = this.#mt[this.#i++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** NumPy's legacy `random_interval(max)`: uniform integer in [0, max] by masked rejection (max < 2^32). */
  interval(max: number): number {
    if (max === 0) return 0;
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    for (;;) {
      const v = (this.uint32() & mask) >>> 0;
      if (v <= max) return v;
    }
  }
}

/**
 * `np.random.seed(seed); np.random.permutation(n)` with NumPy's legacy RandomState, bit-exactly.
 * @example Usage
 * ```ts
 * import { numpyLegacyPermutation } from "@lib/data/mt19937.ts";
 * numpyLegacyPermutation(10, 3); // Int32Array [5, 4, 1, 2, 9, 6, 7, 0, 3, 8]
 * ```
 */
export function numpyLegacyPermutation(n: number, seed: number): Int32Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`permutation size must be ≥ 0, got ${n}.`);
  const mt = new MT19937(seed);
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = mt.interval(i);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}
