/**
 * VMDLS's network (Dinari & Freifeld, UAI 2022; BGU-CS-VIL/vmdls@5add9e2 `models/vae.py` `GMM_VAE_Contrastive`,
 * papers.md §2a): a registry backbone g and two affine heads to a D-dimensional latent space, μ(x) and
 * log σ²(x), with the reparameterised sample z = μ + σ·ε. No decoder. It satisfies the experiment layer's
 * `ExtractableModel` (`lib/experiment/outputs.ts`), so `scoreAll` scores it like any backbone.
 * @module
 */
import { tf } from "../../tf.ts";
import type { Backbone } from "../../backbones/mod.ts";
import { dense, FEATURES_LAYER, gap, STAGE_PREFIX, type Sym } from "../../backbones/_blocks.ts";
import type { ExtractableModel } from "../../experiment/outputs.ts";
import type { Rng } from "../../data/rng.ts";

/** Options of {@linkcode vmdlsNet}. */
export interface VmdlsNetOptions {
  /**
   * Latent dimension D (`--latent_dim`: 32 in the README's MNIST and CIFAR-10 commands, 64 for CIFAR-100,
   * BGU-CS-VIL/vmdls `README.md` l. 81, 142). @default 32
   */
  latentDim?: number;
}

/** What the training step needs of one forward pass. */
export interface VmdlsForward {
  /** μ(x) [N, D]. */
  mu: tf.Tensor2D;
  /** log σ²(x) [N, D]. */
  logVar: tf.Tensor2D;
}

/** A VMDLS network: backbone + μ / log σ² heads, scored through the experiment layer. */
export interface VmdlsNet extends ExtractableModel {
  /** The backbone g (its own classification `head` is never trained: no loss reaches it). */
  readonly backbone: Backbone;
  /** x → [μ, log σ²]: every trained weight (`trainLoop`'s `model`, what checkpoints hold). */
  readonly model: tf.LayersModel;
  /** D. */
  readonly latentDim: number;
  /** Penultimate dimension of g (`--enc_out_dim`: 500 for `mnist-conv` at width 1). */
  readonly featureDim: number;
  /** Widths of {@linkcode VmdlsNet.featureList}: the backbone's stages (the last is g), then D. */
  readonly featureListDims: readonly number[];
  /** μ and log σ² of normalised inputs; `training` switches BatchNorm/Dropout to training mode. */
  forward(x: tf.Tensor4D, opts?: { training?: boolean }): VmdlsForward;
  /** μ(x) [N, D], inference mode. */
  embed(x: tf.Tensor4D): tf.Tensor2D;
  /** [GAP of each backbone stage…, μ(x)]; the last stage is g(x) (see {@linkcode vmdlsNet}). */
  featureList(x: tf.Tensor4D): tf.Tensor2D[];
  /** The class means m_c of the nearest-class-mean `logits`, [K, D] (zeros until set). */
  readonly classMeans: tf.Tensor2D;
  /** Replaces the class means (row-major [K·D], e.g. `ClassMeanTracker.meansFlat()`). */
  setClassMeans(means: ArrayLike<number>): void;
  /** Frees the class-means tensor (the layers belong to `model`; dispose it separately). */
  dispose(): void;
}

/**
 * z = μ + exp(½ log σ²)·ε, ε ~ N(0, I) drawn from `rng` (row-major, one `rng.normal()` per entry): the
 * reference's `sample` (`models/vae.py` l. 217–222: `std = exp(log_var / 2)`, `Normal(mu, std).rsample()`), with a
 * seeded stream instead of torch's global generator. Gradients flow to μ and log σ².
 * @param mu [N, D].
 * @param logVar [N, D].
 * @param eps [N, D] standard normal noise, or the `Rng` to draw it from.
 * @returns z [N, D].
 * @example Usage
 * ```ts
 * import { tf } from "@lib/tf.ts";
 * import { Rng } from "@lib/data/rng.ts";
 * const z = reparameterize(tf.zeros([4, 2]), tf.zeros([4, 2]), new Rng(0)); // four N(0, I) draws
 * ```
 */
