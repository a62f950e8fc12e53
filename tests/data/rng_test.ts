import assert from "node:assert/strict";
import { Rng, rngFrom } from "@lib/data/rng.ts";

Deno.test("Rng() gives the same stream for the same seed and different streams for different seeds", () => {
  const a = new Rng(42), b = new Rng(42), c = new Rng(43), s = new Rng("42");
  const take = (r: Rng) => Array.from({ length: 8 }, () => r.uint32());
  const ta = take(a);
  assert.deepEqual(ta, take(b));
  assert.notDeepEqual(ta, take(c));
  assert.notDeepEqual(ta, take(s));
  assert.deepEqual(take(new Rng("run-1")), take(new Rng("run-1")));
  assert.notDeepEqual(take(new Rng(2 ** 40)), take(new Rng(0)));
});

Deno.test("Rng.getState()/setState() resume the stream exactly, also through JSON", () => {
  const r = new Rng(7);
  for (let i = 0; i < 5; i++) r.float();
  const saved = JSON.parse(JSON.stringify(r.getState()));
  const expected = [r.uint32(), r.float(), r.int(10), r.normal()];
  const resumed = Rng.fromState(saved);
  assert.deepEqual([resumed.uint32(), resumed.float(), resumed.int(10), resumed.normal()], expected);
  r.setState(saved);
  assert.equal(r.uint32(), expected[0]);
  assert.throws(() => r.setState({ algorithm: "sfc32", words: [1, 2, 3] } as never), /Not an sfc32 Rng state/);
  assert.throws(() => r.setState({ algorithm: "xorshift", words: [1, 2, 3, 4] } as never), /Not an sfc32 Rng state/);
});

Deno.test("Rng.float() is in [0,1) and Rng.int(n) covers 0..n-1 roughly uniformly", () => {
  const r = new Rng(1);
  const counts = new Array(7).fill(0);
  for (let i = 0; i < 70000; i++) {
    const f = r.float();
    assert.ok(f >= 0 && f < 1);
    counts[r.int(7)]++;
  }
  for (const c of counts) assert.ok(Math.abs(c - 10000) < 500, `count ${c} far from 10000`);
  assert.throws(() => r.int(0), /1 ≤ n/);
  assert.throws(() => new Rng(1.5), /finite integer/);
});

Deno.test("Rng.normal() has the requested mean and standard deviation", () => {
  const r = new Rng(3);
  let s = 0, s2 = 0;
  const n = 50000;
  for (let i = 0; i < n; i++) {
    const x = r.normal(0.5, 2);
    s += x;
    s2 += x * x;
  }
  const mean = s / n, sd = Math.sqrt(s2 / n - mean * mean);
  assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
  assert.ok(Math.abs(sd - 2) < 0.05, `sd ${sd}`);
});

Deno.test("Rng.permutation() is a permutation and Rng.shuffle() keeps the elements", () => {
  const p = new Rng(5).permutation(1000);
  assert.deepEqual([...p].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
  const arr = ["a", "b", "c", "d"];
  new Rng(5).shuffle(arr);
  assert.deepEqual([...arr].sort(), ["a", "b", "c", "d"]);
});

Deno.test("Rng.fork() gives an independent, reproducible child stream", () => {
  const a = new Rng(9), b = new Rng(9);
  const ca = a.fork(), cb = b.fork();
  assert.equal(ca.uint32(), cb.uint32());
  assert.equal(a.uint32(), b.uint32());
  assert.notEqual(new Rng(9).fork().uint32(), new Rng(9).uint32());
});

Deno.test("rngFrom() prefers the given Rng and otherwise seeds a new one", () => {
  const r = new Rng(1);
  assert.equal(rngFrom({ rng: r, seed: 5 }), r);
  assert.equal(rngFrom({ seed: 5 }).uint32(), new Rng(5).uint32());
  assert.equal(rngFrom({}).uint32(), new Rng(0).uint32());
});
