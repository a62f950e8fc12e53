import assert from "node:assert/strict";
import { aurocFromSweep } from "../../lib/metrics/auroc.ts";
import { bootstrapSamples, bootstrapScores, percentileInterval } from "../../lib/metrics/bootstrap.ts";
import { sortScores } from "../../lib/metrics/roc.ts";
import { FIXTURE } from "./_fixtures.ts";

const gaussian = FIXTURE.cases.find((c) => c.name === "gaussian_balanced")!;
const stat = (s: Parameters<typeof aurocFromSweep>[0]) => ({ auroc: aurocFromSweep(s) });

Deno.test("percentileInterval() interpolates linearly between order statistics (numpy percentile)", () => {
  // numpy.percentile([1, 2, 3, 4, 10], [2.5, 97.5]) = [1.1, 9.4]
  const { lower, upper } = percentileInterval([10, 3, 1, 4, 2], 0.95);
  assert.ok(Math.abs(lower - 1.1) < 1e-12 && Math.abs(upper - 9.4) < 1e-12, `${lower} ${upper}`);
  assert.deepEqual(percentileInterval([NaN, 2, NaN], 0.9), { lower: 2, upper: 2 });
  assert.ok(Number.isNaN(percentileInterval([NaN], 0.9).lower));
});

Deno.test("bootstrapScores() is reproducible with a seed and changes with another seed", () => {
  const sorted = sortScores(gaussian.id, gaussian.ood);
  const a = bootstrapScores(sorted, stat, { resamples: 200, seed: 3 });
  assert.deepEqual(a, bootstrapScores(sorted, stat, { resamples: 200, seed: 3 }));
  assert.notDeepEqual(a, bootstrapScores(sorted, stat, { resamples: 200, seed: 4 }));
});

Deno.test("bootstrapScores() interval contains the point estimate and narrows with a lower confidence", () => {
  const sorted = sortScores(gaussian.id, gaussian.ood);
  const wide = bootstrapScores(sorted, stat, { resamples: 300, seed: 1, confidence: 0.95 }).auroc;
  const narrow = bootstrapScores(sorted, stat, { resamples: 300, seed: 1, confidence: 0.5 }).auroc;
  assert.ok(Math.abs(wide.estimate - gaussian.auroc) < 1e-12);
  assert.ok(wide.lower < wide.estimate && wide.estimate < wide.upper, JSON.stringify(wide));
  assert.ok(narrow.lower >= wide.lower && narrow.upper <= wide.upper);
  // the AUROC standard error of 2000 vs 2000 samples is about 0.006
  assert.ok(wide.stdErr > 0.003 && wide.stdErr < 0.012, `${wide.stdErr}`);
});

Deno.test("bootstrapSamples() resamples indices: the mean's interval brackets the sample mean", () => {
  const x = Array.from({ length: 500 }, (_, i) => Math.sin(i));
  const mean = (idx: Int32Array) => ({ mean: idx.reduce((s, i) => s + x[i]!, 0) / idx.length });
  const iv = bootstrapSamples(x.length, mean, { resamples: 300, seed: 2 }).mean;
  assert.ok(iv.lower < iv.estimate && iv.estimate < iv.upper);
  assert.throws(() => bootstrapSamples(0, mean), /at least one sample/);
  assert.throws(() => bootstrapSamples(3, mean, { resamples: 0 }), /resamples must be a positive integer/);
});
