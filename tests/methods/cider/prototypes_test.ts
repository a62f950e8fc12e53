import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import {
  meanPrototypes,
  sequentialEma,
  sequentialEmaBackward,
  sequentialEmaForward,
} from "@lib/methods/cider/prototypes.ts";
import { assertClose, literalEma, noLeak, unitRows } from "./_helpers.ts";

await initBackend({ backend: "cpu", log: null });

// Two samples of class 0, α = 0.5, μ₀ = (1, 0), μ₁ = (0, 1); z₁ = (0, 1), z₂ = (0, −1). By hand:
//   v₁ = ½(1, 0) + ½(0, 1) = (½, ½), ‖v₁‖ = √½, u₁ = (1/√2, 1/√2)
//   v₂ = ½u₁ + ½(0, −1) = (0.353553, −0.146447), ‖v₂‖ = 0.382683, u₂ = (cos 22.5°, −sin 22.5°)
// Gradient of L = (μ₀)_y (the y-coordinate of the final prototype 0), i.e. ∂L/∂μ₀ = (0, 1):
//   step 2: g_v = (g − u₂(u₂ᵀg))/‖v₂‖ = (0.923880, 2.230442); ∂L/∂z₂ = ½g_v = (0.461940, 1.115221); g ← ½g_v
//   step 1: g_v = (g − u₁(u₁ᵀg))/‖v₁‖ = (−0.461940, 0.461940); ∂L/∂z₁ = ½g_v = (−0.230970, 0.230970)
// (checked by central finite differences). z₁ gets a gradient only through the α·μ term of the later update:
// a "last update only" implementation would give ∂L/∂z₁ = 0.
const COS = Math.cos(Math.PI / 8), SIN = Math.sin(Math.PI / 8);
const DZ1 = [-0.230970, 0.230970], DZ2 = [0.461940, 1.115221];

Deno.test("sequentialEma() updates prototypes one sample at a time in batch order (hand-computed two-sample example)", () => {
  const [mu] = noLeak(() =>
    tf.tidy(() =>
      sequentialEma(tf.tensor2d([[1, 0], [0, 1]]), tf.tensor2d([[0, 1], [0, -1]]), [0, 0], { momentum: 0.5 })
    )
  );
  assertClose(mu!, [COS, -SIN, 0, 1], 1e-6, "prototypes");
  // Order matters: the same two samples the other way round give a different prototype.
  const [swapped] = noLeak(() =>
    tf.tidy(() =>
      sequentialEma(tf.tensor2d([[1, 0], [0, 1]]), tf.tensor2d([[0, -1], [0, 1]]), [0, 0], { momentum: 0.5 })
    )
  );
  assertClose(swapped!, [COS, SIN, 0, 1], 1e-6, "reversed order");
});

Deno.test("sequentialEma() back-propagates through the whole within-batch update chain (hand-computed gradient)", () => {
  const [dz] = noLeak(() =>
    tf.tidy(() => {
      const start = tf.tensor2d([[1, 0], [0, 1]]);
      const grad = tf.grad((z: tf.Tensor) =>
        tf.sum(tf.mul(sequentialEma(start, z as tf.Tensor2D, [0, 0], { momentum: 0.5 }), tf.tensor2d([[0, 1], [0, 0]])))
      );
      return grad(tf.tensor2d([[0, 1], [0, -1]]));
    })
  );
  assertClose(dz!, [...DZ1, ...DZ2], 1e-5, "∂L/∂z");
  // The plain-array backward gives the same numbers.
  const { trace } = sequentialEmaForward([1, 0, 0, 1], [0, 1, 0, -1], [0, 0], 2, 0.5);
  assertClose(sequentialEmaBackward([0, 1, 0, 0], trace, [0, 0], 2, 0.5), [...DZ1, ...DZ2], 1e-6, "backward");
});

Deno.test("sequentialEma() equals TF.js autograd of a literal port of the reference loop (values and gradients)", () => {
  const c = 3, d = 5, labels = [2, 0, 2, 1, 2, 0, 0, 2];
  const start = unitRows(c, d, 1), z = unitRows(labels.length, d, 2);
  const weights = tf.tensor2d(unitRows(c, d, 3));
  for (const alpha of [0.5, 0.95]) {
    const [ours, oursGrad, ref, refGrad] = noLeak(() =>
      tf.tidy(() => {
        const p = tf.tensor2d(start), x = tf.tensor2d(z);
        const loss = (f: (z: tf.Tensor2D) => tf.Tensor2D) => (zz: tf.Tensor) =>
          tf.sum(tf.mul(f(zz as tf.Tensor2D), weights));
        const mine = (zz: tf.Tensor2D) => sequentialEma(p, zz, labels, { momentum: alpha });
        const literal = (zz: tf.Tensor2D) => literalEma(p, zz, labels, alpha);
        return [mine(x), tf.grad(loss(mine))(x), literal(x), tf.grad(loss(literal))(x)];
      })
    );
    assertClose(ours!, ref!, 1e-5, `values α=${alpha}`);
    assertClose(oursGrad!, refGrad!, 1e-5, `gradients α=${alpha}`);
  }
  weights.dispose();
});

Deno.test("sequentialEma() gives no gradient to the starting prototypes and rejects bad input", () => {
  const [dp] = noLeak(() =>
    tf.tidy(() => {
      const z = tf.tensor2d([[0, 1]]);
      return tf.grad((p: tf.Tensor) => tf.sum(sequentialEma(p as tf.Tensor2D, z, [0], { momentum: 0.5 })))(
        tf.tensor2d([[1, 0], [0, 1]]),
      );
    })
  );
  assert.deepEqual(Array.from(dp!), [0, 0, 0, 0]);
  const p = tf.tensor2d([[1, 0], [0, 1]]), z = tf.tensor2d([[0, 1]]);
  assert.throws(() => sequentialEma(p, z, [2], { momentum: 0.5 }), /label 2 at position 0/);
  assert.throws(() => sequentialEma(p, z, [0], { momentum: 1.5 }), /momentum must be in \[0, 1\]/);
  assert.throws(() => sequentialEma(p, z, [0, 1], { momentum: 0.5 }), /1 embeddings, 2 labels/);
  tf.dispose([p, z]);
});

Deno.test("meanPrototypes() is the normalised class mean of the embeddings and rejects an empty class", () => {
  const z = [1, 0, 0, 1, 0.6, 0.8, -1, 0];
  const p = meanPrototypes(z, [0, 0, 1, 1], 2);
  // class 0: mean (½, ½) → (1/√2, 1/√2); class 1: mean (−0.2, 0.4) → (−1/√5, 2/√5)
  assertClose(p.values, [Math.SQRT1_2, Math.SQRT1_2, -1 / Math.sqrt(5), 2 / Math.sqrt(5)], 1e-6, "prototypes");
  assert.equal(p.dim, 2);
  assert.throws(() => meanPrototypes(z, [0, 0, 0, 0], 2), /class 1 has no training sample/);
});