export function reparameterize(mu: tf.Tensor2D, logVar: tf.Tensor2D, eps: tf.Tensor2D | Rng): tf.Tensor2D {
  const [n, d] = mu.shape;
  if (logVar.shape[0] !== n || logVar.shape[1] !== d) {
    throw new Error(`reparameterize: μ is ${mu.shape} but log σ² is ${logVar.shape}`);
  }
  return tf.tidy(() => {
    const e = eps instanceof tf.Tensor ? eps : tf.tensor2d(standardNormal(eps, n * d), [n, d]);
    if (e.shape[0] !== n || e.shape[1] !== d) throw new Error(`reparameterize: ε is ${e.shape}, expected ${n},${d}`);
    return tf.add(mu, tf.mul(tf.exp(tf.mul(logVar, 0.5)), e)) as tf.Tensor2D;
  });
}

/** `count` standard normal draws from `rng`, float32. */
export function standardNormal(rng: Rng, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = rng.normal();
  return out;
}

/**
 * Builds the VMDLS network over `backbone` (BGU-CS-VIL/vmdls `models/vae.py`):
 * - **heads**: μ = W_μ·g + b_μ and log σ² = W_σ·g + b_σ, two `nn.Linear(enc_out_dim, latent_dim)` with no
 *   activation and PyTorch's default initialisation U(±1/√fan_in) for kernel and bias (l. 163–164; applied in
 *   `_run_step`, l. 208–215), layers `vmdls_mu` and `vmdls_logvar`;
 * - **features(x)** = g(x), the backbone's penultimate features (the encoder's output, l. 209);
 * - **featureList(x)** = [GAP of each backbone stage…, μ(x)]. For every registry backbone the last stage's GAP
 *   *is* g(x) (mnist_conv marks g itself as its last stage; the CIFAR networks pool their last stage into g), so
 *   this is [stages…, g, μ]. With `mnist_conv` it is exactly the reference's ensemble
 *   [GAP(L1), GAP(L2), GAP(L3), g, μ] (`test_step`, l. 291: `get_layer_output(x, i)` for i = 1…4, the 4th being
 *   `forward` = g, then μ; `MnistConvEncoder.get_layer_output`, `models/decoders_encoders.py` l. 65–76),
 *   100 + 100 + 100 + 500 + 32 = 832-d at width 1. Other backbones have more stages than the reference's three
 *   (e.g. ResNet-18's stem): pick the reference's members with the detector's `members` option;
 * - **logits**: the reference has no classifier, and its score predicts a class with the feature-ensemble
 *   Gaussians (the detector's own classes). `logits` here are a nearest-class-mean classifier on μ,
 *   ℓ_c = −½‖μ(x) − m_c‖², with m_c set by {@linkcode VmdlsNet.setClassMeans} (training sets the last epoch's
 *   class means of z, the KL priors' means). This is the reference's latent class Gaussian at test time up to a
 *   scale (`calculate_gaussian` replaces each latent covariance by 10·I, l. 769, around the class means of μ),
 *   and it gives the result rows a meaningful ID accuracy. `head(g)` = the same from g.
 * @see {@link https://openreview.net/pdf?id=ScLeuUUi9gq | Paper} · BGU-CS-VIL/vmdls `models/vae.py`
 * @param backbone A backbone built by `createBackbone` (its `features` and `stage_<i>` layers are found by name).
 * @param opts Latent dimension.
 * @returns The network; it shares the backbone's layers and weights.
 * @example Usage
 * ```ts ignore
 * const net = vmdlsNet(createBackbone("mnist_conv", { numClasses: 10 }), { latentDim: 32 });
 * const { mu, logVar } = net.forward(x, { training: true });
 * ```
 */
