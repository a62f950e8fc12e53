import assert from "node:assert/strict";
import { odinMetrics } from "../../lib/metrics/odin.ts";
import { assertClose, FIXTURE, GOLDEN, GOLDEN_ID, GOLDEN_OOD, PRINTED, scoresOf, SKLEARN_TOL } from "./_fixtures.ts";

Deno.test("odinMetrics() reproduces the papers.md §1.6 ODIN/ELOC suite 0.828 / 0.832583 / 0.818477 / 0.230 / 0.64", () => {
  const m = odinMetrics(GOLDEN_ID, GOLDEN_OOD);
  assertClose(m.auroc, GOLDEN.odin.auroc, PRINTED, "auroc");
  assertClose(m.auprIn, GOLDEN.odin.auprIn, PRINTED, "auprIn");
  assertClose(m.auprOut, GOLDEN.odin.auprOut, PRINTED, "auprOut");
  assertClose(m.detectionError, GOLDEN.odin.detectionError, PRINTED, "detectionError");
  assertClose(m.fpr95, GOLDEN.fpr95Odin, PRINTED, "fpr95");
});

Deno.test("odinMetrics() matches the numpy re-implementation of calMetric on every fixture case", () => {
  for (const c of FIXTURE.cases) {
    const { id, ood } = scoresOf(c);
    const m = odinMetrics(id, ood);
    for (const key of ["auroc", "auprIn", "auprOut", "detectionError", "fpr95"] as const) {
      assertClose(m[key], c.odinSuite[key], SKLEARN_TOL, `${c.name} ${key}`);
    }
  }
});

Deno.test("odinMetrics() counts ID–OOD ties for ID (AUROC 1 when every score ties)", () => {
  const m = odinMetrics([1, 1], [1]);
  assert.equal(m.auroc, 1);
  assert.equal(m.detectionError, 0);
  assert.ok(Number.isNaN(m.auprOut));
});
