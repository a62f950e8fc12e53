import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { Rng } from "@lib/data/rng.ts";
import { distancingMarginAt, klToClassPriors, tripletDistancingLoss } from "@lib/methods/vmdls/losses.ts";
import { ClassMeanTracker } from "@lib/methods/vmdls/priors.ts";

await initBackend({ backend: "cpu", log: null });

/** Runs `f`, reads its scalar, disposes it, and asserts no tensor was left behind. */
function scalarNoLeak(f: () => tf.Scalar): number {
  const before = tf.memory().numTensors;
  const t = f();
  const v = t.dataSync()[0]!;
  t.dispose();
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  return v;
}

function close(a: number, e: number, tol: number, what: string): void {
  assert.ok(Math.abs(a - e) <= tol, `${what}: got ${a}, expected ${e}`);
}

function triplet(rows: number[][], labels: number[], margin: number, distancingMargin: number): number {
  return scalarNoLeak(() =>
    tf.tidy(() => tripletDistancingLoss(tf.tensor2d(rows), labels, { margin, distancingMargin }))
  );
}

Deno.test("tripletDistancingLoss(): hand-computed, two classes", () => {
  // (1,0) and (2,0) of class 0 normalise to the same point; (0,3) of class 1: d_ap = 0, d_an = √2, two triplets.
  const rows = [[1, 0], [2, 0], [0, 3]], y = [0, 0, 1];
  close(triplet(rows, y, 0.1, 0.15), 0, 1e-7, "no active triplet → 0");
  close(triplet(rows, y, 0.1, 2), 2 - Math.SQRT2, 1e-6, "distancing only");
  // Ranking active: a = (1,0), p = (0,1), n = (1,1)/√2: d_ap = √2, d_an = √(2 − √2) for both triplets.
  const dan = Math.sqrt(2 - Math.SQRT2);
  close(triplet([[1, 0], [0, 1], [3, 3]], y, 0.1, 0.15), Math.SQRT2 - dan + 0.1, 1e-6, "ranking only");
  close(triplet([[1, 0], [0, 1], [3, 3]], y, 0.1, 1), Math.SQRT2 - dan + 0.1 + 1 - dan, 1e-6, "both terms");
});

Deno.test("tripletDistancingLoss(): hand-computed, three classes, mean over the non-zero triplets only", () => {
  // z = (1,0), (0.8,0.6) [class 0], (0,1) [class 1], (−1,0) [class 2]; triplets (0,1,2), (0,1,3), (1,0,2), (1,0,3).
  // d01 = √0.4, d02 = √2, d03 = 2, d12 = √0.8, d13 = √3.6.
  const rows = [[1, 0], [0.8, 0.6], [0, 1], [-1, 0]], y = [0, 0, 1, 2];
  const d01 = Math.sqrt(0.4), d02 = Math.SQRT2, d12 = Math.sqrt(0.8);
  // m = 0.1, M = 1.5: T(0,1,2) = 1.5 − √2, T(0,1,3) = 0, T(1,0,2) = 1.5 − √0.8, T(1,0,3) = 0 → mean of two.
  close(triplet(rows, y, 0.1, 1.5), ((1.5 - d02) + (1.5 - d12)) / 2, 1e-6, "m = 0.1");
  // m = 0.5: T(1,0,2) gains its ranking term d01 − d12 + 0.5 > 0; T(0,1,2)'s stays 0 (d01 − d02 + 0.5 < 0).
  close(triplet(rows, y, 0.5, 1.5), ((1.5 - d02) + (d01 - d12 + 0.5 + 1.5 - d12)) / 2, 1e-6, "m = 0.5");
  // No valid triplet (a single class): 0.
  close(triplet([[1, 0], [0, 1]], [4, 4], 0.1, 40), 0, 0, "single class");
});

/**
 * pytorch-metric-learning 0.9.99, restated literally: `F.normalize`, `LpDistance` (cdist), every triplet of
 * `get_all_triplets_indices` in its order, `relu(−(an − ap) + margin) + relu(neg_margin − an)`, then
 * `AvgNonZeroReducer`: mean of the losses > 0, else 0.
 */
function pmlLiteral(rows: number[][], labels: number[], margin: number, negMargin: number): number {
  const e = rows.map((r) => {
    const nrm = Math.max(Math.hypot(...r), 1e-12);
    return r.map((v) => v / nrm);
  });
  const dist = (i: number, j: number) => Math.hypot(...e[i]!.map((v, k) => v - e[j]![k]!));
  const losses: number[] = [];
  for (let a = 0; a < rows.length; a++) {
    for (let p = 0; p < rows.length; p++) {
      for (let n = 0; n < rows.length; n++) {
        if (a === p || labels[a] !== labels[p] || labels[a] === labels[n]) continue;
        const ap = dist(a, p), an = dist(a, n);
        losses.push(Math.max(0, -(an - ap) + margin) + Math.max(0, negMargin - an));
      }
    }
  }
  const kept = losses.filter((l) => l > 0);
  return kept.length ? kept.reduce((s, l) => s + l, 0) / kept.length : 0;
}

