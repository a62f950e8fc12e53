import assert from "node:assert/strict";
import { auroc } from "../../lib/metrics/auroc.ts";
import { assertClose, FIXTURE, GOLDEN, GOLDEN_ID, GOLDEN_OOD, PRINTED, scoresOf, SKLEARN_TOL } from "./_fixtures.ts";

Deno.test("auroc() reproduces the papers.md §1.6 golden value 0.816", () => {
  assertClose(auroc(GOLDEN_ID, GOLDEN_OOD), GOLDEN.auroc, PRINTED, "auroc");
  assert.equal(auroc(GOLDEN_ID, GOLDEN_OOD), 0.816); // exact rational 408/500
});

Deno.test("auroc() equals scikit-learn roc_auc_score on every fixture case", () => {
  for (const c of FIXTURE.cases) {
    const { id, ood } = scoresOf(c);
    assertClose(auroc(id, ood), c.auroc, SKLEARN_TOL, c.name);
  }
});

Deno.test("auroc() counts ties ½: all scores equal gives 0.5", () => {
  assert.equal(auroc([1, 1, 1], [1, 1]), 0.5);
  assert.equal(auroc([0.5], [0.5]), 0.5);
});

Deno.test("auroc() is 1 for perfect separation and 0 for reversed separation", () => {
  assert.equal(auroc([2, 3, 4], [0, 1]), 1);
  assert.equal(auroc([0, 1], [2, 3, 4]), 0);
  assert.equal(auroc([0.9], [0.1]), 1);
  assert.equal(auroc([0.1], [0.9]), 0);
});

Deno.test("auroc() equals the pairwise Mann–Whitney count on a small tied example", () => {
  const id = [3, 2, 2, 1], ood = [2, 0, 2.5];
  let wins = 0;
  for (const a of id) for (const b of ood) wins += a > b ? 1 : a === b ? 0.5 : 0;
  assert.equal(auroc(id, ood), wins / (id.length * ood.length));
});

Deno.test("auroc() throws on NaN and on empty inputs", () => {
  assert.throws(() => auroc([NaN], [1]), /id scores contain NaN at index 0/);
  assert.throws(() => auroc([1], []), /ood scores are empty/);
});
