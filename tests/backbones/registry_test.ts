/**
 * The generic test every registered backbone gets (C11): forward shapes, finite outputs, features/head
 * consistency, no tensor leak, a training step, and a save/load round-trip — at a narrow width so the whole
 * file stays fast; the full-width networks are checked by param_counts_test.ts.
 */
import assert from "node:assert/strict";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import {
  type Backbone,
  backboneFromModel,
  type BackboneName,
  type BackboneOptions,
  type BackboneOptionsMap,
  type BackboneOptionsOf,
  BACKBONES,
  createBackbone,
} from "@lib/backbones/mod.ts";
import { seedEverything } from "@lib/train/seed.ts";

await initBackend({ backend: "native", log: null });
seedEverything(0);

const C = 3;
/** Small configurations of every registered backbone; a missing key fails `deno check`. */
const SMALL = {
  lenet: { numClasses: C, width: 0.25 },
  lenet5: { numClasses: C, width: 0.5 },
  mnist_conv: { numClasses: C, width: 0.08 },
  cmg_cnn: { numClasses: C, width: 0.125, headHidden: [16] },
  resnet20: { numClasses: C, width: 0.5 },
  resnet18: { numClasses: C, width: 0.0625, inputShape: [16, 16, 3] },
  resnet34: { numClasses: C, width: 0.0625, inputShape: [16, 16, 3] },
  densenet_bc_100: { numClasses: C, width: 0.25, inputShape: [16, 16, 3] },
  wrn_28_10: { numClasses: C, width: 0.05, dropRate: 0.3, inputShape: [16, 16, 3] },
  wrn_40_2: { numClasses: C, width: 0.25, inputShape: [16, 16, 3] },
  vgg16_bn: { numClasses: C, width: 0.0625 },
  vgg11_bn: { numClasses: C, width: 0.0625 },
  vmdls_vgg: { numClasses: C, width: 0.0625 },
} as const satisfies BackboneOptionsMap;

/** Variants whose extra code paths the registry defaults do not reach. */
interface Case {
  label: string;
  name: BackboneName;
  opts: BackboneOptions;
}
const variant = <N extends BackboneName>(label: string, name: N, opts: BackboneOptionsOf<N>): Case => ({
  label,
  name,
  opts,
});
const VARIANTS: Case[] = [
  variant("resnet20 with padding shortcuts", "resnet20", { ...SMALL.resnet20, shortcut: "padding" }),
  variant("resnet18 with CMG's MLP head", "resnet18", { ...SMALL.resnet18, headHidden: [8] }),
  variant("densenet_bc_100 at depth 40 with Unleashing Mask's non-affine BN and dropout 0.3", "densenet_bc_100", {
    numClasses: C,
    width: 0.25,
    depth: 40,
    dropRate: 0.3,
    affineBatchNorm: false,
    inputShape: [16, 16, 3],
  }),
];

const CASES: Case[] = [
  ...(Object.keys(BACKBONES) as BackboneName[]).map((name) => ({ label: name, name, opts: SMALL[name] })),
  ...VARIANTS,
];

function input(net: Backbone): tf.Tensor4D {
  return tf.randomNormal([2, ...net.inputShape], 0, 1, "float32", 7) as tf.Tensor4D;
}

async function values(t: tf.Tensor): Promise<Float32Array> {
  return await t.data() as Float32Array;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
}

function assertClose(actual: Float32Array, expected: Float32Array, what: string): void {
  const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 1);
  const diff = maxAbsDiff(actual, expected);
  assert.ok(diff <= 1e-5 * scale, `${what}: max |difference| ${diff} (scale ${scale})`);
}

/** Saves the whole model in memory, in the TF.js layers format, and loads it back. */
async function roundTrip(model: tf.LayersModel): Promise<tf.LayersModel> {
  let saved: tf.io.ModelArtifacts | null = null;
  await model.save(tf.io.withSaveHandler((artifacts) => {
    saved = artifacts;
    return Promise.resolve({ modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) });
  }));
  return await tf.loadLayersModel(tf.io.fromMemory(saved!));
}

