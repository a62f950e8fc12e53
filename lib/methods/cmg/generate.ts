/**
 * CMG's class-mixed generation of pseudo-OOD images (Wang, Shao, Lin, Hu, Liu, "CMG: A Class-Mixed Generation
 * Approach to Out-of-Distribution Detection", ECML-PKDD 2022; shaoyijia/CMG@265cc2c `training/fine_tune.py`
 * `generate_pseudo_data`, l. 8–32; papers.md §4a "Generation"):
 *
 *   c₁, c₂ ~ U{seen classes} independently per sample (they may coincide)        (l. 16–19)
 *   ẽ_j = e_{c₁, j} if m_j = 0 else e_{c₂, j},  m_j ~ Bernoulli(½) per dimension    (l. 22–25: `torch.where(rv == 0, …)`)
 *   z ~ N(0, σ² I), σ = 3 (MNIST) / 5 (CIFAR-10)                                     (l. 28; `scalar`, l. 86–89)
 *   x_gen = decode(z, ẽ)                                                             (l. 30)
 *
 * The reference draws from torch's global generator; here every draw comes from one seeded {@linkcode Rng}, in the
 * reference's order (all c₁, all c₂, the mask, then z), so a seed fixes the images. The reference's class indices
 * are 0..K−1 (`torch.randint(0, class_num)`, K = 6 hard-coded at l. 98 and 113); `seenClasses` takes K or an
 * explicit list.
 * @module
 */
import { tf } from "../../tf.ts";
import { Rng, type Seed } from "../../data/rng.ts";
import type { CmgCvae } from "./cvae.ts";

/** σ of z ~ N(0, σ²I) per dataset (`fine_tune.py` l. 86–89: `scalar`). */
export const CMG_SIGMA = { mnist: 3, cifar10: 5 } as const;

/** Options of {@linkcode classMixedEmbeddings}. */
export interface ClassMixedOptions {
  /** K (classes 0..K−1, the reference's `randint(0, K)`) or the explicit list of seen class indices. */
  seenClasses: number | readonly number[];
  /** The random stream (advanced in place); takes precedence over `seed`. */
  rng?: Rng;
  /** Seed of a fresh stream when no `rng` is given. @default 0 */
  seed?: Seed;
  /** true: class-mixed ẽ (CMG); false: the ablation, ẽ = e_{c₁} (no c₂, no mask drawn). @default true */
  mix?: boolean;
}

/** The mixed embeddings and the draws that made them. */
export interface ClassMixedEmbeddings {
  /** ẽ [n, zDim] (caller disposes). */
  embeddings: tf.Tensor2D;
  /** c₁ per sample. */
  c1: Int32Array;
  /** c₂ per sample (equal to c₁ when `mix` is false). */
  c2: Int32Array;
  /** Row-major [n·zDim]: 1 where dimension j of sample i comes from e_{c₂}, 0 where from e_{c₁}. */
  mask: Uint8Array;
}

function seenList(seen: number | readonly number[], numClasses: number): number[] {
  const list = typeof seen === "number" ? Array.from({ length: seen }, (_, i) => i) : [...seen];
  if (list.length === 0) throw new RangeError("seenClasses is empty");
  for (const c of list) {
    if (!Number.isInteger(c) || c < 0 || c >= numClasses) {
      throw new RangeError(`seen class ${c} outside [0, ${numClasses})`);
    }
  }
  return list;
}

/**
 * Class-mixed embeddings ẽ (`generate_pseudo_data`, `training/fine_tune.py` l. 11–25): per sample c₁, c₂ uniform over
 * the seen classes, independently; per dimension j a fair coin m_j picks e_{c₁, j} (m_j = 0) or e_{c₂, j} (m_j = 1).
 * With `mix: false` ẽ = e_{c₁}.
 * @see {@link https://2022.ecmlpkdd.org/wp-content/uploads/2022/09/sub_531.pdf | Paper} · shaoyijia/CMG `training/fine_tune.py`
 * @param cvae Supplies e_y (`embed`) and zDim.
 * @param n Samples.
 * @param opts Seen classes, random stream, mixing switch.
 * @returns ẽ [n, zDim], c₁, c₂ and the mask.
 * @example Usage
 * ```ts ignore
 * const { embeddings, c1, c2, mask } = classMixedEmbeddings(cvae, 128, { seenClasses: 6, seed: 0 });
 * ```
 */
