/**
 * The claims the CMG notebook checks (issue 14), as `ClaimSpec` data for the shared `evaluateClaims`
 * (`lib/experiment/claims.ts`): do CMG-s and CMG-e beat the stage-1 classifier's MSP and Energy on the mean AUROC
 * over the five Setting-1 partitions, and does the class mixing matter (CMG-e against generation from one class
 * embedding, and against σ = 1 instead of the far-out σ)? Claims are checked per variant on the mean over partitions
 * per seed ({@linkcode partitionMeanRows}), then over seeds, with the paired seeds that agree.
 * @module
 */
import type { ClaimSpec } from "../../experiment/claims.ts";
import type { ResultRow } from "../../report/results.ts";
import type { CmgConfig } from "./config.ts";

type CmgVariant = "faithful" | "clean";

/** The claims of one variant (ids end in the variant). */
export function cmgVariantClaims(variant: CmgVariant): ClaimSpec[] {
  const baseline = { method: "ce", variant: "none" as const, score: ["msp", "energy"] };
  const claim = (id: string, text: string, method: string, before: ClaimSpec["before"]): ClaimSpec => ({
    id: `${id}-${variant}`,
    text: `${text} (${variant})`,
    before,
    after: { method, variant, score: method === "cmgS" ? "cmgS" : "cmgE" },
    metric: "auroc",
  });
  return [
    claim(
      "cmg-s-beats-stage1",
      "CMG-s has a higher mean AUROC than the stage-1 MSP / Energy (the better)",
      "cmgS",
      baseline,
    ),
    claim(
      "cmg-e-beats-stage1",
      "CMG-e has a higher mean AUROC than the stage-1 MSP / Energy (the better)",
      "cmgE",
      baseline,
    ),
    claim(
      "mixing-matters",
      "The class mixing matters: CMG-e beats CMG-e trained on one class embedding per image",
      "cmgE",
      { method: "cmgSingle", variant, score: "cmgE" },
    ),
    claim("far-sigma-matters", "The far-out σ matters: CMG-e beats CMG-e generated with σ = 1", "cmgE", {
      method: "cmgSigma1",
      variant,
      score: "cmgE",
    }),
  ];
}

/** The claims a config can answer: {@linkcode cmgVariantClaims} of its variants, without runs it does not make. */
export function cmgClaims(cfg: Pick<CmgConfig, "methods" | "variants">): ClaimSpec[] {
  const methods = cfg.methods as readonly string[];
  return cfg.variants.flatMap(cmgVariantClaims).filter((c) =>
    methods.includes(c.before.method) && methods.includes(c.after.method)
  );
}

/**
 * The rows with every partition of an ID dataset under one `idDataset` (`mnist:p3` → `mnist, mean over partitions`),
 * so that `evaluateClaims`' per-seed average runs over the partitions: the paper's "mean" column. Setting-2 rows
 * (no partition) are kept as they are (their average runs over the OOD sets).
 */
export function partitionMeanRows(rows: readonly ResultRow[]): ResultRow[] {
  return rows.map((r) => {
    const m = /^(.*):p\d+$/.exec(r.idDataset);
    return m ? { ...r, idDataset: `${m[1]}, mean over partitions` } : r;
  });
}
