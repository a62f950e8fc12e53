/**
 * The claims the ELOC notebook checks (issue 13), as `ClaimSpec` data for the shared `evaluateClaims`
 * (`lib/experiment/claims.ts`): does the ensemble of leave-out classifiers beat ODIN and MSP on a classifier trained
 * on all classes with the same backbone, data and budget, and do its parts matter (the margin-entropy term, five
 * classifiers rather than one, the input perturbation)? Each claim is checked per setting (ID dataset · backbone)
 * and per selection variant on the per-seed average over the OOD sets, its mean over seeds and the paired seeds
 * that agree.
 *
 * FPR95 is compared under the ODIN/ELOC rule (`fprRule: "odin"`, `calMetric.py`: the mean FPR over thresholds whose
 * TPR is in [0.9495, 0.9505]), the reading of the paper's tables; AUROC does not depend on the FPR rule.
 *
 * The rows (`run.ts`): trainings `eloc` (scores `eloc`, `elocEntropy`, `elocSingle`, `elocNoPerturbation`),
 * `elocCe` (score `eloc`) and `ce` (scores `msp`, `odin`), each in the variants `faithful` and `clean`.
 * @module
 */
import type { ClaimSpec } from "../../experiment/claims.ts";
import type { MetricColumn } from "../../report/results.ts";
import type { ElocConfig } from "./config.ts";

type ElocVariant = "faithful" | "clean";

const NAME: Readonly<Record<string, string>> = { auroc: "AUROC", fpr95: "FPR95" };
const BETTER: Readonly<Record<string, string>> = { auroc: "a higher", fpr95: "a lower" };

/**
 * The claims of one selection variant: ELOC (CE perturbation, the re-implementation's score) against CE + ODIN and
 * CE + MSP, and against the margin-entropy ablation, on FPR95 and AUROC; on AUROC against one leave-out classifier
 * (fold 1) and against the ensemble without perturbation. Ids end in the variant and the metric.
 */
export function elocVariantClaims(variant: ElocVariant): ClaimSpec[] {
  const eloc = { method: "eloc", variant, score: "eloc" } as const;
  const claim = (id: string, text: string, before: ClaimSpec["before"], metric: MetricColumn): ClaimSpec => ({
    id: `${id}-${variant}-${metric}`,
    text: `${text.replace("{better}", BETTER[metric]!).replace("{metric}", NAME[metric]!)} (${variant})`,
    before,
    after: eloc,
    metric,
    fprRule: "odin",
  });
  return [
    ...(["fpr95", "auroc"] as const).flatMap((metric) => [
      claim("beats-odin", "ELOC has {better} {metric} than ODIN on a classifier of all classes", {
        method: "ce",
        variant,
        score: "odin",
      }, metric),
      claim("beats-msp", "ELOC has {better} {metric} than MSP on a classifier of all classes", {
        method: "ce",
        variant,
        score: "msp",
      }, metric),
      claim(
        "margin-entropy",
        "The margin-entropy term matters: ELOC has {better} {metric} than the ensemble trained with plain CE",
        { method: "elocCe", variant, score: "eloc" },
        metric,
      ),
    ]),
    claim("ensemble", "Five leave-out classifiers beat one: ELOC has {better} {metric} than fold 1 alone", {
      method: "eloc",
      variant,
      score: "elocSingle",
    }, "auroc"),
    claim("perturbation", "The input perturbation helps: ELOC has {better} {metric} than with ε = 0", {
      method: "eloc",
      variant,
      score: "elocNoPerturbation",
    }, "auroc"),
  ];
}

/**
 * The claims a config can answer: {@linkcode elocVariantClaims} for each of its variants, without those whose
 * training or score it does not run (no margin-entropy claim without `elocCe`, no ensemble claim without
 * `scoreAblations.singleMember`, …).
 * @example Usage
 * ```ts ignore
 * claimsTable(evaluateClaims(exp.rows, elocClaims(cfg)));
 * ```
 */
export function elocClaims(cfg: Pick<ElocConfig, "methods" | "variants" | "scoreAblations">): ClaimSpec[] {
  const scoreRuns = (score: string | readonly string[] | undefined) =>
    (score !== "elocSingle" || cfg.scoreAblations.singleMember) &&
    (score !== "elocNoPerturbation" || cfg.scoreAblations.noPerturbation);
  const methods = cfg.methods as readonly string[];
  if (!methods.includes("eloc")) return [];
  return cfg.variants.flatMap(elocVariantClaims).filter((c) =>
    methods.includes(c.before.method) && scoreRuns(c.before.score)
  );
}
