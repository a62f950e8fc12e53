import assert from "node:assert/strict";
import { NORMALIZATION, resolveNormalization } from "@lib/datasets/normalization.ts";

Deno.test("NORMALIZATION keeps the papers' different CIFAR std vectors under separate names", () => {
  assert.deepEqual(NORMALIZATION.cifarOdin.std.map((v) => Math.round(v * 255 * 10) / 10), [63, 62.1, 66.7]);
  assert.deepEqual(NORMALIZATION.cifarVmdls.std, [0.2023, 0.1994, 0.2010]);
  assert.deepEqual(NORMALIZATION.cifarSupcon.std, [0.2470, 0.2435, 0.2616]);
  assert.deepEqual(NORMALIZATION.mnistHalf, { mean: [0.5], std: [0.5] });
  for (const n of Object.values(NORMALIZATION)) assert.equal(n.mean.length, n.std.length);
});

Deno.test("resolveNormalization() accepts names and explicit objects and lists valid names on error", () => {
  assert.equal(resolveNormalization("cifarOdin"), NORMALIZATION.cifarOdin);
  const own = { mean: [0.1], std: [0.2] };
  assert.equal(resolveNormalization(own), own);
  assert.throws(() => resolveNormalization("cifar" as never), /Valid names: cifarOdin, cifarSupcon/);
});
