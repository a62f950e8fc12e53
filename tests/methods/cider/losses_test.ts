import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { ciderLoss, compactnessLoss, dispersionLoss, supConLoss } from "@lib/methods/cider/losses.ts";
import { assertClose, literalEma, noLeak, unitRows } from "./_helpers.ts";

await initBackend({ backend: "cpu", log: null });

Deno.test("dispersionLoss() = (τ/τ_b)·mean_i log mean_{j≠i} exp(μ_iᵀμ_j/τ), hand-computed", () => {
  // Three prototypes 120° apart: every pair has cosine −½, so L = (τ/τ_b)·(−½/τ) = −½/τ_b.
  const tri = [[1, 0], [-0.5, Math.sqrt(3) / 2], [-0.5, -Math.sqrt(3) / 2]];
  const [a] = noLeak(() => tf.tidy(() => dispersionLoss(tf.tensor2d(tri), { temperature: 0.1, baseTemperature: 0.1 })));
  assertClose(a!, [-5], 1e-4, "120°");
  // Orthogonal pair, then a non-symmetric triple: μ = (1,0), (0,1), (0.6,0.8), τ = 1, τ_b = 0.5 (factor 2):
  //   row 0: log((e^0 + e^0.6)/2), row 1: log((e^0 + e^0.8)/2), row 2: log((e^0.6 + e^0.8)/2)
  const expected = 2 * (Math.log((1 + Math.exp(0.6)) / 2) + Math.log((1 + Math.exp(0.8)) / 2) +
    Math.log((Math.exp(0.6) + Math.exp(0.8)) / 2)) /
    3;
  const [b] = noLeak(() =>
    tf.tidy(() => dispersionLoss(tf.tensor2d([[1, 0], [0, 1], [0.6, 0.8]]), { temperature: 1, baseTemperature: 0.5 }))
  );
  assertClose(b!, [expected], 1e-5, "triple");
  assert.throws(() => dispersionLoss(tf.tensor2d([[1, 0]]), { temperature: 0.1, baseTemperature: 0.1 }), /at least 2/);
});

Deno.test("compactnessLoss() = −(τ/τ_b)·mean log softmax(zᵀμ/τ)[y] with normalised prototypes, hand-computed", () => {
  // z = (0.6, 0.8), y = 1, μ = (1, 0), (0, 1), τ = 1, τ_b = 0.5: −2·(0.8 − log(e^0.6 + e^0.8)) = 1.196278
  const expected = -2 * (0.8 - Math.log(Math.exp(0.6) + Math.exp(0.8)));
  for (const protos of [[[1, 0], [0, 1]], [[2, 0], [0, 3]]]) {
    const [v] = noLeak(() =>
      tf.tidy(() =>
        compactnessLoss(tf.tensor2d([[0.6, 0.8]]), tf.tensor2d(protos), [1], { temperature: 1, baseTemperature: 0.5 })
      )
    );
    assertClose(v!, [expected], 1e-5, `prototypes ${JSON.stringify(protos)}`);
  }
  // Reference factors: τ = 0.1, τ_b = 0.07, z = μ₀ exactly: (0.1/0.07)·log(1 + e^−10).
  const [r] = noLeak(() =>
    tf.tidy(() =>
      compactnessLoss(tf.tensor2d([[1, 0]]), tf.tensor2d([[1, 0], [0, 1]]), tf.tensor1d([0], "int32"), {
        temperature: 0.1,
        baseTemperature: 0.07,
      })
    )
  );
  assertClose(r!, [(0.1 / 0.07) * Math.log1p(Math.exp(-10))], 1e-7, "reference factors (float32)");
});

/** Float64 SupCon, written out as a double loop (Khosla et al. Eq. 2, contrast_mode "all"). */
function supConReference(z: number[][], y: number[], tau: number, base: number): number {
  const n = z.length;
  const dot = (a: number[], b: number[]) => a.reduce((s, x, k) => s + x * b[k]!, 0);
  let total = 0;
  for (let i = 0; i < n; i++) {
    let denom = 0;
    for (let a = 0; a < n; a++) if (a !== i) denom += Math.exp(dot(z[i]!, z[a]!) / tau);
    let sum = 0, count = 0;
    for (let p = 0; p < n; p++) {
      if (p === i || y[p] !== y[i]) continue;
      sum += dot(z[i]!, z[p]!) / tau - Math.log(denom);
      count++;
    }
    total += sum / count;
  }
  return -(tau / base) * total / n;
}

