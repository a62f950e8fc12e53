/**
 * The VAE reparameterisation trick as a layer: z = μ + σ ⊙ ε, σ = exp(½ · log σ²), ε ~ N(0, I)
 * (Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014, §2.4), so gradients reach μ and log σ².
 *
 * Both papers that use it sample in every mode: VMDLS's `sample()` (`models/vae.py`, `q.rsample()`) and CMG's
 * `reparameterize()` (`models/vae.py`) draw ε whether the module is in train or eval mode; at test time VMDLS reads
 * μ directly rather than z. So the default here is to sample always; `inference: "mean"` returns μ when the layer is
 * called with `training: false`, for callers that want a deterministic encoder.
 *
 * ε comes from `tf.randomNormal` without an explicit seed, which TF.js seeds from `Math.random()`: after
 * `seedEverything(seed)` (lib/train/seed.ts) the draws are reproducible and resume with the checkpointed state.
 * @module
 */
import { tf } from "../tf.ts";

/** z = μ + exp(½ · log σ²) ⊙ ε with ε ~ N(0, I) drawn through `Math.random` (a functional op). */
export function reparameterize(mu: tf.Tensor, logVar: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.add(mu, tf.mul(tf.exp(tf.mul(logVar, 0.5)), tf.randomNormal(mu.shape, 0, 1, "float32"))));
}

/** Arguments of {@link GaussianSampling}. */
export interface GaussianSamplingArgs {
  /** "sample" (default; VMDLS and CMG): draw in every mode. "mean": return μ when not training. */
  inference?: "sample" | "mean";
  name?: string;
}

/** A layer taking `[μ, log σ²]` and returning a reparameterised sample z (same shape as μ). */
export class GaussianSampling extends tf.layers.Layer {
  static className = "GaussianSampling";
  readonly inference: "sample" | "mean";

  constructor(args: GaussianSamplingArgs = {}) {
    super(args);
    this.inference = args.inference ?? "sample";
    if (this.inference !== "sample" && this.inference !== "mean") {
      throw new Error(`GaussianSampling inference must be "sample" or "mean", got "${this.inference}"`);
    }
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown> = {}): tf.Tensor {
    if (!Array.isArray(inputs) || inputs.length !== 2) {
      throw new Error("GaussianSampling takes two inputs: [mu, logVar]");
    }
    const [mu, logVar] = inputs as [tf.Tensor, tf.Tensor];
    if (this.inference === "mean" && kwargs.training !== true) return mu.clone();
    return reparameterize(mu, logVar);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return (inputShape as tf.Shape[])[0]!;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), inference: this.inference };
  }
}
tf.serialization.registerClass(GaussianSampling);

/** Creates a {@link GaussianSampling} layer. */
export function gaussianSampling(args?: GaussianSamplingArgs): GaussianSampling {
  return new GaussianSampling(args);
}
