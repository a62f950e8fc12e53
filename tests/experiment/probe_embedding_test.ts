import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { probePredict, trainProbe } from "@lib/experiment/probe.ts";
import { classPrototypes, embeddingQuality, prototypeDispersion } from "@lib/metrics/embedding.ts";
import { normalizeRows } from "@lib/scores/matrix.ts";
import { pixelStatistics } from "@lib/datasets/normalization.ts";
import { assertClose } from "../methods/cider/_helpers.ts";

await initBackend({ backend: "cpu", log: null });

const matrix = (rows: number[][]) => ({ data: Float32Array.from(rows.flat()), dim: rows[0]!.length });

Deno.test("trainProbe() fits a linearly separable problem exactly and leaks no tensor", () => {
  // Three classes along three axes, with an offset feature that standardisation must handle.
  const rows: number[][] = [], labels: number[] = [];
  for (let i = 0; i < 60; i++) {
    const c = i % 3, v = [0, 0, 0, 100 + (i % 7)];
    v[c] = 1 + (i % 5) * 0.1;
    rows.push(v);
    labels.push(c);
  }
  const before = tf.memory().numTensors;
  const probe = trainProbe(matrix(rows), Int32Array.from(labels), {
    numClasses: 3,
    epochs: 20,
    batchSize: 16,
    lr: 0.1,
    weightDecay: 0,
    seed: 0,
  });
  assert.equal(tf.memory().numTensors, before, "no tensor left");
  assert.deepEqual(Array.from(probePredict(probe, matrix(rows))), labels);
  assert.deepEqual(Array.from(probePredict(probe, matrix([[0, 0, 2, 103], [3, 0, 0, 101]]))), [2, 0]);
  assert.throws(() => probePredict(probe, matrix([[1, 2]])), /takes 4-d features, got 2-d/);
});

Deno.test("embeddingQuality() measures prototype angles, sample-to-prototype angles and OOD separation (by hand)", () => {
  // Training features of class 0 around (1, 0, 0), class 1 around (0, 1, 0): prototypes (1,0,0), (0,1,0), 90° apart.
  const train = { features: matrix([[2, 0, 0], [3, 0, 0], [0, 1, 0], [0, 5, 0]]), labels: [0, 0, 1, 1] };
  // Test: class 0 at 45° between the axes → 45° from its prototype; class 1 exactly on its prototype.
  const test = { features: matrix([[1, 1, 0], [0, 2, 0]]), labels: [0, 1] };
  // OOD along z: 90° from both prototypes.
  const q = embeddingQuality(train, test, [matrix([[0, 0, 1]])], 2);
  assertClose([q.dispersion], [90], 1e-9, "dispersion");
  assertClose([q.compactness], [22.5], 1e-9, "compactness = mean(45°, 0°)");
  // ID nearest-prototype angles: 45° and 0° → 22.5°; OOD: 90° → separation 67.5°.
  assertClose([q.separation], [67.5], 1e-9, "separation");
  // Three prototypes 120° apart.
  const tri = [1, 0, -0.5, Math.sqrt(3) / 2, -0.5, -Math.sqrt(3) / 2];
  assertClose([prototypeDispersion(tri, 3)], [120], 1e-9, "120°");
  assertClose(classPrototypes(train.features, train.labels, 2), [1, 0, 0, 0, 1, 0], 1e-12, "prototypes");
});

Deno.test("normalizeRows() and pixelStatistics() are the KNN normaliser h/(‖h‖ + 1e-10) and the per-channel pixel moments", () => {
  assertClose(normalizeRows(matrix([[3, 4], [0, 0]])).data, [0.6, 0.8, 0, 0], 1e-6, "rows");
  const ds = {
    name: "x",
    images: Uint8Array.from([0, 255, 255, 255]),
    labels: new Int32Array(2),
    shape: [2, 1, 1, 2] as [number, number, number, number],
    classes: [],
  };
  const s = pixelStatistics(ds);
  assertClose(s.mean, [0.5, 1], 1e-12, "mean per channel");
  assertClose(s.std, [0.5, 1e-6], 1e-6, "std per channel (floored)");
});