Deno.test("tripletDistancingLoss() equals a literal re-statement of the pytorch-metric-learning reduction", () => {
  const rng = new Rng(7);
  for (const [b, d, k] of [[12, 5, 3], [9, 2, 3], [16, 4, 4]] as const) {
    const rows = Array.from({ length: b }, () => Array.from({ length: d }, () => rng.normal()));
    const y = Array.from({ length: b }, (_, i) => i % k);
    for (const neg of [0.15, 0.6, 1.15, 2.15, 32.15]) {
      close(triplet(rows, y, 0.1, neg), pmlLiteral(rows, y, 0.1, neg), 2e-5, `B=${b} D=${d} M=${neg}`);
    }
  }
});

Deno.test("tripletDistancingLoss(): finite gradients (duplicate points included) and no leaks", () => {
  const z = tf.tensor2d([[1, 0], [1, 0], [0, 1], [0.5, 0.5]]);
  const before = tf.memory().numTensors;
  const g = tf.grad((x: tf.Tensor) =>
    tripletDistancingLoss(x as tf.Tensor2D, [0, 0, 1, 1], { margin: 0.1, distancingMargin: 2.15 })
  )(z);
  const values = g.dataSync();
  g.dispose();
  assert.equal(tf.memory().numTensors, before, "gradient leaked");
  assert.ok([...values].every(Number.isFinite), `gradient ${values}`);
  assert.ok([...values].some((v) => v !== 0), "some gradient");
  z.dispose();
  assert.throws(
    () => tripletDistancingLoss(tf.zeros([2, 2]) as tf.Tensor2D, [0], { margin: 0.1, distancingMargin: 1 }),
    /1 labels/,
  );
});

Deno.test("tripletDistancingLoss(): gradient equals central differences of the literal re-statement", () => {
  const rng = new Rng(3);
  const rows = Array.from({ length: 6 }, () => Array.from({ length: 3 }, () => rng.normal()));
  const y = [0, 1, 2, 0, 1, 2];
  const z = tf.tensor2d(rows);
  const g = tf.grad((x: tf.Tensor) =>
    tripletDistancingLoss(x as tf.Tensor2D, y, { margin: 0.1, distancingMargin: 1.15 })
  )(z);
  const grad = g.dataSync();
  tf.dispose([z, g]);
  const h = 1e-4;
  for (let i = 0; i < 6; i++) {
    for (let j = 0; j < 3; j++) {
      const at = (dx: number) =>
        pmlLiteral(rows.map((r, a) => r.map((v, b) => (a === i && b === j ? v + dx : v))), y, 0.1, 1.15);
      close(grad[i * 3 + j]!, (at(h) - at(-h)) / (2 * h), 2e-3, `∂L/∂z[${i}][${j}]`);
    }
  }
});

Deno.test("distancingMarginAt(): the UpdateMargin callback's schedule", () => {
  const mnist = { start: 0.15, jump: 1, fromEpoch: 1, max: 32 };
  const expect = (e: number) => {
    let m = 0.15; // Python: at each epoch start e ≥ margins_epoch, if M ≤ M_d: M += jump
    for (let t = 0; t <= e; t++) if (t >= 1 && m <= 32) m += 1;
    return m;
  };
  assert.equal(distancingMarginAt(0, mnist), 0.15);
  close(distancingMarginAt(1, mnist), 1.15, 1e-12, "epoch 1");
  close(distancingMarginAt(2, mnist), 2.15, 1e-12, "epoch 2");
  for (const e of [0, 1, 2, 5, 31, 32, 33, 100, 499]) {
    assert.equal(distancingMarginAt(e, mnist), expect(e), `epoch ${e}`);
  }
  close(distancingMarginAt(32, mnist), 32.15, 1e-12, "epoch 32: first above M_d");
  assert.equal(distancingMarginAt(499, mnist), distancingMarginAt(32, mnist));
  const cifar = { start: 0.15, jump: 1, fromEpoch: 30, max: 64 };
  assert.equal(distancingMarginAt(29, cifar), 0.15);
  close(distancingMarginAt(30, cifar), 1.15, 1e-12, "CIFAR epoch 30");
  assert.throws(() => distancingMarginAt(-1, mnist), /bad epoch/);
});

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);
/** log N(x; m, s²), one dimension. */
const logNormal = (x: number, m: number, s: number) => -((x - m) ** 2) / (2 * s * s) - Math.log(s) - HALF_LOG_2PI;

