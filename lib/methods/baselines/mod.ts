/**
 * Post-hoc OOD baselines (`notebooks/00_baselines.ipynb`): a CNN trained with plain cross-entropy on an
 * embedded ID dataset (MNIST or Fashion-MNIST), then every post-hoc score of `lib/scores` — MSP (Hendrycks &
 * Gimpel, ICLR 2017), MaxLogit (Hendrycks et al., ICML 2022), Energy (Liu et al., NeurIPS 2020), ODIN (Liang et
 * al., ICLR 2018), Mahalanobis (Lee et al., NeurIPS 2018; the multi-layer ensemble only for backbones with
 * `featureList`), KNN (Sun et al., ICML 2022) — against every OOD set available offline.
 *
 * **Not a paper reproduction.** No paper reports this exact setting, so there are no published numbers to
 * compare with. The pieces:
 * - `config.ts`: the notebook's config type {@link BaselinesConfig} and its check;
 * - `data.ts`: the ID and OOD images of one setting;
 * - `train.ts`: the standard recipe (cross-entropy, SGD + momentum, cosine LR per step, no augmentation);
 * - `extract.ts`: batched features / logits / featureList over a dataset, as plain arrays;
 * - `score.ts`: the scorer registry (fit once on training features, run on each set);
 * - `rows.ts`: score values → tidy result rows (`evaluate`, `resultRow`), and their summary per ID dataset;
 * - `run.ts`: one ID dataset × seed, train then score;
 * - `display.ts`: the score × OOD-set matrix of one metric, data/run tables, histograms on a readable scale
 *   (−log10(−S) for heavy-tailed distances), ROC curves by score, figures side by side.
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
export * from "./data.ts";
export * from "./train.ts";
export * from "./extract.ts";
export * from "./score.ts";
export * from "./rows.ts";
export * from "./run.ts";
export * from "./display.ts";
