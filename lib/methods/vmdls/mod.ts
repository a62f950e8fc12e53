/**
 * VMDLS — "Variational- and Metric-based Deep Latent Space for Out-of-Distribution Detection" (Or Dinari, Oren
 * Freifeld; UAI 2022; https://openreview.net/pdf?id=ScLeuUUi9gq; code BGU-CS-VIL/vmdls@5add9e2), the method's
 * components for `notebooks/vmdls.ipynb` (papers.md §2):
 * - `losses.ts`: the triplet + distancing loss (every valid triplet, PML's average over non-zero terms), the
 *   distancing-margin schedule, the KL term to class-conditional N(m_c, 0.1²I) priors;
 * - `priors.ts`: the previous epoch's class means of z, the KL priors;
 * - `sampler.ts`: the class-balanced B_c × B_s batch sampler.
 *
 * The feature-ensemble Gaussians (with the reference's jitter loop) are `lib/scores/vmdls_gaussians.ts` and the
 * score, s(x) = max_c (log N(f(x); ν_c, Σ_c) − M)·r̃(x), is the detector in `lib/scores/vmdls.ts` (registered in
 * `DETECTORS` together with the notebook). The model, training loop, auto-encoder and notebook are not written yet
 * (issue 12).
 * @module
 */
export * from "./losses.ts";
export * from "./priors.ts";
export * from "./sampler.ts";
