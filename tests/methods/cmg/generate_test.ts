import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { Rng } from "@lib/data/rng.ts";
import { seedEverything } from "@lib/train/seed.ts";
import { type CmgCvae, createCmgCvae } from "@lib/methods/cmg/cvae.ts";
import { classMixedEmbeddings, CMG_SIGMA, generateClassMixed } from "@lib/methods/cmg/generate.ts";
import { assertClose, assertNoLeak } from "../../experiment/_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

seedEverything(3);
const cvae: CmgCvae = createCmgCvae({ encoderPadding: 1, width: 0.0625 }); // zDim 32, numClasses 10
const D = cvae.zDim;

/** The embedding table e_0 … e_9, row-major [10·D]. */
async function table(): Promise<Float32Array> {
  const e = cvae.embed(Array.from({ length: 10 }, (_, i) => i));
  const v = await e.data() as Float32Array;
  e.dispose();
  return v;
}

Deno.test("classMixedEmbeddings() takes every dimension from e_c1 (mask 0) or e_c2 (mask 1), both occurring", async () => {
  const E = await table();
  const n = 64;
  const before = tf.memory().numTensors;
  const { embeddings, c1, c2, mask } = classMixedEmbeddings(cvae, n, { seenClasses: 6, seed: 11 });
  assert.equal(tf.memory().numTensors, before + 1, "only the embeddings tensor is new");
  const out = classMixedEmbeddings(cvae, n, { seenClasses: 6, seed: 11 });
  assert.deepEqual(out.c1, c1, "same seed, same draws");
  assert.deepEqual(out.c2, c2);
  assert.deepEqual(out.mask, mask);
  const v = await out.embeddings.data();
  let fromC1 = 0, fromC2 = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < D; j++) {
      const a = E[c1[i]! * D + j]!, b = E[c2[i]! * D + j]!, got = v[i * D + j]!;
      assert.equal(got, mask[i * D + j] ? b : a, `sample ${i}, dim ${j}`);
      if (c1[i] !== c2[i] && a !== b) got === a ? fromC1++ : fromC2++;
    }
  }
  assert.ok(fromC1 > 0 && fromC2 > 0, `dims from e_c1 ${fromC1}, from e_c2 ${fromC2}`);
  assert.ok(c1.some((c, i) => c === c2[i]) && c1.some((c, i) => c !== c2[i]), "c1 = c2 may happen, and c1 ≠ c2 does");
  out.embeddings.dispose();
  embeddings.dispose();
});

Deno.test("classMixedEmbeddings({ mix: false }) is e_c1 exactly: the paper's one-class ablation", async () => {
  const E = await table();
  const { embeddings, c1, c2, mask } = classMixedEmbeddings(cvae, 20, { seenClasses: 6, seed: 5, mix: false });
  assert.deepEqual(c2, c1);
  assert.ok(mask.every((m) => m === 0));
  const v = await embeddings.data();
  for (let i = 0; i < 20; i++) assert.deepEqual(v.slice(i * D, (i + 1) * D), E.slice(c1[i]! * D, (c1[i]! + 1) * D));
  embeddings.dispose();
});

Deno.test("classMixedEmbeddings() draws c1, c2 uniformly from the seen classes and the mask as a fair coin", () => {
  const n = 6000, seen = [2, 5, 7];
  const { embeddings, c1, c2, mask } = classMixedEmbeddings(cvae, n, { seenClasses: seen, rng: new Rng(9) });
  embeddings.dispose();
  for (const cs of [c1, c2]) {
    const counts = seen.map((s) => cs.filter((c) => c === s).length);
    assert.equal(counts.reduce((a, b) => a + b), n, "every class is a seen one");
    // 2000 expected, sd √(6000·⅓·⅔) ≈ 36.5: ±150 is > 4 sd.
    for (const k of counts) assert.ok(Math.abs(k - n / 3) < 150, `counts ${counts}`);
  }
  const same = c1.filter((c, i) => c === c2[i]).length; // independent: P(c1 = c2) = ⅓
  assert.ok(Math.abs(same - n / 3) < 150, `c1 = c2 in ${same} of ${n}`);
  const ones = mask.reduce((a, b) => a + b, 0); // n·D = 192 000 coins, sd ≈ 219
  assert.ok(Math.abs(ones - (n * D) / 2) < 1000, `${ones} of ${n * D}`);
  const k6 = classMixedEmbeddings(cvae, 500, { seenClasses: 6, seed: 1 });
  assert.ok([...k6.c1, ...k6.c2].every((c) => c >= 0 && c < 6));
  k6.embeddings.dispose();
  assert.throws(() => classMixedEmbeddings(cvae, 2, { seenClasses: [3, 10] }), RangeError);
});

Deno.test("generateClassMixed() decodes z ~ N(0, σ²I) with the mixed embeddings; a seed fixes the images; no leaks", async () => {
  const n = 125; // 125 · 32 = 4 000 values of z
  const g = await assertNoLeak(() => {
    const out = generateClassMixed(cvae, n, { sigma: CMG_SIGMA.mnist, seenClasses: 6, seed: 7 });
    out.images.dispose();
    return out;
  });
  const mean = g.z.reduce((a, b) => a + b, 0) / g.z.length;
  const std = Math.sqrt(g.z.reduce((a, b) => a + (b - mean) ** 2, 0) / (g.z.length - 1));
  // sd of the sample std ≈ σ/√(2·4000) ≈ 0.034, of the mean σ/√4000 ≈ 0.047.
  assert.ok(Math.abs(std - 3) < 0.15, `std ${std}`);
  assert.ok(Math.abs(mean) < 0.2, `mean ${mean}`);

  const a = generateClassMixed(cvae, 16, { seenClasses: 6, seed: 7 });
  const b = generateClassMixed(cvae, 16, { seenClasses: 6, seed: 7 });
  const c = generateClassMixed(cvae, 16, { seenClasses: 6, seed: 8 });
  const five = generateClassMixed(cvae, 16, { seenClasses: 6, seed: 7, sigma: CMG_SIGMA.cifar10 });
  assert.deepEqual(a.images.shape, [16, 28, 28, 1]);
  const av = await a.images.data();
  assert.deepEqual(av, await b.images.data(), "same seed, same images");
  assert.notDeepEqual(av, await c.images.data(), "another seed, other images");
  assert.ok(av.every((p) => p > 0 && p < 1));
  assertClose(five.z, a.z.map((v) => (v * 5) / 3), 1e-5, "σ scales z");
  assert.deepEqual(five.mask, a.mask);
  // x_gen = decode(z, ẽ) with ẽ from the same stream's first draws.
  const e = classMixedEmbeddings(cvae, 16, { seenClasses: 6, seed: 7 });
  assert.deepEqual(e.c1, a.c1);
  const z = tf.tensor2d(a.z, [16, D]);
  const x = cvae.decode(z, e.embeddings);
  assertClose(await x.data(), av, 1e-6, "decode(z, ẽ)");
  tf.dispose([a.images, b.images, c.images, five.images, e.embeddings, z, x]);
});

Deno.test("generateClassMixed({ mix: false }) decodes one class's embedding", async () => {
  const g = generateClassMixed(cvae, 8, { seenClasses: 6, seed: 4, mix: false });
  assert.deepEqual(g.c2, g.c1);
  const z = tf.tensor2d(g.z, [8, D]);
  const e = cvae.embed(g.c1);
  const x = cvae.decode(z, e);
  assertClose(await x.data(), await g.images.data(), 1e-6, "decode(z, e_c1)");
  tf.dispose([g.images, z, e, x]);
});
