import assert from "node:assert/strict";
import { detectionError } from "../../lib/metrics/detection_error.ts";
import { assertClose, FIXTURE, GOLDEN, GOLDEN_ID, GOLDEN_OOD, PRINTED, scoresOf, SKLEARN_TOL } from "./_fixtures.ts";

Deno.test("detectionError() reproduces the papers.md §1.6 golden value 0.255", () => {
  assertClose(detectionError(GOLDEN_ID, GOLDEN_OOD), GOLDEN.detectionError, PRINTED, "detErr");
});

Deno.test("detectionError() equals min over roc_curve points of (1 − tpr)/2 + fpr/2", () => {
  for (const c of FIXTURE.cases) {
    const { id, ood } = scoresOf(c);
    assertClose(detectionError(id, ood), c.detectionError, SKLEARN_TOL, c.name);
  }
});

Deno.test("detectionError() is 0 for perfect separation and ½ for all-ties or reversed separation", () => {
  assert.equal(detectionError([2, 3], [0, 1]), 0);
  assert.equal(detectionError([1, 1], [1]), 0.5);
  assert.equal(detectionError([0, 1], [2, 3]), 0.5);
  assert.equal(detectionError([0.9], [0.1]), 0);
});
