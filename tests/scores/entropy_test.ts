import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { entropyDetector, negativeEntropy } from "@lib/scores/entropy.ts";
import type { DetectorContext, NetOutputs } from "@lib/scores/detector.ts";
import { assertClose, noLeak } from "./_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

function score(rows: number[][]): Float32Array {
  const logits = tf.tensor2d(rows);
  try {
    return noLeak(() => negativeEntropy(logits));
  } finally {
    logits.dispose();
  }
}

Deno.test("negativeEntropy() equals Σ p·log p on hand-computed 2- and 3-class examples", () => {
  // (0, 0): p = (½, ½) → ln ½ = −0.693147.  (0, ln 3): p = (¼, ¾) → ¼·ln ¼ + ¾·ln ¾ = −0.346574 − 0.215762.
  // (ln 1, ln 2, ln 3): p = (1, 2, 3)/6 → Σ p ln p = −1.011404.
  assertClose(
    score([[0, 0, -1000], [0, Math.log(3), -1000]]),
    [-Math.LN2, 0.25 * Math.log(0.25) + 0.75 * Math.log(0.75)],
    1e-6,
    "2 classes (a third at −1000 has p = 0 in float32 and adds 0)",
  );
  const p = [1, 2, 3].map((v) => v / 6);
  assertClose(score([[0, Math.log(2), Math.log(3)]]), [p.reduce((s, v) => s + v * Math.log(v), 0)], 1e-6, "3 classes");
});

Deno.test("negativeEntropy() is 0 for a saturated softmax and −log C for a uniform one (no NaN from an underflowed p)", () => {
  // (0, 200): p₀ = e^−200 underflows to 0 in float32; p.log()·p would be 0·(−∞) = NaN, log-softmax gives −200·0 = 0.
  const s = score([[0, 200, 0], [5, 5, 5]]);
  assert.ok(s.every(Number.isFinite), `finite: ${s}`);
  assertClose(s, [0, -Math.log(3)], 1e-6);
});

Deno.test("entropy detector orders a confident (ID-like) prediction above a flat (OOD-like) one and leaks nothing", async () => {
  const outputs: NetOutputs = {
    n: 2,
    logits: { data: Float32Array.of(8, 0, 0, 0.2, 0.1, 0), dim: 3 },
    features: { data: new Float32Array(2), dim: 1 },
    labels: Int32Array.of(0, -1),
  };
  const before = tf.memory().numTensors;
  const s = await entropyDetector.score({ ds: null!, outputs }, {}, null, {} as DetectorContext);
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  assert.ok(s[0]! > s[1]!, `ID ${s[0]} vs OOD ${s[1]}`);
  assert.ok(s[1]! >= -Math.log(3) - 1e-6 && s[0]! <= 0, "within [−log C, 0]");
});
