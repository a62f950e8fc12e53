/**
 * VMDLS — "Variational- and Metric-based Deep Latent Space for Out-of-Distribution Detection" (Or Dinari, Oren
 * Freifeld; UAI 2022; https://openreview.net/pdf?id=ScLeuUUi9gq; code BGU-CS-VIL/vmdls@5add9e2), the method's
 * components for `notebooks/vmdls.ipynb` (papers.md §2):
 * - `losses.ts`: the triplet + distancing loss (every valid triplet, PML's average over non-zero terms), the
 *   distancing-margin schedule, the KL term to class-conditional N(m_c, 0.1²I) priors;
 * - `priors.ts`: the previous epoch's class means of z, the KL priors;
 * - `sampler.ts`: the class-balanced B_c × B_s batch sampler;
 * - `network.ts`: the backbone + μ / log σ² heads, the reparameterised sample, the feature ensemble
 *   `featureList` = [stages…, g, μ] and nearest-class-mean logits on μ (an `ExtractableModel`);
 * - `train.ts`: the training loop (Adam + StepLR, balanced batches, triplet + distancing + KL, the margin
 *   schedule, the ablation switches, checkpoints, the per-epoch curve) with the MNIST command's defaults;
 * - `autoencoder.ts`: the reconstruction weighting's MNIST auto-encoder (the reference's `MNIST_AE`, trained by us
 *   with a checkpoint cache) and r(x) on the backbone's first stage, faithful or clean input range, as the
 *   score's `reconstruction` option;
 * - `metrics.ts`: the reference's evaluation: FPR95, ROC-AUC and CAUROC on its 100 000-point geometric grid, the
 *   best macro-F1 over τ = −1 … −1000 (faithful) and the macro-F1 at 95 % held-out TPR (clean);
 * - `ce_baseline.ts`: the cross-entropy network trained on VMDLS's exact batch stream;
 * - `config.ts`, `run.ts`: the notebook's config type and its experiment (`runVmdls`, one `runGrid`);
 * - `display.ts`, `claims.ts`, `deviations.ts`: its tables and figures, claims and deviations;
 * - `released.ts`: the run with the authors' released weights (`weights: "released"`).
 *
 * The feature-ensemble Gaussians (with the reference's jitter loop) are `lib/scores/vmdls_gaussians.ts` and the
 * score, s(x) = max_c (log N(f(x); ν_c, Σ_c) − M)·r̃(x), is the detector `vmdls` in `lib/scores/vmdls.ts`.
 * @module
 */
export * from "./losses.ts";
export * from "./priors.ts";
export * from "./sampler.ts";
export * from "./autoencoder.ts";
export * from "./metrics.ts";
export * from "./network.ts";
export * from "./train.ts";
export * from "./ce_baseline.ts";
export * from "./config.ts";
export * from "./run.ts";
export * from "./display.ts";
export * from "./claims.ts";
export * from "./deviations.ts";
export * from "./released.ts";
