import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { marginEntropyLoss, meanEntropy } from "@lib/methods/eloc/losses.ts";
import { assertNoLeak } from "../../experiment/_fixtures.ts";

await initBackend({ backend: "cpu", log: null });

const LN2 = Math.log(2), LN3 = Math.log(3);
/** H(0.25, 0.75) = −(¼ ln ¼ + ¾ ln ¾). */
const H_QUARTER = -(0.25 * Math.log(0.25) + 0.75 * Math.log(0.75));
const close = (a: number, e: number, tol = 1e-5, what = "") =>
  assert.ok(Math.abs(a - e) <= tol, `${what}: got ${a}, expected ${e}`);
const value = (t: tf.Tensor) => t.dataSync()[0]!;

function terms(idRows: number[][], labels: number[], oodRows: number[][], opts = {}) {
  return tf.tidy(() => {
    const t = marginEntropyLoss(tf.tensor2d(idRows), tf.tensor1d(labels, "int32"), tf.tensor2d(oodRows), opts);
    return { loss: value(t.loss), ce: value(t.ce), entropyId: value(t.entropyId), entropyOod: value(t.entropyOod) };
  });
}

Deno.test("meanEntropy() is the batch mean of −Σ p ln p", async () => {
  await assertNoLeak(() => {
    tf.tidy(() => {
      close(value(meanEntropy(tf.tensor2d([[0, 0]]))), LN2, 1e-6, "uniform over 2");
      close(value(meanEntropy(tf.tensor2d([[0, LN3]]))), H_QUARTER, 1e-6, "p = (¼, ¾)");
      close(value(meanEntropy(tf.tensor2d([[0, 0], [0, LN3]]))), (LN2 + H_QUARTER) / 2, 1e-6, "mean of two rows");
      close(value(meanEntropy(tf.tensor2d([[1, 1, 1, 1]]))), Math.log(4), 1e-6, "uniform over 4");
    });
  });
});

Deno.test("meanEntropy() is finite and 0 for saturated softmax (no 0·log 0 NaN)", () => {
  tf.tidy(() => {
    const h = value(meanEntropy(tf.tensor2d([[1000, 0, -1000]])));
    assert.ok(Number.isFinite(h));
    close(h, 0, 1e-6, "saturated");
  });
  assert.throws(() => meanEntropy(tf.zeros([0, 2]) as tf.Tensor2D), /\[N ≥ 1/);
});

Deno.test("marginEntropyLoss(): active hinge, L = CE + β(m + H_ID − H_OOD)", async () => {
  await assertNoLeak(() => {
    // ID p = (¾, ¼), label 0: CE = −ln ¾; OOD uniform: H = ln 2; hinge = 0.4 + H(¼,¾) − ln 2 ≈ 0.2692 > 0.
    const t = terms([[LN3, 0]], [0], [[0, 0]], { beta: 0.2, margin: 0.4 });
    close(t.ce, -Math.log(0.75), 1e-6, "ce");
    close(t.entropyId, H_QUARTER, 1e-6, "entropyId");
    close(t.entropyOod, LN2, 1e-6, "entropyOod");
    close(t.loss, -Math.log(0.75) + 0.2 * (0.4 + H_QUARTER - LN2), 1e-6, "loss");
    close(t.loss, 0.341520, 1e-5, "loss by hand");
  });
});

Deno.test("marginEntropyLoss(): defaults β 0.2, m 0.4; CE is the batch mean", () => {
  // Two ID rows: CE = (−ln ¾ + ln 2)/2; H_ID = (H(¼,¾) + ln 2)/2; OOD rows p = (¼, ¾) and uniform over 2.
  const t = terms([[LN3, 0], [0, 0]], [0, 1], [[0, LN3], [5, 5]]);
  close(t.ce, (-Math.log(0.75) + LN2) / 2, 1e-6, "ce");
  const hId = (H_QUARTER + LN2) / 2, hOod = (H_QUARTER + LN2) / 2;
  close(t.loss, t.ce + 0.2 * Math.max(0, 0.4 + hId - hOod), 1e-6, "loss");
  close(t.loss, t.ce + 0.08, 1e-6, "equal entropies: hinge = m");
});

Deno.test("marginEntropyLoss(): inactive hinge (gap ≥ m) gives CE and no gradient to the left-out logits", () => {
  // m = 0.1: 0.1 + H(¼,¾) − ln 2 ≈ −0.0308 < 0.
  const t = terms([[LN3, 0]], [0], [[0, 0]], { beta: 0.2, margin: 0.1 });
  close(t.loss, t.ce, 1e-7, "loss = ce");
  const gradOod = (margin: number) =>
    tf.tidy(() => {
      const id = tf.tensor2d([[LN3, 0]]), y = tf.tensor1d([0], "int32");
      const g = tf.grad((ood: tf.Tensor) => {
        const r = marginEntropyLoss(id, y, ood as tf.Tensor2D, { beta: 0.2, margin });
        return r.loss;
      })(tf.tensor2d([[0.3, 0]]));
      return Array.from(g.dataSync());
    });
  assert.deepEqual(gradOod(0.1), [0, 0]);
  const active = gradOod(0.4);
  assert.ok(active.some((v) => Math.abs(v) > 1e-4), `active hinge moves the left-out logits: ${active}`);
  // d/dz of −β·H(softmax z) at z = (0.3, 0): pushes the logits together (entropy up), so grad[0] > 0 > grad[1].
  assert.ok(active[0]! > 0 && active[1]! < 0);
});

Deno.test("marginEntropyLoss(): β = 0 is plain cross-entropy", () => {
  const t = terms([[LN3, 0]], [1], [[9, -9]], { beta: 0, margin: 0.4 });
  assert.equal(t.loss, t.ce);
  close(t.ce, -Math.log(0.25), 1e-6, "ce of label 1");
});

Deno.test("marginEntropyLoss(): rejects mismatched shapes and bad β", () => {
  tf.tidy(() => {
    const id = tf.tensor2d([[0, 0]]), y = tf.tensor1d([0], "int32");
    assert.throws(() => marginEntropyLoss(id, y, tf.tensor2d([[0, 0, 0]])), /classes/);
    assert.throws(() => marginEntropyLoss(id, tf.tensor1d([0, 1], "int32"), tf.tensor2d([[0, 0]])), /labels/);
    assert.throws(() => marginEntropyLoss(id, y, tf.tensor2d([[0, 0]]), { beta: -1 }), /beta/);
  });
});
