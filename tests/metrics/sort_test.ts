import assert from "node:assert/strict";
import { RADIX_MIN_LENGTH, sortFloat64 } from "../../lib/metrics/sort.ts";
import { Rng } from "../../lib/data/rng.ts";

function randomValues(n: number, seed: number, kind: "f64" | "f32" | "ints"): Float64Array {
  const rng = new Rng(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = (rng.float() - 0.5) * 2e3;
    out[i] = kind === "ints" ? Math.floor(u / 100) : kind === "f32" ? Math.fround(u) : u * 1e-3 ** (i % 3);
  }
  return out;
}

Deno.test("sortFloat64() matches the native typed-array sort on large arrays (radix path)", () => {
  for (const kind of ["f64", "f32", "ints"] as const) {
    const x = randomValues(RADIX_MIN_LENGTH * 2 + 17, 7, kind);
    x[3] = Infinity;
    x[5] = -Infinity;
    x[8] = 0;
    x[9] = Number.MAX_VALUE;
    x[10] = -Number.MIN_VALUE;
    const expected = Float64Array.from(x).sort();
    assert.deepEqual(sortFloat64(x), expected, kind);
  }
});

Deno.test("sortFloat64() sorts small arrays in place and returns them", () => {
  const x = Float64Array.from([3, -1, 2, -Infinity, 0.5]);
  assert.equal(sortFloat64(x), x);
  assert.deepEqual([...x], [-Infinity, -1, 0.5, 2, 3]);
});

Deno.test("sortFloat64() handles an all-equal large array (every radix pass skipped)", () => {
  const x = new Float64Array(RADIX_MIN_LENGTH + 1).fill(-2.5);
  assert.ok(sortFloat64(x).every((v) => v === -2.5));
});
