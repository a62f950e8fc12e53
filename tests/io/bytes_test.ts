import assert from "node:assert/strict";
import { concatBytes, concatTyped } from "@lib/io/bytes.ts";

Deno.test("concatBytes() and concatTyped() join the parts in order into a new array of the same kind", () => {
  assert.deepEqual([...concatBytes([new Uint8Array([1, 2]), new Uint8Array([]), new Uint8Array([3])])], [1, 2, 3]);
  const joined = concatTyped([new Float64Array([0.1, 0.2]), new Float64Array([1e-300])], (n) => new Float64Array(n));
  assert.ok(joined instanceof Float64Array);
  assert.deepEqual([...joined], [0.1, 0.2, 1e-300], "float64 values survive exactly");
  assert.equal(concatTyped([], (n) => new Float32Array(n)).length, 0);
});
