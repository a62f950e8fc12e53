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
 * - the scores MSP, ODIN, Energy and UM's tuned Mahalanobis (`scores.ts`, `mahalanobis.ts`, `logistic.ts`), the
 *   paper's metrics (FPR95 with Hendrycks' rule, AUROC, AUPR = average precision with ID positive, ID accuracy;
 *   `rows.ts`) and a claims check.
 *
 * Quirks of the authors' code ({@link QUIRKS}) are reproduced by the `faithful` variant and fixed by `clean`.
 * @module
 */
export * from "./config.ts";
export * from "./loss.ts";
export * from "./data.ts";
export * from "./outputs.ts";
export * from "./umap.ts";
export * from "./estimate.ts";
export * from "./finetune.ts";
export * from "./pretrain.ts";
export * from "./logistic.ts";
export * from "./mahalanobis.ts";
export * from "./scores.ts";
export * from "./rows.ts";
export * from "./run.ts";
export * from "./display.ts";
export * from "./notes.ts";
