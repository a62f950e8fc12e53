import assert from "node:assert/strict";
import { autc } from "../../lib/metrics/autc.ts";
import { assertClose, FIXTURE, GOLDEN, GOLDEN_ID, GOLDEN_OOD, PRINTED, scoresOf, SKLEARN_TOL } from "./_fixtures.ts";

Deno.test("autc() reproduces the papers.md §1.6 golden value 0.350889", () => {
  assertClose(autc(GOLDEN_ID, GOLDEN_OOD), GOLDEN.autc, PRINTED, "autc");
});

Deno.test("autc() equals the numpy closed form on every fixture case", () => {
  for (const c of FIXTURE.cases) {
    const { id, ood } = scoresOf(c);
    assertClose(autc(id, ood), c.autc, SKLEARN_TOL, c.name);
  }
});

Deno.test("autc() is 0 for two-point perfect separation, ½ when all scores tie, NaN with infinite scores", () => {
  assert.equal(autc([1], [0]), 0);
  assert.equal(autc([3, 3], [3]), 0.5);
  assert.ok(Number.isNaN(autc([Infinity], [0])));
});
