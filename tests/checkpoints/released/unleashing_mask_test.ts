/**
 * Unleashing Mask's released DenseNets load into `densenet_bc_100`: narrow copies saved the way the authors'
 * `main.py` saves (testdata/make_unleashing_mask_fixtures.py: a DataParallel `state_dict` inside the training dict,
 * zip and legacy formats, and a SubnetConv run with `scores`) are read by the safe reader, mapped by
 * `umDenseNetMap`, and give PyTorch's logits, features and feature list on the same inputs.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { createBackbone } from "@lib/backbones/mod.ts";
import { readTorchCheckpoint } from "@lib/io/torch/mod.ts";
import { TorchCheckpointError } from "@lib/io/torch/types.ts";
import { findStateDict, loadStateDict } from "@lib/checkpoints/load_state_dict.ts";
import {
  UM_RELEASE_COMMIT,
  umDenseNetMap,
  umReleasedDataset,
  UNLEASHING_MASK_RELEASED,
} from "@lib/checkpoints/released/unleashing_mask.ts";

await initBackend({ backend: "cpu", log: null });

interface Case {
  arch: { depth: number; num_classes: number; growth: number; bottleneck: boolean };
  legacyFormat: boolean;
  subnet: boolean;
  logits: number[][];
  features: number[][];
  featureList: number[][][];
}
const dir = new URL("./testdata/", import.meta.url);
const path = (f: string) => fileURLToPath(new URL(f, dir));
const index = JSON.parse(await Deno.readTextFile(new URL("um_fixtures.json", dir))) as {
  inputShape: [number, number, number, number];
  cases: Record<string, Case>;
};
const raw = await Deno.readFile(new URL("um_inputs.bin", dir));

/** The fixture inputs as NHWC, normalised with the backbone's (= the authors' in-model) mean and std. */
function inputs(normalization: { mean: readonly number[]; std: readonly number[] }): tf.Tensor4D {
  return tf.tidy(() => {
    const nchw = tf.tensor4d(new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4), index.inputShape);
    const nhwc = tf.transpose(nchw, [0, 2, 3, 1]);
    return tf.div(tf.sub(nhwc, tf.tensor1d([...normalization.mean])), tf.tensor1d([...normalization.std]));
  }) as tf.Tensor4D;
}

let maxDiff = 0, maxAbs = 0;
function assertClose(actual: tf.Tensor, expected: number[][], what: string): void {
  const a = actual.dataSync(), e = expected.flat();
  assert.equal(a.length, e.length, `${what}: length`);
  const scale = e.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-3);
  const diff = e.reduce((m, v, i) => Math.max(m, Math.abs(a[i]! - v)), 0);
  maxDiff = Math.max(maxDiff, diff / scale);
  maxAbs = Math.max(maxAbs, diff);
  assert.ok(diff <= 2e-4 * scale, `${what}: max |TF.js − PyTorch| = ${diff}, max |PyTorch| = ${scale}`);
}

/** Our DenseNet for a fixture's architecture (UM: NonAffineBatchNorm, dropout 0.3). */
function buildNet(c: Case) {
  return createBackbone("densenet_bc_100", {
    numClasses: c.arch.num_classes,
    depth: c.arch.depth,
    growthRate: c.arch.growth,
    bottleneck: c.arch.bottleneck,
    affineBatchNorm: false,
    dropRate: 0.3,
  });
}

async function checkFixture(file: string, ignoreSubnetScores = false): Promise<string[]> {
  const c = index.cases[file]!;
  const root = await readTorchCheckpoint(path(file));
  assert.ok(root instanceof Map && root.get("arch") === "DenseNet" && root.has("optimizer"), "main.py's dict");
  const net = buildNet(c);
  const before = tf.memory().numTensors;
  const ignored = loadStateDict(
    [net.model],
    findStateDict(root, file),
    umDenseNetMap({ depth: c.arch.depth, bottleneck: c.arch.bottleneck, ignoreSubnetScores }),
    file,
  );
  assert.equal(tf.memory().numTensors, before, "loading keeps no tensors");
  const x = inputs(net.normalization);
  const [logits, features, list] = [net.logits(x), net.features(x), net.featureList!(x)];
  assertClose(logits, c.logits, `${file} logits`);
  assertClose(features, c.features, `${file} features`);
  list.forEach((f, i) => assertClose(f, c.featureList[i]!, `${file} featureList[${i}]`));
  tf.dispose([x, logits, features, ...list]);
  assert.equal(tf.memory().numTensors, before, "no tensor leak");
  net.model.dispose();
  return ignored;
}

