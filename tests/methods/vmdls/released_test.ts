/**
 * The released-weights run end to end: narrow fixture checkpoints made the authors' way
 * (tests/checkpoints/released/testdata/make_vmdls_fixtures.py) copied into a temporary released folder, MNIST
 * subsets, no training; and with the files absent, the download message and nothing run.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { checkVmdlsConfig, type VmdlsConfig } from "@lib/methods/vmdls/config.ts";
import { VMDLS_MNIST_TRAIN } from "@lib/methods/vmdls/train.ts";
import { runVmdls } from "@lib/methods/vmdls/run.ts";
import { runVmdlsReleased, type VmdlsReleasedExperiment } from "@lib/methods/vmdls/released.ts";
import { releasedComparisonTable } from "@lib/methods/vmdls/display.ts";

await initBackend({ backend: "cpu", log: null });

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "checkpoints", "released", "testdata");

function releasedConfig(root: string): VmdlsConfig {
  return checkVmdlsConfig({
    weights: "released",
    released: {
      networks: ["cnn_mnist"],
      trainLimit: 150,
      heldOut: 30,
      nTest: 60,
      nOod: 30,
      cifarOodDatasets: [],
      root,
      narrow: { width: 0.05, latentDim: 4 },
    },
    settings: [{
      idDataset: "mnist",
      backbone: "mnist_conv",
      width: 0.05,
      latentDim: 4,
      classNum: null,
      reconstruction: true,
    }],
    methods: ["vmdls"],
    variants: ["faithful", "clean"],
    seeds: [0],
    dataSeed: 0,
    oodDatasets: ["noisy", "uniform"],
    optionalOodDatasets: [],
    trainLimit: 10,
    heldOut: 10,
    nTest: 10,
    nOod: 10,
    train: { ...VMDLS_MNIST_TRAIN, epochs: 1 },
    scoreAblations: { noReconstruction: true, latentOnly: false },
    autoencoder: { width: 0.05, latentDim: 4, epochs: 1, batchSize: 64, lr: 1e-3 },
    evalBatchSize: 64,
    runDir: null,
  });
}

Deno.test("runVmdls() with weights: released evaluates the authors' checkpoints, trains nothing, writes rows", async () => {
  const root = await Deno.makeTempDir({ prefix: "vmdls-released-" });
  try {
    await Deno.mkdir(join(root, "vmdls"));
    await Deno.copyFile(join(FIXTURES, "vmdls_cnn_mnist.ckpt"), join(root, "vmdls", "cnn_mnist.ckpt"));
    await Deno.copyFile(join(FIXTURES, "vmdls_ae_mnist.ckpt"), join(root, "vmdls", "ae_mnist.ckpt"));
    const before = tf.memory().numTensors;
    const exp = await runVmdls(releasedConfig(root)) as VmdlsReleasedExperiment;
    assert.equal(tf.memory().numTensors, before, "no tensor kept");
    assert.equal(exp.released.status, "ok");
    assert.equal(exp.released.message, null);
    assert.deepEqual(exp.released.networks.map((n) => n.id), ["cnn_mnist"]);
    assert.ok(exp.released.networks[0]!.ignoredKeys > 0, "ae.* and sift.* were ignored");
    assert.equal(exp.runs.length, 1);
    const run = exp.runs[0]!;
    assert.equal(run.result.steps, 0, "no training step");
    assert.equal(run.result.trainSeconds, 0);
    assert.equal(run.result.gaussians?.dim, 5 + 5 + 5 + 25 + 4, "the full ensemble of the narrow network");
    const keys = new Set(exp.rows.map((r) => `${r.variant}|${r.score}|${r.oodDataset}`));
    for (const v of ["faithful", "clean"]) {
      for (const ood of ["noisy", "uniform"]) {
        assert.ok(keys.has(`${v}|vmdls|${ood}`), `${v} ${ood}`);
        assert.ok(keys.has(`${v}|vmdlsNoRecon|${ood}`), `${v} w/o reconstruction ${ood}`);
      }
    }
    for (const r of exp.rows) {
      assert.match(r.label!, /^VMDLS, authors' cnn_mnist/);
      assert.ok(Number.isFinite(r.auroc) && r.auroc! >= 0 && r.auroc! <= 1);
    }
    assert.ok(run.result.reference.length > 0, "the reference's own metrics of the faithful rows");
    const table = releasedComparisonTable(exp);
    const text = JSON.stringify(table);
    assert.match(text, /not transcribed/, "the paper's numbers are not claimed");
    assert.match(text, /authors' cnn_mnist/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("runVmdlsReleased() with the files absent: the download message, no runs, no rows", async () => {
  const root = await Deno.makeTempDir({ prefix: "vmdls-released-empty-" });
  try {
    const exp = await runVmdlsReleased(releasedConfig(root));
    assert.equal(exp.released.status, "missing");
    assert.equal(exp.runs.length, 0);
    assert.equal(exp.rows.length, 0);
    const msg = exp.released.message!;
    assert.match(msg, /cnn_mnist .* is not in .*vmdls-released-empty-.*\/vmdls\./);
    assert.match(msg, /https:\/\/drive\.google\.com\/drive\/folders\/10lGq9LNyaWhFaN0eCGQd_sMaTob87ZaL/);
    assert.match(msg, /deno task data checkpoints vmdls cnn_mnist --import <the downloaded file>/);
    assert.match(msg, /deno task data checkpoints vmdls ae_mnist --import <the downloaded file>/);
    console.log(msg);
    assert.match(JSON.stringify(releasedComparisonTable(exp)), /deno task data checkpoints vmdls cnn_mnist/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
