/**
 * L2 normalisation as a layer: CIDER's projection head ends in `F.normalize(head(h), dim=1)`, putting the
 * embeddings on the unit hypersphere (Ming et al., "How to Exploit Hyperspherical Embeddings for
 * Out-of-Distribution Detection?", ICLR 2023).
 *
 * y = x / max(‖x‖₂, ε) along `axis` (PyTorch `torch.nn.functional.normalize`, p = 2, ε = 1e-12), computed as
 * x / √max(Σx², ε²), which has the same value and a finite gradient at x = 0. The `"add"` guard computes
 * x / (‖x‖₂ + ε) instead, the KNN paper's `normalizer` (deeplearning-wisc/knn-ood `run_cifar.py` l.34, ε = 1e-10;
 * CIDER's `eval_ood.py` takes F.normalize'd features, equal to ~1e-10 relative at these norms); this is the one
 * L2 normalisation of tensors in the library (`normalizeRows` in `lib/scores/matrix.ts` is its plain-array twin).
 * @see {@link https://pytorch.org/docs/stable/generated/torch.nn.functional.normalize.html | F.normalize}
 * @module
 */
import { tf } from "../tf.ts";

/**
 * How ε keeps the division finite: `"clamp"` divides by max(‖x‖₂, ε) (PyTorch `F.normalize`), `"add"` by
 * ‖x‖₂ + ε (the KNN paper's `normalizer`).
 */
export type L2Guard = "clamp" | "add";

/** Arguments of {@link L2Normalize}. */
export interface L2NormalizeArgs {
  /** Axis normalised over; default -1 (the feature axis). */
  axis?: number;
  /** ε; default 1e-12 (PyTorch). */
  epsilon?: number;
  name?: string;
}

/**
 * x / max(‖x‖₂, ε) along an axis (or x / (‖x‖₂ + ε) with `guard` `"add"`), as a functional op (returns a new
 * tensor). The `"add"` form is `tf.norm(x, "euclidean", axis, true) + ε`, op for op what KNN has always computed
 * (so its numbers are bit for bit the same); its gradient is not finite at x = 0, so it is meant for inference.
 */
export function l2Normalize<T extends tf.Tensor>(x: T, axis = -1, epsilon = 1e-12, guard: L2Guard = "clamp"): T {
  return tf.tidy(() => {
    if (guard === "add") return tf.div(x, tf.add(tf.norm(x, "euclidean", axis, true), epsilon)) as T;
    const sumSq = tf.sum(tf.square(x), axis, true);
    return tf.div(x, tf.sqrt(tf.maximum(sumSq, epsilon * epsilon))) as T;
  });
}

/** A layer computing {@link l2Normalize}; no weights; registered for (de)serialisation. */
export class L2Normalize extends tf.layers.Layer {
  static className = "L2Normalize";
  readonly axis: number;
  readonly epsilon: number;

  constructor(args: L2NormalizeArgs = {}) {
    super(args);
    this.axis = args.axis ?? -1;
    this.epsilon = args.epsilon ?? 1e-12;
    if (!(this.epsilon > 0)) throw new Error(`L2Normalize epsilon must be > 0, got ${this.epsilon}`);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return l2Normalize(x, this.axis, this.epsilon);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), axis: this.axis, epsilon: this.epsilon };
  }
}
tf.serialization.registerClass(L2Normalize);

/** Creates an {@link L2Normalize} layer. */
export function l2NormalizeLayer(args?: L2NormalizeArgs): L2Normalize {
  return new L2Normalize(args);
}
