import assert from "node:assert/strict";
import { fprAtTpr, type FprRule } from "../../lib/metrics/fpr.ts";
import { assertClose, FIXTURE, GOLDEN, GOLDEN_ID, GOLDEN_OOD, scoresOf, SKLEARN_TOL } from "./_fixtures.ts";

Deno.test("fprAtTpr() gives the papers.md §1.6 golden FPR95 for each rule and reading", () => {
  assert.equal(fprAtTpr(GOLDEN_ID, GOLDEN_OOD), GOLDEN.fpr95Sklearn);
  assert.equal(fprAtTpr(GOLDEN_ID, GOLDEN_OOD, { rule: "hendrycks" }), GOLDEN.fpr95Hendrycks);
  assert.equal(fprAtTpr(GOLDEN_ID, GOLDEN_OOD, { rule: "odin" }), GOLDEN.fpr95Odin);
  assert.equal(fprAtTpr(GOLDEN_ID, GOLDEN_OOD, { positive: "ood" }), GOLDEN.fpr95OodPositive);
  assert.equal(fprAtTpr(GOLDEN_ID, GOLDEN_OOD, { dropIntermediate: true }), GOLDEN.fpr95Sklearn);
});

Deno.test("fprAtTpr() sklearn rule equals fpr[argmax(tpr >= level)] of roc_curve, both readings, with and without drop_intermediate", () => {
  for (const c of FIXTURE.cases) {
    const { id, ood } = scoresOf(c);
    for (const level of ["0.95", "0.8"] as const) {
      const tprLevel = Number(level);
      for (const positive of ["id", "ood"] as const) {
        const ref = positive === "id" ? c.fpr[level] : c.fprOodPositive[level];
        const what = `${c.name} ${positive} @${level}`;
        assertClose(fprAtTpr(id, ood, { tprLevel, positive }), ref.sklearn, SKLEARN_TOL, what);
        assertClose(
          fprAtTpr(id, ood, { tprLevel, positive, dropIntermediate: true }),
          ref.sklearnDrop,
          SKLEARN_TOL,
          `${what} drop`,
        );
      }
    }
  }
});

Deno.test("fprAtTpr() hendrycks rule matches the reference re-implementation of fpr_and_fdr_at_recall", () => {
  for (const c of FIXTURE.cases) {
    const { id, ood } = scoresOf(c);
    for (const level of ["0.95", "0.8"] as const) {
      const tprLevel = Number(level);
      assertClose(
        fprAtTpr(id, ood, { tprLevel, rule: "hendrycks" }),
        c.fpr[level].hendrycks,
        SKLEARN_TOL,
        `${c.name} id`,
      );
      const oodPos = fprAtTpr(id, ood, { tprLevel, rule: "hendrycks", positive: "ood" });
      assertClose(oodPos, c.fprOodPositive[level].hendrycks, SKLEARN_TOL, `${c.name} ood`);
    }
  }
});

Deno.test("fprAtTpr() odin rule matches the reference calMetric.tpr95 (NaN when no threshold is in the window)", () => {
  for (const c of FIXTURE.cases) {
    const { id, ood } = scoresOf(c);
    assertClose(fprAtTpr(id, ood, { rule: "odin" }), c.fpr["0.95"].odin ?? null, SKLEARN_TOL, c.name);
  }
  assert.ok(Number.isNaN(fprAtTpr([1, 2, 3], [0], { rule: "odin" })));
});

Deno.test("fprAtTpr() odin rule uses level ± 0.0005 away from 0.95, or an explicit odinWindow", () => {
  const id = [1, 2, 3, 4], ood = [2.5, 1.5, 0];
  // TPR = 0.75 for δ ∈ (1, 2]: pooled δ ∈ {1.5, 2}, OOD > δ = 1/3 for both
  assert.equal(fprAtTpr(id, ood, { rule: "odin", tprLevel: 0.75 }), 1 / 3);
  // TPR ∈ [0.75, 1] for δ ∈ {0, 1, 1.5, 2}: OOD > δ = 2/3, 2/3, 1/3, 1/3
  assertClose(fprAtTpr(id, ood, { rule: "odin", odinWindow: [0.75, 1] }), 0.5, 1e-15, "window [0.75, 1]");
});

Deno.test("fprAtTpr() sklearn and hendrycks rules differ by the OOD scores inside the 95 % plateau", () => {
  // 20 ID scores 1..20 (95 % plateau between the 2nd-lowest ID score 2 and the lowest 1); OOD at 1.5 lies on it.
  const id = Array.from({ length: 20 }, (_, i) => i + 1);
  assert.equal(fprAtTpr(id, [1.5, 0]), 0);
  assert.equal(fprAtTpr(id, [1.5, 0], { rule: "hendrycks" }), 0.5);
});

Deno.test("fprAtTpr() is 0 under perfect separation and 1 under reversed separation, for every rule", () => {
  for (const rule of ["sklearn", "hendrycks"] satisfies FprRule[]) {
    for (const positive of ["id", "ood"] as const) {
      assert.equal(fprAtTpr([2, 3, 4], [0, 1], { rule, positive }), 0, `${rule} ${positive}`);
      assert.equal(fprAtTpr([0, 1], [2, 3, 4], { rule, positive }), 1, `${rule} ${positive}`);
    }
  }
  const id = Array.from({ length: 20 }, (_, i) => i + 10);
  assert.equal(fprAtTpr(id, [0, 1], { rule: "odin" }), 0);
});

Deno.test("fprAtTpr() is 1 when every score ties, and fine with one sample each", () => {
  assert.equal(fprAtTpr([1, 1, 1], [1, 1]), 1);
  assert.equal(fprAtTpr([0.5], [0.5], { rule: "hendrycks" }), 1);
  assert.equal(fprAtTpr([0.9], [0.1]), 0);
  assert.equal(fprAtTpr([0.1], [0.9], { positive: "ood" }), 1);
});

Deno.test("fprAtTpr() rejects an unknown rule and a level outside [0, 1]", () => {
  // deno-lint-ignore no-explicit-any
  assert.throws(() => fprAtTpr([1], [0], { rule: "grid" as any }), /valid: "sklearn", "hendrycks", "odin"/);
  assert.throws(() => fprAtTpr([1], [0], { tprLevel: 95 }), /tprLevel must be in \[0, 1\]/);
});
