import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { crossEntropy, oeUniformLoss, umLoss, umObjective } from "@lib/methods/unleashing_mask/loss.ts";

await initBackend({ backend: "cpu", log: null });

const close = (a: number, b: number, what: string, tol = 1e-6) =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);
const value = (t: tf.Tensor) => {
  const v = t.dataSync()[0]!;
  t.dispose();
  return v;
};

Deno.test("umObjective() is |β·CE − UM| + UM: CE above, below and at the constraint, and β", () => {
  close(value(umObjective(tf.scalar(0.9), { um: 0.3 })), 0.9, "above: the loss itself");
  close(value(umObjective(tf.scalar(0.1), { um: 0.3 })), 0.5, "below: 2·UM − CE");
  close(value(umObjective(tf.scalar(0.3), { um: 0.3 })), 0.3, "at: UM");
  close(value(umObjective(tf.scalar(0.1), { um: 0.3, beta: 2 })), 0.4, "β·CE = 0.2: |0.2 − 0.3| + 0.3");
  close(value(umObjective(tf.scalar(0.5), { um: 0 })), 0.5, "UM = 0 is plain CE");
  assert.throws(() => umObjective(tf.scalar(1), { um: -1 }), /UM must be a finite number ≥ 0/);
  assert.throws(() => umObjective(tf.scalar(1), { um: 0.1, beta: 0 }), /beta must be/);
});

Deno.test("umObjective() descends above UM and ascends below it: ∂L/∂CE = β·sign(β·CE − UM)", () => {
  const dL = (ce: number, um: number, beta = 1) => {
    const g = tf.grad((c: tf.Tensor) => umObjective(c as tf.Scalar, { um, beta }))(tf.scalar(ce));
    return value(g);
  };
  assert.equal(dL(0.9, 0.3), 1);
  assert.equal(dL(0.1, 0.3), -1);
  assert.equal(dL(0.3, 0.3), 0, "subgradient 0 at equality, as PyTorch's abs");
  assert.equal(dL(0.1, 0.3, 2), -2);
  assert.equal(dL(0.2, 0.3, 2), 2, "β·CE = 0.4 > UM");
});

Deno.test("crossEntropy() is the batch mean of −log softmax(f)_y (PyTorch CrossEntropyLoss)", () => {
  const logits = tf.tensor2d([[1, 2, 3], [0, 0, 0]]);
  const y = tf.tensor1d([2, 0], "int32");
  const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
  close(value(crossEntropy(logits, y)), ((lse - 3) + Math.log(3)) / 2, "CE");
});

Deno.test("umLoss() gives the UM gradient on logits: ±β times the CE gradient, by the side of UM", () => {
  const logits = tf.tensor2d([[2, 0, -1], [0.5, 1, 0]]);
  const y = tf.tensor1d([0, 2], "int32");
  const ce = value(crossEntropy(logits, y));
  const gCe = tf.grad((l: tf.Tensor) => crossEntropy(l as tf.Tensor2D, y))(logits);
  for (const um of [ce - 0.2, ce + 0.2]) {
    close(value(umLoss(logits, y, { kind: "um", um })), Math.abs(ce - um) + um, `value, UM = ${um}`);
    const g = tf.grad((l: tf.Tensor) => umLoss(l as tf.Tensor2D, y, { kind: "um", um }))(logits);
    const sign = ce > um ? 1 : -1;
    const diff = tf.max(tf.abs(tf.sub(g, tf.mul(gCe, sign))));
    assert.ok(value(diff) < 1e-6, `gradient = ${sign}·∂CE for UM = ${um}`);
    g.dispose();
  }
  close(value(umLoss(logits, y, { kind: "ce" })), ce, "criterion ce is plain CE (the README command as written)");
  tf.dispose([logits, y, gCe]);
});

Deno.test("oeUniformLoss() is the mean of logsumexp(f) − mean(f) (CE to uniform up to log C)", () => {
  close(value(oeUniformLoss(tf.tensor2d([[0, 0]]))), Math.log(2), "uniform logits");
  const f = [[3, 1, -1]];
  const expected = Math.log(Math.exp(3) + Math.exp(1) + Math.exp(-1)) - 1;
  close(value(oeUniformLoss(tf.tensor2d(f))), expected, "one row");
});

Deno.test("the losses keep no tensors", () => {
  const logits = tf.tensor2d([[2, 0, -1], [0.5, 1, 0]]);
  const y = tf.tensor1d([0, 2], "int32");
  const before = tf.memory().numTensors;
  for (const t of [umLoss(logits, y, { kind: "um", um: 0.3 }), crossEntropy(logits, y), oeUniformLoss(logits)]) {
    t.dispose();
  }
  const c = tf.scalar(1);
  umObjective(c, { um: 0.2 }).dispose();
  c.dispose();
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([logits, y]);
});
