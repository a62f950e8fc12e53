import assert from "node:assert/strict";
import { deviationsView } from "@lib/experiment/claims.ts";
import { checkVmdlsConfig, type VmdlsConfig } from "@lib/methods/vmdls/config.ts";
import { VMDLS_REFERENCE_COMMANDS, vmdlsDeviations } from "@lib/methods/vmdls/deviations.ts";
import { VMDLS_MNIST_TRAIN } from "@lib/methods/vmdls/train.ts";
import { REFERENCE } from "./_fixtures.ts";

/** A default-profile-like reduction, with an open-set split. */
const REDUCED: VmdlsConfig = {
  ...REFERENCE,
  settings: [
    { ...REFERENCE.settings[0]!, width: 0.25 },
    { ...REFERENCE.settings[0]!, width: 0.25, classNum: 6, methods: ["vmdls", "ce"], train: { classesPerBatch: 6 } },
  ],
  seeds: [0],
  trainLimit: 6000,
  nTest: 2000,
  nOod: 1000,
  train: { ...VMDLS_MNIST_TRAIN, epochs: 4, lr: 1e-3 },
  autoencoder: { width: 0.25, latentDim: 32, epochs: 3, batchSize: 256, lr: 1e-3 },
};

const ids = (d: { id: string }[]) => d.map((x) => x.id);

Deno.test("vmdlsDeviations(): a reduced config lists its epochs, lr, width and sizes per setting", () => {
  const d = vmdlsDeviations(checkVmdlsConfig(REDUCED), "default");
  const recipe = d.filter((x) => x.id.startsWith("recipe"));
  assert.deepEqual(ids(recipe), ["recipe (mnist · mnist_conv)", "recipe (mnist:0-5 · mnist_conv)"]);
  for (const r of recipe) {
    assert.match(r.ours, /4 epochs/);
    assert.match(r.ours, /Adam lr 0\.001/);
    assert.match(r.ours, /width ×0\.25/);
    assert.doesNotMatch(r.ours, /batches/); // 6 × 16 is the command's 10 × 16 capped at 6 known classes
    assert.match(r.paper, /500 epochs, Adam lr 0\.0001/);
  }
  assert.match(recipe[1]!.paper, /capped at the 6 known classes/);
  const sizes = d.find((x) => x.id === "sizes")!;
  assert.match(sizes.ours, /6000 training, 2000 ID test, 1000 per OOD set/);
  assert.match(d.find((x) => x.id === "auto-encoder")!.ours, /3 epochs; width ×0\.25; Adam lr 0\.001/);
  assert.ok(ids(d).includes("open-set split"));
});

Deno.test("vmdlsDeviations(): the reference's MNIST command has no recipe or size deviation, the fixed ones stay", () => {
  const d = vmdlsDeviations(checkVmdlsConfig(REFERENCE), "paper");
  assert.deepEqual(ids(d).filter((i) => /^(recipe|sizes|open-set|no reconstruction|skipped)/.test(i)), []);
  assert.match(d.find((x) => x.id === "auto-encoder")!.ours, /^trained here .*: 20 epochs$/);
  for (
    const id of [
      "held-out",
      "normalisation",
      "threshold / macro-F1",
      "checkpoint",
      "statistics pass",
      "classes of all rows",
      "MNIST-noise",
      "noise",
      "CE baselines",
      "AE input range",
    ]
  ) assert.ok(ids(d).includes(id), id);
  // Variant-specific entries come in faithful/clean pairs.
  for (const id of ["normalisation", "threshold / macro-F1", "AE input range"]) {
    assert.deepEqual(d.filter((x) => x.id === id).map((x) => x.variant), ["faithful", "clean"]);
  }
  assert.match(d.find((x) => x.id === "normalisation" && x.variant === "faithful")!.paper, /OOD set/);
  assert.equal(deviationsView(d).rows.length, d.length);
});

Deno.test("vmdlsDeviations(): skipped sets, disabled reconstruction, CIFAR settings", () => {
  const noRecon = { ...REFERENCE, settings: [{ ...REFERENCE.settings[0]!, reconstruction: false }] };
  const d = vmdlsDeviations(noRecon, "smoke", ["omniglot"]);
  assert.match(d.find((x) => x.id === "skipped sets")!.ours, /omniglot: not installed/);
  assert.doesNotMatch(d.find((x) => x.id === "OOD sets (MNIST)")!.ours, /omniglot/);
  assert.ok(ids(d).includes("no reconstruction (mnist · mnist_conv)"));
  assert.equal(ids(d).includes("auto-encoder"), false);

  const cifar: VmdlsConfig = {
    ...REFERENCE,
    settings: [
      { idDataset: "cifar10", backbone: "resnet18", width: 1, latentDim: 32, classNum: null, reconstruction: false },
      {
        idDataset: "cifar100",
        backbone: "densenet_bc_100",
        width: 1,
        latentDim: 64,
        classNum: null,
        reconstruction: false,
      },
    ],
    oodDatasets: ["lsun_crop"],
    optionalOodDatasets: [],
    train: { ...VMDLS_MNIST_TRAIN, optimizer: "sgd", lr: 0.01, classesPerBatch: 10, samplesPerClass: 8 },
  };
  const c = vmdlsDeviations(cifar, "paper");
  // ResNet-18: the README's recipe but for the margin schedule (margins_epoch 10 there, 1 here).
  const r18 = c.find((x) => x.id === "recipe (cifar10 · resnet18)")!;
  assert.match(r18.ours, /from epoch 1 to M_d 32/);
  assert.doesNotMatch(r18.ours, /epochs;|lr|width|batches/);
  assert.ok(ids(c).includes("fine-tuning (cifar100 · densenet_bc_100)"));
  assert.equal(VMDLS_REFERENCE_COMMANDS["cifar100/densenet_bc_100"]!.latentDim, 64);
  for (const s of ["cifar10 · resnet18", "cifar100 · densenet_bc_100"]) {
    assert.match(c.find((x) => x.id === `no reconstruction (${s})`)!.ours, /not implemented/);
  }
  assert.ok(ids(c).includes("OOD sets (CIFAR)"));
  assert.equal(ids(c).some((i) => i === "MNIST-noise" || i === "OOD sets (MNIST)"), false);
});