Deno.test("umDenseNetMap() loads a main.py checkpoint (zip, DataParallel keys) and matches PyTorch", async () => {
  const ignored = await checkFixture("um_densenet_c10.state");
  assert.ok(ignored.length > 0 && ignored.every((k) => k.startsWith("module.") && k.endsWith("num_batches_tracked")));
});

Deno.test("umDenseNetMap() loads the legacy (torch 1.3) format of a deeper network and matches PyTorch", async () => {
  await checkFixture("um_densenet_c100_legacy.state");
});

Deno.test("umDenseNetMap() ignores SubnetConv scores only when asked, as the authors' pretrained() does", async () => {
  const ignored = await checkFixture("um_densenet_subnet.state", true);
  assert.ok(ignored.some((k) => k === "module.conv1.scores") && ignored.some((k) => k === "module.fc.scores"));
  const file = "um_densenet_subnet.state", c = index.cases[file]!;
  const net = buildNet(c);
  const sd = findStateDict(await readTorchCheckpoint(path(file)), file);
  assert.throws(
    () => loadStateDict([net.model], sd, umDenseNetMap({ depth: 10, bottleneck: true }), file),
    (e: unknown) =>
      e instanceof TorchCheckpointError && /missing keys: none/.test(e.message) &&
      /unexpected keys: conv1\.scores, block1\.layer\.0\.conv1\.scores/.test(e.message),
  );
  net.model.dispose();
});

Deno.test("umDenseNetMap() refuses the checkpoint of another network, naming missing and unexpected keys", async () => {
  const file = "um_densenet_c100_legacy.state"; // depth 16: two layers per dense block
  const sd = findStateDict(await readTorchCheckpoint(path(file)), file);
  const net = buildNet({ ...index.cases[file]!, arch: { ...index.cases[file]!.arch, depth: 10 } });
  // An affine DenseNet (the plain BatchNorm of other papers) expects weight/bias the file does not have.
  const affine = createBackbone("densenet_bc_100", { numClasses: 7, depth: 16, growthRate: 3 });
  const before = tf.memory().numTensors;
  assert.throws(
    () => loadStateDict([net.model], sd, umDenseNetMap({ depth: 10, bottleneck: true }), file),
    (e: unknown) =>
      e instanceof TorchCheckpointError && /missing keys: none/.test(e.message) &&
      /unexpected keys: block1\.layer\.1\.bn1\.running_mean/.test(e.message),
  );
  assert.throws(
    () => loadStateDict([affine.model], sd, umDenseNetMap({ depth: 16, bottleneck: true }), file),
    (e: unknown) => e instanceof TorchCheckpointError && /missing keys: block1\.layer\.0\.bn1\.weight/.test(e.message),
  );
  assert.equal(tf.memory().numTensors, before, "nothing kept after a refusal");
  net.model.dispose();
  affine.model.dispose();
});

Deno.test("UNLEASHING_MASK_RELEASED lists the four committed runs/*.state files, fetched directly at a pinned commit", () => {
  assert.deepEqual(UNLEASHING_MASK_RELEASED.map((e) => e.id), [
    "densenet_cifar10_best",
    "densenet_cifar10_last",
    "densenet_cifar100_best",
    "densenet_cifar100_last",
  ]);
  for (const e of UNLEASHING_MASK_RELEASED) {
    assert.equal(
      e.url,
      `https://raw.githubusercontent.com/ZFancy/Unleashing-Mask/${UM_RELEASE_COMMIT}/runs/${e.filename}`,
    );
    assert.equal(e.download, "direct");
    assert.match(e.checksum?.gitBlobSha1 ?? "", /^[0-9a-f]{40}$/);
    assert.equal(umReleasedDataset(e.id).numClasses, e.id.includes("cifar100") ? 100 : 10);
  }
  assert.throws(() => umReleasedDataset("resnet18"), /densenet_cifar10_best/);
  // The released network: depth 100 → 16 bottleneck layers per block; 1 + 3·16·4 + 2·2 + 2 = 199 modules.
  assert.equal(umDenseNetMap({ depth: 100, bottleneck: true }).modules.length, 199);
});

Deno.test("released DenseNet-BC-100 has as many weighted layers as the map lists", () => {
  const net = createBackbone("densenet_bc_100", { numClasses: 10, affineBatchNorm: false, dropRate: 0.3 });
  const layers = net.model.layers.filter((l) => l.weights.length > 0).length;
  assert.equal(layers, umDenseNetMap({ depth: 100, bottleneck: true }).modules.length);
  net.model.dispose();
});

addEventListener("unload", () => {
  if (maxDiff > 0) {
    console.log(
      `unleashing_mask fixtures: max |TF.js − PyTorch| = ${maxAbs.toExponential(2)} (relative ${
        maxDiff.toExponential(2)
      })`,
    );
  }
});
