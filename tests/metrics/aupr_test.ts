import assert from "node:assert/strict";
import { auprIn, auprOut } from "../../lib/metrics/aupr.ts";
import { assertClose, FIXTURE, GOLDEN, GOLDEN_ID, GOLDEN_OOD, PRINTED, scoresOf, SKLEARN_TOL } from "./_fixtures.ts";

Deno.test("auprIn()/auprOut() reproduce the papers.md §1.6 golden values (AP and trapezoid)", () => {
  assertClose(auprIn(GOLDEN_ID, GOLDEN_OOD), GOLDEN.auprInAp, PRINTED, "auprIn AP");
  assertClose(
    auprIn(GOLDEN_ID, GOLDEN_OOD, { estimator: "trapezoid" }),
    GOLDEN.auprInTrapezoid,
    PRINTED,
    "auprIn trap",
  );
  assertClose(auprOut(GOLDEN_ID, GOLDEN_OOD), GOLDEN.auprOutAp, PRINTED, "auprOut AP");
  assertClose(
    auprOut(GOLDEN_ID, GOLDEN_OOD, { estimator: "trapezoid" }),
    GOLDEN.auprOutTrapezoid,
    PRINTED,
    "auprOut trap",
  );
});

Deno.test("auprIn() equals average_precision_score(isId, s) and auprOut() equals it on (isOod, -s)", () => {
  for (const c of FIXTURE.cases) {
    const { id, ood } = scoresOf(c);
    assertClose(auprIn(id, ood), c.auprIn, SKLEARN_TOL, `${c.name} in`);
    assertClose(auprOut(id, ood), c.auprOut, SKLEARN_TOL, `${c.name} out`);
  }
});

Deno.test("auprIn()/auprOut() with the trapezoid estimator equal auc(recall, precision) of scikit-learn", () => {
  for (const c of FIXTURE.cases) {
    const { id, ood } = scoresOf(c);
    assertClose(auprIn(id, ood, { estimator: "trapezoid" }), c.auprInTrapezoid, SKLEARN_TOL, `${c.name} in`);
    assertClose(auprOut(id, ood, { estimator: "trapezoid" }), c.auprOutTrapezoid, SKLEARN_TOL, `${c.name} out`);
  }
});

Deno.test("auprIn()/auprOut() are 1 under perfect separation", () => {
  assert.equal(auprIn([2, 3], [0, 1, 1]), 1);
  assert.equal(auprOut([2, 3], [0, 1, 1]), 1);
});

Deno.test("auprIn() equals the ID prevalence when every score ties", () => {
  assert.equal(auprIn([1, 1], [1, 1, 1, 1, 1, 1]), 0.25);
  assert.equal(auprOut([1, 1], [1, 1, 1, 1, 1, 1]), 0.75);
});

Deno.test("auprIn() rejects an unknown estimator with the valid values", () => {
  // deno-lint-ignore no-explicit-any
  assert.throws(() => auprIn([1], [0], { estimator: "interp" as any }), /valid: "ap", "trapezoid"/);
});
