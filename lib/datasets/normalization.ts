/**
 * Per-channel normalization constants, as data. The papers' code uses *different* CIFAR std vectors, so each
 * is kept under its own name instead of one "CIFAR" constant:
 *
 * | name | mean | std | used by |
 * |---|---|---|---|
 * | `cifarOdin` | (125.3, 123.0, 113.9)/255 | (63.0, 62.1, 66.7)/255 | ODIN, ELOC, Unleashing Mask |
 * | `cifarSupcon` | (0.4914, 0.4822, 0.4465) | (0.2470, 0.2435, 0.2616) | CIDER (SupCon), OpenOOD CIFAR-10 |
 * | `cifarVmdls` | (0.4914, 0.4822, 0.4465) | (0.2023, 0.1994, 0.2010) | VMDLS (pl_bolts `cifar10_normalization`) |
 * | `cifar100OpenOod` | (0.5071, 0.4867, 0.4408) | (0.2675, 0.2565, 0.2761) | OpenOOD CIFAR-100 |
 * | `mnistHalf` | 0.5 | 0.5 | VMDLS MNIST (maps to [-1, 1]) |
 * | `mnistStandard` | 0.1307 | 0.3081 | the usual MNIST statistics |
 * | `unitRange` | 0 | 1 | CMG MNIST (inputs in [0, 1], no normalization) |
 * | `unitRangeRgb` | (0, 0, 0) | (1, 1, 1) | CMG CIFAR-10 (inputs in [0, 1], no normalization) |
 * | `imagenet` | (0.485, 0.456, 0.406) | (0.229, 0.224, 0.225) | ImageNet-pretrained backbones |
 *
 * CIDER's code lists the SupCon mean/std rounded to three decimals ((0.491, 0.482, 0.447)/(0.247, 0.244, 0.262));
 * `cifarSupcon` keeps the four-decimal values of the same statistics.
 * @module
 */
import type { Dataset, Normalization } from "./types.ts";

/** Named normalization constants (see the module table). */
export const NORMALIZATION = {
  cifarOdin: { mean: [125.3 / 255, 123.0 / 255, 113.9 / 255], std: [63.0 / 255, 62.1 / 255, 66.7 / 255] },
  cifarSupcon: { mean: [0.4914, 0.4822, 0.4465], std: [0.2470, 0.2435, 0.2616] },
  cifarVmdls: { mean: [0.4914, 0.4822, 0.4465], std: [0.2023, 0.1994, 0.2010] },
  cifar100OpenOod: { mean: [0.5071, 0.4867, 0.4408], std: [0.2675, 0.2565, 0.2761] },
  mnistHalf: { mean: [0.5], std: [0.5] },
  mnistStandard: { mean: [0.1307], std: [0.3081] },
  unitRange: { mean: [0], std: [1] },
  unitRangeRgb: { mean: [0, 0, 0], std: [1, 1, 1] },
  imagenet: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
} as const satisfies Record<string, Normalization>;

/** A key of {@linkcode NORMALIZATION}. */
export type NormalizationName = keyof typeof NORMALIZATION;

/** Looks up a normalization by name, or passes an explicit one through; throws listing the valid names. */
export function resolveNormalization(n: NormalizationName | Normalization): Normalization {
  if (typeof n !== "string") return n;
  const found = (NORMALIZATION as Record<string, Normalization>)[n];
  if (!found) throw new Error(`Unknown normalization "${n}". Valid names: ${Object.keys(NORMALIZATION).join(", ")}.`);
  return found;
}

/**
 * Per-channel mean and standard deviation of a dataset's pixels, on the [0, 1] scale (population std).
 * @example Usage
 * ```ts
 * const ds = { name: "x", images: new Uint8Array([0, 255]), labels: new Int32Array(2), shape: [2, 1, 1, 1] as [number, number, number, number], classes: [] };
 * pixelStatistics(ds); // { mean: [0.5], std: [0.5] }
 * ```
 */
export function pixelStatistics(ds: Dataset): Normalization {
  const c = ds.shape[3];
  const sum = new Float64Array(c), sq = new Float64Array(c);
  for (let i = 0; i < ds.images.length; i++) {
    const v = ds.images[i]! / 255;
    sum[i % c]! += v;
    sq[i % c]! += v * v;
  }
  const n = ds.images.length / c;
  const mean = Array.from(sum, (s) => s / n);
  const std = Array.from(sq, (s, k) => Math.sqrt(Math.max(s / n - mean[k]! ** 2, 1e-12)));
  return { mean, std };
}
