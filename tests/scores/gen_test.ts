import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { gen, genDetector, type GenOptions } from "@lib/scores/gen.ts";
import type { DetectorContext, NetOutputs } from "@lib/scores/detector.ts";
import { assertClose, noLeak } from "./_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

function score(rows: number[][], opts?: GenOptions): Float32Array {
  const logits = tf.tensor2d(rows);
  try {
    return noLeak(() => gen(logits, opts));
  } finally {
    logits.dispose();
  }
}

/** −Σ over the given probabilities of (p(1 − p))^γ: the reference the hand examples below spell out. */
const ref = (ps: number[], gamma: number) => -ps.reduce((s, p) => s + (p * (1 - p)) ** gamma, 0);

Deno.test("gen() equals −Σ_{top-M} p^γ(1 − p)^γ on hand-computed examples", () => {
  // p = (¼, ¾), γ = ½: −2·√(3/16) = −√3/2 = −0.866025.
  assertClose(score([[0, Math.log(3)]], { gamma: 0.5 }), [-Math.sqrt(3) / 2], 1e-6, "γ = ½");
  // p = (1, 2, 3)/6 with the defaults (γ = 0.1, M = 100 ≥ C: all three classes):
  //   p(1 − p) = 5/36, 8/36, 9/36 → −(0.820907 + 0.860305 + 0.870551) = −2.551763 (numpy: −2.5517632).
  const row = [[0, Math.log(2), Math.log(3)]];
  assertClose(score(row), [ref([1 / 6, 2 / 6, 3 / 6], 0.1)], 1e-6, "defaults");
  assertClose(score(row), [-2.5517632], 1e-6, "defaults (number)");
  // M = 2 keeps ½ and ⅓: −1.730908; M = 1 keeps ½: −(¼)^0.1 = −0.870551.
  assertClose(score(row, { topM: 2 }), [-1.7309077], 1e-6, "M = 2");
  assertClose(score(row, { topM: 1 }), [-(0.25 ** 0.1)], 1e-6, "M = 1");
});

Deno.test("gen() with a tie at the top-M boundary: which tied class is kept does not matter", () => {
  // p = (0.4, 0.3, 0.3) in any order, M = 2: −((0.24)^0.1 + (0.21)^0.1) = −1.722508.
  const [a, b] = [Math.log(4), Math.log(3)];
  const s = score([[a, b, b], [b, a, b], [b, b, a]], { topM: 2 });
  assertClose(s, [-1.7225078, -1.7225078, -1.7225078], 1e-6);
});

Deno.test("gen() is 0 (its maximum) for a saturated softmax and lowest for a uniform one; options are checked", () => {
  // (0, 200, 0): p = (0, 1, 0) in float32, every p(1 − p) = 0. Uniform over 3: −3·(2/9)^0.1.
  assertClose(score([[0, 200, 0], [1, 1, 1]]), [0, ref([1 / 3, 1 / 3, 1 / 3], 0.1)], 1e-6);
  const l = tf.tensor2d([[0, 1]]);
  assert.throws(() => gen(l, { gamma: 0 }), /gamma must be a positive finite number/);
  assert.throws(() => gen(l, { topM: 1.5 }), /topM must be a positive integer/);
  l.dispose();
});

Deno.test("gen detector: the paper's code defaults, a confident (ID-like) prediction above a flat one, no leak", async () => {
  assert.deepEqual(genDetector.defaults, { gamma: 0.1, topM: 100 });
  const outputs: NetOutputs = {
    n: 2,
    logits: { data: Float32Array.of(9, 1, 0, 0.3, 0.2, 0), dim: 3 },
    features: { data: new Float32Array(2), dim: 1 },
    labels: Int32Array.of(0, -1),
  };
  const before = tf.memory().numTensors;
  const s = await genDetector.score({ ds: null!, outputs }, genDetector.defaults, null, {} as DetectorContext);
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  assert.ok(s[0]! > s[1]!, `ID ${s[0]} vs OOD ${s[1]}`);
});
