import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { deriveSeed, mathRandomState, restoreMathRandomState, seedEverything, unseed } from "@lib/train/seed.ts";
import { assertSeedDeterminism } from "./_determinism.ts";

await initBackend({ backend: "cpu", log: null });

Deno.test("the same seed gives identical losses (weight init, dropout, data) and another seed does not", () => {
  assertSeedDeterminism();
});

Deno.test("a saved Math.random state continues the stream exactly", () => {
  seedEverything(3);
  Math.random();
  const saved = mathRandomState()!;
  const next = [Math.random(), Math.random()];
  restoreMathRandomState(saved);
  assert.deepEqual([Math.random(), Math.random()], next);
  const w1 = tf.randomNormal([3]).dataSync();
  restoreMathRandomState(saved);
  Math.random();
  Math.random();
  assert.deepEqual(tf.randomNormal([3]).dataSync(), w1);
  unseed();
  assert.equal(mathRandomState(), null);
});

Deno.test("derived seeds differ by purpose and are stable", () => {
  assert.notEqual(deriveSeed(0, "shuffle"), deriveSeed(0, "augment"));
  assert.notEqual(deriveSeed(0, "shuffle"), deriveSeed(1, "shuffle"));
  assert.equal(deriveSeed(7, "shuffle"), deriveSeed(7, "shuffle"));
  assert.notEqual(deriveSeed(1, "x"), deriveSeed("1", "x"));
});
