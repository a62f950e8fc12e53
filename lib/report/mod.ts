/**
 * Results and display for the notebooks: tidy result rows and run manifests (`results.ts`), Polars tables
 * (`table.ts`, `html_table.ts`), published numbers (`paper_numbers.ts`), figures (`plot.ts`), progress
 * (`progress.ts`), run profiles (`profile.ts`), score views (`score_views.ts`: score × OOD-set matrices, ROC by
 * score, histograms, figures side by side) and the kernel-independent display protocol (`jupyter.ts`).
 *
 * @example A notebook's last cells
 * ```ts
 * import { metricTable, readResults, summarize } from "@lib/report/mod.ts";
 * metricTable(summarize(readResults()), { metrics: ["fpr95", "auroc"] })
 * ```
 * @module
 */
export * from "./jupyter.ts";
export * from "./profile.ts";
export * from "./progress.ts";
export * from "./results.ts";
export * from "./html_table.ts";
export * from "./table.ts";
export * from "./paper_numbers.ts";
export * from "./plot.ts";
export * from "./score_views.ts";