for (const { label, name, opts } of CASES) {
  Deno.test(`createBackbone("${name}") passes the generic backbone checks (${label})`, async (t) => {
    const net = createBackbone(name, opts);
    const x = input(net);
    try {
      await t.step("logits, features and featureList have the advertised shapes and are finite", async () => {
        assert.equal(net.name, name);
        assert.deepEqual(net.inputShape, opts.inputShape ?? net.inputShape);
        assert.equal(net.numClasses, C);
        const logits = net.logits(x), features = net.features(x);
        assert.deepEqual(logits.shape, [2, C]);
        assert.deepEqual(features.shape, [2, net.featureDim]);
        for (const t of [logits, features]) assert.ok((await values(t)).every(Number.isFinite));
        if (net.featureList) {
          const list = net.featureList(x);
          assert.deepEqual(list.map((f) => f.shape), net.featureListDims!.map((d) => [2, d]));
          for (const f of list) assert.ok((await values(f)).every(Number.isFinite));
          tf.dispose(list);
        }
        assert.equal(net.normalization.mean.length, net.inputShape[2]);
        assert.equal(net.normalization.std.length, net.inputShape[2]);
        tf.dispose([logits, features]);
      });

      await t.step("head(features(x)) equals logits(x)", async () => {
        const f = net.features(x);
        const [viaHead, direct] = [net.head(f), net.logits(x)];
        assertClose(await values(viaHead), await values(direct), "head(features) vs logits");
        tf.dispose([f, viaHead, direct]);
      });

      await t.step("lastLayer() is the head's linear layer on features (absent for an MLP head)", async () => {
        if (opts.headHidden?.length) return assert.equal(net.lastLayer, undefined);
        const { kernel, bias } = net.lastLayer!();
        assert.deepEqual([kernel.data.length, kernel.dim, bias.length], [net.featureDim * C, C, C]);
        const f = net.features(x), logits = net.logits(x);
        const w = tf.tensor2d(kernel.data, [net.featureDim, C]), b = tf.tensor1d(bias);
        const viaLayer = tf.add(tf.matMul(f, w), b);
        assertClose(await values(viaLayer), await values(logits), "features·W + b vs logits");
        tf.dispose([f, logits, w, b, viaLayer]);
      });

      await t.step("no method leaves tensors behind", () => {
        const before = tf.memory().numTensors;
        const f = net.features(x);
        tf.dispose([net.logits(x), net.head(f), f, ...(net.featureList?.(x) ?? [])]);
        tf.dispose([net.logits(x, { training: true }), ...(net.featureList?.(x, { training: true }) ?? [])]);
        assert.equal(tf.memory().numTensors, before);
      });

      await t.step("a training-mode SGD step gives a finite loss and changes the weights", async () => {
        const y = tf.oneHot(tf.tensor1d([0, 2], "int32"), C);
        const before = await values(net.model.getLayer("head").getWeights()[0]!);
        const opt = tf.train.sgd(0.05);
        const loss = opt.minimize(
          () => tf.losses.softmaxCrossEntropy(y, net.logits(x, { training: true })) as tf.Scalar,
          true,
        )!;
        assert.ok(Number.isFinite((await values(loss))[0]!), "loss is finite");
        assert.ok(maxAbsDiff(before, await values(net.model.getLayer("head").getWeights()[0]!)) > 0);
        tf.dispose([y, loss]);
        opt.dispose();
      });

      await t.step("a save/load round-trip restores the backbone and its outputs", async () => {
        const loaded = await roundTrip(net.model);
        const back = backboneFromModel(loaded);
        assert.equal(back.name, name);
        assert.deepEqual(back.normalization, net.normalization);
        assert.deepEqual([back.featureDim, back.numClasses, back.inputShape], [
          net.featureDim,
          net.numClasses,
          net.inputShape,
        ]);
        assert.deepEqual(back.featureListDims, net.featureListDims);
        const pairs: [tf.Tensor, tf.Tensor][] = [[net.logits(x), back.logits(x)], [net.features(x), back.features(x)]];
        if (net.featureList) {
          const [a, b] = [net.featureList(x), back.featureList!(x)];
          a.forEach((t, i) => pairs.push([t, b[i]!]));
        }
        for (const [a, b] of pairs) assertClose(await values(b), await values(a), "reloaded output");
        tf.dispose(pairs.flat());
        loaded.dispose();
      });
    } finally {
      x.dispose();
      net.model.dispose();
    }
  });
}

Deno.test("createBackbone() throws for an unknown name, listing the valid ones", () => {
  assert.throws(
    () => createBackbone("resnet1000", { numClasses: 10 }),
    (e: Error) => e.message.includes("resnet1000") && Object.keys(BACKBONES).every((k) => e.message.includes(k)),
  );
});
