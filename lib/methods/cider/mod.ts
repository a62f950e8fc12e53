/**
 * CIDER — "How to Exploit Hyperspherical Embeddings for Out-of-Distribution Detection?" (Yifei Ming, Yiyou Sun,
 * Ousmane Dia, Yixuan Li; ICLR 2023; arXiv:2203.04450; code deeplearning-wisc/cider), reproduced for
 * `notebooks/cider.ipynb` on the shared experiment layer (`lib/experiment`).
 *
 * What is reproduced (papers.md §6):
 * - the network: CIFAR ResNet-18/34 encoder (narrow widths for the CPU profiles) → penultimate h → projection
 *   head Linear–ReLU–Linear → L2-normalised z (`network.ts`);
 * - class prototypes initialised as normalised class means of z over the training set, updated by EMA
 *   sequentially per sample in batch order, with the dispersion loss back-propagating through the update chain
 *   as in the reference's in-place loop (`prototypes.ts`);
 * - the dispersion and compactness losses with the reference's temperature factors, L = w·L_comp + L_dis
 *   (`losses.ts`), trained on two SupCon-augmented views with SGD (Nesterov) and CIDER's warm-up + cosine
 *   schedule (`train.ts`), in a `faithful` variant (the reference's (epoch − 1) warm-up formula, negative rates in
 *   the first epoch, for CIDER and for its SupCon baseline, which `train_cider.py --loss supcon` trains) and a
 *   `clean` one;
 * - the baselines with the same backbone, data and budget: CE (MSP, Energy, KNN) and SupCon + KNN;
 * - evaluation (`run.ts`, through `runGrid`/`scoreAll`/`toRows`): KNN on L2-normalised h with the training set as
 *   the bank, Mahalanobis as the optional second score (faithful: `eval_ood.py`'s global covariance and
 *   pseudo-inverse, `ciderMahalanobis`; clean: tied covariance), FPR95 with CIDER's rule and ours, AUROC, AUPR;
 *   ID accuracy by a linear probe (`probe.ts`); embedding dispersion/compactness (`embedding.ts`);
 * - the claims and deviations as data (`deviations.ts`);
 * - the `released` run (`OOD_WEIGHTS=released`, `released.ts`): the authors' CIFAR checkpoints, read safely and
 *   scored with this project's KNN and metrics next to the paper's Table 6 and the authors' sample run.
 * @module
 */
export * from "./config.ts";
export * from "./prototypes.ts";
export * from "./losses.ts";
export * from "./network.ts";
export * from "./train.ts";
export * from "./run.ts";
export * from "./display.ts";
export * from "./deviations.ts";
export * from "./released.ts";
