import assert from "node:assert/strict";
import {
  DEFAULT_CS,
  fitLogisticRegression,
  logisticRegressionCV,
  sigmoid,
  stratifiedFolds,
} from "@lib/scores/_logistic.ts";

// Golden values: scikit-learn 1.2.1 (Debian python3-sklearn) on this data, `LogisticRegression(C, tol=1e-12,
// max_iter=100000)` and `LogisticRegressionCV(tol=1e-12, max_iter=100000)` (defaults otherwise), and
// `StratifiedKFold(5).split` for the folds.
const X = Array.from({ length: 40 }, (_, i) => [Math.sin(1.3 * i) * 3, Math.cos(0.7 * i) * 2 + 0.1 * i]);
const Y = [
  1,
  1,
  1,
  0,
  0,
  0,
  1,
  1,
  0,
  0,
  1,
  1,
  0,
  0,
  0,
  1,
  1,
  1,
  0,
  1,
  1,
  1,
  0,
  0,
  1,
  1,
  1,
  1,
  0,
  1,
  1,
  1,
  0,
  0,
  1,
  1,
  1,
  0,
  1,
  1,
];
const SKLEARN_FOLDS = [
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  1,
  1,
  1,
  1,
  1,
  2,
  2,
  1,
  1,
  1,
  2,
  2,
  2,
  2,
  3,
  3,
  2,
  2,
  3,
  3,
  3,
  3,
  3,
  3,
  4,
  4,
  4,
  4,
  4,
  4,
  4,
  4,
];

const close = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

Deno.test("fitLogisticRegression() matches scikit-learn's L2 logistic regression (unpenalised intercept)", () => {
  // lbfgs stops a little early at C = 0.01 (its gradient there is ~1e-6; ours is ~1e-12), hence 1e-5.
  for (
    const [C, w, b] of [
      [1, [1.6525537127661083, 1.0039775213065385], -0.6105654700164064],
      [0.01, [0.21729521440630842, 0.08981370143967715], 0.35342096940159695],
    ] as const
  ) {
    const m = fitLogisticRegression(X, Y, C);
    close(m.weights[0]!, w[0], 1e-5, `w0 (C=${C})`);
    close(m.weights[1]!, w[1], 1e-5, `w1 (C=${C})`);
    close(m.intercept, b, 1e-5, `b (C=${C})`);
    // Optimality: w + C·Σ(p − y)x = 0 and C·Σ(p − y) = 0.
    const r = X.map((x, i) => sigmoid(m.weights[0]! * x[0]! + m.weights[1]! * x[1]! + m.intercept) - Y[i]!);
    const g = [0, 1].map((j) => m.weights[j]! + C * r.reduce((s, v, i) => s + v * X[i]![j]!, 0));
    g.push(C * r.reduce((s, v) => s + v, 0));
    for (const v of g) assert.ok(Math.abs(v) < 1e-9, `gradient ${g}`);
  }
});

Deno.test("fitLogisticRegression() stays finite on separable data and orders the classes", () => {
  const m = fitLogisticRegression([[0], [1], [2], [3]], [0, 0, 1, 1], 1e4);
  assert.ok(Number.isFinite(m.weights[0]) && Number.isFinite(m.intercept));
  assert.ok(m.weights[0]! > 0);
  assert.throws(() => fitLogisticRegression([[0], [1]], [0, 2], 1), /labels must be 0 or 1/);
  assert.throws(() => fitLogisticRegression([[0], [NaN]], [0, 1], 1), /not finite/);
});

Deno.test("stratifiedFolds() reproduces scikit-learn's StratifiedKFold(5) test folds", () => {
  assert.deepEqual(Array.from(stratifiedFolds(Y, 5)), SKLEARN_FOLDS);
});

Deno.test("logisticRegressionCV() picks scikit-learn's C on its default grid and refits with it", () => {
  assert.equal(DEFAULT_CS.length, 10);
  close(DEFAULT_CS[0]!, 1e-4, 1e-18, "first C");
  close(DEFAULT_CS[9]!, 1e4, 1e-9, "last C");
  const m = logisticRegressionCV(X, Y);
  close(m.C, 0.04641589, 1e-8, "C");
  const sk = [0.625, 0.625, 0.625, 0.925, 0.9, 0.9, 0.925, 0.925, 0.925, 0.925];
  m.cvAccuracy.forEach((a, i) => close(a, sk[i]!, 1e-12, `cv accuracy ${i}`));
  close(m.weights[0]!, 0.5429530743951625, 1e-6, "w0");
  close(m.weights[1]!, 0.2525019904016678, 1e-6, "w1");
  close(m.intercept, 0.15121978158098606, 1e-6, "b");
});

Deno.test("sigmoid() does not overflow", () => {
  assert.equal(sigmoid(0), 0.5);
  assert.equal(sigmoid(1000), 1);
  assert.equal(sigmoid(-1000), 0);
  close(sigmoid(2) + sigmoid(-2), 1, 1e-15, "symmetry");
});
