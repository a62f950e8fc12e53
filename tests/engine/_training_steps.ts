/**
 * One optimizer step of each architecture family the project trains, on the engine the calling test file
 * started: the step must run (every gradient kernel exists), give a finite loss, move every trainable weight,
 * and leak no tensors. The nets are built inline with tf.layers, as small as each architecture allows.
 */
import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { batchNormalization } from "@lib/layers/batch_norm.ts";
import { input } from "./_compare.ts";

const L = tf.layers;
type Sym = tf.SymbolicTensor;

function lenet(): tf.LayersModel {
  const m = tf.sequential();
  m.add(L.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, padding: "same", activation: "relu" }));
  m.add(L.maxPooling2d({ poolSize: 2 }));
  m.add(L.conv2d({ filters: 64, kernelSize: 3, padding: "same", activation: "relu" }));
  m.add(L.maxPooling2d({ poolSize: 2 }));
  m.add(L.flatten());
  m.add(L.dense({ units: 128, activation: "relu" }));
  m.add(L.dense({ units: 10 }));
  return m;
}

/** Which BatchNormalization layer a net uses: the stock TF.js one, or ours with the fused kernel. */
type BatchNormKind = "stock" | "fused";
let bnKind: BatchNormKind = "stock";
const makeBn = (args: { momentum?: number; epsilon?: number } = {}) =>
  bnKind === "fused" ? batchNormalization(args) : L.batchNormalization(args);

function convBn(x: Sym, filters: number, kernelSize: number, strides: number, relu: boolean): Sym {
  const conv = L.conv2d({ filters, kernelSize, strides, padding: "same", useBias: false }).apply(x) as Sym;
  const bn = makeBn({ momentum: 0.9, epsilon: 1e-5 }).apply(conv) as Sym;
  return relu ? L.reLU().apply(bn) as Sym : bn;
}

/** Basic residual block; the shortcut is a strided 1x1 conv + BN when the shape changes. */
function basicBlock(x: Sym, filters: number, strides: number): Sym {
  const y = convBn(convBn(x, filters, 3, strides, true), filters, 3, 1, false);
  const shortcut = strides !== 1 || x.shape[3] !== filters ? convBn(x, filters, 1, strides, false) : x;
  return L.reLU().apply(L.add().apply([y, shortcut]) as Sym) as Sym;
}

/** CIFAR-style ResNet: 3x3 stem, one stage per width (stride 2 from the second), global pool, dense 10. */
function resnet(widths: number[], blocks: number[]): tf.LayersModel {
  const inp = tf.input({ shape: [32, 32, 3] });
  let x = convBn(inp, widths[0]!, 3, 1, true);
  widths.forEach((w, stage) => {
    for (let b = 0; b < blocks[stage]!; b++) x = basicBlock(x, w, b === 0 && stage > 0 ? 2 : 1);
  });
  x = L.globalAveragePooling2d({}).apply(x) as Sym;
  return tf.model({ inputs: inp, outputs: L.dense({ units: 10 }).apply(x) as Sym });
}

const bnRelu = (x: Sym) => L.reLU().apply(makeBn().apply(x) as Sym) as Sym;

/** DenseNet-BC: a dense block of BN-ReLU-1x1(4k)-BN-ReLU-3x3(k) layers with concat, and a transition. */
function densenetBC(layers = 3, growth = 12): tf.LayersModel {
  const inp = tf.input({ shape: [16, 16, 3] });
  let x = L.conv2d({ filters: 2 * growth, kernelSize: 3, padding: "same", useBias: false }).apply(inp) as Sym;
  for (let i = 0; i < layers; i++) {
    let y = L.conv2d({ filters: 4 * growth, kernelSize: 1, useBias: false }).apply(bnRelu(x)) as Sym;
    y = L.conv2d({ filters: growth, kernelSize: 3, padding: "same", useBias: false }).apply(bnRelu(y)) as Sym;
    x = L.concatenate({ axis: 3 }).apply([x, y]) as Sym;
  }
  const half = Math.floor((x.shape[3] as number) / 2);
  x = L.conv2d({ filters: half, kernelSize: 1, useBias: false }).apply(bnRelu(x)) as Sym;
  x = L.averagePooling2d({ poolSize: 2 }).apply(x) as Sym;
  x = L.globalAveragePooling2d({}).apply(bnRelu(x)) as Sym;
  return tf.model({ inputs: inp, outputs: L.dense({ units: 10 }).apply(x) as Sym });
}

/** A pre-activation wide residual block (width 32, stride 2) with dropout 0.3 between its convs. */
function wideResNetBlock(): tf.LayersModel {
  const inp = tf.input({ shape: [16, 16, 3] });
  const x = L.conv2d({ filters: 16, kernelSize: 3, padding: "same", useBias: false }).apply(inp) as Sym;
  const pre = bnRelu(x);
  const shortcut = L.conv2d({ filters: 32, kernelSize: 1, strides: 2, useBias: false }).apply(pre) as Sym;
  let y = L.conv2d({ filters: 32, kernelSize: 3, strides: 2, padding: "same", useBias: false }).apply(pre) as Sym;
  y = L.dropout({ rate: 0.3 }).apply(bnRelu(y)) as Sym;
  y = L.conv2d({ filters: 32, kernelSize: 3, padding: "same", useBias: false }).apply(y) as Sym;
  const out = L.globalAveragePooling2d({}).apply(bnRelu(L.add().apply([y, shortcut]) as Sym)) as Sym;
  return tf.model({ inputs: inp, outputs: L.dense({ units: 10 }).apply(out) as Sym });
}

