/**
 * ASH-P / ASH-B / ASH-S (Djurisic et al. 2023) on pooled features. Expected values by hand; the logsumexps from
 * numpy 2.4 (`np.logaddexp(*(h @ W + b))` with the W, b below), quoted next to each.
 */
import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { ash, ashBDetector, ashKeep, ashPDetector, ashSDetector, ashShape } from "@lib/scores/ash.ts";
import type { DetectorContext, LastLayer } from "@lib/scores/detector.ts";
import { assertClose, noLeak } from "./_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

/** d = 4 features, C = 2 classes: W = [[1, 0], [0, 1], [1, 1], [−1, 2]], b = (0.5, 0). */
const LAYER: LastLayer = {
  kernel: { data: Float32Array.of(1, 0, 0, 1, 1, 1, -1, 2), dim: 2 },
  bias: Float32Array.of(0.5, 0),
};
const rows = (data: number[][]) => ({ data: Float32Array.from(data.flat()), dim: data[0]!.length });

Deno.test("ashKeep() keeps d − np.round(d·p/100) activations and rejects a percentile that keeps none", () => {
  assert.equal(ashKeep(512, 90), 51); // 512 − round(460.8)
  assert.equal(ashKeep(342, 95), 17); // 342 − round(324.9)
  assert.equal(ashKeep(10, 65), 4); // 10 − round(6.5) = 10 − 6 (half to even, not 7)
  assert.equal(ashKeep(6, 25), 4); // 6 − round(1.5) = 6 − 2
  assert.equal(ashKeep(4, 65), 1); // 4 − round(2.6)
  assert.equal(ashKeep(4, 0), 4);
  assert.throws(() => ashKeep(4, 90), /percentile 90 of 4 activations keeps none \(k = 0\)/);
  assert.throws(() => ashKeep(4, 100), /keeps none/);
  assert.throws(() => ashKeep(4, 101), /percentile in \[0, 100\]/);
});

Deno.test("ashShape() prunes to the top k, then keeps (P), binarises to Σh/k (B) or scales by exp(Σh/Σtop-k) (S)", () => {
  const h = rows([[4, 1, 3, 0]]); // p = 50 → k = 2: indices 0 and 2; s₁ = 8, s₂ = 7
  assert.deepEqual([...ashShape(h, { variant: "p", percentile: 50 }).data], [4, 0, 3, 0]);
  assert.deepEqual([...ashShape(h, { variant: "b", percentile: 50 }).data], [4, 0, 4, 0]);
  const e = Math.exp(8 / 7);
  assertClose(ashShape(h, { variant: "s", percentile: 50 }).data, [4 * e, 0, 3 * e, 0], 1e-5, "ASH-S");
  assert.deepEqual([...h.data], [4, 1, 3, 0], "input unchanged");
});

Deno.test("ashShape() breaks ties at the cut towards the lower index and leaves an all-zero row at zero", () => {
  const tie = rows([[2, 1, 1, 0]]); // k = 2: index 0, then index 1 of the tied 1s
  assert.deepEqual([...ashShape(tie, { variant: "p", percentile: 50 }).data], [2, 1, 0, 0]);
  assert.deepEqual([...ashShape(tie, { variant: "b", percentile: 50 }).data], [2, 2, 0, 0]); // s₁/k = 4/2
  const e = Math.exp(4 / 3); // s₁ = 4, s₂ = 3
  assertClose(ashShape(tie, { variant: "s", percentile: 50 }).data, [2 * e, e, 0, 0], 1e-5, "ASH-S tie");
  // s₁ = s₂ = 0: the reference code's 0/0 would make ASH-S NaN; here the row stays zero.
  for (const variant of ["p", "b", "s"] as const) {
    assert.deepEqual([...ashShape(rows([[0, 0, 0, 0]]), { variant, percentile: 50 }).data], [0, 0, 0, 0], variant);
  }
  assert.throws(() => ashShape(rows([[1, NaN, 0, 0]]), { variant: "p", percentile: 50 }), /row 0 is not finite/);
});

