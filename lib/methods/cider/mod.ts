/**
 * CIDER — "How to Exploit Hyperspherical Embeddings for Out-of-Distribution Detection?" (Yifei Ming, Yiyou Sun,
 * Ousmane Dia, Yixuan Li; ICLR 2023; arXiv:2203.04450; code deeplearning-wisc/cider), reproduced for
 * `notebooks/cider.ipynb`.
 *
 * What is reproduced (papers.md §6):
 * - the network: CIFAR ResNet-18/34 encoder (narrow widths for the CPU profiles) → penultimate h → projection
 *   head Linear–ReLU–Linear → L2-normalised z (`network.ts`);
 * - class prototypes initialised as normalised class means of z over the training set, updated by EMA
 *   sequentially per sample in batch order, with the dispersion loss back-propagating through the update chain
 *   as in the reference's in-place loop (`prototypes.ts`);
 * - the dispersion and compactness losses with the reference's temperature factors, L = w·L_comp + L_dis
 *   (`losses.ts`), trained on two SupCon-augmented views with SGD (Nesterov) and CIDER's warm-up + cosine
 *   schedule, in a `faithful` variant (the reference's (epoch − 1) warm-up formula, negative rates in the first
 *   epoch) and a `clean` one (`train.ts`);
 * - the baselines with the same backbone, data and budget: CE (MSP, Energy, KNN) and SupCon + KNN;
 * - evaluation: KNN on L2-normalised h with the training set as the bank (squared K-th-neighbour distance),
 *   Mahalanobis as the optional second score, FPR95 with CIDER's rule and ours, AUROC, AUPR; ID accuracy by a
 *   linear probe on frozen features (`evaluate.ts`, `probe.ts`); embedding dispersion/compactness
 *   (`embedding.ts`).
 *
 * Known deviations from the authors' code (listed with the run's numbers by `deviations.ts`): the CPU profiles'
 * data and budget; warm-up enabled at any batch size; fixed seeded OOD subsets instead of random batches; the
 * probe's recipe; Mahalanobis by Cholesky with shrinkage instead of a pseudo-inverse; float64 EMA.
 * @module
 */
export * from "./config.ts";
export * from "./prototypes.ts";
export * from "./losses.ts";
export * from "./network.ts";
export * from "./data.ts";
export * from "./features.ts";
export * from "./train.ts";
export * from "./probe.ts";
export * from "./embedding.ts";
export * from "./evaluate.ts";
export * from "./run.ts";
export * from "./display.ts";
export * from "./deviations.ts";
