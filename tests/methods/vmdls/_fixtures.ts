import type { VmdlsConfig } from "@lib/methods/vmdls/config.ts";
import { VMDLS_MNIST_TRAIN } from "@lib/methods/vmdls/train.ts";

/** The reference's MNIST command: width 1, 500 epochs, Adam 1e-4, 10 × 16, full data, the shipped AE's recipe. */
export const REFERENCE: VmdlsConfig = {
  settings: [{
    idDataset: "mnist",
    backbone: "mnist_conv",
    width: 1,
    latentDim: 32,
    classNum: null,
    reconstruction: true,
  }],
  methods: ["vmdls", "noDistancing", "noKl", "ce"],
  variants: ["faithful", "clean"],
  seeds: [0, 1, 2],
  dataSeed: 0,
  oodDatasets: ["fashion_mnist", "noisy", "uniform"],
  optionalOodDatasets: ["omniglot"],
  trainLimit: null,
  heldOut: 1000,
  nTest: null,
  nOod: null,
  train: VMDLS_MNIST_TRAIN,
  scoreAblations: { noReconstruction: true, latentOnly: true },
  autoencoder: { width: 1, latentDim: 32, epochs: 20, batchSize: 256, lr: 1e-4 },
  evalBatchSize: 500,
  runDir: null,
};