Deno.test("ash() is the Energy of the shaped features through the last layer (hand-computed, 3 rows × 3 variants)", () => {
  const h = tf.tensor2d([[4, 1, 3, 0], [2, 1, 1, 0], [0, 0, 0, 0]]);
  const expected = {
    p: [7.511047745, 2.701413278, 0.974076984], // z = (7.5, 3), (2.5, 1), b
    b: [8.511047745, 2.974076984, 0.974076984], // z = (8.5, 4), (2.5, 2), b
    s: [22.450005510, 8.100898152, 0.974076984], // z = (7e^{8/7} + 0.5, 3e^{8/7}), (4e^{4/3} + 0.5, 2e^{4/3}), b
  };
  for (const variant of ["p", "b", "s"] as const) {
    assertClose(noLeak(() => ash(h, LAYER, { variant, percentile: 50 })), expected[variant], 2e-5, variant);
  }
  h.dispose();
});

Deno.test("ash() orders a peaked ID activation above a flat OOD one, for every variant", () => {
  // W = 3·I on units 0, 1 plus two units feeding both classes equally.
  const layer: LastLayer = {
    kernel: { data: Float32Array.of(3, 0, 0, 3, 1, 1, 1, 1), dim: 2 },
    bias: new Float32Array(2),
  };
  const x = tf.tensor2d([[4, 0.5, 0.2, 0.1], [1, 1, 1, 1]]); // ID, OOD
  for (const variant of ["p", "b", "s"] as const) {
    const [id, ood] = noLeak(() => ash(x, layer, { variant, percentile: 50 }));
    assert.ok(id! > ood!, `${variant}: ID ${id} > OOD ${ood}`);
  }
  x.dispose();
});

Deno.test("ASH detectors: default p = 90, no fit, scores through the model's last layer, errors without one", async () => {
  const features = { data: Float32Array.from({ length: 20 }, (_, i) => i % 7), dim: 20 }; // one row, d = 20
  const kernel = { data: Float32Array.from({ length: 40 }, (_, i) => (i % 3) - 1), dim: 2 };
  const layer: LastLayer = { kernel, bias: Float32Array.of(0.1, -0.1) };
  const ctx = { model: { numClasses: 2, lastLayer: () => layer } } as unknown as DetectorContext;
  const set = { outputs: { features } } as unknown as Parameters<typeof ashPDetector.score>[0];
  for (const [d, variant] of [[ashPDetector, "p"], [ashBDetector, "b"], [ashSDetector, "s"]] as const) {
    assert.deepEqual(d.defaults, { percentile: 90 });
    assert.equal(d.fit, undefined);
    const h = tf.tensor2d(features.data, [1, 20]);
    const direct = noLeak(() => ash(h, layer, { variant, percentile: 90 })); // k = 20 − 18 = 2
    h.dispose();
    assertClose(await d.score(set, d.defaults, null, ctx), direct, 1e-6, d.label);
    const noLayer = { model: { numClasses: 2 } } as unknown as DetectorContext;
    await assert.rejects(() => d.score(set, d.defaults, null, noLayer), new RegExp(`${d.label} needs the classifier`));
  }
});

Deno.test("ashShape() matches a sort-based reference (descending, ties by index) on random rows with many ties", () => {
  let seed = 7;
  const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  for (const d of [1, 2, 5, 16, 64]) {
    const data = Float32Array.from({ length: 6 * d }, () => Math.max(0, Math.round(rand() * 8 - 2) / 2));
    for (const p of [0, 30, 50, 65, 90]) {
      if (d - Math.round((d * p) / 100) < 1) continue;
      for (const variant of ["p", "b", "s"] as const) {
        const got = ashShape({ data, dim: d }, { variant, percentile: p }).data;
        for (let r = 0; r < 6; r++) {
          const row = Array.from(data.subarray(r * d, (r + 1) * d));
          const k = ashKeep(d, p);
          const top = row.map((_, j) => j).sort((a, b) => row[b]! - row[a]! || a - b).slice(0, k);
          const s1 = row.reduce((a, b) => a + b, 0), s2 = top.reduce((a, j) => a + row[j]!, 0);
          const ref = new Array<number>(d).fill(0);
          for (const j of top) {
            ref[j] = variant === "p" ? row[j]! : variant === "b" ? s1 / k : row[j]! * Math.exp(s2 !== 0 ? s1 / s2 : 0);
          }
          assertClose(got.subarray(r * d, (r + 1) * d), ref, 1e-4, `d = ${d}, p = ${p}, ${variant}, row ${r}`);
        }
      }
    }
  }
});
