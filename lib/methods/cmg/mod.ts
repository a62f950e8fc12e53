/**
 * CMG — "CMG: A Class-Mixed Generation Approach to Out-of-Distribution Detection" (Mengyu Wang, Yijia Shao, Haowei
 * Lin, Wenpeng Hu, Bing Liu; ECML-PKDD 2022; code shaoyijia/CMG@265cc2c, papers.md §4), the components of
 * `notebooks/cmg.ipynb`:
 * - `classifier.ts`: stage 1's classifier (the registry's `cmg_cnn` + MLP head, CE over all 11 logits, Adam);
 * - `cvae.ts`: stage 1's conditional VAE (the reference's MNIST architecture or a narrow CPU variant), its loss and
 *   training;
 * - `generate.ts`: class-mixed generation of pseudo-OOD images (and the single-class ablation);
 * - `losses.ts`, `scores.ts`: the CMG-s and CMG-e stage-2 losses, the percentile energy margins, the scores (higher
 *   = more in-distribution);
 * - `finetune.ts`: stage 2 (the head fine-tuned on ID + generated images, evaluations every 20 steps);
 * - `config.ts`, `run.ts`: the notebook's config type and its experiment (`runCmg`, one `runGrid` over Setting-1
 *   partitions × seeds × runs, stage 1 shared by the runs of a (partition, seed));
 * - `display.ts`, `claims.ts`, `deviations.ts`: its tables and figures, claims and deviations.
 *
 * The partitions are `cmgSplit` in `lib/datasets/splits.ts`.
 * @module
 */
export * from "./classifier.ts";
export * from "./cvae.ts";
export * from "./generate.ts";
export * from "./losses.ts";
export * from "./scores.ts";
export * from "./finetune.ts";
export * from "./config.ts";
export * from "./run.ts";
export * from "./display.ts";
export * from "./claims.ts";
export * from "./deviations.ts";
