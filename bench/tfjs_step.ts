/**
 * One benchmark measurement in its own process (engines are per process, and a wasm heap that ran out of
 * memory cannot be reused): `train` times warm-up + N steps of SGD with momentum on softmax cross-entropy,
 * `infer` times N forward passes in inference mode, on random data. Prints one JSON line. Used by bench/bench.ts.
 *
 * usage: deno run -A bench/tfjs_step.ts ENGINE NET PHASE BATCH REPS [OPTIONS_JSON]
 * NET is a registry name of lib/backbones/mod.ts; OPTIONS_JSON holds backbone options such as {"width":0.25}.
 */
import { tf } from "@lib/tf.ts";
import { type EngineName, initBackend, parseBackendChoice } from "@lib/engine/mod.ts";
import { type BackboneOptions, createBackbone } from "@lib/backbones/mod.ts";
import { seedEverything } from "@lib/train/seed.ts";

const [engineArg, net, phase, batchArg, repsArg, optionsArg] = Deno.args;
const engine = parseBackendChoice(engineArg ?? "", "engine") as EngineName;
const batch = Number(batchArg), reps = Number(repsArg);
if (phase !== "train" && phase !== "infer") throw new Error(`phase must be train or infer, got ${phase}`);
const WARMUP = 2;

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// Software WebGPU (lavapipe) runs only when the bench was asked for webgpu by name: it is minutes per step.
const hardwareOnly = Deno.env.get("OOD_BENCH_SOFTWARE_WEBGPU") !== "1";
const report = await initBackend({ backend: engine, log: null, hardwareOnly });
seedEverything(0);
const options = JSON.parse(optionsArg ?? "{}") as Omit<BackboneOptions, "numClasses">;
const backbone = createBackbone(net!, { ...options, numClasses: 10 });
const params = backbone.model.trainableWeights.reduce(
  (n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1),
  0,
);
const x = tf.randomNormal([batch, ...backbone.inputShape]) as tf.Tensor4D;
const y = tf.oneHot(tf.randomUniform([batch], 0, 10, "int32") as tf.Tensor1D, 10);
const opt = tf.train.momentum(0.01, 0.9);

/** One timed unit of work: a training step, or a forward pass in inference mode. */
async function once(): Promise<void> {
  const out = phase === "train"
    ? opt.minimize(() => tf.losses.softmaxCrossEntropy(y, backbone.logits(x, { training: true })) as tf.Scalar, true)!
    : tf.tidy(() => backbone.logits(x));
  await out.data();
  out.dispose();
}

const times: number[] = [];
for (let i = 0; i < reps + WARMUP; i++) {
  const t0 = performance.now();
  await once();
  times.push(performance.now() - t0);
}

console.log(JSON.stringify({
  engine: report.engine,
  net,
  options,
  params,
  phase,
  batch,
  threads: report.threads,
  description: report.description,
  msPerBatch: median(times.slice(WARMUP)),
  numTensors: tf.memory().numTensors,
}));