function kl(z: number[][], mu: number[][], logVar: number[][], y: number[], priors: number[][]): number {
  return scalarNoLeak(() =>
    tf.tidy(() =>
      klToClassPriors(tf.tensor2d(z), tf.tensor2d(mu), tf.tensor2d(logVar), y, tf.tensor2d(priors), {
        priorStd: 0.1,
        weight: 0.1,
      })
    )
  );
}

Deno.test("klToClassPriors(): hand-computed, mean over samples and dimensions, then over present classes", () => {
  // Sample 0 (class 0): z = (0.1, 0), μ = 0, σ = 1, m₀ = 0:
  //   dim 0: (−0.005 − h) − (−0.5 + ln 10 − h) = 0.495 − ln 10;  dim 1: −ln 10;  mean = 0.2475 − ln 10.
  const c0 = 0.2475 - Math.log(10);
  // Samples 1, 2 (class 2; class 1 absent): written out with the 1-d log-density.
  const z = [[0.1, 0], [0.3, -0.2], [0.5, 0.1]];
  const mu = [[0, 0], [0.2, -0.1], [0.4, 0.4]];
  const logVar = [[0, 0], [Math.log(0.04), Math.log(0.09)], [Math.log(0.25), 0]];
  const priors = [[0, 0], [9, 9], [0.3, 0]];
  const term = (i: number, j: number) =>
    logNormal(z[i]![j]!, mu[i]![j]!, Math.exp(logVar[i]![j]! / 2)) - logNormal(z[i]![j]!, priors[2]![j]!, 0.1);
  const c2 = ((term(1, 0) + term(1, 1)) / 2 + (term(2, 0) + term(2, 1)) / 2) / 2;
  close(kl(z, mu, logVar, [0, 2, 2], priors), 0.1 * (c0 + c2) / 2, 1e-5, "two classes present");
  close(kl([z[0]!], [mu[0]!], [logVar[0]!], [0], priors), 0.1 * c0, 1e-6, "one class");
  // q = prior (σ = 0.1, z = μ = m): every integrand is 0.
  const lv = 2 * Math.log(0.1);
  close(kl([[0.3, 0], [0.3, 0]], [[0.3, 0], [0.3, 0]], [[lv, lv], [lv, lv]], [2, 2], priors), 0, 1e-5, "q = p");
});

Deno.test("klToClassPriors(): gradients reach μ and log σ², no leaks, label checks", () => {
  const mu = tf.tensor2d([[0.1, 0.2], [0.3, -0.1]]),
    lv = tf.tensor2d([[0, -1], [0.5, 0]]),
    eps = tf.tensor2d([[0.5, -1], [1, 0]]);
  const priors = tf.tensor2d([[0, 0], [1, 1]]);
  const before = tf.memory().numTensors;
  const grads = tf.grads((m: tf.Tensor, v: tf.Tensor) =>
    klToClassPriors(
      tf.add(m, tf.mul(tf.exp(tf.mul(v, 0.5)), eps)) as tf.Tensor2D,
      m as tf.Tensor2D,
      v as tf.Tensor2D,
      [0, 1],
      priors,
      {
        priorStd: 0.1,
        weight: 0.1,
      },
    )
  )([mu, lv]);
  const values = grads.flatMap((g) => [...g.dataSync()]);
  tf.dispose(grads);
  assert.equal(tf.memory().numTensors, before, "gradients leaked");
  assert.ok(values.every(Number.isFinite) && values.some((v) => v !== 0));
  assert.throws(() => klToClassPriors(mu, mu, lv, [0, 5], priors, { priorStd: 0.1, weight: 0.1 }), /label 5/);
  tf.dispose([mu, lv, eps, priors]);
});

Deno.test("ClassMeanTracker: the previous epoch's class means of z, zeros at first, unseen classes kept", () => {
  const t = new ClassMeanTracker(3, 2);
  assert.deepEqual(t.means.map((m) => [...m]), [[0, 0], [0, 0], [0, 0]]);
  t.add(Float32Array.of(1, 0, 3, 2), Int32Array.of(0, 0));
  t.add(Float32Array.of(-1, 4), Int32Array.of(1));
  assert.deepEqual(t.endEpoch(), [[2, 1], [-1, 4], [0, 0]]);
  t.add(Float32Array.of(5, 5), Int32Array.of(0));
  assert.deepEqual(t.endEpoch(), [[5, 5], [-1, 4], [0, 0]]);
  assert.deepEqual([...t.meansFlat()], [5, 5, -1, 4, 0, 0]);
  assert.throws(() => t.add(Float32Array.of(1, 1), Int32Array.of(3)), /label 3/);
});
