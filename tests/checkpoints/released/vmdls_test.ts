/**
 * VMDLS's released networks load from fixtures made the authors' way (testdata/make_vmdls_fixtures.py: narrow
 * copies of `GMM_VAE_Contrastive` with each encoder and of `MNIST_AE`, saved as PyTorch Lightning 1.1.2 `.ckpt`
 * files) through the safe reader and the name maps, and compute PyTorch's outputs: the feature ensemble
 * [GAP(L1), GAP(L2), GAP(L3), g, μ], log σ², the auto-encoder's reconstruction and r(x).
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { readTorchCheckpoint } from "@lib/io/torch/mod.ts";
import { findStateDict, loadStateDict } from "@lib/checkpoints/load_state_dict.ts";
import { TorchCheckpointError } from "@lib/io/torch/types.ts";
import { type VmdlsEncType, vmdlsNetMap } from "@lib/checkpoints/released/vmdls.ts";
import { disposeVmdlsNet } from "@lib/methods/vmdls/network.ts";
import {
  lightningHparam,
  loadReleasedMnistAe,
  loadReleasedVmdlsNet,
  VMDLS_ENCODERS,
} from "@lib/methods/vmdls/released.ts";

await initBackend({ backend: "cpu", log: null });

const DATA = join(dirname(fileURLToPath(import.meta.url)), "testdata");
const FIXTURES = JSON.parse(await Deno.readTextFile(join(DATA, "vmdls_outputs.json"))) as {
  cases: Record<string, {
    encType?: VmdlsEncType;
    options?: Record<string, number>;
    latentDim?: number;
    inputs: string;
    inputShape: [number, number, number, number];
    members?: number[][];
    memberDims?: number[];
    logVar?: number[];
    autoencoder?: { width: number; latentDim: number };
    reconstruction?: number[];
    r?: number[];
    encoderCheckpoint?: string;
  }>;
};
/** The torch-equivalence test's tolerance: relative to the largest magnitude of the reference. */
const REL_TOL = 2e-4;
let worst = 0;

function close(actual: ArrayLike<number>, expected: readonly number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const scale = Math.max(1e-6, ...expected.map(Math.abs));
  let max = 0;
  for (let i = 0; i < expected.length; i++) max = Math.max(max, Math.abs(actual[i]! - expected[i]!));
  worst = Math.max(worst, max / scale);
  assert.ok(max <= REL_TOL * scale, `${what}: max |TF.js − PyTorch| = ${max} (scale ${scale})`);
}

async function inputs(name: string, shape: [number, number, number, number]): Promise<tf.Tensor4D> {
  const bytes = await Deno.readFile(join(DATA, name));
  return tf.tensor4d(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4), shape);
}

/** The narrow fixture's map parameters, from the TF.js options the fixture script recorded. */
function archOf(encType: VmdlsEncType, options: Record<string, number>) {
  const w = options.width ?? 1;
  const round = (c: number) => Math.max(1, Math.round(c * w));
  return encType === "mnist-conv"
    ? { channels: round(100) }
    : encType === "vgg"
    ? { vggChannels: round(256) }
    : encType === "densenet"
    ? { depth: options.depth! }
    : encType === "wresnet"
    ? { depth: options.depth!, widenFactor: options.widenFactor! }
    : {};
}

async function loadCase(file: string) {
  const c = FIXTURES.cases[file]!;
  return {
    c,
    ...(await loadReleasedVmdlsNet(join(DATA, file), {
      encType: c.encType!,
      latentDim: c.latentDim!,
      numClasses: 10,
      width: c.options!.width ?? 1,
      backboneOptions: Object.fromEntries(Object.entries(c.options!).filter(([k]) => k !== "width")),
      arch: archOf(c.encType!, c.options!),
    })),
  };
}