export function classMixedEmbeddings(cvae: CmgCvae, n: number, opts: ClassMixedOptions): ClassMixedEmbeddings {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`);
  const seen = seenList(opts.seenClasses, cvae.numClasses);
  const rng = opts.rng ?? new Rng(opts.seed ?? 0);
  const mix = opts.mix ?? true;
  const d = cvae.zDim;
  const c1 = new Int32Array(n), c2 = new Int32Array(n), mask = new Uint8Array(n * d);
  for (let i = 0; i < n; i++) c1[i] = seen[rng.int(seen.length)]!;
  if (mix) {
    for (let i = 0; i < n; i++) c2[i] = seen[rng.int(seen.length)]!;
    for (let k = 0; k < n * d; k++) mask[k] = rng.int(2);
  } else c2.set(c1);
  const embeddings = tf.tidy(() => {
    const e1 = cvae.embed(c1);
    if (!mix) return e1;
    const m = tf.tensor2d(mask, [n, d], "bool");
    return tf.where(m, cvae.embed(c2), e1) as tf.Tensor2D;
  });
  return { embeddings, c1, c2, mask };
}

/** Options of {@linkcode generateClassMixed}. */
export interface GenerateOptions extends ClassMixedOptions {
  /** σ of z ~ N(0, σ²I): 3 MNIST, 5 CIFAR-10 ({@linkcode CMG_SIGMA}). @default 3 */
  sigma?: number;
}

/** Generated images and every draw behind them. */
export interface Generated extends Omit<ClassMixedEmbeddings, "embeddings"> {
  /** x_gen [n, 28, 28, 1] in (0, 1) (caller disposes). */
  images: tf.Tensor4D;
  /** z, row-major [n·zDim]. */
  z: Float32Array;
}

/**
 * Class-mixed pseudo-OOD images (`generate_pseudo_data`, `training/fine_tune.py` l. 8–32):
 * x_gen = decode(z, ẽ), z ~ N(0, σ²I), ẽ from {@linkcode classMixedEmbeddings} (drawn first, then z, from the same
 * stream). Decoding runs in inference mode (the reference's frozen CVAE in `eval()`; it has no BatchNorm or dropout).
 * `mix: false` is the paper's ablation with one class's embedding.
 * @see {@link https://2022.ecmlpkdd.org/wp-content/uploads/2022/09/sub_531.pdf | Paper} · shaoyijia/CMG `training/fine_tune.py`
 * @param cvae A trained CMG CVAE.
 * @param n Images (reference 128 per step).
 * @param opts σ, seen classes, random stream, mixing switch.
 * @returns The images (dispose them) with z, c₁, c₂ and the mask.
 * @example Usage
 * ```ts ignore
 * const g = generateClassMixed(cvae, 128, { sigma: CMG_SIGMA.mnist, seenClasses: 6, seed: 1 });
 * g.images.dispose();
 * ```
 */
export function generateClassMixed(cvae: CmgCvae, n: number, opts: GenerateOptions): Generated {
  const sigma = opts.sigma ?? CMG_SIGMA.mnist;
  if (!(sigma > 0) || !Number.isFinite(sigma)) throw new RangeError(`sigma must be positive, got ${sigma}`);
  const rng = opts.rng ?? new Rng(opts.seed ?? 0);
  const { embeddings, c1, c2, mask } = classMixedEmbeddings(cvae, n, { ...opts, rng });
  const z = new Float32Array(n * cvae.zDim);
  for (let k = 0; k < z.length; k++) z[k] = sigma * rng.normal();
  try {
    const images = tf.tidy(() => cvae.decode(tf.tensor2d(z, [n, cvae.zDim]), embeddings));
    return { images, z, c1, c2, mask };
  } finally {
    embeddings.dispose();
  }
}
