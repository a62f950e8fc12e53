/**
 * The claims the VMDLS notebook checks, as `ClaimSpec` data for the shared `evaluateClaims`
 * (`lib/experiment/claims.ts`): does VMDLS beat the cross-entropy baselines, and does each ablated part matter
 * (issue 12)? Each claim compares, per setting (`evaluateClaims` groups rows by `idDataset · backbone`, so the
 * 10-class MNIST setting and an open-set split such as `mnist:0-5` are checked apart), the per-seed average over
 * the OOD sets, its mean over seeds and the paired seeds that agree; AUROC and open-set macro-F1 are both
 * higher-is-better (`METRIC_INFO`).
 *
 * The rows (`run.ts`): VMDLS-trained networks (`vmdls`, `noDistancing`, `noKl`) in variants `faithful` and
 * `clean`, scores `vmdls` (and for `vmdls` the ablations `vmdlsNoRecon`, `vmdlsLatent`); CE (variant `none`),
 * scores `msp`, `mahalanobisEnsemble` and `vmdls` (VMDLS's Gaussians on the CE features).
 *
 * The faithful variant's macro-F1 is the best over the reference's threshold grid on the test set (an oracle), so
 * no claim uses it; its AUROC is claimed (its M and r̃ come from the test run's ID and OOD images, transductively,
 * as in the reference). The ablation claims use the clean variant.
 * @module
 */
import type { ClaimSpec } from "../../experiment/claims.ts";
import type { MetricColumn } from "../../report/results.ts";
import type { VmdlsConfig } from "./config.ts";

/** The CE baselines of the paper (its "approach VMDLS fixes"): MSP and Lee et al.'s Mahalanobis ensemble. */
export const CE_BASELINE_SCORES = ["msp", "mahalanobisEnsemble"] as const;

const CLEAN = { method: "vmdls", variant: "clean", score: "vmdls" } as const;
const FAITHFUL = { method: "vmdls", variant: "faithful", score: "vmdls" } as const;
const METRICS: readonly MetricColumn[] = ["auroc", "macroF1"];
const NAME: Readonly<Record<string, string>> = { auroc: "AUROC", macroF1: "macro-F1" };

/**
 * Every claim of the notebook: on AUROC and on macro-F1, VMDLS (clean) against the best CE baseline (MSP or
 * Mahalanobis, the better by mean), against CE + VMDLS's Gaussians (the same scorer on a CE network: the loss
 * alone), and against each ablation (training without the distancing term, without the KL term; scoring without
 * the reconstruction weighting, with latent-only Gaussians); on AUROC only, VMDLS (faithful) against the best CE
 * baseline. Ids end in the metric (`-auroc`, `-macroF1`).
 */
export const VMDLS_CLAIMS: readonly ClaimSpec[] = [
  ...METRICS.flatMap((metric): ClaimSpec[] => [
    {
      id: `ce-best-clean-${metric}`,
      text: `VMDLS (clean) has a higher ${NAME[metric]} than the best CE baseline (MSP or Mahalanobis)`,
      before: { method: "ce", score: CE_BASELINE_SCORES },
      after: CLEAN,
      metric,
    },
    {
      id: `ce-gaussians-clean-${metric}`,
      text: `VMDLS (clean) has a higher ${NAME[metric]} than CE + VMDLS's Gaussians (the loss alone)`,
      before: { method: "ce", score: "vmdls" },
      after: CLEAN,
      metric,
    },
    {
      id: `no-distancing-${metric}`,
      text: `The distancing term matters: VMDLS (clean) has a higher ${NAME[metric]} than VMDLS trained without it`,
      before: { method: "noDistancing", variant: "clean", score: "vmdls" },
      after: CLEAN,
      metric,
    },
    {
      id: `no-kl-${metric}`,
      text: `The KL term matters: VMDLS (clean) has a higher ${NAME[metric]} than VMDLS trained without it`,
      before: { method: "noKl", variant: "clean", score: "vmdls" },
      after: CLEAN,
      metric,
    },
    {
      id: `no-reconstruction-${metric}`,
      text: `The reconstruction weighting matters: VMDLS (clean) has a higher ${NAME[metric]} than without it`,
      before: { method: "vmdls", variant: "clean", score: "vmdlsNoRecon" },
      after: CLEAN,
      metric,
    },
    {
      id: `latent-only-${metric}`,
      text: `The feature ensemble matters: VMDLS (clean) has a higher ${NAME[metric]} than latent-only Gaussians`,
      before: { method: "vmdls", variant: "clean", score: "vmdlsLatent" },
      after: CLEAN,
      metric,
    },
  ]),
  {
    id: "ce-best-faithful-auroc",
    text: "VMDLS (faithful) has a higher AUROC than the best CE baseline (MSP or Mahalanobis)",
    before: { method: "ce", score: CE_BASELINE_SCORES },
    after: FAITHFUL,
    metric: "auroc",
  },
];

/**
 * The claims a config can answer: {@linkcode VMDLS_CLAIMS} without those whose training, variant or score the
 * config does not run (e.g. no `noKl` claim without the `noKl` training, no reconstruction claim when no setting
 * has the reconstruction weighting or `scoreAblations.noReconstruction` is off). `evaluateClaims` also skips a
 * claim in a setting where one side has no rows (e.g. a setting whose `methods` leave out an ablation).
 * @example Usage
 * ```ts ignore
 * claimsTable(evaluateClaims(exp.rows, vmdlsClaims(cfg)));
 * ```
 */
export function vmdlsClaims(
  cfg: Pick<VmdlsConfig, "methods" | "variants" | "scoreAblations" | "settings">,
): ClaimSpec[] {
  const recon = cfg.scoreAblations.noReconstruction && cfg.settings.some((s) => s.reconstruction);
  const runs = (f: ClaimSpec["before"]) =>
    (cfg.methods as readonly string[]).includes(f.method) &&
    (f.variant === undefined || f.variant === "none" || cfg.variants.includes(f.variant)) &&
    (f.score !== "vmdlsNoRecon" || recon) && (f.score !== "vmdlsLatent" || cfg.scoreAblations.latentOnly);
  return VMDLS_CLAIMS.filter((c) => runs(c.before) && runs(c.after));
}
