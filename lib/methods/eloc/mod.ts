/**
 * ELOC — "Out-of-Distribution Detection Using an Ensemble of Self Supervised Leave-out Classifiers" (Vyas,
 * Jammalamadaka et al., ECCV 2018; arXiv:1809.03576), following the unofficial re-implementation
 * YU1ut/Ensemble-of-Leave-out-Classifiers@d80b29c (papers.md §3), the components of `notebooks/eloc.ipynb`:
 * - `losses.ts`: the margin-entropy loss CE + β·max(0, m + H̄(ID) − H̄(left-out)) and the batch-mean entropy;
 * - `train.ts`: one leave-out classifier's training (two forward passes per step, SGD + MultiStepLR, the
 *   reference's recipe as `ELOC_TRAIN`) with per-epoch model selection by the reference's validation AUROC, one
 *   kept snapshot per selector (faithful and clean from one training);
 * - `score.ts`: each member's perturbed, temperature-scaled probabilities scattered into the C classes and the
 *   ensemble score S(x) = Σ_k [max_j p_kj − H(p_k)], with the CE (re-implementation) or entropy (paper)
 *   perturbation;
 * - `config.ts`, `run.ts`: the notebook's config type and its experiment (`runEloc`, one `runGrid` over settings ×
 *   seeds × trainings: the ensemble, its plain-CE ablation and a classifier of all classes for MSP and ODIN);
 * - `display.ts`, `claims.ts`, `deviations.ts`: its tables and figures, claims and deviations.
 *
 * The class folds (NumPy's seed-3 permutation, 5 groups) are `elocSplit` in `lib/datasets/splits.ts`; the ODIN/ELOC
 * metric suite (`calMetric.py`) is `odinMetrics` in `lib/metrics/odin.ts`.
 * @module
 */
export * from "./losses.ts";
export * from "./train.ts";
export * from "./score.ts";
export * from "./config.ts";
export * from "./run.ts";
export * from "./display.ts";
export * from "./claims.ts";
export * from "./deviations.ts";
export * from "./released.ts";
