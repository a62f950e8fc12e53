import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { MT19937, numpyLegacyPermutation } from "@lib/data/mt19937.ts";

// Reference values computed with NumPy 2.4 (legacy RandomState):
//   np.random.seed(s); np.random.permutation(n)

Deno.test("numpyLegacyPermutation() matches np.random.seed(s); np.random.permutation(n)", () => {
  assert.deepEqual([...numpyLegacyPermutation(10, 3)], [5, 4, 1, 2, 9, 6, 7, 0, 3, 8]);
  assert.deepEqual([...numpyLegacyPermutation(7, 0)], [6, 2, 1, 3, 0, 5, 4]);
  const p = numpyLegacyPermutation(10000, 3);
  assert.deepEqual([...p.subarray(0, 10)], [5876, 6555, 1448, 3351, 231, 1204, 1911, 9648, 8438, 7541]);
  assert.deepEqual([...p.subarray(-5)], [6400, 9160, 9859, 1688, 5994]);
  const hash = (a: Int32Array) =>
    createHash("sha256").update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest("hex");
  assert.equal(hash(p), "0ba33f5b10caa1b632c95d0aec89e7bd0b71394f89e82a674b9c26bb067a47c1");
  assert.equal(
    hash(numpyLegacyPermutation(8925, 3)),
    "b2a94d69b6d53225637a9c981c20a87bd012fed6e0b6a6d432f0754c883f53f8",
  );
});

Deno.test("MT19937 produces the reference outputs of init_genrand(5489)", () => {
  // First outputs of the reference implementation (mt19937ar.c) with its default seed 5489.
  const mt = new MT19937(5489);
  assert.deepEqual([mt.uint32(), mt.uint32(), mt.uint32()], [3499211612, 581869302, 3890346734]);
  assert.throws(() => new MT19937(-1), /seed must be/);
});
