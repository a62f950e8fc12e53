/**
 * Post-hoc OOD baselines (`notebooks/00_baselines.ipynb`): a CNN trained with plain cross-entropy on an
 * embedded ID dataset (MNIST or Fashion-MNIST), then every generic detector of `lib/scores` — MSP, MaxLogit,
 * Energy, Entropy, GEN, KL-matching, ODIN, ReAct, ASH-P/B/S, DICE, GradNorm, Mahalanobis, Relative Mahalanobis (the
 * multi-layer ensemble only for backbones with `featureList`), KNN, ViM, Residual, SHE — against every OOD set
 * available offline. **Not a paper reproduction**: no paper reports this setting.
 *
 * The method alone, on the experiment layer (`lib/experiment`): `config.ts` (the config type and its check),
 * `train.ts` (cross-entropy, SGD + momentum, cosine LR per step, no augmentation), `run.ts` (its detector specs
 * and {@linkcode runBaselines}: one `runGrid` over ID datasets × seeds) and `display.ts` (its tables and figures).
 *
 * Known deviations from the scores' papers: ODIN's T and ε and Mahalanobis's input preprocessing are not tuned
 * on OOD validation data (ODIN uses its CIFAR defaults T = 1000, ε = 0.0014; Mahalanobis uses the penultimate
 * layer only, no input preprocessing, and `lib/scores` inverts a singular covariance with jitter where Lee's
 * code takes the pseudo-inverse); KNN's K = 50 is Sun et al.'s CIFAR-10 value, not tuned for MNIST. In the
 * default profile ODIN scores a subset of each set, and Mahalanobis/KNN are fitted on a subset of the
 * training features.
 * @module
 */
export * from "./config.ts";
export * from "./run.ts";
export * from "./display.ts";