Deno.test("supConLoss() equals a float64 double-loop reference of SupCon (two views, repeated labels)", () => {
  const z = unitRows(8, 6, 7), y = [0, 1, 0, 2, 0, 1, 0, 2];
  for (const [tau, base] of [[0.1, 0.07], [0.5, 0.5]] as const) {
    const [v] = noLeak(() => tf.tidy(() => supConLoss(tf.tensor2d(z), y, { temperature: tau, baseTemperature: base })));
    assertClose(v!, [supConReference(z, y, tau, base)], 1e-4, `τ=${tau}`);
  }
});

Deno.test("ciderLoss() = w·L_comp + L_dis on EMA-updated prototypes, with the reference's gradient path", () => {
  const c = 3, d = 4, labels = [1, 0, 1, 2, 1, 0];
  const start = unitRows(c, d, 11), z = unitRows(labels.length, d, 12);
  const opts = {
    momentum: 0.5,
    compactnessWeight: 2,
    temperature: 0.1,
    dispersionBaseTemperature: 0.1,
    compactnessBaseTemperature: 0.07,
  };
  const before = tf.memory().numTensors;
  const x = tf.tensor2d(z);
  let updated: Float32Array = new Float32Array(0);
  const ours = tf.valueAndGrad((zz: tf.Tensor) => {
    const t = ciderLoss(
      zz as tf.Tensor2D,
      labels,
      { values: Float32Array.from(start.flat()), numClasses: c, dim: d },
      opts,
    );
    updated = t.prototypes;
    tf.dispose([t.compactness, t.dispersion]);
    return t.loss;
  })(x);
  // Reference: the literal loop (autograd through it), dispersion on it, compactness on its detached values.
  const ref = tf.valueAndGrad((zz: tf.Tensor) => {
    const mu = literalEma(tf.tensor2d(start), zz as tf.Tensor2D, labels, opts.momentum);
    const detached = tf.tensor2d(mu.dataSync(), [c, d]);
    const dis = dispersionLoss(mu, { temperature: 0.1, baseTemperature: 0.1 });
    const comp = compactnessLoss(zz as tf.Tensor2D, detached, labels, { temperature: 0.1, baseTemperature: 0.07 });
    return tf.add(tf.mul(comp, 2), dis) as tf.Scalar;
  })(x);
  assertClose(ours.value.dataSync(), ref.value.dataSync(), 1e-5, "loss");
  assertClose(ours.grad.dataSync(), ref.grad.dataSync(), 1e-4, "∂L/∂z");
  const expectedMu = tf.tidy(() => literalEma(tf.tensor2d(start), x, labels, 0.5));
  assertClose(updated, expectedMu.dataSync(), 1e-6, "updated prototypes");
  tf.dispose([x, ours.value, ours.grad, ref.value, ref.grad, expectedMu]);
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
});

Deno.test("ciderLoss() returns its three terms consistently and leaks no tensor", () => {
  const z = tf.tensor2d(unitRows(4, 3, 5));
  const before = tf.memory().numTensors;
  const t = ciderLoss(z, [0, 1, 0, 1], { values: Float32Array.from(unitRows(2, 3, 6).flat()), numClasses: 2, dim: 3 }, {
    momentum: 0.9,
    compactnessWeight: 1.5,
    temperature: 0.1,
    dispersionBaseTemperature: 0.1,
    compactnessBaseTemperature: 0.07,
  });
  const [loss, comp, dis] = [t.loss, t.compactness, t.dispersion].map((s) => s.dataSync()[0]!);
  assertClose([loss!], [1.5 * comp! + dis!], 1e-5, "w·L_comp + L_dis");
  assert.equal(t.prototypes.length, 6);
  tf.dispose([t.loss, t.compactness, t.dispersion]);
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  z.dispose();
});