/** A small conv VAE on 28x28x1: stride-2 conv encoder, conv2dTranspose decoder, reparameterisation. */
function convVae(latent = 8) {
  const inp = tf.input({ shape: [28, 28, 1] });
  let h = L.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: "same", activation: "relu" }).apply(inp) as Sym;
  h = L.conv2d({ filters: 16, kernelSize: 3, strides: 2, padding: "same", activation: "relu" }).apply(h) as Sym;
  const stats = L.dense({ units: 2 * latent }).apply(L.flatten().apply(h) as Sym) as Sym;
  const encoder = tf.model({ inputs: inp, outputs: stats });
  const z = tf.input({ shape: [latent] });
  let d = L.dense({ units: 7 * 7 * 16, activation: "relu" }).apply(z) as Sym;
  d = L.reshape({ targetShape: [7, 7, 16] }).apply(d) as Sym;
  d = L.conv2dTranspose({ filters: 8, kernelSize: 3, strides: 2, padding: "same", activation: "relu" }).apply(d) as Sym;
  d = L.conv2dTranspose({ filters: 1, kernelSize: 3, strides: 2, padding: "same" }).apply(d) as Sym;
  const decoder = tf.model({ inputs: z, outputs: d });
  const loss = (x: tf.Tensor): tf.Scalar => {
    const [mu, logVar] = tf.split(encoder.apply(x) as tf.Tensor2D, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
    const eps = tf.randomNormal(mu.shape, 0, 1, "float32", 1);
    const sample = tf.add(mu, tf.mul(eps, tf.exp(tf.mul(logVar, 0.5))));
    const logits = decoder.apply(sample) as tf.Tensor;
    const n = x.shape[0]!;
    const rec = tf.div(tf.losses.sigmoidCrossEntropy(x, logits, undefined, undefined, tf.Reduction.SUM), n);
    const kl = tf.mul(tf.sum(tf.sub(tf.sub(tf.add(tf.exp(logVar), tf.square(mu)), 1), logVar)), 0.5 / n);
    return tf.add(rec, kl) as tf.Scalar;
  };
  return { weights: [...encoder.trainableWeights, ...decoder.trainableWeights], loss };
}

/** Runs one SGD step of `loss` and checks the loss, the weights and the tensor count. */
async function assertOneStep(label: string, weights: tf.LayerVariable[], loss: () => tf.Scalar): Promise<void> {
  const before = weights.map((w) => w.read().dataSync().slice());
  const optimizer = tf.train.sgd(0.05);
  const tensors = tf.memory().numTensors;
  const cost = optimizer.minimize(loss, true)!;
  const value = (await cost.data())[0]!;
  cost.dispose();
  assert.ok(Number.isFinite(value), `${label}: loss ${value}`);
  assert.equal(tf.memory().numTensors, tensors, `${label}: tensors leaked by the step`);
  optimizer.dispose();
  weights.forEach((w, i) => {
    const after = w.read().dataSync();
    assert.ok(after.some((v, j) => v !== before[i]![j]), `${label}: weight ${w.name} did not change`);
    assert.ok(after.every(Number.isFinite), `${label}: weight ${w.name} is not finite`);
  });
}

async function assertClassifierStep(label: string, model: tf.LayersModel, batch: number): Promise<void> {
  const shape = [batch, ...(model.inputs[0]!.shape.slice(1) as number[])];
  const x = tf.tensor(input(shape, 1).data, shape);
  const labels = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => (3 * i) % 10), "int32"), 10);
  await assertOneStep(
    label,
    model.trainableWeights,
    () => tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
  );
  tf.dispose([x, labels]);
  model.dispose();
}

/** Registers the training-step tests for `engine` (the test file must have started that engine). */
export function trainingStepTests(engine: string): void {
  Deno.test(`LeNet completes one training step on the ${engine} engine`, async () => {
    await assertClassifierStep("LeNet", lenet(), 4);
  });
  for (const kind of ["stock", "fused"] as const) {
    Deno.test(`CIFAR ResNet-20 with ${kind} BatchNormalization completes one training step on the ${engine} engine`, async () => {
      bnKind = kind;
      await assertClassifierStep(`ResNet-20 (${kind} BN)`, resnet([16, 32, 64], [3, 3, 3]), 2);
      bnKind = "stock";
    });
  }
  Deno.test(`ResNet-18 completes one training step on the ${engine} engine`, async () => {
    await assertClassifierStep("ResNet-18", resnet([64, 128, 256, 512], [2, 2, 2, 2]), 2);
  });
  Deno.test(`a DenseNet-BC block with transition completes one training step on the ${engine} engine`, async () => {
    await assertClassifierStep("DenseNet-BC", densenetBC(), 3);
  });
  Deno.test(`a WideResNet block with dropout 0.3 completes one training step on the ${engine} engine`, async () => {
    await assertClassifierStep("WRN block", wideResNetBlock(), 3);
  });
  Deno.test(`a conv VAE (strided encoder, conv2dTranspose decoder) completes one training step on the ${engine} engine`, async () => {
    const vae = convVae();
    const x = tf.tensor(input([3, 28, 28, 1], 2, (v) => (v + 1) / 2).data, [3, 28, 28, 1]);
    await assertOneStep("conv VAE", vae.weights, () => vae.loss(x));
    x.dispose();
  });
}