export function vmdlsNet(backbone: Backbone, opts: VmdlsNetOptions = {}): VmdlsNet {
  const d = opts.latentDim ?? 32;
  if (!Number.isInteger(d) || d < 1) throw new Error(`vmdlsNet: latentDim must be a positive integer, got ${d}`);
  const layers = backbone.model.layers;
  const featuresLayer = layers.find((l) => l.name === FEATURES_LAYER);
  if (!featuresLayer) throw new Error(`vmdlsNet: backbone ${backbone.name} has no "${FEATURES_LAYER}" layer`);
  const input = backbone.model.inputs[0]!;
  const g = featuresLayer.output as Sym;
  const mu = dense(g, d, { name: "vmdls_mu" });
  const logVar = dense(g, d, { name: "vmdls_logvar" });
  const stageIndex = (name: string) => Number(name.slice(STAGE_PREFIX.length));
  const stages = layers.filter((l) => new RegExp(`^${STAGE_PREFIX}\\d+$`).test(l.name))
    .sort((a, b) => stageIndex(a.name) - stageIndex(b.name))
    .map((l) => {
      const out = l.output as Sym;
      return out.rank === 4 ? gap(out) : out;
    });
  if (stages.length === 0) throw new Error(`vmdlsNet: backbone ${backbone.name} has no stages for the ensemble`);
  const model = tf.model({ inputs: input, outputs: [mu, logVar], name: `${backbone.name}_vmdls` });
  const listModel = tf.model({ inputs: input, outputs: [...stages, mu], name: `${backbone.name}_vmdls_list` });
  const muModel = tf.model({ inputs: input, outputs: mu, name: `${backbone.name}_vmdls_mu` });
  const muLayer = model.getLayer("vmdls_mu");
  const k = backbone.numClasses;
  let classMeans = tf.keep(tf.zeros([k, d])) as tf.Tensor2D;
  const ncm = (m: tf.Tensor2D) =>
    tf.tidy(() => {
      const diff = tf.sub(tf.expandDims(m, 1), tf.expandDims(classMeans, 0)); // [N, K, D]
      return tf.mul(tf.sum(tf.square(diff), 2), -0.5) as tf.Tensor2D;
    });
  const net: VmdlsNet = {
    name: `${backbone.name}_vmdls`,
    backbone,
    model,
    latentDim: d,
    numClasses: k,
    featureDim: backbone.featureDim,
    normalization: backbone.normalization,
    featureListDims: [...stages.map((s) => s.shape[1] as number), d],
    get classMeans() {
      return classMeans;
    },
    forward: (x, o) => {
      const [m, v] = tf.tidy(() => model.apply(x, { training: o?.training ?? false }) as tf.Tensor2D[]);
      return { mu: m!, logVar: v! };
    },
    embed: (x) => tf.tidy(() => muModel.apply(x, { training: false }) as tf.Tensor2D),
    features: (x) => backbone.features(x),
    head: (f) => tf.tidy(() => ncm(muLayer.apply(f) as tf.Tensor2D)),
    logits: (x) => tf.tidy(() => ncm(muModel.apply(x, { training: false }) as tf.Tensor2D)),
    featureList: (x) =>
      tf.tidy(() => {
        const out = listModel.apply(x, { training: false });
        return Array.isArray(out) ? out as tf.Tensor2D[] : [out as tf.Tensor2D];
      }),
    setClassMeans: (means) => {
      if (means.length !== k * d) throw new Error(`setClassMeans: ${means.length} values for ${k} × ${d}`);
      const next = tf.keep(tf.tensor2d(Float32Array.from(means), [k, d]));
      classMeans.dispose();
      classMeans = next;
    },
    dispose: () => classMeans.dispose(),
  };
  return net;
}

/**
 * Frees everything a VMDLS network holds: its class means, the layers of `net.model` (backbone and heads), and the
 * backbone's own classification head, which `net.model` does not use (disposing `backbone.model` as well would
 * dispose the shared layers twice).
 */
export function disposeVmdlsNet(net: VmdlsNet): void {
  net.dispose();
  const used = new Set(net.model.layers);
  net.model.dispose();
  for (const layer of net.backbone.model.layers) if (!used.has(layer)) layer.dispose();
}
