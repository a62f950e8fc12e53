/**
 * Unleashing Mask (UM) and UMAP — Zhu, Li, Yao, Liu, Xu, Han, "Unleashing Mask: Explore the Intrinsic
 * Out-of-Distribution Detection Capability", ICML 2023 (arXiv:2306.03715; code `ZFancy/Unleashing-Mask` @1640ce6,
 * papers.md §5). Notebook: `notebooks/unleashing_mask.ipynb`.
 *
 * What is reproduced:
 * - a well-trained classifier (trained and cached here; `pretrain.ts`), with OOD detection recorded along its run;
 * - the loss-constraint estimate: the mean training CE of the model with a random 3.5 % of each conv/linear
 *   layer's weights masked (`estimate.ts`), or a manual value;
 * - UM fine-tuning with L = |β·CE − UM| + UM (`loss.ts`), UMAP (a learned top-k mask over frozen weights with a
 *   straight-through gradient, keep rate 0.8; `umap.ts` over `lib/layers/top_k_mask.ts`), the OE variant
 *   (CE + 0.5·CE-to-uniform on auxiliary outliers) with and without UM, and the CE fine-tuning control
 *   (`finetune.ts`, `run.ts`);
 * - one `runGrid` over seeds × variants × methods (`run.ts`) on the shared experiment layer: data from
 *   `loadEvalSets`, scores from `scoreAll` with the registry's MSP / `umMsp`, ODIN, Energy and `umMahalanobis`
 *   (`lib/scores/um_mahalanobis.ts`), rows from `toRows` (FPR95 with Hendrycks' rule, AUROC, AUPR = average
 *   precision with ID positive, ID accuracy), the paper's claims as `ClaimSpec` data ({@link umClaims}).
 *
 * - with `weights: "released"` (`OOD_WEIGHTS=released`), no training: the authors' committed DenseNets
 *   (`runs/densenet_cifar{10,100}_{best,last}.state`) read safely and scored on the paper's sets with the same
 *   detectors and metrics, beside the README's Sample Results (`released.ts`).
 *
 * Quirks of the authors' code ({@link umDeviations}) are reproduced by the `faithful` variant and fixed by `clean`.
 * @module
 */
export * from "./config.ts";
export * from "./loss.ts";
export * from "./umap.ts";
export * from "./estimate.ts";
export * from "./finetune.ts";
export * from "./pretrain.ts";
export * from "./run.ts";
export * from "./display.ts";
export * from "./notes.ts";
export * from "./released.ts";