for (const file of Object.keys(FIXTURES.cases).filter((f) => FIXTURES.cases[f]!.encType)) {
  const encType = FIXTURES.cases[file]!.encType!;
  Deno.test(`loadReleasedVmdlsNet(): ${file} (--enc_type ${encType}) computes PyTorch's ensemble and log σ²`, async () => {
    const before = tf.memory().numTensors;
    const { c, net, ignored } = await loadCase(file);
    const x = await inputs(c.inputs, c.inputShape);
    try {
      assert.ok(ignored.some((k) => k.startsWith("ae.")), "the pl_bolts AE's keys are ignored");
      assert.ok(ignored.includes("sift.pk.weight"), "kornia's SIFT pooling weight is ignored");
      const list = net.featureList(x);
      const { mu, logVar } = net.forward(x);
      try {
        const members = VMDLS_ENCODERS[encType].members ?? list.map((_, i) => i);
        assert.deepEqual(members.map((i) => list[i]!.shape[1]), c.memberDims, "ensemble member widths");
        for (const [j, i] of members.entries()) close(list[i]!.dataSync(), c.members![j]!, `${file} member ${j + 1}`);
        close(mu.dataSync(), c.members!.at(-1)!, `${file} μ`);
        close(logVar.dataSync(), c.logVar!, `${file} log σ²`);
      } finally {
        tf.dispose([...list, mu, logVar]);
      }
    } finally {
      x.dispose();
      disposeVmdlsNet(net);
    }
    assert.equal(tf.memory().numTensors, before, "tensors leaked");
  });
}

Deno.test("loadReleasedMnistAe(): the MNIST_AE fixture reconstructs as PyTorch, and r(x) on L1 matches", async () => {
  const before = tf.memory().numTensors;
  const c = FIXTURES.cases["vmdls_ae_mnist.ckpt"]!;
  const ae = await loadReleasedMnistAe(join(DATA, "vmdls_ae_mnist.ckpt"), c.autoencoder!);
  const { net } = await loadCase(c.encoderCheckpoint!);
  const x = await inputs(c.inputs, c.inputShape);
  try {
    const xHat = ae.reconstruct(x);
    close(xHat.dataSync(), c.reconstruction!, "x̂");
    // r(x) = mean_j (GAP(L1(x)) − GAP(L1(x̂)))², the faithful range (the AE gets the [−1, 1] batch).
    const r = tf.tidy(() => {
      const both = net.featureList(tf.concat([x, xHat], 0))[0]!;
      const [a, b] = tf.split(both, 2, 0);
      return tf.mean(tf.squaredDifference(a!, b!), 1);
    });
    close(r.dataSync(), c.r!, "r(x)");
    tf.dispose([xHat, r]);
  } finally {
    x.dispose();
    ae.model.dispose();
    disposeVmdlsNet(net);
  }
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
});

Deno.test("the fixtures are Lightning 1.1.2 checkpoints: state_dict beside hyper_parameters and callbacks", async () => {
  const root = await readTorchCheckpoint(join(DATA, "vmdls_cnn_mnist.ckpt"));
  assert.ok(root instanceof Map);
  assert.equal(root.get("pytorch-lightning_version"), "1.1.2");
  assert.equal(lightningHparam(root, "enc_type"), "mnist-conv");
  assert.ok(findStateDict(root, "cnn").has("fc_mu.weight"));
  const callbacks = root.get("callbacks");
  assert.ok(callbacks instanceof Map && callbacks.size === 1);
});

Deno.test("a checkpoint of another encoder is refused: by its hyper-parameters, or by missing and unexpected keys", async () => {
  const before = tf.memory().numTensors;
  await assert.rejects(
    loadReleasedVmdlsNet(join(DATA, "vmdls_c10_resnet.ckpt"), { encType: "vgg", latentDim: 4, numClasses: 10 }),
    (e: Error) =>
      e instanceof TorchCheckpointError && /is a --enc_type resnet18 checkpoint, expected vgg/.test(e.message),
  );
  // Without the hyper-parameters' guard: the name map lists what is missing and what is unexpected.
  const vgg = await loadCase("vmdls_c10_vgg.ckpt");
  try {
    const sd = findStateDict(await readTorchCheckpoint(join(DATA, "vmdls_c10_resnet.ckpt")), "resnet.ckpt");
    assert.throws(
      () => loadStateDict([vgg.net.model], sd, vmdlsNetMap("vgg", archOf("vgg", vgg.c.options!)), "resnet.ckpt"),
      (e: Error) =>
        e instanceof TorchCheckpointError &&
        /missing keys: encoder\.encoder\.0\.weight/.test(e.message) &&
        /unexpected keys: encoder\.conv1\.weight/.test(e.message),
    );
  } finally {
    disposeVmdlsNet(vgg.net);
  }
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
});

Deno.test("the TF.js outputs stay within the torch-equivalence tolerance", () => {
  // Runs after the comparisons above (Deno runs a file's tests in order): reports the worst relative error.
  console.log(`max |TF.js − PyTorch| / scale over the VMDLS fixtures: ${worst.toExponential(2)}`);
  assert.ok(worst <= REL_TOL);
});
